"""The answer pipeline: question (+ chat history) -> query -> passages -> backend -> checked citations.

``answer_stream`` yields ``AnswerEvent(kind="delta", text=...)`` while the answer is produced (tokens for
LLM backends, sentences for ``extractive``), then one ``AnswerEvent(kind="done", answer=Answer)``.
With ``announce_retrieval`` a ``AnswerEvent(kind="retrieved", hits=...)`` comes first, as soon as the passages are
found, so a UI can show them while the answer is still being written.
Citation markers are renumbered already in the deltas, so a client that prints deltas and then the
citation list shows matching numbers; ``Answer.answer`` is the authoritative final text.

History is a list of OpenAI-style messages (see rag/prompt.py). The pieces live one concern per module:
rag/text.py (sentences and terms), rag/citations.py (markers and the support check), rag/prompt.py
(what a chat model is shown) and rag/backends/ (who writes the answer).
"""

from __future__ import annotations

import builtins
import re
import sys
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from rag.citations import MarkerRewriter, attribute, check_claims, locate_all, says_absent
from rag.grounding import FOCUS_MIN, judge, written_text
from rag.injection import instruction_like
from rag.passage import Citation, Hit, Passage
from rag.prompt import chat_history
from rag.question import (
    EXPANSION, Question, acronyms, analyse, asked_acronym, asked_clause, depends_on_conversation, focus_phrase,
    handled_exceptions, large_index, mentions, offered_as_example, own_names, person_names, proper_names, quoted_names,
    spelled_out, titled_by, type_phrase,
)
from rag.retrieve import FUSION_DEPTH
from rag.text import content_words, outside_code, quoted_code, stemmer
from rag.units import CODE, HEADING, Unit, text_key, units_of

if TYPE_CHECKING:
    from rag.backends import AnswerBackend
    from rag.embed import Embedder

# Relevance gate, measured on bench/questions.json over corpus/ ("calibration" in bench/results/answers.json):
# best dense cosine between the query and any retrieved sentence. Answerable questions score >= 0.38,
# off-corpus ones <= 0.19. Whole-passage cosine separates worse (0.25 vs 0.15): a factoid is one sentence of a
# 200-token chunk.
RELEVANCE_MIN = 0.26
# A proper name the question writes must be written by one of the passages found when the index holds it this rarely
# (BM25 IDF; in the Python docs "Python" is 1.3, "Windows" 3.5, "Rust" 7.7): see rare_names
RARE_NAME_IDF = 2.0
# The values a yes/no question asks whether something gives ("Will isinstance(buf, Hashable) then say False?"): the
# passage answering says what holds ("… would be incorrectly identified as hashable"), not the value's name.
_CONSTANTS = frozenset({"True", "False", "None"})

# What an answer is, for people: its cited sentences are backed by the passages ("verified"); something was
# answered but the check could not back it ("unverified"); or the documents do not hold the answer ("not_found").
VERIFIED, UNVERIFIED, NOT_IN_DOCUMENTS = "verified", "unverified", "not_found"

NOT_FOUND = "The indexed documents do not appear to answer this question."
UNVERIFIED_NOTE = "(No statement above is supported by the passages it cites; treat it as unverified.)"


@dataclass
class Answer:
    answer: str
    grounded: bool
    backend: str
    citations: list[Citation]
    uncited: list[Hit]  # retrieved but not cited, in retrieval order
    timings: dict[str, float]
    query: str = ""  # the standalone search query actually used (differs from the question for follow-ups)
    state: str = NOT_IN_DOCUMENTS  # VERIFIED, UNVERIFIED or NOT_IN_DOCUMENTS

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "grounded": self.grounded,
            "state": self.state,
            "backend": self.backend,
            "citations": [{**citation.to_dict(), "instruction_like": instruction_like(citation.passage.text)}
                          for citation in self.citations],
            "timings": self.timings,
            # "retrieved" is the JSON name clients already read: the hits that were retrieved but not cited.
            "retrieved": [{**hit.to_dict(), "instruction_like": instruction_like(hit.passage.text)}
                          for hit in self.uncited],
        }


@dataclass
class AnswerEvent:
    kind: Literal["retrieved", "delta", "done"]
    text: str = ""
    answer: Answer | None = field(default=None, repr=False)
    hits: list[Hit] = field(default_factory=list, repr=False)  # for "retrieved": the passages, best first


class MemoEmbedder:
    """An Embedder that encodes each distinct text once per answer: the relevance gate, the extractive
    backend and the support check all look at the same passage sentences. Texts whose vectors the index
    stored (``stored``: text key -> vector, rag/units.py ``text_key``) are not encoded at all."""

    def __init__(self, embedder: Embedder, stored: Mapping[bytes, np.ndarray] | None = None):
        self.embedder = embedder
        self.dim = embedder.dim
        self._stored = stored or {}
        self._vectors: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        missing = []
        for text in dict.fromkeys(t for t in texts if t not in self._vectors):
            stored = self._stored_vector(text) if self._stored else None
            if stored is None:
                missing.append(text)
            else:
                self._vectors[text] = stored
        if missing:
            self._vectors.update(zip(missing, self.embedder.encode(missing)))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts])

    def _stored_vector(self, text: str) -> np.ndarray | None:
        """The stored vector of the unit ``text`` is, or that a claim quotes: an extractive answer ends each
        quoted unit with a full stop (rag/backends/extractive.py), which is all the claim adds or drops."""
        for variant in (text, text[:-1] if text.endswith(".") else f"{text}."):
            if (vector := self._stored.get(text_key(variant))) is not None:
                return vector
        return None

    def encode_query(self, text: str) -> np.ndarray:
        """The question's vector as retrieval computed it (the embedder remembers recent queries)."""
        if text not in self._vectors:
            self._vectors[text] = self.embedder.encode_query(text)
        return self._vectors[text]


def relevance(query: str, hits: Sequence[Hit], embedder: Embedder | MemoEmbedder) -> float:
    """Best dense cosine between the query and any answer unit (sentence, row, item, field) of the passages."""
    units = units_of([hit.passage for hit in hits])
    if not units:
        return 0.0
    return float((embedder.encode([unit.text for unit in units]) @ embedder.encode_query(query)).max())


def standalone_query(question: str, history: Iterable[dict[str, Any]], backend: AnswerBackend) -> str:
    """The search query: the question itself unless it depends on the conversation (a pronoun, ellipsis,
    "what about …"); then the backend's rewrite, or the previous question's terms prepended."""
    turns = chat_history(history)
    previous = [message["content"] for message in turns if message["role"] == "user"]
    if not previous or not depends_on_conversation(question):
        return question
    asked_last = max(i for i, message in enumerate(turns) if message["role"] == "user")
    replies = [message["content"] for message in turns[asked_last:] if message["role"] == "assistant"]
    # "he" / "she" is the person the last answer named ("Takeoff speeds by Paul Christiano …" -> Paul Christiano).
    people = person_names(replies[-1]) if replies and _PERSONAL_PRONOUN.search(question) else []
    return backend.rewrite(question, turns) or " ".join(
        [word for word in content_words(previous[-1]) if word not in content_words(question)] + people + [question]
    )


_PERSONAL_PRONOUN = re.compile(r"\b(?:he|him|his|she|her|hers)\b", re.IGNORECASE)


def _tidy(text: str) -> str:
    return outside_code(text, _tidy_prose).strip()


def _tidy_prose(text: str) -> str:
    """A model's stray space before punctuation out ("… [1] .", "the end ."), but not a mark written as a word of the
    sentence ("Python for .NET", "the ? operator", "applies to the ? at the end")."""
    text = re.sub(r"(?<=\])[ \t]+([.,;:!?])(?=\s|$)", r"\1", text)
    text = re.sub(r"[ \t]+([.,;:!?])(?=$|[ \t]*\n|[ \t]+[^\sa-z])", r"\1", text)
    return re.sub(r"[ \t]{2,}", " ", text)


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def answer_stream(
    question: str,
    history: Iterable[dict[str, Any]] = (),
    *,
    retrieve: Callable[[str, int], list[Hit]],
    embedder: Embedder,
    backend: AnswerBackend,
    k: int = 5,
    idf: Callable[[list[str]], list[float]] | None = None,
    titles: Callable[[], dict[str, str]] | None = None,
    document_text: Callable[[str], str] | None = None,
    unit_vectors: Callable[[list[int]], Mapping[bytes, np.ndarray]] | None = None,
    announce_retrieval: bool = False,
) -> Iterator[AnswerEvent]:
    """Stream an answer to ``question``; see the module docstring for events and history format.

    ``idf`` weights question terms by rarity (the index's BM25 statistics; uniform without it); ``titles`` gives
    every indexed document's title by source, to tell which documents a question names ("the overview");
    ``document_text`` gives a source's stored text, to place each quote exactly (``quote_start``/``quote_end``);
    ``unit_vectors`` the vectors the index stored for the retrieved chunks' answer units (Store.unit_vectors),
    so that only the question is embedded (units it has none for are embedded here).
    Raises ValueError for an empty question and rag.backends.BackendError when the backend fails.
    """
    question = " ".join(question.split())
    if not question:
        raise ValueError("the question is empty")
    start = time.perf_counter()
    timings: dict[str, float] = {}
    query = standalone_query(question, history, backend)
    timings["rewrite_ms"] = _ms(start)
    retrieval_start = time.perf_counter()
    hits = list(retrieve(query, k))
    timings["retrieval_ms"] = _ms(retrieval_start)
    if announce_retrieval:
        yield AnswerEvent("retrieved", hits=hits)
    asked = analyse(query, idf, titles() if titles else None)
    if asked.type == EXPANSION and (acronym := asked_acronym(query)):
        hits = with_expansion(hits, acronym, retrieve, k)
    passages = [hit.passage for hit in hits]
    written = [written_text(passage) for passage in passages]
    names = names_as_written(asked.names, written, query)
    sources: dict[str, str | None] = {}  # source -> its stored text, read once for the names and the quotes

    def unwritten(text: str) -> tuple[str, ...]:
        return unwritten_names(text, written, rare_names(text, idf), subject_acronyms(text, idf))

    # Each part of a question asking two things lacks what it asks about itself, and what any part names that no
    # indexed passage holds ("Where does MicroPython fit in, and which parts … does it leave out?")
    unknown = tuple(dict.fromkeys(name for part in asked.parts for name in part.unknown))
    parts = tuple(replace(part, unwritten=unwritten(part.text), unknown=unknown) for part in asked.parts)
    asked = replace(asked, unwritten=unwritten(query), names=names, parts=parts,
                    deferred=deferring(names, passages), discussed=discussing(names, passages),
                    documented=documenting(names, passages,
                                           lambda source: _source_text(source, document_text, sources)))

    embedder = MemoEmbedder(embedder, unit_vectors([hit.passage.id for hit in hits]) if unit_vectors and hits else None)
    # The gate reads the chunk search's top k only: the passages unit search adds hold the sentence nearest the
    # query by construction, so they would pass any vague question ("Where has it been observed?").
    if relevance(query, hits[:k], embedder) < RELEVANCE_MIN:
        text = f"{NOT_FOUND} The closest passages are listed below." if hits else f"{NOT_FOUND} Nothing matched."
        timings["first_token_ms"] = _ms(start)
        yield AnswerEvent("delta", text)
        timings["total_ms"] = _ms(start)
        yield AnswerEvent("done", answer=Answer(text, False, backend.name, [], hits, timings, query))
        return

    rewriter = MarkerRewriter(len(hits))
    emitted: list[str] = []
    for piece in backend.answer(asked, passages, embedder):
        out = rewriter.feed(piece)
        if out:
            timings.setdefault("first_token_ms", _ms(start))
            emitted.append(out)
            yield AnswerEvent("delta", out)
    if tail := rewriter.flush():
        emitted.append(tail)
        yield AnswerEvent("delta", tail)
    timings.setdefault("first_token_ms", _ms(start))
    timings["generation_ms"] = _ms(start) - timings["first_token_ms"]

    text = _tidy("".join(emitted))
    order = list(rewriter.order)
    if text and not order and not says_absent(text):
        text, order = attribute(text, passages, embedder)  # a model that wrote no [n] markers
    cited = [passages[original - 1] for original in order]
    verdicts = check_claims(text, cited, asked, embedder, passages)
    grounded = any(v.supported and v.answers for v in verdicts) and not says_absent(text)
    state = VERIFIED if grounded else NOT_IN_DOCUMENTS if not text or says_absent(text) else UNVERIFIED
    if not grounded and not says_absent(text):
        decline, quote = declined(asked, passages, embedder)
        if not text:  # the extractive backend found nothing that answers: say what the documents do say
            text = decline
            if quote is not None:  # code as the answers show it, a fenced block: quoted inline it loses its lines
                text = (f"{decline} The closest they come:\n\n{quoted_code(quote.text, 1)}" if quote.kind == CODE
                        else f'{decline} The closest they come: "{quote.text}" [1].')
                order = [quote.passage + 1]
                cited = [passages[quote.passage]]
                verdicts = check_claims(text, cited, asked, embedder, passages)
            yield AnswerEvent("delta", text)
        else:
            note = UNVERIFIED_NOTE if not any(v.supported for v in verdicts) else f"({decline})"
            text = f"{text}\n\n{note}"
            yield AnswerEvent("delta", f"\n\n{note}")
    elif not text:
        text = NOT_FOUND
        yield AnswerEvent("delta", text)
    citations = []
    for n, (passage, verdict) in enumerate(zip(cited, verdicts), 1):
        quote_start, quote_end = locate_all(verdict.quotes, passage, _source_text(passage.source, document_text, sources))
        citations.append(Citation(n, passage, verdict.supported, verdict.answers, quote_start, quote_end))
    uncited = [hit for original, hit in enumerate(hits, 1) if original not in order]
    timings["total_ms"] = _ms(start)
    yield AnswerEvent("done", answer=Answer(text, grounded, backend.name, citations, uncited, timings, query, state))


# How deep to look for the passage that spells an acronym out when the top passages only use it: every candidate
# hybrid retrieval fuses (rag.retrieve.FUSION_DEPTH), since the acronym alone is a poor query for meaning.
EXPANSION_DEPTH = FUSION_DEPTH


def with_expansion(hits: list[Hit], acronym: str, retrieve: Callable[[str, int], list[Hit]], k: int) -> list[Hit]:
    """The hits, with the best passage spelling ``acronym`` out in place of the last one when none of them does:
    a text expands an acronym once and uses it everywhere after, so "What does AGI stand for?" matches the uses."""
    def spells(hit: Hit) -> bool:
        return spelled_out(f"{hit.passage.section}\n{hit.passage.text}", acronym)

    if any(spells(hit) for hit in hits):
        return hits
    found = next((hit for hit in retrieve(acronym, EXPANSION_DEPTH) if spells(hit)), None)
    return hits if found is None else [*hits[: k - 1], found]


def rare_names(question: str, idf: Callable[[list[str]], list[float]] | None) -> tuple[str, ...]:
    """The proper names the question writes that the index holds rarely (IDF >= RARE_NAME_IDF): passages answering
    "Can I write an extension module in Rust instead of C?" write "Rust", or they answer about C. A name on most
    pages ("Python" in the Python docs) is the documents' subject, which passages need not repeat; an exception class
    the asker's code raises or catches is theirs (question.handled_exceptions)."""
    if idf is None:
        return ()
    handled = handled_exceptions(question)
    return tuple(name for name in proper_names(question)
                 if name not in handled and name not in _CONSTANTS and _name_idf(name, idf) >= RARE_NAME_IDF)


def subject_acronyms(question: str, idf: Callable[[list[str]], list[float]] | None) -> tuple[str, ...]:
    """The acronyms the question writes that most of the index's passages hold (IDF < RARE_NAME_IDF, as for
    rare_names): "the porting HOWTO" in the Python docs, whose pages are HOWTOs, is their subject too, which the
    passage answering need not write (unwritten_names' ``subject``). Only in a large index: in a few notes a word
    that is an acronym too ("PUT") is common as the word. Python-docs set: 1486 -> 1487 of 2351 cited, 162 -> 161
    falsely declined, declined unchanged."""
    if idf is None or not large_index(idf([""])[0]):
        return ()
    return tuple(name for name in acronyms(question) if _name_idf(name, idf) < RARE_NAME_IDF)


def _name_idf(name: str, idf: Callable[[list[str]], list[float]]) -> float:
    """How rarely the index holds a name, as the word BM25 indexes it."""
    return idf([stemmer().stemWord(name.lower())])[0]


def unwritten_names(question: str, texts: Sequence[str], rare: Sequence[str] = (),
                    subject: Collection[str] = ()) -> tuple[str, ...]:
    """The acronyms and ``rare`` names the question asks about that none of the passages' ``texts``
    (grounding.written_text) writes: "How do I send an HTTP PUT
    request with urllib.request?" is not answered by pages about urllib that never write PUT, however close their
    other words, nor a question about extension modules in Rust by pages about them in C. Only the clause that asks
    counts: what sets it up ("I read a CSV file that Excel saved …", "My regular expression START(.*)END finds
    nothing …") is the asker's situation, which the answer need not repeat, and a name its code binds ("REVIEW =
    auto()") is the asker's own wherever the question writes it. (Required of any one
    passage, not of the one quoted: a name may be written in the chunk beside the answer, a link definition or a
    title.) Acronyms are matched as written (or spelled out): the index's statistics behind Question.unknown
    fold case, and "put" is a common word; names as a word in any case ("Tkinter", "tkinter") or as written inside
    one ("TeX" in "LaTeX")."""
    # Not the setup: "I read a CSV file that Excel saved as UTF-8, …. How do I …?"
    whole, question = question, asked_clause(question)
    rare = [name for name in rare if name in question]
    asked = acronyms(question)
    # "… REVIEW = auto() and DONE = auto(). Which values do REVIEW and DONE end up with?": names the setup's code binds
    bound = own_names(whole[: whole.rfind(question)]) if asked else frozenset()
    unwritten = [acronym for acronym in asked if acronym not in bound and acronym not in subject
                 and not any(mentions(acronym, text) or spelled_out(text, acronym)
                            or _in_lower_case(acronym, text, whole) for text in texts)]
    unwritten += [name for name in rare
                  if not any(name in text or re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE) for text in texts)]
    unwritten += [written for written, keyword, value in suggested_settings(question)
                  if not any(_sets(text, keyword, value) for text in texts)]
    # A numbered standard or proposal is what it is by its number, wherever the question names it ("… a JSON Patch
    # (RFC 6902) … How do I do that in Python?"): pages citing other PEPs do not speak of PEP 659. Python-docs set:
    # 545 -> 547 of 704 declined, cited unchanged (one answer citing no evidence declined instead).
    unwritten += [numbered for numbered, series, number in numbered_documents(whole)
                  if not any(re.search(rf"\b{series}[\s-]?{number}\b", text) for text in texts)]
    suggested = suggested_names(question)  # one of them written is enough: "--index-url or --extra-index-url"
    if not any(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) for name in suggested for text in texts):
        unwritten += suggested
    return tuple(unwritten)


_NUMBERED_DOCUMENT = re.compile(r"\b(PEP|RFC)[\s-]?(\d{1,5})\b")


def numbered_documents(question: str) -> list[tuple[str, str, str]]:
    """The PEPs and RFCs the question names, as written, with their series and number."""
    return list(dict.fromkeys((match.group(0), match.group(1), match.group(2))
                              for match in _NUMBERED_DOCUMENT.finditer(question)))


def _in_lower_case(acronym: str, text: str, question: str) -> bool:
    """Does the text write an acronym with no vowel in lower case ("https locations", "zlib.crc32()")? One with a
    vowel may be a word in lower case ("PUT" / "put"); "https" or "crc" is none. So is one the question writes in
    lower case too: "student objects with gpa and name attributes … the best GPA" names student.gpa."""
    lower = re.escape(acronym.lower())
    return ((not re.search(r"[AEIOUY]", acronym) or re.search(rf"\b{lower}\b", question) is not None)
            and re.search(rf"\b{lower}(?![a-z])", text) is not None)


def suggested_settings(question: str) -> list[tuple[str, str, str]]:
    """The keyword arguments (as written, keyword, value) of the call a question suggests ("…, for example with
    action='append'?"): the asker's guess at how it is done, which pages that never set it so do not document."""
    return [(match.group(0), match.group(1), match.group(2).strip("'\""))
            for match in _SETTING.finditer(_suggestion(question))]


def suggested_names(question: str) -> list[str]:
    """The command-line options, functions, attributes and packages the question suggests the way to ("…, for example
    with --index-url or --extra-index-url?", "…, for example with join(timeout) and terminate()?", "…, for example
    through the match object's lastgroup attribute?", "…, for example with the criterion crate?"): like a suggested
    setting, pages that write none of them do not say how it is done."""
    suggestion = _RUN_MODULE.sub(" ", _suggestion(question))  # "python -m venv --upgrade" suggests --upgrade
    return [m.group(1) or m.group(2) or m.group(3) or m.group(4) for m in _SUGGESTED_NAME.finditer(suggestion)
            if not m.group(4) or content_words(m.group(4))]  # not "a module"


def _suggestion(question: str) -> str:
    """What follows "for example with" (or "e.g. using", …), or a command, option or setting after "such as" ("…, such
    as python -I for isolated mode?", "Is there a command-line option, such as -q, that …?", "…, such as force=True?"):
    the way the asker suggests, or ""."""
    suggested = _SUGGESTED.search(question)
    return (suggested.group(1) or suggested.group(2)) if suggested else ""


_SUGGESTED_NAME = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)|\b([A-Za-z_][\w.]*)\("
                             r"|\b([a-z_]\w*)\s+(?:attribute|method|property)\b"
                             r"|\b([a-z][\w.-]*)\s+(?:crate|package|library|module)\b")
_RUN_MODULE = re.compile(r"(?<![\w-])-m\s+[\w.]+")  # how a command runs a module: the module is what it names


def _sets(text: str, keyword: str, value: str) -> bool:
    return re.search(rf"\b{re.escape(keyword)}\s*=\s*['\"]?{re.escape(value)}(?![\w.])", text) is not None


_SUGGESTED = re.compile(r"\b(?:for\s+(?:example|instance)|e\.g\.),?\s+"
                        r"(?:with|using|through|via|by\s+(?:passing|calling|using|wrapping|setting|adding))\s+(.+)$"
                        r"|\bsuch\s+as\s+((?:python3?|pip3?|py)\s.+|[A-Za-z_]\w*\s*=.+|--?[A-Za-z].*)$", re.IGNORECASE)
_SETTING = re.compile(r"(?<![\w.=!<>])([A-Za-z_]\w*)\s*=(?!=)\s*('[^']*'|\"[^\"]*\"|[\w.-]+)")


def names_as_written(names: Sequence[str], texts: Sequence[str], question: str = "") -> tuple[str, ...]:
    """The code names asked about, as the passages (their ``texts``: grounding.written_text) can write them.

    A dotted one whose qualifier is the asker's own object is reduced to the attribute it names: "my_list.sort()",
    "mylist.len"; "x.append" when no passage writes an "x"; one the question binds ("groups = defaultdict(list) …
    groups.get()", "def foo(a) … foo.__annotations__"); one named in lower case that the passages write but as no
    built-in type and no module ("counts.update()", "sock.connect()", "stdscr.getch()", which pages write in their own
    examples too), or that is short for a word of the question ("gen.send()" after "I created a generator") or a word
    its prose writes too ("a list of sensor readings … readings.remove(x)"). The page documents list.sort(), and
    requiring the asker's variable would decline every question written with one. The asker's own variable alone
    ("reading my_list[50000]"), file ("I saved my script as random.py"), name imported from their own file
    ("customers.py … from customers import find_customer"), name their setup writes and the asking clause does not (a
    function it calls, "My try block only calls load_config(), …" or "… a render() function built with singledispatch",
    a name made of words, "[priority, count, job_id] entries", or a method of an object of theirs, "keep handler =
    conn.reconnect": on bench/pydocs_questions.json 4 more cited, 8 fewer falsely declined, declined unchanged) or any
    value the ``question`` quotes ("Path('done.flag').touch()"), written on no passage, is no code name at all, nor is
    an attribute of the asker's instance, class or parsed options that no passage writes ("self.render()",
    "args.dry_run": theirs to name; on bench/pydocs_questions.json 3 fewer falsely declined, nothing else moved, where
    any object's lost one cited and two declined), nor a member of a class or enum of theirs ("Status.DONE" of "My
    Status enum"; not a special attribute, "Color.RED.__doc__", which is Python's). A file name the passages write
    ("__init__.py") is kept whole. A qualifier no passage writes ("numpy.sort") is kept: pages that never name it do not
    answer. So is a method no passage writes of a qualifier they write as a type of the API ("window.border()" where
    they write "curses.window.addch()"): on bench/pydocs_questions.json 1 more near-topic question declined, nothing
    lost."""

    def written(name: str) -> bool:
        return any(re.search(rf"(?<![\w.]){re.escape(name)}\b", text) for text in texts)

    def written_as_code(attribute: str) -> bool:
        escaped = re.escape(attribute)
        return any(re.search(rf"\.{escaped}\b|\b{escaped}\s*\(", text) for text in texts)

    def written_as_type(qualifier: str) -> bool:  # "curses.window.addch()": a type of the API, not the asker's object
        escaped = re.escape(qualifier)
        return any(re.search(rf"\w\.{escaped}\.\w", text) for text in texts)

    own = own_names(question)
    given = quoted_names(question) | own
    asking = asked_clause(question)
    kept = []
    for name in names:
        qualifier, _, attribute = name.rpartition(".")
        asked_in_clause = re.search(rf"\b{re.escape(name)}\b", asking)
        if not written(name) and (_their_call(name, question) or not asked_in_clause
                and (_MADE_OF_WORDS.match(name) and ("_" in name or f"{name}(" in question)
                     or _an_object(qualifier) and not _a_module(qualifier, texts, question)
                     and not written(attribute) and not written_as_code(attribute)
                     and not written_as_type(qualifier))):
            continue  # "My try block only calls load_config(), …", "keep handler = conn.reconnect …": the asker's own
            # function, object or method, in their setup
        if _FILE_NAME.match(name):  # "__init__.py": a file name, never a qualifier and an attribute
            kept += [name] if written(name) else []
            continue
        if (_VARIABLE.match(name) or name in given) and not written(name):
            continue
        if name in own and f"{name}(" in question and not written_as_code(name):
            continue  # "raw = fetch() / … / else: parse(raw)": a function of theirs, "parse" a word pages write
        theirs = qualifier in _OWN_OBJECTS or qualifier in own and not _DUNDER_NAME.match(attribute)
        if theirs and not written(attribute):
            continue  # "self.render()", "Status.DONE" of "My Status enum": the asker's own (not "Color.RED.__doc__")
        askers = qualifier and (
            _POSSESSED.match(qualifier) or qualifier in own or qualifier in _OWN_OBJECTS
            or _VARIABLE.match(qualifier) and not written(qualifier)
            or _an_object(qualifier) and (written(qualifier) or _abbreviates(qualifier, question))
            and not _a_module(qualifier, texts, question))
        if askers and _MADE_OF_WORDS.match(attribute) and "_" not in attribute and not written_as_code(attribute):
            askers = False  # "parser.error()" is no question about the word "error" every page writes
        kept.append(attribute if askers else name)
    return tuple(dict.fromkeys(kept))


def _their_call(name: str, question: str) -> bool:
    """Is ``name`` a function of the asker's that the question calls, even in the clause that asks ("If
    attempts_left() is already false at the first check, does the else block still run?"): a name of plain words
    joined by underscores, not offered as the API wanted ("such as get_identifiers()")? names_as_written keeps it
    only where a passage writes it. On bench/pydocs_questions.json: 1 more cited, 2 fewer falsely declined, declined
    unchanged; without the call, 5 near-topic questions asking for an API by its likely name were no longer
    declined ("python_requires", "zip_longest")."""
    if not (_MADE_OF_WORDS.match(name) and "_" in name and f"{name}(" in question):
        return False
    at = question.index(f"{name}(")
    lead = re.search(r"\b(?:with|using)\s+$", question[:at])  # "for example with parse_known_args()"
    return not offered_as_example(question, lead.start() if lead else at)


def deferring(names: Sequence[str], passages: Sequence[Passage]) -> dict[str, str]:
    """For each code name whose own entry among the ``passages`` defers to another, that entry, the one documenting
    its arguments ("json.dumps(obj, …)" / "… The arguments have the same meaning as in dump()": json.dump).
    A passage naming that entry may answer a question about the name ("Does json.dumps escape non-ASCII characters by
    default?": "If ensure_ascii is true (the default) …" in json.dump's entry)."""
    deferred = {}
    for name in names:
        qualifier = name.rpartition(".")[0]
        for passage in passages:
            if titled_by(name, passage.section.rsplit(" > ", 1)[-1]) and (same := _SAME_AS.search(passage.text)):
                deferred[name] = f"{qualifier}.{same.group(1)}" if qualifier else same.group(1)
                break
    return deferred


def documenting(names: Sequence[str], passages: Sequence[Passage],
                document_text: Callable[[str], str | None]) -> dict[str, frozenset[str]]:
    """For each dotted code name, the sources among the ``passages`` that are its module's page (titled by the module:
    "json — JSON encoder and decoder", "An introduction to the ipaddress module") and name it somewhere: any passage
    there is about what the name belongs to, where a page that never names it ("ipaddress.collapse_addresses" on an
    introduction to ipaddress) says nothing of it."""
    documented = {}
    for name in names:
        parts = name.split(".")
        modules = [".".join(parts[:n]) for n in range(1, len(parts))]
        pages = {p.source for p in passages if any(mentions(module, p.title) for module in modules)
                 and not mentions(name, written_text(p))}
        if pages := {source for source in pages if mentions(name, document_text(source) or "")}:
            documented[name] = frozenset(pages)
    return documented


def discussing(names: Sequence[str], passages: Sequence[Passage]) -> dict[str, frozenset[tuple[str, str]]]:
    """For each code name, the sections (source, section path) of the ``passages`` whose text names it: a passage
    further into such a section goes on about it without repeating it ("Will total_ordering replace an inherited
    __gt__?": "The class must define one of __lt__(), __le__(), __gt__() …" in one chunk of its entry, "… total_ordering
    will not implement it again" in the next)."""
    return {name: sections for name in names
            if (sections := frozenset((p.source, p.section) for p in passages if p.section and mentions(name, p.text)))}


_SAME_AS = re.compile(r"\bsame\s+(?:meaning|meanings)?\s*as\s+(?:in|for)\s+([A-Za-z_]\w*)\(\)")


_POSSESSED = re.compile(r"^(?:my|your|our)_?[a-z]\w*$", re.IGNORECASE)  # "mylist": a page's example may name one too
# … and one named like a placeholder ("some_text", "other_counter", "obj", "foo"), or "x" (but "os" and "re" are
# modules)
_VARIABLE = re.compile(rf"{_POSSESSED.pattern}|^(?:some|other|another|new|old)_[a-z]\w*$|^[a-z]{{1,2}}$"
                       r"|^(?:obj|foo|bar|baz|val|var|func|inst)$", re.IGNORECASE)


_OWN_OBJECTS = frozenset({"self", "cls", "args"})  # see names_as_written
_MADE_OF_WORDS = re.compile(r"^(?!_)[a-z]+(?:_[a-z0-9]+)*$")  # "load_config", "render", "error": a name of plain words
_DUNDER_NAME = re.compile(r"^__\w+__$")  # a special attribute: Python's, whoever's object has it


def _an_object(name: str) -> bool:
    """A lower-case name that is no built-in type ("counts", "sock", "stdscr"; not "str", "dict")."""
    return name.isidentifier() and name.islower() and name not in _BUILTIN_TYPES


_BUILTIN_TYPES = frozenset(name for name, value in vars(builtins).items() if isinstance(value, type))


def _abbreviates(name: str, question: str) -> bool:
    """Is the lower-case name short for a word of the question ("gen" after "I created a generator", "conn" for "my
    connection"), or a word its prose writes as well ("a list of sensor readings … readings.remove(x)")?"""
    prose = re.findall(r"(?<![\w.])[A-Za-z]+(?![\w.(])", question)
    return len(name) >= 3 and (any(word.lower().startswith(name) and len(word) > len(name)
                                   for word in re.findall(r"[A-Za-z]+", question)) or name in prose)


def _a_module(name: str, texts: Sequence[str], question: str) -> bool:
    """Is ``name`` a module: one of Python's own, or imported, called a module or titled as one ("json — JSON
    encoder and decoder") by the passages' ``texts`` or the ``question``?"""
    escaped = re.escape(name)
    said = re.compile(rf"\bimport\s+{escaped}\b|\bfrom\s+{escaped}\s+import\b|\b{escaped}\s+module\b"
                      rf"|\bmodule\s+{escaped}\b|^{escaped}\s+—", re.MULTILINE)
    return name in sys.stdlib_module_names or any(said.search(text) for text in (*texts, question))


_FILE_NAME = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.(?:py|pyw|txt|csv|tsv|json|jsonl|cfg|ini|toml|md|rst|log|html|xml|"
                        r"ya?ml|tmp|bak|dat|db|sqlite3?|gz|zip|tar|pdf|png|jpe?g|gif|docx?|xlsx?|pyd|pyc|so|dll|exe|whl|"
                        r"c|h|cpp|sh|bat)$",
                        re.IGNORECASE)


QUOTE_MIN_WORDS = 4  # the shortest unit a decline quotes as the closest the documents come


def declined(asked: Question, passages: Sequence[Passage], embedder: Embedder | MemoEmbedder) -> tuple[str, Unit | None]:
    """What to say when nothing cited answers: what the documents discuss and what they lack, and the unit that
    comes closest (covers the focus but lacks the answer type), if any says something."""
    if asked.unknown:
        return f"The indexed documents never mention {' or '.join(asked.unknown)}.", None
    if asked.unwritten:
        return f"None of the passages found mentions {' or '.join(asked.unwritten)}.", None
    units = [unit for unit in units_of(list(passages))
             if not unit.text.endswith("?") and (unit.kind != CODE or asked.wants_code)]
    # Here a front-matter field about the topic counts too ("title: AI alignment starter pack" for "who wrote it").
    close = [j for j in judge(asked, units, embedder)
             if j.covers or asked.coverage(j.unit.matched, j.unit.title) >= FOCUS_MIN]
    if not close:
        return NOT_FOUND, None
    held = "\n".join(written_text(passage) for passage in passages)
    # A heading or a label holds the question's words but says nothing of them ("Tkinter questions", "config.py:"):
    # what comes closest is said in four words or more (Python-docs set: 42 of 433 declines quote another unit, 5 none).
    quote = next((j.unit for j in close
                  if j.unit.kind != HEADING and len(j.unit.text.split()) >= QUOTE_MIN_WORDS), None)
    return f"The documents discuss {focus_phrase(asked, held)} but {type_phrase(asked.type)}.", quote


def _source_text(source: str, document_text: Callable[[str], str] | None, cache: dict[str, str | None]) -> str | None:
    if document_text is None:
        return None
    if source not in cache:
        try:
            cache[source] = document_text(source)
        except Exception:  # a document removed meanwhile: the citation keeps its chunk offsets
            cache[source] = None
    return cache[source]


def answer_question(question: str, history: Iterable[dict[str, Any]] = (), **kwargs: Any) -> Answer:
    """The final Answer of ``answer_stream`` (same arguments), for callers that don't stream."""
    return final_answer(answer_stream(question, history, **kwargs))


def final_answer(events: Iterable[AnswerEvent]) -> Answer:
    """The Answer that ends a stream of events (``answer_stream``, ``Assistant.ask``), its deltas skipped."""
    for event in events:
        if event.kind == "done" and event.answer is not None:
            return event.answer
    raise AssertionError("answer_stream ended without a final event")  # pragma: no cover
