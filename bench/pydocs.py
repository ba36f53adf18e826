"""Retrieval and answers on a real documentation site: bench/pydocs_questions.json over an index of pydocs.

Indexes ../shared/bench/pydocs (62 Python 3.11 doc pages) with the real pipeline into a temporary
index, then measures (bench/question_set.py) recall@5 per retrieval mode with query latency — a hit is a
top-5 passage of the right page holding the evidence (in its text or its section path — a heading is
evidence too — or covering at least half of the evidence's span) — and the extractive backend's answers:
evidence cited, falsely declined, unanswerable declined. For the unanswerable questions it also records
the top hit's page and score. Writes bench/results/pydocs.json and pydocs.md (pydocs-<model>.json and .md for
another embedding model than the default). Another site's pages and question set are measured the same way
(--questions bench/rustbook_questions.json writes results/rustbook.*; --pages bench/sites/httpx --questions
bench/httpx_questions.json, an MkDocs site, results/httpx.*): a check that what was tuned on the Python docs holds on a
site nobody tuned on.

    .venv/bin/python bench/pydocs.py [--pages ../shared/bench/pydocs] [--embed-runtime onnx] [--embed-model NAME]
                                     [--questions bench/pydocs_questions.json]
"""

from __future__ import annotations

import rag  # noqa: F401  (offline environment first)

import argparse
import json
import platform
from pathlib import Path

from embed_models import add_embed_model_option, results_name
from question_set import answer_metrics, evidence_spans, indexed, report_lines, retrieval
from rag.loaders import load_document

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=HERE.parent.parent / "shared" / "bench" / "pydocs")
    parser.add_argument("--embed-runtime", default=None)
    parser.add_argument("--questions", type=Path, default=HERE / "pydocs_questions.json",
                        help="another site's question set (its results go to results/<name before _questions>.*)")
    add_embed_model_option(parser)
    args = parser.parse_args()
    questions = json.loads(args.questions.read_text(encoding="utf-8"))
    site = args.questions.stem.removesuffix("_questions")
    # The question set is checked by tests/test_loaders_html.py.
    spans = evidence_spans(questions, lambda source: load_document(args.pages / source, source, (args.pages / source).read_bytes()).text)
    with indexed(args.pages, args.embed_runtime, embed_model=args.embed_model) as (assistant, report, index_seconds):
        model = assistant.embedder.model_id
        results = retrieval(assistant, questions, spans)
        results["answers"] = answer_metrics(assistant, questions)

    results["index"] = {
        "documents": report.documents_total, "chunks": report.chunks_total, "seconds": round(index_seconds, 1),
        "skipped": report.skipped,
    }
    results["machine"] = {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()}
    results["embed_model"] = model
    out, name = HERE / "results", results_name(site, args.embed_model)
    (out / f"{name}.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    lines = [
        f"# Retrieval and answers on {args.pages.name} (bench/pydocs.py, embedding model {model})",
        "",
        f"Index: {report.documents_total} pages, {report.chunks_total} chunks in {index_seconds:.0f} s; "
        f"skipped: {', '.join(f'{s} ({r})' for s, r in report.skipped) or 'none'}.",
        f"{len(questions['answerable'])} answerable questions.",
        "",
        *report_lines(results, f"bench/{args.questions.name}"),
    ]
    (out / f"{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
