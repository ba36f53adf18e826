"""The durable index: SQLite holds documents, chunks and their vectors; FAISS and BM25 are derived files.

Every commit is one SQLite transaction (a long index run commits in checkpoints). The derived files
of a commit are written under a new generation number before that transaction commits the number,
so a crash at any point leaves the last committed generation whole and loadable. One writer at a
time, across processes: the index lock (``Store.index_lock``). Nothing is ever unpickled.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath

import faiss
import numpy as np

from rag.errors import UserError
from rag.passage import Passage, Span
from rag.text import stemmer

# The layout of the SQLite store. Bump it with every change; an additive change (a new table, index or
# nullable column) gets a migration below, anything else makes older indexes need `rag index --rebuild`.
SCHEMA_VERSION = 3
# version -> statements that bring an index of that version to the next one, without re-embedding.
MIGRATIONS: dict[int, list[str]] = {
    1: ["CREATE INDEX IF NOT EXISTS documents_by_source ON documents(source)"],
    2: ["ALTER TABLE chunks ADD COLUMN code TEXT NOT NULL DEFAULT ''"],
}
DB_NAME = "store.sqlite3"
LOCK_NAME = "index.lock"
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
    code TEXT NOT NULL DEFAULT '',
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks(document_id);
CREATE INDEX IF NOT EXISTS documents_by_content ON documents(content_hash);
CREATE INDEX IF NOT EXISTS documents_by_source ON documents(source);
"""
# The chunks column of each Span field, in Span's order: a new Span field needs only its column in _SCHEMA.
_SPAN_COLUMNS = {f.name: {"start": "char_start", "end": "char_end"}.get(f.name, f.name) for f in fields(Span)}
_SPAN_SELECT = ", ".join(f"c.{column}" for column in _SPAN_COLUMNS.values())


class StoreError(UserError, RuntimeError):
    """The index on disk cannot be used as asked; the message says what to do."""


class IndexMismatchError(StoreError):
    """The index was built with other embedding or chunking settings than the current ones."""


class IndexBusyError(StoreError):
    """Another index run holds the index lock and the caller chose not to wait."""


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
    """One index folder. Reads are safe from many threads; one writer at a time (the index lock)."""

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        try:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            self._db = _connect(self.index_dir)
            self._schema_error = self._prepare_schema()
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the index in {self.index_dir}: {exc}") from exc

    def _prepare_schema(self) -> str | None:
        """Create a new index, migrate an older one where the change was additive; else say why it cannot be read.

        An index of the current layout is only read here: opening it never waits for a running writer.
        """
        if _schema_version(self._db) == SCHEMA_VERSION:
            return None
        with _transaction(self._db, "BEGIN IMMEDIATE"):
            version = _schema_version(self._db)
            if version is not None and version > SCHEMA_VERSION:
                return self._incompatible(version, "a newer version of rag")
            if version is not None and version < SCHEMA_VERSION:
                steps = range(version, SCHEMA_VERSION)
                if any(step not in MIGRATIONS for step in steps):
                    return self._incompatible(version, "an older version of rag")
                for step in steps:
                    for statement in MIGRATIONS[step]:
                        self._db.execute(statement)
                self._db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))
            for statement in _SCHEMA.strip().split(";"):
                if statement.strip():
                    self._db.execute(statement)
        return None

    def _incompatible(self, version: int, maker: str) -> str:
        return (
            f"the index in {self.index_dir} has layout version {version}, made by {maker}; this version reads "
            f"layout {SCHEMA_VERSION}: rebuild it with `rag index --rebuild`"
        )

    def _usable(self) -> None:
        if self._schema_error:
            raise StoreError(self._schema_error)

    def _reset(self) -> None:
        """Start an index of an unreadable layout afresh (only for a rebuild, which re-embeds everything)."""
        with self._lock:
            self._db.close()
            for suffix in ("", "-wal", "-shm"):
                (self.index_dir / (DB_NAME + suffix)).unlink(missing_ok=True)
            _remove_stale_artifacts(self.index_dir, 0)
            self._db = _connect(self.index_dir)
            self._schema_error = self._prepare_schema()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def index_lock(self, wait: bool = True, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the index for one writer, across processes and threads (an flock on ``index.lock``).

        When another run holds it: with ``wait``, tell ``on_wait`` and block until it ends; without,
        raise :class:`IndexBusyError`. The lock file holds the owner's pid, for those messages.
        """
        path = self.index_dir / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise StoreError(f"cannot lock the index in {self.index_dir}: {exc}") from exc
                busy = f"another index run (pid {_lock_owner(fd)}) is in progress"
                if not wait:
                    raise IndexBusyError(busy) from None
                if on_wait is not None:
                    on_wait(f"{busy}; waiting…")
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(fd)  # releases the lock

    # ---- metadata -------------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        self._usable()
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
        self._usable()
        with self._lock:
            rows = self._db.execute(query + " ORDER BY source", args).fetchall()
        return [DocumentRecord(*row) for row in rows]

    def counts(self) -> tuple[int, int]:
        self._usable()
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
        """Bytes of the index; hidden work folders (a model export in progress) do not count."""
        total = 0
        for folder, subfolders, files in os.walk(self.index_dir):
            subfolders[:] = [name for name in subfolders if not name.startswith(".")]
            for name in files:
                try:
                    total += os.stat(os.path.join(folder, name)).st_size
                except OSError:  # removed meanwhile (an older generation)
                    pass
        return total

    def load_artifacts(self) -> SearchArtifacts | None:
        """The committed generation's search structures, or None for an empty index."""
        while True:
            generation = self.generation
            if generation == 0:
                return None
            try:
                return self._load_generation(generation)
            except StoreError:
                # A checkpoint may have committed a newer generation and removed this one's files meanwhile.
                if self.generation == generation:
                    raise

    def _load_generation(self, generation: int) -> SearchArtifacts:
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
    def writer(
        self, signature: dict[str, str], exact_search_max_chunks: int, rebuild: bool = False
    ) -> Iterator[StoreWriter]:
        """A change as transactions: all of it is committed with fresh search files, or none of it since the
        last :meth:`StoreWriter.checkpoint`. Hold :meth:`index_lock` around it."""
        if rebuild and self._schema_error:
            self._reset()
        self._usable()
        db = _connect(self.index_dir)
        try:
            db.execute("BEGIN IMMEDIATE")
            writer = StoreWriter(db, self.index_dir, signature, exact_search_max_chunks)
            if rebuild:
                writer.clear()
            try:
                yield writer
                writer.commit()
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                _remove_stale_artifacts(self.index_dir, int(_meta_value(db, "generation") or 0))
                raise
        except sqlite3.OperationalError as exc:  # e.g. "database is locked" by a program outside rag
            raise StoreError(f"cannot write the index in {self.index_dir}: {exc}") from exc
        finally:
            db.close()

    def vectors_by_source(self) -> dict[str, np.ndarray]:
        """Every document's chunk vectors in chunk order (for tests and audits of vector reuse)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT d.source, c.vector FROM chunks c JOIN documents d ON d.id = c.document_id ORDER BY c.id"
            ).fetchall()
        parts: dict[str, list[np.ndarray]] = {}
        for source, blob in rows:
            parts.setdefault(source, []).append(np.frombuffer(blob, dtype=np.float32))
        return {source: np.stack(vectors) for source, vectors in parts.items()}

    def chunk_id_limit(self) -> int:
        """The highest chunk id so far (chunks added later get higher ids)."""
        with self._lock:
            return int(self._db.execute("SELECT COALESCE(MAX(id), 0) FROM chunks").fetchone()[0])

    def spans_after(self, chunk_id: int) -> list[tuple[str, Span]]:
        """(document title, span) of the chunks added after ``chunk_id``, in id order."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT d.title, {_SPAN_SELECT} FROM chunks c JOIN documents d ON d.id = c.document_id "
                "WHERE c.id > ? ORDER BY c.id",
                (chunk_id,),
            ).fetchall()
        return [(title, Span(**dict(zip(_SPAN_COLUMNS, rest)))) for title, *rest in rows]


class StoreWriter:
    """Writes inside one open transaction; :meth:`checkpoint` commits what is written so far."""

    def __init__(
        self, db: sqlite3.Connection, index_dir: Path, signature: dict[str, str], exact_search_max_chunks: int
    ):
        self._db = db
        self._index_dir = index_dir
        self._signature = signature
        self._exact_search_max_chunks = exact_search_max_chunks
        self.changed = False
        self.artifact_seconds = 0.0  # what writing the search files took at the last commit

    def commit(self) -> None:
        """Commit the transaction with search files for the new generation (when anything changed)."""
        meta = {**self._signature, "schema": str(SCHEMA_VERSION)}
        generation = int(_meta_value(self._db, "generation") or 0)
        if self.changed:
            generation += 1
            started = time.perf_counter()
            kind = _write_artifacts(
                self._db, self._index_dir, generation, int(self._signature["embed_dim"]), self._exact_search_max_chunks
            )
            self.artifact_seconds = time.perf_counter() - started
            meta |= {"generation": str(generation), "dense_index": kind, "indexed_at": str(time.time())}
        self._db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", list(meta.items()))
        self._db.execute("COMMIT")
        self.changed = False
        _remove_stale_artifacts(self._index_dir, generation)

    def checkpoint(self) -> None:
        """Commit what is written so far as a searchable generation and go on writing in a new transaction."""
        self.commit()
        self._db.execute("BEGIN IMMEDIATE")

    def remove_root(self, root: str) -> None:
        self._db.execute("DELETE FROM documents WHERE root = ?", (root,))
        self.changed = True

    def roots(self) -> dict[str, int]:
        """Every folder documents were indexed from, with its document count."""
        return dict(self._db.execute("SELECT root, COUNT(*) FROM documents GROUP BY root").fetchall())

    def shared_documents(self, root: str, other_root: str) -> int:
        """Documents of ``root`` found under ``other_root`` at the same relative path with the same content."""
        return self._db.execute(
            "SELECT COUNT(*) FROM documents a JOIN documents b ON a.source = b.source AND "
            "a.content_hash = b.content_hash WHERE a.root = ? AND b.root = ?",
            (root, other_root),
        ).fetchone()[0]

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


def _connect(index_dir: Path) -> sqlite3.Connection:
    db = sqlite3.connect(index_dir / DB_NAME, check_same_thread=False, isolation_level=None, timeout=60)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA synchronous=FULL")
    # A big index run leaves a WAL as large as its writes; cut it back after each checkpoint.
    db.execute("PRAGMA journal_size_limit=67108864")
    return db


def _meta_value(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def _schema_version(db: sqlite3.Connection) -> int | None:
    """The stored layout version; None for a new index."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone():
        return None
    value = _meta_value(db, "schema")
    return int(value) if value is not None and value.isdigit() else None


def _lock_owner(fd: int) -> str:
    """The pid the lock's holder wrote; it may not have written it yet."""
    for _ in range(50):
        owner = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if owner:
            return owner
        time.sleep(0.01)
    return "unknown"


@contextmanager
def _transaction(db: sqlite3.Connection, begin: str = "BEGIN") -> Iterator[None]:
    db.execute(begin)
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
