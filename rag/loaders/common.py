"""What every loader shares: the Document it returns, SkipFile, decoding, and offsets back to the source.

Citations point at character offsets into ``Document.text``. For text formats that is the decoded file
and chunks are cut from a cleaned copy (``body``) whose ``offsets`` map back into it; for formats whose
bytes are not readable text (PDF, Office, EPUB) ``text`` is the extracted text and ``body`` the same string.

Encodings: UTF-8 (with or without BOM) and UTF-16 with a BOM. Anything else is skipped with a reason
rather than guessed (a latin-1 fallback would index mojibake for every other legacy encoding).
"""

from __future__ import annotations

import bisect
import re
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field

from rag.text import one_line as flat_line

MAX_TITLE_CHARS = 120
# Above this share of control characters a "text" file is really binary.
_MAX_CONTROL_SHARE = 0.10


class SkipFile(Exception):
    """The file cannot be indexed; ``str(exc)`` is a reason fit to show a user."""


@dataclass(frozen=True)
class Heading:
    """A heading in ``Document.body``; its span is never part of chunk text (a locator's span is empty).

    A heading with empty text is an end marker: it closes the sections at its level and below (an HTML
    API entry ends where its definition list does) without opening one.
    """

    level: int
    text: str
    start: int
    end: int


class OffsetMap:
    """Maps offsets in a cleaned string back to the source string it was cut from.

    Stored as runs (not one entry per character) so a 50 MB file costs a few lists, not gigabytes.
    """

    def __init__(self) -> None:
        self._clean = array("q")  # start of each run in the cleaned string
        self._src = array("q")  # start of each run in the source
        self._src_end = array("q")
        self._verbatim = bytearray()  # 0: a replacement (entity, tag) mapped to its whole source span
        self._length = 0

    @classmethod
    def identity(cls, length: int) -> OffsetMap:
        result = cls()
        result._add(0, 0, length, length, True)
        return result

    def _add(self, clean_start: int, src_start: int, src_end: int, clean_len: int, verbatim: bool) -> None:
        if (
            verbatim
            and self._verbatim
            and self._verbatim[-1]
            and self._src_end[-1] == src_start
            and self._length == clean_start
        ):
            self._src_end[-1] = src_end
        else:
            self._clean.append(clean_start)
            self._src.append(src_start)
            self._src_end.append(src_end)
            self._verbatim.append(verbatim)
        self._length = clean_start + clean_len

    def start(self, i: int) -> int:
        """Source offset where cleaned character ``i`` comes from."""
        k = bisect.bisect_right(self._clean, i) - 1
        return self._src[k] + (i - self._clean[k]) if self._verbatim[k] else self._src[k]

    def end(self, j: int) -> int:
        """Source offset just past the source of cleaned character ``j - 1`` (an exclusive end)."""
        k = bisect.bisect_right(self._clean, j - 1) - 1
        return self._src[k] + (j - self._clean[k]) if self._verbatim[k] else self._src_end[k]


class Cleaner:
    """Builds a cleaned string piece by piece while recording where each piece came from."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.parts: list[str] = []
        self.length = 0
        self.map = OffsetMap()

    def keep(self, a: int, b: int) -> None:
        """Copy ``source[a:b]``, dropping carriage returns so line handling sees only ``\\n``."""
        while a < b:
            cr = self.source.find("\r", a, b)
            stop = b if cr < 0 else cr
            if stop > a:
                self.parts.append(self.source[a:stop])
                self.map._add(self.length, a, stop, stop - a, True)
                self.length += stop - a
            a = stop + 1 if cr >= 0 else b
            if cr >= 0 and (cr + 1 >= len(self.source) or self.source[cr + 1] != "\n"):
                self.replace(cr, cr + 1, "\n")  # a lone CR (old Mac line end) is still a line break

    def replace(self, a: int, b: int, text: str) -> None:
        """Write ``text`` in place of ``source[a:b]``: any offset inside it maps to that whole span."""
        if text:
            self.parts.append(text)
            self.map._add(self.length, a, b, len(text), False)
            self.length += len(text)

    def result(self) -> tuple[str, OffsetMap]:
        return "".join(self.parts), self.map


@dataclass
class Document:
    source: str  # posix path relative to the indexed root
    title: str
    metadata: dict[str, str]
    text: str  # the text chunk offsets index into: the decoded file for text formats, else the extracted text
    kind: str = "text"  # the loader's format name: "text", "markdown", "html", "pdf", "docx", "csv", ...
    body: str = ""  # cleaned text the chunker cuts; ``offsets`` maps it back into ``text``
    offsets: OffsetMap = field(default_factory=OffsetMap, repr=False)
    headings: list[Heading] = field(default_factory=list, repr=False)
    page_starts: list[int] = field(default_factory=list, repr=False)  # body offset where PDF page i+1 starts
    # (start, end) body offsets of code (fenced or <pre> blocks, PDF listings): searchable, never a prose answer
    code_spans: list[tuple[int, int]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if not self.body:  # built from just the contract fields: chunk the text as it is
            self.body = self.text
            self.offsets = OffsetMap.identity(len(self.text))

    def page_at(self, body_offset: int) -> int | None:
        """1-based PDF page holding a body offset (None for formats without pages)."""
        if not self.page_starts:
            return None
        return bisect.bisect_right(self.page_starts, body_offset)


class TextBuilder:
    """The extracted text of a format whose bytes are not text, built block by block with its headings.

    Blocks are separated by a blank line (the chunker's first split), lines of one block (table rows,
    list items) by a line break. The result is both ``text`` and ``body``: offsets are exact by
    construction.
    """

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.headings: list[Heading] = []

    def _append(self, text: str, separator: str) -> int:
        if self.length:
            self.parts.append(separator)
            self.length += len(separator)
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        return start

    def heading(self, level: int, text: str) -> None:
        """A heading printed on a line of its own."""
        line = " ".join(text.split())
        if line:
            start = self._append(line, "\n\n")
            self.headings.append(Heading(level, one_line(line), start, start + len(line)))

    def locator(self, level: int, text: str) -> None:
        """A heading that is not printed (e.g. "rows 2–40"): it only names the section that follows."""
        self.headings.append(Heading(level, text, self.length, self.length))

    def block(self, text: str) -> None:
        """A paragraph (whitespace tidied; nothing is added for an empty one)."""
        text = tidy(text)
        if text:
            self._append(text, "\n\n")

    def extracted(self, text: str, headings: list[Heading]) -> None:
        """A block of text already extracted elsewhere (an EPUB chapter), with its headings' spans."""
        if text:
            start = self._append(text, "\n\n")
            self.headings += [Heading(h.level, h.text, h.start + start, h.end + start) for h in headings]

    def line(self, text: str) -> None:
        """One line that continues the current block."""
        text = " ".join(text.split())
        if text:
            self._append(text, "\n")

    def rows(self, lines: Iterable[str]) -> None:
        """Lines that form one block of their own (table rows, list items)."""
        for position, text in enumerate(lines):
            (self.line if position else self.block)(text)

    def text(self) -> str:
        return "".join(self.parts)

    def document(self, source: str, title: str, metadata: dict[str, str], kind: str, what: str) -> Document:
        """The Document, or SkipFile saying the file has no text (``what`` says where none was found)."""
        text = self.text()
        require_text(text, what)
        offsets = OffsetMap.identity(len(text))
        return Document(source, one_line(title), metadata, text, kind, text, offsets, self.headings)


# ---------------------------------------------------------------------------------------------
# Decoding


CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_text(data: bytes) -> str:
    """Decode UTF-8 / UTF-8-BOM / UTF-16-BOM text, or raise SkipFile saying why it is not text."""
    if not data:
        raise SkipFile("empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise SkipFile("not valid UTF-16 text despite its byte-order mark") from None
    else:
        if b"\x00" in data:
            raise SkipFile("binary file (contains NUL bytes), not text")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SkipFile(
                f"not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                "re-save the file as UTF-8"
            ) from None
    if not text.strip():
        raise SkipFile("no text (the file is only whitespace)")
    if len(CONTROL.findall(text)) > _MAX_CONTROL_SHARE * len(text):
        raise SkipFile("binary file (mostly control characters), not text")
    return text


def without_carriage_returns(text: str) -> tuple[str, OffsetMap]:
    """The text with ``\\r\\n`` and lone ``\\r`` line ends made ``\\n``, mapped back to the file."""
    cleaner = Cleaner(text)
    cleaner.keep(0, len(text))
    return cleaner.result()


# ---------------------------------------------------------------------------------------------
# Small text helpers shared by the format loaders


def tidy(text: str) -> str:
    """Collapse runs of spaces, trim lines and squeeze blank lines: what a reader should see."""
    text = re.sub(r"[^\S\n]+", " ", text)
    text = re.sub(r" ?\n ?", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def one_line(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    """rag.text.one_line with the title limit by default: loaders mostly flatten titles and headings."""
    return flat_line(text, limit)


def first_line(text: str) -> str:
    """The first non-blank line, on one line: the title of last resort."""
    return one_line(next((line for line in text.splitlines() if line.strip()), ""))


def require_text(body: str, what: str) -> None:
    if not body.strip():
        raise SkipFile(f"no text to index {what}")


def lines(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each line of ``text[start:end]``, without the newline."""
    spans = []
    n = len(text) if end is None else end
    while start <= n:
        nl = text.find("\n", start, n)
        stop = n if nl < 0 else nl
        spans.append((start, stop))
        if nl < 0:
            break
        start = nl + 1
    return spans


LIST_ITEM = re.compile(r"\s*(?:[-*+•‣◦]|\d{1,3}[.)]|[A-Za-z][.)])\s")


def is_table_row(line: str) -> bool:
    return line.startswith("|") or line.count("|") >= 2 and line.rstrip().endswith("|")
