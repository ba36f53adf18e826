"""Web pages (.html, .htm): the main content's readable text, with headings taken from heading elements.

HTML bytes are not displayable, so ``Document.text`` is the extracted text; EPUB chapters are read
with the same :func:`page_text`.

What a reader of a documentation site came for is the page's main content: the first landmark that
marks it (``<main>``, ``role="main"``, Sphinx's ``div.body``, MkDocs' ``<article>``) is kept and
navigation, sidebars, footers, permalink anchors and generated tables of contents are not. Headings
come from ``h1``–``h6`` elements only (a ``# comment`` in a code block is code), and an entry of a
definition list is a section titled by its term: an API entry (Sphinx's ``dl.py.function`` and kin, or
mkautodoc's ``div.autodoc`` in MkDocs) by its signature, a glossary entry ("Jython" / "Python implemented in
Java.", "\\d" / "Matches any decimal digit") by its term, so the definition is found, read and cited under what
it defines.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from rag.loaders.common import Document, Heading, OffsetMap, SkipFile, decode_text, one_line, require_text

# Elements whose text is not reading matter (all have end tags: a void element here would hide the page).
_SKIP_TAGS = frozenset("head script style noscript template svg math canvas iframe object select".split())
# What may appear in <head>; anything else means the page forgot to close it (or to open <body>).
_HEAD_TAGS = frozenset("head title meta link style script base noscript template".split())
# Tags that end a line, and tags that end a paragraph (a blank line, which the chunker splits on first).
_LINE_TAGS = frozenset("br dd div dt li ol tr ul".split())
_PARAGRAPH_TAGS = frozenset(
    "address article aside blockquote details dialog dl fieldset figcaption figure footer form header hgroup "
    "hr legend main nav p pre section summary table caption h1 h2 h3 h4 h5 h6".split()
)
_VOID_TAGS = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_HEADING_LEVELS = {f"h{i}": i for i in range(1, 7)}
_META_NAMES = ("author", "description", "keywords", "date")

# Landmarks of the main content, most specific first; the first non-empty one of the best kind wins.
_MAIN_ROLE = "main"
_MAIN_KINDS = ("main", "role", "body", "article")
# Never reading matter wherever they are: site navigation, search boxes, footers, permalink anchors
# ("¶"), Sphinx's sidebar / related-links bars / toctree listings and source links.
_DROP_TAGS = frozenset({"nav", "footer"})
_DROP_ROLES = frozenset({"navigation", "search", "contentinfo"})
_DROP_CLASSES = frozenset(
    {"headerlink", "toctree-wrapper", "sphinxsidebar", "related", "viewcode-link", "viewcode-back"}
)
# Definition lists whose terms are labels of the entry's fields ("Parameters", "Returns"), not what it defines.
_FIELD_LIST_CLASSES = frozenset({"field-list", "option-list", "footnote", "citation"})
# A "See also" box lists links with a line on each ("PEP 343" / "The specification …"): cross-references, not
# definitions (rag/units.py reads the box as one).
_SEE_ALSO_CLASS = "seealso"
# MkDocs' API entries (mkautodoc): a div of entries (a class's members, nested in its entry) whose signature div
# is the term over its docstring div.
_ENTRY_CLASSES, _SIGNATURE_CLASS = frozenset({"autodoc", "autodoc-members"}), "autodoc-signature"
_PERMALINK_MARKS = re.compile("¶")


@dataclass
class _Region:
    """An element whose end matters (a landmark, a dropped element, a definition list), found by its tag depth."""

    tag: str
    depth: int  # how many ``tag`` elements were open, this one included
    kind: str  # "drop", "entries" (a definition list), "seealso", or a main-content kind from _MAIN_KINDS
    start: int = 0  # output offset where it opened
    level: int = 0  # for "entries": the level of the headings its terms make


@dataclass
class _Capture:
    """A heading being read: its text and the output span it covers."""

    level: int
    start: int = -1
    first_piece: int = -1  # index in the output list of its first piece
    after: int = -1  # output length when it opened: a term right after another shares its entry
    term: bool = False  # a definition-list term (API signature, glossary term) rather than an h1–h6


class _HTMLText(HTMLParser):
    """Readable text of a page, lightly marked up so the chunker sees its structure.

    List items become ``- `` lines and table rows ``| a | b |`` lines; headings are printed as plain
    lines and reported with their spans. Whitespace is collapsed as the text is written (except in
    ``<pre>``), so recorded offsets are final.

    Event parsing instead of a tree: real pages leave ``<p>``/``<li>`` unclosed, which html.parser
    trees nest ever deeper (quadratic to build), and hostile pages nest past any limit. Where an
    element ends is found by counting open elements of its tag name, which is linear and needs no
    recursion.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.length = 0
        self.pending = 0  # newlines owed before the next text: the strongest break asked for since
        self.space = False  # a space owed before the next text on the same line
        self.trailing_newlines = 0  # newlines the output already ends with (a <pre> ends with one)
        self.skip: dict[str, int] = {}  # open skipped elements by name (script, style, head, ...)
        self.marker = ""  # a list bullet owed before the next text
        self.in_link = 0
        self.link_text: list[tuple[int, int]] = []  # output spans of link text (<a href>)
        self.in_pre = 0
        self.code: list[tuple[int, int]] = []  # output spans of <pre> blocks (outermost ones)
        self.in_cell = False
        # Per open table: its rows so far, and the kinds of the current row's cells ("th"/"td").
        self.tables: list[tuple[int, list[str]]] = []
        self.in_title = False
        self.title: list[str] = []
        self.metadata: dict[str, str] = {}
        self.open_count: dict[str, int] = {}  # open elements per tag name
        self.regions: list[_Region] = []
        self.region_depths: dict[str, list[int]] = {}  # per tag: depths of its open regions
        self.dropping = 0  # open "drop" regions
        self.candidates: list[tuple[int, int, int]] = []  # (kind rank, start, end) of main-content landmarks
        self.headings: list[Heading] = []
        self.capture: _Capture | None = None
        self.section_level = 0  # level of the last h1–h6: definition-list entries nest below it
        self.entry_lists = 0  # open definition lists (not field lists)

    # -- writing ------------------------------------------------------------------------------

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.length += len(text)

    def _write(self, piece: str) -> None:
        if self.dropping:
            return
        if not self.in_pre:
            if not piece.strip():
                self.space = self.space or bool(piece)
                return
            self.space = self.space or piece[0].isspace()
            following = piece[-1].isspace()
            piece = " ".join(piece.split())
        elif not piece:
            return
        if self.pending:
            if not piece.strip():
                return
            if self.length:
                self._emit("\n" * max(0, self.pending - self.trailing_newlines))
            self.pending = 0
            self.space = False
            piece = piece.lstrip("\r\n")
        elif self.space and self.length and not self.trailing_newlines:
            self._emit(" ")
        self.space = False
        if self.marker:  # a list item's bullet goes with its first text, whatever blocks come between
            self._emit(self.marker)
            self.marker = ""
        if self.capture is not None and self.capture.start < 0:
            self.capture.start, self.capture.first_piece = self.length, len(self.out)
        if self.in_link:
            self.link_text.append((self.length, self.length + len(piece)))
        self._emit(piece)
        stripped = piece.rstrip("\n")
        self.trailing_newlines = len(piece) - len(stripped) if stripped else self.trailing_newlines + len(piece)
        if not self.in_pre:
            self.space = following

    def _break(self, newlines: int) -> None:
        if self.in_cell:
            self._write(" ")
        else:
            self.pending = max(self.pending, newlines)

    def _end_cell(self) -> None:
        if self.in_cell:
            self._write(" |")
            self.in_cell = False

    def _end_row(self) -> None:
        """A table's first row, of header cells only (Sphinx's <thead>), gets a Markdown rule line under it, so
        rag/units.py labels the other rows' cells with it ("Level: INFO · Numeric value: 20") as in a Markdown table."""
        if not self.tables or not self.tables[-1][1]:
            return
        rows, cells = self.tables[-1]
        self.tables[-1] = (rows + 1, [])
        if rows == 0 and set(cells) == {"th"}:
            self._break(1)
            self._write("| " + " | ".join("---" for _ in cells) + " |")

    # -- headings -----------------------------------------------------------------------------

    def _end_capture(self) -> None:
        capture, self.capture = self.capture, None
        if capture is None or capture.start < 0:
            return
        text = one_line(_PERMALINK_MARKS.sub(" ", "".join(self.out[capture.first_piece :])))
        if not text:
            return
        last = self.headings[-1] if self.headings else None
        if capture.term and last and last.text and last.level == capture.level and last.end == capture.after:
            # Overloads, synonyms: several terms over one description are one entry.
            merged = last.text if last.text.endswith("…") else one_line(f"{last.text}; {text}")
            self.headings[-1] = Heading(last.level, merged, last.start, self.length)
        else:
            self.headings.append(Heading(capture.level, text, capture.start, self.length))

    # -- regions ------------------------------------------------------------------------------

    def _open_region(self, tag: str, kind: str, level: int = 0) -> None:
        region = _Region(tag, self.open_count[tag], kind, self.length, level)
        self.regions.append(region)
        self.region_depths.setdefault(tag, []).append(region.depth)
        if kind == "drop":
            self.dropping += 1
        elif kind == "entries":
            self.entry_lists += 1

    def _close_regions(self, tag: str) -> None:
        """Close the region this end tag ends, and any left unclosed inside it."""
        depths = self.region_depths.get(tag)
        if not depths or depths[-1] != self.open_count.get(tag, 0):
            return
        while True:
            region = self.regions.pop()
            self.region_depths[region.tag].pop()
            if region.kind == "drop":
                self.dropping -= 1
            elif region.kind == "entries":
                self.entry_lists -= 1
                self._end_capture()
                # An empty heading closes the entry: text after the list belongs to the section again.
                self.headings.append(Heading(region.level, "", self.length, self.length))
            elif region.kind in _MAIN_KINDS:
                self.candidates.append((_MAIN_KINDS.index(region.kind), region.start, self.length))
            if region.tag == tag and region.depth == self.open_count[tag]:
                return

    def _region_kind(self, tag: str, values: dict[str, str]) -> str | None:
        classes = set(values.get("class", "").split())
        role = values.get("role", "").lower()
        if tag in _DROP_TAGS or role in _DROP_ROLES or classes & _DROP_CLASSES or "hidden" in values:
            return "drop"
        if tag == "main":
            return "main"
        if role == _MAIN_ROLE:
            return "role"
        if tag == "div" and "body" in classes:
            return "body"
        if tag == "article":
            return "article"
        if tag == "dl" and not classes & _FIELD_LIST_CLASSES and not any(r.kind == "seealso" for r in self.regions):
            return "entries"  # an API entry's signature and a glossary term title their entries alike
        if tag == "div" and classes & _ENTRY_CLASSES:
            return "entries"
        if _SEE_ALSO_CLASS in classes:
            return "seealso"
        return None

    def _in_entry_list(self, opened: str) -> bool:
        """Whether the element just ``opened`` is a child of a list of entries (not of a field list inside one)."""
        last = self.regions[-1] if self.regions else None
        if last is None or last.kind != "entries":
            return False
        return last.depth == self.open_count.get(last.tag, 0) - (opened == last.tag)  # its own tag counted already

    def _opens_term(self, tag: str, values: dict[str, str]) -> bool:
        """Is the element a term of a list of entries: a ``dt``, or mkautodoc's signature div?"""
        term = tag == "dt" or tag == "div" and _SIGNATURE_CLASS in values.get("class", "").split()
        return term and self._in_entry_list(tag)

    def _entry_level(self) -> int:
        """Level of a term heading: one below the section, one more per enclosing definition list."""
        return self.section_level + self.entry_lists

    # -- parser events ------------------------------------------------------------------------

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
        if tag not in _VOID_TAGS:
            self.open_count[tag] = self.open_count.get(tag, 0) + 1
            kind = self._region_kind(tag, values)
            if kind:
                self._open_region(tag, kind, self._entry_level() + 1 if kind == "entries" else 0)
        if tag == "a" and "href" in values:
            self.in_link += 1
        if tag == "table":
            self.tables.append((0, []))
        if tag in ("td", "th"):
            self._end_cell()  # an unclosed cell ends where the next one starts
            if self.tables:
                self.tables[-1][1].append(tag)
            self._write(" ")
            self.in_cell = True
            return
        if tag == "tr":
            self._end_cell()
            self._end_row()  # an unclosed row ends where the next one starts
        if self.capture is not None and (tag in _PARAGRAPH_TAGS or tag in _LINE_TAGS):
            self._end_capture()  # a block inside a heading (or a heading left open) ends it
        if tag in _PARAGRAPH_TAGS:
            self._break(2)
        elif tag in _LINE_TAGS:
            self._break(1)
        if tag == "pre":
            self.in_pre += 1
            if self.in_pre == 1:
                self.code.append((self.length, self.length))
        if self.in_cell or self.in_pre or self.dropping:
            pass
        elif tag in _HEADING_LEVELS:
            self.section_level = _HEADING_LEVELS[tag]
            self.capture = _Capture(self.section_level)
        elif self._opens_term(tag, values):
            self._break(2)
            self.capture = _Capture(self.regions[-1].level, after=self.length, term=True)
        elif tag == "li":
            self.marker = "- "
        if tag == "tr":
            self._write("|")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS:  # XHTML's <div/> is an empty element
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
        if tag in _HEADING_LEVELS or tag in ("dt", "dd") or tag == "div" and self.capture and self.capture.term:
            self._end_capture()
        if tag == "a" and self.in_link:
            self.in_link -= 1
        if tag in ("td", "th", "tr", "table"):
            self._end_cell()
        if tag in ("tr", "table"):
            self._end_row()
        if tag == "table" and self.tables:
            self.tables.pop()
        if tag == "pre" and self.in_pre:
            self.in_pre -= 1
            if not self.in_pre:
                self.code[-1] = (self.code[-1][0], self.length)
        if tag in ("li", "ul", "ol"):
            self.marker = ""  # an item without text gets no bullet
        if self.open_count.get(tag):
            self._close_regions(tag)
            self.open_count[tag] -= 1
        if tag in _PARAGRAPH_TAGS:
            self._break(2)
        elif tag in _LINE_TAGS:
            self._break(1)

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        if self.skip:
            return
        if self.in_cell:  # one line per row, "|" between cells; the spaces around inline code stay
            words = " ".join(data.split()).replace("|", "/")
            before, after = " " if data[:1].isspace() else "", " " if data[-1:].isspace() else ""
            self._write(f"{before}{words}{after}" if words else " ")
        else:
            self._write(data)

    def close(self) -> None:
        super().close()
        self._end_capture()
        while self.regions:  # elements left open run to the end of the page
            region = self.regions[-1]
            self.open_count[region.tag] = region.depth
            self._close_regions(region.tag)


@dataclass
class Page:
    """What one HTML page says: its text, its headings' spans, <title> and <meta>.

    ``main_found`` says whether a main-content landmark chose the text (else it is the whole page
    without navigation and footers).
    """

    text: str
    headings: list[Heading]
    title: str
    metadata: dict[str, str]
    main_found: bool = False
    link_text: list[tuple[int, int]] = field(default_factory=list)  # spans of link text, for density
    code: list[tuple[int, int]] = field(default_factory=list)  # spans of <pre> blocks


def page_text(markup: str) -> Page:
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    full = "".join(parser.out)
    start, end = 0, len(full)
    main = min((c for c in parser.candidates if full[c[1] : c[2]].strip()), default=None)
    if main:
        start, end = main[1], main[2]
    # The text proper starts at its first non-blank character; headings shift with it.
    text = full[start:end].strip()
    start += len(full[start:end]) - len(full[start:end].lstrip())
    headings = [
        Heading(h.level, h.text, h.start - start, h.end - start)
        for h in parser.headings
        if start <= h.start and h.end <= start + len(text)
    ]
    links = [(a - start, b - start) for a, b in parser.link_text if start <= a and b <= start + len(text)]
    code = _trimmed(text, [(max(a, start) - start, min(b, start + len(text)) - start) for a, b in parser.code])
    return Page(text, headings, one_line("".join(parser.title)), parser.metadata, main is not None, links, code)


def _trimmed(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans without their leading and trailing whitespace; empty ones dropped (a <pre> in dropped navigation)."""
    result = []
    for a, b in spans:
        piece = text[a:b] if a < b else ""
        if piece.strip():
            result.append((a + len(piece) - len(piece.lstrip()), b - len(piece) + len(piece.rstrip())))
    return result


def _page_title(page: Page) -> str:
    """The page's name: its h1 when <title> only adds the site name to it, else <title>, else the h1."""
    h1 = next((h.text for h in page.headings if h.level == 1), "")
    title = page.title
    if h1 and title and title != h1 and (title.startswith(h1) or title.endswith(h1)):
        rest = title.removeprefix(h1) if title.startswith(h1) else title.removesuffix(h1)
        if re.fullmatch(r"\s*[-–—|:·•»]+\s*\S.*|.*\S\s*[-–—|:·•«]+\s*", rest):
            return h1
    return title or h1


def _dense_main_content(page: Page, markup: str) -> Page:
    """A page without landmarks: drop the navigation-like blocks a density-based extractor rejects.

    trafilatura reads the page; a block of our own text (a paragraph, list, table or code block
    between blank lines) counts as rejected when fewer than half its word trigrams (a block under three
    words: its lines) are in trafilatura's text. It is dropped only if it is also mostly link text
    (menus, related links, previous/next) or the heading of a dropped section: alone, trafilatura
    also rejects short lists and paragraphs that are content. Headings, code and exact text stay ours.
    Measured against trafilatura, resiliparse, readability-lxml and jusText alone on the pydocs pages
    with their landmarks removed (bench/html_extractors.py): 0.997 of the main content kept, one
    sidebar phrase left. trafilatura's cost grows faster than the page, so pages over
    ``_DENSE_MAX_CHARS`` are left whole, as is a page where nothing would be left.
    """
    if len(markup) > _DENSE_MAX_CHARS:
        return page
    try:
        import trafilatura
    except ImportError:
        raise SkipFile("reading web pages without a <main> landmark needs the Python package 'trafilatura'; reinstall rag") from None

    extracted = trafilatura.extract(markup, include_tables=True, include_comments=False, deduplicate=False) or ""
    words = _words(extracted)
    trigrams = set(zip(words, words[1:], words[2:]))
    lines = {" ".join(_words(line)) for line in extracted.splitlines()}
    blocks = _blocks(page.text, page.headings)
    heading_starts = {h.start for h in page.headings if h.text}
    link_starts, link_totals = _cumulative(page.link_text)
    drop = [False] * len(blocks)
    for i in range(len(blocks) - 1, -1, -1):
        start, end = blocks[i]
        block = _words(page.text[start:end])
        if len(block) < 3:
            rejected = not all(" ".join(_words(line)) in lines for line in page.text[start:end].splitlines())
        else:
            grams = list(zip(block, block[1:], block[2:]))
            rejected = 2 * sum(gram in trigrams for gram in grams) < len(grams)
        # Only what the extractor rejects and looks like navigation goes: mostly link text, or a
        # heading whose section goes too.
        links = _overlap(link_starts, link_totals, page.link_text, start, end)
        heading_of_dropped = start in heading_starts and (i + 1 == len(blocks) or drop[i + 1])
        drop[i] = rejected and (2 * links >= len(page.text[start:end].replace(" ", "")) or heading_of_dropped)
    keep = [not dropped for dropped in drop]
    kept = [block for block, wanted in zip(blocks, keep) if wanted]
    if not kept:
        return page
    text, moved = _join_blocks(page.text, kept)
    code = _trimmed(text, [(max(a, start) + moved[i] - start, min(b, end) + moved[i] - start)
                           for a, b in page.code for i, (start, end) in enumerate(kept) if a < end and start < b])
    return Page(text, _moved_headings(page.headings, kept, moved, len(text)), page.title, page.metadata, code=code)


_DENSE_MAX_CHARS = 2_000_000  # trafilatura took 3 s on a 1.7 MB page here, 45 s on 6.8 MB
_WORD = re.compile(r"\w+")
_BLOCK_BREAK = "\n\n"


def _words(text: str) -> list[str]:
    return [word.casefold() for word in _WORD.findall(text)]


def _cumulative(spans: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Starts of the spans, and the total length of spans before each (for overlap sums by bisection)."""
    starts, totals, total = [], [0], 0
    for a, b in spans:
        starts.append(a)
        total += b - a
        totals.append(total)
    return starts, totals


def _overlap(starts: list[int], totals: list[int], spans: list[tuple[int, int]], a: int, b: int) -> int:
    """Characters of sorted, disjoint ``spans`` inside [a, b)."""
    first = bisect.bisect_left(starts, a)
    last = bisect.bisect_left(starts, b)
    inside = totals[last] - totals[first]
    if last > first and spans[last - 1][1] > b:
        inside -= spans[last - 1][1] - b
    if first > 0 and spans[first - 1][1] > a:
        inside += min(spans[first - 1][1], b) - a
    return inside


def _blocks(text: str, headings: list[Heading]) -> list[tuple[int, int]]:
    """(start, end) of each run of text between blank lines; a heading is never cut in two."""
    spans, position = [], 0
    for gap in re.finditer(r"\n[^\S\n]*\n\s*", text):
        spans.append((position, gap.start()))
        position = gap.end()
    spans.append((position, len(text)))
    blocks = [(a, b) for a, b in spans if text[a:b].strip()]
    for heading in headings:  # a heading over several blocks (API overloads) makes them one
        i = bisect.bisect_right(blocks, (heading.start, len(text) + 1)) - 1
        while i >= 0 and i + 1 < len(blocks) and blocks[i + 1][0] < heading.end:
            blocks[i : i + 2] = [(blocks[i][0], blocks[i + 1][1])]
    return blocks


def _join_blocks(text: str, kept: list[tuple[int, int]]) -> tuple[str, list[int]]:
    """The kept blocks joined by blank lines, and where each now starts."""
    parts, moved, length = [], [], 0
    for start, end in kept:
        if parts:
            parts.append(_BLOCK_BREAK)
            length += len(_BLOCK_BREAK)
        moved.append(length)
        parts.append(text[start:end])
        length += end - start
    return "".join(parts), moved


def _moved_headings(headings: list[Heading], kept: list[tuple[int, int]], moved: list[int], length: int) -> list[Heading]:
    """Headings of kept blocks at their new offsets; an end marker moves to the next kept block."""
    result = []
    for heading in headings:
        i = bisect.bisect_right(kept, (heading.start, length + 1)) - 1  # last kept block starting at or before it
        if heading.text:
            if i >= 0 and heading.end <= kept[i][1]:
                shift = moved[i] - kept[i][0]
                result.append(Heading(heading.level, heading.text, heading.start + shift, heading.end + shift))
        else:
            at = moved[i + 1] if i + 1 < len(kept) else length
            at = moved[i] if i >= 0 and kept[i][0] == heading.start else at
            result.append(Heading(heading.level, "", at, at))
    return result


def _outside_headings(text: str, headings: list[Heading]) -> str:
    """The text that is not a heading line: what the chunker will cut."""
    parts, position = [], 0
    for heading in headings:
        parts.append(text[position : heading.start])
        position = max(position, heading.end)
    return "".join(parts) + text[position:]


def load(source: str, data: bytes) -> Document:
    markup = decode_text(data)
    page = page_text(markup)
    if not page.main_found and page.text.strip():
        page = _dense_main_content(page, markup)
    body = page.text
    require_text(body, "(the page has no readable text)")
    if not _outside_headings(body, page.headings).strip():
        raise SkipFile("no text to index (the page's main content is only headings, e.g. a table of contents page)")
    metadata = page.metadata
    if page.title:
        metadata["title"] = page.title
    title = _page_title(page) or one_line(body.split("\n", 1)[0])
    return Document(source, one_line(title), metadata, body, "html", body, OffsetMap.identity(len(body)), page.headings,
                    code_spans=page.code)
