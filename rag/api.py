"""The one Python API that the CLI, the UI and the tests share."""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path

from pydantic import SecretStr

from rag.collections import (Collection, create_collection, find_collection, list_collections, milvus_prefix,
                             removable)
from rag.config import DEFAULT_COLLECTION, Settings, load_settings
from rag.embed import Embedder, model_id, remove_stale_exports
from rag.ingest import IndexReport, Progress, SourceFile, files_state, index_sources, scan, signature
from rag.grounding import heading_names
from rag.passage import Hit
from rag.question import analyse, bm25_idf, named_documents, without_terms
from rag.retrieve import (MODES, UNIT_SEARCH_DEPTH, Retriever, with_named_documents, with_section_leads,
                           with_section_rests, with_unit_hits)
from rag.store import DocumentRecord, IndexMismatchError, StoreError
from rag.stores import open_store

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
    from the last committed index while a re-index runs.

    This is the default collection's; :meth:`collection` gives the Assistant of another collection."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None,
                 parent: Assistant | None = None, folder: Path | None = None):
        self.settings = settings or load_settings()
        self._folder = folder  # a collection the app made: its folder, whose removal ends it (see removed)
        self.store = open_store(self.settings)
        remove_stale_exports(self._models_dir)
        self._embedder = embedder  # shared by callers that hold several indexes open
        self._parent = parent  # a collection's Assistant: the default one, whose model it shares
        self._collections: dict[str, Assistant] = {}
        self._retriever: Retriever | None = None
        self._titles: tuple[int, dict[str, tuple[str, str]]] = (-1, {})  # generation, doc id -> (source, title)
        self._model_lock = threading.Lock()
        self._settings_lock = threading.Lock()

    @property
    def removed(self) -> bool:
        """Was this collection removed after it was opened (by this process or another)? Its folder is gone, and
        a file written into it would bring the collection back."""
        return self._folder is not None and not self._folder.is_dir()

    @property
    def _models_dir(self) -> Path:
        return Path(self.settings.index_dir) / "models"

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None and self._parent is not None:
            self._embedder = self._parent.embedder  # loaded once for every collection
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
        prepare = None
        if self.settings.ray_address:
            from rag.ingest_ray import ray_prepare

            prepare = ray_prepare(self.settings, lambda: self.embedder)
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
            prepare=prepare,
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

    def _holder(self, doc_id: str) -> Assistant:
        """The collection that indexed this document (ids are per folder, so they differ across collections)."""
        for found in list_collections(self._root.settings):
            held = self.collection(found.name)
            if any(document_id(record) == doc_id for record in held.store.documents()):
                return held
        raise StoreError(f"no indexed document with id {doc_id!r}")

    def find_document(self, doc_id: str) -> tuple[DocumentRecord, str]:
        """:meth:`document` from whichever collection indexed it. StoreError when none did."""
        return self._holder(doc_id).document(doc_id)

    def pdf_page(self, doc_id: str, page: int) -> bytes:
        """A page of an indexed PDF as PNG, rendered from its file, which must lie inside its collection's corpus
        folder (symlinks resolved): the id picks the file, never a path from the caller. StoreError otherwise."""
        from rag.loaders import SkipFile
        from rag.loaders.pdf import render_page

        held = self._holder(doc_id)
        record = held._record(doc_id)
        path = Path(record.root) / record.source
        corpus = Path(held.settings.corpus_dir).resolve()
        if path.suffix.lower() != ".pdf" or not path.resolve().is_relative_to(corpus) or not path.is_file():
            raise StoreError(f"no PDF file of {record.source} in the corpus folder")
        try:
            return render_page(str(path.resolve()), page)
        except SkipFile as exc:
            raise StoreError(f"{record.source}: {exc}") from None

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

    # ---- collections ---------------------------------------------------------------------

    @property
    def _root(self) -> Assistant:
        """The default collection's Assistant, which knows every collection (asked through any of them)."""
        return self._parent or self

    def collection(self, name: str | None) -> Assistant:
        """The Assistant of collection ``name`` (None or "default": the default one), made on first use and
        kept; it shares this one's embedding model and answer settings. UserError for an unknown name."""
        if self._parent is not None:
            return self._parent.collection(name)
        found = find_collection(self.settings, name)
        if found.name == DEFAULT_COLLECTION:
            return self
        with self._settings_lock:
            child = self._collections.get(found.name)
            if child is None:
                where = {"corpus_dir": found.corpus_dir, "index_dir": found.index_dir,
                         "milvus_collection_prefix": milvus_prefix(self.settings.milvus_collection_prefix, found.name)}
                child = Assistant(self.settings.model_copy(update=where), embedder=self._embedder, parent=self,
                                  folder=found.corpus_dir.parent if found.made_here else None)
                self._collections[found.name] = child
            return child

    def collections(self) -> list[tuple[Collection, int]]:
        """Every collection (the default one first) with how many documents it holds."""
        root = self._root
        return [(found, root.collection(found.name).store.counts()[0]) for found in list_collections(root.settings)]

    def create_collection(self, name: str) -> Collection:
        """Make an empty collection in collections_dir/NAME/{corpus,index}; UserError if the name is taken."""
        return create_collection(self._root.settings, name)

    def collection_removal_preview(self, name: str) -> str:
        """What :meth:`remove_collection` would delete, in one line, for a confirmation question."""
        found = find_collection(self._root.settings, name)
        removable(found)
        documents = self.collection(found.name).store.counts()[0]
        return (f"The collection `{found.name}` will be removed **and its folder `{found.corpus_dir.parent}` "
                f"deleted**: its {documents} document file{'' if documents == 1 else 's'} and its index.")

    def remove_collection(self, name: str) -> str:
        """Delete a collection the app made, with its folder (documents and index), once no index run holds it.
        Collections from rag.toml and the default one are refused (their folders are the user's)."""
        root = self._root
        found = find_collection(root.settings, name)
        removable(found)
        child = root.collection(found.name)
        with child.store.index_lock():
            with root._settings_lock:
                root._collections.pop(found.name, None)
            documents = child.store.counts()[0]
            child.store.drop()
            shutil.rmtree(found.corpus_dir.parent)
        return (f"Removed the collection `{found.name}`: its folder `{found.corpus_dir.parent}` with "
                f"{documents} document file{'' if documents == 1 else 's'} and its index was deleted.")

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
            for child in self._collections.values():  # answer settings apply to the whole server
                child.settings = child.settings.model_copy(update=changes)
        return notes

    # ---- reading -------------------------------------------------------------------------

    def search(self, query: str, k: int | None = None, mode: str | None = None,
               documents: Sequence[str] | None = None) -> list[Hit]:
        """Top passages for ``query``; ``documents`` (see :meth:`filter_documents`) restricts the search."""
        retriever = self.retriever
        return retriever.search(query, k or self.settings.top_k, mode or self.settings.retrieval_mode,
                                self._within(documents))

    def _within(self, documents: Sequence[str] | None) -> list[int] | None:
        """The chunk ids of the documents a filter chooses (see :meth:`filter_documents`); None: every chunk."""
        if documents is None:
            return None
        chosen = set(self.filter_documents(documents))
        return self.store.chunk_ids_of([(r.root, r.source) for r in self.store.documents() if document_id(r) in chosen])

    def search_for_answer(self, query: str, k: int, mode: str | None = None,
                          documents: Sequence[str] | None = None) -> list[Hit]:
        """:meth:`search`, plus the chunk holding the answer unit nearest the query when the chunk search missed
        it (rag.retrieve.with_unit_hits: a paraphrased sentence), the passage opening the section titled by what a
        "What is X?" question asks about when a hit sits further into it (rag.retrieve.with_section_leads), the
        chunk going on with a hit's section (rag.retrieve.with_section_rests: its code block, its answer), holding
        the best passages of each document the query names ("the overview and the core post":
        rag.question.named_documents), so an answer can draw on every one of them."""
        mode = mode or self.settings.retrieval_mode
        within = self._within(documents)
        hits = self.retriever.search(query, k, mode, within)
        if mode != "bm25":
            units = self.retriever.unit_chunks(query, UNIT_SEARCH_DEPTH, within)
            hits = with_unit_hits(hits, self.store.chunks, units, k)
        asked = analyse(query, self.idf())
        if asked.asks_what_it_is:
            hits = with_section_leads(hits, k, partial(heading_names, asked), self.store.chunks)
        hits = with_section_rests(hits, self.store.chunks, k)
        named = named_documents(query, self.titles(documents))
        if not named:
            return hits
        naming = set().union(*named.values())  # "overview", "core": what names a document, not what is asked of it
        ids = {source: doc_id for doc_id, (source, _) in self._document_titles().items()}
        return with_named_documents(
            hits, [self.search(without_terms(query, naming), k, mode, [ids[source]]) for source in named], k)

    def titles(self, documents: Sequence[str] | None = None) -> dict[str, str]:
        """Source -> title of the indexed documents (those ``documents`` chooses: see :meth:`filter_documents`)."""
        allowed = set(self.filter_documents(documents)) if documents is not None else None
        return {source: title for doc_id, (source, title) in self._document_titles().items()
                if allowed is None or doc_id in allowed}

    def _document_titles(self) -> dict[str, tuple[str, str]]:
        """Document id -> (source, title), read once per index generation rather than once per question."""
        generation, titles = self._titles
        current = self.store.generation
        if generation != current:
            titles = {document_id(r): (r.source, r.title) for r in self.store.documents()}
            self._titles = current, titles
        return titles

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
            retrieve=lambda query, depth: self.search_for_answer(query, depth, mode, documents),
            embedder=self.embedder,
            backend=chosen,
            k=k or self.settings.top_k,
            idf=self.idf(),
            titles=lambda: self.titles(documents),
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
            "store": self.settings.store if self.settings.store == "local" else self.store.where,
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
