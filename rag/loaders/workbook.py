"""Excel workbooks (.xlsx) with openpyxl: a section per sheet, rows with their header, row locators.

``Document.text`` is the extracted text: each sheet's name on a line, then one "Header: value · ..."
line per row. Rows are grouped into sections named by their row numbers ("Budget > rows 2–9"), the
locator a citation shows. Read-only streaming with cached formula values (``data_only``): a formula's
text is not what the sheet shows, and a sheet is never loaded whole.
"""

from __future__ import annotations

import io
from pathlib import PurePosixPath

import openpyxl

from rag.loaders.archive import OFFICE_MANIFEST, office_metadata, open_zip
from rag.loaders.common import Document, TextBuilder
from rag.loaders.tables import SheetRows, cell_text, row_blocks


def load(source: str, data: bytes) -> Document:
    open_zip(data, "XLSX", OFFICE_MANIFEST)
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        builder = TextBuilder()
        rows = SheetRows()
        for sheet in workbook.worksheets:
            sheet.reset_dimensions()  # the stored dimension is often wrong: read what is there
            values = sheet.iter_rows(values_only=True)
            numbered = ((number, [cell_text(v) for v in row], None) for number, row in enumerate(values, 1))
            for position, (label, block) in enumerate(row_blocks(rows.render(numbered, f"sheet {sheet.title!r}"))):
                if position == 0:
                    builder.heading(1, sheet.title)
                builder.locator(2, label)
                builder.rows(line for _, line, _ in block)
            if rows.truncated:
                break
        metadata = office_metadata(workbook.properties)
    finally:
        workbook.close()
    if rows.truncated:
        metadata["truncated"] = rows.truncated
    title = metadata.get("title") or PurePosixPath(source).stem
    return builder.document(source, title, metadata, "xlsx", "(the sheets have no values)")
