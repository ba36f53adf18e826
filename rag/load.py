"""Turn one file's bytes into a Document: readable text, title, metadata and structure.

Citations point at character offsets, so for .txt/.md the Document keeps the exact decoded file
(``text``) and chunks are cut from a cleaned copy (``body``: front matter, HTML comments and tags
removed) whose offsets map back into ``text``. HTML and PDF bytes are not displayable, so for them
``text`` is the extracted readable text and ``body`` is the same string.

Encodings: UTF-8 (with or without BOM) and UTF-16 with a BOM. Anything else is skipped with a reason
rather than guessed (a latin-1 fallback would index mojibake for every other legacy encoding).
"""

from __future__ import annotations

import bisect
import html
import io
import logging
import re
from array import array
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

import yaml

SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".pdf"})

MAX_TITLE_CHARS = 120
_FRONT_MATTER_MAX_CHARS = 64_000
# Above this share of control characters a "text" file is really binary.
_MAX_CONTROL_SHARE = 0.10


class SkipFile(Exception):
    """The file cannot be indexed; ``str(exc)`` is a reason fit to show a user."""


@dataclass(frozen=True)
class Heading:
    """A heading line in ``Document.body``; its line is never part of chunk text."""

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


class _Cleaner:
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
        if text:
            self.parts.append(text)
            self.map._add(self.length, a, b, len(text), False)
            self.length += len(text)

    def result(self) -> tuple[str, OffsetMap]:
        return "".join(self.parts), self.map


# ---------------------------------------------------------------------------------------------
# Decoding


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


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
    if len(_CONTROL.findall(text)) > _MAX_CONTROL_SHARE * len(text):
        raise SkipFile("binary file (mostly control characters), not text")
    return text


# ---------------------------------------------------------------------------------------------
# Small text helpers shared by the format loaders


def tidy(text: str) -> str:
    """Collapse runs of spaces, trim lines and squeeze blank lines: what a reader should see."""
    text = re.sub(r"[^\S\n]+", " ", text)
    text = re.sub(r" ?\n ?", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def one_line(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip(" ,;:-") + "…"


_INLINE_TAGS = frozenset(
    "a abbr acronym b bdi bdo big cite code data del dfn em font i ins kbd mark q s samp small span strike "
    "strong sub sup time tt u var wbr".split()
)
_MARKUP = re.compile(
    r"(?P<comment><!--)"
    r"|(?P<tag></?(?P<name>[A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*)?/?>)"
    r"|(?P<entity>&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)"
)


def _clean_markup(cleaner: _Cleaner, a: int, b: int) -> None:
    """Copy ``source[a:b]`` without HTML comments and tags, with entities decoded.

    Comments and inline tags vanish without a trace, so ``A<!---->I`` and ``<abbr>AI</abbr>s`` read
    as the words a browser shows; block tags become a line break so words on both sides stay apart.
    """
    source = cleaner.source
    pos = a
    no_comment_end_after = b  # once a "<!--" has no "-->", later ones cannot have one either
    for m in _MARKUP.finditer(source, a, b):
        if m.start() < pos:
            continue  # inside a comment already removed
        if m.group("comment"):
            close = source.find("-->", m.end(), b) if m.start() < no_comment_end_after else -1
            if close < 0:
                no_comment_end_after = m.start()
                continue
            cleaner.keep(pos, m.start())
            pos = close + 3
        elif m.group("tag"):
            cleaner.keep(pos, m.start())
            if m.group("name").lower() not in _INLINE_TAGS:
                cleaner.replace(m.start(), m.end(), "\n")
            pos = m.end()
        else:
            decoded = html.unescape(m.group())
            if decoded == m.group():
                continue
            cleaner.keep(pos, m.start())
            cleaner.replace(m.start(), m.end(), decoded)
            pos = m.end()
    cleaner.keep(pos, b)


def clean_inline(text: str) -> str:
    """A one-line string (title, heading, metadata value) without markup."""
    cleaner = _Cleaner(text)
    _clean_markup(cleaner, 0, len(text))
    return one_line(cleaner.result()[0], limit=10_000)


# ---------------------------------------------------------------------------------------------
# Document


@dataclass
class Document:
    source: str  # posix path relative to the indexed root
    title: str
    metadata: dict[str, str]
    text: str  # the text chunk offsets index into (the decoded file for txt/md, extracted text for html/pdf)
    kind: str = "text"  # "text" | "markdown" | "html" | "pdf"
    body: str = ""  # cleaned text the chunker cuts; ``offsets`` maps it back into ``text``
    offsets: OffsetMap = field(default_factory=OffsetMap, repr=False)
    headings: list[Heading] = field(default_factory=list, repr=False)
    page_starts: list[int] = field(default_factory=list, repr=False)  # body offset where PDF page i+1 starts

    def __post_init__(self) -> None:
        if not self.body:  # built from just the contract fields: chunk the text as it is
            self.body = self.text
            self.offsets = OffsetMap.identity(len(self.text))

    def page_at(self, body_offset: int) -> int | None:
        """1-based PDF page holding a body offset (None for formats without pages)."""
        if not self.page_starts:
            return None
        return bisect.bisect_right(self.page_starts, body_offset)


def load_document(path: Path, source: str, data: bytes) -> Document:
    """Load one file; raises SkipFile (never anything else) for input that cannot be indexed."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise SkipFile(
            f"unsupported file type {suffix or '(no suffix)'!r}; supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    try:
        if suffix == ".pdf":
            return _load_pdf(source, data)
        text = decode_text(data)
        if suffix in (".html", ".htm"):
            return _load_html(source, text)
        if suffix in (".md", ".markdown"):
            return _load_markdown(source, text)
        return _load_plain(source, text)
    except SkipFile:
        raise
    except RecursionError:
        raise SkipFile("structure nested too deeply to read") from None
    except MemoryError:
        raise SkipFile("too large to read into memory") from None
    except Exception as exc:  # a parser bug or hostile input must cost one file, not the whole index run
        detail = f"{type(exc).__name__}: {one_line(str(exc), 200)}"
        raise SkipFile(f"unreadable {suffix[1:].upper()} file ({detail})") from None


def _require_text(body: str, what: str) -> None:
    if not body.strip():
        raise SkipFile(f"no text to index {what}")


# ---------------------------------------------------------------------------------------------
# Plain text


_LIST_ITEM = re.compile(r"\s*(?:[-*+•‣◦]|\d{1,3}[.)]|[A-Za-z][.)])\s")
_TERMINAL = tuple(".,;:!?…")
_PARAGRAPH_END = tuple(".!?:;)]\"'”’»|…")


def _lines(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
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


def _is_table_row(line: str) -> bool:
    return line.startswith("|") or line.count("|") >= 2 and line.rstrip().endswith("|")


def _title_like(line: str) -> bool:
    """A short standalone line that reads like a heading ("Why Alignment is Hard", "Open Problems")."""
    if not line or line != line.strip() or len(line) > 80 or len(line.split()) > 12:
        return False
    if not (line[0].isupper() or line[0].isdigit()) or line.endswith(_TERMINAL):
        return False
    return not (_LIST_ITEM.match(line) or _is_table_row(line) or "http" in line)


_CONNECTIVES = frozenset("a an the and or but nor of to in on for from with by at as that than into onto whether".split())


def _heading_without_gap(line: str) -> bool:
    """Stricter test for a heading line with body text right under it, where a hard-wrapped line can look
    the same: short or Title Case, and not ending on a word that continues a sentence."""
    words = line.split()
    if words[-1].casefold() in _CONNECTIVES:
        return False
    long_words = [w for w in words if len(w) >= 4]
    return len(words) <= 6 or sum(w[0].isupper() for w in long_words) * 2 >= len(long_words)


def _plain_headings(body: str) -> list[Heading]:
    """Heading lines of plain text, found by layout since plain text has no markup for them.

    A heading is a title-like line that starts a paragraph (after a blank line, a finished sentence,
    a list item or another heading) and is followed by body text that starts a sentence (so the end
    of a hard-wrapped line is not mistaken for one). Plain text has no levels: a heading directly
    followed by another heading becomes that one's parent ("Core Techniques > Reinforcement ...").
    """
    lines = [(a, b, body[a:b].strip()) for a, b in _lines(body)]
    nonblank = [i for i, (_, _, line) in enumerate(lines) if line]
    is_heading = [False] * len(lines)
    # Walk backwards so "followed by a heading" is already known.
    for pos in range(len(nonblank) - 2, -1, -1):
        i, nxt = nonblank[pos], nonblank[pos + 1]
        a, b, line = lines[i]
        if not _title_like(body[a:b].rstrip()):  # unstripped: an indented line is a quote or code
            continue
        prev = lines[nonblank[pos - 1]][2] if pos > 0 else ""
        starts_paragraph = (
            pos == 0
            or nonblank[pos - 1] < i - 1
            or prev.endswith(_PARAGRAPH_END)
            or bool(_LIST_ITEM.match(prev))
            or _title_like(prev)
        )
        following = lines[nxt][2]
        body_follows = following[0].isupper() or following[0].isdigit() or following[0] in "\"'“‘([|-*•"
        if starts_paragraph and (nxt > i + 1 or _heading_without_gap(line)):
            is_heading[i] = is_heading[nxt] or body_follows and not _title_like(following)
    headings: list[Heading] = []
    level_before = 0
    for pos, i in enumerate(nonblank):
        if not is_heading[i]:
            level_before = 0
            continue
        level = level_before + 1
        a, b, line = lines[i]
        headings.append(Heading(level, line, a, b))
        level_before = level
    return headings


def _load_plain(source: str, text: str) -> Document:
    cleaner = _Cleaner(text)
    cleaner.keep(0, len(text))
    body, offsets = cleaner.result()
    headings = _plain_headings(body)
    first = next(line.strip() for line in body.splitlines() if line.strip())
    title = one_line(first)
    return Document(source, title, {}, text, "text", body, offsets, headings)


# ---------------------------------------------------------------------------------------------
# Markdown


_FRONT_MATTER = re.compile(r"---[ \t]*\r?\n(.*?\r?\n)?(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_KEY_VALUE = re.compile(r"""^([A-Za-z_][\w.-]*)[ \t]*:[ \t]*["']?(.*?)["']?[ \t]*\r?$""", re.MULTILINE)
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_LINK_DEFINITION = re.compile(r" {0,3}\[[^\]\n]{1,999}\]:[ \t]*\S+")
_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r" {0,3}(=+|-{2,})[ \t]*$")


def _closes_fence(line: str, fence: str) -> bool:
    m = _FENCE.match(line)
    return bool(m) and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line[m.end() :].strip()


def _front_matter(text: str) -> tuple[dict[str, str], int]:
    """YAML front matter as string metadata, and where the body starts (0 without front matter)."""
    m = _FRONT_MATTER.match(text, 0, min(len(text), _FRONT_MATTER_MAX_CHARS))
    if not m:
        return {}, 0
    block = m.group(1) or ""
    try:
        data = yaml.safe_load(block)
    except Exception:
        # Blog front matter is often "YAML-ish" (``minutes: ?`` is a YAML syntax error): read it as
        # plain ``key: value`` lines rather than lose the title and date.
        data = dict(_KEY_VALUE.findall(block))
    metadata: dict[str, str] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, list):
                value = ", ".join(_scalar(v) for v in value if _scalar(v))
            value = clean_inline(_scalar(value))
            if value:
                metadata[str(key)] = value
    return metadata, m.end()


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (str, int, float)):
        return str(value)
    return ""


def _clean_heading(text: str) -> str:
    text = re.sub(r"!?\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])", r"\1", text)
    text = re.sub(r"\*\*|__|`", "", text)
    text = re.sub(r"(?<!\w)[*_]|[*_](?!\w)", "", text)
    return " ".join(text.split())


def _markdown_headings(body: str) -> list[Heading]:
    """ATX (``## Title``) and setext (``Title`` over ``===``/``---``) headings outside code fences."""
    headings: list[Heading] = []
    fence = ""
    prev: tuple[int, int] | None = None  # the previous line if it could be a setext heading's text
    after_blank = True
    for a, b in _lines(body):
        line = body[a:b]
        if fence:
            fence = "" if _closes_fence(line, fence) else fence
            prev = None
            continue
        m = _FENCE.match(line)
        if m:
            fence = m.group(1)
            prev = None
            continue
        atx = _ATX.match(line)
        if atx:
            title = _clean_heading(atx.group(2) or "")
            if title:
                headings.append(Heading(len(atx.group(1)), title, a, b))
            prev, after_blank = None, False
            continue
        setext = _SETEXT.match(line)
        if setext and prev:
            title = _clean_heading(body[prev[0] : prev[1]])
            if title:
                headings.append(Heading(1 if setext.group(1)[0] == "=" else 2, title, prev[0], b))
                prev, after_blank = None, False
                continue
        stripped = line.strip()
        # Only a one-line paragraph of plain text can be a setext heading's text.
        starts_paragraph = after_blank and prev is None
        plain = not (_LIST_ITEM.match(line) or _is_table_row(stripped) or stripped.startswith(">"))
        prev = (a, b) if stripped and starts_paragraph and plain else None
        after_blank = not stripped
    return headings


def _clean_markdown_body(text: str, start: int) -> tuple[str, OffsetMap]:
    """The body without markup, link reference definitions (bare URLs) or carriage returns.

    Code fences are copied as they are: markup inside them is content.
    """
    cleaner = _Cleaner(text)
    region = start  # start of the current run of ordinary (non-code) text
    fence = ""
    for a, b in _lines(text, start):
        line = text[a:b].rstrip("\r")
        m = _FENCE.match(line)
        if fence:
            if _closes_fence(line, fence):
                fence = ""
                cleaner.keep(region, b)
                region = b
        elif m:
            _clean_markup(cleaner, region, a)
            fence, region = m.group(1), a
        elif _LINK_DEFINITION.match(line):
            _clean_markup(cleaner, region, a)
            region = b
    if fence:
        cleaner.keep(region, len(text))
    else:
        _clean_markup(cleaner, region, len(text))
    return cleaner.result()


def _load_markdown(source: str, text: str) -> Document:
    metadata, body_start = _front_matter(text)
    body, offsets = _clean_markdown_body(text, body_start)
    _require_text(body, "(only front matter or markup)")
    headings = _markdown_headings(body)
    title = metadata.get("title") or (headings[0].text if headings else "")
    if not title:
        title = next(tidy(line) for line in body.splitlines() if line.strip())
    return Document(source, one_line(title), metadata, text, "markdown", body, offsets, headings)


# ---------------------------------------------------------------------------------------------
# HTML


# Elements whose text is not reading matter (all have end tags: a void element here would hide the page).
_SKIP_TAGS = frozenset("head script style noscript template svg math canvas iframe object select".split())
# What may appear in <head>; anything else means the page forgot to close it (or to open <body>).
_HEAD_TAGS = frozenset("head title meta link style script base noscript template".split())
# Tags that end a line, and tags that end a paragraph (a blank line, which the chunker splits on first).
_LINE_TAGS = frozenset("br dd div dt li ol tr ul".split())
_PARAGRAPH_TAGS = frozenset(
    "address article aside blockquote details dialog dl fieldset figcaption figure footer form header hgroup hr "
    "legend main nav p pre section summary table caption h1 h2 h3 h4 h5 h6".split()
)
_HEADING_LEVELS = {f"h{i}": i for i in range(1, 7)}
_META_NAMES = ("author", "description", "keywords", "date")


class _HTMLText(HTMLParser):
    """Readable text of a page, lightly marked up so the chunker sees its structure.

    Headings become ``#`` lines, list items ``- `` lines and table rows ``| a | b |`` lines.
    Event parsing instead of a BeautifulSoup tree: real pages leave ``<p>``/``<li>`` unclosed, which
    html.parser trees nest ever deeper (quadratic to build), and hostile pages nest past any limit;
    text extraction needs neither a tree nor recursion.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.pending = 0  # newlines owed before the next text: the strongest break asked for since
        self.skip: dict[str, int] = {}  # open skipped elements by name (script, style, head, ...)
        self.in_pre = 0
        self.in_cell = False
        self.in_title = False
        self.title: list[str] = []
        self.metadata: dict[str, str] = {}

    def _write(self, piece: str) -> None:
        if self.pending:
            if not piece.strip():
                return
            if self.out:
                self.out.append("\n" * self.pending)
            self.pending = 0
            piece = piece.lstrip()
        self.out.append(piece)

    def _break(self, newlines: int) -> None:
        if self.in_cell:
            self._write(" ")
        else:
            self.pending = max(self.pending, newlines)

    def _end_cell(self) -> None:
        if self.in_cell:
            self._write(" |")
            self.in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "html" and values.get("lang"):
            self.metadata["lang"] = values["lang"]
        elif tag == "meta":
            name = (values.get("name") or values.get("property") or "").lower().removeprefix("og:")
            if name in _META_NAMES and values.get("content"):
                self.metadata.setdefault(name, one_line(values["content"], 500))
        elif tag == "title":
            self.in_title = True
        if tag not in _HEAD_TAGS:
            self.skip.pop("head", None)
        if tag in _SKIP_TAGS:
            self.skip[tag] = self.skip.get(tag, 0) + 1
        if self.skip or tag in _SKIP_TAGS:
            return
        if tag in ("td", "th"):
            self._end_cell()  # an unclosed cell ends where the next one starts
            self._write(" ")
            self.in_cell = True
            return
        if tag == "tr":
            self._end_cell()
        if tag in _PARAGRAPH_TAGS:
            self._break(2)
        elif tag in _LINE_TAGS:
            self._break(1)
        if tag == "pre":
            self.in_pre += 1
        if tag in _HEADING_LEVELS and not self.in_cell:
            self._write("#" * _HEADING_LEVELS[tag] + " ")
        elif tag == "li" and not self.in_cell:
            self._write("- ")
        elif tag == "tr":
            self._write("|")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _LINE_TAGS and tag not in _PARAGRAPH_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in self.skip:
            self.skip[tag] -= 1
            if not self.skip[tag]:
                del self.skip[tag]
            return
        if self.skip:
            return
        if tag in ("td", "th", "tr", "table"):
            self._end_cell()
        if tag == "pre" and self.in_pre:
            self.in_pre -= 1
        if tag in _PARAGRAPH_TAGS:
            self._break(2)
        elif tag in _LINE_TAGS:
            self._break(1)

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        if self.skip:
            return
        if self.in_cell:
            self._write(" ".join(data.split()).replace("|", "/") if data.strip() else " ")
        else:
            self._write(data if self.in_pre else re.sub(r"\s+", " ", data))

    def text(self) -> str:
        # Headings and rows must stay on one line whatever whitespace the page put inside them.
        return "\n".join(" ".join(line.split()) for line in "".join(self.out).split("\n")).strip()


def _load_html(source: str, text: str) -> Document:
    parser = _HTMLText()
    parser.feed(text)
    parser.close()
    body = parser.text()
    _require_text(body, "(the page has no readable text)")
    metadata = parser.metadata
    headings = _markdown_headings(body)
    title = one_line("".join(parser.title))
    if title:
        metadata["title"] = title
    else:
        h1 = next((h for h in headings if h.level == 1), None)
        title = h1.text if h1 else one_line(body.split("\n", 1)[0])
    return Document(source, one_line(title), metadata, body, "html", body, OffsetMap.identity(len(body)), headings)


# ---------------------------------------------------------------------------------------------
# PDF


_PAGE_SEPARATOR = "\n\n"


def _load_pdf(source: str, data: bytes) -> Document:
    if not data:
        raise SkipFile("empty file")
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed-but-readable files warn per object
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise SkipFile("encrypted PDF (needs a password)")
        pages = reader.pages
        count = len(pages)
    except SkipFile:
        raise
    except Exception as exc:
        raise SkipFile(f"unreadable PDF ({one_line(str(exc) or type(exc).__name__, 200)})") from None
    texts: list[str] = []
    failures: list[str] = []
    for index in range(count):
        try:
            page_text = pages[index].extract_text() or ""
        except Exception as exc:  # one broken page must not lose the rest of the document
            failures.append(f"page {index + 1}: {type(exc).__name__}")
            page_text = ""
        texts.append(tidy(_CONTROL.sub(" ", page_text)))
    if not any(texts):
        if failures:
            raise SkipFile(f"unreadable PDF (text extraction failed: {'; '.join(failures[:3])})")
        raise SkipFile("PDF has no extractable text (scanned images need OCR first)")
    parts: list[str] = []
    page_starts: list[int] = []
    length = 0
    for page_text in texts:
        if parts:
            parts.append(_PAGE_SEPARATOR)
            length += len(_PAGE_SEPARATOR)
        page_starts.append(length)
        parts.append(page_text)
        length += len(page_text)
    text = "".join(parts)
    metadata: dict[str, str] = {"pages": str(count)}
    try:
        info = reader.metadata or {}
        for key, name in (("/Title", "title"), ("/Author", "author"), ("/Subject", "subject")):
            value = one_line(str(info.get(key) or ""), 500)
            if value:
                metadata[name] = value
        created = reader.metadata.creation_date if reader.metadata else None
        if created:
            metadata["date"] = created.date().isoformat()
    except Exception:  # broken metadata is not worth losing the text over
        pass
    first_line = next(line for page_text in texts for line in page_text.split("\n") if line.strip())
    title = metadata.get("title") or one_line(first_line)
    headings = _pdf_headings(reader, text, page_starts)
    return Document(source, title, metadata, text, "pdf", text, OffsetMap.identity(len(text)), headings, page_starts)


_MAX_OUTLINE_ITEMS = 5_000
_SECTION_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[IVXLC]+\.)\s+")


def _pdf_headings(reader, text: str, page_starts: list[int]) -> list[Heading]:
    """Sections from the PDF outline (bookmarks), placed on the line where each title is printed.

    A title not found as a line of its page starts its section at the top of that page. A broken
    outline only costs the sections, never the text.
    """

    def key(line: str) -> str:
        return _SECTION_NUMBER.sub("", " ".join(line.split())).casefold()

    try:
        items: list[tuple[int, int, str]] = []  # (page index, level, title) in outline order
        stack = [(iter(reader.outline), 1)]
        while stack and len(items) < _MAX_OUTLINE_ITEMS:
            entries, level = stack[-1]
            entry = next(entries, None)
            if entry is None:
                stack.pop()
            elif isinstance(entry, list):
                stack.append((iter(entry), level + 1))  # children of the entry before
            else:
                page = reader.get_destination_page_number(entry)
                name = one_line(str(entry.title or ""))
                if name and page is not None and 0 <= page < len(page_starts):
                    items.append((page, level, name))
    except Exception:
        return []
    headings: list[Heading] = []
    searched_from = [*page_starts]  # per page: where the next title search starts
    for page, level, name in sorted(items, key=lambda item: item[0]):
        page_end = page_starts[page + 1] if page + 1 < len(page_starts) else len(text)
        at = page_starts[page]
        for a, b in _lines(text, searched_from[page], page_end):
            if key(text[a:b]) == key(name):
                at = a
                searched_from[page] = b
                headings.append(Heading(level, name, a, b))
                break
        else:
            headings.append(Heading(level, name, at, at))
    headings.sort(key=lambda heading: heading.start)
    return headings
