"""PDF (.pdf): the text a reader sees, page by page, with sections from the outline (bookmarks).

Text comes from pypdfium2 (PDFium), chosen by measurement (bench/pdf_extractors.py): it keeps the word
spaces that pypdf loses on some producers and is the fastest. On top of its lines this module drops what
is not content and marks what is not prose:

- running headers and footers (the same line, numbers aside, at the same height on many pages);
- contents pages, lists of figures and indexes (dot leaders, or an outline entry so named, over lines
  ending in page numbers): the page is kept empty so page numbers stay right;
- line-end hyphenation PDFium recognises is joined, ligatures are expanded, and a paragraph's printed
  lines are joined into one line (sentences read whole);
- code listings (lines set in a monospace font, line numbers allowed) become blocks of their own, listed
  in ``Document.code_spans``;
- a page without a text layer is read with OCR when Debian's tesseract is installed (its section says
  "(OCR)"), else left empty with the reason, and how to enable OCR, in ``metadata["skipped_pages"]``.

PDF bytes are not displayable, so ``Document.text`` is the extracted text (pages joined by a blank line)
and ``body`` the same string: offsets are exact by construction.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import re
import shutil
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass

from rag.loaders.common import CONTROL, LIST_ITEM, Document, Heading, OffsetMap, SkipFile, lines, one_line

log = logging.getLogger(__name__)

_PAGE_SEPARATOR = "\n\n"
_BLOCK_SEPARATOR = "\n\n"
# PDFium handles are not thread-safe; indexing loads in a worker thread while a re-load can run beside it.
_PDFIUM = threading.Lock()

_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
# TeX sets an accent as its own glyph before the letter ("Bienven¨ue"): put it back on the letter.
_SPACING_ACCENTS = {
    "¨": "\u0308", "´": "\u0301", "ˆ": "\u0302", "˜": "\u0303", "¸": "\u0327", "ˇ": "\u030c", "˚": "\u030a",
}
_SPACING_ACCENT = re.compile(f"([{''.join(_SPACING_ACCENTS)}])([^\\W\\d_])")
# A symbol-font glyph without a Unicode mapping comes out as a C1 control character; at the start of a
# line it is a list bullet (the pdfTeX manual's itemize), elsewhere it is dropped with the other controls.
_SYMBOL_BULLET = re.compile(r"^\s*[\x80-\x9f]\s+")
_C1_CONTROL = re.compile(r"[\x80-\x9f]")
# PDFium's mark (U+FFFE, or U+0002 in bounded text) for a hyphen it took for line-end hyphenation.
_SOFT_HYPHENS = "\ufffe\x02"

# Running headers/footers: candidates are the first and last lines of a page; one is running when its
# text (numbers as #) appears at the same height on at least this share of pages (and 3 pages).
_EDGE_LINES = 2
_RUNNING_SHARE = 0.25
_HEIGHT_TOLERANCE = 3.0  # points
_NUMBERS = re.compile(r"\d+|(?<=\s)[ivxlcdm]+$|^[ivxlcdm]+(?=\s)|^[ivxlcdm]+$", re.IGNORECASE)
_PAGE_OF = re.compile(r"#(?:\s*/\s*#)+")

# Contents pages, lists of figures and indexes.
_LEADER = re.compile(r"(?:\.\s?){3,}\s*[\divxlc]*[\d,\s–-]*$|\.\s\.\s\.")
_ENDS_IN_NUMBER = re.compile(r"\b(?:\d+|[ivxlc]+)[,.]?$")
_LISTING_TITLES = re.compile(
    r"(?:table of )?contents|index|list of (?:figures|tables|examples|listings|procedures)|change history",
    re.IGNORECASE,
)
_MIN_LEADER_LINES = 5
_LEADER_SHARE = 0.3
_NUMBERED_SHARE = 0.5

# Code: a line whose sampled characters are nearly all monospace, after an optional line number.
_MONOSPACE_NAME = re.compile(
    r"mono|courier|consol|menlo|typewriter|code|^(?:[A-Z]{6}\+)?(?:CM|LM|EC)?TT\d|cmtt|sfmono", re.IGNORECASE
)
_FIXED_PITCH = 1  # bit 1 of the PDF font descriptor flags
_SAMPLED_CHARS = 8
_CODE_SHARE = 0.8
_LINE_NUMBER = re.compile(r"^\d{1,5}(?=\s|$)")

# Paragraph lines: a line this close to the text's right edge (share of its width) goes on in the next one.
_WRAP_SLACK = 0.08
_SAME_X = 2.0  # points
_PITCH_SLACK = 1.2
_MIN_TEXT_WIDTH = 0.5  # share of the page width the text must span for its lines to be paragraph lines

# OCR of pages without a text layer.
_OCR_DPI = 300
# OCR takes seconds a page on a laptop CPU: a document gets at most this many OCR pages (about ten minutes), so
# one huge scan cannot hold the index run (and its lock) for an hour; the rest are listed as skipped, saying why.
MAX_OCR_PAGES = 200
_OCR_SECTION = "(OCR)"
_OCR_LEVEL = 99  # below every outline level: the marker nests in the section the page belongs to
_OCR_HINT = (
    "install Debian's tesseract-ocr and tesseract-ocr-eng (apt-get install tesseract-ocr tesseract-ocr-eng) "
    "to read them with OCR"
)


@dataclass
class _Line:
    text: str
    top: float | None  # page height of the line's first character (None when geometry is unknown)
    code: bool = False
    continues: bool = False  # ends in a hyphen PDFium joined: the next line carries on the word
    left: float | None = None  # where its first and last characters are
    right: float | None = None
    wraps: bool = False  # the paragraph goes on in the next line (joined by a space, not a line break)


@dataclass
class _Page:
    lines: list[_Line]
    scanned: bool = False  # no text layer but images: a candidate for OCR
    ocr: bool = False
    width: float = 0.0  # points


def load(source: str, data: bytes) -> Document:
    if not data:
        raise SkipFile("empty file")
    import pypdfium2 as pdfium

    with _PDFIUM:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            if "password" in str(exc).casefold():
                raise SkipFile("encrypted PDF (needs a password)") from None
            raise SkipFile(f"unreadable PDF ({one_line(str(exc), 200)})") from None
        try:
            return _load_open(source, pdf)
        finally:
            pdf.close()


def _load_open(source: str, pdf) -> Document:
    count = len(pdf)
    pages: list[_Page] = []
    failures: list[str] = []
    for index in range(count):
        try:
            pages.append(_read_page(pdf, index))
        except Exception as exc:  # one broken page must not lose the rest of the document
            failures.append(f"page {index + 1}: {type(exc).__name__}")
            pages.append(_Page([]))
    outline = _outline(pdf, count)
    skipped_pages, skip_reason = _ocr_scanned(pdf, pages)
    _drop_running_lines(pages)
    listing_pages = _listing_pages(pages, outline)
    for index in listing_pages:
        pages[index].lines = []

    for index, page in enumerate(pages):
        _mark_wrapped_lines(page, {key for p, _, title in outline if p == index for key in [_heading_key(title)]})
    text, page_starts, code_spans = _assemble(pages)
    if not text.strip():
        if failures:
            raise SkipFile(f"unreadable PDF (text extraction failed: {'; '.join(failures[:3])})")
        if skipped_pages:
            raise SkipFile(f"PDF has no text layer (scanned pages); {skip_reason}")
        raise SkipFile("PDF has no extractable text")

    metadata: dict[str, str] = {"pages": str(count)}
    metadata.update(_metadata(pdf))
    if listing_pages:
        metadata["contents_pages"] = _page_list(listing_pages)
    ocr_pages = [i for i, page in enumerate(pages) if page.ocr]
    if ocr_pages:
        metadata["ocr_pages"] = _page_list(ocr_pages)
    if skipped_pages:
        metadata["skipped_pages"] = f"{_page_list(skipped_pages)}: no text layer; {skip_reason}"
        log.warning("%s: pages %s have no text layer; %s", source, _page_list(skipped_pages), skip_reason)
    first = next((line for line in text.split("\n") if line.strip()), "")
    title = metadata.get("title") or one_line(first)
    headings = _place_headings(outline, text, page_starts)
    headings += _ocr_markers(pages, text, page_starts)
    headings.sort(key=lambda heading: (heading.start, heading.text == ""))
    return Document(
        source, title, metadata, text, "pdf", text, OffsetMap.identity(len(text)), headings, page_starts, code_spans
    )


def _page_list(indexes: list[int]) -> str:
    return ", ".join(str(index + 1) for index in indexes)


# ---- reading a page ---------------------------------------------------------------------------------


def _read_page(pdf, index: int) -> _Page:
    import pypdfium2.raw as raw

    page = pdf[index]
    try:
        textpage = page.get_textpage()
        try:
            count = textpage.count_chars()
            raw_text = textpage.get_text_range() if count > 0 else ""
            if not raw_text.strip():
                return _Page([], scanned=_has_images(page))
            # Geometry and fonts need text index == character index (true unless characters outside the BMP).
            geometry = len(raw_text) == count
            result = []
            for start, end, continues in _physical_lines(raw_text):
                line = _clean(raw_text[start:end])
                if not line:
                    continue
                left = top = right = code = None
                if geometry:
                    left, top, right = _line_box(textpage, raw_text, start, end)
                    code = _is_code_line(raw, textpage, raw_text, start, end)
                result.append(_Line(line, top, bool(code), continues, left, right))
            _settle_listing_lines(result)
            return _Page(result, width=page.get_width())
        finally:
            textpage.close()
    finally:
        page.close()


def _physical_lines(raw_text: str) -> list[tuple[int, int, bool]]:
    """(start, end, continues) of each printed line: PDFium ends lines with CRLF, or with its soft hyphen
    mark when it joined a hyphenated word (the word's rest follows on the next printed line)."""
    result = []
    start = 0
    for m in re.finditer(f"\r\n|\r|\n|[{_SOFT_HYPHENS}]", raw_text):
        result.append((start, m.start(), m.group() in _SOFT_HYPHENS))
        start = m.end()
    result.append((start, len(raw_text), False))
    return result


def _clean(line: str) -> str:
    line = _SYMBOL_BULLET.sub("• ", line)
    line = _SPACING_ACCENT.sub(lambda m: unicodedata.normalize("NFC", m[2] + _SPACING_ACCENTS[m[1]]), line)
    return " ".join(_C1_CONTROL.sub(" ", CONTROL.sub(" ", line.translate(_LIGATURES))).split())


def _line_box(textpage, raw_text: str, start: int, end: int) -> tuple[float | None, float | None, float | None]:
    """(left, top, right) of the line: its first character's left and top, its last one's right."""
    inked = [i for i in (start, end - 1) if not raw_text[i].isspace()]
    if not inked:
        return None, None, None
    left, _, _, top = textpage.get_charbox(inked[0])
    _, _, right, _ = textpage.get_charbox(inked[-1])
    return left, top, right


def _is_code_line(raw, textpage, raw_text: str, start: int, end: int) -> bool:
    """Nearly all of a sample of the line's characters (a leading line number aside) are monospace."""
    number = _LINE_NUMBER.match(raw_text[start:end].lstrip())
    if number:
        start = raw_text.index(number.group(), start) + len(number.group())
    positions = [i for i in range(start, end) if not raw_text[i].isspace()]
    if not positions:
        return bool(number)
    step = max(1, len(positions) // _SAMPLED_CHARS)
    sample = positions[::step][:_SAMPLED_CHARS]
    mono = sum(_monospace(raw, textpage, i) for i in sample)
    return mono >= _CODE_SHARE * len(sample)


def _monospace(raw, textpage, index: int) -> bool:
    flags = ctypes.c_int()
    buffer = ctypes.create_string_buffer(128)
    raw.FPDFText_GetFontInfo(textpage.raw, index, buffer, len(buffer), ctypes.byref(flags))
    name = buffer.value.decode("utf-8", "replace")
    return bool(flags.value & _FIXED_PITCH) or bool(_MONOSPACE_NAME.search(name))


def _settle_listing_lines(page_lines: list[_Line]) -> None:
    """A line without letters is code only inside a listing: a bare line number (an empty listing line)
    is code only beside code, a callout mark between listing lines ("4②[4]" in DocBook) is code too."""
    for i, line in enumerate(page_lines):
        if any(c.isalpha() for c in line.text):
            continue
        before = i > 0 and page_lines[i - 1].code and not page_lines[i - 1].text.isdigit()
        after = i + 1 < len(page_lines) and page_lines[i + 1].code and not page_lines[i + 1].text.isdigit()
        line.code = (before or after) if line.code else (before and after)


def _has_images(page) -> bool:
    import pypdfium2.raw as raw

    return any(True for _ in page.get_objects(filter=(raw.FPDF_PAGEOBJ_IMAGE,), max_depth=2))


# ---- OCR ------------------------------------------------------------------------------------------


def _ocr_available() -> bool:
    """Debian's tesseract binary is on PATH and pytesseract can drive it."""
    if shutil.which("tesseract") is None:
        return False
    try:
        import pytesseract  # noqa: F401
    except ImportError:
        return False
    return True


def _ocr_scanned(pdf, pages: list[_Page]) -> tuple[list[int], str]:
    """OCR the scanned pages when tesseract is there, up to MAX_OCR_PAGES; returns the pages left unread and why."""
    scanned = [i for i, page in enumerate(pages) if page.scanned]
    if not scanned or not _ocr_available():
        return scanned, _OCR_HINT
    import pytesseract

    for index in scanned[:MAX_OCR_PAGES]:
        page = pdf[index]
        try:
            image = page.render(scale=_OCR_DPI / 72).to_pil()
            text = pytesseract.image_to_string(image, lang="eng")
        except Exception as exc:  # a failed OCR costs that page only
            log.warning("OCR of page %d failed: %s", index + 1, exc)
            continue
        finally:
            page.close()
        found = [line for line in (_clean(raw_line) for raw_line in text.splitlines()) if line]
        if found:  # an image without words (a photo) stays an empty page
            pages[index] = _Page([_Line(line, None) for line in found], ocr=True)
    return scanned[MAX_OCR_PAGES:], f"OCR reads at most {MAX_OCR_PAGES} pages of a document (rag.loaders.pdf.MAX_OCR_PAGES)"


def _ocr_markers(pages: list[_Page], text: str, page_starts: list[int]) -> list[Heading]:
    """An unprinted "(OCR)" section over each OCR page, closed where the page ends, so citations say so."""
    markers = []
    for index, page in enumerate(pages):
        if page.ocr:
            end = page_starts[index + 1] - len(_PAGE_SEPARATOR) if index + 1 < len(pages) else len(text)
            markers += [Heading(_OCR_LEVEL, _OCR_SECTION, page_starts[index], page_starts[index]),
                        Heading(_OCR_LEVEL, "", end, end)]
    return markers


# ---- what is not content ----------------------------------------------------------------------------


def _running_key(line: _Line) -> tuple[str, float] | None:
    """The line's text with page numbers ("7", "vii", "7 / 92") as #, and its height."""
    if line.top is None:
        return None
    text = _PAGE_OF.sub("#", _NUMBERS.sub("#", line.text))
    return text.casefold(), round(line.top / _HEIGHT_TOLERANCE)


def _drop_running_lines(pages: list[_Page]) -> None:
    """Drop headers and footers: edge lines repeated (numbers aside) at the same height on many pages."""
    seen: Counter = Counter()
    for page in pages:
        edges = page.lines[:_EDGE_LINES] + page.lines[-_EDGE_LINES:]
        seen.update({key for line in edges if (key := _running_key(line)) is not None})
    needed = max(3, _RUNNING_SHARE * len(pages))
    running = {key for key, n in seen.items() if n >= needed}
    if not running:
        return
    for page in pages:
        inner = range(_EDGE_LINES, len(page.lines) - _EDGE_LINES)
        page.lines = [line for i, line in enumerate(page.lines) if i in inner or _running_key(line) not in running]


def _listing_pages(pages: list[_Page], outline: list[tuple[int, int, str]]) -> list[int]:
    """Contents pages, lists of figures/tables and indexes: many dot-leader lines, or pages of an outline
    section so named whose lines mostly end in page numbers."""
    listing_sections = set()
    for position, (page, _, title) in enumerate(outline):
        if _LISTING_TITLES.fullmatch(_without_number(title)):
            following = [p for p, _, _ in outline[position + 1 :] if p > page]
            listing_sections.update(range(page, following[0] if following else len(pages)))
    result = []
    for index, page in enumerate(pages):
        texts = [line.text for line in page.lines]
        if not texts:
            continue
        leaders = sum(bool(_LEADER.search(text)) for text in texts)
        numbered = sum(bool(_ENDS_IN_NUMBER.search(text)) for text in texts)
        if (leaders >= _MIN_LEADER_LINES and leaders >= _LEADER_SHARE * len(texts)) or (
            index in listing_sections and numbered >= _NUMBERED_SHARE * len(texts)
        ):
            result.append(index)
    return result


# ---- the text ---------------------------------------------------------------------------------------


def _mark_wrapped_lines(page: _Page, heading_keys: set[str]) -> None:
    """Mark the prose lines a paragraph goes on from, so its sentences read whole ("see Section\n4.12"
    would otherwise end a sentence for whoever splits at line breaks).

    A line wraps into the next when it reaches the right edge of the page's text, the next one starts no
    further left (a hanging indent goes on, a new list entry does not), follows at the usual line pitch
    (a heading has space above) and is neither a list item nor an outline title.
    """
    boxed = [line for line in page.lines if line.top is not None and not line.code]
    if len(boxed) < 2:
        return
    right_edge = max(line.right for line in boxed)
    width = right_edge - min(line.left for line in boxed)
    pitches = sorted(a.top - b.top for a, b in zip(page.lines, page.lines[1:])
                     if a.top is not None and b.top is not None and a.top > b.top)
    if not pitches or width < _MIN_TEXT_WIDTH * page.width:  # narrow columns, or too few lines to tell
        return
    pitch = pitches[len(pitches) // 2]
    for line, following in zip(page.lines, page.lines[1:]):
        line.wraps = (
            not line.code and not following.code and not line.continues
            and line.top is not None and following.top is not None
            and line.right >= right_edge - _WRAP_SLACK * width
            and following.left >= line.left - _SAME_X
            and 0 < line.top - following.top <= _PITCH_SLACK * pitch
            and not LIST_ITEM.match(following.text)
            and not heading_keys & {_heading_key(line.text), _heading_key(following.text)}
        )


def _assemble(pages: list[_Page]) -> tuple[str, list[int], list[tuple[int, int]]]:
    """The document text, where each page starts, and the spans of code blocks.

    Lines of a page are joined by a line break (a hyphenated word's halves by nothing); a code block is
    a paragraph of its own (blank lines around it), so chunks and answers can tell it from prose.
    """
    parts: list[str] = []
    length = 0
    page_starts: list[int] = []
    code_spans: list[tuple[int, int]] = []

    def write(piece: str) -> None:
        nonlocal length
        parts.append(piece)
        length += len(piece)

    for page in pages:
        if page_starts:
            write(_PAGE_SEPARATOR)
        page_starts.append(length)
        code_start = None
        for i, line in enumerate(page.lines):
            previous = page.lines[i - 1] if i else None
            if previous is not None:
                if line.code != previous.code:
                    if previous.code:
                        code_spans.append((code_start, length))
                    write(_BLOCK_SEPARATOR)
                elif previous.wraps:
                    write(" ")
                elif not previous.continues:
                    write("\n")
            if line.code and (previous is None or not previous.code):
                code_start = length
            last = i + 1 == len(page.lines)
            write(line.text + ("-" if line.continues and last else ""))  # a hyphen at a page's end stays
        if page.lines and page.lines[-1].code:
            code_spans.append((code_start, length))
    return "".join(parts), page_starts, code_spans


def _metadata(pdf) -> dict[str, str]:
    found: dict[str, str] = {}
    try:
        info = pdf.get_metadata_dict(skip_empty=True)
    except Exception:  # broken metadata is not worth losing the text over
        return found
    for key, name in (("Title", "title"), ("Author", "author"), ("Subject", "subject")):
        value = one_line(str(info.get(key) or ""), 500)
        if value:
            found[name] = value
    created = re.match(r"D:(\d{4})(\d{2})(\d{2})", info.get("CreationDate") or "")
    if created:
        found["date"] = "-".join(created.groups())
    return found


# ---- sections from the outline ----------------------------------------------------------------------

_MAX_OUTLINE_ITEMS = 5_000
_SECTION_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[IVXLC]+\.)\s*")
_TYPOGRAPHIC_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})  # outlines often have plain ones


def _without_number(title: str) -> str:
    return _SECTION_NUMBER.sub("", " ".join(title.split())).strip()


def _heading_key(line: str) -> str:
    return _without_number(line).translate(_TYPOGRAPHIC_QUOTES).casefold()


def _outline(pdf, count: int) -> list[tuple[int, int, str]]:
    """(page index, level, title) of the outline entries in outline order; a broken outline only costs
    the sections, never the text."""
    items = []
    try:
        for bookmark in pdf.get_toc(max_depth=32):
            if len(items) >= _MAX_OUTLINE_ITEMS:
                break
            dest = bookmark.get_dest()
            page = dest.get_index() if dest is not None else None
            name = one_line(bookmark.get_title() or "")
            if name and page is not None and 0 <= page < count:
                items.append((page, bookmark.level + 1, name))
    except Exception:
        return []
    return items


def _place_headings(outline: list[tuple[int, int, str]], text: str, page_starts: list[int]) -> list[Heading]:
    """Outline sections placed on the line where each title is printed (section numbers aside).

    A title not found as a line of its page starts its section at the top of that page.
    """

    headings: list[Heading] = []
    searched_from = [*page_starts]  # per page: where the next title search starts
    for page, level, name in sorted(outline, key=lambda item: item[0]):
        page_end = page_starts[page + 1] if page + 1 < len(page_starts) else len(text)
        at = page_starts[page]
        for a, b in lines(text, searched_from[page], page_end):
            if _heading_key(text[a:b]) == _heading_key(name):
                searched_from[page] = b
                headings.append(Heading(level, name, a, b))
                break
        else:
            headings.append(Heading(level, name, at, at))
    return headings


# The source view's page images: 1.5 x 72 dpi is legible beside the text and a few hundred kB a page.
PAGE_RENDER_SCALE = 1.5
# Rendering costs a CPU for up to a second: the pages readers open again are kept (about 20 MB at most),
# so a reader reloading a page cannot keep the server rendering.
RENDERED_PAGES_KEPT = 64


def render_page(path: str, page: int) -> bytes:
    """One page (1-based) of the PDF at ``path`` as PNG, for the source view; SkipFile for a page it lacks.
    A file changed since it was rendered is rendered again (the cache key holds its size and mtime)."""
    status = os.stat(path)
    return _render_page(path, page, (status.st_size, status.st_mtime_ns))


@functools.lru_cache(maxsize=RENDERED_PAGES_KEPT)
def _render_page(path: str, page: int, version: tuple[int, int]) -> bytes:
    import io

    import pypdfium2 as pdfium

    with _PDFIUM:
        try:
            pdf = pdfium.PdfDocument(path)
        except pdfium.PdfiumError as exc:
            raise SkipFile(f"unreadable PDF ({one_line(str(exc), 200)})") from None
        try:
            if not 1 <= page <= len(pdf):
                raise SkipFile(f"the PDF has no page {page}")
            image = pdf[page - 1].render(scale=PAGE_RENDER_SCALE).to_pil()
        finally:
            pdf.close()
    png = io.BytesIO()
    image.save(png, format="PNG")
    return png.getvalue()
