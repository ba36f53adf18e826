"""Word and PowerPoint files made with python-docx / python-pptx, loaded and chunked for real."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from msoffcrypto.format.ooxml import OOXMLFile
from pptx import Presentation
from pptx.util import Inches

from loader_checks import assert_exact_spans, assert_skipped, chunks_of, find
from rag.loaders import SkipFile
from rag.loaders import archive
from test_load import load


def make_docx(unique: str = "quillwort") -> bytes:
    document = docx.Document()
    document.core_properties.title = "Field Manual"
    document.core_properties.author = "Ada"
    document.add_heading("Field Manual", 0)
    toc = document.styles.add_style("TOC 1", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("Setup\t3", style=toc)  # a generated table of contents is not content
    document.add_paragraph(f"This manual explains how to care for the {unique} collection.")
    document.add_heading("Setup", 1)
    document.add_paragraph("Unpack the crate and check every part against the list.")
    document.add_paragraph("first step: open the lid", style="List Bullet")
    document.add_paragraph("second step: lift the tray", style="List Bullet")
    fancy = document.styles.add_style("Fancy Heading", WD_STYLE_TYPE.PARAGRAPH)
    fancy.base_style = document.styles["Heading 2"]
    document.add_paragraph("Team", style="Fancy Heading")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([("Name", "Role", "Room"), ("Ada Lovelace", "Engineer", "B12"), ("Charles Babbage", "", "C3")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    merged = document.add_table(rows=2, cols=2)
    merged.cell(0, 0).merge(merged.cell(0, 1)).text = "Budget"
    merged.cell(1, 0).text = "Q1"
    merged.cell(1, 1).text = "1200"
    document.add_heading("Care", 1)
    control = document.add_paragraph("Kept inside a content control.")._p  # templates wrap text in w:sdt
    sdt, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
    control.addprevious(sdt)
    sdt.append(content)
    content.append(control)
    document.add_paragraph("Water weekly. " * 150)  # long enough to need several chunks
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_pptx(unique: str = "bramblecast") -> bytes:
    presentation = Presentation()
    presentation.core_properties.title = "Quarterly Review"
    first = presentation.slides.add_slide(presentation.slide_layouts[1])
    first.shapes.title.text = "Results"
    first.placeholders[1].text_frame.text = "Revenue grew\nCosts fell"
    first.notes_slide.notes_text_frame.text = f"Mention the {unique} deal before questions."
    second = presentation.slides.add_slide(presentation.slide_layouts[5])
    second.shapes.title.text = "Numbers"
    table = second.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(4), Inches(1)).table
    for r, row in enumerate([("Region", "Sales"), ("North", "12"), ("South", "7")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    third = presentation.slides.add_slide(presentation.slide_layouts[6])  # blank: no title placeholder
    group = third.shapes.add_group_shape()
    box = group.shapes.add_textbox(Inches(1), Inches(1), Inches(3), Inches(1))
    box.text_frame.text = "Grouped text survives"
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def test_docx_headings_tables_and_lists(tmp_path, embedder):
    doc = load(tmp_path, "manual.docx", make_docx())
    assert doc.kind == "docx" and doc.title == "Field Manual"
    assert doc.metadata["author"] == "Ada"
    # "Title" sits above Heading 1; a style based on Heading 2 is a level-2 heading.
    assert [(h.level, h.text) for h in doc.headings] == [(0, "Field Manual"), (1, "Setup"), (2, "Team"), (1, "Care")]
    assert "- first step: open the lid\n- second step: lift the tray" in doc.text
    # One line per row, each value beside its header; empty cells left out; a merged cell once.
    assert "Name: Ada Lovelace · Role: Engineer · Room: B12\nName: Charles Babbage · Room: C3" in doc.text
    assert "Name · Role" not in doc.text and "Name: Name" not in doc.text
    assert "Budget: Q1 · 1200" in doc.text
    assert "Setup\t3" not in doc.text and "Setup 3" not in doc.text
    chunks = chunks_of(doc, embedder)
    assert_exact_spans(doc, chunks)
    assert find(chunks, "quillwort").section == ""  # the title heading is the document's title, not a section
    assert find(chunks, "Unpack the crate").section == "Setup"
    assert find(chunks, "Ada Lovelace").section == "Setup > Team"
    care = [chunk for chunk in chunks if "Water weekly" in chunk.text]
    assert len(care) >= 2 and {chunk.section for chunk in care} == {"Care"}
    assert find(chunks, "Kept inside a content control.").section == "Care"


def test_pptx_one_section_per_slide_with_notes(tmp_path, embedder):
    doc = load(tmp_path, "review.pptx", make_pptx())
    assert doc.kind == "pptx" and doc.title == "Quarterly Review"
    assert [h.text for h in doc.headings] == ["Slide 1: Results", "Slide 2: Numbers", "Slide 3"]
    chunks = chunks_of(doc, embedder)
    assert_exact_spans(doc, chunks)
    notes = find(chunks, "bramblecast")
    assert notes.section == "Slide 1: Results"
    assert "Revenue grew\nCosts fell" in notes.text and "Notes: Mention the bramblecast deal" in notes.text
    rows = find(chunks, "Region: North")
    assert rows.section == "Slide 2: Numbers" and "Region: North · Sales: 12\nRegion: South · Sales: 7" in rows.text
    assert find(chunks, "Grouped text survives").section == "Slide 3"


def blank_docx() -> bytes:
    out = io.BytesIO()
    docx.Document().save(out)
    return out.getvalue()


def encrypted(data: bytes) -> bytes:
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt("secret", out)
    return out.getvalue()


def zipped(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive_file:
        for name, data in entries.items():
            archive_file.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.docx", b"", "empty file"),
        ("empty.pptx", b"", "empty file"),
        ("locked.docx", encrypted(make_docx()), "password-protected DOCX"),
        ("locked.pptx", encrypted(make_pptx()), "password-protected PPTX"),
        ("cut.docx", make_docx()[:2000], "corrupt DOCX file"),
        ("noise.pptx", b"this is not a presentation at all", "corrupt PPTX file"),
        ("other.docx", zipped({"hello.txt": b"a zip, but not a Word file"}), "not a DOCX file"),
        ("blank.pptx", zipped({}), "not a PPTX file (the zip archive has no [Content_Types].xml)"),
        ("parts-missing.docx", zipped({"[Content_Types].xml": b"<Types/>"}), "unreadable DOCX file"),
        ("blank.docx", blank_docx(), "no text to index (the document has no text)"),
    ],
)
def test_bad_office_files_are_skipped_with_a_reason(tmp_path, name, data, reason):
    assert_skipped(tmp_path, name, data, reason)



def test_zip_bomb_is_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_MARKUP_BYTES", 2**20)
    bomb = zipped({"[Content_Types].xml": b"<a/>", "word/document.xml": b" " * (2 * 2**20)})
    with pytest.raises(SkipFile, match=r"expands to 2 MB of markup \(limit 1 MB\)"):
        load(tmp_path, "bomb.docx", bomb)
