"""bench/questions.json is a usable benchmark: enough questions of every class in both halves, and every
evidence string really is in the file it names (so "evidence cited" in bench/answers.py can be trusted)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = json.loads((REPO / "bench" / "questions.json").read_text(encoding="utf-8"))["questions"]
CLASSES = {
    "factoid", "definition", "acronym", "table", "list", "metadata", "lead-in", "paraphrase", "multi-document",
    "followup", "unanswerable", "off-topic",
}
TYPES = {
    "person", "organisation", "date", "number", "percentage", "place", "url", "expansion", "definition", "list",
    "yes/no", "other",
}


def test_size_and_unanswerable_share():
    assert len(QUESTIONS) >= 80
    assert sum(q["class"] == "unanswerable" for q in QUESTIONS) >= 25
    assert len({q["id"] for q in QUESTIONS}) == len(QUESTIONS)
    assert len({(q.get("history"), q["question"]) for q in QUESTIONS}) == len(QUESTIONS)


def test_every_class_in_both_splits():
    seen = Counter((q["class"], q["split"]) for q in QUESTIONS)
    assert {q["class"] for q in QUESTIONS} == CLASSES
    for cls in CLASSES:
        assert seen[(cls, "calibration")] >= 1 and seen[(cls, "heldout")] >= 1, cls
    kinds = Counter((q["followup"], q["split"]) for q in QUESTIONS if q["class"] == "followup")
    for kind in ("dependent", "unrelated"):
        assert kinds[(kind, "calibration")] >= 1 and kinds[(kind, "heldout")] >= 1, kind


@pytest.mark.parametrize("item", QUESTIONS, ids=[q["id"] for q in QUESTIONS])
def test_fields_and_evidence_in_source(item):
    assert item["type"] in TYPES
    assert item["answerable"] == (item["class"] not in ("unanswerable", "off-topic"))
    if not item["answerable"]:
        assert "evidence" not in item and "expect" not in item
        return
    sources = item["source"] if isinstance(item["source"], list) else [item["source"]]
    assert {e["source"] for e in item["evidence"]} == set(sources)
    assert item["expect"] and all(isinstance(w, str) and w for w in item["expect"])
    for evidence in item["evidence"]:
        for span in [evidence, *evidence.get("or", [])]:
            text = (REPO / "corpus" / span["source"]).read_text(encoding="utf-8")
            assert span["text"] and span["text"] in text, span
    if item["class"] == "multi-document":
        assert len(sources) >= 2
    if item["class"] == "followup":
        assert item["history"] and item["followup"] in ("dependent", "unrelated")


@pytest.mark.parametrize("item", [q for q in QUESTIONS if q["class"] == "paraphrase"], ids=lambda q: q["id"])
def test_paraphrase_shares_no_content_word_with_its_evidence(item):
    from rag.text import terms

    for evidence in item["evidence"]:
        assert not terms(item["question"]) & terms(evidence["text"]), evidence


def test_evidence_cited_reads_a_quote_running_from_its_section_heading_into_the_passage():
    # bench/answers.py's "evidence cited": a citation quoting an API entry's signature heading and the sentence under
    # it gives source offsets from the heading (before the passage) into the passage; both are its quote.
    import importlib.util

    from rag.passage import Citation, Passage

    spec = importlib.util.spec_from_file_location("bench_answers", REPO / "bench" / "answers.py")
    answers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(answers)
    sentence = "Return True if the path points to a Unix socket."
    document = f"Path.is_fifo()\n\nReturn True if the path points to a FIFO.\n\nPath.is_socket()\n\n{sentence}"
    passage = Passage(sentence, document.index(sentence), len(document), "Methods > Path.is_socket()", None, id=1,
                      source="p.html", title="p")
    heading_on = Citation(1, passage, True, True, document.index("Path.is_socket()"), len(document))
    evidence = {"source": "p.html", "text": f"Path.is_socket()\n\n{sentence}"}
    assert answers.covered(evidence, [heading_on], text_of=lambda source: document)
    # … but not one running from further back than the heading
    from_before = Citation(1, passage, True, True, document.index("Return True if the path points to a FIFO"),
                           len(document))
    assert not answers.covered(evidence, [from_before], text_of=lambda source: document)
