"""Web pages (.html, .htm): the readable text, lightly marked up so the chunker sees its structure.

HTML bytes are not displayable, so ``Document.text`` is the extracted text; EPUB chapters are read
with the same :func:`page_text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from rag.loaders.common import Document, Heading, OffsetMap, decode_text, one_line, require_text
from rag.loaders.markdown import markdown_headings

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


@dataclass
class Page:
    """What one HTML page says: its text (headings as ``#`` lines), their spans, <title> and <meta>."""

    text: str
    headings: list[Heading]
    title: str
    metadata: dict[str, str]


def page_text(markup: str) -> Page:
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    text = parser.text()
    return Page(text, markdown_headings(text), one_line("".join(parser.title)), parser.metadata)


def load(source: str, data: bytes) -> Document:
    page = page_text(decode_text(data))
    body = page.text
    require_text(body, "(the page has no readable text)")
    metadata = page.metadata
    title = page.title
    if title:
        metadata["title"] = title
    else:
        h1 = next((h for h in page.headings if h.level == 1), None)
        title = h1.text if h1 else one_line(body.split("\n", 1)[0])
    return Document(source, one_line(title), metadata, body, "html", body, OffsetMap.identity(len(body)), page.headings)
