"""Answers made of the retrieved passages' own units: no LLM, deterministic, works with only the index.

Units are sentences, table rows with their header, list items with their lead-in, front-matter fields and link
definitions (rag/units.py). Each is scored by embedding cosine with the question plus its coverage of the
question's rare terms, with bonuses for carrying the expected answer type and for conclusions
(rag/grounding.py). Only units that answer the question are quoted: the best one, and others within a margin
of it; when the question asks for several items and the best unit is a table row or list item, its table or
list is quoted row by row. Nothing is yielded when no unit answers: the pipeline then declines.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from rag.config import Settings
from rag.grounding import judge
from rag.question import CARRIED_TYPES, EXPANSION
from rag.units import HEADING, ITEM, LINK, METADATA, ROW, units_of

if TYPE_CHECKING:
    from rag.embed import Embedder
    from rag.passage import Passage
    from rag.question import Question

MARGIN = 0.12  # units scoring this far below the best one are not worth quoting
DUPLICATE_COSINE = 0.9  # overlapping chunks repeat sentences; quote each once
MIN_WORDS = 5  # shorter sentences and items are labels, not answers (rows and fields may be short; so may
# the items a list question asks for)
MAX_LIST_ITEMS = 8  # a list answer quotes at most this many rows / items


class ExtractiveBackend:
    """An :class:`rag.backends.AnswerBackend` that quotes the passages instead of asking a model."""

    name = "extractive"

    def __init__(self, max_sentences: int = 3):
        self.max_sentences = max_sentences

    def answer(self, question: Question, passages: Sequence[Passage], embedder: Embedder) -> Iterator[str]:
        """Yield the chosen units one by one, each ending with its passage's [n] marker."""
        units = [
            unit
            for unit in units_of(list(passages))
            # a question in a document ("What's the evidence that ...?") is never its answer
            if not unit.text.endswith("?")
            and (unit.kind != HEADING or question.type == EXPANSION)
            and (unit.kind in (ROW, METADATA, LINK) or question.wants_list
                 or len(unit.text.split()) >= (2 if question.type in CARRIED_TYPES else MIN_WORDS))
        ]
        answering = [j for j in judge(question, units, embedder, [p.section for p in passages]) if j.answers]
        if not answering:
            return
        top = answering[0]
        # A list question answered from a table or list about what it asks (its lead-in / section names the focus).
        if question.wants_list and top.unit.kind in (ROW, ITEM) and question.coverage(top.unit.context) > 0:
            members = [u for u in units if (u.passage, u.group) == (top.unit.passage, top.unit.group)]
            for position, unit in enumerate(members[:MAX_LIST_ITEMS]):
                yield f"{chr(10) if position else ''}- {unit.text.rstrip('.;,:')} [{unit.passage + 1}]"
            return
        # A typed question has one answer: quote a second unit only when it is nearly as good.
        margin = MARGIN / 3 if question.type in CARRIED_TYPES else MARGIN
        chosen = []
        for judged in answering:
            if len(chosen) == self.max_sentences or judged.score < top.score - margin:
                break
            if any(float(judged.vector @ other.vector) >= DUPLICATE_COSINE for other in chosen):  # incl. repeats
                continue
            chosen.append(judged)
        for position, unit in enumerate(judged.unit for judged in chosen):
            text = unit.text.lstrip("—–-:;,. ")
            body, end = text.rstrip(" .!?…:;,"), text[-1] if text[-1] in "!?" else "."
            yield f"{' ' if position else ''}{body} [{unit.passage + 1}]{end}"

    def rewrite(self, question: str, history: Sequence[dict[str, str]]) -> None:
        """No model to rewrite follow-ups with: the pipeline adds the previous question's terms itself."""
        return None


def build(settings: Settings) -> ExtractiveBackend:
    return ExtractiveBackend()
