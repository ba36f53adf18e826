"""Delimited tables (.csv, .tsv): each row rendered with its header, cited as the record in the file.

CSV is text, so ``Document.text`` is the decoded file and citations point at exact records: each
rendered row ("Name: Ada · Role: Engineer") maps back to the whole record it came from. The dialect
(delimiter, quoting) is sniffed; rows are grouped into sections named by their row numbers, as a
spreadsheet numbers them (the header is row 1).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import PurePosixPath

from rag.loaders.common import Cleaner, Document, Heading, decode_text, require_text
from rag.loaders.tables import SheetRows, row_blocks

# Characters the dialect is sniffed from: a few hundred rows.
_SNIFF_CHARS = 64_000
_DELIMITERS = ",;\t|"


class _Lines:
    """The file's lines for csv.reader, remembering where the last one handed out ends.

    csv.reader pulls exactly the lines of one record per row (a quoted field may span several), so
    after each row this says where its record ends.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.end = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.end >= len(self.text):
            raise StopIteration
        newline = self.text.find("\n", self.end)
        start, self.end = self.end, len(self.text) if newline < 0 else newline + 1
        return self.text[start : self.end]


def load(source: str, data: bytes) -> Document:
    text = decode_text(data)
    path = PurePosixPath(source)
    rows = SheetRows()
    cleaner = Cleaner(text)
    headings: list[Heading] = []
    previous_end = 0
    for label, block in row_blocks(rows.render(_records(text, _dialect(text, path.suffix.lower())), path.name)):
        headings.append(Heading(1, label, cleaner.length, cleaner.length))  # a locator, not printed
        for position, (_, line, (start, end)) in enumerate(block):
            if cleaner.length:
                cleaner.replace(previous_end, start, "\n\n" if position == 0 else "\n")
            cleaner.replace(start, end, line)
            previous_end = end
    body, offsets = cleaner.result()
    require_text(body, "(no rows with values)")
    metadata = {"truncated": rows.truncated} if rows.truncated else {}
    return Document(source, path.stem, metadata, text, "csv", body, offsets, headings)


def _dialect(text: str, suffix: str) -> type[csv.Dialect] | csv.Dialect:
    if suffix == ".tsv":
        return csv.excel_tab
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS:
        sample = sample[: sample.rfind("\n") + 1] or sample  # a cut row would confuse the sniffer
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS)
    except csv.Error:
        # The sniffer gives up on samples with quoted line breaks or ragged rows: take the delimiter
        # the header line uses most (none: one column, read as plain CSV).
        header = next((line for line in sample.splitlines() if line.strip()), "")
        counts = {delimiter: header.count(delimiter) for delimiter in _DELIMITERS}
        best = max(counts, key=counts.__getitem__)
        dialect = csv.excel()
        dialect.delimiter = best if counts[best] else ","
        return dialect


def _records(text: str, dialect) -> Iterator[tuple[int, list[str], tuple[int, int]]]:
    """(row number, cells, (start, end) of the record in ``text`` without its line end)."""
    lines = _Lines(text)
    start = 0
    for number, cells in enumerate(csv.reader(lines, dialect), 1):
        end = lines.end
        while end > start and text[end - 1] in "\r\n":
            end -= 1
        yield number, cells, (start, end)
        start = lines.end
