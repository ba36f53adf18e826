"""Citation markers in answer text: renumbering them as the answer streams, and checking what they claim.

A marker ``[n]`` (also ``[2, 3]``, ``[passage 1]``, ``[source 1]``) cites the n-th passage the backend
was given. :class:`MarkerRewriter` renumbers markers in order of first use and drops those naming no
passage; :func:`check_support` decides, per cited passage, whether the sentences citing it are backed by it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from rag.text import overlap, passage_sentences, split_sentences

if TYPE_CHECKING:
    from rag.embed import Embedder
    from rag.passage import Passage

# A cited sentence is supported when its best cosine with a sentence of the passage reaches SUPPORT_COSINE, or
# when this share of its content terms occurs in the passage. Paraphrased answers vs the passage holding the
# fact: 83% accepted; vs same-topic passages without it: 9% accepted (bench/results/answers.json, "calibration").
SUPPORT_COSINE = 0.60
SUPPORT_OVERLAP = 0.70

MARKER = re.compile(r"\[(?:passage\s*|source\s*)?(\d+(?:\s*,\s*\d+)*)\]", re.IGNORECASE)
_PARTIAL_MARKER = re.compile(r"\[(?:p(?:a(?:s(?:s(?:a(?:g(?:e)?)?)?)?)?)?|s(?:o(?:u(?:r(?:c(?:e)?)?)?)?)?)?\s*[\d,\s]*",
                             re.IGNORECASE)
_ABSENT = re.compile(
    r"\b(?:passages?|documents?|context|sources?|text)\s+(?:do|does)\s*(?:not|n[o']t)\s+"
    r"(?:contain|mention|include|provide|say|answer|discuss|cover)"
    r"|\bno (?:relevant )?information\b|\bnot (?:mentioned|provided|found|covered) in the\b",
    re.IGNORECASE,
)


class MarkerRewriter:
    """Renumbers [n] markers in order of first use as text streams in; drops markers naming no passage."""

    def __init__(self, passages: int):
        self.passages = passages
        self.order: list[int] = []  # original passage numbers, in order of first citation
        self._pending = ""

    def _renumber(self, match: re.Match[str]) -> str:
        new: list[int] = []
        for number in re.split(r"\s*,\s*", match.group(1)):
            original = int(number)
            if not 1 <= original <= self.passages:
                continue
            if original not in self.order:
                self.order.append(original)
            n = self.order.index(original) + 1
            if n not in new:
                new.append(n)
        return "".join(f"[{n}]" for n in new)

    def feed(self, text: str) -> str:
        buffer = self._pending + text
        cut = buffer.rfind("[")
        if cut != -1 and len(buffer) - cut < 24 and _PARTIAL_MARKER.fullmatch(buffer[cut:]):
            self._pending, buffer = buffer[cut:], buffer[:cut]  # maybe a marker split across deltas
        else:
            self._pending = ""
        return MARKER.sub(self._renumber, buffer)

    def flush(self) -> str:
        rest, self._pending = self._pending, ""
        return MARKER.sub(self._renumber, rest)


def check_support(answer: str, cited: Sequence[Passage], embedder: Embedder) -> list[bool]:
    """Per cited passage (new numbering): is every sentence citing it backed by it?"""
    claims: list[tuple[str, list[int]]] = []
    for sentence in split_sentences(answer):
        numbers = [int(n) for n in re.findall(r"\[(\d+)\]", sentence)]
        claim = re.sub(r"\s*\[\d+\]", "", sentence).strip()
        if numbers and claim:
            claims.append((claim, numbers))
    if not claims:
        return [False] * len(cited)
    passage_sents = [passage_sentences(passage.text) or [passage.text] for passage in cited]
    flat = [s for sents in passage_sents for s in sents]
    vectors = embedder.encode([c for c, _ in claims] + flat)
    claim_vecs, sent_vecs = vectors[: len(claims)], vectors[len(claims):]
    bounds = np.cumsum([0] + [len(s) for s in passage_sents])
    verdicts: list[list[bool]] = [[] for _ in cited]
    for i, (claim, numbers) in enumerate(claims):
        for n in numbers:
            index = n - 1
            best_cos = float((sent_vecs[bounds[index]: bounds[index + 1]] @ claim_vecs[i]).max())
            verdicts[index].append(
                best_cos >= SUPPORT_COSINE or overlap(claim, cited[index].text) >= SUPPORT_OVERLAP
            )
    return [bool(v) and all(v) for v in verdicts]


def says_absent(text: str) -> bool:
    """Does the model say the passages lack the answer?"""
    return bool(_ABSENT.search(text))
