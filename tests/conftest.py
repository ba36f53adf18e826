"""Session-wide fixtures: the real embedding model and a real index are built once per run."""

from __future__ import annotations

import rag  # noqa: F401  (sets the offline/telemetry environment before any ML or UI library imports)

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"


@pytest.fixture(scope="session")
def embedder():
    from rag.embed import Embedder

    return Embedder(backend="torch")
