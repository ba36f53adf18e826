"""Session-wide fixtures: the real embedding model and a real index of the corpus are built once per run."""

from __future__ import annotations

import rag  # noqa: F401  (sets the offline/telemetry environment before any ML or UI library imports)

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"


@pytest.fixture(scope="session")
def embedder():
    from rag.embed import Embedder

    return Embedder(runtime="torch")


def make_settings(tmp: Path, **overrides):
    from rag.config import load_settings

    return load_settings(corpus_dir=tmp / "corpus", index_dir=tmp / "index", collections_dir=tmp / "collections",
                         embed_runtime="torch", **overrides)


@pytest.fixture(scope="session")
def corpus_assistant(tmp_path_factory, embedder):
    """A read-only Assistant over a real index of a copy of corpus/ (tests must not change it)."""
    from rag.api import Assistant

    tmp = tmp_path_factory.mktemp("corpus-index")
    shutil.copytree(CORPUS, tmp / "corpus")
    assistant = Assistant(make_settings(tmp), embedder=embedder)
    report = assistant.index()
    assert len(report.added) == 3 and not report.skipped
    return assistant


@pytest.fixture
def fresh_assistant(tmp_path, embedder):
    """An Assistant over an empty corpus folder and index of its own, for tests that change things."""
    from rag.api import Assistant

    (tmp_path / "corpus").mkdir()
    return Assistant(make_settings(tmp_path), embedder=embedder)


@pytest.fixture(scope="session")
def milvus_corpus_assistant(tmp_path_factory, embedder, corpus_assistant):
    """The corpus index copied into Milvus (a milvus-lite file) by `rag migrate`, nothing embedded twice: read-only.
    (Indexing straight into Milvus is tested in tests/test_milvus_store.py.)"""
    from rag.api import Assistant
    from rag.migrate import migrate_index

    tmp = tmp_path_factory.mktemp("corpus-milvus")
    settings = corpus_assistant.settings.model_copy(update={"store": "milvus", "milvus_uri": str(tmp / "milvus.db")})
    assert len(migrate_index(settings, "milvus").copied) == 3
    assistant = Assistant(settings, embedder=embedder)
    yield assistant
    assistant.store.close()


@pytest.fixture(scope="session", params=["local", "milvus"])
def indexed_assistant(request):
    """The read-only corpus index on each store kind: answer and retrieval tests run against both."""
    return request.getfixturevalue("corpus_assistant" if request.param == "local" else "milvus_corpus_assistant")
