"""EPUB books built with zipfile: chapters in spine order, headings kept, DRM and broken books refused."""

from __future__ import annotations

import io
import zipfile

import pytest

from loader_checks import assert_exact_spans, assert_skipped, chunks_of, find
from test_load import load

CONTAINER = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""

PACKAGE = """<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="id">urn:uuid:1</dc:identifier>
    <dc:title>The Lantern Keeper</dc:title>
    <dc:creator>Ada Writer</dc:creator>
    <dc:language>en</dc:language>
  </metadata>
  <manifest>
    <item id="c2" href="text/chapter%202.xhtml" media-type="application/xhtml+xml"/>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="cover" href="text/cover.xhtml" media-type="application/xhtml+xml"/>
    <item id="c1" href="text/chapter1.xhtml" media-type="application/xhtml+xml"/>
    <item id="c3" href="text/chapter3.xhtml" media-type="application/xhtml+xml"/>
    <item id="css" href="style.css" media-type="text/css"/>
  </manifest>
  <spine><itemref idref="cover"/><itemref idref="c1"/><itemref idref="c2"/><itemref idref="c3"/></spine>
</package>"""


def chapter(title: str, body: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
        f"<head><title>{title}</title></head><body>{body}</body></html>"
    )


def make_epub(unique: str = "glimmerwick", extra: dict[str, str] | None = None) -> bytes:
    files = {
        "META-INF/container.xml": CONTAINER,
        "OEBPS/content.opf": PACKAGE,
        "OEBPS/nav.xhtml": chapter("Contents", "<nav><ol><li>Navigation is not a chapter</li></ol></nav>"),
        "OEBPS/text/cover.xhtml": chapter("Cover", '<img src="cover.jpg" alt=""/>'),
        "OEBPS/text/chapter1.xhtml": chapter(
            "Chapter 1",
            "<h1>Chapter One: The Harbour</h1><p>The keeper trimmed the wick at dusk.</p>"
            f"<h2>The Storm</h2><p>Waves broke over the {unique} rocks all night.</p>",
        ),
        "OEBPS/text/chapter 2.xhtml": chapter(
            "Chapter 2", "<h1>Chapter Two: Morning</h1>" + "<p>The sea was calm again and gulls circled.</p>" * 40
        ),
        "OEBPS/text/chapter3.xhtml": chapter("Afterword", "<p>Thanks to the harbour master.</p>"),
        **(extra or {}),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        book.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        for name, text in files.items():
            book.writestr(name, text, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def test_epub_chapters_in_spine_order_with_headings(tmp_path, embedder):
    doc = load(tmp_path, "lantern.epub", make_epub())
    assert doc.kind == "epub" and doc.title == "The Lantern Keeper"
    assert doc.metadata == {"title": "The Lantern Keeper", "author": "Ada Writer", "lang": "en"}
    assert doc.text.index("trimmed the wick") < doc.text.index("gulls circled") < doc.text.index("harbour master")
    assert "Navigation is not a chapter" not in doc.text  # the nav document is not in the spine
    assert [(h.level, h.text) for h in doc.headings] == [
        (1, "Chapter One: The Harbour"),
        (2, "The Storm"),
        (1, "Chapter Two: Morning"),
        (1, "Afterword"),  # a chapter without heading elements is named by its <title>
    ]
    chunks = chunks_of(doc, embedder)
    assert_exact_spans(doc, chunks)
    assert find(chunks, "glimmerwick").section == "Chapter One: The Harbour > The Storm"
    morning = [chunk for chunk in chunks if "gulls circled" in chunk.text]
    assert len(morning) >= 2 and {chunk.section for chunk in morning} == {"Chapter Two: Morning"}
    assert find(chunks, "harbour master").section == "Afterword"


ENCRYPTION = """<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container"
    xmlns:enc="http://www.w3.org/2001/04/xmlenc#">
  <enc:EncryptedData><enc:EncryptionMethod Algorithm="{algorithm}"/>
    <enc:CipherData><enc:CipherReference URI="{uri}"/></enc:CipherData></enc:EncryptedData>
</encryption>"""


def test_font_obfuscation_is_not_drm(tmp_path):
    fonts_only = ENCRYPTION.format(algorithm="http://www.idpf.org/2008/embedding", uri="OEBPS/fonts/a.otf")
    doc = load(tmp_path, "fonts.epub", make_epub(extra={"META-INF/encryption.xml": fonts_only}))
    assert "trimmed the wick" in doc.text


def broken(path: str, text: str | None) -> bytes:
    """A valid book with one member replaced (None: removed)."""
    source = zipfile.ZipFile(io.BytesIO(make_epub()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        for name in source.namelist():
            if name != path:
                book.writestr(name, source.read(name))
        if text is not None:
            book.writestr(path, text)
    return out.getvalue()


DRM = ENCRYPTION.format(algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc", uri="OEBPS/text/chapter1.xhtml")


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.epub", b"", "empty file"),
        ("cut.epub", make_epub()[:300], "corrupt EPUB file"),
        ("drm.epub", make_epub(extra={"META-INF/encryption.xml": DRM}), "DRM-protected EPUB"),
        ("no-package.epub", broken("OEBPS/content.opf", None), "no package document"),
        ("bad-package.epub", broken("OEBPS/content.opf", "<package><unclosed"), "unreadable EPUB file"),
        ("latin1.epub", broken("OEBPS/text/chapter1.xhtml", "<p>caf\u00e9</p>".encode("latin-1")), "not readable text"),
        ("textless.epub", broken("OEBPS/text/chapter1.xhtml", chapter("x", "")), None),
    ],
)
def test_bad_epubs_are_skipped_with_a_reason(tmp_path, name, data, reason):
    if reason is None:  # one empty chapter costs nothing: the rest of the book loads
        assert "gulls circled" in load(tmp_path, name, data).text
        return
    assert_skipped(tmp_path, name, data, reason)


def test_epub_without_container_finds_its_package(tmp_path):
    doc = load(tmp_path, "bare.epub", broken("META-INF/container.xml", None))
    assert doc.title == "The Lantern Keeper"
