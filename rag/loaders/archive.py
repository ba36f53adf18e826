"""Zip containers (Word, PowerPoint, Excel, EPUB): refuse encrypted, corrupt and zip-bomb files up front.

The parsing libraries read whole XML parts into memory, so a part that expands to gigabytes must be
refused from the sizes the archive declares (zipfile never inflates past a declared size).
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

from rag.loaders.common import SkipFile, one_line

# Office files that are encrypted with a password are not zips but OLE2 compound files (as are .doc/.ppt/.xls).
_OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
# Markup a container may expand to. A 1,000-page Word report is ~10 MB of XML; 256 MB of XML already
# takes gigabytes as a parsed tree. Images and fonts are not counted: they are never parsed.
MAX_MARKUP_BYTES = 256 * 2**20
_MARKUP_PARTS = (".xml", ".rels", ".xhtml", ".html", ".htm", ".opf", ".ncx")


# Every Office Open XML package (docx, pptx, xlsx) has this part.
OFFICE_MANIFEST = "[Content_Types].xml"


def open_zip(data: bytes, what: str, required: str = "") -> zipfile.ZipFile:
    """The archive of a ``what`` ("DOCX", "EPUB", ...) file, or SkipFile saying why it cannot be read.

    ``required`` is a member the format must have (a zip without it is some other kind of file).
    """
    if not data:
        raise SkipFile("empty file")
    if data.startswith(_OLE2_SIGNATURE):
        if _ENCRYPTED_PACKAGE in data:
            raise SkipFile(f"password-protected {what} file; save a copy without the password to index it")
        raise SkipFile(f"not a {what} file but an older binary Office format; re-save it as {what}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise SkipFile(f"corrupt {what} file (not a readable zip archive)") from None
    if any(entry.flag_bits & 0x1 for entry in entries):
        raise SkipFile(f"password-protected {what} file (encrypted zip entries)")
    if required and required not in {entry.filename for entry in entries}:
        raise SkipFile(f"not a {what} file (the zip archive has no {required})")
    markup = sum(entry.file_size for entry in entries if entry.filename.lower().endswith(_MARKUP_PARTS))
    if markup > MAX_MARKUP_BYTES:
        raise SkipFile(
            f"{what} file expands to {markup / 2**20:,.0f} MB of markup (limit {MAX_MARKUP_BYTES // 2**20} MB)"
        )
    return archive


def office_metadata(properties: object) -> dict[str, str]:
    """Title, author, subject, keywords, language and date from Office core properties (any of the three
    libraries' spellings: python-docx/python-pptx say ``author``, openpyxl ``creator``)."""
    metadata: dict[str, str] = {}
    for key, names in (
        ("title", ("title",)),
        ("author", ("author", "creator")),
        ("subject", ("subject",)),
        ("keywords", ("keywords",)),
        ("lang", ("language",)),
    ):
        for name in names:
            value = one_line(str(getattr(properties, name, None) or ""), 500)
            if value:
                metadata[key] = value
                break
    created = getattr(properties, "created", None)
    if isinstance(created, datetime):
        metadata["date"] = created.date().isoformat()
    return metadata
