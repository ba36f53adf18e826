"""Plain text (.txt): the file as it is, with heading lines found by layout."""

from __future__ import annotations

from rag.loaders.common import (
    LIST_ITEM,
    Document,
    Heading,
    decode_text,
    first_line,
    is_table_row,
    lines,
    without_carriage_returns,
)
from rag.text import CONTINUING_WORDS

_TERMINAL = tuple(".,;:!?…")
_PARAGRAPH_END = tuple(".!?:;)]\"'”’»|…")


def load(source: str, data: bytes) -> Document:
    text = decode_text(data)
    body, offsets = without_carriage_returns(text)
    return Document(source, first_line(body), {}, text, "text", body, offsets, _plain_headings(body))


def _title_like(line: str) -> bool:
    """A short standalone line that reads like a heading ("Why Alignment is Hard", "Open Problems")."""
    if not line or line != line.strip() or len(line) > 80 or len(line.split()) > 12:
        return False
    if not (line[0].isupper() or line[0].isdigit()) or line.endswith(_TERMINAL):
        return False
    return not (LIST_ITEM.match(line) or is_table_row(line) or "http" in line)


def _heading_without_gap(line: str) -> bool:
    """Stricter test for a heading line with body text right under it, where a hard-wrapped line can look
    the same: short or Title Case, and not ending on a word that continues a sentence."""
    words = line.split()
    if words[-1].casefold() in CONTINUING_WORDS:
        return False
    long_words = [w for w in words if len(w) >= 4]
    return len(words) <= 6 or sum(w[0].isupper() for w in long_words) * 2 >= len(long_words)


def _plain_headings(body: str) -> list[Heading]:
    """Heading lines of plain text, found by layout since plain text has no markup for them.

    A heading is a title-like line that starts a paragraph (after a blank line, a finished sentence,
    a list item or another heading) and is followed by body text that starts a sentence (so the end
    of a hard-wrapped line is not mistaken for one). Plain text has no levels: a heading directly
    followed by another heading becomes that one's parent ("Core Techniques > Reinforcement ...").
    """
    spans = [(a, b, body[a:b].strip()) for a, b in lines(body)]
    nonblank = [i for i, (_, _, line) in enumerate(spans) if line]
    is_heading = [False] * len(spans)
    # Walk backwards so "followed by a heading" is already known.
    for pos in range(len(nonblank) - 2, -1, -1):
        i, nxt = nonblank[pos], nonblank[pos + 1]
        a, b, line = spans[i]
        if not _title_like(body[a:b].rstrip()):  # unstripped: an indented line is a quote or code
            continue
        prev = spans[nonblank[pos - 1]][2] if pos > 0 else ""
        starts_paragraph = (
            pos == 0
            or nonblank[pos - 1] < i - 1
            or prev.endswith(_PARAGRAPH_END)
            or bool(LIST_ITEM.match(prev))
            or _title_like(prev)
        )
        following = spans[nxt][2]
        body_follows = following[0].isupper() or following[0].isdigit() or following[0] in "\"'“‘([|-*•"
        if starts_paragraph and (nxt > i + 1 or _heading_without_gap(line)):
            is_heading[i] = is_heading[nxt] or body_follows and not _title_like(following)
    headings: list[Heading] = []
    level_before = 0
    for i in nonblank:
        if not is_heading[i]:
            level_before = 0
            continue
        level = level_before + 1
        a, b, line = spans[i]
        headings.append(Heading(level, line, a, b))
        level_before = level
    return headings
