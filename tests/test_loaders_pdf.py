"""Real PDFs (issue 16): the two Auto Multiple Choice manuals in ../shared/bench/pdfs, and PDFs made here.

Each manual is loaded and chunked once per session. What the reader sees is taken from PDFium's character
boxes, not from its text: a "visible word" is a run of characters with no gap wider than a fifth of the
font height between neighbours on one line, so a word glued by a lost space cannot hide in it.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw, ImageFont

from rag.chunk import chunk_document
from rag.config import Settings
from rag.loaders import SkipFile, load_document
from test_load import make_pdf

PDFS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "pdfs"
if not PDFS.is_dir():  # a worktree beside the main checkout
    PDFS = Path("/work/shared/bench/pdfs")
DOCBOOK, LATEX = "auto-multiple-choice.en.pdf", "automultiplechoice.pdf"
QUESTIONS = Path(__file__).resolve().parents[1] / "bench" / "pdf_questions.json"
RUN = re.compile(r"[^\W\d_]{25,}")
LEADER_LINE = re.compile(r"(?:\. ){4,}\.?\s*\d+$", re.MULTILINE)


@pytest.fixture(scope="session")
def manuals(embedder):
    """name -> (Document, chunks) for both manuals, loaded and chunked once."""
    if not (PDFS / DOCBOOK).is_file():
        pytest.skip("the PDF set (../shared/bench/pdfs) is not on this machine")
    settings = Settings()
    loaded = {}
    for name in (DOCBOOK, LATEX):
        doc = load_document(PDFS / name, name, (PDFS / name).read_bytes())
        chunks = chunk_document(doc, embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap_tokens)
        loaded[name] = doc, chunks
    return loaded


def letters(text: str) -> str:
    """Letters and digits only, accents and case dropped: compares texts whatever their spacing."""
    return "".join(c for c in unicodedata.normalize("NFKD", text).casefold() if c.isalnum())


@pytest.fixture(scope="session")
def visible(manuals):
    """name -> (set of visible words of 25+ letters, per-page letters of PDFium's own page text)."""
    result = {}
    for name in manuals:
        pdf = pdfium.PdfDocument(PDFS / name)
        runs, pages = set(), []
        for index in range(len(pdf)):
            textpage = pdf[index].get_textpage()
            raw = textpage.get_text_range()
            pages.append(letters(raw))
            word, previous = [], None
            for i, char in enumerate(raw):
                if char.isspace() or char in "\x02\ufffe":
                    continue
                left, bottom, right, top = textpage.get_charbox(i, loose=True)
                if previous is not None:
                    p_left, p_bottom, p_right, p_top = previous
                    height = max(top - bottom, p_top - p_bottom, 1.0)
                    if left - p_right > height / 5 or abs(bottom - p_bottom) > height / 2 or left < p_left:
                        runs.update(RUN.findall("".join(word)))
                        word = []
                word.append(char)
                previous = (left, bottom, right, top)
            runs.update(RUN.findall("".join(word)))
        pdf.close()
        result[name] = runs, pages
    return result


@pytest.mark.parametrize("name", [DOCBOOK, LATEX])
def test_no_glued_words(manuals, visible, name):
    _, chunks = manuals[name]
    runs, _ = visible[name]
    glued = {run for chunk in chunks for run in RUN.findall(chunk.text) if run not in runs}
    assert not glued


def test_glued_words_would_be_caught(visible):
    """The check above can fail: pypdf's text of the DocBook manual holds hundreds of runs no reader sees."""
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() for page in PdfReader(PDFS / DOCBOOK).pages)
    runs, _ = visible[DOCBOOK]
    assert len({run for run in RUN.findall(text) if run not in runs}) > 100


@pytest.mark.parametrize("name", [DOCBOOK, LATEX])
def test_passages_are_on_their_page_and_offsets_exact(manuals, visible, name):
    doc, chunks = manuals[name]
    _, pages = visible[name]
    assert len(doc.page_starts) == len(pages)
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert chunk.page == doc.page_at(chunk.start)
        assert letters(chunk.text) in pages[chunk.page - 1], (chunk.page, chunk.text[:80])


@pytest.mark.parametrize(
    ("name", "contents"), [(DOCBOOK, "4, 5, 6, 7, 8"), (LATEX, ", ".join(str(page) for page in range(94, 105)))]
)
def test_contents_and_index_pages_are_not_passages(manuals, name, contents):
    doc, chunks = manuals[name]
    assert doc.metadata["contents_pages"] == contents
    listed = {int(page) for page in contents.split(", ")}
    assert not [c.text[:80] for c in chunks if c.page in listed or LEADER_LINE.search(c.text)]
    assert len(LEADER_LINE.findall(doc.text)) == 0


def test_running_headers_and_footers_are_dropped(manuals):
    docbook, _ = manuals[DOCBOOK]
    assert not re.search(r"Auto Multiple Choice (?:\d+ / 92|[ivx]+)\n", docbook.text)
    assert docbook.text.count("Auto Multiple Choice") < 10  # the title page and real mentions only
    latex, _ = manuals[LATEX]
    for number, start in enumerate(latex.page_starts, 1):
        end = latex.page_starts[number] if number < len(latex.page_starts) else len(latex.text)
        assert not latex.text[start:end].rstrip().endswith(f"\n{number}")  # the page number footer


def test_line_end_hyphenation_is_joined(manuals):
    docbook, _ = manuals[DOCBOOK]
    assert "This section is devoted to detail the syntax" in docbook.text
    assert "com-\nmand" not in docbook.text and "usepackage{etex} command." in docbook.text
    latex, _ = manuals[LATEX]
    assert "with informations about the exact position" in latex.text


def test_paragraph_lines_are_joined_but_headings_and_items_are_not(manuals):
    docbook, _ = manuals[DOCBOOK]
    # One line in the text, two printed lines ("… pages per" / "test is limited to 63").
    assert "\nThe maximum number of students per test is limited to 4,095, and the maximum number of pages per test " \
        "is limited to 63 ( Modifiable default values, see Binary code).\n" in docbook.text
    assert "be automatically installed.\nThe main packages/software" in docbook.text
    assert "are the following:\n• LaTeX\n• image processing libraries ImageMagick and OpenCV\n" in docbook.text
    assert "with a given project:\n3.3 Installation\nWith debian" in docbook.text


def test_outline_sections_and_pages(manuals):
    docbook, chunks = manuals[DOCBOOK]
    start = docbook.text.index("For simple questions (a single correct answer), one uses the following model:")
    assert docbook.page_at(start) == 31  # printed page 22 of 92, the 31st page of the file
    chunk = next(c for c in chunks if c.start <= start < c.end)
    assert chunk.section.endswith("Questions and answers > Simple questions")
    # Every outline entry is placed on the line printing it ("5.4.4 Define the marks’ display area" for the
    # outline's "Define the marks' display area"), except those of the emptied contents and index pages.
    for doc, _ in manuals.values():
        listed = {int(page) for page in doc.metadata["contents_pages"].split(", ")}
        assert [h.text for h in doc.headings if h.start == h.end and doc.page_at(h.start) not in listed] == []
    assert not any("5.4.4 Define the marks" in c.text for c in chunks)


def test_code_listings_are_code_spans(manuals):
    docbook, _ = manuals[DOCBOOK]

    def in_code(doc, needle: str) -> bool:
        at = doc.text.index(needle)
        return any(a <= at and at + len(needle) <= b for a, b in doc.code_spans)

    assert in_code(docbook, "\\begin{question}{identifier}\nHere is the question...")
    assert not in_code(docbook, "For simple questions (a single correct answer)")
    assert in_code(docbook, "bottom=2cm}\n4②[4]\n\\usepackage{siunitx}")  # a callout mark stays in its listing
    latex, _ = manuals[LATEX]
    assert in_code(latex, "1375 \\newcommand{\\AMCcodeGrid}[3][]{")  # a line-numbered listing
    assert not in_code(latex, "The package automultiplechoice helps formatting multiple choice")
    for doc in (docbook, latex):
        for a, b in doc.code_spans:  # blocks of their own: the chunker's first split keeps them apart
            assert doc.text[a:b].strip() == doc.text[a:b]
            assert a == 0 or doc.text[a - 2 : a] == "\n\n" or doc.page_at(a) != doc.page_at(a - 1)


def test_bench_evidence_is_prose_on_its_page(manuals):
    """bench/pdf_questions.json: each evidence passage is in its manual's text, on the page it names, not code."""
    questions = json.loads(QUESTIONS.read_text(encoding="utf-8"))
    assert len(questions["answerable"]) + len(questions["unanswerable"]) >= 30 and len(questions["unanswerable"]) >= 10
    for item in [answer for question in questions["answerable"] for answer in [question, *question.get("also", [])]]:
        doc, _ = manuals[item["source"]]
        match = re.search(r"\s+".join(re.escape(word) for word in item["evidence"].split()), doc.text)
        assert match, item["evidence"]
        assert doc.page_at(match.start()) == item["page"], item["evidence"]
        assert not any(a < match.end() and match.start() < b for a, b in doc.code_spans), item["evidence"]


# ---- scanned pages --------------------------------------------------------------------------------

SCANNED_TEXT = "Axolotls regrow their limbs"


def image_pdf(text: str = SCANNED_TEXT) -> bytes:
    """A one-page PDF holding only a picture of ``text`` (what a scanner makes)."""
    image = Image.new("L", (1700, 400), 255)
    ImageDraw.Draw(image).text((80, 140), text, fill=0, font=ImageFont.load_default(size=80))
    out = io.BytesIO()
    image.save(out, format="PDF", resolution=200)
    return out.getvalue()


def text_and_scan_pdf() -> bytes:
    """Page 1 has a text layer, page 2 is the scanned picture."""
    merged = pdfium.PdfDocument.new()
    merged.import_pages(pdfium.PdfDocument(make_pdf([["Typed page about salamanders."]])))
    merged.import_pages(pdfium.PdfDocument(image_pdf()))
    out = io.BytesIO()
    merged.save(out)
    return out.getvalue()


def load(tmp_path: Path, name: str, data: bytes):
    (tmp_path / name).write_bytes(data)
    return load_document(tmp_path / name, name, data)


def test_scanned_page_is_read_with_ocr_and_marked(tmp_path, embedder):
    doc = load(tmp_path, "scan.pdf", text_and_scan_pdf())
    assert doc.metadata["ocr_pages"] == "2" and "skipped_pages" not in doc.metadata
    assert doc.page_at(doc.text.index("Typed page")) == 1
    assert SCANNED_TEXT.casefold() in doc.text.casefold()
    chunks = chunk_document(doc, embedder.count_tokens, 200, 32)
    scanned = [c for c in chunks if SCANNED_TEXT.casefold() in c.text.casefold()]
    assert [(c.page, c.section) for c in scanned] == [(2, "(OCR)")]
    assert [c.section for c in chunks if "Typed page" in c.text] == [""]


def without_tesseract(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": "/nonexistent"}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_without_tesseract_scanned_pages_are_skipped_with_how_to_enable_ocr(tmp_path):
    (tmp_path / "scan.pdf").write_bytes(image_pdf())
    (tmp_path / "mixed.pdf").write_bytes(text_and_scan_pdf())
    code = f"""
from pathlib import Path
from rag.loaders import SkipFile, load_document
folder = Path({str(tmp_path)!r})
try:
    load_document(folder / "scan.pdf", "scan.pdf", (folder / "scan.pdf").read_bytes())
except SkipFile as exc:
    print("scan:", exc)
doc = load_document(folder / "mixed.pdf", "mixed.pdf", (folder / "mixed.pdf").read_bytes())
print("mixed:", doc.metadata.get("skipped_pages"), "|", doc.text)
"""
    done = without_tesseract(code)
    assert done.returncode == 0, done.stderr
    scan, mixed = done.stdout.strip().split("\n")
    assert scan.startswith("scan: PDF has no text layer") and "apt-get install tesseract-ocr tesseract-ocr-eng" in scan
    assert mixed.startswith("mixed: 2: no text layer;") and "tesseract-ocr-eng" in mixed
    assert mixed.endswith("| Typed page about salamanders.")


def test_textless_pdf_without_images_says_so(tmp_path):
    with pytest.raises(SkipFile, match="no extractable text"):
        load(tmp_path, "blank.pdf", make_pdf([[]]))


def test_password_protected_pdf_is_skipped_with_a_reason(tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["Secret plans."]]))))
    writer.encrypt("open sesame", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(SkipFile, match=r"encrypted PDF \(needs a password\)"):
        load(tmp_path, "locked.pdf", out.getvalue())


def test_ligatures_are_expanded(tmp_path):
    # Helvetica's built-in encoding puts the fi and fl ligature glyphs at 0xAE and 0xAF.
    doc = load(tmp_path, "ligatures.pdf", make_pdf([["A \xaele of \xaegures, \xafoating."]]))
    assert doc.text == "A file of figures, floating."


def test_ocr_stops_at_its_page_cap_and_says_which_pages_it_left(tmp_path, monkeypatch):
    import rag.loaders.pdf as pdf_loader

    monkeypatch.setattr(pdf_loader, "MAX_OCR_PAGES", 1)
    merged = pdfium.PdfDocument.new()
    for text in (SCANNED_TEXT, "Newts breathe through their skin"):
        merged.import_pages(pdfium.PdfDocument(image_pdf(text)))
    out = io.BytesIO()
    merged.save(out)
    doc = load(tmp_path, "two-scans.pdf", out.getvalue())
    assert doc.metadata["ocr_pages"] == "1" and SCANNED_TEXT.casefold() in doc.text.casefold()
    assert "newts" not in doc.text.casefold()
    assert doc.metadata["skipped_pages"] == "2: no text layer; OCR reads at most 1 pages of a document " \
                                           "(rag.loaders.pdf.MAX_OCR_PAGES)"
