"""Answer benchmark: per backend, time to first token, time to the full answer, answer accuracy, and the share
of citations the support check accepts, on bench/questions.json over a fresh index of corpus/.
Also records the measurements behind the thresholds in rag/answer.py and rag/citations.py ("calibration").

    .venv/bin/python bench/answers.py [--backends extractive,local,openai,ollama] [--out bench/results]

openai / ollama run only when their server answers (RAG_OPENAI_BASE_URL / RAG_OLLAMA_BASE_URL); otherwise they
are recorded as skipped with the reason.
"""

from __future__ import annotations

import rag  # noqa: F401  (offline environment first)

import argparse
import json
import platform
import shutil
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from rag import answer as answering
from rag.api import Assistant
from rag.backends import BackendError, get_backend
from rag.citations import SUPPORT_COSINE, SUPPORT_OVERLAP
from rag.config import Settings, load_settings
from rag.text import overlap, passage_sentences

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def correct(answer, item) -> bool:
    """The answer states the expected words and cites a passage of the right document holding them."""
    words = [w.lower() for w in item["expect"]]
    said = all(w in answer.answer.lower() for w in words)
    cited = any(
        c.passage.source == item["source"] and all(w in c.passage.text.lower() for w in words) for c in answer.citations
    )
    return said and cited


def server_down(kind: str, settings: Settings) -> str | None:
    """Why the backend's server can't be benchmarked, or None when it answers."""
    url = settings.openai_base_url.rstrip("/") + "/models" if kind == "openai" else settings.ollama_base_url.rstrip("/") + "/api/tags"
    if kind == "openai" and "api.openai.com" in url:
        return "no local OpenAI-compatible server configured (RAG_OPENAI_BASE_URL) and the benchmark stays offline"
    try:
        urllib.request.urlopen(url, timeout=2).close()
    except OSError as exc:
        return f"{url} unreachable ({exc})"
    return None


def calibrate(assistant: Assistant, questions: dict) -> dict:
    """Distributions behind RELEVANCE_MIN and SUPPORT_COSINE / SUPPORT_OVERLAP."""
    embedder = answering.MemoEmbedder(assistant.embedder)
    k = assistant.settings.top_k

    def gate(question: str) -> dict:
        hits = assistant.search(question, k)
        passage_cos = embedder.encode([h.passage.text for h in hits]) @ embedder.encode_query(question)
        return {"sentence": answering.relevance(question, hits, embedder), "passage": float(passage_cos.max())}

    answerable = [gate(item["question"]) for item in questions["answerable"]]
    unanswerable = [gate(q) for q in questions["unanswerable"]]

    positives, negatives = [], []
    for item in questions["answerable"]:
        claim, words = item["claim"], [w.lower() for w in item["expect"]]
        claim_vec = embedder.encode_query(claim)
        for passage in (hit.passage for hit in assistant.search(item["question"], k)):
            sentences = passage_sentences(passage.text) or [passage.text]
            score = {
                "cosine": float((embedder.encode(sentences) @ claim_vec).max()),
                "overlap": overlap(claim, passage.text),
            }
            holds = passage.source == item["source"] and all(w in passage.text.lower() for w in words)
            (positives if holds else negatives).append(score)

    def accepted(scores: list[dict]) -> float:
        ok = [s["cosine"] >= SUPPORT_COSINE or s["overlap"] >= SUPPORT_OVERLAP for s in scores]
        return round(sum(ok) / len(ok), 3) if ok else 0.0

    def spread(values: list[float]) -> dict:
        return {"min": round(min(values), 3), "median": round(statistics.median(values), 3), "max": round(max(values), 3)}

    return {
        "relevance_gate": {
            "threshold": answering.RELEVANCE_MIN,
            "answerable_sentence_cosine": spread([g["sentence"] for g in answerable]),
            "unanswerable_sentence_cosine": spread([g["sentence"] for g in unanswerable]),
            "answerable_passage_cosine": spread([g["passage"] for g in answerable]),
            "unanswerable_passage_cosine": spread([g["passage"] for g in unanswerable]),
        },
        "support_check": {
            "thresholds": {"cosine": SUPPORT_COSINE, "overlap": SUPPORT_OVERLAP},
            "note": "claim = hand-written paraphrase of the answer; positive = retrieved passage holding the fact, "
            "negative = other retrieved passages (same topic, no fact)",
            "positive_cosine": spread([s["cosine"] for s in positives]),
            "negative_cosine": spread([s["cosine"] for s in negatives]),
            "positive_overlap": spread([s["overlap"] for s in positives]),
            "negative_overlap": spread([s["overlap"] for s in negatives]),
            "positives_accepted": accepted(positives),
            "negatives_accepted": accepted(negatives),
            "pairs": {"positive": len(positives), "negative": len(negatives)},
        },
    }


def bench_backend(assistant: Assistant, name: str, questions: dict) -> dict:
    started = time.perf_counter()
    backend = get_backend(name, assistant.settings)
    load_s = time.perf_counter() - started

    def ask(question: str, history=()):
        return answering.answer_question(
            question, history, retrieve=assistant.search, embedder=assistant.embedder, backend=backend,
            k=assistant.settings.top_k,
        )

    rows = []
    for item in questions["answerable"]:
        answer = ask(item["question"])
        rows.append({
            "question": item["question"], "answer": answer.answer, "grounded": answer.grounded,
            "correct": correct(answer, item), "citations": len(answer.citations),
            "supported": sum(c.supported for c in answer.citations), "timings": answer.timings,
        })
    abstained = []
    for question in questions["unanswerable"]:
        answer = ask(question)
        abstained.append({"question": question, "grounded": answer.grounded, "answer": answer.answer})
    followups = []
    for item in questions["followups"]:
        history = [{"role": "user", "content": item["history"]},
                   {"role": "assistant", "content": ask(item["history"]).answer}]
        answer = ask(item["question"], history)
        followups.append({"history": item["history"], "question": item["question"], "query": answer.query,
                          "correct": correct(answer, item), "answer": answer.answer})

    citations = sum(r["citations"] for r in rows)
    first = [r["timings"]["first_token_ms"] for r in rows]
    total = [r["timings"]["total_ms"] for r in rows]
    return {
        "backend": name,
        "model": assistant.settings.llm_model or "(backend default)",
        "load_s": round(load_s, 2),
        "summary": {
            "questions": len(rows),
            "correct": sum(r["correct"] for r in rows),
            "grounded": sum(r["grounded"] for r in rows),
            "citations": citations,
            "supported_fraction": round(sum(r["supported"] for r in rows) / citations, 3) if citations else None,
            "first_token_ms_median": round(statistics.median(first), 1),
            "first_token_ms_max": round(max(first), 1),
            "total_ms_median": round(statistics.median(total), 1),
            "total_ms_max": round(max(total), 1),
            "unanswerable_abstained": f"{sum(not a['grounded'] for a in abstained)}/{len(abstained)}",
            "followups_correct": f"{sum(f['correct'] for f in followups)}/{len(followups)}",
        },
        "answerable": rows,
        "unanswerable": abstained,
        "followups": followups,
    }


def markdown(result: dict) -> str:
    lines = [
        "# Answer benchmark",
        "",
        f"{result['machine']}; index of corpus/ ({result['index']['chunks']} chunks), k={result['k']}, "
        f"retrieval {result['retrieval_mode']}, embeddings {result['embed_runtime']}. Generated by bench/answers.py.",
        "",
        "| backend | load s | correct | grounded | citations supported | first token ms (median / max) "
        "| full answer ms (median / max) | off-corpus abstained | follow-ups |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in result["backends"]:
        if "skipped" in run:
            lines.append(f"| {run['backend']} | skipped: {run['skipped']} |||||||| ")
            continue
        s = run["summary"]
        lines.append(
            f"| {run['backend']} | {run['load_s']} | {s['correct']}/{s['questions']} | {s['grounded']}/{s['questions']} "
            f"| {s['supported_fraction']} | {s['first_token_ms_median']} / {s['first_token_ms_max']} "
            f"| {s['total_ms_median']} / {s['total_ms_max']} | {s['unanswerable_abstained']} | {s['followups_correct']} |"
        )
    gate, support = result["calibration"]["relevance_gate"], result["calibration"]["support_check"]
    lines += [
        "",
        "## Calibration",
        "",
        f"Relevance gate (best question-sentence cosine, threshold {gate['threshold']}): answerable "
        f"{gate['answerable_sentence_cosine']}, off-corpus {gate['unanswerable_sentence_cosine']}. "
        f"Whole-passage cosine for comparison: answerable {gate['answerable_passage_cosine']}, "
        f"off-corpus {gate['unanswerable_passage_cosine']}.",
        "",
        f"Support check (cosine >= {support['thresholds']['cosine']} or term overlap >= "
        f"{support['thresholds']['overlap']}): paraphrased claims vs the passage holding the fact: cosine "
        f"{support['positive_cosine']}, overlap {support['positive_overlap']}, accepted {support['positives_accepted']}; "
        f"vs same-topic passages without it: cosine {support['negative_cosine']}, overlap "
        f"{support['negative_overlap']}, accepted {support['negatives_accepted']} "
        f"({support['pairs']['positive']} / {support['pairs']['negative']} pairs).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="extractive,local,openai,ollama")
    parser.add_argument("--questions", type=Path, default=HERE / "questions.json")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    questions = json.loads(args.questions.read_text())

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(REPO / "corpus", Path(tmp) / "corpus")
        settings = load_settings(corpus_dir=Path(tmp) / "corpus", index_dir=Path(tmp) / "index")
        assistant = Assistant(settings)
        report = assistant.index()
        result = {
            "machine": f"{platform.machine()}, {__import__('os').cpu_count()} CPUs, Python {platform.python_version()}",
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "index": {"documents": report.documents_total, "chunks": report.chunks_total},
            "k": settings.top_k,
            "retrieval_mode": settings.retrieval_mode,
            "embed_runtime": settings.embed_runtime,
            "calibration": calibrate(assistant, questions),
            "backends": [],
        }
        for name in [b.strip() for b in args.backends.split(",") if b.strip()]:
            reason = server_down(name, settings) if name in ("openai", "ollama") else None
            if reason is None:
                try:
                    run = bench_backend(assistant, name, questions)
                except BackendError as exc:
                    run = {"backend": name, "skipped": str(exc)}
            else:
                run = {"backend": name, "skipped": reason}
            result["backends"].append(run)
            print(json.dumps({k: v for k, v in run.items() if k in ("backend", "skipped", "load_s", "summary")}))

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "answers.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    (args.out / "answers.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
