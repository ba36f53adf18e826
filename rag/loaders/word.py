"""Word documents (.docx) with python-docx: heading styles become sections, tables become rows.

The bytes are not text, so ``Document.text`` is the extracted text: paragraphs in document order,
each heading on its own line, list items as ``- `` lines and each table row as "Header: value · ...".
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import docx
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from rag.loaders.archive import OFFICE_MANIFEST, office_metadata, open_zip
from rag.loaders.common import Document, TextBuilder, first_line
from rag.loaders.tables import table_lines

_HEADING_STYLE = re.compile(r"heading (\d)", re.IGNORECASE)
# Styles derive from others ("My Heading" based on "Heading 2"): follow that chain this far.
_MAX_STYLE_DEPTH = 8


def load(source: str, data: bytes) -> Document:
    open_zip(data, "DOCX", OFFICE_MANIFEST)
    document = docx.Document(io.BytesIO(data))
    builder = TextBuilder()
    title = ""
    in_list = False
    for item in _blocks(document.element.body, document):
        if isinstance(item, Table):
            builder.rows(table_lines([_row_cells(row) for row in item.rows]))
            in_list = False
            continue
        text = item.text
        style_name = (getattr(item.style, "name", "") or "").lower()
        if not text.strip() or style_name.startswith("toc "):  # a generated table of contents repeats headings
            continue
        level = _heading_level(item.style)
        if level is not None:
            builder.heading(level, text)
            title = title or text
        elif _is_list_item(item):
            (builder.line if in_list else builder.block)(f"- {text}")
            in_list = True
            continue
        else:
            builder.block(text)
        in_list = False
    metadata = office_metadata(document.core_properties)
    title = metadata.get("title") or title or first_line(builder.text())
    return builder.document(source, title, metadata, "docx", "(the document has no text)")


def _blocks(element, parent) -> Iterator[Paragraph | Table]:
    """Paragraphs and tables in document order, including those inside content controls (``w:sdt``),
    which python-docx's own iteration skips (templates put whole sections in them)."""
    for child in element.iterchildren():
        if child.tag == qn("w:p"):
            yield Paragraph(child, parent)
        elif child.tag == qn("w:tbl"):
            yield Table(child, parent)
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _blocks(content, parent)


def _heading_level(style) -> int | None:
    """1.. for "Heading 1".., 0 for "Title" (above every heading), None for body styles."""
    for _ in range(_MAX_STYLE_DEPTH):
        if style is None:
            return None
        name = style.name or ""
        if name.lower() == "title":
            return 0
        m = _HEADING_STYLE.fullmatch(name)
        if m:
            return int(m.group(1))
        style = style.base_style
    return None


def _is_list_item(paragraph) -> bool:
    properties = paragraph._p.pPr
    if properties is not None and properties.numPr is not None:
        return True
    return (getattr(paragraph.style, "name", "") or "").lower().startswith("list")


def _row_cells(row) -> list[str]:
    """Cell texts of a row, a merged cell once (python-docx repeats it for every grid column it spans)."""
    cells, seen = [], None
    for cell in row.cells:
        if cell._tc is not seen:
            cells.append(cell.text)
            seen = cell._tc
    return cells
