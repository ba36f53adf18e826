"""Org mode (.org): the file as text, ``*`` headlines as sections, ``#+TITLE:``-style keywords as metadata.

Keyword lines, block delimiters (``#+begin_src`` ...) and property drawers are left out of the chunked
body; everything else is kept verbatim, so offsets map straight back into the file. TODO keywords,
priorities and tags are dropped from section names.
"""

from __future__ import annotations

import re

from rag.loaders.common import Cleaner, Document, Heading, decode_text, first_line, lines, one_line, require_text

_HEADLINE = re.compile(r"(\*+)[ \t]+(.*)")
_TODO = re.compile(r"(?:TODO|DONE|NEXT|WAITING|HOLD|CANCELL?ED)[ \t]+")
_PRIORITY = re.compile(r"\[#[A-Za-z0-9]\][ \t]*")
_TAGS = re.compile(r"[ \t]+:[\w@#%:]+:$")
_KEYWORD = re.compile(r"[ \t]*#\+(\w+):[ \t]*(.*)")
_BLOCK = re.compile(r"[ \t]*#\+(begin|end)_\w+", re.IGNORECASE)
_DRAWER = re.compile(r"[ \t]*:(\w[\w-]*):[ \t]*")
_METADATA_KEYS = {"title": "title", "author": "author", "date": "date", "language": "lang", "description": "description"}


def load(source: str, data: bytes) -> Document:
    text = decode_text(data)
    cleaner = Cleaner(text)
    metadata: dict[str, str] = {}
    headings: list[Heading] = []
    in_block = in_drawer = False
    for a, b in lines(text):
        line = text[a:b].rstrip("\r")
        keep_to = min(b + 1, len(text))  # the line with its newline
        if in_drawer:
            in_drawer = line.strip().upper() != ":END:"
            continue
        block = _BLOCK.match(line)
        if block:
            in_block = block.group(1).lower() == "begin"
            continue
        keyword = None if in_block else _KEYWORD.match(line)
        if keyword:
            key = _METADATA_KEYS.get(keyword.group(1).lower())
            if key and keyword.group(2).strip():
                metadata.setdefault(key, one_line(keyword.group(2), 500))
            continue
        drawer = None if in_block else _DRAWER.fullmatch(line)
        if drawer and drawer.group(1).upper() != "END":
            in_drawer = True
            continue
        headline = None if in_block else _HEADLINE.fullmatch(line)
        if headline:
            name = _TAGS.sub("", _PRIORITY.sub("", _TODO.sub("", headline.group(2).strip(), count=1), count=1))
            if name.strip():
                start = cleaner.length
                headings.append(Heading(len(headline.group(1)), one_line(name), start, start + len(line)))
        cleaner.keep(a, keep_to)
    body, offsets = cleaner.result()
    require_text(body, "(only keywords and drawers)")
    title = metadata.get("title") or (headings[0].text if headings else first_line(body))
    return Document(source, one_line(title), metadata, text, "org", body, offsets, headings)
