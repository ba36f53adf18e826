"""Answer units: the pieces of a passage an answer can quote, richer than sentences.

A table row is rendered with its header ("Organisation: Redwood Research · Agenda: Adversarial training"), a
list item keeps its lead-in line as context, front-matter fields and link definitions (the chunker's
metadata and link chunks, rag/chunk.py) become one unit per field / link, and everything else is split into
sentences. Code (fenced or <pre> blocks, marked by the loaders: Passage.code_ranges) is one unit per block,
searchable and citable but never split into sentences, so it is never mistaken for prose. ``context`` is what a unit means beyond its own words (header, lead-in, section, document title):
it is matched against the question but never quoted.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from rag.chunk import LINKS_SECTION, METADATA_SECTION
from rag.loaders.tables import row_line
from rag.passage import Passage
from rag.text import clean_line, passage_sentences

SENTENCE, ROW, ITEM, METADATA, LINK, HEADING, CODE = "sentence", "row", "item", "metadata", "link", "heading", "code"
_ITEM = re.compile(r"^\s*(?:[-*•+]|\d{1,3}[.)])\s+")
_FENCE = re.compile(r"^\s*(?:`{3,}|~{3,})")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")
# "Limitations: Expensive at scale. Can be gamed …": a short label over a few sentences is one fact list.
LABEL = re.compile(r"^([A-Z][\w'’-]*(?:\s+[\w'’-]+){0,2}):\s+(?=\S)")
MAX_LABELLED_WORDS = 60
# "The follow-up videos are also worth watching: A, and B.": a lead-in, its colon, then items joined by commas / and.
_INLINE_LIST = re.compile(r"^([^:]{8,160}?):\s+\S[^:]*(?:,|\band\b|\bor\b)")
MAX_OPENINGS = 3  # leading sentences of a passage embedded at index time as "Heading: sentence" too


@dataclass(frozen=True)
class Unit:
    text: str  # what is quoted
    kind: str  # SENTENCE, ROW, ITEM, METADATA, LINK, HEADING or CODE
    passage: int  # index of the passage it comes from
    context: str = ""  # header / lead-in / section: matched against the question, not quoted
    group: int = -1  # rows of one table, items of one list share a group (per passage); -1 for sentences
    title: str = ""  # the document title: names the document, so it counts a quarter (Question.coverage)
    raw: str = ""  # the words as the source has them, when the text adds some (a row's header labels)
    after_question: bool = False  # a sentence right after a question the text asks itself: its answer
    # Fields only: what the document's retrieved passages say, by which a question asking for the field may name the
    # document ("the title of the post produced in the SERI … program"); see with_documents
    document: str = ""
    cross_reference: bool = False  # in a "See also" block: points elsewhere ("The specification for the nonlocal
    # statement."), never says what a thing is

    @property
    def quoted(self) -> str:
        """What to find in the source to place the quote."""
        return self.raw or self.text

    @property
    def matched(self) -> str:
        """The text a question is matched against."""
        return f"{self.context} {self.text}".strip()


# What a front-matter field answers, in the words questions use ("when was it published" -> date).
_FIELD_MEANINGS = {
    "date": "date published posted written when", "created": "created date when", "updated": "updated modified date",
    "modified": "updated modified date", "author": "author wrote written by who", "authors": "authors wrote written by",
    "title": "title name called", "tags": "tags topics keywords", "categories": "categories topics",
    "description": "description summary about", "summary": "summary about", "synopsis": "synopsis summary about",
    "lang": "language", "language": "language",
}


def _field_meaning(line: str) -> str:
    key = line.split(":", 1)[0].strip().lower()
    return f"{key} {_FIELD_MEANINGS.get(key, '')} metadata".strip()


def field_words(unit: Unit) -> set[str]:
    """What a metadata unit's field is about, as lower-case words ("date" -> date, published, when, …)."""
    return set(_field_meaning(unit.text).split()) - {"metadata"}


def _cells(line: str) -> list[str]:
    return [clean_line(cell) for cell in line.strip().strip("|").split("|")]


def passage_units(passage: Passage, index: int) -> list[Unit]:
    """The units of one passage, in passage order."""
    return list(_passage_units(passage, index))


@lru_cache(maxsize=256)
def _passage_units(passage: Passage, index: int) -> tuple[Unit, ...]:
    """Cached: one answer splits the same passages for its relevance gate, its backend, its decline and its check."""
    where = passage.section.rsplit(" > ", 1)[-1]
    if passage.section == METADATA_SECTION:
        # Fields describe the whole document: its title and its other fields identify their subject ("the post
        # dated 2024-06-09" for its title field).
        fields = [line.strip() for line in passage.text.splitlines() if line.strip()]
        return tuple(Unit(line, METADATA, index, " ".join([passage.title, _field_meaning(line), *(f for f in fields if f != line)]))
                     for line in fields)
    if passage.section == LINKS_SECTION:
        return tuple(Unit(line.strip(), LINK, index, "link url", title=passage.title)
                     for line in passage.text.splitlines() if line.strip())
    # Section headings are not in the chunk text but often name what it is about in full
    # ("Reinforcement Learning from Human Feedback (RLHF)"): units for acronym questions.
    headings = [name for name in dict.fromkeys(passage.section.split(" > ")) if name]
    # Their context is the passage they head: "Global Interpreter Lock" over a passage about "the GIL" expands it.
    units: list[Unit] = [Unit(name, HEADING, index, passage.text) for name in reversed(headings)]
    prose: list[str] = []
    lines = passage.text.split("\n")
    code_lines = _code_lines(lines, passage.code_ranges)
    code: list[str] = []
    header: list[str] | None = None
    lead_in = last_prose = ""
    blank = True
    introduces = False  # the current item is one line ending in ":"
    see_also = False  # in a "See also" block: its label, then link labels, up to the first full sentence or list
    group = 0
    previous_kind = ""

    def flush_prose(cross_reference: bool = False) -> None:
        sentences = passage_sentences("\n".join(prose))
        for i, sentence in enumerate(sentences):
            # The sentence after a question the text asks itself answers it ("What is my take on this? I am
            # ambivalent."): that question, and what it asks about, are its context.
            asked = " ".join(sentences[max(0, i - 2) : i]) if i and sentences[i - 1].endswith("?") else ""
            units.append(Unit(sentence, SENTENCE, index, f"{where} {asked}".strip(), after_question=bool(asked),
                              cross_reference=cross_reference))
        prose.clear()

    def flush_code() -> None:
        text = "\n".join(line for line in code if not _FENCE.match(line)).strip()  # fences are markup
        if text:  # what the code illustrates: its section and the prose line before it
            units.append(Unit(text, CODE, index, f"{where} {last_prose}".strip()))
        code.clear()

    for i, raw in enumerate(lines):
        stripped = raw.strip()
        if i in code_lines:
            flush_prose()
            code.append(raw)
            previous_kind, blank = CODE, False
            continue
        flush_code()
        if stripped.lower() == "see also":  # a documentation site's cross-reference box (Sphinx, MkDocs)
            flush_prose()
            see_also = True
        elif see_also and stripped and previous_kind == ITEM and not _ITEM.match(raw):
            see_also = False  # the box's list of links has ended
        if stripped.startswith("|"):
            flush_prose()
            if previous_kind != ROW or blank:  # a blank line ends a table
                group += 1
                lead_in = last_prose if last_prose.endswith(":") else ""
                following = lines[i + 1] if i + 1 < len(lines) else ""
                header = _cells(raw) if _TABLE_RULE.match(following) else None
                if header is not None:
                    previous_kind, blank = ROW, False
                    continue
            if _TABLE_RULE.match(stripped):
                previous_kind, blank = ROW, False
                continue
            cells = _cells(raw)
            if header and len(header) == len(cells):
                text = row_line(header, cells)  # a column with no header gives its value alone, not ": Writable"
            else:
                text = ": ".join(c for c in cells if c)
            if text:
                units.append(Unit(text, ROW, index, f"{where} {lead_in}".strip(), group, raw=" | ".join(cells)))
            previous_kind, blank = ROW, False
        elif _ITEM.match(raw):
            flush_prose()
            if previous_kind != ITEM:
                group += 1
                lead_in = last_prose if last_prose.endswith(":") else ""
            units.append(Unit(clean_line(raw), ITEM, index, f"{where} {lead_in}".strip(), group, cross_reference=see_also))
            previous_kind, blank, introduces = ITEM, False, stripped.endswith(":")
        elif previous_kind == ITEM and stripped and not blank and (not introduces or raw[:1].isspace()):
            # A continuation line of the item above; a one-line item ending in ":" introduces the unindented lines
            # after it instead (the example under "• environment choiceshoriz is chosen for short answers:" in a PDF).
            last = units[-1]
            units[-1] = replace(last, text=f"{last.text} {clean_line(raw)}")
        elif stripped and _labelled_line(stripped) and _own_line(lines, i):
            flush_prose()
            last_prose = clean_line(raw)
            units.append(Unit(last_prose, SENTENCE, index, where))
            previous_kind = SENTENCE
        elif stripped:
            last_prose = clean_line(raw)
            previous_kind = SENTENCE
            prose.append(raw)
            if see_also and stripped.endswith((".", "!")):  # the link's description ends the box
                flush_prose(cross_reference=True)
                see_also = False
        else:
            prose.append(raw)
        blank = not stripped
    flush_prose()
    flush_code()
    return tuple(replace(piece, title=passage.title) for unit in units if unit.text for piece in _split_long_item(unit))


def _labelled_line(line: str) -> bool:
    """A line of a few sentences under a short label ("Limitations: …. …."): quoted whole, label included."""
    return (bool(LABEL.match(line)) and len(line.split()) <= MAX_LABELLED_WORDS
            and len(passage_sentences(line)) > 1)


def _own_line(lines: list[str], i: int) -> bool:
    """Is line ``i`` a paragraph of its own, not part of a hard-wrapped one (the line before ended a sentence
    or was blank, the next one does not go on in lower case)?"""
    before = lines[i - 1].rstrip() if i else ""
    following = lines[i + 1].strip() if i + 1 < len(lines) else ""
    return (not before or before[-1] in ".!?:") and not following[:1].islower()


def _code_lines(lines: list[str], code: list[tuple[int, int]]) -> set[int]:
    """Indexes of the lines that hold code (any character inside a code range)."""
    found, start = set(), 0
    for i, line in enumerate(lines):
        end = start + len(line)
        if any(a < max(end, start + 1) and start < b for a, b in code):
            found.add(i)
        start = end + 1
    return found


def _split_long_item(unit: Unit) -> list[Unit]:
    """An item of several sentences: its first sentence stays the item, the rest are sentences with it as context
    (a long item quoted whole would let one fact stand in for another)."""
    if unit.kind != ITEM:
        return [unit]
    sentences = passage_sentences(unit.text)
    if len(sentences) <= 1:
        return [unit]
    head = replace(unit, text=sentences[0])
    return [head] + [Unit(s, SENTENCE, unit.passage, f"{unit.context} {sentences[0]}",
                          cross_reference=unit.cross_reference) for s in sentences[1:]]


def units_of(passages: list[Passage]) -> list[Unit]:
    return [unit for n, passage in enumerate(passages) for unit in passage_units(passage, n)]


def with_documents(units: Sequence[Unit], passages: Sequence[Passage], retrieved: Sequence[Passage]) -> list[Unit]:
    """The units (of ``passages``), each front-matter / title field with what the ``retrieved`` passages of its
    document say: a question may name a document by its content and ask for its title."""
    said: dict[str, list[str]] = {}
    for passage in retrieved:
        if passage.section not in (METADATA_SECTION, LINKS_SECTION):
            said.setdefault(passage.source, []).append(passage.text)
    return [replace(unit, document=" ".join(said.get(passages[unit.passage].source, []))) if unit.kind == METADATA
            else unit for unit in units]


def inline_lead_in(unit: Unit) -> str:
    """The lead-in of a sentence that lists its items inline after a colon ("The follow-up videos are also worth
    watching"), else ""."""
    found = _INLINE_LIST.match(unit.text) if unit.kind == SENTENCE else None
    return found.group(1) if found else ""


def field_key(unit: Unit) -> str:
    """The name of a metadata unit's field ("title" for "title: AI Alignment Overview")."""
    return unit.text.split(":", 1)[0].strip().lower()


def entry_text(unit: Unit) -> str:
    """A sentence under its heading read as a glossary entry ("Scalable Oversight: Techniques for …"), as
    rag/grounding.py embeds a section's opening sentence."""
    return f"{unit.context}: {unit.text}"


def embedded_texts(passage: Passage) -> list[str]:
    """Every text of a passage the answer layer embeds: its units and its opening sentence read as an entry.
    The index embeds them once (rag/ingest.py), so answering embeds only the question."""
    units = passage_units(passage, 0)
    texts = [unit.text for unit in units]
    # The opening is the first prose unit the answer may quote: the leading sentences up to the first that is
    # no label and no question (a later one, rarely, is embedded when asked).
    for unit in [unit for unit in units if unit.kind in (SENTENCE, ITEM)][:MAX_OPENINGS]:
        if unit.kind == ITEM:
            break
        if unit.context:
            texts.append(entry_text(unit))
        if len(unit.text.split()) >= 5 and not unit.text.endswith("?"):
            break
    return list(dict.fromkeys(texts))


def text_key(text: str) -> bytes:
    """What a stored unit vector is found by: a digest of the exact text embedded."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
