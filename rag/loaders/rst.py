"""reStructuredText (.rst): the file as text, section titles recognised by their adornment lines.

A title is a line underlined (optionally also overlined) with one repeated punctuation character;
levels follow the order in which adornment styles first appear, as docutils assigns them. Directives
and roles stay in the text as written.
"""

from __future__ import annotations

import re

from rag.loaders.common import Document, Heading, decode_text, first_line, lines, without_carriage_returns

# A line of one repeated non-alphanumeric ASCII character: "=====", "-----", "~~~~" ...
_ADORNMENT = re.compile(r"([!-/:-@\[-`{-~])\1+[ \t]*")
# docutils accepts an underline shorter than its title from this length on (with a warning).
_MIN_SHORT_UNDERLINE = 4


def load(source: str, data: bytes) -> Document:
    text = decode_text(data)
    body, offsets = without_carriage_returns(text)
    headings = rst_headings(body)
    title = headings[0].text if headings else first_line(body)
    return Document(source, title, {}, text, "rst", body, offsets, headings)


def rst_headings(body: str) -> list[Heading]:
    spans = lines(body)
    texts = [body[a:b] for a, b in spans]

    def adornment(i: int) -> str:
        m = _ADORNMENT.fullmatch(texts[i]) if 0 <= i < len(texts) else None
        return m.group(1) if m and len(texts[i].strip()) >= 2 else ""

    def long_enough(under: int, title: str) -> bool:
        length = len(texts[under].strip())
        return length >= len(title) or length >= _MIN_SHORT_UNDERLINE

    styles: list[tuple[str, bool]] = []  # adornment styles in order of first use: their index is the level
    headings: list[Heading] = []
    i = 0
    while i < len(texts):
        char = adornment(i)
        title = texts[i + 1].strip() if i + 1 < len(texts) else ""
        if char and title and not adornment(i + 1) and adornment(i + 2) == char and long_enough(i + 2, title):
            style, start, end, i = (char, True), spans[i][0], spans[i + 2][1], i + 3
        else:
            title = texts[i].strip()
            under = adornment(i + 1)
            starts_paragraph = i == 0 or not texts[i - 1].strip()
            plain = title and not char and texts[i][:1] not in (" ", "\t")
            if not (plain and starts_paragraph and under and long_enough(i + 1, title)):
                i += 1
                continue
            style, start, end, i = (under, False), spans[i][0], spans[i + 1][1], i + 2
        if style not in styles:
            styles.append(style)
        headings.append(Heading(styles.index(style) + 1, " ".join(title.split()), start, end))
    return headings
