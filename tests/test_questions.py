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
