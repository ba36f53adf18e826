"""One settings object: defaults < TOML file < RAG_* environment < explicit overrides (CLI flags)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rag.config import load_settings


def test_precedence_file_then_environment_then_flags(tmp_path, monkeypatch):
    config = tmp_path / "custom.toml"
    config.write_text('top_k = 9\nbackend = "ollama"\nretrieval_mode = "bm25"\nport = 8000\n')
    monkeypatch.setenv("RAG_CONFIG", str(config))
    monkeypatch.setenv("RAG_BACKEND", "openai")
    monkeypatch.setenv("RAG_PORT", "8100")

    settings = load_settings(port=8200, top_k=None)
    assert settings.top_k == 9  # from the file (None means "flag not given")
    assert settings.retrieval_mode == "bm25"
    assert settings.backend == "openai"  # environment beats the file
    assert settings.port == 8200  # explicit override beats both


def test_defaults_and_secret_stays_hidden(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no rag.toml here
    monkeypatch.setenv("RAG_OPENAI_API_KEY", "sk-secret-value")
    settings = load_settings()
    assert settings.backend == "extractive" and settings.retrieval_mode == "hybrid"
    assert str(settings.index_dir) == "index" and str(settings.corpus_dir) == "corpus"
    assert "sk-secret-value" not in repr(settings) and "sk-secret-value" not in str(settings.model_dump())
    assert settings.openai_api_key.get_secret_value() == "sk-secret-value"


def test_invalid_value_is_rejected(monkeypatch):
    monkeypatch.setenv("RAG_RETRIEVAL_MODE", "telepathy")
    with pytest.raises(ValidationError, match="retrieval_mode"):
        load_settings()


def test_example_file_documents_the_defaults(tmp_path, monkeypatch):
    import tomllib

    from conftest import REPO
    from rag.config import Settings

    example = REPO / "rag.toml.example"
    documented = tomllib.loads(example.read_text())
    assert set(documented) <= set(Settings.model_fields)
    monkeypatch.chdir(tmp_path)
    defaults = load_settings().model_dump()
    assert {key: defaults[key] for key in documented} == load_settings(**documented).model_dump(include=set(documented))


def test_embed_runtime_defaults_match_and_the_old_name_still_works(tmp_path, monkeypatch):
    import inspect

    from rag.cli import build_parser
    from rag.embed import Embedder

    monkeypatch.chdir(tmp_path)
    default = load_settings().embed_runtime
    assert default == "onnx" == inspect.signature(Embedder).parameters["runtime"].default
    # embed_backend / RAG_EMBED_BACKEND / --embed-backend: deprecated spellings of embed_runtime.
    (tmp_path / "rag.toml").write_text('embed_backend = "torch"\n')
    assert load_settings().embed_runtime == "torch"
    monkeypatch.setenv("RAG_EMBED_RUNTIME", "onnx")
    assert load_settings().embed_runtime == "onnx"  # the new name wins wherever both are set
    monkeypatch.delenv("RAG_EMBED_RUNTIME")
    monkeypatch.setenv("RAG_EMBED_BACKEND", "torch")
    (tmp_path / "rag.toml").unlink()
    assert load_settings().embed_runtime == "torch"
    assert load_settings(embed_runtime="onnx").embed_runtime == "onnx"
    assert "embed_backend" not in load_settings().model_dump()
    for flag in ("--embed-runtime", "--embed-backend"):
        assert build_parser().parse_args(["status", flag, "torch"]).embed_runtime == "torch"


def test_gradio_server_variables_rank_below_rag_ones_and_above_the_file(tmp_path, monkeypatch):
    """Containers and hosted Spaces set GRADIO_SERVER_NAME/PORT: honoured unless RAG_HOST/RAG_PORT or a flag say
    otherwise, and they win over rag.toml."""
    config = tmp_path / "rag.toml"
    config.write_text('host = "127.0.0.2"\nport = 8000\n')
    monkeypatch.setenv("RAG_CONFIG", str(config))
    monkeypatch.delenv("RAG_HOST", raising=False)
    monkeypatch.delenv("RAG_PORT", raising=False)
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7861")
    settings = load_settings()
    assert (settings.host, settings.port) == ("0.0.0.0", 7861)

    monkeypatch.setenv("RAG_PORT", "7862")
    assert load_settings().port == 7862 and load_settings().host == "0.0.0.0"
    assert load_settings(host="127.0.0.1").host == "127.0.0.1"

    monkeypatch.delenv("RAG_PORT")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "not-a-port")
    with pytest.raises(ValidationError, match="port"):
        load_settings()
