"""Dense, lexical (BM25) and hybrid retrieval over a stored index."""

from __future__ import annotations

import numpy as np

from rag.embed import Embedder
from rag.passage import Hit
from rag.store import SearchArtifacts, Store, lexical_tokens

MODES = ("hybrid", "dense", "bm25")
# Hybrid = DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * BM25, both min-max normalised over their candidates:
# on SciFact this beat reciprocal-rank fusion (nDCG@10 0.7169 vs 0.7109; bench/results/retrieval.md).
DENSE_WEIGHT = 0.5
# Each retriever contributes this many candidates (at least) to the fusion.
FUSION_DEPTH = 100


class Retriever:
    """Answers queries from one committed generation of the index, held in memory without chunk text."""

    def __init__(self, store: Store, embedder: Embedder, artifacts: SearchArtifacts | None):
        self.store = store
        self.embedder = embedder
        self.artifacts = artifacts

    def search(self, query: str, k: int = 5, mode: str = "hybrid", within: np.ndarray | None = None) -> list[Hit]:
        """Top ``k`` passages; ``within`` (index rows, see :meth:`rows_of`) restricts the search to them."""
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; choose one of {', '.join(MODES)}")
        query = query.strip()
        if not query or self.artifacts is None or len(self.artifacts) == 0 or k <= 0:
            return []
        ranked = self.ranked_rows(query, k, mode, within)
        passages = self.store.chunks([int(self.artifacts.chunk_ids[row]) for row, _ in ranked])
        hits = []
        for row, score in ranked:
            passage = passages.get(int(self.artifacts.chunk_ids[row]))
            if passage is not None:
                hits.append(Hit(passage, float(score)))
        return hits

    def rows_of(self, chunk_ids) -> np.ndarray:
        """The index rows holding these chunks (what ``within`` takes)."""
        return np.flatnonzero(np.isin(self.artifacts.chunk_ids, np.asarray(list(chunk_ids), dtype=np.int64)))

    def ranked_rows(self, query: str, k: int, mode: str, within: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top ``k`` index rows with their scores: cosine (dense), BM25 (bm25) or fused in [0, 1] (hybrid)."""
        depth = k if mode != "hybrid" else max(FUSION_DEPTH, k)
        dense = self.dense_rows(query, depth, within) if mode != "bm25" else []
        lexical = self.bm25_rows(query, depth, within) if mode != "dense" else []
        if mode == "dense":
            return dense
        if mode == "bm25":
            return lexical
        return score_fusion(dense, lexical, k)

    def document_frequency(self, term: str) -> int:
        """How many chunks hold the (stemmed) BM25 term: the index's own rarity statistics."""
        bm25 = self.artifacts.bm25 if self.artifacts is not None else None
        token = bm25.vocab_dict.get(term) if bm25 is not None else None
        if token is None:
            return 0
        indptr = bm25.scores["indptr"]
        return int(indptr[token + 1] - indptr[token])

    def dense_rows(self, query: str, k: int, within: np.ndarray | None = None) -> list[tuple[int, float]]:
        vector = self.embedder.encode_query(query).reshape(1, -1)
        if within is not None:  # exact cosine over the chosen rows' stored vectors, whatever the index type
            if not len(within):
                return []
            scores = self.artifacts.dense.reconstruct_batch(within) @ vector[0]
            top = np.argsort(-scores, kind="stable")[:k]
            return [(int(within[i]), float(scores[i])) for i in top]
        k = min(k, len(self.artifacts))
        scores, rows = self.artifacts.dense.search(vector, k)
        return [(int(row), float(score)) for row, score in zip(rows[0], scores[0]) if row >= 0]

    def bm25_rows(self, query: str, k: int, within: np.ndarray | None = None) -> list[tuple[int, float]]:
        bm25 = self.artifacts.bm25
        if bm25 is None:
            return []
        token_ids = bm25.get_tokens_ids(lexical_tokens([query])[0])
        if not token_ids:
            return []
        scores = bm25_scores(bm25, token_ids)
        if within is not None:
            kept = np.zeros_like(scores)
            kept[within] = scores[within]
            scores = kept
        k = min(k, scores.shape[0])
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(row), float(scores[row])) for row in top if scores[row] > 0]


def bm25_scores(bm25, token_ids: list[int]) -> np.ndarray:
    """``bm25.get_scores_from_ids`` as one ``bincount`` over the query terms' postings: bm25s adds each
    term's postings with ``np.add.at``, which is several times slower on a 100k-chunk index."""
    matrix = bm25.scores
    ids = np.asarray(token_ids, dtype=np.int64)
    starts, ends = matrix["indptr"][ids], matrix["indptr"][ids + 1]
    rows = np.concatenate([matrix["indices"][a:b] for a, b in zip(starts, ends)])
    weights = np.concatenate([matrix["data"][a:b] for a, b in zip(starts, ends)])
    scores = np.bincount(rows, weights=weights, minlength=matrix["num_docs"])
    if bm25.nonoccurrence_array is not None:  # BM25L / BM25+ variants score absent terms too
        scores += bm25.nonoccurrence_array[ids].sum()
    return scores


def _min_max(ranking: list[tuple[int, float]]) -> dict[int, float]:
    if not ranking:
        return {}
    scores = [score for _, score in ranking]
    low, high = min(scores), max(scores)
    return {row: (score - low) / (high - low) if high > low else 1.0 for row, score in ranking}


def score_fusion(
    dense: list[tuple[int, float]], lexical: list[tuple[int, float]], k: int, dense_weight: float = DENSE_WEIGHT
) -> list[tuple[int, float]]:
    """Convex combination of normalised scores; a row missing from one ranking scores 0 there."""
    dense_norm, lexical_norm = _min_max(dense), _min_max(lexical)
    fused = {
        row: dense_weight * dense_norm.get(row, 0.0) + (1 - dense_weight) * lexical_norm.get(row, 0.0)
        for row in dense_norm.keys() | lexical_norm.keys()
    }
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]

