"""EPUB e-books (.epub): chapters in reading (spine) order, each read like a web page.

An EPUB is a zip of XHTML chapters listed by a package document (OPF). The standard library reads it
(zipfile + ElementTree): ebooklib would add lxml-based parsing of parts we never need. Each chapter
goes through the HTML loader's :func:`page_text`, so headings are kept the same way; chapters are
joined by a blank line, and ``Document.text`` is that extracted text.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import xml.etree.ElementTree as ElementTree
from pathlib import PurePosixPath
from urllib.parse import unquote

from rag.loaders.archive import open_zip
from rag.loaders.common import Document, SkipFile, TextBuilder, decode_text, one_line
from rag.loaders.html_page import page_text

_CHAPTER_TYPES = frozenset({"application/xhtml+xml", "text/html"})
# Encryption that only obfuscates embedded fonts (the text stays readable).
_FONT_OBFUSCATION = frozenset({"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"})
_XML_ENCODING = re.compile(rb"""<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']""")
_METADATA = (("title", "title"), ("author", "creator"), ("lang", "language"), ("date", "date"), ("subject", "subject"))


def load(source: str, data: bytes) -> Document:
    archive = open_zip(data, "EPUB")
    names = set(archive.namelist())
    package_path = _package_path(archive, names)
    package = ElementTree.fromstring(archive.read(package_path))
    metadata = _metadata(package)
    encrypted = _encrypted(archive, names)
    builder = TextBuilder()
    for path in _spine(package, posixpath.dirname(package_path)):
        if path in encrypted:
            raise SkipFile("DRM-protected EPUB (its chapters are encrypted)")
        if path not in names:
            continue  # a broken reference costs that chapter, not the book
        raw = archive.read(path)
        if not raw.strip():
            continue
        page = page_text(_decode(raw, path))
        if page.text and not page.headings and page.title and page.title != metadata.get("title"):
            builder.locator(1, page.title)  # a chapter without heading elements is named by its <title>
        builder.extracted(page.text, page.headings)
    first_heading = builder.headings[0].text if builder.headings else ""
    title = metadata.get("title") or first_heading or PurePosixPath(source).stem
    return builder.document(source, title, metadata, "epub", "(the book's chapters have no text)")


def _package_path(archive: zipfile.ZipFile, names: set[str]) -> str:
    """The OPF package document named by META-INF/container.xml (else the only .opf in the zip)."""
    if "META-INF/container.xml" in names:
        container = ElementTree.fromstring(archive.read("META-INF/container.xml"))
        for rootfile in container.iterfind(".//{*}rootfile"):
            path = rootfile.get("full-path", "")
            if path in names:
                return path
    packages = sorted(name for name in names if name.lower().endswith(".opf"))
    if not packages:
        raise SkipFile("not an EPUB (no package document listing its chapters)")
    return packages[0]


def _spine(package: ElementTree.Element, base: str) -> list[str]:
    """Archive paths of the chapters in reading order."""
    manifest = {
        item.get("id"): (item.get("href", ""), item.get("media-type", ""))
        for item in package.iterfind("{*}manifest/{*}item")
    }
    paths = []
    for reference in package.iterfind("{*}spine/{*}itemref"):
        href, media_type = manifest.get(reference.get("idref"), ("", ""))
        if href and media_type in _CHAPTER_TYPES:
            paths.append(posixpath.normpath(posixpath.join(base, unquote(href.split("#", 1)[0]))))
    return paths


def _metadata(package: ElementTree.Element) -> dict[str, str]:
    metadata: dict[str, str] = {}
    for key, element in _METADATA:
        found = package.find(f"{{*}}metadata/{{*}}{element}")
        value = one_line("".join(found.itertext()), 500) if found is not None else ""
        if value:
            metadata[key] = value
    return metadata


def _encrypted(archive: zipfile.ZipFile, names: set[str]) -> set[str]:
    """Paths whose content is encrypted (DRM), from META-INF/encryption.xml; font obfuscation is not."""
    if "META-INF/encryption.xml" not in names:
        return set()
    encryption = ElementTree.fromstring(archive.read("META-INF/encryption.xml"))
    paths = set()
    for item in encryption.iterfind(".//{*}EncryptedData"):
        method = item.find("{*}EncryptionMethod")
        reference = item.find(".//{*}CipherReference")
        if reference is not None and (method is None or method.get("Algorithm") not in _FONT_OBFUSCATION):
            paths.add(posixpath.normpath(unquote(reference.get("URI", ""))))
    return paths


def _decode(data: bytes, path: str) -> str:
    """A chapter's text: UTF-8/UTF-16 as EPUB requires, or the encoding its XML declaration names."""
    declared = _XML_ENCODING.match(data.lstrip(b"\xef\xbb\xbf \t\r\n"))
    codec = declared.group(1).decode("ascii").lower() if declared else "utf-8"
    try:
        if codec.replace("-", "").replace("_", "") in ("utf8", "utf16"):
            return decode_text(data)
        return data.decode(codec)
    except (SkipFile, LookupError, UnicodeDecodeError) as exc:
        raise SkipFile(f"chapter {path} is not readable text ({one_line(str(exc), 200)})") from None
