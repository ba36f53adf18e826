"""What the HTTP API costs: time to first token and to the full answer through `/v1/chat/completions` (the
real `openai` SDK against `rag serve --api-only` in its own process) vs the in-process call
(`Assistant.ask`), on the same index and questions, interleaved in one run so both see the same machine load.

    python bench/api_overhead.py [--questions 12] [--rounds 3] [--embed-runtime onnx] [--out bench/results]

Questions: the first N single-turn questions of bench/questions.json (answerable and not, every class but
follow-ups), extractive backend (deterministic, and the fastest, so the overhead is the largest share of
the time it will ever be; an LLM backend adds seconds per answer on top of the same overhead).
Per question and round the order of the three calls (in-process stream, API stream, API non-stream) rotates.
"""

from __future__ import annotations

import rag  # noqa: F401  (offline environment first)

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rag.api import Assistant
from rag.config import load_settings

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MODEL = "rag-extractive"
ROUND_TRIP = "API round trip without an answer (GET /v1/models)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def in_process(assistant: Assistant, question: str) -> tuple[float, float]:
    start = time.perf_counter()
    first = None
    for event in assistant.ask(question, backend="extractive"):
        if event.kind == "delta" and event.text and first is None:
            first = time.perf_counter() - start
    return first, time.perf_counter() - start


def api_stream(client, question: str) -> tuple[float, float]:
    start = time.perf_counter()
    first = None
    for chunk in client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": question}],
                                                stream=True):
        if chunk.choices and chunk.choices[0].delta.content and first is None:
            first = time.perf_counter() - start
    return first, time.perf_counter() - start


def api_whole(client, question: str) -> tuple[None, float]:
    start = time.perf_counter()
    client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": question}])
    return None, time.perf_counter() - start


def api_round_trip(client, _question: str) -> tuple[None, float]:
    """HTTP, the key check and JSON, without an answer: the floor of the API's cost."""
    start = time.perf_counter()
    client.models.list()
    return None, time.perf_counter() - start


def start_server(settings, port: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "RAG_CORPUS_DIR": str(settings.corpus_dir),
           "RAG_INDEX_DIR": str(settings.index_dir), "RAG_EMBED_RUNTIME": settings.embed_runtime,
           "RAG_BACKEND": "extractive"}
    return subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--api-only", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_ready(client, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.models.list()
            return
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the API server did not start: {process.stderr.read() if process.stderr else ''}")
            time.sleep(0.5)


def summary(values_ms: list[float]) -> dict:
    ordered = sorted(values_ms)
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--embed-runtime", default="onnx", choices=["onnx", "torch"])
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    from openai import OpenAI

    questions = [q["question"] for q in json.loads((HERE / "questions.json").read_text())["questions"]
                 if q["class"] != "followup"][: args.questions]
    work = Path(tempfile.mkdtemp(prefix="api-overhead-"))
    process = None
    try:
        shutil.copytree(REPO / "corpus", work / "corpus")
        settings = load_settings(corpus_dir=work / "corpus", index_dir=work / "index", embed_runtime=args.embed_runtime,
                                 backend="extractive")
        assistant = Assistant(settings)
        assistant.index()
        port = free_port()
        process = start_server(settings, port)
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="local", max_retries=0, timeout=120)
        wait_ready(client, process)
        calls = {"in-process stream": lambda q: in_process(assistant, q),
                 "API stream (openai SDK)": lambda q: api_stream(client, q),
                 "API non-stream (openai SDK)": lambda q: api_whole(client, q),
                 ROUND_TRIP: lambda q: api_round_trip(client, q)}
        for call in calls.values():  # warm-up: models, index files and connections loaded on both sides
            call(questions[0])
        first: dict[str, list[float]] = {name: [] for name in calls}
        total: dict[str, list[float]] = {name: [] for name in calls}
        names = list(calls)
        for round_number in range(args.rounds):
            for i, question in enumerate(questions):
                shift = (round_number + i) % len(names)
                for name in names[shift:] + names[:shift]:
                    ttft, whole = calls[name](question)
                    if ttft is not None:
                        first[name].append(ttft * 1000)
                    total[name].append(whole * 1000)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)

    base = "in-process stream"
    results = {
        "setup": {
            "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                     text=True).stdout.strip(),
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
            "questions": len(questions), "rounds": args.rounds, "backend": "extractive",
            "embed_runtime": args.embed_runtime, "server": "rag serve --api-only (separate process, 127.0.0.1)",
        },
        "first_token": {name: summary(values) for name, values in first.items() if values},
        "full_answer": {name: summary(values) for name, values in total.items()},
    }
    p50 = {kind: {name: values["p50_ms"] for name, values in results[kind].items()}
           for kind in ("first_token", "full_answer")}
    results["overhead"] = {
        name: {
            "first_token_ratio": round(p50["first_token"][name] / p50["first_token"][base], 2)
            if name in p50["first_token"] else None,
            "full_answer_ratio": round(p50["full_answer"][name] / p50["full_answer"][base], 2),
            "first_token_added_p50_ms": round(statistics.median(
                [api - local for api, local in zip(first[name], first[base])]), 1) if first[name] else None,
            "full_answer_added_p50_ms": round(statistics.median(
                [api - local for api, local in zip(total[name], total[base])]), 1),
        }
        for name in names if name not in (base, ROUND_TRIP)
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "api_overhead.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "api_overhead.md").write_text(markdown(results))
    print(markdown(results))


def markdown(results: dict) -> str:
    setup = results["setup"]
    lines = [
        "# HTTP API overhead",
        "",
        f"Code at git commit {setup['commit']}; {setup['when']}; {setup['machine']}. {setup['questions']} questions "
        f"of bench/questions.json × {setup['rounds']} rounds, backend {setup['backend']}, embeddings "
        f"{setup['embed_runtime']}; server: {setup['server']}, client: the `openai` SDK. Generated by "
        "`python bench/api_overhead.py`.",
        "",
        "Ratios are of medians (API / in-process); *added* is the median of the per-question differences "
        "(same question, same round, back to back), which cancels most of the machine's noise.",
        "",
        "| call | first token p50 / p95 ms | full answer p50 / p95 ms | first token ratio | full answer ratio | "
        "first token added | full answer added |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, whole in results["full_answer"].items():
        ttft = results["first_token"].get(name)
        ratio = results["overhead"].get(name, {})
        cells = [
            name,
            f"{ttft['p50_ms']} / {ttft['p95_ms']}" if ttft else "–",
            f"{whole['p50_ms']} / {whole['p95_ms']}",
            f"{ratio.get('first_token_ratio') or 1:.2f}" if ttft else "–",
            f"{ratio.get('full_answer_ratio', 1):.2f}",
            f"{ratio['first_token_added_p50_ms']} ms" if ratio.get("first_token_added_p50_ms") is not None else "–",
            f"{ratio['full_answer_added_p50_ms']} ms" if ratio else "–",
        ]
        if name == ROUND_TRIP:
            cells[3:] = ["–"] * 4
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
