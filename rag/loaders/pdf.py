"""PDF (.pdf): text per page with pypdf, page numbers kept, sections from the outline (bookmarks).

PDF bytes are not displayable, so ``Document.text`` is the extracted text, pages joined by a blank line.
"""

from __future__ import annotations

import io
import logging
import re

from rag.loaders.common import CONTROL, Document, Heading, OffsetMap, SkipFile, lines, one_line, tidy

_PAGE_SEPARATOR = "\n\n"


def load(source: str, data: bytes) -> Document:
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
        texts.append(tidy(CONTROL.sub(" ", page_text)))
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
        for a, b in lines(text, searched_from[page], page_end):
            if key(text[a:b]) == key(name):
                at = a
                searched_from[page] = b
                headings.append(Heading(level, name, a, b))
                break
        else:
            headings.append(Heading(level, name, at, at))
    headings.sort(key=lambda heading: heading.start)
    return headings
