"""Markdown (.md, .markdown): YAML front matter as metadata, markup removed, ATX/setext headings.

The Document keeps the exact decoded file as ``text``; chunks are cut from the body without front
matter, HTML comments, tags and link reference definitions, whose offsets map back into the file.
"""

from __future__ import annotations

import bisect
import html
import re
from datetime import date, datetime

import yaml

from rag.loaders.common import (
    LIST_ITEM,
    Cleaner,
    Document,
    Heading,
    OffsetMap,
    decode_text,
    first_line,
    is_table_row,
    lines,
    one_line,
    require_text,
)

_FRONT_MATTER_MAX_CHARS = 64_000
_FRONT_MATTER = re.compile(r"---[ \t]*\r?\n(.*?\r?\n)?(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_KEY_VALUE = re.compile(r"""^([A-Za-z_][\w.-]*)[ \t]*:[ \t]*["']?(.*?)["']?[ \t]*\r?$""", re.MULTILINE)
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_LINK_DEFINITION = re.compile(r" {0,3}\[[^\]\n]{1,999}\]:[ \t]*\S+")
_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r" {0,3}(=+|-{2,})[ \t]*$")
# CommonMark HTML blocks whose lines are never Markdown: <pre>, <script>, <style>, <textarea>.
_RAW_BLOCK = re.compile(r" {0,3}<(pre|script|style|textarea)(?:[\s>]|$)", re.IGNORECASE)


def load(source: str, data: bytes) -> Document:
    text = decode_text(data)
    metadata, body_start = _front_matter(text)
    body, offsets, code = _clean_markdown_body(text, body_start)
    require_text(body, "(only front matter or markup)")
    headings = markdown_headings(body, code)
    title = metadata.get("title") or (headings[0].text if headings else "") or first_line(body)
    return Document(source, one_line(title), metadata, text, "markdown", body, offsets, headings, code_spans=code)


# ---------------------------------------------------------------------------------------------
# Markup inside Markdown


_INLINE_TAGS = frozenset(
    "a abbr acronym b bdi bdo big cite code data del dfn em font i ins kbd mark q s samp small span strike "
    "strong sub sup time tt u var wbr".split()
)
_MARKUP = re.compile(
    r"(?P<comment><!--)"
    r"|(?P<tag></?(?P<name>[A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*)?/?>)"
    r"|(?P<entity>&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)"
)


# An inline code span: a run of backticks, then text up to a run of as many, within a paragraph (CommonMark)
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)((?:(?!\n[ \t]*\n).)+?)(?<!`)\1(?!`)", re.DOTALL)


def _clean_markup(cleaner: Cleaner, a: int, b: int) -> None:
    """Copy ``source[a:b]`` without HTML comments and tags, with entities decoded.

    Comments and inline tags vanish without a trace, so ``A<!---->I`` and ``<abbr>AI</abbr>s`` read
    as the words a browser shows; block tags become a line break so words on both sides stay apart.
    Inside an inline code span they are what it shows: "`pyenv install <version>`".
    """
    source = cleaner.source
    pos = a
    no_comment_end_after = b  # once a "<!--" has no "-->", later ones cannot have one either
    code_spans = [m.span() for m in _CODE_SPAN.finditer(source, a, b)]
    for m in _MARKUP.finditer(source, a, b):
        if m.start() < pos:
            continue  # inside a comment already removed
        if within(code_spans, m.start()):
            continue  # literal text of a code span
        if m.group("comment"):
            close = source.find("-->", m.end(), b) if m.start() < no_comment_end_after else -1
            if close < 0:
                no_comment_end_after = m.start()
                continue
            cleaner.keep(pos, m.start())
            pos = close + 3
        elif m.group("tag"):
            cleaner.keep(pos, m.start())
            if m.group("name").lower() not in _INLINE_TAGS:
                cleaner.replace(m.start(), m.end(), "\n")
            pos = m.end()
        else:
            decoded = html.unescape(m.group())
            if decoded == m.group():
                continue
            cleaner.keep(pos, m.start())
            cleaner.replace(m.start(), m.end(), decoded)
            pos = m.end()
    cleaner.keep(pos, b)


def code_ranges(text: str) -> list[tuple[int, int]]:
    """Where Markdown ``text`` is code: fenced blocks and inline code spans, in order. What looks like a tag there is
    the code's text, never markup."""
    ranges: list[tuple[int, int]] = []
    prose, fence, opened = 0, "", 0
    for a, b in lines(text, 0):
        line = text[a:b].rstrip("\r\n")
        if fence:
            if _closes_fence(line, fence):
                ranges.append((opened, b))
                fence, prose = "", b
        elif opening := _FENCE.match(line):
            ranges += [span.span() for span in _CODE_SPAN.finditer(text, prose, a)]
            fence, opened = opening.group(1), a
    if fence:
        ranges.append((opened, len(text)))
    else:
        ranges += [span.span() for span in _CODE_SPAN.finditer(text, prose, len(text))]
    return ranges


def within(ranges: list[tuple[int, int]], at: int) -> bool:
    """Is offset ``at`` inside one of the sorted, disjoint ``ranges``?"""
    index = bisect.bisect_right(ranges, at, key=lambda span: span[0]) - 1
    return index >= 0 and at < ranges[index][1]


def clean_inline(text: str) -> str:
    """A one-line string (title, heading, metadata value, a line of the source) without HTML markup."""
    cleaner = Cleaner(text)
    _clean_markup(cleaner, 0, len(text))
    return one_line(cleaner.result()[0], limit=10_000)


# ---------------------------------------------------------------------------------------------
# Front matter, headings, body


def _closes_fence(line: str, fence: str) -> bool:
    m = _FENCE.match(line)
    return bool(m) and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line[m.end() :].strip()


def _front_matter(text: str) -> tuple[dict[str, str], int]:
    """YAML front matter as string metadata, and where the body starts (0 without front matter)."""
    m = _FRONT_MATTER.match(text, 0, min(len(text), _FRONT_MATTER_MAX_CHARS))
    if not m:
        return {}, 0
    block = m.group(1) or ""
    try:
        data = yaml.safe_load(block)
    except Exception:
        # Blog front matter is often "YAML-ish" (``minutes: ?`` is a YAML syntax error): read it as
        # plain ``key: value`` lines rather than lose the title and date.
        data = dict(_KEY_VALUE.findall(block))
    metadata: dict[str, str] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, list):
                value = ", ".join(_scalar(v) for v in value if _scalar(v))
            value = clean_inline(_scalar(value))
            if value:
                metadata[str(key)] = value
    return metadata, m.end()


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (str, int, float)):
        return str(value)
    return ""


def _clean_heading(text: str) -> str:
    text = re.sub(r"!?\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])", r"\1", text)
    text = re.sub(r"\*\*|__|`", "", text)
    text = re.sub(r"(?<!\w)[*_]|[*_](?!\w)", "", text)
    return " ".join(text.split())


def markdown_headings(body: str, code: list[tuple[int, int]] = ()) -> list[Heading]:
    """ATX (``## Title``) and setext (``Title`` over ``===``/``---``) headings outside code fences.

    ``code`` lists body spans of code blocks (fences, ``<pre>``): their ``# comment`` lines are code too.
    """
    headings: list[Heading] = []
    fence = ""
    prev: tuple[int, int] | None = None  # the previous line if it could be a setext heading's text
    after_blank = True
    blocks = iter(code)
    block = next(blocks, None)
    for a, b in lines(body):
        line = body[a:b]
        while block and block[1] <= a:
            block = next(blocks, None)
        if block and block[0] <= a < block[1]:
            prev, after_blank = None, False
            continue
        if fence:
            fence = "" if _closes_fence(line, fence) else fence
            prev = None
            continue
        m = _FENCE.match(line)
        if m:
            fence = m.group(1)
            prev = None
            continue
        atx = _ATX.match(line)
        if atx:
            title = _clean_heading(atx.group(2) or "")
            if title:
                headings.append(Heading(len(atx.group(1)), title, a, b))
            prev, after_blank = None, False
            continue
        setext = _SETEXT.match(line)
        if setext and prev:
            title = _clean_heading(body[prev[0] : prev[1]])
            if title:
                headings.append(Heading(1 if setext.group(1)[0] == "=" else 2, title, prev[0], b))
                prev, after_blank = None, False
                continue
        stripped = line.strip()
        # Only a one-line paragraph of plain text can be a setext heading's text.
        starts_paragraph = after_blank and prev is None
        plain = not (LIST_ITEM.match(line) or is_table_row(stripped) or stripped.startswith(">"))
        prev = (a, b) if stripped and starts_paragraph and plain else None
        after_blank = not stripped
    return headings


def _clean_markdown_body(text: str, start: int) -> tuple[str, OffsetMap, list[tuple[int, int]]]:
    """The body without markup, link reference definitions (bare URLs) or carriage returns, and the
    body spans of code: fenced blocks and HTML code blocks (``<pre>`` ... ``</pre>``), never headings.

    Code fences are copied as they are: markup inside them is content.
    """
    cleaner = Cleaner(text)
    region = start  # start of the current run of ordinary (non-code) text
    fence = ""
    raw_end = ""  # the closing tag of the HTML code block we are in
    code: list[tuple[int, int]] = []
    for a, b in lines(text, start):
        line = text[a:b].rstrip("\r")
        m = _FENCE.match(line)
        raw = None if fence or raw_end else _RAW_BLOCK.match(line)
        if raw:
            _clean_markup(cleaner, region, a)
            region, raw_end = a, f"</{raw.group(1).lower()}>"
            code.append((cleaner.length, cleaner.length))
        if raw_end:
            if raw_end in line.lower():
                _clean_markup(cleaner, region, b)
                code[-1] = (code[-1][0], cleaner.length)
                region, raw_end = b, ""
            continue
        if fence:
            if _closes_fence(line, fence):
                fence = ""
                cleaner.keep(region, b)
                code[-1] = (code[-1][0], cleaner.length)
                region = b
        elif m:
            _clean_markup(cleaner, region, a)
            fence, region = m.group(1), a
            code.append((cleaner.length, cleaner.length))
        elif _LINK_DEFINITION.match(line):
            _clean_markup(cleaner, region, a)
            region = b
    if fence:
        cleaner.keep(region, len(text))
        code[-1] = (code[-1][0], cleaner.length)
    else:
        _clean_markup(cleaner, region, len(text))
        if raw_end:
            code[-1] = (code[-1][0], cleaner.length)
    body, offsets = cleaner.result()
    return body, offsets, code
