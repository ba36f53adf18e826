"""Answer benchmark: per backend, per split and per question class, how often the answer cites its evidence,
declines what the documents don't answer, falsely declines what they do, states the expected words, and how
fast it starts and finishes, on bench/questions.json over a fresh index of corpus/.
Also records the measurements behind the answer thresholds on the calibration half ("calibration").

    python bench/answers.py [--backends extractive,local,openai,ollama] [--split heldout|calibration|all]
                            [--slow-subset N] [--label TEXT] [--out bench/results]
                            [--chunks 10000 [--filler-distinct N] [--scifact PATH]]

``--chunks N`` asks the same questions of a bigger index (written as answers_<N>.md/json): corpus/ plus SciFact
abstracts written as text files — --filler-distinct of them embedded for real, then copies of those files,
whose chunk and unit vectors ingest copies, until the index holds about N chunks (the copies are distractors for
retrieval; an answer's cost depends on the 5 passages it reads, not on where they come from). It also records
the stored unit vectors' size (per 100k chunks) and how long the layout-4 migration takes to add them per
1k chunks.

``extractive`` runs by default. LLM backends run only when named: ``local`` (SmolLM2, about a minute per answer
on a 2-core CPU) on a subset of --slow-subset questions spread over the classes; openai / ollama only when
their server answers (RAG_OPENAI_BASE_URL / RAG_OLLAMA_BASE_URL), otherwise recorded as skipped with the reason.
Questions are asked through the public API, ``Assistant.ask(question, history, backend=...)``; each backend is
built once per run (as a long-running UI does), not once per question.
"""

from __future__ import annotations

import rag  # noqa: F401  (offline environment first)

import argparse
import contextlib
import functools
import json
import math
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import numpy as np

import rag.backends
from rag import answer as answering
from rag import citations as citing
from rag.api import Assistant
from rag.backends import BackendError
from rag.config import Settings, load_settings
from rag.store import DB_NAME
from rag.text import overlap, passage_sentences

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SLOW_BACKENDS = ("local", "openai", "ollama")
UNANSWERABLE_CLASSES = ("unanswerable", "off-topic")
TARGETS = {"evidence_cited": 0.90, "declined": 0.85, "falsely_declined": 0.05}  # issue 10, held-out, extractive

DEFINITIONS = {
    "evidence cited": (
        "an answerable question whose answer is grounded and whose every evidence span (an exact substring of its "
        "source file, from bench/questions.json) is covered by the answer's citations of that file. A citation's "
        "quote is source[quote_start:quote_end] when the citation carries quote offsets into its source file (inside "
        "the passage's span, before it for a section heading, or from the heading right before it on into it), "
        "passage.text[quote_start:quote_end] when the offsets only fit the passage text, else the whole passage "
        "text. A span is covered when one quote contains it, both compared after removing what the index strips "
        "(HTML comments and tags, markdown link syntax) and collapsing whitespace, case-insensitively; or, for "
        "quotes given as source offsets, when every non-space character of one occurrence of the span lies inside "
        "the union of the cited source ranges (a list or a two-sentence span quoted piecewise). An evidence item "
        "may list alternative spans ('or') that hold the same answer; covering one of them is enough."
    ),
    "correct": "the answer is grounded and contains every 'expect' word (case-insensitive, quotes and whitespace "
    "normalised).",
    "falsely declined": "an answerable question answered with grounded = false.",
    "declined": "an unanswerable (near-topic, typed) or off-topic question answered with grounded = false.",
    "same as fresh": "an 'unrelated' follow-up whose answer text equals the answer to the same question in a "
    "fresh chat.",
    "latency": "wall-clock ms from calling Assistant.ask to the first non-empty text delta (first token) and to "
    "the final answer event (full answer), end to end (query rewrite, retrieval, answer, checks); for "
    "follow-ups only the follow-up question is timed. p50 / p95 by linear interpolation.",
}


# ---- the evidence check ---------------------------------------------------------------------

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_LINK = re.compile(r"!?\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def normalise(text: str) -> str:
    """Text as the index shows it, for containment checks: no comments, tags or link syntax; one space; lower case."""
    text = _LINK.sub(r"\1", _TAG.sub("", _COMMENT.sub("", text)))
    return " ".join(text.translate(_QUOTES).split()).lower()


@functools.cache
def source_text(source: str) -> str:
    return (REPO / "corpus" / source).read_text(encoding="utf-8")


def quote_of(citation, text_of=source_text) -> tuple[str, tuple[int, int] | None]:
    """The cited text, and its source range when the citation gives one (see DEFINITIONS['evidence cited']).

    ``text_of(source)`` is the text citation offsets index into: the corpus file here, the index's stored
    text for extracted formats (bench/question_set.py)."""
    passage = citation.passage
    start = getattr(citation, "quote_start", None)
    end = getattr(citation, "quote_end", None)
    if start is not None and end is not None and start < end:
        if passage.start <= start and end <= passage.end or end <= passage.start:  # before it: a section heading
            return text_of(passage.source)[start:end], (start, end)
        source = text_of(passage.source)
        heading = source[start:passage.start].strip().lstrip("#").strip()  # "### Path.is_socket()" in Markdown
        if start < passage.start < end <= passage.end and heading in passage.section.split(" > "):
            return source[start:end], (start, end)  # from its section heading on into it: an entry's signature
        if end <= len(passage.text):
            return passage.text[start:end], None
    return passage.text, None


def _occurrences(text: str, span: str) -> list[int]:
    found, at = [], text.find(span)
    while at >= 0:
        found.append(at)
        at = text.find(span, at + 1)
    return found


def covered(evidence: dict, citations: list, text_of=source_text) -> bool:
    """The span, or one of its equally good alternatives ('or'), is covered by the citations."""
    return any(span_covered(span, citations, text_of) for span in [evidence, *evidence.get("or", [])])


def span_covered(evidence: dict, citations: list, text_of=source_text) -> bool:
    mine = [c for c in citations if c.passage.source == evidence["source"]]
    quotes = [quote_of(c, text_of) for c in mine]
    wanted = normalise(evidence["text"])
    if any(wanted in normalise(text) for text, _ in quotes):
        return True
    ranges = [r for _, r in quotes if r is not None]
    if not ranges:
        return False
    source = text_of(evidence["source"])
    inside = np.zeros(len(source), dtype=bool)
    for start, end in ranges:
        inside[start:end] = True
    for at in _occurrences(source, evidence["text"]):
        chars = [i for i in range(at, at + len(evidence["text"])) if not source[i].isspace()]
        if inside[chars].all():
            return True
    return False


def says(answer_text: str, words: list[str]) -> bool:
    said = normalise(answer_text)
    return all(normalise(word) in said for word in words)


# ---- asking -------------------------------------------------------------------------------------


@contextlib.contextmanager
def backends_built_once():
    """Assistant.ask builds its backend per call; a run builds each backend once, as a long-running UI would."""
    original = rag.backends.get_backend
    built: dict[str, object] = {}

    def get_backend(name, settings):
        if name not in built:
            built[name] = original(name, settings)
        return built[name]

    rag.backends.get_backend = get_backend
    try:
        yield
    finally:
        rag.backends.get_backend = original


def ask(assistant: Assistant, backend: str, question: str, history=()) -> tuple:
    """(final Answer, first-token ms, full-answer ms), the question's vector not remembered from an earlier step."""
    assistant.embedder.forget_queries()
    started = time.perf_counter()
    first = None
    final = None
    for event in assistant.ask(question, history, backend=backend):
        if first is None and getattr(event, "text", ""):
            first = (time.perf_counter() - started) * 1000
        if getattr(event, "answer", None) is not None:
            final = event.answer
    total = (time.perf_counter() - started) * 1000
    return final, round(first if first is not None else total, 1), round(total, 1)


def citation_row(citation, text_of=source_text) -> dict:
    row = {"n": citation.n, "source": citation.passage.source, "start": citation.passage.start,
           "end": citation.passage.end, "supported": citation.supported}
    for name in ("quote_start", "quote_end", "answers"):
        if hasattr(citation, name):
            row[name] = getattr(citation, name)
    row["quote"] = quote_of(citation, text_of)[0][:300]
    return row


def run_question(assistant: Assistant, backend: str, item: dict) -> dict:
    history = ()
    row = {k: item[k] for k in ("id", "class", "split", "type", "question") if k in item}
    if item["class"] == "followup":
        previous, _, _ = ask(assistant, backend, item["history"])
        history = [{"role": "user", "content": item["history"]}, {"role": "assistant", "content": previous.answer}]
        row.update(history=item["history"], followup=item["followup"])
    answer, first_ms, total_ms = ask(assistant, backend, item["question"], history)
    row.update(
        answer=answer.answer, grounded=answer.grounded, query=answer.query, first_token_ms=first_ms, total_ms=total_ms,
        # A --chunks run may cite a filler document, which is no corpus/ file: its text comes from the index.
        citations=[citation_row(c, lambda source: source_text(source) if (REPO / "corpus" / source).is_file()
                                else assistant.document_text(source)) for c in answer.citations],
    )
    if item["answerable"]:
        spans = [covered(e, answer.citations) for e in item["evidence"]]
        row.update(
            evidence_covered=spans, evidence_cited=answer.grounded and all(spans),
            correct=answer.grounded and says(answer.answer, item["expect"]), falsely_declined=not answer.grounded,
        )
    else:
        row["declined"] = not answer.grounded
    if item.get("followup") == "unrelated":
        fresh, _, _ = ask(assistant, backend, item["question"])
        row["same_as_fresh"] = fresh.answer == answer.answer
    return row


# ---- a bigger index ---------------------------------------------------------------------------


def add_filler(assistant: Assistant, corpus: Path, scifact: Path, chunks: int, distinct: int) -> dict:
    """Grow the index to about ``chunks`` chunks with SciFact abstracts: ``distinct`` embedded, the rest copies."""
    original = corpus / "filler" / "original"
    original.mkdir(parents=True)
    with scifact.open(encoding="utf-8") as lines:
        for line, _ in zip(lines, range(distinct)):
            doc = json.loads(line)
            (original / f"{doc['_id']}.txt").write_text(f"{doc['title']}\n\n{doc['text']}\n", encoding="utf-8")
    started = time.perf_counter()
    before = assistant.store.counts()[1]
    report = assistant.index()
    embedded_s = time.perf_counter() - started
    per_copy = report.chunks_total - before
    copies = max(0, math.ceil((chunks - report.chunks_total) / per_copy)) if per_copy else 0
    for copy in range(1, copies + 1):
        shutil.copytree(original, corpus / "filler" / f"copy-{copy:02d}")
    started = time.perf_counter()
    report = assistant.index()
    return {"target": chunks, "distinct_abstracts": distinct, "distinct_chunks": per_copy, "copies": copies,
            "index_distinct_s": round(embedded_s, 1), "index_copies_s": round(time.perf_counter() - started, 1),
            "chunks": report.chunks_total, "documents": report.documents_total,
            "dense_index": assistant.store.meta().get("dense_index")}


def unit_vector_size(index_dir: Path) -> dict:
    """Bytes the stored answer-unit vectors take, per chunk and scaled to 100k chunks."""
    db = sqlite3.connect(index_dir / DB_NAME)
    try:
        chunks, stored, blob_bytes = db.execute(
            "SELECT COUNT(*), COUNT(unit_vectors), COALESCE(SUM(LENGTH(unit_vectors)), 0) FROM chunks").fetchone()
        units = sum(int.from_bytes(blob[:4], "little") for (blob,) in db.execute(
            "SELECT unit_vectors FROM chunks WHERE unit_vectors IS NOT NULL"))
    finally:
        db.close()
    index_bytes = sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file() and "models" not in f.parts)
    # The unit search's base (rag/dense_index.py): loaded whole into memory, so this is also its memory cost.
    unit_index_bytes = sum(f.stat().st_size for f in index_dir.glob("unit*-*.*") if f.suffix in (".faiss", ".npy"))
    return {"chunks": chunks, "chunks_with_unit_vectors": stored, "units": units, "bytes": blob_bytes,
            "units_per_chunk": round(units / max(stored, 1), 1), "bytes_per_chunk": round(blob_bytes / max(stored, 1)),
            "mb_per_100k_chunks": round(blob_bytes / max(stored, 1) * 100_000 / 1e6), "index_bytes": index_bytes,
            "unit_index_bytes": unit_index_bytes,
            "unit_index_mb_per_100k_chunks": round(unit_index_bytes / max(chunks, 1) * 100_000 / 1e6)}


def migration_time(assistant: Assistant, sample: int) -> dict:
    """The layout 4 -> 5 migration's cost: ``sample`` chunks lose their unit vectors (as a layout-4 index has
    none) and the next index run adds them back, embedding only their units."""
    db = sqlite3.connect(Path(assistant.settings.index_dir) / DB_NAME)
    with db:
        db.execute("UPDATE chunks SET unit_vectors = NULL WHERE id IN (SELECT id FROM chunks ORDER BY id LIMIT ?)",
                   (sample,))
    db.close()
    started = time.perf_counter()
    report = assistant.index()
    seconds = time.perf_counter() - started
    return {"chunks": sample, "units_embedded": report.units_embedded, "chunks_embedded": report.chunks_embedded,
            "seconds": round(seconds, 1), "seconds_per_1k_chunks": round(seconds * 1000 / sample, 1)}


# ---- summaries ----------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def summarise(rows: list[dict]) -> dict:
    """Counts and rates for a group of question rows (rates over the rows they apply to)."""

    def rate(key: str) -> dict | None:
        hits = [r[key] for r in rows if key in r]
        return {"n": len(hits), "yes": sum(hits), "rate": round(sum(hits) / len(hits), 3)} if hits else None

    first = [r["first_token_ms"] for r in rows]
    total = [r["total_ms"] for r in rows]
    out = {"questions": len(rows)}
    for key in ("evidence_cited", "correct", "falsely_declined", "declined", "same_as_fresh"):
        if (value := rate(key)) is not None:
            out[key] = value
    out["first_token_ms"] = {"p50": percentile(first, 50), "p95": percentile(first, 95)}
    out["total_ms"] = {"p50": percentile(total, 50), "p95": percentile(total, 95)}
    return out


def summaries(rows: list[dict]) -> dict:
    """split -> {"answerable", "unanswerable", "off-topic", and one entry per class}."""
    result = {}
    splits = sorted({r["split"] for r in rows})
    for split in splits + (["all"] if len(splits) > 1 else []):
        chosen = [r for r in rows if split == "all" or r["split"] == split]
        groups = defaultdict(list)
        for r in chosen:
            if r["class"] in UNANSWERABLE_CLASSES:
                groups[r["class"]].append(r)
                continue
            groups["answerable"].append(r)
            groups[f"class:{r['class']}"].append(r)
            if r["class"] == "followup":
                groups[f"class:followup, {r['followup']}"].append(r)
        result[split] = {name: summarise(group) for name, group in sorted(groups.items())}
    return result


def subset(questions: list[dict], size: int) -> list[dict]:
    """``size`` questions taken round-robin over the classes, so a slow backend still sees every class."""
    by_class = defaultdict(list)
    for item in questions:
        by_class[item["class"]].append(item)
    picked, queues = [], [list(v) for v in by_class.values()]
    while len(picked) < size and any(queues):
        for queue in queues:
            if queue and len(picked) < size:
                picked.append(queue.pop(0))
    return picked


def bench_backend(assistant: Assistant, name: str, questions: list[dict], slow_subset: int) -> dict:
    started = time.perf_counter()
    rag.backends.get_backend(name, assistant.settings)  # built (and cached) here so the load is timed apart
    load_s = round(time.perf_counter() - started, 2)
    chosen = subset(questions, slow_subset) if name in SLOW_BACKENDS else questions
    rows = [run_question(assistant, name, item) for item in chosen]
    return {
        "backend": name,
        "model": assistant.settings.llm_model or "(backend default)" if name != "extractive" else "-",
        "load_s": load_s,
        "questions": len(rows),
        "summary": summaries(rows),
        "rows": rows,
    }


def server_down(kind: str, settings: Settings) -> str | None:
    """Why the backend's server can't be benchmarked, or None when it answers."""
    if kind == "openai":
        url = settings.openai_base_url.rstrip("/") + "/models"
        if "api.openai.com" in url:
            return "no local OpenAI-compatible server configured (RAG_OPENAI_BASE_URL) and the benchmark stays offline"
    else:
        url = settings.ollama_base_url.rstrip("/") + "/api/tags"
    try:
        urllib.request.urlopen(url, timeout=2).close()
    except OSError as exc:
        return f"{url} unreachable ({exc})"
    return None


# ---- calibration ------------------------------------------------------------------------------


def spread(values: list[float]) -> dict | None:
    if not values:
        return None
    return {"n": len(values), "min": round(min(values), 3), "median": round(statistics.median(values), 3),
            "max": round(max(values), 3)}


def calibrate(assistant: Assistant, questions: list[dict]) -> dict:
    """Distributions behind the relevance gate and the support check, on the calibration half only."""
    questions = [q for q in questions if q["split"] == "calibration"]
    embedder = assistant.embedder
    k = assistant.settings.top_k

    def best_cosines(query: str, hits) -> dict:
        sentences = [s for h in hits for s in (passage_sentences(h.passage.text) or [h.passage.text])]
        q = embedder.encode_query(query)
        return {"sentence": float((embedder.encode(sentences) @ q).max()) if sentences else 0.0,
                "passage": float((embedder.encode([h.passage.text for h in hits]) @ q).max()) if hits else 0.0}

    gate = defaultdict(list)
    for item in questions:
        if item["class"] == "followup":
            continue
        group = item["class"] if item["class"] in UNANSWERABLE_CLASSES else "answerable"
        gate[group].append(best_cosines(item["question"], assistant.search(item["question"], k)))

    positives, negatives = [], []
    for item in (q for q in questions if q.get("claim")):
        claim_vec = embedder.encode_query(item["claim"])
        for hit in assistant.search(item["question"], k):
            sentences = passage_sentences(hit.passage.text) or [hit.passage.text]
            score = {"cosine": float((embedder.encode(sentences) @ claim_vec).max()),
                     "overlap": overlap(item["claim"], hit.passage.text)}
            holds = any(normalise(e["text"]) in normalise(hit.passage.text)
                        for e in item["evidence"] if e["source"] == hit.passage.source)
            (positives if holds else negatives).append(score)

    cosine_min = getattr(citing, "SUPPORT_COSINE", None)
    overlap_min = getattr(citing, "SUPPORT_OVERLAP", None)

    def accepted(scores: list[dict]) -> float | None:
        if not scores or cosine_min is None or overlap_min is None:
            return None
        return round(sum(s["cosine"] >= cosine_min or s["overlap"] >= overlap_min for s in scores) / len(scores), 3)

    return {
        "relevance_gate": {
            "threshold": getattr(answering, "RELEVANCE_MIN", None),
            **{f"{group}_sentence_cosine": spread([g["sentence"] for g in gate[group]])
               for group in ("answerable", *UNANSWERABLE_CLASSES)},
            **{f"{group}_passage_cosine": spread([g["passage"] for g in gate[group]])
               for group in ("answerable", *UNANSWERABLE_CLASSES)},
        },
        "support_check": {
            "thresholds": {"cosine": cosine_min, "overlap": overlap_min},
            "note": "claim = hand-written paraphrase of the answer; positive = retrieved passage holding the "
            "evidence, negative = other retrieved passages (same topic, no evidence)",
            "positive_cosine": spread([s["cosine"] for s in positives]),
            "negative_cosine": spread([s["cosine"] for s in negatives]),
            "positive_overlap": spread([s["overlap"] for s in positives]),
            "negative_overlap": spread([s["overlap"] for s in negatives]),
            "positives_accepted": accepted(positives),
            "negatives_accepted": accepted(negatives),
        },
    }


def evidence_in_chunks(assistant: Assistant, questions: list[dict]) -> dict:
    """Which evidence spans the index's chunk text holds at all (a span it lacks can only be cited by offsets)."""
    texts = defaultdict(list)
    for _, source, _, _, text in assistant.store.chunk_contexts():
        texts[source].append(normalise(text))
    missing = [
        {"id": item["id"], "class": item["class"], "evidence": e["text"]}
        for item in questions if item["answerable"] for e in item["evidence"]
        if not any(normalise(e["text"]) in t for t in texts[e["source"]])
    ]
    total = sum(len(item["evidence"]) for item in questions if item["answerable"])
    return {"spans": total, "not_in_chunk_text": missing}


# ---- report -------------------------------------------------------------------------------------


def git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "rag", "bench/answers.py", "bench/questions.json")
    return commit + (" (+ uncommitted changes)" if dirty else "")


def pct(entry: dict | None) -> str:
    # from the counts, not the stored rate (rounded to 3 places: 299/471 = 0.6348 would show as 64%)
    return f"{entry['yes']}/{entry['n']} ({entry['yes'] / entry['n']:.0%})" if entry else "–"


def target_line(heldout: dict) -> str:
    """Issue 10's targets for the extractive backend on the held-out half, met or not."""
    got = {
        "evidence_cited": heldout.get("answerable", {}).get("evidence_cited"),
        "declined": heldout.get("unanswerable", {}).get("declined"),
        "falsely_declined": heldout.get("answerable", {}).get("falsely_declined"),
    }
    checks = []
    for key, target in TARGETS.items():
        entry, at_most = got[key], key == "falsely_declined"
        met = entry is not None and (entry["rate"] <= target if at_most else entry["rate"] >= target)
        checks.append(
            f"{key.replace('_', ' ')} {pct(entry)} (target {'≤' if at_most else '≥'} {target:.0%}: "
            f"{'met' if met else 'not met'})"
        )
    return "Issue 10 targets on the held-out half (declined: near-topic unanswerable only): " + "; ".join(checks) + "."


def markdown(result: dict) -> str:
    label = f" — {result['label']}" if result["label"] else ""
    lines = [
        f"# Answer benchmark{label}",
        "",
        f"Code at git commit {result['commit']}; {result['date']}; {result['machine']}. Index of corpus/ "
        f"({result['index']['chunks']} chunks), k={result['k']}, retrieval {result['retrieval_mode']}, embeddings "
        f"{result['embed_runtime']}. Questions: bench/questions.json, split {result['split']}. Generated by "
        f"`python bench/answers.py{' --chunks ' + str(result['filler']['target']) if 'filler' in result else ''}`. "
        f"Load average (other jobs on the 2 shared cores) {result.get('load_average_before')} at the start, "
        f"{result.get('load_average_after')} at the end.",
        "",
    ]
    if "filler" in result:
        filler, size, migration = result["filler"], result["unit_vectors"], result["migration"]
        lines += [
            f"Index: corpus/ plus {filler['distinct_abstracts']} SciFact abstracts as text files "
            f"({filler['distinct_chunks']} chunks, embedded in {filler['index_distinct_s']} s) and {filler['copies']} "
            f"copies of those files (vectors copied, {filler['index_copies_s']} s): {filler['chunks']} chunks, "
            f"{filler['documents']} documents, {size['index_bytes'] / 1e6:.0f} MB on disk, {filler['dense_index']} dense index.",
            "",
            f"Stored answer-unit vectors (int8 + a float32 scale + an 8-byte text key each): {size['units_per_chunk']} "
            f"per chunk, {size['bytes_per_chunk']} bytes per chunk: **{size['mb_per_100k_chunks']} MB per 100k chunks**.",
            "",
            f"Unit search index (8-bit FAISS scalar quantizer + row → chunk ids; held in memory): "
            f"{size['unit_index_bytes'] / 1e6:.1f} MB, **{size['unit_index_mb_per_100k_chunks']} MB per 100k chunks**.",
            "",
            f"Migration from layout 4 (unit vectors added to existing chunks by the next index run, no chunk "
            f"re-embedded): {migration['chunks']} chunks, {migration['units_embedded']} unit texts embedded in "
            f"{migration['seconds']} s: **{migration['seconds_per_1k_chunks']} s per 1k chunks** at this load.",
            "",
        ]
    for run in result["backends"]:
        if "skipped" in run:
            lines += [f"## {run['backend']}: skipped — {run['skipped']}", ""]
            continue
        lines += [f"## {run['backend']}", "",
                  f"Backend load {run['load_s']} s; {run['questions']} questions"
                  + (f" (a subset spread over the classes)" if run["backend"] in SLOW_BACKENDS else "") + ".", ""]
        for split, groups in run["summary"].items():
            lines += [
                f"### {split}", "",
                "| group | n | evidence cited | correct | falsely declined | declined | same as fresh "
                "| first token p50 / p95 ms | full answer p50 / p95 ms |",
                "|---|---|---|---|---|---|---|---|---|",
            ]
            for name, s in groups.items():
                lines.append(
                    f"| {'**' + name + '**' if ':' not in name else name.split(':', 1)[1]} | {s['questions']} "
                    f"| {pct(s.get('evidence_cited'))} | {pct(s.get('correct'))} | {pct(s.get('falsely_declined'))} "
                    f"| {pct(s.get('declined'))} | {pct(s.get('same_as_fresh'))} "
                    f"| {s['first_token_ms']['p50']} / {s['first_token_ms']['p95']} "
                    f"| {s['total_ms']['p50']} / {s['total_ms']['p95']} |"
                )
            lines.append("")
        if run["backend"] == "extractive" and "heldout" in run["summary"]:
            lines += [target_line(run["summary"]["heldout"]), ""]
    lines += ["## Definitions", ""] + [f"- **{k}**: {v}" for k, v in DEFINITIONS.items()] + [""]
    missing = result["evidence_in_chunks"]["not_in_chunk_text"]
    lines += [
        f"Evidence spans absent from every indexed chunk's text: {len(missing)} of "
        f"{result['evidence_in_chunks']['spans']} ({', '.join(sorted({m['class'] for m in missing})) or 'none'}): "
        "they can only be cited through quote offsets into the source (front matter, headings, link definitions).",
        "",
    ]
    gate, support = result["calibration"]["relevance_gate"], result["calibration"]["support_check"]
    lines += [
        "## Calibration (calibration half only)",
        "",
        f"Relevance gate (best question–sentence cosine among the top {result['k']} passages; threshold "
        f"{gate['threshold']}): answerable {gate['answerable_sentence_cosine']}, near-topic unanswerable "
        f"{gate['unanswerable_sentence_cosine']}, off-topic {gate['off-topic_sentence_cosine']}. Whole-passage "
        f"cosine: answerable {gate['answerable_passage_cosine']}, near-topic unanswerable "
        f"{gate['unanswerable_passage_cosine']}, off-topic {gate['off-topic_passage_cosine']}.",
        "",
        f"Support check (cosine ≥ {support['thresholds']['cosine']} or term overlap ≥ "
        f"{support['thresholds']['overlap']}): "
        f"paraphrased claims vs the passage holding the evidence: cosine {support['positive_cosine']}, overlap "
        f"{support['positive_overlap']}, accepted {support['positives_accepted']}; vs same-topic passages without it: "
        f"cosine {support['negative_cosine']}, overlap {support['negative_overlap']}, accepted "
        f"{support['negatives_accepted']}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="extractive", help="comma-separated: extractive,local,openai,ollama")
    parser.add_argument("--split", choices=("heldout", "calibration", "all"), default="all")
    parser.add_argument("--slow-subset", type=int, default=12, help="questions asked of LLM backends")
    parser.add_argument("--label", default="", help="shown in the report's title, e.g. BASELINE")
    parser.add_argument("--questions", type=Path, default=HERE / "questions.json")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--chunks", type=int, default=0, help="grow the index to about this many chunks")
    parser.add_argument("--filler-distinct", type=int, default=200, help="SciFact abstracts embedded for --chunks")
    parser.add_argument("--scifact", type=Path, default=HERE.parent.parent / "shared" / "bench" / "scifact" / "corpus.jsonl")
    parser.add_argument("--migration-sample", type=int, default=1000, help="chunks whose unit vectors --chunks re-adds")
    args = parser.parse_args()
    questions = json.loads(args.questions.read_text(encoding="utf-8"))["questions"]
    chosen = [q for q in questions if args.split == "all" or q["split"] == args.split]

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(REPO / "corpus", Path(tmp) / "corpus")
        settings = load_settings(corpus_dir=Path(tmp) / "corpus", index_dir=Path(tmp) / "index")
        assistant = Assistant(settings)
        report = assistant.index()
        filler = add_filler(assistant, Path(tmp) / "corpus", args.scifact, args.chunks, args.filler_distinct) if args.chunks else None
        if filler:
            report.documents_total, report.chunks_total = filler["documents"], filler["chunks"]
        result = {
            "label": args.label,
            "commit": git_commit(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "index": {"documents": report.documents_total, "chunks": report.chunks_total},
            "k": settings.top_k,
            "retrieval_mode": settings.retrieval_mode,
            "embed_runtime": settings.embed_runtime,
            "split": args.split,
            "load_average_before": round(os.getloadavg()[0], 1),
            "definitions": DEFINITIONS,
            "calibration": calibrate(assistant, questions),
            "evidence_in_chunks": evidence_in_chunks(assistant, questions),
            "backends": [],
        }
        with backends_built_once():
            for name in [b.strip() for b in args.backends.split(",") if b.strip()]:
                reason = server_down(name, settings) if name in ("openai", "ollama") else None
                if reason is None:
                    try:
                        run = bench_backend(assistant, name, chosen, args.slow_subset)
                    except BackendError as exc:
                        run = {"backend": name, "skipped": str(exc)}
                else:
                    run = {"backend": name, "skipped": reason}
                result["backends"].append(run)
                print(json.dumps({k: v for k, v in run.items() if k in ("backend", "skipped", "load_s", "questions")}))
        result["load_average_after"] = round(os.getloadavg()[0], 1)
        if filler:
            result["filler"] = filler
            result["unit_vectors"] = unit_vector_size(Path(settings.index_dir))
            result["migration"] = migration_time(assistant, min(args.migration_sample, filler["chunks"]))

    args.out.mkdir(parents=True, exist_ok=True)
    name = f"answers_{args.chunks}" if args.chunks else "answers"
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.out / f"{name}.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))


if __name__ == "__main__":
    main()
