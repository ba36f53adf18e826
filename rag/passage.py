"""The one passage type, and the two things that wrap it: a search hit and an answer's citation.

A ``Span`` is what the chunker cuts from a document (and what the store keeps per chunk); a ``Passage`` is a
stored span with the document it came from; a ``Hit`` is a passage with its retrieval score; a ``Citation``
is a numbered passage with the verdict of the support check. A new passage field is added to ``Span``
(plus its column in rag/store.py) and reaches hits, citations and every JSON output from here.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


CODE_GAP = 16  # characters between two chunks of one code block: a blank line and an indentation


@dataclass(frozen=True)
class Span:
    text: str  # cleaned passage: what is shown, searched and (with context) embedded
    start: int  # Document.text[start:end] is the span the passage was cut from
    end: int
    section: str  # heading path, e.g. "Frames on outer alignment > The Pointers Problem"
    page: int | None  # 1-based PDF page, None for other formats
    code: str = ""  # where ``text`` holds code, as "start:end" offsets into it separated by spaces (see code_ranges)

    @property
    def code_ranges(self) -> list[tuple[int, int]]:
        """(start, end) offsets into ``text`` of code (fenced / <pre> blocks, listings): searched, never a prose answer."""
        return [(int(a), int(b)) for a, b in (pair.split(":") for pair in self.code.split())]

    @property
    def ends_in_code(self) -> bool:
        """Does the text end inside a code block (which the next chunk may go on with)?"""
        ranges = self.code_ranges
        return bool(ranges) and ranges[-1][1] >= len(self.text.rstrip())


@dataclass(frozen=True, kw_only=True)
class Passage(Span):
    id: int  # the chunk's row in one index: internal, never shown
    source: str  # document path relative to the folder it was indexed from
    title: str

    def follows(self, before: Passage) -> bool:
        """Is this passage the next piece of ``before``'s document: starting inside it (chunks overlap) or within
        CODE_GAP characters after it?"""
        return self.source == before.source and before.start < self.start <= before.end + CODE_GAP

    def goes_on_from(self, before: Passage) -> bool:
        """Is this passage the next piece of ``before``'s section?"""
        return self.follows(before) and self.section == before.section

    def continues_code_of(self, before: Passage) -> bool:
        """Does this passage go on with the code block that ``before`` ends with (a long example split across
        chunks): same document, starting inside ``before`` or within CODE_GAP characters after it, with code?"""
        return (before.ends_in_code and self.follows(before)
                and bool(self.code_ranges) and self.code_ranges[0][0] == 0)

    def to_dict(self) -> dict:
        """Flat JSON: where the passage comes from, then its span (the internal id is left out)."""
        return {"source": self.source, "title": self.title,
                **{f.name: getattr(self, f.name) for f in fields(Span) if f.name != "code"}, "code": self.code_ranges}


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float  # cosine (dense), BM25 (bm25) or fused in [0, 1] (hybrid)

    def to_dict(self) -> dict:
        return {"chunk_id": self.passage.id, **self.passage.to_dict(), "score": self.score}


@dataclass(frozen=True)
class Citation:
    n: int  # the [n] marker in the answer text, numbered in order of first use
    passage: Passage
    supported: bool  # the passage contains the claim: every sentence citing it is backed by one of its units
    answers: bool = False  # the claim answers the question: its unit covers the question's focus and carries
    # an answer of the expected type (a year for "what year …"); an answer is grounded when some citation is both
    quote_start: int = -1  # source offsets of the quoted unit inside the passage's span, or of its section's
    # heading before the span when that is what is quoted, or from that heading on into the span (an API entry's
    # signature quoted over its first sentence): the text highlighted
    quote_end: int = -1

    def to_dict(self) -> dict:
        return {
            "n": self.n, **self.passage.to_dict(), "supported": self.supported, "answers": self.answers,
            "quote_start": self.quote_start, "quote_end": self.quote_end,
        }

