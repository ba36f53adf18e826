"""The one Python API that the CLI, the UI and the tests share."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from rag.config import Settings, load_settings
from rag.embed import Embedder
from rag.ingest import IndexReport, Progress, SourceFile, index_sources, scan, signature
from rag.passage import Hit
from rag.question import bm25_idf
from rag.retrieve import Retriever
from rag.store import DocumentRecord, Store, StoreError


class Assistant:
    """An index folder plus the models that read it. Thread-safe: questions keep being answered
    from the last committed index while a re-index runs."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None):
        self.settings = settings or load_settings()
        self.store = Store(self.settings.index_dir)
        self._embedder = embedder  # shared by callers that hold several indexes open
        self._retriever: Retriever | None = None
        self._model_lock = threading.Lock()
        self._index_lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        with self._model_lock:
            if self._embedder is None:
                self._embedder = Embedder(
                    self.settings.embed_model,
                    runtime=self.settings.embed_runtime,
                    batch_size=self.settings.embed_batch_size,
                    cache_dir=Path(self.settings.index_dir) / "models",
                )
            return self._embedder

    def signature(self) -> dict[str, str]:
        return signature(self.embedder, self.settings.chunk_tokens, self.settings.chunk_overlap_tokens)

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
        self, paths: Sequence[Path | str] | None = None, rebuild: bool = False, progress: Progress | None = None
    ) -> IndexReport:
        """Sync the index with ``paths`` (default: the corpus folder)."""
        targets = [Path(p) for p in (paths or [self.settings.corpus_dir])]
        roots, skipped = scan(targets, int(self.settings.max_file_mb * 1_000_000))
        sync_roots = {str(Path(p).expanduser().resolve()) for p in targets if Path(p).is_dir()}
        return self.index_sources(roots, sync_roots, rebuild=rebuild, skipped=skipped, progress=progress)

    def index_sources(
        self,
        roots: dict[str, list[SourceFile]],
        sync_roots: set[str],
        rebuild: bool = False,
        skipped: Sequence[tuple[str, str]] = (),
        progress: Progress | None = None,
    ) -> IndexReport:
        with self._index_lock:
            report = index_sources(
                self.store,
                self.embedder,
                roots,
                chunk_tokens=self.settings.chunk_tokens,
                chunk_overlap_tokens=self.settings.chunk_overlap_tokens,
                exact_search_max_chunks=self.settings.exact_search_max_chunks,
                sync_roots=sync_roots,
                rebuild=rebuild,
                skipped=skipped,
                progress=progress,
            )
            return report

    def remove(self, source: str, delete_file: bool = False) -> None:
        """Drop a document from the index (and, if asked, its file from the folder it was indexed from)."""
        with self._index_lock:
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
            idf=self.idf(),
            document_text=self.document_text,
        )

    def idf(self) -> Callable[[list[str]], list[float]]:
        """Rarity of (stemmed) terms in this index: BM25's IDF over its own chunk counts."""
        retriever = self.retriever
        return bm25_idf(retriever.document_frequency, len(retriever.artifacts))

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
        }
