"""Incremental indexing: only new or changed content is loaded, chunked and embedded."""

from __future__ import annotations

import hashlib
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from rag.chunk import CHUNKER_VERSION, chunk_document, embedding_text
from rag.embed import Embedder
from rag.load import SUPPORTED_SUFFIXES, Document, SkipFile, load_document
from rag.passage import Span
from rag.store import DocumentContent, DocumentRecord, Store, StoreWriter, content_key

# Chunks embedded per step: big enough to keep the model busy (and batches of similar length),
# small enough for a smooth progress bar and little memory.
EMBED_STEP = 512
# Files read, loaded and chunked ahead of the embedding, in a worker thread.
READ_AHEAD = 512

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
    chunks_embedded: int = 0  # chunks (re)indexed in this run ...
    chunks_reused: int = 0  # ... of which vectors were copied from identical content already indexed
    chunks_total: int = 0
    documents_total: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        data = asdict(self)
        data["skipped"] = [{"source": source, "reason": reason} for source, reason in self.skipped]
        return data

    def summary(self) -> str:
        lines = [
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"unchanged {len(self.unchanged)}, skipped {len(self.skipped)}",
            f"{self.documents_total} documents, {self.chunks_total} chunks in the index "
            f"({self.chunks_embedded} indexed in {self.seconds:.1f} s, {self.chunks_reused} of them copied "
            "from identical files)",
        ]
        lines += [f"skipped {source}: {reason}" for source, reason in self.skipped]
        return "\n".join(lines)


def signature(embedder: Embedder, chunk_tokens: int, chunk_overlap_tokens: int) -> dict[str, str]:
    """What must not change between runs for stored vectors and chunks to stay valid."""
    return {
        "embed_model": embedder.model_id,
        "embed_dim": str(embedder.dim),
        "chunk_tokens": str(chunk_tokens),
        "chunk_overlap_tokens": str(chunk_overlap_tokens),
        "chunker": CHUNKER_VERSION,
    }


def scan(paths: Sequence[Path], max_bytes: int) -> tuple[dict[str, list[SourceFile]], list[tuple[str, str]]]:
    """Supported files under each path, grouped by the root their source names are relative to.

    A folder is a root that is synced whole (files gone from it are removed from the index); a single
    file is synced alone.
    """
    roots: dict[str, list[SourceFile]] = {}
    skipped: list[tuple[str, str]] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            root = path.resolve()
            files = _walk(str(root), skipped)
        elif path.is_file():
            root = path.resolve().parent
            files = [(path.resolve().name, str(path.resolve()), path.is_symlink())]
        else:
            skipped.append((str(given), "no such file or folder"))
            continue
        entries = roots.setdefault(str(root), [])
        for source, location, is_symlink in files:
            if is_symlink and not Path(location).resolve().is_relative_to(root):
                skipped.append((source, "symbolic link pointing outside the folder"))
                continue
            dot = source.rfind(".")
            suffix = source[dot:] if dot > source.rfind("/") + 1 else ""  # as Path.suffix, without pathlib
            if suffix.lower() not in SUPPORTED_SUFFIXES:
                skipped.append((source, f"unsupported file type {suffix or '(none)'}"))
                continue
            stat = os.stat(location)
            if stat.st_size > max_bytes:
                skipped.append((source, f"file too large ({stat.st_size / 1e6:.1f} MB > {max_bytes / 1e6:.0f} MB)"))
                continue
            entries.append(SourceFile(str(root), source, stat.st_size, stat.st_mtime_ns, partial(_read, location)))
    return roots, skipped


def _walk(root: str, skipped: list[tuple[str, str]]) -> list[tuple[str, str, bool]]:
    """(source, path, is symbolic link) of the files under ``root`` in path order; hidden files and
    folders are left out and linked folders are not followed. Plain strings and one ``scandir`` per
    folder keep a re-index of tens of thousands of files fast (pathlib costs seconds there)."""
    found: list[tuple[str, str, bool]] = []
    folders = [("", root)]
    while folders:
        prefix, folder = folders.pop()
        try:
            with os.scandir(folder) as listing:
                for entry in listing:
                    if entry.name.startswith("."):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        folders.append((f"{prefix}{entry.name}/", entry.path))
                    elif entry.is_file():
                        found.append((f"{prefix}{entry.name}", entry.path, entry.is_symlink()))
        except OSError as exc:
            skipped.append((prefix.rstrip("/") or ".", f"cannot read folder: {exc.strerror or exc}"))
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
    progress: Progress | None = None,
) -> IndexReport:
    """Bring the index in line with ``roots``; files missing from a root in ``sync_roots`` are removed.

    Reading, hashing, loading and chunking run in a worker thread ahead of the embedding, and
    documents are written as each step of chunks is embedded, so only one step is held in memory.
    """
    started = time.perf_counter()
    report = IndexReport(skipped=list(skipped))
    notify = progress or (lambda fraction, message: None)
    expected = signature(embedder, chunk_tokens, chunk_overlap_tokens)
    if not rebuild:
        store.check_signature(expected)

    with store.writer(expected, exact_search_max_chunks) as writer:
        if rebuild:
            writer.clear()
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
            if root in sync_roots:
                gone += [(root, source) for source in sorted(set(known) - {file.source for file in files})]

        # Content already in the index is copied, not loaded, chunked and embedded again.
        stored = writer.content_keys() if todo else set()
        cut = partial(_cut, count_tokens=embedder.count_tokens, max_tokens=chunk_tokens, overlap=chunk_overlap_tokens)
        step = _Step(writer, embedder, cut, stored, report, notify)
        with closing(_read_ahead(partial(_prepare, stored=stored, cut=cut), todo, READ_AHEAD)) as prepared:
            for done, item in enumerate(prepared, 1):
                step.fraction = 0.05 + 0.9 * done / len(todo)
                notify(step.fraction, f"reading {item.file.source}")
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
                    step.add(item)
        step.flush()
        report.chunks_reused = report.chunks_embedded - step.encoded
        # Removals last: a file moved or copied elsewhere has its content reused before the old one goes.
        for root, source in gone:
            writer.remove(root, source)
            report.removed.append(source)
        notify(0.95, "writing the search index")
    report.documents_total, report.chunks_total = store.counts()
    report.seconds = time.perf_counter() - started
    notify(1.0, "done")
    return report


@dataclass
class _Item:
    file: SourceFile
    record: DocumentRecord | None
    content_hash: str = ""
    data: bytes | None = None  # kept only while the content is expected to be copied from the index
    document: Document | None = None
    chunks: list[Span] | None = None
    skip: str | None = None
    unreadable: bool = False  # skipped because the content cannot be indexed (not because reading failed)
    unchanged: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return content_key(self.content_hash, self.file.source)


def _cut(data: bytes, source: str, count_tokens, max_tokens: int, overlap: int) -> tuple[Document, list[Span]]:
    document = load_document(Path(source), source, data)
    chunks = chunk_document(document, count_tokens, max_tokens, overlap)
    if not chunks:
        raise SkipFile("no text to index")
    return document, chunks


def _prepare(entry: tuple[SourceFile, DocumentRecord | None], stored: set, cut) -> _Item:
    """Worker-thread part of indexing one file: read, hash, and load and chunk new content."""
    file, record = entry
    item = _Item(file, record)
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
            item.document, item.chunks = cut(data, file.source)
        except SkipFile as exc:
            item.skip, item.unreadable = str(exc), True
    return item


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


class _Step:
    """Documents waiting for one encode call, written as soon as their vectors exist."""

    def __init__(self, writer: StoreWriter, embedder: Embedder, cut, stored: set, report: IndexReport, notify):
        self.writer, self.embedder, self.cut, self.stored = writer, embedder, cut, stored
        self.report, self.notify = report, notify
        self.items: list[_Item] = []
        self.chunk_count = 0
        self.encoded = 0
        self.fraction = 0.05

    def add(self, item: _Item) -> None:
        self.items.append(item)
        self.chunk_count += len(item.chunks or ())
        if self.chunk_count >= EMBED_STEP or len(self.items) >= EMBED_STEP:
            self.flush()

    def flush(self) -> None:
        contents: dict[tuple[str, str], DocumentContent] = {}
        fresh: dict[tuple[str, str], _Item] = {}
        for item in self.items:
            if item.key in contents or item.key in fresh:
                continue
            copy = self.writer.find_content(*item.key)
            if copy is not None:
                contents[item.key] = copy
                continue
            if item.document is None:  # the content it was expected to copy was replaced in this run
                try:
                    item.document, item.chunks = self.cut(item.data, item.file.source)
                except SkipFile as exc:
                    item.skip = str(exc)
                    continue
            fresh[item.key] = item
        texts = [embedding_text(item.document.title, chunk) for item in fresh.values() for chunk in item.chunks]
        vectors = self.embedder.encode(texts)
        offset = 0
        for key, item in fresh.items():
            count = len(item.chunks)
            document = item.document
            contents[key] = DocumentContent(
                document.title, document.metadata, document.text, item.chunks, vectors[offset : offset + count]
            )
            offset += count
        self.encoded += len(texts)
        if texts:
            self.notify(self.fraction, f"embedded {self.encoded} chunks")
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
                content.title, content.metadata, content.text, content.chunks, content.vectors,
            )
            self.stored.add(item.key)
            self.report.chunks_embedded += len(content.chunks)
            (self.report.updated if item.record else self.report.added).append(file.source)
        self.items, self.chunk_count = [], 0
