"""Ingest throughput of Ray Data (1 and 2 actors) against the single-process ingest, in one run.

The first --docs SciFact records are written as text files (title on the first line); each mode indexes
that folder into a fresh index with the default settings (ONNX runtime), the model export shared so no
mode pays for it. A Ray run's time includes starting its actor pool and loading the model in each actor
(every index run does that); starting the local Ray instance is done once beforehand and reported apart.
The time until the first file comes back from the pipeline is reported too, and the throughput after it.
The modes take turns, --rounds times, and the median counts. Checks that each mode gives the same chunks.

Writes bench/results/ray_ingest.json and ray_ingest.md.

    nice .venv/bin/python bench/ray_ingest.py [--docs 400] [--rounds 2] [--dataset /work/shared/bench/scifact]
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
MODES = {"single process": None, "Ray, 1 worker": 1, "Ray, 2 workers": 2}


def main() -> None:
    from rag.api import Assistant
    from rag.config import load_settings
    from rag.embed import Embedder
    from rag.evaluate import load_beir
    from rag.ingest_ray import LOCAL, start_ray

    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--dataset", type=Path, default=Path("/work/shared/bench/scifact"))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="rag-rb-"))  # short: Ray's sockets live under it
    folder = work / "docs"
    folder.mkdir()
    corpus, _, _ = load_beir(args.dataset)
    for doc_id in sorted(corpus, key=int)[: args.docs]:
        row = corpus[doc_id]
        (folder / f"{doc_id}.txt").write_text(f"{row.get('title', '').strip()}\n{row.get('text', '').strip()}\n")
    Embedder(cache_dir=work / "models")  # the ONNX export, done once and copied into each index

    started = time.perf_counter()
    start_ray(LOCAL, max(workers or 1 for workers in MODES.values()), work)
    ray_start = time.perf_counter() - started

    seconds: dict[str, list[float]] = {mode: [] for mode in MODES}
    first: dict[str, list[float]] = {mode: [] for mode in MODES}
    chunks: dict[str, int] = {}
    spans: dict[str, list] = {}
    loads = []
    for round_number in range(args.rounds):
        for mode, workers in MODES.items():
            index_dir = work / f"i{round_number}{workers or 0}"
            shutil.copytree(work / "models", index_dir / "models")
            extra = {"ray_address": LOCAL, "ray_workers": workers} if workers else {}
            assistant = Assistant(load_settings(index_dir=index_dir, **extra))
            assistant.embedder  # loaded before the clock starts, in every mode
            loads.append(os.getloadavg()[0])
            arrivals: list[float] = []

            def progress(fraction: float, message: str) -> None:
                if message.startswith("reading ") and not arrivals:
                    arrivals.append(time.perf_counter())

            started = time.perf_counter()
            report = assistant.index([folder], progress=progress)
            seconds[mode].append(time.perf_counter() - started)
            first[mode].append(arrivals[0] - started)
            assert len(report.added) == args.docs and not report.skipped, report.summary()
            chunks[mode] = report.chunks_total
            spans[mode] = assistant.store.spans_after(0)
            print(f"{mode}: {seconds[mode][-1]:.1f} s (first file after {first[mode][-1]:.1f} s), "
                  f"{report.chunks_total} chunks", file=sys.stderr)
            shutil.rmtree(index_dir)
    single = spans["single process"]
    assert all(found == single for found in spans.values()), "a mode chunked differently"

    median = {mode: statistics.median(values) for mode, values in seconds.items()}
    median_first = {mode: statistics.median(values) for mode, values in first.items()}
    base = median["single process"]
    result = {
        "documents": args.docs,
        "chunks": chunks["single process"],
        "rounds": args.rounds,
        "ray_start_seconds": round(ray_start, 1),
        "cpus": os.cpu_count(),
        "load_average": round(statistics.mean(loads), 1),
        "modes": {mode: {"seconds": [round(value, 1) for value in seconds[mode]], "median_seconds": round(median[mode], 1),
                         "chunks_per_second": round(chunks[mode] / median[mode], 1),
                         "first_file_seconds": round(median_first[mode], 1),
                         "chunks_per_second_after_first": round(chunks[mode] / (median[mode] - median_first[mode]), 1),
                         "throughput_vs_single": round(base / median[mode], 2)} for mode in MODES},
    }
    (RESULTS / "ray_ingest.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "ray_ingest.md").write_text(markdown(result))
    print(markdown(result))
    import ray

    ray.shutdown()
    shutil.rmtree(work, ignore_errors=True)


def markdown(result: dict) -> str:
    table = [("mode", "seconds (each round)", "median", "chunks/s", "throughput vs single process",
              "first file back after", "chunks/s after it"),
             ("---", "---", "---:", "---:", "---:", "---:", "---:")]
    table += [(mode, ", ".join(map(str, row["seconds"])), row["median_seconds"], row["chunks_per_second"],
               f"{row['throughput_vs_single']:.2f}x", f"{row['first_file_seconds']} s",
               row["chunks_per_second_after_first"]) for mode, row in result["modes"].items()]
    intro = (
        f"Produced by `bench/ray_ingest.py`: the first {result['documents']} SciFact documents as text files "
        f"({result['chunks']} chunks), each mode indexing them into a fresh index with the default settings (ONNX "
        f"runtime), modes taking turns, {result['rounds']} rounds, median counted. {result['cpus']} cores shared with "
        f"other work (load average {result['load_average']} during the runs). A Ray run includes starting its actor "
        f"pool and loading the model in each actor; starting the local Ray instance took "
        f"{result['ray_start_seconds']} s once before. Every mode gave the same chunks."
    )
    rows = ["| " + " | ".join(str(cell) for cell in row) + " |" for row in table]
    return "\n".join(["# Ray Data ingest against the single-process ingest (SciFact)", "", intro, "", *rows]) + "\n"


if __name__ == "__main__":
    main()
