"""SciFact retrieval quality per mode, the fusion choice, indexing throughput and query latency.

Builds a fresh index of the BEIR SciFact corpus with the real pipeline (timed), encodes the same
chunk texts with the bare model (the throughput ceiling), evaluates dense, BM25 and several fusion
variants, and times queries. Writes bench/results/retrieval.json and retrieval.md.

    .venv/bin/python bench/retrieval.py [--dataset ../shared/bench/scifact] [--embed-runtime onnx] [--embed-model NAME]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import rag  # noqa: F401
from embed_models import add_embed_model_option, results_name
from rag.api import Assistant
from rag.chunk import embedding_text
from rag.config import load_settings
from rag.evaluate import CHUNK_DEPTH, corpus_sources, documents_ranked, load_beir, mean_metrics
from rag.passage import Span
from rag.retrieve import FUSION_WEIGHTS, score_fusion

HERE = Path(__file__).resolve().parent
PUBLISHED = {
    "BM25 (BEIR paper, Elasticsearch multifield)": (0.665, 0.908),
    "BM25 (Anserini flat)": (0.6789, 0.9253),
    "all-MiniLM-L6-v2 dense (MTEB)": (0.6451, 0.925),
    "BM25 + MiniLM RRF hybrid (rag-ablations 0.1.0)": (0.7153, 0.9550),
}


RRF_K = 60  # Cormack et al. (2009)


def reciprocal_rank_fusion(rankings: list[list[tuple[int, float]]], k: int) -> list[tuple[int, float]]:
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, (row, _) in enumerate(ranking):
            fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, default=HERE.parent.parent / "shared" / "bench" / "scifact")
    parser.add_argument("--embed-runtime", default=None)
    parser.add_argument("--index-dir", type=Path, help="reuse this index instead of building a fresh one")
    add_embed_model_option(parser)
    args = parser.parse_args()

    corpus, queries, qrels = load_beir(args.dataset)
    index_dir = args.index_dir or Path(tempfile.mkdtemp(prefix="rag-scifact-"))
    settings = load_settings(index_dir=index_dir, embed_runtime=args.embed_runtime,
                             embed_model=args.embed_model or None)
    assistant = Assistant(settings)
    embedder = assistant.embedder
    root, files = corpus_sources(args.dataset, corpus)
    started = time.perf_counter()
    report = assistant.index_sources({root: files}, {root})
    index_seconds = time.perf_counter() - started
    print(f"indexed {report.chunks_total} chunks ({report.chunks_embedded} embedded) in {index_seconds:.1f} s",
          file=sys.stderr)

    # The ceiling: the bare model encoding exactly the texts the pipeline embedded.
    contexts = assistant.store.chunk_contexts()
    texts = [embedding_text(title, Span(text, 0, 0, section, None)) for _, _, title, section, text in contexts]
    started = time.perf_counter()
    embedder.encode(texts)
    encode_seconds = time.perf_counter() - started

    retriever = assistant.retriever
    sources = {chunk_id: source for chunk_id, source, *_ in contexts}

    two_way = lambda w: lambda d, l, u, k: score_fusion([(d, w), (l, 1 - w)], k)  # noqa: E731
    variants = {
        "dense": lambda d, l, u, k: d[:k],
        "bm25": lambda d, l, u, k: l[:k],
        "hybrid: RRF k=60": lambda d, l, u, k: reciprocal_rank_fusion([d, l], k),
        **{f"hybrid: min-max score fusion, dense weight {w}": two_way(w) for w in (0.3, 0.5, 0.7)},
        "hybrid: min-max score fusion, dense / BM25 / best unit 0.4 / 0.4 / 0.2":
            lambda d, l, u, k: score_fusion([(d, 0.4), (l, 0.4), (u, 0.2)], k),
        "hybrid (default): min-max score fusion, dense / BM25 / best unit "
        f"{FUSION_WEIGHTS['dense']} / {FUSION_WEIGHTS['bm25']} / {FUSION_WEIGHTS['units']}":
            lambda d, l, u, k: score_fusion([(d, FUSION_WEIGHTS["dense"]), (l, FUSION_WEIGHTS["bm25"]),
                                             (u, FUSION_WEIGHTS["units"])], k),
    }

    candidates = {}
    for query_id, text in queries.items():
        candidates[query_id] = (retriever.dense_chunks(text, CHUNK_DEPTH), retriever.bm25_chunks(text, CHUNK_DEPTH),
                                retriever.unit_chunks(text, CHUNK_DEPTH))

    quality = {}
    for name, fuse in variants.items():
        rankings = {
            query_id: documents_ranked(sources[chunk_id] for chunk_id, _ in fuse(dense, lexical, units, CHUNK_DEPTH))
            for query_id, (dense, lexical, units) in candidates.items()
        }
        quality[name] = mean_metrics(rankings, qrels)
        print(name, quality[name], file=sys.stderr)

    latency = {}
    for mode in ("dense", "bm25", "hybrid"):
        samples = []
        for text in queries.values():
            started = time.perf_counter()
            assistant.search(text, 10, mode)
            samples.append((time.perf_counter() - started) * 1000)
        samples.sort()
        latency[mode] = {"p50_ms": round(statistics.median(samples), 2),
                         "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2)}

    result = {
        "dataset": str(args.dataset.name),
        "queries": len(queries),
        "documents": report.documents_total,
        "chunks": report.chunks_total,
        "embed_model": embedder.model_id,
        "embed_runtime": settings.embed_runtime,
        "machine": {"cpu": _cpu(), "cores": _cores(), "python": platform.python_version()},
        "quality": quality,
        "published": {name: {"ndcg@10": n, "recall@100": r} for name, (n, r) in PUBLISHED.items()},
        "indexing": {
            "chunks_embedded": report.chunks_embedded,
            "index_seconds": round(index_seconds, 1),
            "ingest_chunks_per_s": round(report.chunks_embedded / index_seconds, 1) if report.chunks_embedded else None,
            "raw_encode_chunks_per_s": round(len(texts) / encode_seconds, 1),
        },
        "latency_k10": latency,
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    name = results_name("retrieval", args.embed_model)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"{name}.md").write_text(markdown(result))
    print(markdown(result))


def markdown(result: dict) -> str:
    lines = [
        f"SciFact (BEIR test, {result['queries']} queries, {result['documents']} abstracts → {result['chunks']} chunks), "
        f"embedding model {result['embed_model']}, runtime `{result['embed_runtime']}`, "
        f"on {result['machine']['cpu']} ({result['machine']['cores']} cores).",
        "",
        "| system | nDCG@10 | Recall@100 | MRR@10 |",
        "|---|---|---|---|",
    ]
    for name, metrics in result["quality"].items():
        lines.append(f"| this project: {name} | {metrics['ndcg@10']:.4f} | {metrics['recall@100']:.4f} | {metrics['mrr@10']:.4f} |")
    for name, metrics in result["published"].items():
        lines.append(f"| published: {name} | {metrics['ndcg@10']:.4f} | {metrics['recall@100']:.4f} | |")
    indexing = result["indexing"]
    lines += [
        "",
        f"Indexing: {indexing['chunks_embedded']} chunks in {indexing['index_seconds']} s = "
        f"{indexing['ingest_chunks_per_s']} chunks/s through the whole pipeline; the bare model encodes the same "
        f"texts at {indexing['raw_encode_chunks_per_s']} chunks/s.",
        "",
        "| query latency (k=10, 300 queries) | p50 ms | p95 ms |",
        "|---|---|---|",
    ]
    lines += [f"| {mode} | {v['p50_ms']} | {v['p95_ms']} |" for mode, v in result["latency_k10"].items()]
    return "\n".join(lines) + "\n"


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _cores() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    main()
