"""Citation markers in answer text: renumbering them as the answer streams, and checking what they claim.

A marker ``[n]`` (also ``[2, 3]``, ``[passage 1]``, ``[source 1]``) cites the n-th passage the backend
was given. :class:`MarkerRewriter` renumbers markers in order of first use and drops those naming no
passage; :func:`check_claims` decides, per cited passage, whether the sentences citing it are backed by it and
whether they answer the question; :func:`attribute` adds markers to an answer that has none; :func:`locate`
finds the quoted unit's exact source offsets.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.grounding import (
    WHO_OR_WHEN, carries_answer, carries_on, covers, names_found, question_vector, tells_what_is_asked,
)
from rag.text import citation_marks, fenced_spans, is_code, overlap, split_sentences, without_citation_marks
from rag.question import EXPANSION
from rag.units import CODE, HEADING, SENTENCE, Unit, passage_units, units_of, with_documents

if TYPE_CHECKING:
    import numpy as np

    from rag.embed import Embedder
    from rag.passage import Passage
    from rag.question import Question

# A cited sentence is supported when its best cosine with a sentence of the passage reaches SUPPORT_COSINE, or
# when this share of its content terms occurs in the passage. Paraphrased answers vs the passage holding the
# fact: 83% accepted; vs same-topic passages without it: 9% accepted (bench/results/answers.json, "calibration").
SUPPORT_COSINE = 0.60
SUPPORT_OVERLAP = 0.70
UNSUPPORTED = "(unsupported by the documents)"  # marks a sentence post-hoc attribution could not back

MARKER = re.compile(r"\[(?:passage\s*|source\s*)?(\d+(?:\s*,\s*\d+)*)\]", re.IGNORECASE)
_PARTIAL_MARKER = re.compile(r"\[(?:p(?:a(?:s(?:s(?:a(?:g(?:e)?)?)?)?)?)?|s(?:o(?:u(?:r(?:c(?:e)?)?)?)?)?)?\s*[\d,\s]*",
                             re.IGNORECASE)
# "[1, 2, 3]" ending a delta is a citation or code as what follows says ("…, [1, 2, 3]) gives 6", "[1,2] < [1,2,3]":
# rag.text.is_code): it waits for the next delta.
_UNDECIDED_LIST = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]\s*[<>!=+]?\s*")
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
        self._seen = ""  # the text fed so far: whether a bracket is inside a code block ("[3, 4, 5]") depends on it

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
        if cut != -1 and len(buffer) - cut < 24 and (_PARTIAL_MARKER.fullmatch(buffer[cut:])
                                                     or _UNDECIDED_LIST.fullmatch(buffer[cut:])):
            self._pending, buffer = buffer[cut:], buffer[:cut]  # maybe a marker split across deltas, or code
        else:
            self._pending = ""
        return self._rewrite(buffer)

    def flush(self) -> str:
        rest, self._pending = self._pending, ""
        return self._rewrite(rest)

    def _rewrite(self, text: str) -> str:
        """Markers renumbered outside fenced code; code is quoted as written."""
        start, self._seen = len(self._seen), self._seen + text
        if not MARKER.search(text):
            return text  # most deltas: no need to find the code blocks of the answer so far
        code = fenced_spans(self._seen)

        def outside(match: re.Match[str]) -> str:
            at = start + match.start()
            kept = is_code(self._seen, at) or any(a <= at < b for a, b in code)  # "sys.argv[0]", code as written
            return match.group(0) if kept else self._renumber(match)

        return MARKER.sub(outside, text)


@dataclass(frozen=True)
class Verdict:
    """What the check found for one cited passage (see rag/passage.py Citation for the flags' meaning)."""

    supported: bool
    answers: bool
    quotes: tuple[str, ...]  # the passage's units backing the claims that cite it: what the UI highlights


_TRAILING_MARKERS = re.compile(r"(.*?)((?:\s*\[\d+\])*)\s*", re.DOTALL)


def claims_of(answer: str) -> list[tuple[str, list[int]]]:
    """(claim without markers, the passage numbers it cites) per sentence of an answer that cites something; a
    fenced code block is one claim, citing the markers after it (its own brackets are code)."""
    claims = []
    for sentence in split_sentences(answer):
        block, markers = _TRAILING_MARKERS.fullmatch(sentence).groups()
        if fenced_spans(block) == [(0, len(block))]:  # "```\n<code>\n``` [1]": its own brackets are code
            if numbers := [int(n) for n in re.findall(r"\[(\d+)\]", markers)]:
                claims.append(("\n".join(block.split("\n")[1:-1]).strip(), numbers))
            continue
        numbers = [int(match.group(1)) for match in citation_marks(sentence)]
        claim = without_citation_marks(sentence).strip().lstrip("-•* ").strip()
        if numbers and claim:
            claims.append((claim, numbers))
    return claims


def _ranked_cosine(question: Question, asked: np.ndarray, units: Sequence[Unit], vectors: np.ndarray,
                   at: int) -> float:
    """The unit's cosine with the question, or the sentence's before it when it gives what that one states the
    question about (grounding.carries_on: "… makes .NET libraries available. It was created by Brian Lloyd."), as the
    answer ranked it."""
    cosine = float(vectors[at] @ asked)
    if at and carries_on(question, units[at - 1], units[at]):
        cosine = max(cosine, float(vectors[at - 1] @ asked))
    return cosine


def check_claims(answer: str, cited: Sequence[Passage], question: Question, embedder: Embedder,
                 retrieved: Sequence[Passage] = ()) -> list[Verdict]:
    """Per cited passage (new numbering): is every claim citing it in the passage (``supported``), and does some
    claim citing it answer the question (``answers``: the unit backing it covers the question's focus, is not code
    unless code was asked for, and for a typed question both claim and unit carry an answer of that type; for a
    how-to question one claim's unit at least must say how, and for a yes/no question speak of what it asks:
    grounding.tells_what_is_asked)? ``retrieved`` (all passages the answer was drawn from) say what a cited
    field's document is about."""
    claims = claims_of(answer)
    units = [with_documents(passage_units(passage, n), cited, retrieved) or [Unit(passage.text, SENTENCE, n)]
             for n, passage in enumerate(cited)]
    supported: list[list[bool]] = [[] for _ in cited]
    answers = [False] * len(cited)
    quotes: list[list[str]] = [[] for _ in cited]
    asked = [question, *question.parts]  # a unit answering one part of a multi-part question answers
    named = [names_found(question, passage) for passage in cited]
    told, answered = False, set()  # answered: which of ``asked`` some claim's unit answers
    if claims:
        question_vecs = [question_vector(q, embedder) for q in asked]
        claim_vecs = embedder.encode([c for c, _ in claims])
        for i, (claim, numbers) in enumerate(claims):
            for n in numbers:
                index = n - 1
                unit_vecs = embedder.encode([u.text for u in units[index]])
                cosines = unit_vecs @ claim_vecs[i]
                best = int(cosines.argmax())
                unit = units[index][best]
                ok = float(cosines[best]) >= SUPPORT_COSINE or overlap(claim, cited[index].text) >= SUPPORT_OVERLAP
                supported[index].append(ok)
                if unit.quoted not in quotes[index]:
                    quotes[index].append(unit.quoted)
                # a quoted heading (an API entry's signature) names what the answer is about; it answers nothing
                # but an acronym's expansion
                stated = ((unit.kind != CODE or question.wants_code)
                          and (unit.kind != HEADING or question.type == EXPANSION))
                if ok and stated and named[index]:
                    answering = {at for at, (q, vec) in enumerate(zip(asked, question_vecs))
                                 if covers(q, unit, _ranked_cosine(q, vec, units[index], unit_vecs, best))
                                 and carries_answer(q, claim) and carries_answer(q, unit.text)}
                    answered |= answering
                    answers[index] = answers[index] or bool(answering)
                told = told or ok and stated and tells_what_is_asked(question, unit,
                                                                     float(unit_vecs[best] @ question_vecs[0]))
    unanswered = any(part.type in WHO_OR_WHEN and at not in answered for at, part in enumerate(question.parts, 1))
    if not told or question.part_asks_unheld or unanswered:
        answers = [False] * len(cited)  # a how-to whose answer nowhere says how, a yes/no one never speaking of it,
        # a question asking two things, one of them about what no page writes or a who or when no claim answers
    return [Verdict(bool(s) and all(s), a, tuple(q)) for s, a, q in zip(supported, answers, quotes)]


def attribute(answer: str, passages: Sequence[Passage], embedder: Embedder) -> tuple[str, list[int]]:
    """Post-hoc citations for an answer written without [n] markers: each sentence gets the passage whose unit
    supports it best (same support test as cited claims); a sentence no passage supports is marked, not cited.
    Returns the marked-up text and the original passage numbers in order of first use."""
    sentences = split_sentences(answer)
    units = units_of(list(passages))
    if not sentences or not units:
        return answer, []
    cosines = embedder.encode(sentences) @ embedder.encode([u.text for u in units]).T
    order: list[int] = []
    out = []
    for i, sentence in enumerate(sentences):
        best = int(cosines[i].argmax())
        passage = units[best].passage
        if float(cosines[i, best]) < SUPPORT_COSINE:
            scored = [(overlap(sentence, p.text), n) for n, p in enumerate(passages)]
            share, passage = max(scored, key=lambda pair: (pair[0], -pair[1]))
            if share < SUPPORT_OVERLAP:
                out.append(_before_end(sentence, UNSUPPORTED))
                continue
        if passage + 1 not in order:
            order.append(passage + 1)
        out.append(_before_end(sentence, f"[{order.index(passage + 1) + 1}]"))
    return " ".join(out), order


def _before_end(sentence: str, mark: str) -> str:
    """``mark`` placed before the sentence's final punctuation, as the models that do cite place [n]."""
    body, end = (sentence[:-1], sentence[-1]) if sentence[-1] in ".!?" else (sentence, "")
    return f"{body} {mark}{end}"


def locate_all(quotes: Sequence[str], passage: Passage, document: str | None) -> tuple[int, int]:
    """Source offsets spanning every quote (a list answer quotes several rows of one passage)."""
    whole = (passage.start, passage.end)
    # a quote placed nowhere falls back on the whole span; one that is all of the passage is placed there
    spans = [span for quote in quotes if (span := locate(quote, passage, document)) != whole
             or _WORDS.findall(quote) == _WORDS.findall(passage.text)] or [whole]
    return min(a for a, _ in spans), max(b for _, b in spans)


def locate(quote: str, passage: Passage, document: str | None) -> tuple[int, int]:
    """Source offsets of ``quote`` inside the passage's span of ``document``: its words matched in order, markup
    and comments skipped; a quoted heading of the passage's section is found before the span. Falls back to the
    whole passage span when the words cannot be placed."""
    if not quote or document is None or not 0 <= passage.start < passage.end <= len(document):
        return passage.start, passage.end
    if quote in passage.section.split(" > "):
        return _heading(_WORDS.findall(quote.lower()), passage, document)
    window = document[passage.start : passage.end]
    # A quote that is whole lines of the source as written (a code block) is placed there: its words alone may open
    # an earlier sentence ("deactivate" after "To deactivate a virtual environment, type:").
    if "\n" in quote.strip() or len(_WORDS.findall(quote)) <= 3:
        block = re.search(r"(?m)^[ \t]*(" + re.escape(quote.strip()) + r")[ \t]*$", window)
        if block is not None:
            return passage.start + block.start(1), passage.start + block.end(1)
    # Markup and comments are skipped, not what the quote writes itself: a placeholder in code is text ("<modulename>")
    visible = re.sub(r"<!--.*?-->|</?[A-Za-z][^<>]*>",
                     lambda m: m.group() if m.group() in quote else "\0" * len(m.group()), window, flags=re.DOTALL)
    positions: list[tuple[str, int, int]] = []
    for m in _WORDS.finditer(visible.replace("\0", "")):
        positions.append((m.group().lower(), m.start(), m.end()))
    # map offsets in the comment-free string back to the window
    kept = [i for i, ch in enumerate(visible) if ch != "\0"]
    words = [w.lower() for w in _WORDS.findall(quote)]
    tokens = [p[0] for p in positions]
    if not words or not tokens:
        return passage.start, passage.end
    wanted, counts = set(words), Counter(words)
    size = min(2, len(words))
    best: tuple[float, int, int] | None = None
    # Every occurrence of an opening word pair, closed by the nearest closing pair: the span that holds the most
    # of the quote's words for the fewest others wins ("distributional shift" opens a list item and a sentence).
    for i in range(len(words) - size + 1):
        for first in _find_all(tokens, words[i : i + size]):
            for j in range(len(words), max(i + size, size) - 1, -1):
                # … at least half as far on as in the quote: "… literal or f-string is … prefixed with 'f' or 'F'"
                # closes on its last "or f", not on the one its fifth word opens; of the closings within reach the
                # one holding the most of the quote wins ("… its value is returned; otherwise, … the resulting value
                # is returned" closes on its second "is returned")
                closings = [last for last in _find_all(tokens, words[j - size : j])
                            if first + (j - size - i) // 2 <= last and last - first <= 2 * len(words)]
                for last in closings:
                    span = tokens[first : last + size]
                    hits = sum((Counter(span) & counts).values())  # a word twice in the span, once in the quote,
                    score = hits - 0.5 * (len(span) - hits)  # counts once: the twin sentence after it is no match
                    if best is None or score > best[0]:
                        best = (score, first, last + size - 1)
                if closings:
                    break
        if best is not None:
            break
    if best is None or sum(t in wanted for t in tokens[best[1] : best[2] + 1]) < 0.6 * len(wanted):
        return _heading(words, passage, document)  # the words are not there: a heading, outside the chunk?
    _, first, last = best
    start = passage.start + kept[positions[first][1]]
    end = passage.start + kept[positions[last][2] - 1] + 1
    end = _closing_marks(quote, document, end, passage.end)
    return _whole(document, start, end, passage.start, passage.end)


def _closing_marks(quote: str, document: str, end: int, high: int) -> int:
    """The located end moved over the marks the quote ends with after its last word, when the source has them
    there too: "enclose it between [_ and _]" ends with "_]", not "and"; over a footnote marker the quote leaves out
    too ("… not a strict subset of JavaScript [1] )." quoted as "… JavaScript )")."""
    tail = quote[[*_WORDS.finditer(quote)][-1].end():].strip()
    for marks in dict.fromkeys([tail, tail.rstrip(".!?;:,")]):
        if marks and (found := re.match(r"(?:\s*\[\d+\])?\s*" + r"\s*".join(map(re.escape, marks.split())),
                                        document[end:high])):
            return end + found.end()
    return end


def _heading(words: list[str], passage: Passage, document: str) -> tuple[int, int]:
    """Source offsets of a quoted section heading: the last place before the passage holding the quote's words
    in order (headings are not chunk text). Falls back to the whole passage span."""
    if passage.section and " ".join(words) in " ".join(w.lower() for w in _WORDS.findall(passage.section)):
        pattern = re.compile(r"[\W_]+".join(map(re.escape, words)), re.IGNORECASE)  # "is_socket": words apart
        found = None
        for found in pattern.finditer(document, 0, passage.start):
            pass
        if found:
            return _whole(document, found.start(), found.end(), 0, passage.start)
    return passage.start, passage.end


def _find_all(tokens: list[str], words: list[str]) -> list[int]:
    return [i for i in range(len(tokens) - len(words) + 1) if tokens[i : i + len(words)] == words]


def _whole(document: str, start: int, end: int, low: int, high: int) -> tuple[int, int]:
    """A located quote widened to what belongs to it: attached punctuation ("80%+", "end."), and the rest of its
    line when that is only markup (a table row's pipes, a list bullet)."""
    while start > low and not document[start - 1].isspace():
        start -= 1
    while end < high and not document[end].isspace():
        end += 1
    line_start = document.rfind("\n", low, start) + 1 or low
    if not re.search(r"\w", document[max(line_start, low) : start]):
        start = max(line_start, low)
    line_end = document.find("\n", end, high)
    line_end = high if line_end == -1 else line_end
    if not re.search(r"\w", document[end:line_end]):
        end = len(document[:line_end].rstrip()) if document[end:line_end].strip() else end
    return start, end


_WORDS = re.compile(r"[A-Za-z0-9]+")


def says_absent(text: str) -> bool:
    """Does the model say the passages lack the answer?"""
    return bool(_ABSENT.search(text))
