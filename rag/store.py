"""The durable index: SQLite holds documents, chunks and their vectors; FAISS and BM25 are derived files.

Every change is one SQLite transaction. The derived files of a change are written under a new
generation number before that transaction commits the number, so a crash at any point leaves the
last committed generation whole and loadable. Nothing is ever unpickled.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath

import faiss
import numpy as np

from rag.errors import UserError
from rag.passage import Passage, Span
from rag.text import stemmer

SCHEMA_VERSION = "1"
DB_NAME = "store.sqlite3"
# HNSW parameters, measured in bench/scale.py (bench/results/scale.md): recall@10 against exact search is
# 0.9996 on 10k real MiniLM vectors and 0.97 on 100k made of ten copies of each (duplicates are HNSW's hard
# case, and content reuse makes them), for +0.3 ms per query over efSearch 128.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 256

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    root TEXT NOT NULL,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    title TEXT NOT NULL,
    metadata TEXT NOT NULL,
    text TEXT NOT NULL,
    chunk_count INTEGER NOT NULL,
    indexed_at REAL NOT NULL,
    UNIQUE (root, source)
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    text TEXT NOT NULL,
    section TEXT NOT NULL,
    char_start INTEGER NOT NULL,
    char_end INTEGER NOT NULL,
    page INTEGER,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks(document_id);
CREATE INDEX IF NOT EXISTS documents_by_content ON documents(content_hash);
"""
# The chunks column of each Span field, in Span's order: a new Span field needs only its column in _SCHEMA.
_SPAN_COLUMNS = {f.name: {"start": "char_start", "end": "char_end"}.get(f.name, f.name) for f in fields(Span)}
_SPAN_SELECT = ", ".join(f"c.{column}" for column in _SPAN_COLUMNS.values())


class StoreError(UserError, RuntimeError):
    """The index on disk cannot be used as asked; the message says what to do."""


class IndexMismatchError(StoreError):
    """The index was built with other embedding or chunking settings than the current ones."""


@dataclass(frozen=True)
class DocumentRecord:
    root: str
    source: str
    content_hash: str
    size: int
    mtime_ns: int
    title: str
    chunk_count: int
    indexed_at: float


@dataclass
class DocumentContent:
    """What indexing a file's content produced, reusable for any file with the same content key."""

    title: str
    metadata: dict
    text: str
    chunks: Sequence[Span]
    vectors: np.ndarray


def content_key(content_hash: str, source: str) -> tuple[str, str]:
    """Same bytes under the same suffix load, chunk and embed the same (loaders go by suffix)."""
    return content_hash, PurePosixPath(source).suffix.lower()


@dataclass
class SearchArtifacts:
    """What a query needs in memory: vectors, BM25 scores and the row → chunk id map (no chunk text)."""

    generation: int
    dense: faiss.Index
    dense_kind: str
    bm25: object | None
    chunk_ids: np.ndarray

    def __len__(self) -> int:
        return int(self.chunk_ids.shape[0])


def _bm25s():
    """bm25s, with the DEBUG level its import sets on its logger put back (it floods logs once a handler exists)."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def lexical_tokens(texts: Sequence[str], show_progress: bool = False) -> list[list[str]]:
    """BM25 tokens: lower-cased words, English stop words out, Snowball-stemmed (same at index and query time)."""
    return _bm25s().tokenize(
        list(texts), stopwords="en", stemmer=stemmer(), return_ids=False, show_progress=show_progress
    )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Store:
    """One index folder. Reads are safe from many threads; one writer at a time (SQLite's lock)."""

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        try:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            self._db = self._connect()
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the index in {self.index_dir}: {exc}") from exc
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.index_dir / DB_NAME, check_same_thread=False, isolation_level=None, timeout=60)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=FULL")
        # A big index run leaves a WAL as large as its writes; cut it back after each checkpoint.
        db.execute("PRAGMA journal_size_limit=67108864")
        with _transaction(db):
            for statement in _SCHEMA.strip().split(";"):
                if statement.strip():
                    db.execute(statement)
        return db

    def close(self) -> None:
        self._db.close()

    # ---- metadata -------------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        with self._lock:
            return dict(self._db.execute("SELECT key, value FROM meta").fetchall())

    @property
    def generation(self) -> int:
        return int(self.meta().get("generation", "0"))

    def check_signature(self, signature: dict[str, str]) -> None:
        """Refuse to mix vectors or chunks made with other settings: results would be silently wrong."""
        stored = {key: value for key, value in self.meta().items() if key in signature}
        if not stored:
            return
        differences = [
            f"{key} {stored[key]!r} (now {signature[key]!r})"
            for key in signature
            if key in stored and stored[key] != signature[key]
        ]
        if differences:
            raise IndexMismatchError(
                f"the index in {self.index_dir} was built with {', '.join(differences)}; "
                "rebuild it with `rag index --rebuild` (or point --index-dir elsewhere)"
            )

    # ---- reading ---------------------------------------------------------------------------

    def documents(self, root: str | None = None) -> list[DocumentRecord]:
        query = "SELECT root, source, content_hash, size, mtime_ns, title, chunk_count, indexed_at FROM documents"
        args: tuple = ()
        if root is not None:
            query += " WHERE root = ?"
            args = (root,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY source", args).fetchall()
        return [DocumentRecord(*row) for row in rows]

    def counts(self) -> tuple[int, int]:
        with self._lock:
            documents = self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            chunks = self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return documents, chunks

    def document_text(self, source: str) -> str:
        with self._lock:
            row = self._db.execute("SELECT text FROM documents WHERE source = ? LIMIT 1", (source,)).fetchone()
        if row is None:
            raise StoreError(f"no indexed document {source!r}")
        return row[0]

    def chunks(self, chunk_ids: Sequence[int]) -> dict[int, Passage]:
        """The passages stored under ``chunk_ids`` (ids no longer in the index are left out)."""
        if not chunk_ids:
            return {}
        placeholders = ",".join("?" * len(chunk_ids))
        with self._lock:
            rows = self._db.execute(
                f"SELECT c.id, d.source, d.title, {_SPAN_SELECT} "
                f"FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id IN ({placeholders})",
                [int(i) for i in chunk_ids],
            ).fetchall()
        return {
            chunk_id: Passage(**dict(zip(_SPAN_COLUMNS, span)), id=chunk_id, source=source, title=title)
            for chunk_id, source, title, *span in rows
        }

    def chunk_contexts(self) -> list[tuple[int, str, str, str, str]]:
        """Every chunk with its document's source and title, in index row order (for benchmarks and audits)."""
        with self._lock:
            return _chunk_contexts(self._db)

    def size_on_disk(self) -> int:
        return sum(path.stat().st_size for path in self.index_dir.rglob("*") if path.is_file())

    def load_artifacts(self) -> SearchArtifacts | None:
        """The committed generation's search structures, or None for an empty index."""
        generation = self.generation
        if generation == 0:
            return None
        bm25s = _bm25s()

        paths = _artifact_paths(self.index_dir, generation)
        try:
            dense = faiss.read_index(str(paths["dense"]))
            chunk_ids = np.load(paths["rows"], allow_pickle=False)
            # Memory-mapped: a query touches only its terms' postings; no chunk text is loaded.
            bm25 = bm25s.BM25.load(str(paths["bm25"]), mmap=True) if paths["bm25"].exists() else None
        except Exception as exc:
            raise StoreError(
                f"the index in {self.index_dir} is damaged ({exc}); rebuild it with `rag index --rebuild`"
            ) from exc
        if isinstance(dense, faiss.IndexHNSW):
            dense.hnsw.efSearch = HNSW_EF_SEARCH
        kind = self.meta().get("dense_index", "flat")
        return SearchArtifacts(generation, dense, kind, bm25, chunk_ids)

    # ---- writing ---------------------------------------------------------------------------

    @contextmanager
    def writer(self, signature: dict[str, str], exact_search_max_chunks: int) -> Iterator[StoreWriter]:
        """A change as one transaction: all of it is committed with fresh search files, or none of it."""
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            writer = StoreWriter(db)
            try:
                yield writer
                meta = {**signature, "schema": SCHEMA_VERSION}
                if writer.changed:
                    generation = self.generation + 1
                    kind = _write_artifacts(
                        db, self.index_dir, generation, int(signature["embed_dim"]), exact_search_max_chunks
                    )
                    meta |= {"generation": str(generation), "dense_index": kind, "indexed_at": str(time.time())}
                db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", list(meta.items()))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        finally:
            db.close()
        _remove_stale_artifacts(self.index_dir, self.generation)


class StoreWriter:
    def __init__(self, db: sqlite3.Connection):
        self._db = db
        self.changed = False

    def clear(self) -> None:
        self._db.execute("DELETE FROM documents")
        self._db.execute("DELETE FROM meta WHERE key != 'generation'")
        self.changed = True

    def remove(self, root: str, source: str) -> None:
        self._db.execute("DELETE FROM documents WHERE root = ? AND source = ?", (root, source))
        self.changed = True

    def content_keys(self) -> set[tuple[str, str]]:
        return {content_key(*row) for row in self._db.execute("SELECT content_hash, source FROM documents")}

    def find_content(self, content_hash: str, suffix: str) -> DocumentContent | None:
        """An indexed document's content (this transaction's writes included), to copy instead of re-embedding."""
        rows = self._db.execute(
            "SELECT id, source, title, metadata, text FROM documents WHERE content_hash = ?", (content_hash,)
        ).fetchall()
        match = next((row for row in rows if content_key(content_hash, row[1])[1] == suffix), None)
        if match is None:
            return None
        chunks = self._db.execute(
            f"SELECT {_SPAN_SELECT}, c.vector FROM chunks c WHERE c.document_id = ? ORDER BY c.ordinal",
            (match[0],),
        ).fetchall()
        vectors = np.frombuffer(b"".join(row[-1] for row in chunks), dtype=np.float32).reshape(len(chunks), -1)
        spans = [Span(**dict(zip(_SPAN_COLUMNS, row[:-1]))) for row in chunks]
        return DocumentContent(match[2], json.loads(match[3]), match[4], spans, vectors)

    def touch(self, root: str, source: str, size: int, mtime_ns: int) -> None:
        """Same content, new file times: remember them so the next run skips hashing."""
        self._db.execute(
            "UPDATE documents SET size = ?, mtime_ns = ? WHERE root = ? AND source = ?", (size, mtime_ns, root, source)
        )

    def put(
        self,
        root: str,
        source: str,
        content_hash: str,
        size: int,
        mtime_ns: int,
        title: str,
        metadata: dict,
        text: str,
        chunks: Sequence[Span],
        vectors: np.ndarray,
    ) -> None:
        """Insert or replace one document with its chunks and their vectors."""
        self.remove(root, source)
        cursor = self._db.execute(
            "INSERT INTO documents(root, source, content_hash, size, mtime_ns, title, metadata, text, chunk_count, "
            "indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (root, source, content_hash, size, mtime_ns, title, json.dumps(metadata, default=str), text,
             len(chunks), time.time()),
        )
        document_id = cursor.lastrowid
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        columns = ", ".join(_SPAN_COLUMNS.values())
        self._db.executemany(
            f"INSERT INTO chunks(document_id, ordinal, {columns}, vector) "
            f"VALUES (?, ?, {', '.join('?' * len(_SPAN_COLUMNS))}, ?)",
            [
                (document_id, ordinal, *(getattr(chunk, field) for field in _SPAN_COLUMNS), vectors[ordinal].tobytes())
                for ordinal, chunk in enumerate(chunks)
            ],
        )


def _artifact_paths(index_dir: Path, generation: int) -> dict[str, Path]:
    return {
        "dense": index_dir / f"dense-{generation}.faiss",
        "rows": index_dir / f"rows-{generation}.npy",
        "bm25": index_dir / f"bm25-{generation}",
    }


def _iter_rows(db: sqlite3.Connection, columns: str, batch: int = 4096) -> Iterable[list[tuple]]:
    cursor = db.execute(f"SELECT {columns} FROM chunks ORDER BY id")
    while rows := cursor.fetchmany(batch):
        yield rows


def build_dense_index(vectors: np.ndarray, exact_search_max_chunks: int) -> tuple[faiss.Index, str]:
    """Exact inner product while that is fast enough; HNSW past the measured size."""
    dim = vectors.shape[1]
    if vectors.shape[0] <= exact_search_max_chunks:
        index = faiss.IndexFlatIP(dim)
        kind = "flat"
    else:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
        kind = "hnsw"
    if vectors.shape[0]:
        index.add(vectors)
    return index, kind


def build_bm25(texts: Sequence[str]):
    bm25s = _bm25s()

    bm25 = bm25s.BM25()
    bm25.index(lexical_tokens(texts), show_progress=False)
    return bm25


def _write_artifacts(
    db: sqlite3.Connection, index_dir: Path, generation: int, dim: int, exact_search_max_chunks: int
) -> str:
    chunk_ids: list[int] = []
    vector_parts: list[np.ndarray] = []
    for rows in _iter_rows(db, "id, vector"):
        chunk_ids.extend(row[0] for row in rows)
        vector_parts.append(np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32))
    vectors = np.concatenate(vector_parts).reshape(-1, dim) if vector_parts else np.zeros((0, dim), np.float32)
    dense, kind = build_dense_index(vectors, exact_search_max_chunks)
    del vectors, vector_parts

    paths = _artifact_paths(index_dir, generation)
    _remove_paths(paths.values())
    tmp_dense = paths["dense"].with_suffix(".tmp")
    faiss.write_index(dense, str(tmp_dense))
    _fsync_file(tmp_dense)
    os.replace(tmp_dense, paths["dense"])

    tmp_rows = paths["rows"].with_name(paths["rows"].name + ".tmp")
    with open(tmp_rows, "wb") as handle:
        np.save(handle, np.asarray(chunk_ids, dtype=np.int64), allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp_rows, paths["rows"])

    if chunk_ids:
        # Headings live in `section`, not in the chunk text: index them with the title so "Key Facts" matches.
        texts = [f"{title}\n{section}\n{text}" for _, _, title, section, text in _chunk_contexts(db)]
        bm25 = build_bm25(texts)
        del texts
        tmp_bm25 = paths["bm25"].with_name(paths["bm25"].name + ".tmp")
        shutil.rmtree(tmp_bm25, ignore_errors=True)
        bm25.save(str(tmp_bm25), show_progress=False)
        for path in tmp_bm25.iterdir():
            _fsync_file(path)
        os.replace(tmp_bm25, paths["bm25"])
    _fsync_dir(index_dir)
    return kind


def _chunk_contexts(db: sqlite3.Connection) -> list[tuple[int, str, str, str, str]]:
    """(chunk id, source, title, section, text) of every chunk, in index row order."""
    return db.execute(
        "SELECT c.id, d.source, d.title, c.section, c.text FROM chunks c JOIN documents d ON d.id = c.document_id "
        "ORDER BY c.id"
    ).fetchall()


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _remove_paths(paths: Iterable[Path]) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()


def _remove_stale_artifacts(index_dir: Path, keep_generation: int) -> None:
    """Files of older or abandoned generations; readers holding an old generation keep it in memory."""
    keep = {path.name for path in _artifact_paths(index_dir, keep_generation).values()}
    for path in index_dir.iterdir():
        stem = path.name.split("-", 1)[0]
        if stem in {"dense", "rows", "bm25"} and path.name not in keep:
            _remove_paths([path])


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
