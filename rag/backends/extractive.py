"""Answers made of the retrieved passages' own sentences: no LLM, deterministic, works with only the index.

Each sentence is scored by embedding cosine with the question plus lexical overlap (which rewards the exact
names a question asks about); the best few, within a margin of the top one, are quoted and cited.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from rag.config import Settings
from rag.text import overlap, passage_sentences

if TYPE_CHECKING:
    from rag.embed import Embedder
    from rag.passage import Passage

LEXICAL_WEIGHT = 0.3
MARGIN = 0.12  # sentences scoring this far below the best one are not worth quoting
DUPLICATE_COSINE = 0.9  # overlapping chunks repeat sentences; quote each once
MIN_WORDS = 5  # shorter lines are headings or labels, not answers


class ExtractiveBackend:
    """An :class:`rag.backends.AnswerBackend` that quotes the passages instead of asking a model."""

    name = "extractive"

    def __init__(self, max_sentences: int = 3):
        self.max_sentences = max_sentences

    def answer(self, question: str, passages: Sequence[Passage], embedder: Embedder) -> Iterator[str]:
        """Yield the chosen sentences one by one, each ending with its passage's [n] marker."""
        candidates = [
            (n, sentence)
            for n, passage in enumerate(passages, 1)
            for sentence in passage_sentences(passage.text)
            # a question in a document ("What's the evidence that ...?") is never its answer
            if len(sentence.split()) >= MIN_WORDS and not sentence.endswith("?")
        ]
        if not candidates:
            return
        vectors = embedder.encode([sentence for _, sentence in candidates])
        scores = vectors @ embedder.encode_query(question)
        scores = scores + LEXICAL_WEIGHT * np.array([overlap(question, s) for _, s in candidates])
        ranked = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))
        chosen: list[int] = []
        for i in ranked:
            if len(chosen) == self.max_sentences or scores[i] < scores[ranked[0]] - MARGIN:
                break
            if any(float(vectors[i] @ vectors[j]) >= DUPLICATE_COSINE for j in chosen):
                continue
            chosen.append(i)
        for position, i in enumerate(chosen):
            n, sentence = candidates[i]
            sentence = sentence.lstrip("—–-:;,. ")
            body, end = (sentence[:-1], sentence[-1]) if sentence[-1] in ".!?" else (sentence.rstrip(":;,"), ".")
            yield f"{' ' if position else ''}{body} [{n}]{end}"

    def rewrite(self, question: str, history: Sequence[dict[str, str]]) -> None:
        """No model to rewrite follow-ups with: the pipeline adds the previous question's terms itself."""
        return None


def build(settings: Settings) -> ExtractiveBackend:
    return ExtractiveBackend()
