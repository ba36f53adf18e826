"""The dense (FAISS) index as a base file plus a delta read from the store, so a change costs what changed.

The base is a FAISS file written at a compaction: every chunk vector in the store at that generation,
rows in chunk-id order. Chunks added since (ids above the base's last one: SQLite AUTOINCREMENT never
reuses or lowers ids) form the delta, searched exactly in memory; base rows whose chunks are gone since
are tombstones, left out of every search by an ``IDSelectorNot(IDSelectorBatch(rows))`` (FAISS HNSW
cannot remove vectors). Both are derived from the committed SQLite rows at load time, so a change is
durable and searchable as soon as its transaction commits. Compaction writes a new base once the delta
or the tombstones pass ``COMPACT_SHARE`` of the base.

Answer units (sentences, rows, items: rag/units.py) have a unit index beside it, kept by the same scheme: a
base file of every stored unit vector written at the same compaction (rows ascending by owning chunk id,
several per chunk), the units of chunks added since as its delta, and the rows of removed chunks as its
tombstones. It lets an answer find the one sentence that paraphrases a question when that sentence's chunk,
as a whole, does not rank (sentence-window retrieval).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

# HNSW parameters, measured in bench/scale.py (bench/results/scale.md): recall@10 against exact search is
# 0.9996 on 10k real MiniLM vectors and 0.97 on 100k made of ten copies of each (duplicates are HNSW's hard
# case, and content reuse makes them), for +0.3 ms per query over efSearch 128.
HNSW_M = 32
# One query is too small to share between threads: on a busy machine FAISS's OpenMP threads mostly wait for
# each other (exact search of 10k vectors, k=100: 4 ms p50 on one thread, 32 ms on two, load average 30).
# Searches run on one thread; building an HNSW base uses every core.
BUILD_THREADS = faiss.omp_get_max_threads()
faiss.omp_set_num_threads(1)
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 256
# A new base is written once the delta or the tombstones pass this share of the base (or the delta passes
# the exact-search size). Measured by bench/incremental.py on SciFact's 17k-chunk HNSW base: up to 40%
# tombstones cost 0.0007 recall@10 and +0.3 ms, so the share is set by what the delta costs instead (it is
# searched exactly: 10% of a 100k base is 10k vectors, where exact search still answers in milliseconds).
COMPACT_SHARE = 0.1


# Chunk rows searched per chunk wanted from the unit index: a chunk has ~7 units (605 for the 86 chunks of corpus/),
# so the best units of a few chunks fill many rows.
UNIT_ROWS_PER_CHUNK = 8


def base_paths(index_dir: Path, generation: int) -> dict[str, Path]:
    return {"dense": index_dir / f"dense-{generation}.faiss", "rows": index_dir / f"rows-{generation}.npy",
            "units": index_dir / f"units-{generation}.faiss", "unitrows": index_dir / f"unitrows-{generation}.npy"}


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
        with _all_threads():
            index.add(vectors)
    return index, kind


@contextmanager
def _all_threads() -> Iterator[None]:
    faiss.omp_set_num_threads(BUILD_THREADS)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(1)


def build_unit_index(batches: Iterable[tuple[np.ndarray, np.ndarray]], dim: int) -> tuple[faiss.Index, np.ndarray]:
    """Unit vectors as 8-bit scalar-quantized rows (a quarter of float32, like their store packing), searched
    exactly: 70k 384-d units (about 10k chunks) take 1.8 ms a query on one thread, as float32 4.3 ms. Built from
    (owning chunk ids, vectors) batches, so a big index never holds its units as float32 at once; the quantizer's
    per-component ranges are learnt from the first batch (thousands of chunks' units)."""
    index = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    owners = [np.zeros(0, dtype=np.int64)]
    for chunk_ids, vectors in batches:
        if not len(chunk_ids):
            continue
        if not index.is_trained:
            index.train(vectors)
        index.add(vectors)
        owners.append(np.asarray(chunk_ids, dtype=np.int64))
    return index, np.concatenate(owners)


def write_base(
    index_dir: Path, generation: int, chunk_ids: np.ndarray, vectors: np.ndarray, exact_search_max_chunks: int
) -> str:
    """Write (and fsync) the base files of ``generation``; they count only once a commit names them."""
    index, kind = build_dense_index(vectors, exact_search_max_chunks)
    _write_index_files(index_dir, generation, index, chunk_ids, "dense", "rows")
    return kind


def write_unit_base(index_dir: Path, generation: int, batches: Iterable[tuple[np.ndarray, np.ndarray]], dim: int) -> None:
    """Write (and fsync) the unit base of ``generation`` from (owning chunk ids, vectors) batches in chunk id order."""
    index, owners = build_unit_index(batches, dim)
    _write_index_files(index_dir, generation, index, owners, "units", "unitrows")


def _write_index_files(index_dir: Path, generation: int, index: faiss.Index, row_ids: np.ndarray,
                       index_name: str, rows_name: str) -> None:
    paths = base_paths(index_dir, generation)
    tmp_index = paths[index_name].with_suffix(".tmp")
    faiss.write_index(index, str(tmp_index))
    _fsync_file(tmp_index)
    os.replace(tmp_index, paths[index_name])
    tmp_rows = paths[rows_name].with_name(paths[rows_name].name + ".tmp")
    with open(tmp_rows, "wb") as handle:
        np.save(handle, np.asarray(row_ids, dtype=np.int64), allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp_rows, paths[rows_name])
    fd = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def base_row_ids(index_dir: Path, generation: int) -> np.ndarray:
    """The base's row → chunk id map (memory-mapped; empty without a base)."""
    if generation == 0:
        return np.zeros(0, dtype=np.int64)
    return np.load(base_paths(index_dir, generation)["rows"], mmap_mode="r", allow_pickle=False)


@dataclass(frozen=True)
class DenseBase:
    """A loaded base file; shared by every snapshot until the next compaction."""

    generation: int
    index: faiss.Index
    kind: str
    chunk_ids: np.ndarray  # row -> chunk id, ascending (several rows per chunk in a unit base)


def has_unit_base(index_dir: Path, generation: int) -> bool:
    """Whether the base of ``generation`` has its unit index (a base written before unit search has none)."""
    return generation == 0 or base_paths(index_dir, generation)["unitrows"].exists()


def load_unit_base(index_dir: Path, generation: int) -> DenseBase:
    paths = base_paths(index_dir, generation)
    return DenseBase(generation, faiss.read_index(str(paths["units"])), "sq8",
                     np.load(paths["unitrows"], allow_pickle=False))


def load_base(index_dir: Path, generation: int) -> DenseBase:
    paths = base_paths(index_dir, generation)
    index = faiss.read_index(str(paths["dense"]))
    chunk_ids = np.load(paths["rows"], allow_pickle=False)
    kind = "flat"
    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = HNSW_EF_SEARCH
        kind = "hnsw"
    return DenseBase(generation, index, kind, chunk_ids)


class DenseSnapshot:
    """One committed state: the base minus its tombstones, plus the delta. Immutable, so many threads may
    search it while a newer snapshot is being made."""

    def __init__(self, base: DenseBase | None, tombstones: np.ndarray, delta_ids: np.ndarray, delta_vectors: np.ndarray):
        self.base = base
        self.tombstones = np.asarray(tombstones, dtype=np.int64)  # base rows whose chunks are gone
        self.delta_ids = np.asarray(delta_ids, dtype=np.int64)
        self.delta = faiss.IndexFlatIP(delta_vectors.shape[1])
        if len(delta_vectors):
            self.delta.add(np.ascontiguousarray(delta_vectors, dtype=np.float32))
        self._params = None
        hnsw = base is not None and base.kind == "hnsw"
        if len(self.tombstones):
            # The selectors are kept as attributes: FAISS holds only raw pointers to them.
            self._removed = faiss.IDSelectorBatch(self.tombstones)
            self._kept = faiss.IDSelectorNot(self._removed)
            if hnsw:
                self._params = faiss.SearchParametersHNSW(sel=self._kept, efSearch=HNSW_EF_SEARCH)
            else:
                self._params = faiss.SearchParameters(sel=self._kept)
        base_rows = base.index.ntotal if base is not None else 0
        self._base_live = base_rows - len(self.tombstones)

    @property
    def kind(self) -> str:
        return self.base.kind if self.base is not None else "flat"

    def __len__(self) -> int:
        return self._base_live + self.delta.ntotal

    @property
    def chunk_ids(self) -> np.ndarray:
        """Every searchable chunk id, ascending."""
        base_ids = self.base.chunk_ids if self.base is not None else np.zeros(0, dtype=np.int64)
        return np.concatenate([np.delete(base_ids, self.tombstones), self.delta_ids])

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(chunk id, inner product) of the ``k`` nearest live chunks: base and delta searched, then merged."""
        chunk_ids, scores = self.nearest(vector, k)
        return list(zip(chunk_ids.tolist(), scores.tolist()))

    def nearest(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`search` as arrays (chunk ids, scores), best first, ties by chunk id."""
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, -1)
        ids, found = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.float32)]
        if self._base_live > 0 and k > 0:
            scores, rows = self.base.index.search(query, min(k, self._base_live), params=self._params)
            kept = rows[0] >= 0
            ids.append(self.base.chunk_ids[rows[0][kept]])
            found.append(scores[0][kept])
        if self.delta.ntotal and k > 0:
            scores, rows = self.delta.search(query, min(k, self.delta.ntotal))
            kept = rows[0] >= 0
            ids.append(self.delta_ids[rows[0][kept]])
            found.append(scores[0][kept])
        chunk_ids, scores = np.concatenate(ids).astype(np.int64), np.concatenate(found).astype(np.float32)
        order = np.lexsort((chunk_ids, -scores))[:k]
        return chunk_ids[order], scores[order]


class UnitSnapshot:
    """The unit index of one committed state (a :class:`DenseSnapshot` whose rows are answer units, several per
    chunk), searched for chunks: each chunk scores as its best unit."""

    def __init__(self, rows: DenseSnapshot):
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(chunk id, best unit inner product) of the ``k`` chunks owning the nearest units."""
        return best_per_chunk(*self.rows.nearest(vector, k * UNIT_ROWS_PER_CHUNK), k)


def best_per_chunk(chunk_ids: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """(chunk id, score) of the top ``k`` chunks, each scored by its best unit: ``chunk_ids`` and ``scores`` are the
    units' owners and scores (any order). In numpy: a unit search reduces hundreds of rows a question."""
    chunk_ids, scores = np.asarray(chunk_ids, dtype=np.int64), np.asarray(scores, dtype=np.float32)
    order = np.lexsort((chunk_ids, -scores))
    _, first = np.unique(chunk_ids[order], return_index=True)  # each chunk's first row, best first: its best unit
    best = order[first]
    best = best[np.lexsort((chunk_ids[best], -scores[best]))][:k]
    return list(zip(chunk_ids[best].tolist(), scores[best].tolist()))


def compaction_due(base_rows: int, tombstones: int, delta_rows: int, exact_search_max_chunks: int) -> bool:
    """Whether to write a new base: the first one, or once the delta or tombstones grow past their share."""
    if delta_rows + tombstones == 0:
        return False
    if base_rows == 0:
        return True
    return (
        delta_rows > COMPACT_SHARE * base_rows
        or tombstones > COMPACT_SHARE * base_rows
        or delta_rows > exact_search_max_chunks
    )
