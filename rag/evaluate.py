"""Retrieval quality on a BEIR-format dataset (corpus.jsonl, queries.jsonl, qrels/test.tsv)."""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Callable, Iterable
from pathlib import Path

from rag.ingest import SourceFile

# A document's chunks are scored by their best chunk; this many chunk hits are read per query.
CHUNK_DEPTH = 300


class DatasetError(ValueError):
    """The folder is not a readable BEIR dataset."""


def load_beir(dataset_dir: Path) -> tuple[dict[str, dict], dict[str, str], dict[str, set[str]]]:
    dataset_dir = Path(dataset_dir)
    paths = {name: dataset_dir / name for name in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv")}
    missing = [name for name, path in paths.items() if not path.is_file()]
    if missing:
        raise DatasetError(f"{dataset_dir} is not a BEIR dataset: missing {', '.join(missing)}")
    try:
        corpus = {row["_id"]: row for row in _jsonl(paths["corpus.jsonl"])}
        queries = {row["_id"]: row["text"] for row in _jsonl(paths["queries.jsonl"])}
        qrels: dict[str, set[str]] = {}
        with open(paths["qrels/test.tsv"], newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, delimiter="\t")
            next(reader, None)
            for query_id, doc_id, score, *_ in reader:
                if float(score) > 0:
                    qrels.setdefault(query_id, set()).add(doc_id)
    except (KeyError, ValueError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{dataset_dir}: malformed dataset ({exc})") from exc
    return corpus, {qid: text for qid, text in queries.items() if qid in qrels}, qrels


def _jsonl(path: Path):
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def corpus_sources(dataset_dir: Path, corpus: dict[str, dict]) -> tuple[str, list[SourceFile]]:
    """Each record as a plain-text document (title on the first line), keyed by its id."""
    root = f"beir:{Path(dataset_dir).resolve()}"
    files = []
    for doc_id, row in corpus.items():
        data = f"{row.get('title', '').strip()}\n{row.get('text', '').strip()}".strip().encode("utf-8")
        # The content hash stands in for a file time, so an unchanged record is recognised without re-reading.
        stamp = int(hashlib.sha256(data).hexdigest()[:15], 16)
        files.append(SourceFile(root, f"{doc_id}.txt", len(data), stamp, lambda data=data: data))
    return root, files


def ndcg_at(ranked: list[str], relevant: set[str], k: int) -> float:
    dcg = sum(1.0 / math.log2(rank + 2) for rank, doc in enumerate(ranked[:k]) if doc in relevant)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def recall_at(ranked: list[str], relevant: set[str], k: int) -> float:
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def mrr_at(ranked: list[str], relevant: set[str], k: int) -> float:
    return next((1.0 / (rank + 1) for rank, doc in enumerate(ranked[:k]) if doc in relevant), 0.0)


def documents_ranked(chunk_sources: Iterable[str]) -> list[str]:
    """Document ids in order of their best chunk (sources are "<id>.txt")."""
    return list(dict.fromkeys(source.removesuffix(".txt") for source in chunk_sources))


def mean_metrics(rankings: dict[str, list[str]], qrels: dict[str, set[str]]) -> dict[str, float]:
    """nDCG@10, Recall@100 and MRR@10 averaged over the ranked queries."""
    totals = {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    for query_id, ranked in rankings.items():
        relevant = qrels[query_id]
        totals["ndcg@10"] += ndcg_at(ranked, relevant, 10)
        totals["recall@100"] += recall_at(ranked, relevant, 100)
        totals["mrr@10"] += mrr_at(ranked, relevant, 10)
    count = max(len(rankings), 1)
    return {name: round(value / count, 4) for name, value in totals.items()}


def evaluate(
    search: Callable[[str, int], list], queries: dict[str, str], qrels: dict[str, set[str]], mode: str
) -> dict:
    """Metrics of ``search`` over the queries; a document ranks by its best chunk."""
    rankings = {
        query_id: documents_ranked(hit.passage.source for hit in search(text, CHUNK_DEPTH))
        for query_id, text in queries.items()
    }
    return {"mode": mode, "queries": len(queries), **mean_metrics(rankings, qrels)}
