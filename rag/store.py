"""The durable index: SQLite holds documents, chunks and their vectors; FAISS and BM25 are derived from it.

Every change is one SQLite transaction (a long index run commits in checkpoints) that bumps the
generation number; it is searchable as soon as it commits. The dense index is a base file plus the
chunks added since, read from SQLite (rag/dense_index.py); the lexical index (tantivy) is brought up
to date from a log that the same transaction writes (rag/lexical_index.py). A crash at any point
leaves the last committed generation whole and loadable, and the next writer or reader completes what
the crash interrupted. One writer at a time, across processes: the index lock (``Store.index_lock``).
Nothing is ever unpickled.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath

import numpy as np

from rag import dense_index, lexical_index
from rag.dense_index import DenseSnapshot, UnitSnapshot
from rag.errors import UserError
from rag.lexical_index import LexicalIndex
from rag.passage import Passage, Span

# The layout of the SQLite store. Bump it with every change; an additive change (a new table, index or
# nullable column) gets a migration below, anything else makes older indexes need `rag index --rebuild`.
SCHEMA_VERSION = 5
# Chunk ids whose lexical (tantivy) entry may differ from SQLite: written by triggers in the changing
# transaction, emptied once tantivy has committed them (rag/lexical_index.py).
_LEXICAL_LOG = [
    "CREATE TABLE IF NOT EXISTS lexical_log (chunk_id INTEGER PRIMARY KEY)",
    "CREATE TRIGGER IF NOT EXISTS chunks_logged_insert AFTER INSERT ON chunks "
    "BEGIN INSERT OR IGNORE INTO lexical_log(chunk_id) VALUES (new.id); END",
    "CREATE TRIGGER IF NOT EXISTS chunks_logged_delete AFTER DELETE ON chunks "
    "BEGIN INSERT OR IGNORE INTO lexical_log(chunk_id) VALUES (old.id); END",
]
# Finds what the next index run must add without reading every chunk row.
_CHUNKS_WITHOUT_UNIT_VECTORS = "CREATE INDEX IF NOT EXISTS chunks_without_unit_vectors ON chunks(id) WHERE unit_vectors IS NULL"
# version -> statements that bring an index of that version to the next one, without re-embedding.
MIGRATIONS: dict[int, list[str]] = {
    1: ["CREATE INDEX IF NOT EXISTS documents_by_source ON documents(source)"],
    # Version 2 kept whole FAISS and bm25s files per generation: its FAISS file becomes the dense base,
    # and every chunk is logged so the first catch-up builds the tantivy index.
    2: [
        *_LEXICAL_LOG,
        "INSERT OR IGNORE INTO lexical_log(chunk_id) SELECT id FROM chunks",
        "INSERT OR REPLACE INTO meta(key, value) SELECT 'dense_base', value FROM meta WHERE key = 'generation'",
    ],
    3: ["ALTER TABLE chunks ADD COLUMN code TEXT NOT NULL DEFAULT ''"],
    # The answer units' vectors: NULL until the next index run computes them (rag/ingest.py); answering embeds
    # the units of a chunk without them meanwhile.
    4: ["ALTER TABLE chunks ADD COLUMN unit_vectors BLOB", _CHUNKS_WITHOUT_UNIT_VECTORS],
}
DB_NAME = "store.sqlite3"
LOCK_NAME = "index.lock"

_TABLES = """
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
    vector BLOB NOT NULL,
    unit_vectors BLOB
);
CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks(document_id);
CREATE INDEX IF NOT EXISTS documents_by_content ON documents(content_hash);
CREATE INDEX IF NOT EXISTS documents_by_source ON documents(source)
"""
_SCHEMA = [statement for statement in _TABLES.split(";") if statement.strip()] + _LEXICAL_LOG + [_CHUNKS_WITHOUT_UNIT_VECTORS]
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
    unit_vectors: Sequence[bytes | None] = ()  # per chunk, packed by pack_unit_vectors


def pack_unit_vectors(keys: Sequence[bytes], vectors: np.ndarray) -> bytes:
    """A chunk's answer-unit vectors, compactly: per vector its 8-byte text key, a float32 scale and int8
    components (a quarter of float32; cosines move by ~1e-3, less than the int8 model's own rounding). A chunk
    with no units (a line of only heading marks and words) packs to a count of 0."""
    if not keys:
        return np.uint32(0).tobytes()
    vectors = np.asarray(vectors, dtype=np.float32).reshape(len(keys), -1)
    scales = np.maximum(np.abs(vectors).max(axis=1, initial=0.0), 1e-12) / 127
    quantized = np.rint(vectors / scales[:, None]).astype(np.int8)
    return np.uint32(len(keys)).tobytes() + b"".join(keys) + scales.astype(np.float32).tobytes() + quantized.tobytes()


def unpack_unit_vectors(blob: bytes) -> dict[bytes, np.ndarray]:
    """Text key -> float32 vector, from :func:`pack_unit_vectors`."""
    count = int(np.frombuffer(blob, dtype=np.uint32, count=1)[0])
    if not count:
        return {}
    keys_end = 4 + 8 * count
    scales = np.frombuffer(blob, dtype=np.float32, count=count, offset=keys_end)
    quantized = np.frombuffer(blob, dtype=np.int8, offset=keys_end + 4 * count).reshape(count, -1)
    vectors = quantized.astype(np.float32) * scales[:, None]
    return {blob[4 + 8 * i : 12 + 8 * i]: vectors[i] for i in range(count)}


def unpacked_unit_rows(rows: Iterable[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
    """(chunk id, packed unit vectors) rows as one row per unit: (owning chunk ids, float32 vectors)."""
    owners: list[int] = []
    vectors: list[np.ndarray] = []
    for chunk_id, blob in rows:
        unpacked = list(unpack_unit_vectors(blob).values())
        owners += [int(chunk_id)] * len(unpacked)
        vectors += unpacked
    matrix = np.stack(vectors) if vectors else np.zeros((0, 0), dtype=np.float32)
    return np.asarray(owners, dtype=np.int64), matrix


def content_key(content_hash: str, source: str) -> tuple[str, str]:
    """Same bytes under the same suffix load, chunk and embed the same (loaders go by suffix)."""
    return content_hash, PurePosixPath(source).suffix.lower()


@dataclass
class SearchArtifacts:
    """What a query needs in memory for one committed generation: the dense snapshot and the lexical
    index handle (no chunk text), and the answer units' index. ``lexical_behind``: tantivy had not yet applied
    that generation."""

    generation: int
    dense: DenseSnapshot
    lexical: LexicalIndex | None
    lexical_behind: bool
    units: UnitSnapshot

    def __len__(self) -> int:
        return len(self.dense)

    @property
    def dense_kind(self) -> str:
        return self.dense.kind

    @property
    def chunk_ids(self) -> np.ndarray:
        return self.dense.chunk_ids

    def hybrid_search(self, vector: np.ndarray, query: str, k: int, within: Collection[int] | None) -> None:
        """None: the retriever fuses FAISS and tantivy rankings itself (rag/retrieve.py)."""
        return None


class Store:
    """One index folder. Reads are safe from many threads; one writer at a time (the index lock)."""

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        self._lexical: LexicalIndex | None = None
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
            for statement in _SCHEMA:
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
            shutil.rmtree(self.index_dir / lexical_index.LEXICAL_DIR, ignore_errors=True)
            self._lexical = None
            self._db = _connect(self.index_dir)
            self._schema_error = self._prepare_schema()

    def close(self) -> None:
        self._db.close()

    def drop(self) -> None:
        """Delete this index (its collection was removed): the index folder goes, with everything in it."""
        self.close()
        shutil.rmtree(self.index_dir, ignore_errors=True)

    def index_lock(self, wait: bool = True, on_wait: Callable[[str], None] | None = None) -> AbstractContextManager[None]:
        """Hold the index for one writer, across processes and threads: see :func:`index_lock`."""
        return index_lock(self.index_dir, wait, on_wait)

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

    def document_text(self, source: str, root: str | None = None) -> str:
        """A document's stored text; ``root`` picks the folder when the same file name is indexed from two
        (without it, the first by folder name)."""
        query, args = "SELECT text FROM documents WHERE source = ?", [source]
        if root is not None:
            query += " AND root = ?"
            args.append(root)
        with self._lock:
            row = self._db.execute(query + " ORDER BY root LIMIT 1", args).fetchone()
        if row is None:
            raise StoreError(f"no indexed document {source!r}")
        return row[0]

    def document_tags(self) -> dict[tuple[str, str], list[str]]:
        """Front matter ``tags`` of every document that has some, by (root, source)."""
        with self._lock:
            rows = self._db.execute("SELECT root, source, metadata FROM documents").fetchall()
        tags = {}
        for root, source, metadata in rows:
            value = json.loads(metadata).get("tags", "")
            if value:
                tags[(root, source)] = [tag.strip() for tag in str(value).split(",") if tag.strip()]
        return tags

    def chunk_ids_of(self, documents: Sequence[tuple[str, str]]) -> list[int]:
        """The chunk ids of the documents given as (root, source) pairs."""
        with self._lock:
            return [row[0] for root, source in documents for row in self._db.execute(
                "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.root = ? AND d.source = ?",
                (root, source))]

    def vectors_of(self, chunk_ids: Collection[int]) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, their stored vectors) for the chunks still in the store, in id order."""
        with self._lock:
            rows = self._rows_by_id("vector", chunk_ids)
        ids = np.asarray([row[0] for row in rows], dtype=np.int64)
        if not rows:
            return ids, np.zeros((0, 0), dtype=np.float32)
        vectors = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32).reshape(len(rows), -1)
        return ids, vectors

    def document_content(self, root: str, source: str) -> DocumentContent:
        """A document's stored content with its chunks and vectors: what `rag migrate` copies to another store."""
        with self._lock:
            row = self._db.execute("SELECT id, title, metadata, text FROM documents WHERE root = ? AND source = ?",
                                   (root, source)).fetchone()
            if row is None:
                raise StoreError(f"no indexed document {source!r} in {root}")
            return _document_content(self._db, *row)

    def unit_vectors(self, chunk_ids: Collection[int]) -> dict[bytes, np.ndarray]:
        """The stored answer-unit vectors of these chunks, by text key (rag/units.py ``text_key``); chunks indexed
        before they were stored have none (the answer layer embeds their units)."""
        wanted = sorted({int(i) for i in chunk_ids})
        if not wanted:
            return {}
        with self._lock:
            blobs = self._db.execute(
                f"SELECT unit_vectors FROM chunks WHERE id IN ({','.join('?' * len(wanted))}) "
                "AND unit_vectors IS NOT NULL", wanted
            ).fetchall()
        return {key: vector for (blob,) in blobs for key, vector in unpack_unit_vectors(blob).items()}

    def chunk_root(self, chunk_id: int) -> str | None:
        """The indexed folder of a chunk's document (a passage names only its file), None once removed."""
        with self._lock:
            row = self._db.execute("SELECT d.root FROM chunks c JOIN documents d ON d.id = c.document_id "
                                   "WHERE c.id = ?", (int(chunk_id),)).fetchone()
        return row[0] if row else None

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

    def load_artifacts(self, previous: SearchArtifacts | None = None) -> SearchArtifacts | None:
        """The committed generation's search structures, or None for an empty index.

        With ``previous`` (an older snapshot of this store), its dense base is reused while no compaction
        replaced it, so picking up a change reads only the changed rows. A lexical index left behind by a
        killed run is brought up to date first, unless a writer is at work (it will do it).
        """
        self._usable()
        self._catch_up_lexical()
        while True:
            generation = self.generation
            if generation == 0:
                return None
            try:
                return self._load_generation(previous)
            except StoreError:
                # A compaction may have committed a newer generation and removed this one's base meanwhile.
                if self.generation == generation:
                    raise

    def _catch_up_lexical(self) -> None:
        with self._lock:
            behind = lexical_index.pending(self._db)
        if not behind and (self.index_dir / lexical_index.LEXICAL_DIR).exists():
            return
        try:
            with self.index_lock(wait=False):
                db = _connect(self.index_dir)
                try:
                    lexical_index.catch_up(db, self.index_dir)
                finally:
                    db.close()
        except IndexBusyError:
            pass

    def _load_generation(self, previous: SearchArtifacts | None) -> SearchArtifacts:
        try:
            with self._lock, _transaction(self._db):  # one read snapshot: meta, ids and vectors agree
                generation = int(_meta_value(self._db, "generation") or 0)
                base_generation = int(_meta_value(self._db, "dense_base") or 0)
                dim = int(_meta_value(self._db, "embed_dim") or 0)
                reused = previous.dense.base if previous is not None else None
                if reused is not None and reused.generation != base_generation:
                    reused = None
                base_ids = reused.chunk_ids if reused else dense_index.base_row_ids(self.index_dir, base_generation)
                last = int(base_ids[-1]) if len(base_ids) else 0
                live = np.fromiter(
                    (row[0] for row in self._db.execute("SELECT id FROM chunks WHERE id <= ? ORDER BY id", (last,))),
                    dtype=np.int64,
                )
                delta = self._db.execute("SELECT id, vector FROM chunks WHERE id > ? ORDER BY id", (last,)).fetchall()
                behind = lexical_index.pending(self._db)
                unit_base = previous.units.rows.base if previous is not None else None
                if unit_base is None or unit_base.generation != base_generation:
                    unit_base = _load_unit_base(self.index_dir, base_generation)
                unit_delta = self._unit_delta(live, last, unit_base)
            base = reused or (dense_index.load_base(self.index_dir, base_generation) if base_generation else None)
            if self._lexical is None:
                self._lexical = lexical_index.open_lexical(self.index_dir)
            elif previous is None or previous.generation != generation or previous.lexical_behind:
                self._lexical.refresh()
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(
                f"the index in {self.index_dir} is damaged ({exc}); rebuild it with `rag index --rebuild`"
            ) from exc
        tombstones = np.flatnonzero(~np.isin(base_ids, live, assume_unique=True))
        delta_ids = np.asarray([row[0] for row in delta], dtype=np.int64)
        vectors = np.frombuffer(b"".join(row[1] for row in delta), dtype=np.float32).reshape(len(delta), dim)
        units = _unit_snapshot(unit_base, live, unit_delta, dim)
        return SearchArtifacts(generation, DenseSnapshot(base, tombstones, delta_ids, vectors), self._lexical, behind,
                               units)

    def _unit_delta(self, live: np.ndarray, last: int, unit_base: dense_index.DenseBase | None) -> list[tuple[int, bytes]]:
        """(chunk id, packed unit vectors) of the live chunks whose units the unit base lacks: those added after
        it (ids above ``last``) and older ones given units since (an index of layout 4, or a base written before
        unit search)."""
        rows = self._db.execute("SELECT id, unit_vectors FROM chunks WHERE id > ? AND unit_vectors IS NOT NULL "
                                "ORDER BY id", (last,)).fetchall()
        without = {row[0] for row in self._db.execute(
            "SELECT id FROM chunks WHERE id <= ? AND unit_vectors IS NULL", (last,))}
        covered = unit_base.chunk_ids if unit_base is not None else np.zeros(0, dtype=np.int64)
        late = [int(i) for i in live[~np.isin(live, covered) & (live <= last)] if int(i) not in without]
        return rows + self._rows_by_id("unit_vectors", late)

    def unit_rows(self, chunk_ids: Collection[int]) -> tuple[np.ndarray, np.ndarray]:
        """(owning chunk id, vector) of every stored answer-unit vector of these chunks: a filtered unit search."""
        with self._lock:
            return unpacked_unit_rows(self._rows_by_id("unit_vectors", chunk_ids))

    def _rows_by_id(self, column: str, chunk_ids: Collection[int]) -> list[tuple[int, bytes]]:
        """(chunk id, ``column``) of the chunks still in the store that have it, in id order (caller holds the
        lock when other threads may write)."""
        wanted = sorted({int(i) for i in chunk_ids})
        rows: list[tuple[int, bytes]] = []
        for start in range(0, len(wanted), 900):  # SQLite's bound-parameter limit
            batch = wanted[start : start + 900]
            rows += self._db.execute(f"SELECT id, {column} FROM chunks WHERE id IN ({','.join('?' * len(batch))}) "
                                     f"AND {column} IS NOT NULL ORDER BY id", batch).fetchall()
        return rows

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
                _remove_stale_artifacts(self.index_dir, int(_meta_value(db, "dense_base") or 0))
                raise
        except sqlite3.OperationalError as exc:  # e.g. "database is locked" by a program outside rag
            raise StoreError(f"cannot write the index in {self.index_dir}: {exc}") from exc
        finally:
            db.close()

    def compact(self, exact_search_max_chunks: int) -> None:
        """Write a fresh dense base now (what a full rebuild would search); hold :meth:`index_lock` around it."""
        self._usable()
        db = _connect(self.index_dir)
        try:
            _compact(db, self.index_dir, int(self.meta()["embed_dim"]), exact_search_max_chunks, force=True)
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
        """Commit the transaction as a new generation (when anything changed): searchable from then on.

        Then bring the lexical index up to date and, when the dense delta or its tombstones have grown
        past their share, write a new dense base (a compaction, committed as one more generation): also
        when nothing changed, so the next run completes what a killed one left."""
        meta = {**self._signature, "schema": str(SCHEMA_VERSION)}
        if self.changed:
            generation = int(_meta_value(self._db, "generation") or 0) + 1
            meta |= {"generation": str(generation), "indexed_at": str(time.time())}
        self._db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", list(meta.items()))
        self._db.execute("COMMIT")
        self.changed = False
        # Also with nothing changed: this completes what a killed run left (a log entry, a due compaction).
        started = time.perf_counter()
        lexical_index.catch_up(self._db, self._index_dir)
        dim = int(self._signature["embed_dim"])
        if not _compact(self._db, self._index_dir, dim, self._exact_search_max_chunks, force=False):
            _remove_stale_artifacts(self._index_dir, int(_meta_value(self._db, "dense_base") or 0))
        self.artifact_seconds = time.perf_counter() - started

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
        self._db.execute("DELETE FROM meta WHERE key NOT IN ('generation', 'dense_base')")
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
        document_id, _, title, metadata, text = match
        return _document_content(self._db, document_id, title, metadata, text)

    def chunks_without_unit_vectors(self, limit: int) -> list[Passage]:
        """Up to ``limit`` chunks whose answer-unit vectors are not stored yet (indexed by a layout before 5)."""
        rows = self._db.execute(
            f"SELECT c.id, d.source, d.title, {_SPAN_SELECT} FROM chunks c JOIN documents d ON d.id = c.document_id "
            "WHERE c.unit_vectors IS NULL ORDER BY c.id LIMIT ?", (limit,)
        ).fetchall()
        return [Passage(**dict(zip(_SPAN_COLUMNS, span)), id=chunk_id, source=source, title=title)
                for chunk_id, source, title, *span in rows]

    def set_unit_vectors(self, blobs: Mapping[int, bytes]) -> None:
        """Store chunks' packed answer-unit vectors (:func:`pack_unit_vectors`)."""
        self._db.executemany("UPDATE chunks SET unit_vectors = ? WHERE id = ?", [(b, i) for i, b in blobs.items()])
        self.changed = True

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
        unit_vectors: Sequence[bytes | None] = (),
    ) -> None:
        """Insert or replace one document with its chunks, their vectors and (packed, per chunk) their answer
        units' vectors; chunks given none get theirs at the next index run."""
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
        units = list(unit_vectors) or [None] * len(chunks)
        self._db.executemany(
            f"INSERT INTO chunks(document_id, ordinal, {columns}, vector, unit_vectors) "
            f"VALUES (?, ?, {', '.join('?' * len(_SPAN_COLUMNS))}, ?, ?)",
            [
                (document_id, ordinal, *(getattr(chunk, field) for field in _SPAN_COLUMNS), vectors[ordinal].tobytes(),
                 units[ordinal])
                for ordinal, chunk in enumerate(chunks)
            ],
        )


@contextmanager
def index_lock(index_dir: Path, wait: bool = True, on_wait: Callable[[str], None] | None = None,
               name: str = LOCK_NAME) -> Iterator[None]:
    """Hold the index in ``index_dir`` for one writer, across processes and threads (an flock on the file ``name``).

    When another run holds it: with ``wait``, tell ``on_wait`` and block until it ends; without,
    raise :class:`IndexBusyError`. The lock file holds the owner's pid, for those messages.
    """
    path = index_dir / name
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StoreError(f"cannot lock the index in {index_dir}: {exc}") from exc
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


def _document_content(db: sqlite3.Connection, document_id: int, title: str, metadata: str, text: str) -> DocumentContent:
    chunks = db.execute(
        f"SELECT {_SPAN_SELECT}, c.unit_vectors, c.vector FROM chunks c WHERE c.document_id = ? ORDER BY c.ordinal",
        (document_id,),
    ).fetchall()
    vectors = np.frombuffer(b"".join(row[-1] for row in chunks), dtype=np.float32).reshape(len(chunks), -1)
    spans = [Span(**dict(zip(_SPAN_COLUMNS, row[:-2]))) for row in chunks]
    return DocumentContent(title, json.loads(metadata), text, spans, vectors, [row[-2] for row in chunks])


def _compact(db: sqlite3.Connection, index_dir: Path, dim: int, exact_search_max_chunks: int, force: bool) -> bool:
    """Write a new dense base of every stored vector when due (or ``force``d), as one more generation.
    Readers keep answering from the previous generation meanwhile; a kill leaves that one in place."""
    db.execute("BEGIN IMMEDIATE")
    try:
        base_generation = int(_meta_value(db, "dense_base") or 0)
        base_ids = dense_index.base_row_ids(index_dir, base_generation)
        last = int(base_ids[-1]) if len(base_ids) else 0
        kept = db.execute("SELECT COUNT(*) FROM chunks WHERE id <= ?", (last,)).fetchone()[0]
        delta = db.execute("SELECT COUNT(*) FROM chunks WHERE id > ?", (last,)).fetchone()[0]
        due = dense_index.compaction_due(len(base_ids), len(base_ids) - kept, delta, exact_search_max_chunks)
        if not (force or due or _unit_base_behind(db, index_dir, base_generation, last, kept)):
            db.execute("ROLLBACK")
            return False
        generation = int(_meta_value(db, "generation") or 0) + 1
        chunk_ids, vectors = _all_vectors(db, dim)
        kind = dense_index.write_base(index_dir, generation, chunk_ids, vectors, exact_search_max_chunks)
        del vectors
        dense_index.write_unit_base(index_dir, generation, _all_unit_vectors(db), dim)
        meta = {"generation": generation, "dense_base": generation, "dense_index": kind}
        db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", [(k, str(v)) for k, v in meta.items()])
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    _remove_stale_artifacts(index_dir, generation)
    return True


def _all_vectors(db: sqlite3.Connection, dim: int, batch: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Every chunk id and vector in the store, in id order."""
    chunk_ids: list[int] = []
    parts: list[bytes] = []
    cursor = db.execute("SELECT id, vector FROM chunks ORDER BY id")
    while rows := cursor.fetchmany(batch):
        chunk_ids.extend(row[0] for row in rows)
        parts.append(b"".join(row[1] for row in rows))
    vectors = np.frombuffer(b"".join(parts), dtype=np.float32).reshape(len(chunk_ids), dim)
    return np.asarray(chunk_ids, dtype=np.int64), vectors


def _all_unit_vectors(db: sqlite3.Connection, batch: int = 4096) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every stored answer-unit vector with its owning chunk id, in chunk id order, ``batch`` chunks at a time."""
    cursor = db.execute("SELECT id, unit_vectors FROM chunks WHERE unit_vectors IS NOT NULL ORDER BY id")
    while rows := cursor.fetchmany(batch):
        yield unpacked_unit_rows(rows)


def _unit_base_behind(db: sqlite3.Connection, index_dir: Path, base_generation: int, last: int, kept: int) -> bool:
    """Whether the unit base is missing (a base written before unit search) or lacks the units of more than
    ``COMPACT_SHARE`` of the base's live chunks (given theirs after it was written: an index of layout 4)."""
    if not base_generation:
        return False
    if not dense_index.has_unit_base(index_dir, base_generation):
        return True
    owners = np.load(dense_index.base_paths(index_dir, base_generation)["unitrows"], mmap_mode="r")
    without = db.execute("SELECT COUNT(*) FROM chunks WHERE id <= ? AND unit_vectors IS NULL", (last,)).fetchone()[0]
    late = kept - without - len(np.unique(owners))
    return late > dense_index.COMPACT_SHARE * kept


def _load_unit_base(index_dir: Path, base_generation: int) -> dense_index.DenseBase | None:
    if not base_generation or not dense_index.has_unit_base(index_dir, base_generation):
        return None
    return dense_index.load_unit_base(index_dir, base_generation)


def _unit_snapshot(base: dense_index.DenseBase | None, live: np.ndarray, delta: list[tuple[int, bytes]],
                   dim: int) -> UnitSnapshot:
    """The unit index of a generation: base rows of removed chunks are tombstones, ``delta`` is searched exactly."""
    tombstones = np.flatnonzero(~np.isin(base.chunk_ids, live)) if base is not None else np.zeros(0, dtype=np.int64)
    owners, vectors = unpacked_unit_rows(delta)
    return UnitSnapshot(DenseSnapshot(base, tombstones, owners, vectors.reshape(len(owners), dim)))


def _chunk_contexts(db: sqlite3.Connection) -> list[tuple[int, str, str, str, str]]:
    """(chunk id, source, title, section, text) of every chunk, in index row order."""
    return db.execute(
        "SELECT c.id, d.source, d.title, c.section, c.text FROM chunks c JOIN documents d ON d.id = c.document_id "
        "ORDER BY c.id"
    ).fetchall()


def _remove_paths(paths: Iterable[Path]) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()


def _remove_stale_artifacts(index_dir: Path, keep_base: int) -> None:
    """Dense base files other than ``keep_base``'s (older, or a compaction cut short) and the bm25s files of
    layout 2; readers holding an older base keep it in memory."""
    keep = {path.name for path in dense_index.base_paths(index_dir, keep_base).values()}
    for path in index_dir.iterdir():
        stem = path.name.split("-", 1)[0]
        if stem in {"dense", "rows", "units", "unitrows", "bm25"} and path.name not in keep:
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
