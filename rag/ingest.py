"""Incremental indexing: only new or changed content is loaded, chunked and embedded."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import asdict, dataclass, field, fields
from functools import partial
from pathlib import Path

import numpy as np

from rag.chunk import CHUNKER_VERSION, chunk_document, embedding_text, reference_chunks
from rag.embed import Embedder
from rag.loaders import SUPPORTED_SUFFIXES, Document, SkipFile, load_document
from rag.passage import Passage, Span
from rag.store import DocumentContent, DocumentRecord, Store, StoreWriter, content_key, pack_unit_vectors
from rag.units import embedded_texts, text_key

# Chunks embedded per step: big enough to keep the model busy (and batches of similar length),
# small enough for a smooth progress bar and little memory.
EMBED_STEP = 512
# Files read, loaded and chunked ahead of the embedding, in a worker thread.
READ_AHEAD = 512
# A long run commits its work this often (at most): a kill loses no more than this, and the search
# structures' upkeep at each commit stays a small share of the run (see _Checkpoints). Setting: checkpoint_seconds.
CHECKPOINT_SECONDS = 60.0

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class SourceFile:
    """One document to index, read lazily: unchanged files are never read twice."""

    root: str
    source: str
    size: int
    mtime_ns: int
    read: Callable[[], bytes]


@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # Paths (files, "folder/" prefixes, "." for a whole folder) that could not be looked at this run ...
    unreadable: list[str] = field(default_factory=list)
    # ... and the indexed documents under them, left as they were instead of being taken for deleted.
    kept: list[str] = field(default_factory=list)
    moved_roots: list[tuple[str, str]] = field(default_factory=list)  # (old folder, new folder)
    missing_roots: list[str] = field(default_factory=list)  # indexed folders that no longer exist; kept
    chunks_embedded: int = 0  # chunks run through the model in this run
    chunks_copied: int = 0  # chunks whose vectors were copied from identical content already indexed
    units_embedded: int = 0  # answer-unit texts run through the model (new chunks', and older chunks' without them)
    chunks_total: int = 0
    documents_total: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        data = asdict(self)
        data["skipped"] = [{"source": source, "reason": reason} for source, reason in self.skipped]
        data["moved_roots"] = [{"from": old, "to": new} for old, new in self.moved_roots]
        return data

    def summary(self) -> str:
        lines = [
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"unchanged {len(self.unchanged)}, skipped {len(self.skipped)}",
            f"{self.documents_total} documents, {self.chunks_total} chunks in the index "
            f"({self.chunks_embedded} embedded and {self.chunks_copied} copied from identical files "
            f"in {self.seconds:.1f} s)",
        ]
        lines += [f"skipped {source}: {reason}" for source, reason in self.skipped]
        if self.kept:
            lines.append(f"kept {len(self.kept)} indexed document(s) that could not be read this time: "
                         + ", ".join(self.kept[:10]) + (" …" if len(self.kept) > 10 else ""))
        lines += [f"folder {old} moved to {new}: its documents are now indexed from there"
                  for old, new in self.moved_roots]
        lines += [f"indexed folder {root} no longer exists; its documents stay searchable (index its new "
                  "place to replace them)" for root in self.missing_roots]
        return "\n".join(lines)


def signature(model_id: str, dim: int | None, chunk_tokens: int, chunk_overlap_tokens: int) -> dict[str, str]:
    """What must not change between runs for stored vectors and chunks to stay valid (``dim`` None: all but
    the vector width, which only the loaded model knows)."""
    values = {
        "embed_model": model_id,
        "embed_dim": None if dim is None else str(dim),
        "chunk_tokens": str(chunk_tokens),
        "chunk_overlap_tokens": str(chunk_overlap_tokens),
        "chunker": CHUNKER_VERSION,
    }
    return {key: value for key, value in values.items() if value is not None}


@dataclass
class Scan:
    """What a scan found, and what it could not look at (which must never be taken for "gone")."""

    roots: dict[str, list[SourceFile]] = field(default_factory=dict)
    synced: set[str] = field(default_factory=set)  # folders scanned whole: their vanished files leave the index
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # Per root: paths relative to it ("" = the root itself) that could not be looked at; a path that could
    # not be looked at may be a folder, so what is indexed under it is kept too.
    unseen: dict[str, list[str]] = field(default_factory=dict)


def scan(paths: Sequence[Path], max_bytes: int) -> Scan:
    """Supported files under each path, grouped by the root their source names are relative to.

    A folder is a root that is synced whole (files gone from it are removed from the index); a single
    file is synced alone. A path that cannot be looked at (no permission, a symbolic link loop, a
    dangling link) is skipped with its reason and recorded as unseen, so its indexed copy stays.
    """
    found = Scan()
    for given in paths:
        path = Path(given).expanduser()
        try:
            is_dir = stat.S_ISDIR(path.stat().st_mode)
        except OSError as exc:
            reason = _unreadable_reason(exc, path.is_symlink(), missing="no such file or folder")
            found.skipped.append((str(given), reason))
            found.unseen.setdefault(str(path.absolute()), []).append("")
            continue
        if is_dir:
            root = path.resolve()
            files = _walk(str(root), found.skipped, found.unseen.setdefault(str(root), []))
            found.synced.add(str(root))
        else:
            root = path.resolve().parent
            files = [(path.resolve().name, str(path.resolve()), path.is_symlink())]
        entries = found.roots.setdefault(str(root), [])
        unseen = found.unseen.setdefault(str(root), [])
        for source, location, is_symlink in files:
            if is_symlink and not Path(location).resolve().is_relative_to(root):
                found.skipped.append((source, "symbolic link pointing outside the folder"))
                continue
            dot = source.rfind(".")
            suffix = source[dot:] if dot > source.rfind("/") + 1 else ""  # as Path.suffix, without pathlib
            if suffix.lower() not in SUPPORTED_SUFFIXES:
                found.skipped.append((source, f"unsupported file type {suffix or '(none)'}"))
                continue
            try:
                info = os.stat(location)
            except OSError as exc:  # replaced or made unreadable since the folder was listed
                found.skipped.append((source, _unreadable_reason(exc, is_symlink)))
                unseen.append(source)
                continue
            if info.st_size > max_bytes:
                too_large = f"file too large ({info.st_size / 1e6:.1f} MB > {max_bytes / 1e6:.0f} MB)"
                found.skipped.append((source, too_large))
                continue
            entries.append(SourceFile(str(root), source, info.st_size, info.st_mtime_ns, partial(_read, location)))
    return found


def files_state(found: Scan) -> frozenset[tuple[str, str, int, int]]:
    """What a scan saw, as (root, source, size, mtime): equal states need no index run."""
    return frozenset((file.root, file.source, file.size, file.mtime_ns) for files in found.roots.values() for file in files)


def _unreadable_reason(exc: OSError, is_symlink: bool, missing: str = "file vanished while scanning") -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop; skipped"
    if isinstance(exc, FileNotFoundError):
        return "symbolic link to a missing file; skipped" if is_symlink else missing
    return f"cannot read: {exc.strerror or exc}; skipped"


def _walk(root: str, skipped: list[tuple[str, str]], unseen: list[str]) -> list[tuple[str, str, bool]]:
    """(source, path, is symbolic link) of the files under ``root`` in path order; hidden files and
    folders are left out and linked folders are not followed. Plain strings and one ``scandir`` per
    folder keep a re-index of tens of thousands of files fast (pathlib costs seconds there).

    A folder or entry that cannot be looked at is added to ``skipped`` with its reason and to
    ``unseen`` (the root as ``""``), never silently left out."""
    found: list[tuple[str, str, bool]] = []
    folders = [("", root)]
    while folders:
        prefix, folder = folders.pop()
        try:
            with os.scandir(folder) as listing:
                for entry in listing:
                    if entry.name.startswith("."):
                        continue
                    source = f"{prefix}{entry.name}"
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            folders.append((f"{source}/", entry.path))
                        elif entry.is_symlink():
                            target = os.stat(entry.path)  # raises for a dangling link or a loop
                            if stat.S_ISREG(target.st_mode):
                                found.append((source, entry.path, True))
                        elif entry.is_file(follow_symlinks=False):
                            found.append((source, entry.path, False))
                    except OSError as exc:
                        skipped.append((source, _unreadable_reason(exc, entry.is_symlink())))
                        unseen.append(source)
        except OSError as exc:
            skipped.append((prefix.rstrip("/") or root, f"cannot read folder: {exc.strerror or exc}; its indexed "
                            "documents are kept"))
            unseen.append(prefix.rstrip("/"))
    return sorted(found, key=lambda file: file[0].split("/"))


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def index_sources(
    store: Store,
    embedder: Embedder,
    roots: dict[str, list[SourceFile]],
    *,
    chunk_tokens: int,
    chunk_overlap_tokens: int,
    exact_search_max_chunks: int,
    sync_roots: Iterable[str] = (),
    rebuild: bool = False,
    skipped: Sequence[tuple[str, str]] = (),
    unseen: Mapping[str, Sequence[str]] | None = None,
    checkpoint_seconds: float = CHECKPOINT_SECONDS,
    checkpoint_documents: int = 0,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
    progress: Progress | None = None,
    prepare: Prepare | None = None,
) -> IndexReport:
    """Bring the index in line with ``roots``; files missing from a root in ``sync_roots`` are removed,
    unless ``unseen`` says they (or their folder) could not be looked at.

    Runs under the index lock (another run in progress: wait, telling ``on_wait`` or else ``progress``,
    or with ``wait`` false raise IndexBusyError). Reading, hashing, loading and chunking run in a worker
    thread ahead of the embedding, and documents are written as each batch of chunks is embedded, so only
    one batch is held in memory. The work is committed in checkpoints (see :class:`_Checkpoints`), so a killed run
    loses at most the work since the last one. ``prepare`` replaces that worker thread (rag/ingest_ray.py
    runs it on a Ray cluster); what is kept, copied, written and removed is decided here either way.
    """
    started = time.perf_counter()
    report = IndexReport(skipped=list(skipped))
    notify = progress or (lambda fraction, message: None)
    expected = signature(embedder.model_id, embedder.dim, chunk_tokens, chunk_overlap_tokens)
    with store.index_lock(wait, on_wait or (lambda message: notify(0.0, message))):
        if not rebuild:
            store.check_signature(expected)
        with store.writer(expected, exact_search_max_chunks, rebuild=rebuild) as writer:
            todo, gone = _plan(store, roots, report, set(sync_roots), unseen or {}, rebuild)
            checkpoints = _Checkpoints(writer, checkpoint_seconds, checkpoint_documents, notify)
            load = partial(_load_and_chunk, count_tokens=embedder.count_tokens, max_tokens=chunk_tokens,
                           overlap=chunk_overlap_tokens)
            # Content already in the index is copied, not loaded, chunked and embedded again.
            stored = writer.content_keys() if todo else set()
            batch = _EmbedBatch(writer, embedder, load, stored, report, notify)
            with closing((prepare or prepare_in_thread)(todo, stored, load)) as prepared:
                for done, item in enumerate(prepared, 1):
                    batch.fraction = 0.05 + 0.9 * done / len(todo)
                    notify(batch.fraction, f"reading {item.file.source}")
                    if item.skip is not None:
                        report.skipped.append((item.file.source, item.skip))
                        # A file that no longer loads no longer says what the index remembers.
                        if item.record and item.unreadable:
                            writer.remove(item.file.root, item.file.source)
                            report.removed.append(item.file.source)
                    elif item.unchanged:
                        writer.touch(item.file.root, item.file.source, item.file.size, item.file.mtime_ns)
                        report.unchanged.append(item.file.source)
                    else:
                        batch.add(item)
                    if checkpoints.due(done):
                        batch.flush()
                        checkpoints.save(batch.fraction, done)
            batch.flush()
            _add_missing_unit_vectors(writer, embedder, report, checkpoints, notify)
            _replace_moved_roots(writer, roots, set(sync_roots), report)
            # Removals last: a file moved or copied elsewhere has its content reused before the old one goes.
            for root, source in gone:
                writer.remove(root, source)
                report.removed.append(source)
            notify(0.95, "writing the search index")
    report.documents_total, report.chunks_total = store.counts()
    report.seconds = time.perf_counter() - started
    notify(1.0, "done")
    return report


def unit_vector_blobs(embedder: Embedder, passages: Sequence[Passage]) -> tuple[list[bytes], int]:
    """Each passage's answer units embedded (one encode call, each distinct text once) and packed for the store,
    with the number of texts embedded."""
    texts = [embedded_texts(passage) for passage in passages]
    distinct = list(dict.fromkeys(text for passage_texts in texts for text in passage_texts))
    vectors = dict(zip(distinct, embedder.encode(distinct)))
    empty = np.zeros((0, embedder.dim), dtype=np.float32)
    return [pack_unit_vectors([text_key(text) for text in passage_texts],
                              np.stack([vectors[text] for text in passage_texts]) if passage_texts else empty)
            for passage_texts in texts], len(distinct)


def _add_missing_unit_vectors(writer: StoreWriter, embedder: Embedder, report: IndexReport,
                              checkpoints: _Checkpoints, notify: Progress) -> None:
    """Chunks indexed before answer-unit vectors were stored (layout 4) get them: their chunk vectors are kept."""
    while passages := writer.chunks_without_unit_vectors(EMBED_STEP):
        blobs, embedded = unit_vector_blobs(embedder, passages)
        writer.set_unit_vectors({passage.id: blob for passage, blob in zip(passages, blobs)})
        report.units_embedded += embedded
        notify(0.95, f"embedded the answer units of {len(passages)} older chunks")
        if checkpoints.due(0):
            checkpoints.save(0.95, 0)


def _plan(
    store: Store, roots: dict[str, list[SourceFile]], report: IndexReport, sync_roots: set[str],
    unseen: Mapping[str, Sequence[str]], rebuild: bool,
) -> tuple[list[tuple[SourceFile, DocumentRecord | None]], list[tuple[str, str]]]:
    """Files to read (new, or with other size/mtime than indexed) and documents gone from synced roots.

    A document whose file or folder could not be looked at is not gone: it is kept, and reported."""
    todo: list[tuple[SourceFile, DocumentRecord | None]] = []
    gone: list[tuple[str, str]] = []
    for root, files in roots.items():
        known = {} if rebuild else {record.source: record for record in store.documents(root)}
        for file in files:
            record = known.get(file.source)
            if record and record.size == file.size and record.mtime_ns == file.mtime_ns:
                report.unchanged.append(file.source)
            else:
                todo.append((file, record))
        present = {file.source for file in files}
        for source in sorted(set(known) - present):
            if _covered(source, unseen.get(root, ())):
                report.kept.append(source)
            elif root in sync_roots:
                gone.append((root, source))
    report.unreadable = sorted(
        {os.path.join(root, path) if path else root for root, paths in unseen.items() for path in paths}
    )
    return todo, gone


def _covered(source: str, unseen: Iterable[str]) -> bool:
    """Whether ``source`` is, or lies under, a path that could not be looked at ("" is the whole root)."""
    return any(path in ("", source) or source.startswith(path + "/") for path in unseen)


def _replace_moved_roots(writer: StoreWriter, roots, sync_roots: set[str], report: IndexReport) -> None:
    """An indexed folder that no longer exists is kept (it may be an unmounted drive), unless a folder
    indexed now holds most of its documents, same paths and content: then it moved, and its old entries go."""
    for old_root, count in writer.roots().items():
        if old_root in roots or _exists(old_root):
            continue
        holders = (root for root in sorted(sync_roots) if 2 * writer.shared_documents(old_root, root) > count)
        new_root = next(holders, None)
        if new_root is None:
            report.missing_roots.append(old_root)
        else:
            writer.remove_root(old_root)
            report.moved_roots.append((old_root, new_root))


def _exists(path: str) -> bool:
    """False only for a path that is certainly gone; a path that cannot be looked at may still be there."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return True


class _Checkpoints:
    """When to commit during a run: every ``seconds`` (and, if set, every ``documents`` files), but never
    so often that the work after a commit (updating tantivy, and a compaction of the dense index when one
    is due) takes more than MAX_OVERHEAD of the run."""

    MAX_OVERHEAD = 0.1

    def __init__(self, writer: StoreWriter, seconds: float, documents: int, notify: Progress):
        self.writer, self.seconds, self.documents, self.notify = writer, seconds, documents, notify
        self.last_time, self.last_done = time.monotonic(), 0

    def due(self, done: int) -> bool:
        elapsed = time.monotonic() - self.last_time
        if elapsed < self.writer.artifact_seconds * (1 - self.MAX_OVERHEAD) / self.MAX_OVERHEAD:
            return False
        return elapsed >= self.seconds or 0 < self.documents <= done - self.last_done

    def save(self, fraction: float, done: int) -> None:
        if self.writer.changed:
            self.notify(fraction, f"checkpoint: {done} files done, saving a searchable index")
            self.writer.checkpoint()
        self.last_time, self.last_done = time.monotonic(), done


@dataclass
class _PreparedFile:
    """A file read, hashed and (when its content is new) loaded and chunked, waiting to be written."""

    file: SourceFile
    record: DocumentRecord | None
    content_hash: str = ""
    data: bytes | None = None  # kept only while the content is expected to be copied from the index
    document: Document | None = None
    chunks: list[Span] | None = None
    vectors: np.ndarray | None = None  # when the chunks were embedded where they were prepared (Ray)
    unit_vectors: list[bytes] | None = None  # each chunk's answer-unit vectors, packed (embedded with ``vectors``)
    units_embedded: int = 0
    skip: str | None = None
    unreadable: bool = False  # skipped because the content cannot be indexed (not because reading failed)
    unchanged: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return content_key(self.content_hash, self.file.source)


def _load_and_chunk(
    data: bytes, source: str, count_tokens, max_tokens: int, overlap: int
) -> tuple[Document, list[Span]]:
    document = load_document(Path(source), source, data)
    chunks = chunk_document(document, count_tokens, max_tokens, overlap) + reference_chunks(document, count_tokens, max_tokens)
    if not chunks:
        raise SkipFile("no text to index")
    return document, chunks


def _prepare(entry: tuple[SourceFile, DocumentRecord | None], stored: set, load) -> _PreparedFile:
    """Worker-thread part of indexing one file: read, hash, and load and chunk new content."""
    file, record = entry
    item = _PreparedFile(file, record)
    try:
        data = file.read()
    except OSError as exc:
        item.skip = f"cannot read: {exc.strerror or exc}"
        return item
    item.content_hash = hashlib.sha256(data).hexdigest()
    if record and record.content_hash == item.content_hash:
        item.unchanged = True
    elif item.key in stored:
        item.data = data
    else:
        try:
            item.document, item.chunks = load(data, file.source)
        except SkipFile as exc:
            item.skip, item.unreadable = str(exc), True
    return item


def prepare_in_thread(todo: Sequence[tuple[SourceFile, DocumentRecord | None]], stored: set, load) -> Iterator[_PreparedFile]:
    """Files read, hashed, loaded and chunked in one worker thread, up to READ_AHEAD files ahead; the
    chunks are embedded in batches by the caller."""
    return _read_ahead(partial(_prepare, stored=stored, load=load), todo, READ_AHEAD)


# How index_sources gets its files prepared: (files to read, content keys already stored, load) -> items in order.
Prepare = Callable[[Sequence[tuple[SourceFile, DocumentRecord | None]], set, Callable], Iterator[_PreparedFile]]


def _read_ahead(function: Callable, items: Sequence, depth: int) -> Iterator:
    """``function(item)`` for each item, in order, computed up to ``depth`` items ahead in one worker thread."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-ingest")
    futures: deque[Future] = deque()
    try:
        for entry in items:
            futures.append(pool.submit(function, entry))
            if len(futures) > depth:
                yield futures.popleft().result()
        while futures:
            yield futures.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def embed_prepared(items: Sequence[_PreparedFile], embedder: Embedder) -> None:
    """Give every loaded item without vectors its chunks' vectors and their answer units' vectors (one encode
    call each), wherever the items were prepared (this process or a Ray actor)."""
    pending = [item for item in items if item.chunks and item.vectors is None]
    vectors = embedder.encode([embedding_text(item.document.title, chunk) for item in pending for chunk in item.chunks])
    passages = [_passage(item.document.title, item.file.source, chunk) for item in pending for chunk in item.chunks]
    unit_vectors, units_embedded = unit_vector_blobs(embedder, passages)
    offset = 0
    for number, item in enumerate(pending):
        item.vectors = vectors[offset : offset + len(item.chunks)]
        item.unit_vectors = unit_vectors[offset : offset + len(item.chunks)]
        item.units_embedded = units_embedded if number == 0 else 0  # counted once per encode call
        offset += len(item.chunks)


class _EmbedBatch:
    """Documents waiting for one encode call, written as soon as their vectors exist."""

    def __init__(self, writer: StoreWriter, embedder: Embedder, load, stored: set, report: IndexReport, notify):
        self.writer, self.embedder, self.load, self.stored = writer, embedder, load, stored
        self.report, self.notify = report, notify
        self.items: list[_PreparedFile] = []
        self.chunk_count = 0
        self.fraction = 0.05

    def add(self, item: _PreparedFile) -> None:
        self.items.append(item)
        self.chunk_count += len(item.chunks or ())
        if self.chunk_count >= EMBED_STEP or len(self.items) >= EMBED_STEP:
            self.flush()

    def flush(self) -> None:
        contents: dict[tuple[str, str], DocumentContent] = {}
        fresh: dict[tuple[str, str], _PreparedFile] = {}
        for item in self.items:
            if item.key in contents or item.key in fresh:
                continue
            copy = self.writer.find_content(*item.key)
            if copy is not None:
                contents[item.key] = copy
                continue
            if item.document is None:  # the content it was expected to copy was replaced in this run
                try:
                    item.document, item.chunks = self.load(item.data, item.file.source)
                except SkipFile as exc:
                    item.skip = str(exc)
                    continue
            fresh[item.key] = item
        embed_prepared(list(fresh.values()), self.embedder)
        for key, item in fresh.items():
            document = item.document
            contents[key] = DocumentContent(document.title, document.metadata, document.text, item.chunks, item.vectors,
                                            item.unit_vectors)
        embedded = sum(len(item.chunks) for item in fresh.values())
        self.report.chunks_embedded += embedded
        self.report.units_embedded += sum(item.units_embedded for item in fresh.values())
        if embedded:
            self.notify(self.fraction, f"embedded {self.report.chunks_embedded} chunks")
        written = 0
        for item in self.items:
            file = item.file
            if item.key not in contents:
                self.report.skipped.append((file.source, item.skip))
                if item.record:
                    self.writer.remove(file.root, file.source)
                    self.report.removed.append(file.source)
                continue
            content = contents[item.key]
            self.writer.put(
                file.root, file.source, item.content_hash, file.size, file.mtime_ns,
                content.title, content.metadata, content.text, content.chunks, content.vectors, content.unit_vectors,
            )
            self.stored.add(item.key)
            written += len(content.chunks)
            (self.report.updated if item.record else self.report.added).append(file.source)
        self.report.chunks_copied += written - embedded  # the rest came from identical content
        self.items, self.chunk_count = [], 0


def _passage(title: str, source: str, span: Span) -> Passage:
    """A chunk as the answer layer will read it back (its id is the store's; units do not depend on it)."""
    return Passage(**{f.name: getattr(span, f.name) for f in fields(Span)}, id=0, source=source, title=title)
