"""The real UI, served once per test session on a free 127.0.0.1 port (shared by test_ui*.py)."""

from __future__ import annotations

import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import CORPUS, make_settings


@dataclass
class UIServer:
    url: str
    assistant: object
    corpus: Path  # the copy of corpus/ the app indexes and uploads into
    demo: object


_server: UIServer | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(tmp_path_factory, embedder, request) -> UIServer:
    """Index a temp copy of corpus/ and serve the app in this process (the embedder loads once)."""
    global _server
    if _server is None:
        from rag.api import Assistant
        from rag.ui import build_app, launch

        tmp = tmp_path_factory.mktemp("ui") / "work"
        tmp.mkdir()
        shutil.copytree(CORPUS, tmp / "corpus")
        settings = make_settings(tmp, host="127.0.0.1", port=free_port())
        assistant = Assistant(settings, embedder=embedder)
        assert len(assistant.index().added) == 3
        demo = build_app(assistant)
        launch(demo, settings, assistant=assistant, prevent_thread_lock=True, quiet=True)
        _server = UIServer(f"http://127.0.0.1:{settings.port}/", assistant, tmp / "corpus", demo)
        request.addfinalizer(demo.close)
    return _server


@pytest.fixture(scope="session")
def ui(tmp_path_factory, embedder, request) -> UIServer:
    return start(tmp_path_factory, embedder, request)
