"""The answer pipeline: question (+ chat history) -> query -> passages -> backend -> checked citations.

``answer_stream`` yields ``AnswerEvent(kind="delta", text=...)`` while the answer is produced (tokens for
LLM backends, sentences for ``extractive``), then one ``AnswerEvent(kind="done", answer=Answer)``.
Citation markers are renumbered already in the deltas, so a client that prints deltas and then the
citation list shows matching numbers; ``Answer.answer`` is the authoritative final text.

History is a list of OpenAI-style messages (see rag/prompt.py). The pieces live one concern per module:
rag/text.py (sentences and terms), rag/citations.py (markers and the support check), rag/prompt.py
(what a chat model is shown) and rag/backends/ (who writes the answer).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from rag.citations import MarkerRewriter, check_support, says_absent
from rag.passage import Citation, Hit
from rag.prompt import chat_history
from rag.text import content_words, passage_sentences

if TYPE_CHECKING:
    from rag.backends import AnswerBackend
    from rag.embed import Embedder

# Relevance gate, measured on bench/questions.json over corpus/ ("calibration" in bench/results/answers.json):
# best dense cosine between the query and any retrieved sentence. Answerable questions score >= 0.38,
# off-corpus ones <= 0.19. Whole-passage cosine separates worse (0.25 vs 0.15): a factoid is one sentence of a
# 200-token chunk.
RELEVANCE_MIN = 0.26

NOT_FOUND = "The indexed documents do not appear to answer this question."
UNVERIFIED_NOTE = "(No statement above is supported by the passages it cites; treat it as unverified.)"


@dataclass
class Answer:
    answer: str
    grounded: bool
    backend: str
    citations: list[Citation]
    uncited: list[Hit]  # retrieved but not cited, in retrieval order
    timings: dict[str, float]
    query: str = ""  # the standalone search query actually used (differs from the question for follow-ups)

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "grounded": self.grounded,
            "backend": self.backend,
            "citations": [citation.to_dict() for citation in self.citations],
            "timings": self.timings,
            # "retrieved" is the JSON name clients already read: the hits that were retrieved but not cited.
            "retrieved": [hit.to_dict() for hit in self.uncited],
        }


@dataclass
class AnswerEvent:
    kind: Literal["delta", "done"]
    text: str = ""
    answer: Answer | None = field(default=None, repr=False)


class MemoEmbedder:
    """An Embedder that encodes each distinct text once per answer: the relevance gate, the extractive
    backend and the support check all look at the same passage sentences."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            self._vectors.update(zip(missing, self.embedder.encode(missing)))
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts])

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def relevance(query: str, hits: Sequence[Hit], embedder: Embedder | MemoEmbedder) -> float:
    """Best dense cosine between the query and any sentence of the retrieved passages."""
    sentences = [s for hit in hits for s in (passage_sentences(hit.passage.text) or [hit.passage.text])]
    if not sentences:
        return 0.0
    return float((embedder.encode(sentences) @ embedder.encode_query(query)).max())


def standalone_query(question: str, history: Iterable[dict[str, Any]], backend: AnswerBackend) -> str:
    """The search query for a follow-up: the backend's rewrite, or the previous question's terms prepended."""
    turns = chat_history(history)
    previous = [message["content"] for message in turns if message["role"] == "user"]
    if not previous:
        return question
    return backend.rewrite(question, turns) or " ".join(
        [word for word in content_words(previous[-1]) if word not in content_words(question)] + [question]
    )


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return text.strip()


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def answer_stream(
    question: str,
    history: Iterable[dict[str, Any]] = (),
    *,
    retrieve: Callable[[str, int], list[Hit]],
    embedder: Embedder,
    backend: AnswerBackend,
    k: int = 5,
) -> Iterator[AnswerEvent]:
    """Stream an answer to ``question``; see the module docstring for events and history format.

    Raises ValueError for an empty question and rag.backends.BackendError when the backend fails.
    """
    question = " ".join(question.split())
    if not question:
        raise ValueError("the question is empty")
    start = time.perf_counter()
    timings: dict[str, float] = {}
    query = standalone_query(question, history, backend)
    timings["rewrite_ms"] = _ms(start)
    retrieval_start = time.perf_counter()
    hits = list(retrieve(query, k))
    timings["retrieval_ms"] = _ms(retrieval_start)

    embedder = MemoEmbedder(embedder)
    if relevance(query, hits, embedder) < RELEVANCE_MIN:
        text = f"{NOT_FOUND} The closest passages are listed below." if hits else f"{NOT_FOUND} Nothing matched."
        timings["first_token_ms"] = _ms(start)
        yield AnswerEvent("delta", text)
        timings["total_ms"] = _ms(start)
        yield AnswerEvent("done", answer=Answer(text, False, backend.name, [], hits, timings, query))
        return

    rewriter = MarkerRewriter(len(hits))
    emitted: list[str] = []
    for piece in backend.answer(query, [hit.passage for hit in hits], embedder):
        out = rewriter.feed(piece)
        if out:
            timings.setdefault("first_token_ms", _ms(start))
            emitted.append(out)
            yield AnswerEvent("delta", out)
    if tail := rewriter.flush():
        emitted.append(tail)
        yield AnswerEvent("delta", tail)
    timings.setdefault("first_token_ms", _ms(start))
    timings["generation_ms"] = _ms(start) - timings["first_token_ms"]

    text = _tidy("".join(emitted))
    cited = [hits[original - 1].passage for original in rewriter.order]
    supported = check_support(text, cited, embedder)
    grounded = any(supported) and not says_absent(text)
    if not text:
        text = NOT_FOUND
        yield AnswerEvent("delta", text)
    elif not grounded and not says_absent(text):
        text = f"{text}\n\n{UNVERIFIED_NOTE}"
        yield AnswerEvent("delta", f"\n\n{UNVERIFIED_NOTE}")
    citations = [Citation(n, passage, ok) for n, (passage, ok) in enumerate(zip(cited, supported), 1)]
    uncited = [hit for original, hit in enumerate(hits, 1) if original not in rewriter.order]
    timings["total_ms"] = _ms(start)
    yield AnswerEvent("done", answer=Answer(text, grounded, backend.name, citations, uncited, timings, query))


def answer_question(question: str, history: Iterable[dict[str, Any]] = (), **kwargs: Any) -> Answer:
    """The final Answer of ``answer_stream`` (same arguments), for callers that don't stream."""
    for event in answer_stream(question, history, **kwargs):
        if event.kind == "done" and event.answer is not None:
            return event.answer
    raise AssertionError("answer_stream ended without a final event")  # pragma: no cover
