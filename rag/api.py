"""The one Python API that the CLI, the UI and the tests share."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from pydantic import SecretStr

from rag.config import Settings, load_settings
from rag.embed import Embedder, model_id, remove_stale_exports
from rag.ingest import IndexReport, Progress, SourceFile, files_state, index_sources, scan, signature
from rag.passage import Hit
from rag.question import bm25_idf
from rag.retrieve import MODES, Retriever
from rag.store import DocumentRecord, IndexMismatchError, Store, StoreError

# What a running server may change (the settings endpoint); everything else needs a restart.
ANSWER_SETTINGS = ("backend", "llm_model", "openai_base_url", "openai_api_key", "ollama_base_url", "top_k",
                   "retrieval_mode")


def document_id(record: DocumentRecord) -> str:
    """A stable id for one indexed file: the same name in two indexed folders gets two ids."""
    return document_key(record.root, record.source)


def document_key(root: str, source: str) -> str:
    """:func:`document_id` from the two parts (a passage knows its file; its chunk knows the folder)."""
    return hashlib.sha256(f"{root}\0{source}".encode()).hexdigest()[:12]


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
        self._settings_lock = threading.Lock()

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
        if current is None or current.artifacts.generation != generation or current.artifacts.lexical_behind:
            self.store.check_signature(self.signature())
            previous = current.artifacts if current is not None else None
            current = Retriever(self.store, self.embedder, self.store.load_artifacts(previous))
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

    def watch(
        self,
        paths: Sequence[Path | str] | None = None,
        on_report: Callable[[IndexReport], None] = lambda report: None,
        stop: threading.Event | None = None,
    ) -> None:
        """Index ``paths`` (default: the corpus folder), then again whenever files appear, change or disappear,
        once they have stayed unchanged for ``watch_settle_seconds``; until ``stop`` is set (or forever)."""
        targets = [Path(p) for p in (paths or [self.settings.corpus_dir])]
        max_bytes = int(self.settings.max_file_mb * 1_000_000)
        stop = stop or threading.Event()
        indexed = seen = files_state(scan(targets, max_bytes))
        on_report(self.index(targets))
        since = time.monotonic()
        while not stop.wait(self.settings.watch_poll_seconds):
            current = files_state(scan(targets, max_bytes))
            if current != seen:
                seen, since = current, time.monotonic()
            elif current != indexed and time.monotonic() - since >= self.settings.watch_settle_seconds:
                indexed = current
                on_report(self.index(targets))

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

    def _record(self, doc_id: str) -> DocumentRecord:
        matches = [record for record in self.store.documents() if document_id(record) == doc_id]
        if not matches:
            raise StoreError(f"no indexed document with id {doc_id!r}")
        return matches[0]

    def _file_kept(self, record: DocumentRecord) -> str | None:
        """Why removing ``record`` leaves its file alone, or None when the file is deleted with it."""
        path = Path(record.root) / record.source
        corpus = Path(self.settings.corpus_dir).resolve()
        if path.is_symlink():
            return "it is a symbolic link"
        if not path.resolve().is_relative_to(corpus):
            return f"its file is outside the corpus folder {corpus}"
        if not path.is_file():
            return "its file is already gone"
        return None

    def filter_documents(self, choices: Sequence[str]) -> list[str]:
        """The document ids a filter names: each choice is a document id, ``folder:<path>`` (the documents
        under that folder, relative to the folder they were indexed from) or ``tag:<tag>`` (front matter tags)."""
        records = self.store.documents()
        tags = self.store.document_tags() if any(c.startswith("tag:") for c in choices) else {}
        ids: set[str] = set()
        for choice in choices:
            if choice.startswith("folder:"):
                folder = choice.removeprefix("folder:").strip("/")
                ids |= {document_id(r) for r in records if not folder or r.source.startswith(f"{folder}/")}
            elif choice.startswith("tag:"):
                tag = choice.removeprefix("tag:")
                ids |= {document_id(r) for r in records if tag in tags.get((r.root, r.source), ())}
            else:
                ids.add(choice)
        return sorted(ids)

    def document(self, doc_id: str) -> tuple[DocumentRecord, str]:
        """An indexed document and its stored text, by id: what the source view shows (never read from disk,
        so no path outside the index can be reached). StoreError for an unknown id."""
        record = self._record(doc_id)
        return record, self.store.document_text(record.source, record.root)

    def removal_preview(self, doc_id: str) -> str:
        """What :meth:`remove` would do to this document, in one line, for a confirmation question."""
        record = self._record(doc_id)
        kept = self._file_kept(record)
        if kept is None:
            return (f"`{record.source}` will be removed from the index **and its file deleted** from the corpus "
                    f"folder ({record.chunk_count} chunks).")
        return (f"`{record.source}` will be removed from the index only ({record.chunk_count} chunks); {kept}, "
                "so no file is deleted.")

    def remove(self, doc_id: str) -> str:
        """Unindex exactly the document with this id; delete its file only if it lies inside the corpus
        folder (symlinks resolved, and never a symlink itself). Returns what was done, in one line."""
        with self.store.index_lock():
            record = self._record(doc_id)
            with self.store.writer(self.signature(), self.settings.exact_search_max_chunks) as writer:
                writer.remove(record.root, record.source)
            kept = self._file_kept(record)
            if kept is None:
                (Path(record.root) / record.source).unlink()
                return f"Removed `{record.source}` from the index and deleted its file from the corpus folder."
            return (f"Removed `{record.source}` (from {record.root}) from the index; {kept}, so only the index entry "
                    "was removed.")

    # ---- settings ------------------------------------------------------------------------

    def update_settings(self, **changes) -> list[str]:
        """Change answer settings of this running instance atomically (concurrent callers never lose an
        update, readers see either the old or the new object). A new OpenAI base URL given without a key
        clears the key: a key is never sent to a URL other than the one it was configured for.
        Returns notes for the user."""
        from rag.backends import BACKEND_NAMES

        unknown = set(changes) - set(ANSWER_SETTINGS)
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))} on a running server")
        if "backend" in changes and changes["backend"] not in BACKEND_NAMES:
            raise ValueError(f"unknown backend {changes['backend']!r} (use {', '.join(BACKEND_NAMES)})")
        if "retrieval_mode" in changes and changes["retrieval_mode"] not in MODES:
            raise ValueError(f"unknown retrieval mode {changes['retrieval_mode']!r} (use {', '.join(MODES)})")
        if "top_k" in changes and int(changes["top_k"]) < 1:
            raise ValueError("top-k must be at least 1")
        key = changes.get("openai_api_key")
        if isinstance(key, str):
            changes["openai_api_key"] = SecretStr(key)
        notes = []
        with self._settings_lock:
            current = self.settings
            url = changes.get("openai_base_url", current.openai_base_url)
            if url != current.openai_base_url and not changes.get("openai_api_key", SecretStr("")).get_secret_value():
                changes["openai_api_key"] = SecretStr("")
                if current.openai_api_key.get_secret_value():
                    notes.append("The OpenAI base URL changed, so the API key set for the old URL was cleared; "
                                 "enter the key for the new URL.")
            self.settings = current.model_copy(update=changes)
        return notes

    # ---- reading -------------------------------------------------------------------------

    def search(self, query: str, k: int | None = None, mode: str | None = None,
               documents: Sequence[str] | None = None) -> list[Hit]:
        """Top passages for ``query``; ``documents`` (see :meth:`filter_documents`) restricts the search."""
        retriever = self.retriever
        within = None
        if documents is not None:
            chosen = set(self.filter_documents(documents))
            pairs = [(r.root, r.source) for r in self.store.documents() if document_id(r) in chosen]
            within = self.store.chunk_ids_of(pairs)
        return retriever.search(query, k or self.settings.top_k, mode or self.settings.retrieval_mode, within)

    def ask(
        self,
        question: str,
        history: Sequence = (),
        backend: str | None = None,
        k: int | None = None,
        mode: str | None = None,
        announce_retrieval: bool = False,
        documents: Sequence[str] | None = None,
    ) -> Iterator:
        """Stream an answer: text deltas, then the final answer with its checked citations (with
        ``announce_retrieval``, first the retrieved passages: see rag/answer.py). ``documents`` (document ids,
        ``folder:``/``tag:`` names: see :meth:`filter_documents`) restricts retrieval to those documents."""
        from rag.answer import answer_stream
        from rag.backends import get_backend

        chosen = get_backend(backend or self.settings.backend, self.settings)
        return answer_stream(
            question,
            history,
            retrieve=lambda query, depth: self.search(query, depth, mode, documents),
            embedder=self.embedder,
            backend=chosen,
            k=k or self.settings.top_k,
            idf=self.idf(),
            document_text=self.document_text,
            unit_vectors=self.store.unit_vectors,
            announce_retrieval=announce_retrieval,
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
            "warning": self._settings_mismatch(),
        }

    def index_ready(self) -> bool:
        """Whether questions can be answered now: a committed index that the current settings can read."""
        return self.store.generation > 0 and self._settings_mismatch() is None

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
