"""Cut a Document into passages that fit the embedding model, each citing its exact source span.

Sections come from the document's headings (and PDF pages); inside a section LangChain's recursive
splitter cuts on blank lines, then between list items / around tables, then lines, sentences,
clauses and words, merging pieces greedily up to the token budget with overlap. What it cannot
do is hand-written here: offsets back into ``Document.text``, the title/section context that is
embedded with every chunk, and a last-resort split for runs no separator can break.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Callable
from functools import lru_cache

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.loaders.common import MAX_TITLE_CHARS, Document, SkipFile, tidy
from rag.loaders.markdown import clean_inline
from rag.passage import Span
from rag.text import clean_line, one_line

# Stored with an index: bump whenever the same document would be chunked differently.
CHUNKER_VERSION = "7"  # 2: front-matter and link chunks; 3: HTML main content only, API entries as sections;
# 4: PDF text from pypdfium2 (words kept apart), no headers/footers or contents pages, code blocks apart;
# chunks mark their code (Span.code); 5: a title chunk for every format, and a code mark placed on lines of its
# own (the word "deactivate" in the prose before a <pre>deactivate</pre> block no longer takes the block's mark);
# 6: code keeps its indentation and spacing; 7: HTML glossary entries (plain <dl>) as sections titled by their term
SECTION_SEPARATOR = " > "
CONTEXT_SEPARATOR = " — "
# Sections of the reference chunks (see reference_chunks): what the answer layer reads as metadata / links.
METADATA_SECTION = "Metadata"
LINKS_SECTION = "Link definitions"
# Lines per reference chunk: a chunk of thirty links embeds as none of them.
LINES_PER_CHUNK = 6

# Coarse to fine; a finer separator is only used inside a piece that is still too long.
SEPARATORS = [
    r"\n[^\S\n]*\n\s*",  # blank lines: paragraphs, whole lists, whole tables, code blocks
    # A line break that starts a list item or enters/leaves a table, or between plain unindented lines:
    # never inside a table or between a list item and its indented continuation.
    r"\n(?=[^\S\n]*(?:[-*+•]|\d{1,3}[.)])[^\S\n])"
    r"|(?<!\|)\n(?=[^\S\n]*\|)"
    r"|(?<=\|)\n(?![^\S\n]*\|)"
    r"|(?<![|\n])\n(?![^\S\n]|\|)",
    r"\n",  # between table rows / continuation lines
    r"(?<=[.!?…])\s+",  # sentences
    r"(?<=[,;:])\s+",  # clauses
]  # then _fit, which cuts at words without counting each word
_LEADING_SPACE = re.compile(r"\s*")
# Long runs the tokenizer maps to one [UNK] still make unreadable chunks: cap characters per token.
MAX_CHARS_PER_TOKEN = 10
# Below this many tokens for the text itself, a section path is shortened to make room.
MIN_TEXT_TOKENS = 32


def embedding_text(title: str, chunk: Span) -> str:
    """The string embedded for a chunk: title and section once, then the passage."""
    context = CONTEXT_SEPARATOR.join(part for part in (title, chunk.section) if part)
    return f"{context}\n\n{chunk.text}" if context else chunk.text


def chunk_document(
    doc: Document, count_tokens: Callable[[str], int], max_tokens: int, overlap_tokens: int
) -> list[Span]:
    """Chunks whose ``embedding_text`` is at most ``max_tokens`` tokens by ``count_tokens``."""
    special = count_tokens("")  # [CLS]/[SEP]: counted once per embedded string, not per piece

    @lru_cache(maxsize=65_536)
    def length(text: str) -> int:
        """Tokens a piece adds to an embedded string (never fewer than its characters allow)."""
        return max(count_tokens(text) - special, math.ceil(len(text) / MAX_CHARS_PER_TOKEN))

    splitters: dict[tuple[int, int], RecursiveCharacterTextSplitter] = {}
    chunks: list[Span] = []
    for section, start, end, page in _sections(doc):
        segment = doc.body[start:end]
        if not segment.strip():
            continue
        section, budget = _fit_context(doc.title, section, count_tokens, max_tokens)
        key = (budget, min(overlap_tokens, budget // 2))
        if key not in splitters:
            splitters[key] = RecursiveCharacterTextSplitter(
                separators=SEPARATORS,
                is_separator_regex=True,
                keep_separator=True,
                chunk_size=key[0],
                chunk_overlap=key[1],
                length_function=length,
            )
        cursor = 0
        for piece in splitters[key].split_text(segment):
            # Pieces are stripped substrings in order; overlap means the next one starts after the
            # previous start, not after its end.
            offset = segment.find(piece, cursor)
            cursor = offset + 1
            _emit(doc, chunks, start + offset, piece, section, page, budget, length, count_tokens, max_tokens)
    return chunks


def _emit(doc, chunks, at, text, section, page, budget, length, count_tokens, max_tokens) -> None:
    """Append the chunk for ``body[at:at+len(text)]``, cutting it further while it is too long.

    The exact count of the embedded string is the one check every chunk gets; it catches both pieces
    no separator could cut and tokenizers whose piece counts do not add up exactly.
    """
    tidied = _tidy_keeping_code(text, _code_within(doc.code_spans, at, at + len(text)))
    chunk = Span(tidied, doc.offsets.start(at), doc.offsets.end(at + len(text)), section, page,
                 _code_marks(doc.body, doc.code_spans, at, at + len(text), tidied))
    excess = count_tokens(embedding_text(doc.title, chunk)) - max_tokens
    if excess <= 0 and len(text) <= budget * MAX_CHARS_PER_TOKEN:
        chunks.append(chunk)
        return
    if len(text) <= 1:
        return  # a single character that cannot fit is not worth a chunk (and must not loop)
    tighter = budget if length(text) > budget else max(1, budget - excess)
    for sub_at, sub_text in _fit(text, at, tighter, length):
        _emit(doc, chunks, sub_at, sub_text, section, page, tighter, length, count_tokens, max_tokens)


def _code_marks(body: str, code: list[tuple[int, int]], start: int, end: int, chunk_text: str) -> str:
    """Span.code of the chunk cut from ``body[start:end]`` (text ``chunk_text``): each code span inside it, tidied
    as the chunk is, found in the chunk text."""
    marks, cursor = [], 0
    for a, b in code[max(0, bisect.bisect_right(code, (start, start)) - 1):]:
        if a >= end:
            break
        piece = body[max(a, start) : min(b, end)] if b > start else ""
        piece = _tidy_keeping_code(piece, [(0, len(piece))])
        found = _on_own_lines(chunk_text, piece, cursor) if piece else -1
        if found >= 0:
            cursor = found + len(piece)
            marks.append(f"{found}:{cursor}")
    return " ".join(marks)


# Spaces and tabs inside code stand in as these while the chunk is tidied: indentation is what Python code means.
_CODE_SPACE, _CODE_TAB = "\ue000", "\ue001"
_HIDE_SPACING = str.maketrans({" ": _CODE_SPACE, "\t": _CODE_TAB})
_SHOW_SPACING = str.maketrans({_CODE_SPACE: " ", _CODE_TAB: "\t"})


def _code_within(code: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    """The code spans overlapping body[start:end], relative to ``start``."""
    first = max(0, bisect.bisect_right(code, (start, start)) - 1)
    return [(max(a, start) - start, min(b, end) - start) for a, b in code[first:] if a < end and b > start]


def _tidy_keeping_code(text: str, code: list[tuple[int, int]]) -> str:
    """``tidy``, except that the spacing of the code in ``text`` (spans relative to it) stays as laid out."""
    if not code:
        return tidy(text)
    parts, at = [], 0
    for a, b in code:
        parts += [text[at:a], text[a:b].translate(_HIDE_SPACING)]
        at = b
    kept = tidy("".join([*parts, text[at:]])).translate(_SHOW_SPACING)
    return "\n".join(line.rstrip() for line in kept.split("\n"))


def _on_own_lines(text: str, piece: str, cursor: int) -> int:
    """Where ``piece`` (a code block) is in ``text`` from ``cursor``: the first place where it starts and ends a
    line, as a block does, else its first occurrence (a short block, "deactivate", is also a word of the prose
    that introduces it: "To deactivate a virtual environment, type:")."""
    first = found = text.find(piece, cursor)
    while found >= 0:
        end = found + len(piece)
        if (found == 0 or text[found - 1] == "\n") and (end == len(text) or text[end] == "\n"):
            return found
        found = text.find(piece, found + 1)
    return first


def _fit(text: str, offset: int, budget: int, length: Callable[[str], int]) -> list[tuple[int, str]]:
    """Cut a piece no separator could break (a run of words without punctuation, a base64 blob).

    Windows are sized from the characters-per-token rate measured so far and end at the last
    whitespace inside them, so each window costs about one token count instead of one per word.
    """
    total = length(text)
    if total <= budget:
        return [(offset, text)]
    parts: list[tuple[int, str]] = []
    rate = len(text) / total  # characters per token, refined window by window
    position = 0
    while True:
        gap = _LEADING_SPACE.match(text, position)
        position = gap.end()
        if position >= len(text):
            return parts
        size = max(1, int(budget * rate * 0.95))
        while True:
            end = min(len(text), position + size)
            if end < len(text):
                space = max(text.rfind(" ", position, end + 1), text.rfind("\n", position, end + 1))
                end = space if space > position else end
            window = text[position:end].rstrip()
            tokens = length(window)
            if tokens <= budget or size == 1:
                break
            size = max(1, min(size - 1, int(size * budget / tokens * 0.95)))
        parts.append((offset + position, window))
        rate = len(window) / max(tokens, 1)
        position = end


def _fit_context(
    title: str, section: str, count_tokens: Callable[[str], int], max_tokens: int
) -> tuple[str, int]:
    """The section label to embed and the tokens left for text; long paths shrink before text does."""
    floor = min(MIN_TEXT_TOKENS, max_tokens // 4)
    candidates = [section]
    if SECTION_SEPARATOR in section:
        candidates.append(section.rsplit(SECTION_SEPARATOR, 1)[1])
    candidates += [one_line(candidates[-1], 60), ""]
    budget = 0
    for label in candidates:
        budget = max_tokens - count_tokens(embedding_text(title, Span("", 0, 0, label, None)))
        if budget >= floor:
            return label, budget
    if budget < 1:
        raise SkipFile(f"the title is too long for chunks of {max_tokens} tokens")
    return "", budget


def _sections(doc: Document) -> list[tuple[str, int, int, int | None]]:
    """(section path, body start, body end, page) for each run of body text between headings and pages.

    Heading lines themselves are left out: the section path carries them into the embedded text.
    The heading that merely repeats the document title is left out of paths as well.
    """
    spans: list[tuple[str, int, int]] = []
    stack: list[tuple[int, str]] = []
    title_seen = False
    path, position = "", 0
    for heading in doc.headings:
        spans.append((path, position, heading.start))
        while stack and stack[-1][0] >= heading.level:
            stack.pop()
        if not heading.text:
            pass  # an end marker: it closes the sections at its level and below, and opens none
        elif not title_seen and one_line(heading.text, MAX_TITLE_CHARS).casefold() == doc.title.casefold():
            title_seen = True
        else:
            stack.append((heading.level, heading.text))
        path = SECTION_SEPARATOR.join(text for _, text in stack)
        position = heading.end
    spans.append((path, position, len(doc.body)))

    result = []
    for path, start, end in spans:
        if start >= end:
            continue
        # Chunks never straddle a PDF page: cut sections at page starts.
        cuts = doc.page_starts[bisect.bisect_right(doc.page_starts, start) : bisect.bisect_left(doc.page_starts, end)]
        for a, b in zip([start, *cuts], [*cuts, end]):
            result.append((path, a, b, doc.page_at(a)))
    return result


# ---- reference chunks: front matter and link definitions --------------------------------------------------

_FRONT_MATTER = re.compile(r"---[ \t]*\r?\n(?:.*?\r?\n)?(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_LINK_DEFINITION = re.compile(r"^ {0,3}\[([^\]\n]{1,999})\]:[ \t]*<?(\S+?)>?(?:[ \t]+[\"'(].*)?[ \t]*\r?$", re.MULTILINE)
_LINK_USE = re.compile(r"\[((?:[^\[\]]|\[[^\]]*\])+)\]\[([^\]]*)\]")
_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)


def reference_chunks(doc: Document, count_tokens: Callable[[str], int], max_tokens: int) -> list[Span]:
    """Chunks for what a body leaves out but readers ask about: one for the front matter fields ("date:
    2024-06-09"), spanning the front matter, or else one for the title of a document of any format ("title: AI
    Alignment Overview"), spanning it where the text has it; and in markdown one per block of link reference
    definitions, each line keeping the body line that uses the link with its label ("Intro to AI Safety by Robert
    Miles [miles-intro]: https://…") and the span pointing at the definitions. All are searched and cited like any
    passage."""
    chunks: list[Span] = []
    front = _FRONT_MATTER.match(doc.text) if doc.kind == "markdown" else None
    if front and doc.metadata:
        lines = [f"{key}: {value}" for key, value in doc.metadata.items() if re.search(r"\w", value)]
        chunks += _line_chunks(doc.title, lines, front.start(), front.end(), METADATA_SECTION, count_tokens, max_tokens)
    elif doc.title.strip():
        # Every other document's title (first heading, plain-text title line, HTML <title> / h1, PDF metadata):
        # chunks leave it out (it is their context), so it is its own unit, spanning it where the text has it.
        start, end = _title_span(doc)
        chunks += _line_chunks(doc.title, [f"title: {doc.title}"], start, end, METADATA_SECTION, count_tokens, max_tokens)
    if doc.kind != "markdown":
        return chunks
    fenced = _fenced_ranges(doc.text)
    texts: dict[str, str] = {}
    for m in _LINK_USE.finditer(doc.text):
        label = (m.group(2) or m.group(1)).casefold()
        if label not in texts:  # the sentence the link is used in says what it is ("… introduce the concept …")
            line_start = _sentence_start(doc.text, doc.text.rfind("\n", 0, m.start()) + 1)
            line_end = doc.text.find("\n", m.end())
            line = doc.text[line_start : line_end if line_end != -1 else None]
            texts[label] = one_line(clean_line(clean_inline(line)), 200)
    block: list[re.Match[str]] = []
    for m in [m for m in _LINK_DEFINITION.finditer(doc.text) if not any(a <= m.start() < b for a, b in fenced)]:
        if block and doc.text[block[-1].end() : m.start()].strip():
            chunks += _link_block(doc, block, texts, count_tokens, max_tokens)
            block = []
        block.append(m)
    if block:
        chunks += _link_block(doc, block, texts, count_tokens, max_tokens)
    return chunks


def _title_span(doc: Document) -> tuple[int, int]:
    """Source offsets of the document's title: its first heading when that is the title, else the title's first
    occurrence in the body (a plain-text title line, an HTML h1), else an empty span at the start (a PDF's metadata
    title or an HTML <title> the text never shows)."""
    wanted = doc.title.casefold()
    heading = next((h for h in doc.headings if h.text), None)
    if heading is not None and one_line(heading.text, MAX_TITLE_CHARS).casefold() == wanted:
        return doc.offsets.start(heading.start), doc.offsets.end(heading.end)
    found = doc.body.casefold().find(wanted)
    if found < 0 or len(doc.body.casefold()) != len(doc.body):  # casefolding changed lengths: offsets would drift
        return 0, 0
    return doc.offsets.start(found), doc.offsets.end(found + len(doc.title))


def _sentence_start(text: str, line_start: int, max_lines: int = 3) -> int:
    """Where the sentence running into the line at ``line_start`` begins: earlier lines of a hard-wrapped
    paragraph that end mid-sentence ("Nate Soares, Benja Fallenstein, and Eliezer Yudkowski / [introduce the
    concept][…]"), at most ``max_lines`` back."""
    for _ in range(max_lines):
        if line_start == 0:
            break
        previous = text.rfind("\n", 0, line_start - 1) + 1
        line = text[previous : line_start - 1].strip()
        if not line or line[-1] in ".!?:;" or re.match(r"(?:[-*+•]|\d{1,3}[.)])\s", line) or line.startswith(("#", "[")):
            break
        line_start = previous
    return line_start


def _fenced_ranges(text: str) -> list[tuple[int, int]]:
    marks = [m.start() for m in _FENCE_LINE.finditer(text)]
    return [(a, b) for a, b in zip(marks[::2], marks[1::2])]


def _link_block(doc, block, texts, count_tokens, max_tokens) -> list[Span]:
    lines = []
    for m in block:
        label, url = m.group(1).strip(), m.group(2)
        text = texts.get(label.casefold(), "").rstrip(".!?;: ")  # one sentence with its link, not two
        line = f"{text} [{label}]: {url}" if text and text.casefold() != label.casefold() else f"{label}: {url}"
        lines.append((line, m.start(), m.end()))
    return _line_chunks(doc.title, lines, block[0].start(), block[-1].end(), LINKS_SECTION, count_tokens, max_tokens)


def _line_chunks(title, lines, start, end, section, count_tokens, max_tokens) -> list[Span]:
    """Lines grouped greedily into chunks that fit ``max_tokens`` (a line too long on its own is left out).

    ``lines`` are strings (every chunk spans ``start``-``end``) or (text, start, end) for lines with a span of
    their own (a chunk then spans its first to its last line)."""
    spans = [line if isinstance(line, tuple) else (line, start, end) for line in lines]
    groups: list[list[tuple[str, int, int]]] = []
    for line in spans:
        candidate = (groups[-1] if groups else []) + [line]
        text = "\n".join(t for t, _, _ in candidate)
        too_long = count_tokens(embedding_text(title, Span(text, 0, 0, section, None))) > max_tokens
        if not groups or len(candidate) > LINES_PER_CHUNK or too_long:
            groups.append([line])
        else:
            groups[-1] = candidate
    chunks = [Span("\n".join(t for t, _, _ in group), group[0][1], group[-1][2], section, None) for group in groups]
    return [chunk for chunk in chunks if count_tokens(embedding_text(title, chunk)) <= max_tokens]
