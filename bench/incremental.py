"""Does an index changed in place answer like one rebuilt from scratch? And when must the dense base be compacted?

1. Agreement: copies a SciFact index (bench/retrieval.py --index-dir), applies a scripted sequence of
   index runs (documents removed, changed - a sentence appended, so re-embedded - and added back) that
   stays under the compaction share, so every change lives in the dense delta, the tombstones and
   tantivy's deletes and adds. The reference is the same final store with every search structure built
   whole (a forced compaction and a fresh tantivy index): what a full rebuild gives, without embedding
   17k chunks again. Top-10 overlap over the 300 SciFact queries per mode, and nDCG@10 of both.
2. Tombstone share: on the HNSW base of that index, a share of rows tombstoned at random; recall@10 of
   the filtered HNSW search against exact search over the rows kept, and its latency.

Writes bench/results/incremental.json and incremental.md.

    .venv/bin/python bench/incremental.py --index /tmp/scifact/index [--dataset /work/shared/bench/scifact]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import rag  # noqa: E402,F401  (offline environment before any library import)

RESULTS = REPO / "bench" / "results"
ROUND_DOCUMENTS = 60  # documents removed and changed per round (of 5,183)
SHARES = (0.0, 0.05, 0.1, 0.2, 0.4)


def main() -> None:
    import numpy as np

    from rag.api import Assistant
    from rag.config import load_settings
    from rag.evaluate import CHUNK_DEPTH, corpus_sources, documents_ranked, load_beir, mean_metrics

    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, required=True, help="a SciFact index from bench/retrieval.py")
    parser.add_argument("--dataset", type=Path, default=Path("/work/shared/bench/scifact"))
    args = parser.parse_args()
    corpus, queries, qrels = load_beir(args.dataset)
    work = Path(tempfile.mkdtemp(prefix="rag-incremental-"))
    living_dir, rebuilt_dir = work / "living", work / "rebuilt"
    shutil.copytree(args.index, living_dir)
    living = Assistant(load_settings(index_dir=living_dir))
    with living.store.index_lock():  # start from a fresh base: the build's last checkpoints may have left a delta
        living.store.compact(living.settings.exact_search_max_chunks)

    base_generation = living.store.meta()["dense_base"]
    # The script: each round removes some documents, changes others and adds back the previous round's removals.
    ids = sorted(corpus)
    rounds = []
    removed_before: list[str] = []
    for number in range(3):
        chosen = ids[number * 2 * ROUND_DOCUMENTS : (number + 1) * 2 * ROUND_DOCUMENTS]
        removed, changed = chosen[:ROUND_DOCUMENTS], chosen[ROUND_DOCUMENTS:]
        for doc_id in changed:
            corpus[doc_id] = {**corpus[doc_id], "text": corpus[doc_id]["text"] + f" Revised in round {number}."}
        present = {doc_id: row for doc_id, row in corpus.items() if doc_id not in removed}
        root, files = corpus_sources(args.dataset, present)
        started = time.perf_counter()
        report = living.index_sources({root: files}, {root})
        rounds.append({"removed": len(report.removed), "updated": len(report.updated), "added": len(report.added),
                       "chunks_embedded": report.chunks_embedded, "seconds": round(time.perf_counter() - started, 1),
                       "re_added": len(removed_before)})
        print(rounds[-1], file=sys.stderr)
        removed_before = removed
    artifacts = living.retriever.artifacts
    state = {"chunks": len(artifacts), "delta": len(artifacts.dense.delta_ids),
             "tombstones": len(artifacts.dense.tombstones), "base_rows": artifacts.dense.base.index.ntotal,
             "dense_index": artifacts.dense_kind, "compacted": living.store.meta()["dense_base"] != base_generation}

    # The reference: the same store, every search structure built whole.
    shutil.copytree(living_dir, rebuilt_dir)
    shutil.rmtree(rebuilt_dir / "lexical")
    rebuilt = Assistant(load_settings(index_dir=rebuilt_dir))
    with rebuilt.store.index_lock():
        rebuilt.store.compact(rebuilt.settings.exact_search_max_chunks)
    assert rebuilt.retriever.artifacts.dense.delta_ids.size == 0

    agreement, quality = {}, {}
    sources = {chunk_id: source for chunk_id, source, *_ in living.store.chunk_contexts()}
    for mode in ("dense", "bm25", "hybrid"):
        found = total = 0
        rankings: dict[str, dict[str, list[str]]] = {"in place": {}, "rebuilt": {}}
        for query_id, text in queries.items():
            ours = living.retriever.ranked_chunks(text, CHUNK_DEPTH, mode)
            theirs = rebuilt.retriever.ranked_chunks(text, CHUNK_DEPTH, mode)
            found += len({c for c, _ in ours[:10]} & {c for c, _ in theirs[:10]})
            total += len(theirs[:10])
            rankings["in place"][query_id] = documents_ranked(sources[c] for c, _ in ours)
            rankings["rebuilt"][query_id] = documents_ranked(sources[c] for c, _ in theirs)
        agreement[mode] = round(found / total, 4)
        quality[mode] = {name: mean_metrics(ranked, qrels)["ndcg@10"] for name, ranked in rankings.items()}
        print(mode, agreement[mode], quality[mode], file=sys.stderr)

    # Tombstone share against recall and latency, on the rebuilt HNSW base.
    base = rebuilt.retriever.artifacts.dense.base
    vectors = base.index.reconstruct_n(0, base.index.ntotal)
    query_vectors = np.stack([rebuilt.embedder.encode_query(text) for text in queries.values()])
    rng = np.random.default_rng(0)
    tombstone_rows = []
    from rag.dense_index import DenseSnapshot

    for share in SHARES:
        dead = np.sort(rng.choice(len(vectors), int(share * len(vectors)), replace=False))
        snapshot = DenseSnapshot(base, dead, np.zeros(0, dtype=np.int64), np.zeros((0, vectors.shape[1]), np.float32))
        alive = np.ones(len(vectors), dtype=bool)
        alive[dead] = False
        exact = np.argsort(-(query_vectors @ vectors[alive].T), axis=1)[:, :10]
        kept_ids = base.chunk_ids[alive]
        hits = 0
        samples = []
        for vector, truth in zip(query_vectors, exact):
            started = time.perf_counter()
            found = snapshot.search(vector, 10)
            samples.append((time.perf_counter() - started) * 1000)
            hits += len({c for c, _ in found} & set(kept_ids[truth].tolist()))
        tombstone_rows.append({"share": share, "recall@10": round(hits / (10 * len(exact)), 4),
                               "p50_ms": round(statistics.median(samples), 2)})
        print(tombstone_rows[-1], file=sys.stderr)

    result = {"rounds": rounds, "state": state, "top10_overlap": agreement, "ndcg@10": quality,
              "tombstones": tombstone_rows, "load": round(os.getloadavg()[0], 1)}
    (RESULTS / "incremental.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "incremental.md").write_text(markdown(result))
    print(markdown(result))
    shutil.rmtree(work, ignore_errors=True)


def markdown(result: dict) -> str:
    state = result["state"]
    lines = [
        "# Changed in place against rebuilt whole (SciFact)",
        "",
        f"Produced by `bench/incremental.py` (load average {result['load']} on a shared 2-core machine). "
        f"{len(result['rounds'])} index runs over the SciFact index, each removing {ROUND_DOCUMENTS} documents, "
        f"changing {ROUND_DOCUMENTS} (a sentence appended: re-embedded) and adding back the previous run's removals:",
        "",
        "| run | removed | updated | added | chunks embedded | seconds |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {i} | {r['removed']} | {r['updated']} | {r['added']} | {r['chunks_embedded']} | {r['seconds']} |"
              for i, r in enumerate(result["rounds"], 1)]
    lines += [
        "",
        f"Final state: {state['chunks']:,} chunks = {state['dense_index']} base of {state['base_rows']:,} rows, "
        f"{state['tombstones']} of them tombstoned, plus a delta of {state['delta']} chunks "
        f"({'compacted during' if state['compacted'] else 'no compaction in'} the sequence). Reference: the same store with a fresh dense base and a fresh tantivy index.",
        "",
        "| mode | top-10 overlap with the rebuilt index | nDCG@10 in place | nDCG@10 rebuilt |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {mode} | {overlap:.4f} | {result['ndcg@10'][mode]['in place']:.4f} | "
              f"{result['ndcg@10'][mode]['rebuilt']:.4f} |" for mode, overlap in result["top10_overlap"].items()]
    lines += [
        "",
        "Tombstones on the HNSW base (rows left out by `IDSelectorNot(IDSelectorBatch)`, chosen at random): "
        "recall@10 against exact search over the rows kept, and the dense search time (k=10):",
        "",
        "| tombstoned share | recall@10 | p50 |",
        "|---:|---:|---:|",
    ]
    lines += [f"| {row['share']:.0%} | {row['recall@10']:.4f} | {row['p50_ms']} ms |" for row in result["tombstones"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
