"""Loading real files of every supported format, and refusing bad ones with a reason."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from rag.loaders import SUPPORTED_SUFFIXES, SkipFile, load_document

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def make_pdf(
    pages: list[list[str]],
    title: str | None = None,
    compress: bytes | None = None,
    outline: list[tuple[str, int, list[tuple[str, int]]]] = (),
) -> bytes:
    """A minimal PDF with one text line per string (Helvetica), built by hand: pypdf cannot write text.

    ``compress`` replaces the first page's content stream with those bytes, Flate-compressed.
    ``outline`` is bookmarks as (title, page index, [(child title, page index), ...]).
    """

    def escape(line: str) -> str:
        return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    page_ids = [3 + 2 * i for i in range(len(pages))]
    font_id = 3 + 2 * len(pages)
    info_id = font_id + 1
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: f"<< /Type /Pages /Kids [{' '.join(f'{i} 0 R' for i in page_ids)}] /Count {len(pages)} >>".encode(),
        font_id: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    for number, (page_id, lines) in enumerate(zip(page_ids, pages)):
        ops = "BT /F1 12 Tf 14 TL 72 720 Td " + " ".join(f"({escape(line)}) Tj T*" for line in lines) + " ET"
        stream, extra = ops.encode("latin-1"), b""
        if compress is not None and number == 0:
            stream, extra = zlib.compress(compress, 9), b" /Filter /FlateDecode"
        objects[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {page_id + 1} 0 R >>"
        ).encode()
        objects[page_id + 1] = b"<< /Length %d%s >>\nstream\n" % (len(stream), extra) + stream + b"\nendstream"
    if title is not None:
        objects[info_id] = f"<< /Title ({escape(title)}) >>".encode("latin-1")
    if outline:
        root_id = info_id + 1
        next_id = root_id + 1

        def add_items(entries, parent_id):
            nonlocal next_id
            ids = list(range(next_id, next_id + len(entries)))
            next_id += len(entries)
            for position, (entry_id, entry) in enumerate(zip(ids, entries)):
                name, page, children = entry if len(entry) == 3 else (*entry, [])
                links = f"/Parent {parent_id} 0 R /Dest [{page_ids[page]} 0 R /Fit]"
                if position:
                    links += f" /Prev {ids[position - 1]} 0 R"
                if position + 1 < len(ids):
                    links += f" /Next {ids[position + 1]} 0 R"
                if children:
                    first, last = add_items(children, entry_id)
                    links += f" /First {first} 0 R /Last {last} 0 R /Count {len(children)}"
                objects[entry_id] = f"<< /Title ({escape(name)}) {links} >>".encode("latin-1")
            return ids[0], ids[-1]

        first, last = add_items(outline, root_id)
        objects[root_id] = b"<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count %d >>" % (first, last, len(outline))
        objects[1] = b"<< /Type /Catalog /Pages 2 0 R /Outlines %d 0 R >>" % root_id
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    size = max(objects) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number] if number in offsets else b"0000000000 65535 f \n"
    info = b" /Info %d 0 R" % info_id if title is not None else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (size, info, xref)
    return bytes(out)


def load(tmp_path: Path, name: str, data: bytes | str):
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return load_document(path, name, path.read_bytes())


def test_supported_suffixes():
    formats = ".txt .md .markdown .html .htm .pdf .docx .pptx .csv .tsv .xlsx .epub .rst .org"
    assert SUPPORTED_SUFFIXES == set(formats.split())


def test_plain_text_keeps_the_file_and_finds_title_lines(tmp_path):
    text = (
        "Field Guide\n"
        "A short introduction to the guide.\n"
        "Getting Started\n"
        "Install the tool. Then run it.\n"
        "a line that is not a heading\n"
        "Closing words without punctuation\n"
    )
    doc = load(tmp_path, "guide.txt", text)
    assert doc.text == text
    assert doc.title == "Field Guide"
    assert doc.kind == "text" and doc.page_starts == []
    assert [h.text for h in doc.headings] == ["Field Guide", "Getting Started"]


def test_plain_text_headings_of_the_overview():
    path = CORPUS / "ai-alignment-overview.txt"
    doc = load_document(path, path.name, path.read_bytes())
    assert doc.title == "AI Alignment Overview"
    names = [h.text for h in doc.headings]
    for expected in ("Why Alignment is Hard", "Core Techniques", "Alignment Research Organisations", "Open Problems"):
        assert expected in names
    # Body sentences, list items, table rows and the trailing line without body are not headings.
    assert not any(name.startswith(("-", "|", "Limitations", "See ")) for name in names)
    assert "Related reading" not in names
    levels = {h.text: h.level for h in doc.headings}
    assert levels["Core Techniques"] == 1
    assert levels["Reinforcement Learning from Human Feedback (RLHF)"] == 2
    assert levels["Constitutional AI (CAI)"] == 1


def test_hard_wrapped_prose_has_no_false_headings(tmp_path):
    # The starter pack wraps every clause onto its own line: paragraph openings are not headings.
    prose = (CORPUS / "ai-alignment-starter-pack.md").read_text(encoding="utf-8")
    assert load(tmp_path, "wrapped.txt", prose).headings == []


def test_crlf_text_maps_back_to_the_exact_file(tmp_path):
    text = "Title Here\r\nFirst paragraph line.\r\nSecond line.\r\n"
    doc = load(tmp_path, "crlf.txt", text)
    assert doc.text == text and "\r" not in doc.body
    at = doc.body.index("Second")
    assert doc.text[doc.offsets.start(at) : doc.offsets.end(at + len("Second line."))] == "Second line."


def test_markdown_front_matter_of_the_starter_pack():
    path = CORPUS / "ai-alignment-starter-pack.md"
    doc = load_document(path, path.name, path.read_bytes())
    assert doc.title == "AI alignment starter pack"
    assert doc.metadata["title"] == "AI alignment starter pack"
    assert doc.metadata["date"] == "2024-06-09"
    assert doc.metadata["lang"] == "en-US"
    assert doc.text == path.read_text(encoding="utf-8")  # offsets index the file as it is
    assert doc.kind == "markdown"
    assert "<!--" not in doc.body and "<abbr>" not in doc.body and "title:" not in doc.body
    assert "Intro to AI Safety" in doc.body and "building AI whose" in doc.body
    assert "https://www.youtube.com" not in doc.body  # link reference definitions are bare URLs
    assert [h.text for h in doc.headings][:2] == ["What is AI alignment?", "Why misalignment is dangerous"]


def test_markdown_title_from_first_heading_and_setext_and_code(tmp_path):
    text = (
        "# The <em>Real</em> Title\n\nIntro &amp; more.\n\n"
        "Setext Section\n--------------\n\nText.\n\n"
        "```\n# not a heading\n<b>kept</b>\n```\n\n"
        "## Last *one*\n\nEnd.\n"
    )
    doc = load(tmp_path, "notes.markdown", text)
    assert doc.title == "The Real Title"
    assert doc.metadata == {}
    assert [(h.level, h.text) for h in doc.headings] == [
        (1, "The Real Title"),
        (2, "Setext Section"),
        (2, "Last one"),
    ]
    assert "Intro & more." in doc.body
    assert "<b>kept</b>" in doc.body  # markup inside code is content
    at = doc.body.index("&")
    assert doc.text[doc.offsets.start(at) : doc.offsets.end(at + 1)] == "&amp;"


def test_markdown_comments_and_inline_tags_do_not_split_words(tmp_path):
    text = "---\ntitle: 'A<!---->I notes'\ntags: [x, y]\n---\nWe study A<!---->I and <abbr>LLM</abbr>s.<br>Next line\n"
    doc = load(tmp_path, "a.md", text)
    assert doc.title == "AI notes"
    assert doc.metadata["tags"] == "x, y"
    assert "We study AI and LLMs." in doc.body
    assert "LLMs.\nNext line" in doc.body  # a block tag still separates words
    start = doc.body.index("AI")
    assert doc.text[doc.offsets.start(start) : doc.offsets.end(start + 2)] == "A<!---->I"


def test_markdown_code_spans_keep_what_looks_like_a_tag(tmp_path):
    # A code span shows its text as written: "`pyenv install <version>`" lost "<version>" and was cut into two lines
    # as if "<version>" were a block tag. Outside code spans tags are still markup.
    text = "Run `pyenv install <version>` first, then ``a <!-- b`` and <b>bold</b> `<br>`.\n"
    doc = load(tmp_path, "cli.md", text)
    assert doc.body == "Run `pyenv install <version>` first, then ``a <!-- b`` and bold `<br>`.\n"
    start = doc.body.index("<version>")
    assert doc.text[doc.offsets.start(start) : doc.offsets.end(start + len("<version>"))] == "<version>"


def test_html_readable_text_only(tmp_path):
    page = """<!doctype html><html lang="en"><head><title>Page &amp; Title</title>
    <meta name="author" content="Ada"><style>body { color: red }</style>
    <script>var secret = "do not index";</script></head>
    <body><nav><a href="/">Home</a></nav>
    <h1>Main Heading</h1><p>Hello <b>bold</b> A<!---->I and <abbr>LLM</abbr>s.</p>
    <h2>Second part</h2>
    <ul><li>first item</li><li>second item</li></ul>
    <table><tr><th>Name</th><th>Role</th></tr><tr><td>Ada</td><td>Engineer</td></tr></table>
    <noscript>enable js</noscript></body></html>"""
    doc = load(tmp_path, "page.html", page)
    assert doc.kind == "html"
    assert doc.title == "Page & Title"
    assert doc.metadata["author"] == "Ada" and doc.metadata["lang"] == "en"
    assert doc.text == doc.body
    for unwanted in ("secret", "color: red", "enable js", "<b>", "<!--"):
        assert unwanted not in doc.text
    assert "Hello bold AI and LLMs." in doc.text
    assert "- first item\n- second item" in doc.text
    assert "| Name | Role |\n| --- | --- |\n| Ada | Engineer |" in doc.text  # a header row gets a Markdown rule
    assert [(h.level, h.text) for h in doc.headings] == [(1, "Main Heading"), (2, "Second part")]


def test_html_title_falls_back_to_first_h1(tmp_path):
    doc = load(tmp_path, "x.htm", "<body><p>intro</p><h1>Heading One</h1><p>text</p></body>")
    assert doc.title == "Heading One"


def test_html_with_unclosed_tags(tmp_path):
    # Real pages leave <p>, <li>, <td> and even <head> open; every paragraph must still come through.
    page = "<html><head><title>Loose</title><meta charset=utf-8>" + "".join(f"<p>Paragraph {i}" for i in range(20_000))
    page += "<ul><li>one<li>two</ul><table><tr><td>a<td>b<tr><td>c<td>d</table><embed src=x.swf><p>after embed"
    doc = load(tmp_path, "loose.html", page)
    assert doc.title == "Loose"
    assert doc.text.startswith("Paragraph 0\n\nParagraph 1\n\n")
    assert "Paragraph 19999" in doc.text
    assert "- one\n- two" in doc.text and "| a | b |\n| c | d |" in doc.text
    assert doc.text.endswith("after embed")


def test_pdf_pages_and_metadata_title(tmp_path):
    data = make_pdf([["First page heading", "Alpha text on page one."], ["Beta text on page two."]], title="A Paper")
    doc = load(tmp_path, "paper.pdf", data)
    assert doc.kind == "pdf"
    assert doc.title == "A Paper" and doc.metadata["pages"] == "2"
    assert len(doc.page_starts) == 2
    first, second = doc.text[: doc.page_starts[1]], doc.text[doc.page_starts[1] :]
    assert "Alpha text on page one." in first and "Beta" not in first
    assert second.startswith("Beta text on page two.")
    assert doc.page_at(doc.text.index("Alpha")) == 1 and doc.page_at(doc.text.index("Beta")) == 2


def test_pdf_outline_gives_sections(tmp_path):
    pages = [["Paper Title", "1 Introduction", "Intro text."], ["Some text.", "2.1 Setup", "Setup text."]]
    outline = [("Introduction", 0, []), ("Method", 1, [("Setup", 1)])]
    doc = load(tmp_path, "outlined.pdf", make_pdf(pages, outline=outline))
    placed = [(h.level, h.text, doc.text[h.start : h.end]) for h in doc.headings]
    # Printed titles are found on their page (section numbers aside); a title not printed starts at the page top.
    assert placed == [(1, "Introduction", "1 Introduction"), (1, "Method", ""), (2, "Setup", "2.1 Setup")]
    assert doc.headings[1].start == doc.page_starts[1]


def test_pdf_title_falls_back_to_first_line(tmp_path):
    doc = load(tmp_path, "untitled.pdf", make_pdf([["Report (draft)", "Body."]]))
    assert doc.title == "Report (draft)"


def test_utf8_bom_and_utf16_are_decoded(tmp_path):
    assert load(tmp_path, "bom.txt", "\ufeffHello BOM\nBody.".encode("utf-8")).text == "Hello BOM\nBody."
    doc = load(tmp_path, "wide.md", "# Wide\n\nUTF-16 body.".encode("utf-16"))
    assert doc.title == "Wide" and "UTF-16 body." in doc.body


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\t\n  ", "only whitespace"),
        ("nul.txt", b"text\x00\x01\x02binary", "binary file"),
        ("control.txt", bytes(range(1, 9)) * 50 + b"some text", "binary file"),
        # No latin-1 fallback: guessing would index mojibake for every other legacy encoding.
        ("latin1.txt", "caf\u00e9 cr\u00e8me".encode("latin-1"), "not UTF-8"),
        ("corrupt.pdf", b"%PDF-1.4\nthis is not really a pdf", "unreadable PDF"),
        ("empty.pdf", b"", "empty file"),
        ("textless.pdf", make_pdf([[]]), "no extractable text"),
        ("image.png", b"\x89PNG\r\n", "unsupported file type '.png'"),
        ("noext", b"hello", "unsupported file type"),
        ("front-only.md", b"---\ntitle: Only metadata\n---\n\n", "no text to index"),
        ("script-only.html", b"<html><script>alert(1)</script><!-- hi --></html>", "no readable text"),
    ],
)
def test_bad_files_are_skipped_with_a_reason(tmp_path, name, data, reason):
    with pytest.raises(SkipFile) as caught:
        load(tmp_path, name, data)
    assert reason in str(caught.value)


def test_truncated_pdf_is_skipped(tmp_path):
    data = make_pdf([["Some text here."]])
    with pytest.raises(SkipFile, match="PDF"):
        load(tmp_path, "cut.pdf", data[: len(data) // 3])


def test_deeply_nested_html_is_read(tmp_path):
    depth = 50_000
    doc = load(tmp_path, "deep.html", "<div>" * depth + "deep text" + "</div>" * depth)
    assert doc.text == "deep text"


def test_pdf_decompression_bomb_does_not_take_the_file_down(tmp_path):
    # 150 MB of text operators behind 150 kB of Flate: pypdf refuses to inflate past its limit.
    bomb = make_pdf([["x"], ["Second page survives."]], compress=b"BT ET " * 25_000_000)
    try:
        doc = load(tmp_path, "bomb.pdf", bomb)
    except SkipFile as exc:
        assert "PDF" in str(exc)
    else:
        assert "Second page survives." in doc.text


def test_huge_single_line_loads(tmp_path):
    doc = load(tmp_path, "line.txt", "word " * 400_000)
    assert doc.headings == [] and len(doc.body) == 2_000_000
