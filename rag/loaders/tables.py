"""Table rows as lines a reader (and the embedding) can follow: each value beside its column's header.

"Name: Ada · Role: Engineer" keeps a row's meaning in any chunk it lands in, where a bare
"Ada | Engineer" needs the header row that is usually in another chunk. Spreadsheet rows are also
grouped into blocks named by their row numbers ("rows 2–14"), the locator a citation shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time
from typing import TypeVar

from rag.text import CELL_SEPARATOR

# Cells read from one spreadsheet file at most. One million cells render to roughly 20 MB of text,
# the order of a large text file; a 50 MB .xlsx can unzip to tens of millions of cells.
MAX_CELLS = 1_000_000
# Rendered characters per row block. Rows measured 2.8 (numbers, dates) to 3.9 (words) characters
# per MiniLM token, so a block of 400 characters (at most ~145 tokens) fits one 200-token chunk with
# its title and section, and a citation's "rows 2–9" names exactly the rows it quotes.
BLOCK_CHARS = 400

Extra = TypeVar("Extra")


def cell_text(value: object) -> str:
    """A spreadsheet value as the sheet shows it (2.0 → "2", a midnight datetime → its date)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def row_line(header: Sequence[str], cells: Sequence[str]) -> str:
    """One row as "Header: value · Header2: value"; empty cells are left out, unlabelled values stand alone."""
    parts = []
    for column, cell in enumerate(cells):
        value = " ".join(cell.split())
        if value:
            label = header[column] if column < len(header) else ""
            parts.append(f"{label}: {value}" if label else value)
    return CELL_SEPARATOR.join(parts)


def table_lines(rows: Sequence[Sequence[str]]) -> list[str]:
    """A document table (Word, PowerPoint) as lines: its first row is the header of the others."""
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if len(rows) == 1:
        return [row_line((), rows[0])]
    header = [" ".join(cell.split()) for cell in rows[0]] if rows else []
    return [line for row in rows[1:] if (line := row_line(header, row))]


class SheetRows:
    """Renders the rows of one file's sheets under their header, counting cells against MAX_CELLS."""

    def __init__(self) -> None:
        self.cells = 0
        self.truncated = ""  # why reading stopped early, for the document's metadata

    def render(self, rows: Iterable[tuple[int, Sequence[str], Extra]], where: str) -> Iterator[tuple[int, str, Extra]]:
        """(row number, line, extra) for each non-empty row after the first, which is the header.

        A sheet that is only a header row yields that row as plain values.
        """
        header: list[str] | None = None
        header_row: tuple[int, str, Extra] | None = None
        for number, cells, extra in rows:
            self.cells += max(1, len(cells))  # empty rows cost too: a sheet can claim a million of them
            if self.cells > MAX_CELLS:
                self.truncated = f"{where} cut at row {number}: later rows not indexed (limit {MAX_CELLS:,} cells)"
                break
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [" ".join(cell.split()) for cell in cells]
                header_row = (number, row_line((), cells), extra)
                continue
            line = row_line(header, cells)
            header_row = None
            yield number, line, extra
        if header_row is not None:
            yield header_row


def row_blocks(rows: Iterable[tuple[int, str, Extra]]) -> Iterator[tuple[str, list[tuple[int, str, Extra]]]]:
    """Consecutive rows in blocks of about BLOCK_CHARS, each with its locator ("rows 2–9", "row 5")."""
    block: list[tuple[int, str, Extra]] = []
    size = 0
    for row in rows:
        if block and size + len(row[1]) > BLOCK_CHARS:
            yield _label(block), block
            block, size = [], 0
        block.append(row)
        size += len(row[1]) + 1
    if block:
        yield _label(block), block


def _label(block: list[tuple[int, str, Extra]]) -> str:
    first, last = block[0][0], block[-1][0]
    return f"row {first}" if first == last else f"rows {first}–{last}"
