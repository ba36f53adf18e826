"""What the benches over a folder of real documents share (bench/pydocs.py, bench/pdfs.py).

A question set is JSON with "answerable" items (question, source, evidence: an exact passage of the
source's extracted text, line breaks aside; optional "also": other sources that answer it) and
"unanswerable" items (near the documents' topics, answered by none). Over a fresh index of the folder this
measures retrieval recall@5 per mode and, with the extractive backend, the answer metrics of
bench/answers.py: evidence cited, falsely declined, declined.
"""

from __future__ import annotations

import rag  # noqa: F401  (offline environment first)

import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from answers import ask, backends_built_once, covered, pct, summarise
from rag.api import Assistant
from rag.config import load_settings
from rag.text import one_line

MODES = ("hybrid", "dense", "bm25")
K = 5
TUNING = "tuning"  # questions without a "split": the rules may be tuned on them


def flat(text: str) -> str:
    return " ".join(text.split()).casefold()


def answers(item: dict) -> list[dict]:
    """The question's (source, evidence) pairs: its source, and any other that answers it too."""
    return [{"source": item["source"], "evidence": item["evidence"]}, *item.get("also", [])]


def evidence_span(text: str, evidence: str) -> tuple[int, int]:
    """Where the evidence is in a document's text, whatever the line breaks between its words."""
    pattern = r"\s+".join(re.escape(word) for word in evidence.split())
    match = re.search(pattern, text)
    if match is None:
        raise ValueError(f"evidence not in its source: {evidence[:80]!r}")
    return match.span()


def evidence_spans(questions: dict, text_of: Callable[[str], str]) -> dict[tuple[str, str], tuple[int, int]]:
    return {
        (answer["source"], answer["evidence"]): evidence_span(text_of(answer["source"]), answer["evidence"])
        for item in questions["answerable"] for answer in answers(item)
    }


def found(hit, answer: dict, span: tuple[int, int]) -> bool:
    """The hit is from the answer's source and holds its evidence (text, section, or half its span)."""
    passage = hit.passage
    if passage.source != answer["source"]:
        return False
    evidence = flat(answer["evidence"])
    if evidence in flat(passage.text) or evidence in flat(passage.section):
        return True
    covered_chars = min(passage.end, span[1]) - max(passage.start, span[0])
    return 2 * covered_chars >= span[1] - span[0]


@contextmanager
def indexed(folder: Path, embed_runtime: str | None = None, only: str | None = None, embed_model: str = ""):
    """(Assistant over a fresh temporary index of ``folder``, its IndexReport, seconds it took).

    ``only``: a glob; just the files matching it are indexed (copied beside the index), not the folder's notes.
    ``embed_model``: another embedding model than the default (a folder, or a packaged model's name)."""
    with tempfile.TemporaryDirectory() as tmp:
        if only:
            corpus = Path(tmp) / "corpus"
            corpus.mkdir()
            for path in folder.glob(only):
                shutil.copy2(path, corpus / path.name)
            folder = corpus
        overrides = {"embed_runtime": embed_runtime} if embed_runtime else {}
        if embed_model:
            overrides["embed_model"] = embed_model
        assistant = Assistant(load_settings(corpus_dir=folder, index_dir=Path(tmp) / "index", **overrides))
        started = time.perf_counter()
        report = assistant.index()
        yield assistant, report, time.perf_counter() - started


def retrieval(assistant: Assistant, questions: dict, spans: dict) -> dict:
    """Recall@5 and median latency per mode, misses per mode, and the top hit of each unanswerable question."""
    results: dict = {"modes": {}, "misses": {}, "unanswerable": []}
    for mode in MODES:
        hits_at, latencies, misses = 0, [], []
        for item in questions["answerable"]:
            started = time.perf_counter()
            hits = assistant.search(item["question"], k=K, mode=mode)
            latencies.append(time.perf_counter() - started)
            if any(found(hit, a, spans[a["source"], a["evidence"]]) for hit in hits for a in answers(item)):
                hits_at += 1
            else:
                top = hits[0].passage if hits else None
                misses.append({"question": item["question"], "source": item["source"],
                               "top": f"{top.source} § {one_line(top.section, 80)}" if top else ""})
        results["modes"][mode] = {
            "recall_at_5": hits_at / len(questions["answerable"]),
            "median_ms": 1000 * statistics.median(latencies),
        }
        results["misses"][mode] = misses
    for item in questions["unanswerable"]:
        hits = assistant.search(item["question"], k=1, mode="hybrid")
        top = hits[0] if hits else None
        results["unanswerable"].append(
            {"question": item["question"],
             "top": f"{top.passage.source} § {one_line(top.passage.section, 80)}" if top else "",
             "score": round(top.score, 3) if top else None}
        )
    return results


def answer_metrics(assistant: Assistant, questions: dict, backend: str = "extractive") -> dict:
    """bench/answers.py's metrics for one backend: evidence cited (its citations cover the evidence, compared
    in the document text the index stores), falsely declined, declined; rows for the answers given."""
    rows = []
    with backends_built_once():
        for item in questions["answerable"]:
            answer, first_ms, total_ms = ask(assistant, backend, item["question"])
            evidence = {"source": item["source"], "text": item["evidence"],
                        "or": [{"source": a["source"], "text": a["evidence"]} for a in item.get("also", [])]}
            cited = covered(evidence, answer.citations, text_of=assistant.document_text)
            rows.append({"question": item["question"], "split": item.get("split", TUNING), "answer": answer.answer,
                         "grounded": answer.grounded, "evidence_cited": answer.grounded and cited,
                         "falsely_declined": not answer.grounded, "first_token_ms": first_ms, "total_ms": total_ms})
        for item in questions["unanswerable"]:
            answer, first_ms, total_ms = ask(assistant, backend, item["question"])
            rows.append({"question": item["question"], "split": item.get("split", TUNING), "answer": answer.answer,
                         "grounded": answer.grounded, "declined": not answer.grounded, "first_token_ms": first_ms,
                         "total_ms": total_ms})
    metrics = {"backend": backend, "answerable": summarise([r for r in rows if "evidence_cited" in r]),
               "unanswerable": summarise([r for r in rows if "declined" in r]), "rows": rows}
    splits = sorted({r["split"] for r in rows})
    if len(splits) > 1:  # questions kept apart from tuning are reported apart
        metrics["splits"] = {split: {"answerable": summarise([r for r in rows if r["split"] == split and "evidence_cited" in r]),
                                     "unanswerable": summarise([r for r in rows if r["split"] == split and "declined" in r])}
                             for split in splits}
    return metrics


def _held_out(row: dict) -> str:
    return "" if row["split"] == TUNING else f"({row['split']}) "


def report_lines(results: dict, questions_file: str) -> list[str]:
    """Markdown for the retrieval table, its misses, the answer metrics and the unanswerable questions' top hits."""
    lines = [
        f"A retrieval hit is a top-{K} passage of an answering "
        f"document holding its evidence (text, section path, or half its span); questions: {questions_file}.",
        "",
        "| mode | recall@5 | median query ms |",
        "|---|---|---|",
    ]
    lines += [f"| {mode} | {r['recall_at_5']:.3f} | {r['median_ms']:.0f} |" for mode, r in results["modes"].items()]
    lines += ["", "Misses (hybrid):", ""]
    lines += [f"- {m['question']} ({m['source']}); top: {m['top']}" for m in results["misses"]["hybrid"]] or ["- none"]
    if "answers" in results:
        a = results["answers"]
        lines += [
            "",
            f"Answers ({a['backend']} backend, as bench/answers.py counts them): evidence cited "
            f"{pct(a['answerable'].get('evidence_cited'))}, falsely declined {pct(a['answerable'].get('falsely_declined'))}, "
            f"unanswerable declined {pct(a['unanswerable'].get('declined'))}; full answer p50 "
            f"{a['answerable']['total_ms']['p50']} ms.",
            *(f"- {split} questions: evidence cited {pct(part['answerable'].get('evidence_cited'))}, falsely declined "
              f"{pct(part['answerable'].get('falsely_declined'))}, unanswerable declined "
              f"{pct(part['unanswerable'].get('declined'))}" for split, part in a.get("splits", {}).items()),
            "",
            "Answerable questions whose evidence was not cited:",
            "",
        ]
        lines += [f"- {_held_out(r)}{r['question']} → {one_line(r['answer'], 120)}" for r in a["rows"]
                  if "evidence_cited" in r and not r["evidence_cited"]] or ["- none"]
        lines += ["", "Unanswerable questions answered anyway:", ""]
        lines += [f"- {_held_out(r)}{r['question']} → {one_line(r['answer'], 120)}" for r in a["rows"]
                  if "declined" in r and not r["declined"]] or ["- none"]
    lines += ["", f"Unanswerable questions ({len(results['unanswerable'])}): top hybrid hit and score", ""]
    lines += [f"- {u['question']} → {u['top']} ({u['score']})" for u in results["unanswerable"]]
    return lines
