"""Incremental indexing: only new or changed content is loaded, chunked and embedded."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from rag.chunk import CHUNKER_VERSION, Chunk, chunk_document, embedding_text
from rag.embed import Embedder
from rag.load import SUPPORTED_SUFFIXES, SkipFile, load_document
from rag.store import Store

# Chunks embedded per step: big enough to keep the model busy, small enough for a smooth progress bar.
EMBED_STEP = 256

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
    chunks_embedded: int = 0
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
            f"({self.chunks_embedded} embedded in {self.seconds:.1f} s)",
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
            files = sorted(p for p in root.rglob("*") if p.is_file() and not _hidden(p.relative_to(root)))
        elif path.is_file():
            root = path.resolve().parent
            files = [path.resolve()]
        else:
            skipped.append((str(given), "no such file or folder"))
            continue
        entries = roots.setdefault(str(root), [])
        for file in files:
            source = file.relative_to(root).as_posix()
            if file.is_symlink() and not file.resolve().is_relative_to(root):
                skipped.append((source, "symbolic link pointing outside the folder"))
                continue
            if file.suffix.lower() not in SUPPORTED_SUFFIXES:
                skipped.append((source, f"unsupported file type {file.suffix or '(none)'}"))
                continue
            stat = file.stat()
            if stat.st_size > max_bytes:
                skipped.append((source, f"file too large ({stat.st_size / 1e6:.1f} MB > {max_bytes / 1e6:.0f} MB)"))
                continue
            entries.append(SourceFile(str(root), source, stat.st_size, stat.st_mtime_ns, file.read_bytes))
    return roots, skipped


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


@dataclass
class _Pending:
    file: SourceFile
    content_hash: str
    title: str
    metadata: dict
    text: str
    chunks: list[Chunk]
    existed: bool


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
    """Bring the index in line with ``roots``; files missing from a root in ``sync_roots`` are removed."""
    started = time.perf_counter()
    report = IndexReport(skipped=list(skipped))
    notify = progress or (lambda fraction, message: None)
    expected = signature(embedder, chunk_tokens, chunk_overlap_tokens)
    if not rebuild:
        store.check_signature(expected)
    count_tokens = embedder.count_tokens

    with store.writer(expected, exact_search_max_chunks) as writer:
        if rebuild:
            writer.clear()
        pending: list[_Pending] = []
        total_files = sum(len(files) for files in roots.values()) or 1
        seen = 0
        for root, files in roots.items():
            known = {} if rebuild else {record.source: record for record in store.documents(root)}
            present = set()
            for file in files:
                seen += 1
                present.add(file.source)
                record = known.get(file.source)
                if record and record.size == file.size and record.mtime_ns == file.mtime_ns:
                    report.unchanged.append(file.source)
                    continue
                notify(0.2 * seen / total_files, f"reading {file.source}")
                try:
                    data = file.read()
                except OSError as exc:
                    report.skipped.append((file.source, f"cannot read: {exc.strerror or exc}"))
                    continue
                content_hash = hashlib.sha256(data).hexdigest()
                if record and record.content_hash == content_hash:
                    writer.touch(root, file.source, file.size, file.mtime_ns)
                    report.unchanged.append(file.source)
                    continue
                try:
                    document = load_document(Path(file.source), file.source, data)
                    chunks = chunk_document(document, count_tokens, chunk_tokens, chunk_overlap_tokens)
                    if not chunks:
                        raise SkipFile("no text to index")
                except SkipFile as exc:
                    report.skipped.append((file.source, str(exc)))
                    if record:  # a file that became unreadable no longer says what the index remembers
                        writer.remove(root, file.source)
                        report.removed.append(file.source)
                    continue
                pending.append(
                    _Pending(file, content_hash, document.title, document.metadata, document.text, chunks, bool(record))
                )
            if root in sync_roots:
                for source in sorted(set(known) - present):
                    writer.remove(root, source)
                    report.removed.append(source)

        _embed_and_store(writer, embedder, pending, notify)
        for item in pending:
            (report.updated if item.existed else report.added).append(item.file.source)
        report.chunks_embedded = sum(len(item.chunks) for item in pending)
        notify(0.95, "writing the search index")
    report.documents_total, report.chunks_total = store.counts()
    report.seconds = time.perf_counter() - started
    notify(1.0, "done")
    return report


def _embed_and_store(writer, embedder: Embedder, pending: list[_Pending], notify: Progress) -> None:
    texts = [embedding_text(item.title, chunk) for item in pending for chunk in item.chunks]
    if not texts:
        return
    vectors = np.empty((len(texts), embedder.dim), dtype=np.float32)
    for start in range(0, len(texts), EMBED_STEP):
        vectors[start : start + EMBED_STEP] = embedder.encode(texts[start : start + EMBED_STEP])
        done = min(start + EMBED_STEP, len(texts))
        notify(0.2 + 0.75 * done / len(texts), f"embedded {done}/{len(texts)} chunks")
    offset = 0
    for item in pending:
        count = len(item.chunks)
        writer.put(
            item.file.root, item.file.source, item.content_hash, item.file.size, item.file.mtime_ns,
            item.title, item.metadata, item.text, item.chunks, vectors[offset : offset + count],
        )
        offset += count
