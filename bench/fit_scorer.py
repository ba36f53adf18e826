"""Fit the answer scorer's weights (rag.grounding.SCORE_WEIGHTS) on the tuning questions, and check them on the rest.

Every tuning question (bench/pydocs_questions.json without a "split" or with "tuning"; the calibration half of
bench/questions.json, follow-ups aside) is answered by the extractive backend over a fresh index of its documents,
and the units the answer judged are recorded with their features (rag.grounding.Judged.features). A unit is
evidence when its text is part of the question's evidence or holds it. A pairwise logistic regression ranks each
question's evidence units above its other answering units, drawn toward the weights set by hand before
(HAND_WEIGHTS), and is scaled to keep the score's spread (the answer's margins are in score units). A few features
keep their hand-set share (HAND_SET). The fitted weights go into rag.grounding.SCORE_WEIGHTS by hand.

On each split of each set the report counts how often the evidence is the first, or among the first three,
answering units, under the hand-set and the fitted weights; the answer benchmarks (bench/pydocs.py,
bench/answers.py, bench/pdfs.py) are what decides.

    python bench/fit_scorer.py [--pages ../shared/bench/pydocs] [--ridge 10] [--rows units.json] [--embed-model NAME]
"""

from __future__ import annotations

import rag  # noqa: F401  (offline environment first)

import argparse
import json
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np

import rag.backends.extractive as extractive
from answers import ask, backends_built_once
from embed_models import add_embed_model_option, results_name
from question_set import TUNING, flat, indexed
from rag.embed import model_id
from rag.grounding import SCORE_WEIGHTS, weighted

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# The weights set by hand before any fit (the cosine 1, focus coverage 0.3 split 0.7 own words / 0.3 with context,
# the bonuses as rag.grounding described them): the regression starts at them and is drawn toward them.
HAND_WEIGHTS = {"cosine": 1.0, "own_words": 0.21, "context_words": 0.09, "typed": 0.15, "literal": 0.15,
                "concluding": 0.08, "listed": 0.1, "led": 0.3, "structured": 0.05, "looks_up": 0.3, "opening": 0.1,
                "api_entry": 0.25, "shaped": 0.15, "field": 0.3, "defines": 0.15, "passage_rank": 0.0, "code": 0.0}
# Kept at their hand-set share: list, lookup, field and typed questions are too few among the tuning ones to fit;
# moving the opening, structure and instruction-shape weights broke the small-document tests that pin them (a
# glossary entry answering what its term is, a list item over a passing mention, an instruction after the setup).
HAND_SET = ("typed", "led", "looks_up", "field", "opening", "structured", "shaped")
RIDGE = 10.0  # L2 penalty (total, over the pairs) toward the hand-set weights


@contextmanager
def judged_units():
    """Records the units the extractive answer judges: the list holds, per answer, its last judgement."""
    recorded: list = []

    def recording(*args, **kwargs):
        result = judge(*args, **kwargs)
        recorded.append(result)
        return result

    judge = extractive.judge
    with mock.patch.object(extractive, "judge", recording):
        yield recorded


def is_evidence(text: str, evidence: list[str]) -> bool:
    """Is the unit part of the (flattened) evidence, or does it hold the evidence's start?"""
    unit = flat(text)
    return any(unit[:50] in part or part[:50] in unit for part in evidence)


def answered(assistant, questions: list[tuple[str, list[str], str]]) -> list[dict]:
    """Per question: its split and its answering units' features with whether each is evidence."""
    rows = []
    with backends_built_once(), judged_units() as recorded:
        for question, evidence, split in questions:
            recorded.clear()
            ask(assistant, "extractive", question)
            flattened = [flat(e) for e in evidence]
            units = [(judged.features, is_evidence(judged.unit.text, flattened))
                     for judged in (recorded[-1] if recorded else []) if judged.answers]
            rows.append({"question": question, "split": split, "units": units})
    return rows


def pydocs_questions(path: Path) -> list[tuple[str, list[str], str]]:
    items = json.loads(path.read_text(encoding="utf-8"))["answerable"]
    return [(item["question"], [item["evidence"], *(a["evidence"] for a in item.get("also", []))],
             item.get("split", TUNING)) for item in items]


def corpus_questions(path: Path) -> list[tuple[str, list[str], str]]:
    items = json.loads(path.read_text(encoding="utf-8"))["questions"]
    return [(item["question"], [e["text"] for e in item["evidence"]],
             TUNING if item["split"] == "calibration" else item["split"])
            for item in items if item["answerable"] and item["class"] != "followup"]


def pairs(rows: list[dict]) -> np.ndarray:
    """Evidence minus other unit (their features, in HAND_WEIGHTS' order), for every such pair of each question's
    answering units."""
    differences = []
    for row in rows:
        evidence = [np.array([f[name] for name in HAND_WEIGHTS]) for f, is_ev in row["units"] if is_ev]
        others = [np.array([f[name] for name in HAND_WEIGHTS]) for f, is_ev in row["units"] if not is_ev]
        differences += [e - o for e in evidence for o in others]
    return np.array(differences)


def logistic(x: np.ndarray, prior: np.ndarray, free: np.ndarray, ridge: float, steps: int = 3000,
             rate: float = 0.5) -> np.ndarray:
    """Weights ranking each pair's first unit above its second (pairs have no order of their own, so no intercept),
    starting at ``prior`` and drawn toward it by an L2 penalty; only the ``free`` ones move. Plain numpy gradient
    descent: scikit-learn's LogisticRegression (not a dependency here) draws weights toward zero only."""
    w = prior.astype(float)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w)))
        w -= rate * free * (-(x * (1 - p)[:, None]).mean(axis=0) + ridge * (w - prior) / len(x))
    return w


def fit(rows: list[dict], hand_set: tuple[str, ...], ridge: float) -> dict[str, float]:
    """The weights of a pairwise logistic regression drawn toward the hand-set ones (first put on the regression's
    scale), returned on the hand-set weights' scale: a feature few tuning pairs tell apart keeps about its hand-set
    weight, one many do moves as far as they show."""
    x = pairs(rows)
    hand = np.array(list(HAND_WEIGHTS.values()))
    scale = logistic((x @ hand)[:, None], np.zeros(1), np.ones(1), 0.0)[0]
    free = np.array([name not in hand_set for name in HAND_WEIGHTS], dtype=float)
    return dict(zip(HAND_WEIGHTS, map(float, logistic(x, scale * hand, free, ridge) / scale)))


def scaled(weights: dict[str, float], factor: float) -> dict[str, float]:
    return {name: round(weight * factor, 3) for name, weight in weights.items()}


def spread(rows: list[dict], weights: dict[str, float]) -> float:
    """The median score gap between a question's first and fourth answering units: what MARGIN and the other
    margins of rag.backends.extractive are measured against."""
    gaps = []
    for row in rows:
        scores = sorted((weighted(f, weights) for f, _ in row["units"]), reverse=True)
        if len(scores) >= 4:
            gaps.append(scores[0] - scores[3])
    return float(np.median(gaps))


def ranked_first(rows: list[dict], weights: dict[str, float], within: int) -> tuple[int, int]:
    """(questions whose evidence is among the first ``within`` answering units, questions with evidence there)."""
    hits = total = 0
    for row in rows:
        if not any(is_ev for _, is_ev in row["units"]):
            continue
        total += 1
        scores = [weighted(f, weights) for f, _ in row["units"]]
        order = np.argsort(-np.array(scores), kind="stable")[:within]
        hits += any(row["units"][i][1] for i in order)
    return hits, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=Path, default=REPO.parent / "shared" / "bench" / "pydocs")
    parser.add_argument("--ridge", type=float, default=RIDGE, help="how strongly weights are drawn to hand-set ones")
    parser.add_argument("--hand-set", default=",".join(HAND_SET), help="features kept at their hand-set share")
    parser.add_argument("--rows", type=Path, help="the recorded units: read from this file if it exists, else saved")
    parser.add_argument("--out", type=Path, help="the report (default results/scorer.md, or scorer-<model>.md)")
    add_embed_model_option(parser)
    args = parser.parse_args()
    hand_set = tuple(name for name in args.hand_set.split(",") if name)
    model = model_id(args.embed_model)
    out = args.out or HERE / "results" / f"{results_name('scorer', args.embed_model)}.md"
    if args.rows and args.rows.exists():
        rows = json.loads(args.rows.read_text(encoding="utf-8"))
    else:
        rows = []
        with indexed(args.pages, embed_model=args.embed_model) as (assistant, _, _):
            questions = pydocs_questions(HERE / "pydocs_questions.json")
            rows += [dict(r, set="pydocs") for r in answered(assistant, questions)]
        with indexed(REPO / "corpus", embed_model=args.embed_model) as (assistant, _, _):
            rows += [dict(r, set="corpus") for r in answered(assistant, corpus_questions(HERE / "questions.json"))]
        if args.rows:
            args.rows.write_text(json.dumps(rows), encoding="utf-8")
    tuning = [r for r in rows if r["split"] == TUNING]
    fitted = fit(tuning, hand_set, args.ridge)
    fitted = scaled(fitted, spread(tuning, HAND_WEIGHTS) / spread(tuning, fitted))
    lines = [f"# Answer scorer weights (bench/fit_scorer.py, embedding model {model})", "",
             f"Fitted on {len(tuning)} tuning questions (bench/pydocs_questions.json tuning split, "
             f"bench/questions.json calibration half without follow-ups), drawn toward the hand-set weights (ridge "
             f"{args.ridge}), and scaled to keep the median score gap between a question's first and fourth answering "
             f"units (the scale of the answer's margins). Kept at their hand-set share: {', '.join(hand_set)}.", "",
             "| feature | hand-set | fitted | in rag.grounding |", "|---|---|---|---|",
             *(f"| {name} | {HAND_WEIGHTS[name]} | {fitted[name]} | {SCORE_WEIGHTS.get(name, '–')} |"
               for name in HAND_WEIGHTS), "",
             "How often the evidence is the first, or among the first three, of the units an answer judged answering "
             "(questions with an evidence unit among them):", "",
             "| questions | weights | first | among first 3 |", "|---|---|---|---|"]
    for chosen in ("pydocs", "corpus"):
        for split in (TUNING, "heldout"):
            group = [r for r in rows if r["set"] == chosen and r["split"] == split]
            for label, weights in (("hand-set", HAND_WEIGHTS), ("fitted", fitted)):
                first, total = ranked_first(group, weights, 1)
                three, _ = ranked_first(group, weights, 3)
                lines.append(f"| {chosen} {split} | {label} | {first}/{total} | {three}/{total} |")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print("SCORE_WEIGHTS =", json.dumps(fitted))


if __name__ == "__main__":
    main()
