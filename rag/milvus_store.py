"""The index in Milvus (``store = "milvus"``): a Milvus cluster or a milvus-lite file holds everything.

Four collections per index, named ``<milvus_collection_prefix>_…``:

- ``chunks``: one row per chunk: its span and document fields as scalars, the dense vector, and ``terms``
  (the chunk's BM25 terms, stemmed by rag as for the local index) from which a BM25 ``Function`` makes a
  sparse vector inside Milvus, so dense, BM25 and hybrid (``hybrid_search`` + ``WeightedRanker``) search
  all run in Milvus;
- ``units``: one row per answer unit (sentence, table row, list item: rag/units.py) with its owning chunk's id,
  its vector (from the chunk's packed unit vectors: nothing is embedded twice) and the chunk's doc, root and
  generation, so the same generations and cleanups govern it; unit search finds the chunk holding the one
  sentence a question paraphrases (rag/dense_index.py says why). A collection rather than a field of ``chunks``:
  Milvus searches one vector per row, and its rows are filtered and cleaned up like the chunks'. Its cost, measured
  on corpus/ in milvus-lite: 1.6 KB per unit (float32 vector and scalars; milvus-lite has no float16 vectors),
  about 1 GB per 100k chunks at corpus/'s 6 units a chunk;
- ``documents``: the incremental state (root, source, size, mtime, content hash, title, metadata) and the
  document text, split into parts (a VARCHAR holds 64 KB);
- ``meta``: the index signature, the committed generation, the next chunk id, and pending cleanups.

Milvus has no transactions, so a change is made visible by generations: every row carries the generation
that wrote it, and readers see only rows up to the committed one. A writer writes its rows with the next
generation, then commits by writing the new generation and the list of documents it replaced or removed
(one upsert), then deletes those documents' older rows and the list. Readers leave listed documents out
until then, and the next writer finishes a cleanup a killed run left, and deletes rows of a generation
that never committed. A second machine pointed at the same cluster sees the same index. One writer at a
time is enforced by the index lock in ``index_dir`` (on one machine; see README "Running on a cluster").
Milvus (milvus-lite) needs a vector field in every collection, so ``documents`` and ``meta`` carry an unused
2-dimensional one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.dense_index import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M, UNIT_ROWS_PER_CHUNK, best_per_chunk
from rag.lexical_index import chunk_text, index_tokens, query_tokens
from rag.passage import Passage, Span
from rag.retrieve import FUSION_DEPTH, FUSION_WEIGHTS
from rag.store import (
    DocumentContent, DocumentRecord, IndexMismatchError, StoreError, content_key, index_lock, unpack_unit_vectors,
    unpacked_unit_rows,
)
from rag.text import one_line

# Dense and BM25 in Milvus' WeightedRanker (issue 12: hybrid search runs inside Milvus), weighted against each other
# as the local fusion weighs them (rag.retrieve.FUSION_WEIGHTS). The local index adds the best answer unit's score
# to these two; here that lost nDCG@10 on milvus-lite (bench/milvus.py, 30 queries: 0.68 -> 0.62).
RANKER_WEIGHTS = (FUSION_WEIGHTS["dense"] / (FUSION_WEIGHTS["dense"] + FUSION_WEIGHTS["bm25"]),
                  FUSION_WEIGHTS["bm25"] / (FUSION_WEIGHTS["dense"] + FUSION_WEIGHTS["bm25"]))

VARCHAR_MAX = 65_535  # bytes
TEXT_PART_CHARS = 16_000  # at most 4 bytes a character in UTF-8: a part fits a VARCHAR
BATCH = 512  # rows per insert and per query page
UNUSED = [0.0, 0.0]
SPAN_FIELDS = ("text", "start", "end", "section", "page", "code")
CHUNK_FIELDS = ("id", "doc", "gen", "root", "source", "title", "ordinal", *SPAN_FIELDS)
DOCUMENT_FIELDS = ("key", "doc", "gen", "part", "root", "source", "content_hash", "size", "mtime_ns", "title",
                   "metadata", "chunk_count", "indexed_at")
CONNECT_TIMEOUT_S = 10.0


class MilvusUnavailableError(StoreError):
    """Milvus cannot be reached or refused a request; the message names the setting to check."""


def _pymilvus():
    # Failures reach the user as one line (MilvusUnavailableError), not as the client's own logs: pymilvus logs
    # each failed call with its traceback, gRPC's core each dropped connection.
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    try:
        import pymilvus
    except ImportError:
        raise StoreError('store = "milvus" needs pymilvus: pip install -e ".[milvus]"') from None
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    return pymilvus


def document_hash(root: str, source: str) -> str:
    """One indexed file's identity inside Milvus (filters compare one short string instead of two paths)."""
    return hashlib.sha256(f"{root}\0{source}".encode()).hexdigest()[:32]


def literal(value: object) -> str:
    """A value as a Milvus expression literal. Filters are built as text (milvus-lite has no filter templates);
    JSON string escaping is what Milvus' parser reads, so any file name is quoted safely."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    return str(int(value))


class _Milvus:
    """The client, with every call's failure turned into one line naming the setting to check."""

    def __init__(self, settings: Settings):
        uri = settings.milvus_uri
        self.lite = uri.endswith(".db")
        if self.lite:
            # milvus-lite's in-process gRPC server logs a traceback for each call it doesn't implement (pymilvus
            # then falls back); once logging is configured (Ray does) that is noise on every index run.
            logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
            Path(uri).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
            uri = str(Path(uri).expanduser().resolve())
        self.uri = uri
        self.pymilvus = _pymilvus()
        try:
            self.client = self.pymilvus.MilvusClient(uri, token=settings.milvus_token.get_secret_value(),
                                                     timeout=CONNECT_TIMEOUT_S)
        except Exception as exc:  # pymilvus raises MilvusException, grpc errors or OSError for a bad address
            raise self._failed(exc) from exc

    def _failed(self, exc: Exception) -> MilvusUnavailableError:
        reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        return MilvusUnavailableError(f"Milvus at {self.uri} (setting milvus_uri) cannot be used: {one_line(reason, 300)}")

    def __getattr__(self, name: str):
        method = getattr(self.client, name)

        def call(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except Exception as exc:
                raise self._failed(exc) from exc

        return call

    def scan(self, collection: str, expr: str, fields: Sequence[str]) -> Iterator[dict]:
        """Every row matching ``expr``, a page at a time (a plain query's result size is capped)."""
        try:
            pages = self.client.query_iterator(collection, batch_size=BATCH, filter=expr, output_fields=list(fields))
            try:
                while rows := pages.next():
                    yield from rows
            finally:
                pages.close()
        except StoreError:
            raise
        except Exception as exc:
            raise self._failed(exc) from exc

    def count(self, collection: str, expr: str) -> int:
        return int(self.query(collection, filter=expr, output_fields=["count(*)"])[0]["count(*)"])


class MilvusStore:
    """An index kept in Milvus; implements :class:`rag.stores.IndexStore`."""

    def __init__(self, settings: Settings):
        self.index_dir = Path(settings.index_dir)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self.milvus = _Milvus(settings)
        self.prefix = prefix = settings.milvus_collection_prefix
        self.chunk_collection = f"{prefix}_chunks"
        self.document_collection = f"{prefix}_documents"
        self.meta_collection = f"{prefix}_meta"
        self.unit_collection = f"{prefix}_units"
        self.where = f"the Milvus index {prefix}_* at {self.milvus.uri}"
        self._ensure_collections(dim=None)

    # ---- collections ----------------------------------------------------------------------

    def _ensure_collections(self, dim: int | None) -> None:
        """Create the documents and meta collections, and the chunks one once the vector width is known."""
        DataType = self.milvus.pymilvus.DataType
        existing = set(self.milvus.list_collections())
        for name, fields in ((self.meta_collection, [("key", DataType.VARCHAR), ("value", DataType.VARCHAR)]),
                             (self.document_collection, _document_schema(DataType))):
            if name not in existing:
                schema = self.milvus.create_schema(auto_id=False)
                for number, (field, kind) in enumerate(fields):
                    extra = {"max_length": VARCHAR_MAX} if kind == DataType.VARCHAR else {}
                    schema.add_field(field, kind, is_primary=number == 0, **extra)
                schema.add_field("unused", DataType.FLOAT_VECTOR, dim=len(UNUSED))
                index = self.milvus.prepare_index_params()
                index.add_index("unused", index_type="FLAT", metric_type="L2")
                self.milvus.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")
        if dim is not None and self.chunk_collection not in existing:
            self._create_chunks(dim)
        if dim is not None and self.unit_collection not in existing:
            self._create_units(dim)
            if self.chunk_collection in existing:
                self._add_units_of_existing_chunks()
        for name in existing:  # a server (milvus-lite) that restarted holds them released
            if name in self.collections:
                self.milvus.load_collection(name)

    @property
    def collections(self) -> tuple[str, ...]:
        return self.chunk_collection, self.unit_collection, self.document_collection, self.meta_collection

    @property
    def row_collections(self) -> tuple[str, ...]:
        """The collections whose rows carry a generation (see the module docstring)."""
        return self.chunk_collection, self.unit_collection, self.document_collection

    def _create_units(self, dim: int) -> None:
        DataType = self.milvus.pymilvus.DataType
        schema = self.milvus.create_schema(auto_id=True)
        schema.add_field("key", DataType.INT64, is_primary=True)
        for field in ("chunk", "gen"):
            schema.add_field(field, DataType.INT64)
        for field in ("doc", "root"):
            schema.add_field(field, DataType.VARCHAR, max_length=VARCHAR_MAX)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
        index = self.milvus.prepare_index_params()
        index.add_index("dense", index_type="HNSW", metric_type="IP",
                        params={"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION})
        self.milvus.create_collection(self.unit_collection, schema=schema, index_params=index,
                                      consistency_level="Strong")

    def _add_units_of_existing_chunks(self) -> None:
        """An index written before the units collection existed: its chunks' stored unit vectors become unit rows
        (of the chunks' own generations, so they are visible exactly when their chunks are)."""
        rows: list[dict] = []
        for chunk in self.milvus.scan(self.chunk_collection, "gen >= 0", ["id", "doc", "gen", "root", "units"]):
            rows += _unit_rows(chunk, chunk["units"])
            if len(rows) >= BATCH:
                self.milvus.insert(self.unit_collection, rows)
                rows = []
        if rows:
            self.milvus.insert(self.unit_collection, rows)

    def _create_chunks(self, dim: int) -> None:
        pymilvus = self.milvus.pymilvus
        DataType = pymilvus.DataType
        schema = self.milvus.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        for field in ("gen", "ordinal", "start", "end"):
            schema.add_field(field, DataType.INT64)
        schema.add_field("page", DataType.INT64, nullable=True)
        for field in ("doc", "root", "source", "title", "text", "section", "code"):
            schema.add_field(field, DataType.VARCHAR, max_length=VARCHAR_MAX)
        # The chunk's answer-unit vectors as rag/store.py packs them, base64 (Milvus has no bytes scalar).
        schema.add_field("units", DataType.VARCHAR, max_length=VARCHAR_MAX)
        # Terms come stemmed by rag (as for tantivy), so Milvus' standard analyzer only splits them on spaces.
        schema.add_field("terms", DataType.VARCHAR, max_length=VARCHAR_MAX, enable_analyzer=True, enable_match=True)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(pymilvus.Function(name="bm25", function_type=pymilvus.FunctionType.BM25,
                                              input_field_names=["terms"], output_field_names=["sparse"]))
        index = self.milvus.prepare_index_params()
        index.add_index("dense", index_type="HNSW", metric_type="IP",
                        params={"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION})
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        self.milvus.create_collection(self.chunk_collection, schema=schema, index_params=index,
                                      consistency_level="Strong")

    def _has_chunks(self) -> bool:
        return self.chunk_collection in self.milvus.list_collections()

    # ---- metadata -------------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        rows = self.milvus.query(self.meta_collection, filter='key != ""', output_fields=["key", "value"])
        return {row["key"]: row["value"] for row in rows}

    @property
    def generation(self) -> int:
        rows = self.milvus.query(self.meta_collection, filter='key == "generation"', output_fields=["value"])
        return int(rows[0]["value"]) if rows else 0

    def check_signature(self, signature: dict[str, str]) -> None:
        """Refuse to mix vectors or chunks made with other settings: results would be silently wrong."""
        stored = {key: value for key, value in self.meta().items() if key in signature}
        differences = [f"{key} {stored[key]!r} (now {signature[key]!r})"
                       for key in signature if key in stored and stored[key] != signature[key]]
        if differences:
            raise IndexMismatchError(f"{self.where} was built with {', '.join(differences)}; rebuild it with "
                                     "`rag index --rebuild` (or set another milvus_collection_prefix)")

    def _visible(self, meta: dict[str, str] | None = None) -> str:
        """The filter that selects the committed generation's rows (see the module docstring)."""
        meta = self.meta() if meta is None else meta
        generation = int(meta.get("generation", "0"))
        expr = f"gen <= {generation}"
        cleanup = _Cleanup.load(meta)
        if cleanup:
            expr += f" and not (({cleanup.expr()}) and gen < {generation})"
        return expr

    # ---- reading ---------------------------------------------------------------------------

    def _records(self, expr: str) -> list[dict]:
        """Document rows (first parts) matching ``expr``, the newest generation of each file."""
        newest: dict[str, dict] = {}
        for row in self.milvus.scan(self.document_collection, f"({expr}) and part == 0", DOCUMENT_FIELDS):
            if row["doc"] not in newest or newest[row["doc"]]["gen"] < row["gen"]:
                newest[row["doc"]] = row
        return sorted(newest.values(), key=lambda row: (row["source"], row["root"]))

    def documents(self, root: str | None = None) -> list[DocumentRecord]:
        expr = self._visible() + (f" and root == {literal(root)}" if root is not None else "")
        return [_record(row) for row in self._records(expr)]

    def counts(self) -> tuple[int, int]:
        visible = self._visible()
        documents = self.milvus.count(self.document_collection, f"{visible} and part == 0")
        chunks = self.milvus.count(self.chunk_collection, visible) if self._has_chunks() else 0
        return documents, chunks

    def document_text(self, source: str, root: str | None = None) -> str:
        expr = f"{self._visible()} and source == {literal(source)}"
        records = self._records(expr + (f" and root == {literal(root)}" if root is not None else ""))
        if not records:
            raise StoreError(f"no indexed document {source!r}")
        return self._text(records[0])

    def _text(self, record: dict) -> str:
        parts = self.milvus.query(self.document_collection, filter=f"doc == {literal(record['doc'])} and "
                                  f"gen == {record['gen']}", output_fields=["part", "text"])
        return "".join(part["text"] for part in sorted(parts, key=lambda part: part["part"]))

    def document_tags(self) -> dict[tuple[str, str], list[str]]:
        tags = {}
        for row in self._records(self._visible()):
            value = json.loads(row["metadata"]).get("tags", "")
            if value:
                tags[(row["root"], row["source"])] = [tag.strip() for tag in str(value).split(",") if tag.strip()]
        return tags

    def chunk_ids_of(self, documents: Sequence[tuple[str, str]]) -> list[int]:
        if not documents or not self._has_chunks():
            return []
        docs = [document_hash(root, source) for root, source in documents]
        expr = f"{self._visible()} and doc in {literal(docs)}"
        return sorted(row["id"] for row in self.milvus.scan(self.chunk_collection, expr, ["id"]))

    def vectors_of(self, chunk_ids: Collection[int]) -> tuple[np.ndarray, np.ndarray]:
        wanted = sorted({int(i) for i in chunk_ids})
        rows = []
        for start in range(0, len(wanted), BATCH):
            rows += self.milvus.query(self.chunk_collection, ids=wanted[start : start + BATCH], output_fields=["id", "dense"])
        rows.sort(key=lambda row: row["id"])
        ids = np.asarray([row["id"] for row in rows], dtype=np.int64)
        if not rows:
            return ids, np.zeros((0, 0), dtype=np.float32)
        return ids, np.asarray([row["dense"] for row in rows], dtype=np.float32)

    def unit_vectors(self, chunk_ids: Collection[int]) -> dict[bytes, np.ndarray]:
        """The stored answer-unit vectors of these chunks, by text key (as :meth:`rag.store.Store.unit_vectors`)."""
        wanted = sorted({int(i) for i in chunk_ids})
        rows = self.milvus.query(self.chunk_collection, ids=wanted, output_fields=["units"]) if wanted else []
        return {key: vector for row in rows if row["units"]
                for key, vector in unpack_unit_vectors(base64.b64decode(row["units"])).items()}

    def unit_rows(self, chunk_ids: Collection[int]) -> tuple[np.ndarray, np.ndarray]:
        """(owning chunk id, vector) of every stored answer-unit vector of these chunks (as rag/store.py's)."""
        wanted = sorted({int(i) for i in chunk_ids})
        rows = []
        for start in range(0, len(wanted), BATCH):
            rows += self.milvus.query(self.chunk_collection, ids=wanted[start : start + BATCH], output_fields=["id", "units"])
        return unpacked_unit_rows((row["id"], base64.b64decode(row["units"])) for row in rows if row["units"])

    def chunk_root(self, chunk_id: int) -> str | None:
        rows = self.milvus.query(self.chunk_collection, ids=[int(chunk_id)], output_fields=["root"])
        return rows[0]["root"] if rows else None

    def chunks(self, chunk_ids: Sequence[int]) -> dict[int, Passage]:
        if not chunk_ids:
            return {}
        rows = self.milvus.query(self.chunk_collection, ids=[int(i) for i in chunk_ids], output_fields=list(CHUNK_FIELDS))
        return {row["id"]: Passage(**{field: row[field] for field in SPAN_FIELDS}, id=row["id"], source=row["source"],
                                   title=row["title"]) for row in rows}

    def chunk_contexts(self) -> list[tuple[int, str, str, str, str]]:
        if not self._has_chunks():
            return []
        rows = self.milvus.scan(self.chunk_collection, self._visible(), ["id", "source", "title", "section", "text"])
        return sorted((row["id"], row["source"], row["title"], row["section"], row["text"]) for row in rows)

    def size_on_disk(self) -> int:
        """Bytes of a milvus-lite file; 0 for a server (its storage is the cluster's)."""
        path = Path(self.milvus.uri)
        if not self.milvus.lite or not path.exists():
            return 0
        return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())

    def load_artifacts(self, previous: MilvusSnapshot | None = None) -> MilvusSnapshot | None:
        meta = self.meta()
        if int(meta.get("generation", "0")) == 0 or not self._has_chunks():
            return None
        visible = self._visible(meta)
        return MilvusSnapshot(self, int(meta["generation"]), visible, self.milvus.count(self.chunk_collection, visible))

    # ---- writing ---------------------------------------------------------------------------

    def index_lock(self, wait: bool = True, on_wait: Callable[[str], None] | None = None) -> AbstractContextManager[None]:
        """One writer at a time from this machine: a lock file per Milvus index (prefix) in ``index_dir``, apart
        from the local index's, so `rag migrate` can hold both."""
        return index_lock(self.index_dir, wait, on_wait, name=f"{self.prefix}.milvus.lock")

    @contextmanager
    def writer(self, signature: dict[str, str], exact_search_max_chunks: int,
               rebuild: bool = False) -> Iterator[MilvusWriter]:
        """A change in generations: committed whole by :meth:`MilvusWriter.commit`, or left invisible (and deleted
        by the next writer) when it fails. Hold :meth:`index_lock` around it."""
        self._ensure_collections(int(signature["embed_dim"]))
        writer = MilvusWriter(self, signature)
        if rebuild:
            writer.clear()
        yield writer
        writer.commit()

    def drop(self) -> None:
        """Delete this index (its collection was removed): its Milvus collections go."""
        existing = set(self.milvus.list_collections())
        for name in self.collections:
            if name in existing:
                self.milvus.drop_collection(name)
        self.close()

    def close(self) -> None:
        self.milvus.close()


class _Cleanup:
    """Documents (by hash), folders and "everything" whose rows older than the committed generation are dead."""

    KEY = "cleanup"

    def __init__(self, docs: set[str] | None = None, roots: set[str] | None = None, everything: bool = False):
        self.docs = docs or set()
        self.roots = roots or set()
        self.everything = everything

    @classmethod
    def load(cls, meta: dict[str, str]) -> _Cleanup:
        saved = json.loads(meta.get(cls.KEY) or "{}")
        return cls(set(saved.get("docs", ())), set(saved.get("roots", ())), saved.get("everything", False))

    def dump(self) -> str:
        return json.dumps({"docs": sorted(self.docs), "roots": sorted(self.roots), "everything": self.everything})

    def __bool__(self) -> bool:
        return bool(self.docs or self.roots or self.everything)

    def covers(self, row: dict) -> bool:
        return self.everything or row["doc"] in self.docs or row["root"] in self.roots

    def expr(self) -> str:
        if self.everything:
            return "gen >= 0"
        terms = ([f"doc in {literal(self.docs)}"] if self.docs else []) + (
            [f"root in {literal(self.roots)}"] if self.roots else [])
        return " or ".join(terms)


class MilvusWriter:
    """Writes rows of the next generation; implements :class:`rag.stores.IndexWriter`."""

    def __init__(self, store: MilvusStore, signature: dict[str, str]):
        self.store = store
        self.milvus = store.milvus
        self._signature = signature
        self.changed = False
        self.artifact_seconds = 0.0  # Milvus indexes as it goes: nothing to bring up to date at a commit
        meta = store.meta()
        self._finish_cleanup(meta)
        self._committed = int(meta.get("generation", "0"))
        # Rows of a generation that never committed (a killed run) are deleted before writing this one's.
        for collection in store.row_collections:
            self.milvus.delete(collection, filter=f"gen > {self._committed}")
        self._next_id = int(meta.get("next_chunk_id", "1"))
        self._dropped = _Cleanup()
        self._written: set[str] = set()  # documents put in the pending generation
        # Rows put but not yet sent, by collection: inserted a batch at a time, and before anything reads or deletes.
        self._unsent: dict[str, list[dict]] = {name: [] for name in store.row_collections}

    def _send(self) -> None:
        for collection, rows in self._unsent.items():
            for start in range(0, len(rows), BATCH):
                self.milvus.insert(collection, rows[start : start + BATCH])
            rows.clear()

    @property
    def _pending(self) -> int:
        return self._committed + 1

    def _finish_cleanup(self, meta: dict[str, str]) -> None:
        """Delete the rows a committed change replaced or removed, then the list of them."""
        cleanup = _Cleanup.load(meta)
        if cleanup:
            below = int(meta.get("generation", "0"))
            for collection in self.store.row_collections:
                self.milvus.delete(collection, filter=f"({cleanup.expr()}) and gen < {below}")
        self.milvus.upsert(self.store.meta_collection, [_meta_row(_Cleanup.KEY, _Cleanup().dump())])

    def commit(self) -> None:
        self._send()
        meta = {**self._signature, "next_chunk_id": str(self._next_id)}
        if self.changed:
            meta |= {"generation": str(self._pending), "indexed_at": str(time.time()),
                     "dense_index": "milvus-hnsw", _Cleanup.KEY: self._dropped.dump()}
        self.milvus.upsert(self.store.meta_collection, [_meta_row(key, value) for key, value in meta.items()])
        if self.changed:
            self._finish_cleanup(self.store.meta())
            self._committed = self._pending
            self._dropped = _Cleanup()
            self._written.clear()
            self.changed = False

    def checkpoint(self) -> None:
        self.commit()

    def _live(self, row: dict) -> bool:
        """Whether a row is part of the index as this writer leaves it so far."""
        return row["gen"] == self._pending or not self._dropped.covers(row)

    def _drop(self, expr: str) -> None:
        """Delete this generation's rows matching ``expr`` now (older ones go at the commit)."""
        self._send()
        for collection in self.store.row_collections:
            self.milvus.delete(collection, filter=f"({expr}) and gen == {self._pending}")
        self.changed = True

    def remove(self, root: str, source: str) -> None:
        doc = document_hash(root, source)
        self._dropped.docs.add(doc)
        self.changed = True
        if doc in self._written:  # put twice in one generation
            self._drop(f"doc == {literal(doc)}")
            self._written.discard(doc)

    def remove_root(self, root: str) -> None:
        self._dropped.roots.add(root)
        self._drop(f"root == {literal(root)}")

    def clear(self) -> None:
        self._dropped.everything = True
        self._drop("gen >= 0")
        self._written.clear()

    def _documents(self, expr: str = "gen >= 0") -> list[dict]:
        self._send()
        return [row for row in self.store._records(expr) if self._live(row)]

    def roots(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self._documents():
            counts[row["root"]] = counts.get(row["root"], 0) + 1
        return counts

    def shared_documents(self, root: str, other_root: str) -> int:
        rows = self._documents(f"root in {literal([root, other_root])}")
        theirs = {(row["source"], row["content_hash"]) for row in rows if row["root"] == other_root}
        return sum((row["source"], row["content_hash"]) in theirs for row in rows if row["root"] == root)

    def content_keys(self) -> set[tuple[str, str]]:
        return {content_key(row["content_hash"], row["source"]) for row in self._documents()}

    def find_content(self, content_hash: str, suffix: str) -> DocumentContent | None:
        rows = self._documents(f"content_hash == {literal(content_hash)}")
        match = next((row for row in rows if content_key(content_hash, row["source"])[1] == suffix), None)
        if match is None:
            return None
        chunks = sorted(self.milvus.scan(self.store.chunk_collection, f"doc == {literal(match['doc'])} and "
                                         f"gen == {match['gen']}", [*SPAN_FIELDS, "ordinal", "dense", "units"]),
                        key=lambda row: row["ordinal"])
        spans = [Span(**{field: row[field] for field in SPAN_FIELDS}) for row in chunks]
        vectors = np.asarray([row["dense"] for row in chunks], dtype=np.float32).reshape(len(chunks), -1)
        units = [base64.b64decode(row["units"]) if row["units"] else None for row in chunks]
        return DocumentContent(match["title"], json.loads(match["metadata"]), self.store._text(match), spans, vectors,
                               units)

    def chunks_without_unit_vectors(self, limit: int) -> list[Passage]:
        """None: a Milvus index stores every chunk's unit vectors from its first write (it has no older layout)."""
        return []

    def touch(self, root: str, source: str, size: int, mtime_ns: int) -> None:
        """Same content, new file times: rewrite the document's rows with them (chunks are untouched)."""
        doc = document_hash(root, source)
        self._send()
        rows = [row for row in self.milvus.scan(self.store.document_collection, f"doc == {literal(doc)}",
                                                [*DOCUMENT_FIELDS, "text"]) if self._live(row)]
        self.milvus.upsert(self.store.document_collection,
                           [{**row, "size": size, "mtime_ns": mtime_ns, "unused": UNUSED} for row in rows])

    def put(self, root: str, source: str, content_hash: str, size: int, mtime_ns: int, title: str, metadata: dict,
            text: str, chunks: Sequence[Span], vectors: np.ndarray, unit_vectors: Sequence[bytes | None] = ()) -> None:
        """Insert or replace one document with its chunks, their vectors and their answer-unit vectors (visible
        from the commit on)."""
        self.remove(root, source)
        doc, gen = document_hash(root, source), self._pending
        self._written.add(doc)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        terms = index_tokens([chunk_text(title, chunk.section, chunk.text) for chunk in chunks]) if chunks else []
        rows = []
        for ordinal, chunk in enumerate(chunks):
            rows.append({"id": self._next_id, "doc": doc, "gen": gen, "root": root, "source": source, "title": title,
                         "ordinal": ordinal, **{field: getattr(chunk, field) for field in SPAN_FIELDS},
                         "terms": " ".join(terms[ordinal]), "dense": vectors[ordinal].tolist(),
                         "units": _packed_units(unit_vectors, ordinal)})
            self._unsent[self.store.unit_collection] += _unit_rows(rows[-1], rows[-1]["units"])
            self._next_id += 1
        self._unsent[self.store.chunk_collection] += rows
        parts = [text[start : start + TEXT_PART_CHARS] for start in range(0, len(text), TEXT_PART_CHARS)] or [""]
        record = {"doc": doc, "gen": gen, "root": root, "source": source, "content_hash": content_hash, "size": size,
                  "mtime_ns": mtime_ns, "title": title, "metadata": json.dumps(metadata, default=str),
                  "chunk_count": len(chunks), "indexed_at": time.time(), "unused": UNUSED}
        self._unsent[self.store.document_collection] += [
            {**record, "key": f"{doc}:{gen}:{number}", "part": number, "text": part} for number, part in enumerate(parts)]
        if len(self._unsent[self.store.chunk_collection]) >= BATCH:
            self._send()


def _unit_rows(chunk: dict, units: str) -> list[dict]:
    """The units collection's rows for one chunk row, from its base64 packed unit vectors."""
    if not units:
        return []
    owner = {"chunk": chunk["id"], "doc": chunk["doc"], "gen": chunk["gen"], "root": chunk["root"]}
    return [{**owner, "dense": vector.tolist()} for vector in unpack_unit_vectors(base64.b64decode(units)).values()]


def _packed_units(unit_vectors: Sequence[bytes | None], ordinal: int) -> str:
    """A chunk's packed unit vectors as base64 text; "" when it has none or they outgrow a VARCHAR field (the
    answer layer then embeds that chunk's units itself)."""
    blob = unit_vectors[ordinal] if ordinal < len(unit_vectors) else None
    text = base64.b64encode(blob).decode() if blob else ""
    return text if len(text) <= VARCHAR_MAX else ""


class MilvusSnapshot:
    """One committed generation, searched inside Milvus; implements :class:`rag.stores.SearchSnapshot`."""

    lexical_behind = False  # Milvus indexes the BM25 terms as rows are written

    def __init__(self, store: MilvusStore, generation: int, visible: str, size: int):
        self.store = store
        self.generation = generation
        self.visible = visible
        self._size = size
        self.dense = self
        self.units = _MilvusUnits(self, store.unit_collection in store.milvus.list_collections())
        self.lexical = _MilvusLexical(self)

    def __len__(self) -> int:
        return self._size

    def filter(self, within: Collection[int] | None) -> str:
        return self.visible + (f" and id in {literal(sorted(int(i) for i in within))}" if within is not None else "")

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Dense: (chunk id, inner product) of the ``k`` nearest chunks."""
        return self._ranked(self._search(_as_list(vector), "dense", k, self.filter(None)))

    def _search(self, data, field: str, k: int, expr: str) -> list[dict]:
        params = {"params": {"ef": max(HNSW_EF_SEARCH, k)}} if field == "dense" else {}
        return self.store.milvus.search(self.store.chunk_collection, data=[data], anns_field=field, limit=k,
                                        filter=expr, search_params=params, output_fields=["id"])[0]

    @staticmethod
    def _ranked(hits: list[dict]) -> list[tuple[int, float]]:
        return [(int(hit["id"]), float(hit["distance"])) for hit in hits]

    def hybrid_search(self, vector: np.ndarray, query: str, k: int,
                      within: Collection[int] | None) -> list[tuple[int, float]]:
        """Dense and BM25 fused inside Milvus by its WeightedRanker (each side's scores normalised, then weighted by
        RANKER_WEIGHTS)."""
        if k <= 0 or (within is not None and not within):
            return []
        expr = self.filter(within)
        terms = " ".join(dict.fromkeys(query_tokens(query)))
        if not terms:
            return self._ranked(self._search(_as_list(vector), "dense", k, expr))
        pymilvus = self.store.milvus.pymilvus
        depth = max(FUSION_DEPTH, k)  # candidates from each side, as the local fusion takes
        dense = pymilvus.AnnSearchRequest([_as_list(vector)], "dense", {"params": {"ef": max(HNSW_EF_SEARCH, depth)}},
                                          depth, expr=expr)
        lexical = pymilvus.AnnSearchRequest([terms], "sparse", {}, depth, expr=expr)
        fusion = pymilvus.WeightedRanker(*RANKER_WEIGHTS)
        hits = self.store.milvus.hybrid_search(self.store.chunk_collection, [dense, lexical], fusion, limit=k,
                                               output_fields=["id"])[0]
        return self._ranked(hits)


class _MilvusUnits:
    """Unit search in the units collection; implements :class:`rag.stores.DenseSearch` for chunks."""

    def __init__(self, snapshot: MilvusSnapshot, present: bool):
        self.snapshot = snapshot
        self.present = present  # an index written before unit search has none until its next index run

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(chunk id, best unit inner product) of the ``k`` chunks owning the nearest units."""
        depth = k * UNIT_ROWS_PER_CHUNK
        store = self.snapshot.store
        if k <= 0 or not self.present:
            return []
        hits = store.milvus.search(store.unit_collection, data=[_as_list(vector)], anns_field="dense", limit=depth,
                                   filter=self.snapshot.visible, search_params={"params": {"ef": max(HNSW_EF_SEARCH, depth)}},
                                   output_fields=["chunk"])[0]
        return best_per_chunk([hit["entity"]["chunk"] for hit in hits], [hit["distance"] for hit in hits], k)


class _MilvusLexical:
    """BM25 over the ``terms`` field (Milvus' BM25 Function); implements :class:`rag.stores.LexicalSearch`."""

    def __init__(self, snapshot: MilvusSnapshot):
        self.snapshot = snapshot

    def search(self, query: str, k: int, within: Collection[int] | None = None) -> list[tuple[int, float]]:
        terms = " ".join(dict.fromkeys(query_tokens(query)))
        if not terms or k <= 0 or (within is not None and not within):
            return []
        return self.snapshot._ranked(self.snapshot._search(terms, "sparse", k, self.snapshot.filter(within)))

    def document_frequency(self, term: str) -> int:
        if not term.isalnum():  # index terms are word characters only (rag.lexical_index)
            return 0
        snapshot = self.snapshot
        return snapshot.store.milvus.count(snapshot.store.chunk_collection,
                                           f"{snapshot.visible} and TEXT_MATCH(terms, {literal(term)})")


def _document_schema(DataType) -> list[tuple[str, object]]:
    kinds = {"gen": DataType.INT64, "part": DataType.INT64, "size": DataType.INT64, "mtime_ns": DataType.INT64,
             "chunk_count": DataType.INT64, "indexed_at": DataType.DOUBLE}
    return [(field, kinds.get(field, DataType.VARCHAR)) for field in DOCUMENT_FIELDS] + [("text", DataType.VARCHAR)]


def _meta_row(key: str, value: str) -> dict:
    return {"key": key, "value": value, "unused": UNUSED}


def _record(row: dict) -> DocumentRecord:
    return DocumentRecord(row["root"], row["source"], row["content_hash"], row["size"], row["mtime_ns"], row["title"],
                          row["chunk_count"], row["indexed_at"])


def _as_list(vector: np.ndarray) -> list[float]:
    return np.asarray(vector, dtype=np.float32).reshape(-1).tolist()
