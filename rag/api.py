"""The one Python API that the CLI, the UI and the tests share."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from rag.config import Settings, load_settings
from rag.embed import Embedder, model_id, remove_stale_exports
from rag.ingest import IndexReport, Progress, SourceFile, index_sources, scan, signature
from rag.passage import Hit
from rag.retrieve import Retriever
from rag.store import DocumentRecord, IndexMismatchError, Store, StoreError


class Assistant:
    """An index folder plus the models that read it. Thread-safe: questions keep being answered
    from the last committed index while a re-index runs."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None):
        self.settings = settings or load_settings()
        self.store = Store(self.settings.index_dir)
        remove_stale_exports(self._models_dir)
        self._embedder = embedder  # shared by callers that hold several indexes open
        self._retriever: Retriever | None = None
        self._model_lock = threading.Lock()

    @property
    def _models_dir(self) -> Path:
        return Path(self.settings.index_dir) / "models"

    @property
    def embedder(self) -> Embedder:
        with self._model_lock:
            if self._embedder is None:
                self._embedder = Embedder(
                    self.settings.embed_model,
                    runtime=self.settings.embed_runtime,
                    batch_size=self.settings.embed_batch_size,
                    cache_dir=self._models_dir,
                )
            return self._embedder

    def signature(self) -> dict[str, str]:
        embedder, settings = self.embedder, self.settings
        return signature(embedder.model_id, embedder.dim, settings.chunk_tokens, settings.chunk_overlap_tokens)

    @property
    def retriever(self) -> Retriever:
        """The newest committed generation, reloaded when any process has committed a newer one."""
        current = self._retriever
        generation = self.store.generation
        if generation == 0:
            raise StoreError(f"the index in {self.settings.index_dir} is empty; index documents first (`rag index`)")
        if current is None or current.artifacts.generation != generation:
            self.store.check_signature(self.signature())
            current = Retriever(self.store, self.embedder, self.store.load_artifacts())
            self._retriever = current
        return current

    # ---- indexing ------------------------------------------------------------------------

    def index(
        self,
        paths: Sequence[Path | str] | None = None,
        rebuild: bool = False,
        progress: Progress | None = None,
        wait: bool = True,
        on_wait: Callable[[str], None] | None = None,
    ) -> IndexReport:
        """Sync the index with ``paths`` (default: the corpus folder). Another run in progress (any process):
        wait for it, saying so through ``on_wait`` (or ``progress``), or with ``wait`` false raise IndexBusyError."""
        targets = [Path(p) for p in (paths or [self.settings.corpus_dir])]
        found = scan(targets, int(self.settings.max_file_mb * 1_000_000))
        return self.index_sources(
            found.roots, found.synced, rebuild=rebuild, skipped=found.skipped, unseen=found.unseen,
            progress=progress, wait=wait, on_wait=on_wait,
        )

    def index_sources(
        self,
        roots: dict[str, list[SourceFile]],
        sync_roots: set[str],
        rebuild: bool = False,
        skipped: Sequence[tuple[str, str]] = (),
        unseen: Mapping[str, Sequence[str]] | None = None,
        progress: Progress | None = None,
        wait: bool = True,
        on_wait: Callable[[str], None] | None = None,
    ) -> IndexReport:
        return index_sources(
            self.store,
            self.embedder,
            roots,
            chunk_tokens=self.settings.chunk_tokens,
            chunk_overlap_tokens=self.settings.chunk_overlap_tokens,
            exact_search_max_chunks=self.settings.exact_search_max_chunks,
            sync_roots=sync_roots,
            rebuild=rebuild,
            skipped=skipped,
            unseen=unseen,
            checkpoint_seconds=self.settings.checkpoint_seconds,
            checkpoint_documents=self.settings.checkpoint_documents,
            wait=wait,
            on_wait=on_wait,
            progress=progress,
        )

    def index_lock(self, wait: bool = True) -> AbstractContextManager[None]:
        """Hold the index as an index run does (every writer, in any process, waits for it)."""
        return self.store.index_lock(wait)

    def remove(self, source: str, delete_file: bool = False) -> None:
        """Drop a document from the index (and, if asked, its file from the folder it was indexed from)."""
        with self.store.index_lock():
            matches = [record for record in self.store.documents() if record.source == source]
            if not matches:
                raise StoreError(f"no indexed document {source!r}")
            with self.store.writer(self.signature(), self.settings.exact_search_max_chunks) as writer:
                for record in matches:
                    writer.remove(record.root, record.source)
            if delete_file:
                for record in matches:
                    path = (Path(record.root) / record.source).resolve()
                    if path.is_relative_to(Path(record.root)) and path.is_file():
                        path.unlink()

    # ---- reading -------------------------------------------------------------------------

    def search(self, query: str, k: int | None = None, mode: str | None = None) -> list[Hit]:
        return self.retriever.search(query, k or self.settings.top_k, mode or self.settings.retrieval_mode)

    def ask(
        self,
        question: str,
        history: Sequence = (),
        backend: str | None = None,
        k: int | None = None,
        mode: str | None = None,
    ) -> Iterator:
        """Stream an answer: text deltas, then the final answer with its checked citations."""
        from rag.answer import answer_stream
        from rag.backends import get_backend

        chosen = get_backend(backend or self.settings.backend, self.settings)
        return answer_stream(
            question,
            history,
            retrieve=lambda query, depth: self.search(query, depth, mode),
            embedder=self.embedder,
            backend=chosen,
            k=k or self.settings.top_k,
        )

    def documents(self) -> list[DocumentRecord]:
        return self.store.documents()

    def document_text(self, source: str) -> str:
        return self.store.document_text(source)

    def status(self) -> dict:
        meta = self.store.meta()
        documents, chunks = self.store.counts()
        indexed_at = float(meta["indexed_at"]) if "indexed_at" in meta else None
        return {
            "index_dir": str(self.settings.index_dir),
            "documents": documents,
            "chunks": chunks,
            "embed_model": meta.get("embed_model"),
            "dense_index": meta.get("dense_index"),
            "generation": int(meta.get("generation", 0)),
            "index_bytes": self.store.size_on_disk(),
            "last_indexed": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(indexed_at)) if indexed_at else None,
            "warning": self._settings_mismatch(),
        }

    def _settings_mismatch(self) -> str | None:
        """Why search would refuse this index with the current settings (checked without loading the model)."""
        expected = signature(
            model_id(self.settings.embed_model), None, self.settings.chunk_tokens, self.settings.chunk_overlap_tokens
        )
        try:
            self.store.check_signature(expected)
        except IndexMismatchError as exc:
            return str(exc)
        return None
