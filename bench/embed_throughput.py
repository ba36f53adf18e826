"""Embedding throughput, torch vs ONNX int8, by batch size, with and without length sorting.

    python bench/embed_throughput.py [--texts 1000] [--rounds 2]
    python bench/embed_throughput.py --skip-throughput --retrieval onnx torch   # SciFact nDCG@10 per backend
    ... --retrieval onnx torch --subset 250   # judged documents + 250 others, when full SciFact takes too long

Results merge into bench/results/embed_throughput.json (and .md), so parts can run separately.

"Sorted" is what ``Embedder.encode`` does (length-sorted batches); "unsorted" feeds the texts in
corpus order, one ``encode`` call per batch. Configurations run round-robin and the best round
counts, because this machine is shared: other jobs' load slows every configuration alike.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import rag  # noqa: E402,F401  (offline environment first)
from rag.embed import Embedder  # noqa: E402

SCIFACT = Path("/work/shared/bench/scifact")
RESULTS = ROOT / "bench" / "results"
BATCHES = (8, 16, 32)


def scifact_texts(limit: int) -> list[str]:
    texts = []
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            texts.append(f"{row['title']}\n\n{row['text']}")
            if len(texts) == limit:
                break
    return texts


def run(embedder: Embedder, texts: list[str], sort: bool) -> float:
    start = time.perf_counter()
    if sort:
        embedder.encode(texts)
    else:
        for i in range(0, len(texts), embedder.batch_size):
            embedder.encode(texts[i : i + embedder.batch_size])
    return len(texts) / (time.perf_counter() - start)


def throughput(texts: list[str], rounds: int, cache_dir: Path) -> tuple[list[dict], dict]:
    import numpy as np

    embedders = {}
    for backend in ("torch", "onnx"):
        start = time.perf_counter()
        embedders[backend] = Embedder(runtime=backend, cache_dir=cache_dir)
        print(f"{backend}: ready in {time.perf_counter() - start:.1f}s", file=sys.stderr)
    # Agreement on these texts (the batch is the default one) and a warm-up for both backends.
    vectors = {name: e.encode(texts[:200]) for name, e in embedders.items()}
    cosine = (vectors["torch"] * vectors["onnx"]).sum(axis=1)
    agreement = {"texts": len(cosine), "cosine_min": round(float(cosine.min()), 4),
                 "cosine_mean": round(float(cosine.mean()), 4)}
    configs = [(b, n, s) for b in embedders for n in BATCHES for s in (True, False)]
    speeds: dict[tuple, list[float]] = {c: [] for c in configs}
    for round_ in range(rounds):
        for backend, batch, sort in configs:
            embedder = embedders[backend]
            embedder.batch_size = batch
            speeds[(backend, batch, sort)].append(run(embedder, texts, sort))
            print(f"round {round_ + 1}: {backend} batch {batch} {'sorted' if sort else 'unsorted'}: "
                  f"{speeds[(backend, batch, sort)][-1]:.1f}/s  (load {os.getloadavg()[0]:.1f})", file=sys.stderr)
    rows = [{"backend": b, "batch_size": n, "length_sorted": s, "chunks_per_s": round(max(v), 1),
             "rounds": [round(x, 1) for x in v]} for (b, n, s), v in speeds.items()]
    return rows, agreement


def scifact_subset(distractors: int, work_dir: Path) -> Path:
    """SciFact with every judged document plus the first ``distractors`` others: same queries, less to embed."""
    import shutil

    judged = {line.split("\t")[1] for line in (SCIFACT / "qrels" / "test.tsv").read_text().splitlines()[1:]}
    subset = work_dir / f"scifact-sub{distractors}"
    (subset / "qrels").mkdir(parents=True, exist_ok=True)
    shutil.copy(SCIFACT / "queries.jsonl", subset / "queries.jsonl")
    shutil.copy(SCIFACT / "qrels" / "test.tsv", subset / "qrels" / "test.tsv")
    kept = []
    for line in (SCIFACT / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        if json.loads(line)["_id"] in judged:
            kept.append(line)
        elif distractors > 0:
            kept.append(line)
            distractors -= 1
    (subset / "corpus.jsonl").write_text("\n".join(kept) + "\n", encoding="utf-8")
    return subset


def retrieval(backends: list[str], dataset: Path, work_dir: Path) -> dict:
    """Dense retrieval with each backend, each into an index of its own, run side by side."""
    runs = {}
    for backend in backends:
        index_dir = work_dir / f"{dataset.name}-{backend}"
        env = {**os.environ, "RAG_EMBED_RUNTIME": backend, "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m", "rag.cli", "eval-retrieval", str(dataset), "--mode", "dense", "--json",
               "--index-dir", str(index_dir)]
        log = (work_dir / f"{dataset.name}-{backend}.log").open("w")  # progress; a pipe would fill and block
        runs[backend] = (time.perf_counter(), log, subprocess.Popen(cmd, env=env, cwd=ROOT, text=True,
                                                                    stdout=subprocess.PIPE, stderr=log))
    results = {}
    for backend, (start, log, proc) in runs.items():
        stdout, _ = proc.communicate()
        log.close()
        if proc.returncode != 0:
            raise SystemExit(f"{backend}: eval-retrieval failed, see {log.name}")
        results[f"{backend} ({dataset.name})"] = {**json.loads(stdout.strip().splitlines()[-1]),
                                                  "wall_s": round(time.perf_counter() - start, 1)}
        print(f"{backend}: {results[f'{backend} ({dataset.name})']}", file=sys.stderr)
    return results


def markdown(report: dict) -> str:
    lines = []
    if report.get("throughput"):
        lines += ["# Embedding throughput (chunks/s, best of rounds)", "",
                  f"{report['texts']} SciFact abstracts (title + text), {report['machine']}; "
                  f"load average at start {report['load_at_start']}. On a shared machine, compare rows of "
                  "one run: absolute numbers fall with other jobs' load.", "",
                  "| backend | batch | length-sorted | unsorted |", "|---|---|---|---|"]
        by_key = {(r["backend"], r["batch_size"], r["length_sorted"]): r["chunks_per_s"] for r in report["throughput"]}
        for backend in ("torch", "onnx"):
            for batch in BATCHES:
                lines.append(
                    f"| {backend} | {batch} | {by_key[(backend, batch, True)]} | {by_key[(backend, batch, False)]} |"
                )
        agreement = report["agreement"]
        lines += ["", f"ONNX int8 vs torch cosine on {agreement['texts']} of these texts: "
                  f"min {agreement['cosine_min']}, mean {agreement['cosine_mean']}.", ""]
    if report.get("retrieval"):
        columns = list(next(iter(report["retrieval"].values())))
        lines += ["## SciFact dense retrieval (`rag eval-retrieval --mode dense`)", "",
                  "scifact-subN: every judged document plus N others; wall_s includes indexing "
                  "(backends run side by side).", "",
                  "| backend | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
        for backend, values in report["retrieval"].items():
            lines.append(f"| {backend} | " + " | ".join(str(v) for v in values.values()) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--retrieval", nargs="*", choices=["torch", "onnx"], default=[],
                        help="backends to run SciFact eval-retrieval with (index in WORK_DIR/scifact-BACKEND)")
    parser.add_argument("--subset", type=int, help="retrieval on judged documents + this many others only")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/rag-bench-embed"))
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "embed_throughput.json"
    new: dict = {}
    if not args.skip_throughput:
        texts = scifact_texts(args.texts)
        new.update({"texts": len(texts), "machine": f"{os.cpu_count()} CPUs",
                    "load_at_start": round(os.getloadavg()[0], 1)})
        new["throughput"], new["agreement"] = throughput(texts, args.rounds, args.work_dir / "models")
    if args.retrieval:
        dataset = SCIFACT if args.subset is None else scifact_subset(args.subset, args.work_dir)
        new["retrieval"] = retrieval(args.retrieval, dataset, args.work_dir)
    # Read what is recorded only now: another part may have finished while this one ran.
    report = json.loads(out.read_text()) if out.exists() else {}
    new["retrieval"] = {**report.get("retrieval", {}), **new.get("retrieval", {})}
    report.update(new)
    out.write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "embed_throughput.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
