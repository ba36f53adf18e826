"""CSV, TSV and Excel files: rows rendered with their header, sheet and row locators, exact spans."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import openpyxl
import pytest

from loader_checks import assert_exact_spans, assert_skipped, chunks_of, find
from rag.loaders import tables
from rag.loaders.delimited import _dialect
from test_load import load

PEOPLE = [("Ada Lovelace", "Engineer", "London"), ("Grace Hopper", "Admiral", "New York"), ("Alan Turing", "Mathematician", "Manchester")]


def make_csv(rows: int = 60, unique: str = "fernwhistle") -> str:
    """Semicolon-separated, CRLF line ends, a quoted field spanning two lines and a blank row."""
    lines = ["name;role;city;note"]
    for i in range(rows):
        name, role, city = PEOPLE[i % 3]
        note = f'"met at the {unique} fair\r\nsecond line"' if i == 7 else f"visit {i}"
        lines.append(f"{name} {i};{role};{city};{note}")
        if i == 20:
            lines.append("")
    return "\r\n".join(lines) + "\r\n"


def make_xlsx(rows: int = 40, unique: str = "copperleaf") -> bytes:
    workbook = openpyxl.Workbook()
    workbook.properties.title = "Team Budget"
    sheet = workbook.active
    sheet.title = "Budget"
    sheet.append([])  # row 1 empty: the header is on row 2
    sheet.append(["Item", "Cost", "Bought", "Approved"])
    for i in range(rows):
        sheet.append([f"{unique} item {i}" if i == 30 else f"item {i}", i * 1.5, datetime(2024, 1, 1 + i % 28), i % 2 == 0])
    notes = workbook.create_sheet("Notes")
    notes.append(["Only a header", "nothing below"])
    workbook.create_sheet("Empty")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def blank_xlsx() -> bytes:
    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    return out.getvalue()


def rows_named(section: str) -> list[int]:
    """The row numbers a locator like "Budget > rows 3–14" names."""
    m = re.search(r"rows? (\d+)(?:–(\d+))?$", section)
    return list(range(int(m.group(1)), int(m.group(2) or m.group(1)) + 1))


def test_csv_rows_with_header_cite_their_records(tmp_path, embedder):
    text = make_csv()
    doc = load(tmp_path, "people.csv", text)
    assert doc.kind == "csv" and doc.title == "people"
    assert doc.text == text  # CSV is text: citations point into the file itself
    assert doc.body.startswith("name: Ada Lovelace 0 · role: Engineer · city: London · note: visit 0\n")
    assert "note: met at the fernwhistle fair second line" in doc.body
    assert [h.text for h in doc.headings][:2] == ["rows 2–6", "rows 7–11"]
    assert all(h.start == h.end for h in doc.headings)  # locators are not printed in the text
    chunks = chunks_of(doc, embedder)
    dialect = _dialect(text, ".csv")
    for chunk in chunks:
        # The cited span is whole records of the file; rendered with the header they are the chunk's text.
        records = list(csv.reader(io.StringIO(doc.text[chunk.start : chunk.end], newline=""), dialect))
        rendered = [tables.row_line(["name", "role", "city", "note"], cells) for cells in records if cells]
        assert "\n".join(rendered) == chunk.text
        # The section names the rows the chunk holds: a record's row number is its line in the sheet.
        numbers = [int(re.match(r"name: \D+ (\d+)", line).group(1)) for line in chunk.text.split("\n")]
        first_row = numbers[0] + 2 + (numbers[0] > 20)  # header is row 1; a blank row follows visit 20
        assert first_row == rows_named(chunk.section)[0]
    assert find(chunks, "fernwhistle").section == "rows 7–11"


def test_tsv_and_single_column_csv(tmp_path):
    doc = load(tmp_path, "plain.tsv", "term\tmeaning\nRAG\tretrieval-augmented generation\n")
    assert doc.body == "term: RAG · meaning: retrieval-augmented generation"
    doc = load(tmp_path, "words.csv", "word\nalpha\nbeta\n")
    assert doc.body == "word: alpha\nword: beta" and doc.headings[0].text == "rows 2–3"


def test_xlsx_sheets_as_sections_and_row_locators(tmp_path, embedder):
    doc = load(tmp_path, "budget.xlsx", make_xlsx())
    assert doc.kind == "xlsx" and doc.title == "Team Budget"
    assert "Item: item 1 · Cost: 1.5 · Bought: 2024-01-02 · Approved: FALSE" in doc.text
    assert "Item: item 2 · Cost: 3 · Bought: 2024-01-03 · Approved: TRUE" in doc.text
    sheets = [h.text for h in doc.headings if h.level == 1]
    assert sheets == ["Budget", "Notes"]  # an empty sheet has no section
    chunks = chunks_of(doc, embedder)
    assert_exact_spans(doc, chunks)
    for chunk in chunks:
        sheet, rows = chunk.section.split(" > ")
        if sheet == "Budget":
            # Each chunk is exactly the block its locator names (blocks are sized to fit one chunk).
            items = [int(n) for n in re.findall(r"item (\d+) ·", chunk.text)]
            assert [i + 3 for i in items] == rows_named(rows)
    assert find(chunks, "copperleaf").section == "Budget > rows 33–38"
    header_only = find(chunks, "Only a header")
    assert header_only.section == "Notes > row 1" and header_only.text == "Only a header · nothing below"


def test_huge_sheets_are_truncated_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "MAX_CELLS", 100)
    doc = load(tmp_path, "big.xlsx", make_xlsx())
    assert doc.metadata["truncated"] == "sheet 'Budget' cut at row 26: later rows not indexed (limit 100 cells)"
    assert "item 22 " in doc.text and "item 23 " not in doc.text and "Notes" not in doc.text
    doc = load(tmp_path, "big.csv", make_csv())
    assert doc.metadata["truncated"] == "big.csv cut at row 26: later rows not indexed (limit 100 cells)"
    assert "visit 22" in doc.body and "visit 23" not in doc.body


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.csv", b"", "empty file"),
        ("blank.csv", b";;;\r\n;;\r\n", "no text to index"),
        ("latin1.csv", "name\ncaf\u00e9\n".encode("latin-1"), "not UTF-8"),
        ("empty.xlsx", b"", "empty file"),
        ("noise.xlsx", b"PK\x03\x04 not really a workbook", "corrupt XLSX file"),
        ("blank.xlsx", blank_xlsx(), "no text to index (the sheets have no values)"),
    ],
)
def test_bad_sheets_are_skipped_with_a_reason(tmp_path, name, data, reason):
    assert_skipped(tmp_path, name, data, reason)
