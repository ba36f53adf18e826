"""Small text utilities shared across the pipeline: one-line display, content terms, and sentences.

Everything here is pure text processing with no knowledge of indexes, backends or answers, so any
module may import it.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable

# Between a table row's cells where a row is one line of text ("Level: INFO · Numeric value: 20": rag/units.py,
# rag/loaders/tables.py); an answer quoting the row keeps it one claim (_ANSWER_BREAK).
CELL_SEPARATOR = " · "
_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")
_STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it its of on or such that the their then there these they this "
    "to was will with what who whom whose which when where why how does do did can could would should about "
    "tell me explain describe i you we our your he she his her them than from has have had been being were not no "
    "so any all some also only just whatever".split()
)


def one_line(text: object, limit: int | None = None) -> str:
    """``text`` on one line (whitespace runs collapsed), cut at a word with "…" past ``limit`` characters."""
    flat = " ".join(str(text).split())
    if limit is None or len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] or flat[:limit]
    return cut.rstrip(" ,;:-") + "…"


_STEMMERS = threading.local()


def stemmer():
    """This thread's English Snowball stemmer: PyStemmer objects must not be shared between threads."""
    instance = getattr(_STEMMERS, "english", None)
    if instance is None:
        import Stemmer

        instance = _STEMMERS.english = Stemmer.Stemmer("english")
    return instance


# "can't", "doesn't": function words too, which the index never holds as one token (it splits them), so a question's
# "Why can't …" would otherwise weigh "can't" as its rarest term
_NEGATED = re.compile(r"n['’]t$")


# British spellings read as American ones ("colour", "initialise", "behaviour", "centre"): a question and the pages it
# asks about may spell a word either way, and one site may write both. One pass over the text: content words are
# taken from every unit an answer judges.
_BRITISH = re.compile(
    r"\b(?:(colo|behavio|favo|hono|neighbo|flavo|humo|labo|harbo|rumo|endeavo|odo|vigo|rigo|savo)ur"
    r"|(initial|serial|deserial|normal|custom|organ|optim|recogn|real|special|synchron|summar|final|minim|maxim|"
    r"priorit|categor|author|visual|local|capital|token|parameter|standard|util|emphas|memo|sanit|random|modern|stabil|"
    r"general|neutral|vector)is(?=(?:e|es|ed|ing|ation|ations|er|ers)\b)"
    r"|(analy)s(?=(?:e|ed|ing)\b)|(cent|met|fib|theat)re(?=[sd]?\b)|(licen)ce(?=[sd]?\b)|(catalog)ue(?=[sd]?\b))")


def _american(match: re.Match[str]) -> str:
    colour, ise, analyse, centre, licence, catalogue = match.groups()
    if colour:
        return f"{colour}r"
    if ise:
        return f"{ise}iz"
    if analyse:
        return f"{analyse}z"
    if centre:
        return f"{centre}er"
    return f"{licence}se" if licence else catalogue


def content_words(text: str) -> list[str]:
    """Lower-cased words minus stop words, first occurrence order, British spellings read as American ones. A
    typographic apostrophe is read as a straight one, so that "finder’s" is the possessive of "finder" to the stemmer,
    as "finder's" is."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(_BRITISH.sub(_american, text.lower().replace("’", "'"))):
        if word not in _STOPWORDS and word not in seen and not _NEGATED.search(word):
            seen[word] = None
    return list(seen)


@functools.lru_cache(maxsize=4096)
def terms(text: str) -> frozenset[str]:
    """Stemmed content words, for lexical overlap; cached, as an answer's checks read the same texts many times."""
    return frozenset(stemmer().stemWords(content_words(text)))


def overlap(claim: str, passage: str) -> float:
    """Share of the claim's content terms that occur in the passage."""
    claim_terms = terms(claim)
    return len(claim_terms & terms(passage)) / len(claim_terms) if claim_terms else 0.0


_DUNDER = re.compile(r"((?<![\w*])__[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*__(?:\.\w+)?(?![\w*]))")


def _without_emphasis(text: str) -> str:
    # Bold is "**" or "__" around words, not touching other words: not Python's power operator ("Since ** has
    # higher precedence than -, -3**2 …"), not inside "_classname__spam", not in "__spam (…) is …"
    text = re.sub(r"(?<!\w)(\*\*|__)(?=\S)(.+?)(?<=\S)\1(?!\w)", r"\2", text)
    # Emphasis opens before a word and closes after one: "[_ and _]" is markup a manual teaches, kept as written.
    # "*" emphasis holds no "*" and touches none: "f(*args, **kwargs)" is code.
    text = re.sub(r"(?<![\w\[*])\*(\w(?:[^*]*?[^\s\[*])?)\*(?![\w\]*])", r"\1", text)
    return re.sub(r"(?<![\w\[])_(\w(?:.*?[^\s\[])?)_(?![\w\]])", r"\1", text)


# A bracketed number is an answer's citation mark ("… [1]"), a document's footnote mark ("the paper[1]") or code,
# kept as written: an index after code ("sys.argv[0]", "heap[0]", "my_list[5]", "f()[2]", "x[1]") or a list
# assigned, compared or passed to a call ("x = [1, 2]", "[1,2] < [1,2,3] is true", "reduce(lambda x, y: x+y, [1, 2,
# 3, 4, 5])").
_BRACKETED_NUMBER = re.compile(r"\[(\d+)\]")
_CODE_TAIL = re.compile(r"[\w.()\[\]]*$")
_NUMBER_LIST = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")
# An operand: after "x =" or "x +=", a comparison or "+" spaced as in code, or before one; not after the grammar's
# "::=", "80%+" or C's "PyObject *" ending a claim
_OPERAND_BEFORE = re.compile(r"(?:\w\s*(?:[-+*/%&|^@]|//|\*\*|<<|>>)?=|\s(?:[<>!=]=|[<>+]))\s*$")
_OPERAND_AFTER = re.compile(r"\s+(?:[<>!=]=|[<>+])\s")
_OPEN_CALL = re.compile(r"\w\([^()\n]*$")  # a call's brackets still open on this line: "reduce(lambda x, y: "


def is_code(text: str, at: int) -> bool:
    """Is the bracketed number (or list of numbers) at ``at`` of ``text`` code, not a citation or footnote mark?"""
    if not (listed := _NUMBER_LIST.match(text, at)):
        return False
    line = text[text.rfind("\n", 0, at) + 1:at]
    if (_OPERAND_BEFORE.search(line) or _OPERAND_AFTER.match(text, listed.end())
            or _OPEN_CALL.search(line) and text[listed.end():listed.end() + 1] in (")", ",")):
        return True
    if not (match := _BRACKETED_NUMBER.match(text, at)):
        return False
    before = re.sub(r"(?:\[\d+\])+$", "", _CODE_TAIL.search(text, max(0, at - 80), at).group(0))
    return re.search(r"\w", before) is not None and (
        match.group(1) == "0" or len(before) == 1 or re.search(r"[._]\w|[)\]]$", before) is not None)


def citation_marks(text: str) -> list[re.Match[str]]:
    """The [n] marks of ``text`` that cite (or, in a document, footnote) something: not the indices after code."""
    return [match for match in _BRACKETED_NUMBER.finditer(text) if not is_code(text, match.start())]


def sub_citation_marks(text: str, replace: Callable[[re.Match[str]], str]) -> str:
    """``text`` with each citation mark replaced by ``replace(match)``; indices after code stay as written."""
    return _BRACKETED_NUMBER.sub(
        lambda match: match.group(0) if is_code(text, match.start()) else replace(match), text)


def without_citation_marks(text: str) -> str:
    """``text`` with its citation marks (and the space before each) taken out."""
    marks = citation_marks(text)
    for match in reversed(marks):
        start = len(text[:match.start()].rstrip())
        text = text[:start] + text[match.end():]
    return text


def clean_line(line: str) -> str:
    """Markdown residue out of a passage line: what a reader should see quoted. HTML is not residue: the loaders took
    the markup out, so what looks like a tag is text the reader sees ("(?P<name>...)", "import <module>")."""
    line = re.sub(r"\[([^\]]+)\]\[[^\]]*\]|\[([^\]]+)\]\([^)]*\)", lambda m: m.group(1) or m.group(2), line)
    line = without_citation_marks(line)  # a bare [n] in a document would read as one of our citations
    # Python's special names (__slots__, __init__.py) are words, not bold: emphasis is taken off around them.
    line = "".join(part if _DUNDER.fullmatch(part) else _without_emphasis(part) for part in _DUNDER.split(line))
    if line.lstrip().startswith("|"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        line = "" if all(set(c) <= set("-: ") for c in cells) else ": ".join(c for c in cells if c)
    line = re.sub(r"^\s*(?:#{1,6}\s+|[-*•+]\s+|\d+[.)]\s+)", "", line)
    return " ".join(line.split())


def passage_sentences(text: str) -> list[str]:
    """Sentences of a passage, hard-wrapped lines rejoined, headings and link definitions dropped."""
    blocks: list[str] = []
    current = ""
    for raw in text.splitlines():
        if re.match(r"^\s*\[[^\]]+\]:\s*\S+", raw) or re.match(r"^\s*#", raw):
            blocks.append(current)
            current = ""
            continue
        starts_block = not raw.strip() or re.match(r"^\s*(?:[-*•+]\s|\d+[.)]\s|\|)", raw)
        line = clean_line(raw)
        continues = (
            current
            and not starts_block
            # a line going on in lower case, after a comma, dash or lead-in colon, or quoting after a word ("range
            # from / “…”"), or after a word no sentence or heading ends with ("Researchers at / OpenAI found …"), or
            # going on with a name in code after a word ("a descriptor whose / __get__() method")
            and (line[:1].islower() or current[-1:] in ",;:—–-(" or current[-1:].isalnum() and line[:1] in "“\"‘("
                 or _last_word(current) in CONTINUING_WORDS or current[-1:].islower() and line[:1] in "_`")
        )
        if continues:
            current = f"{current} {line}"
        else:
            blocks.append(current)
            current = line
    blocks.append(current)
    sentences: list[str] = []
    for block in blocks:
        for sentence in (s.strip() for s in _SENTENCE_BREAK.split(block) if s.strip()):
            if sentences and _inside_listed_title(sentences[-1], sentence):
                sentences[-1] = f"{sentences[-1]} {sentence}"
            else:
                sentences.append(sentence)
    return sentences


# Words a sentence or a heading does not end with: a line ending with one is hard-wrapped mid-sentence.
CONTINUING_WORDS = frozenset("a an the and or but nor of to in on for from with by at as that than into onto upon via "
                             "whether which whose whom its their our your".split())


def _last_word(text: str) -> str:
    return text.rsplit(None, 1)[-1].casefold() if text.strip() else ""


# A full stop, "!" or "?" and a space before what opens a sentence; not the stop of "i.e." or "e.g.", which go on
# ("… if there is no module state, i.e. PyModuleDef.m_size was zero.").
_SENTENCE_END = r"(?<=[.!?])(?<!\b[iI]\.[eE]\.)(?<!\b[eE]\.[gG]\.)"
_SENTENCE_BREAK = re.compile(rf"{_SENTENCE_END}\s+(?=[\"“(A-Z0-9])")


def _inside_listed_title(before: str, piece: str) -> bool:
    """Is ``piece`` the rest of a title in a list after a lead-in ("… worth watching: Deceptive Misaligned
    Mesa-Optimisers? It’s More Likely Than You Think…, and We Were Right! Real Inner Misalignment."), cut at the
    title's own "?" or "!"? Then the sentence before ends with it, holds a lead-in colon, and the piece is in Title
    Case throughout ("Nate Soares, Benja Fallenstein, and Eliezer Yudkowski introduce the concept …" is not)."""
    if not before.endswith(("?", "!")) or ": " not in before:
        return False
    words = [w for w in piece.split() if len(w) > 3 or not w.islower()]
    return len(words) >= 2 and all(w[:1].isupper() for w in words)


# CommonMark's fence lines: a backtick fence's info string holds no backtick
_FENCE_LINE = re.compile(r"^[ \t]{0,3}(`{3,}(?=[^`\n]*$)|~{3,})[^\n]*$", re.MULTILINE)


def fenced_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each fenced code block of a Markdown answer, fences included; one left open runs to the end
    (an answer still streaming). Quoted code keeps its brackets, spacing and sentence ends as written."""
    spans: list[tuple[int, int]] = []
    opened: tuple[int, str] | None = None
    for m in _FENCE_LINE.finditer(text):
        fence = m.group(1)
        if opened is None:
            opened = m.start(), fence
        elif fence[0] == opened[1][0] and len(fence) >= len(opened[1]) and not m.group(0).strip().strip(fence[0]):
            spans.append((opened[0], m.end()))
            opened = None
    if opened is not None:
        spans.append((opened[0], len(text)))
    return spans


def code_fence(code: str) -> str:
    """A fence longer than any backtick run inside ``code``, so that the code cannot close it."""
    return "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", code)), default=0))


def quoted_code(code: str, marker: int) -> str:
    """Code as an answer quotes it: a fenced block exactly as written, its [n] marker on the line after it (brackets
    inside code are never read as citations)."""
    fence = code_fence(code)
    return f"{fence}\n{code}\n{fence}\n[{marker}]"


def outside_code(text: str, change: Callable[[str], str]) -> str:
    """``text`` with ``change`` applied to its prose only, fenced code left as it is."""
    out, at = [], 0
    for start, end in fenced_spans(text):
        out += [change(text[at:start]), text[start:end]]
        at = end
    out.append(change(text[at:]))
    return "".join(out)


def split_sentences(text: str) -> list[str]:
    """Sentences of an answer, each keeping the [n] markers that follow it; a fenced code block is one sentence."""
    out: list[str] = []
    at = 0
    for start, end in fenced_spans(text):
        out += _prose_sentences(text[at:start], out)
        out.append(text[start:end].strip())
        at = end
    out += _prose_sentences(text[at:], out)
    return out


# An answer's sentences end at _SENTENCE_END, but not at the stop of "etc.", "vs." or "cf." or at an ellipsis before a
# word in lower case, which goes on ("… such as ValueError, TypeError etc. may also be raised)", "a sequence of if...
# elif... else"): the units an answer quotes are split so (_SENTENCE_BREAK), and its claims must be too.
# Nor between a table row's cells ("… multiple processes. · How to avoid collecting it: …"): a row is one claim.
_ANSWER_BREAK = re.compile(rf"{_SENTENCE_END}(?!{re.escape(CELL_SEPARATOR)})"
                           r"(?:(?<!\betc\.)(?<!\bvs\.)(?<!\bcf\.)(?<!\.\.\.)|(?=\s+[^\sa-z]))\s+|\n+")


def _prose_sentences(text: str, before: list[str]) -> list[str]:
    out: list[str] = []
    for piece in _ANSWER_BREAK.split(text):
        lead = re.match(r"^\s*((?:\[\d+\]\s*)+)", piece)
        if lead and (out or before):
            target = out if out else before  # markers after a code block cite the block
            target[-1] = f"{target[-1]} {lead.group(1).strip()}"
            piece = piece[lead.end():]
        if piece.strip():
            out.append(piece.strip())
    return out
