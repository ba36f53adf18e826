"""Answers made of the retrieved passages' own units: no LLM, deterministic, works with only the index.

Units are sentences, table rows with their header, list items with their lead-in, front-matter fields and link
definitions (rag/units.py). Each is scored by a weighted sum of its features: its embedding cosine with the
question, its coverage of the question's rare terms, whether it carries the expected answer type or concludes, how
far down the retrieved passages it is (rag/grounding.SCORE_WEIGHTS, fitted by bench/fit_scorer.py). Only units that
answer the question are quoted: the best one (read on with the sentence after it in its section, unless a typed
question asks for one fact) and others within a margin of it (a wider one for those holding most of the question's
words, and for one more from a section quoted already); when the question asks for several items and the best unit
is a table row or list item, its table or list is quoted row by row. A code block cut by the end of its chunk is
quoted with its rest when another passage holds it.
Nothing is yielded when no unit answers: the pipeline then declines.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import replace
from itertools import takewhile
from typing import TYPE_CHECKING

from rag.config import Settings
from rag.grounding import (
    FOCUS_MIN, POINTER, WHO_OR_WHEN, Judged, answer_shape, heading_asks, judge, lead_in, names_a_parameter,
    names_field, names_found, tells_what_is_asked, under_term_asked,
)
from rag.question import CARRIED_TYPES, EXPANSION, URL, entry_title, proper_names, stemmed_terms
from rag.text import passage_sentences, quoted_code
from rag.units import CODE, HEADING, ITEM, LINK, METADATA, ROW, SENTENCE, Unit, units_of, with_documents

if TYPE_CHECKING:
    from rag.embed import Embedder
    from rag.passage import Passage
    from rag.question import Question

MARGIN = 0.12  # units scoring this far below the best one are not worth quoting …
WIDE_MARGIN = 0.18  # … unless they hold most of the question's words (see _says_most) …
SECTION_MARGIN = 0.2  # … and SECTION_EXTRA more units within this of the best one from a section quoted already
SECTION_EXTRA = 1  # (see _in_quoted_sections)
DUPLICATE_COSINE = 0.9  # overlapping chunks repeat sentences; quote each once
MIN_WORDS = 5  # shorter sentences and items are labels, not answers (rows and fields may be short; so may
# the items a list question asks for)
PER_DOCUMENT = 2  # a question naming several documents quotes at most this many units of each
MAX_LIST_ITEMS = 8  # a list answer quotes at most this many rows / items
ITEM_SENTENCES = 2  # … each with at most this many sentences after an item's first
# A sentence setting a problem up: its answer follows it ("Sometimes you want to …", "A common problem when … is …")
_SETUP = re.compile(r"^(?:sometimes\b|say\s+you\b|suppose\b|imagine\b|a\s+common\s+(?:problem|mistake|situation)\b|"
                    r"it\s+can\s+be\s+a\s+surprise\b|you\s+(?:may|might)\s+(?:want|need|wish)\s+to\b)", re.IGNORECASE)
SETUP_REACH = 3  # … read on this many sentences at most (2 gained one question of bench/pydocs_questions.json, 3 two)
# A sentence that opens by pointing back at the one before ("They can also …", "It also …", "By default, this is …",
# the next step: "Then call the endwin() function …").
_POINTS_BACK = re.compile(r"^(?:[\w ]{1,25},\s*)?(?:they|it|this|these|those|both|he|she|then)\b", re.IGNORECASE)
# "This means that … it is easier to continue calculations", "This tells the server …", "The latter is useful …",
# "… calling this function is the best practice …", "For example, a < b == c tests …": what it means, which function,
# what it is an example of, which fact or case is the sentence before ("You can make this fact explicit by …"), or
# what it restates ("That is, \n is converted to a single newline character, …": 1742 -> 1743 of 2731 cited)
_DRAWS_ON = re.compile(r"^(?:this|that)\s+(?:means|implies|is\s+(?:why|because|how)|way\b|makes|allows|lets|ensures|"
                       r"tells|gives|causes|prevents|avoids|guarantees|requires|happens)\b|^the\s+(?:latter|former)\b"
                       r"|^for\s+(?:example|instance)\b|^(?:that\s+is|in\s+other\s+words|i\.e\.)\s*,"  # … what it restates
                       r"|^(?:likewise|similarly|conversely|in\s+contrast|otherwise|instead)\b"  # … the contrast
                       # or parallel the sentence before sets ("Unlike key functions …, a comparison function computes
                       # the relative ordering …" / "Likewise, a comparison function such as cmp(a, b) will …")
                       r"|^\("  # … and an aside in brackets, to what it is said of
                       r"|^if\s+(?:so|not|it\s+is|it\s+isn[’']t|they\s+are|that\s+is\s+the\s+case)\b"  # … and the
                       # case it settles ("… be sure that's what you really want to do." / "If it is, use os.close():";
                       # Python-docs set: 1942 -> 1943 of 3019 cited, nothing lost, 8 answers given that case)
                       r"|\b(?:this|these)\s+(?:functions?|methods?|class|classes|modules?|options?|flags?|behaviou?r|"
                       r"approach|features?|attributes?|parameters?|arguments?|decorators?|techniques?|facts?|cases?|"
                       r"problems?|situations?|issues?|limitations?|restrictions?|solutions?)\b"
                       # … and the reference a sentence speaks of ("In this classic textbook …" / "Structure and
                       # Interpretation of Computer Programs, by …", past a link line: see _link_line; 1976 -> 1977 of
                       # 3067 cited, nothing lost, one other answer naming the book)
                       r"|\b(?:this|these)\s+(?:\w+\s+)?(?:books?|textbooks?|papers?|articles?|essays?|talks?)\b",
                       re.IGNORECASE)
# A call a unit names ("endwin()", "socket.setblocking(False)", "os.rename(old_path, new_path)": see _calls)
_CALL = re.compile(r"\b[A-Za-z_][\w.]*\((?:[^()\s][^()]{0,30})?\)")
# An API entry's notes, each with what a question asking about it says (see _entry_note): the release that added or
# changed something, and the auditing event it raises
_ENTRY_NOTES = (
    # (not one saying what was forbidden before, which says what holds now: "Changed in version 3.2: Previously it was
    # illegal to delete a name …")
    (re.compile(r"^(?:new|changed|added)\s+in\s+version\b(?![^:]*:\s+(?:previously|prior\s+to)\b)"
                r"|^deprecated\s+since\b", re.IGNORECASE),
     re.compile(r"\b(?:versions?|releases?|since|when|added|changed|deprecated|introduced|new\s+in)\b"
                r"|\b\d+\.\d+\b|\bpython\s*[23]\b", re.IGNORECASE)),
    (re.compile(r"\braises\s+an\s+auditing\s+event\b", re.IGNORECASE), re.compile(r"\baudit", re.IGNORECASE)),
)
# "Yes.", "No.", "In general, no.", "Not really.": a sentence that is only a verdict (see _with_verdicts)
_VERDICT = re.compile(r"^(?:(?:in\s+general|generally|usually|normally|probably|mostly|basically|not\s+really|"
                      r"not\s+necessarily|of\s+course|certainly|absolutely|yes|no|not)[,\s]*){1,3}[.!]$", re.IGNORECASE)
COMPLEMENT_SHARE = 0.3  # focus weight the chosen units leave out before a unit holding it is added


class ExtractiveBackend:
    """An :class:`rag.backends.AnswerBackend` that quotes the passages instead of asking a model."""

    name = "extractive"

    def __init__(self, max_sentences: int = 3):
        self.max_sentences = max_sentences

    def answer(self, question: Question, passages: Sequence[Passage], embedder: Embedder) -> Iterator[str]:
        """Yield the chosen units one by one, each ending with its passage's [n] marker."""
        if question.part_asks_unheld:
            return  # "Does the PSF offer an official certification, and how do I sign up for it?"
        every = with_documents(units_of(list(passages)), passages, passages)
        named = [names_found(question, passage) for passage in passages]
        units = [unit for unit in every if _quotable(unit, question) and named[unit.passage]]
        sections = [p.section for p in passages]
        if question.parts:  # "What is X, and which Y …?": the best answer to each part, another unit than the
            # other parts' ("What does itertools.count give me, and where does it start counting?": the sentence
            # saying what it returns, then the one giving its defaults)
            picks: list[Judged] = []
            quoted: list[Unit] = []
            for part in question.parts:
                pick = _distinct([j for j in judge(part, _in_named(part, units, passages), embedder, sections)
                                  if j.answers], 1, picks)
                if not pick and part.type in WHO_OR_WHEN:
                    return  # "Who is the release manager for 3.11, and how are they chosen?": no name found
                picks += pick
                quoted += [unit for unit in _with_continuations(part, pick, every) if unit not in quoted]
            yield from _quote(quoted)
            return
        units = _in_named(question, units, passages)
        answering = [j for j in judge(question, units, embedder, sections) if j.answers]
        if any(names_field(question, j.unit) for j in answering):  # "What is the title of …": a title, not prose
            answering = [j for j in answering if names_field(question, j.unit)]
        if not any(tells_what_is_asked(question, j.unit, j.cosine) for j in answering):
            return  # "How do I react to mouse clicks in curses?" is not answered by "… enable keypad mode"
        if len(question.documents) > 1:  # "What do the overview and the core post say about X?": each one's best,
            # and what comes close to it there (a document's best-worded sentence is not always the one saying it)
            picks = []
            for source in sorted(question.documents):
                found = [j for j in answering if passages[j.unit.passage].source == source]
                picks += _distinct([j for j in found if j.score >= found[0].score - MARGIN], PER_DOCUMENT, picks)
            yield from _quote(_with_item_heads([judged.unit for judged in picks], every))
            return
        if question.asks_for_call:
            answering = _calls_first(question, answering)
        top = answering[0]
        # A list question answered from a table or list about what it asks (its lead-in / section names the focus);
        # one item of it in these passages (a list cut by its chunk) is no list: it is quoted as any unit is.
        if question.wants_list and top.unit.kind in (ROW, ITEM) and question.coverage(top.unit.context) > 0:
            members = [u for u in units if (u.passage, u.group) == (top.unit.passage, top.unit.group)]
            if len(members) > 1:
                for position, unit in enumerate(members[:MAX_LIST_ITEMS]):
                    said = [part.text.rstrip(".;,:") for part in [unit, *_item_rest(unit, every)]]
                    yield f"{chr(10) if position else ''}- {f' [{unit.passage + 1}]. '.join(said)} [{unit.passage + 1}]"
                return
        # A typed question has one answer: quote a second unit only when it is nearly as good.
        margin = MARGIN / 3 if question.type in CARRIED_TYPES else MARGIN
        close = [judged for judged in answering if judged.score >= top.score - margin or _says_most(question, judged, top)]
        chosen = _distinct(close, self.max_sentences)
        chosen += _distinct(_in_quoted_sections(question, chosen, answering, top, passages), SECTION_EXTRA, chosen)
        chosen += _distinct(_complement(question, answering, chosen), 1, chosen)
        chosen += _distinct(_shaped(question, answering, chosen, top), 1, chosen)
        read_on = _with_continuations(question, chosen, every, {judged.unit for judged in answering})
        quoted = _with_code_rest(_with_item_heads(_with_verdicts(read_on, every), every), every, passages)
        yield from _quote(_with_entry_headings(question, quoted, every, passages))

    def rewrite(self, question: str, history: Sequence[dict[str, str]]) -> None:
        """No model to rewrite follow-ups with: the pipeline adds the previous question's terms itself."""
        return None


def _calls_first(question: Question, answering: Sequence[Judged]) -> list[Judged]:
    """The answering units naming a call the question does not write first, for a question asking which function or
    call to use ("Which Windows calls do I need for that?": "Your code must load pythonNN.dll using the Windows
    LoadLibraryEx() routine.", ranked fifth below sentences on linking). On bench/pydocs_questions.json: +2 cited of
    1,095, nothing lost; any unit naming a call, the asker's own "curses.wrapper()" too, lost one."""
    written = _calls(question.text)
    return sorted(answering, key=lambda judged: not _named_calls(judged.unit) - written)  # stable: each group in order


def _named_calls(unit: Unit) -> set[str]:
    """The calls a unit names: in its text, or as the API entry it describes ("Push the value item onto the heap,
    maintaining the heap invariant." under "heapq.heappush(heap, item)", not only the sentence on heapreplace() naming
    heappop() and heappush() in passing). Python-docs set: 1857 -> 1860 of 2924 cited, nothing else moved."""
    entry = entry_title(unit.context)
    return _calls(unit.text) | (_calls(entry) if _CALL.fullmatch(entry) else set())


def _calls(text: str) -> set[str]:
    """The functions and methods the text calls, by their own name ("setblocking" for "socket.setblocking(False)")."""
    return {call.split("(")[0].rsplit(".", 1)[-1] for call in _CALL.findall(text)}


def _says_most(question: Question, judged: Judged, top: Judged) -> bool:
    """Is the unit worth quoting beside the best one though more than MARGIN below it: it holds most of the
    question's words (with its context) and is within WIDE_MARGIN, for a question asking neither one typed fact nor
    what something is. The scorer's ranking is least sure between such units ("How do I rotate a deque one place to
    the left?": "… rotate() to bring a target element to the left side …" first, "… rotating one step to the left is
    equivalent to d.append(d.popleft())" second). Measured on bench/pydocs_questions.json: +3 cited of 423 and 21
    answers longer, where the wide margin for every unit gave +9 with 91 answers longer, and for every question but
    a what-is +8 with 74, most by a sentence off the point; the corpus set and PDF manuals unchanged either way."""
    return (question.type is None and not question.asks_what_it_is and judged.score >= top.score - WIDE_MARGIN
            and question.coverage(judged.unit.matched, judged.unit.title) >= FOCUS_MIN)


def _in_quoted_sections(question: Question, chosen: Sequence[Judged], answering: Sequence[Judged], top: Judged,
                        passages: Sequence[Passage]) -> list[Judged]:
    """The answering units within SECTION_MARGIN of the best one from a section a chosen unit is quoted from (its
    passage, or another chunk of the same section): the detail a question asks for is most often beside the sentence
    sharing its words, and the scorer's order among one section's sentences is least sure ("A heapsort can be
    implemented by pushing all values onto a heap and then popping off the smallest values one at a time:" first,
    "This is similar to sorted(iterable), but unlike sorted(), this implementation is not stable." fourth). None for
    a question asking one typed fact or what something is (a sentence naming it in passing is as close as its
    definition), and no lead-in: its example would come with it. Measured on bench/pydocs_questions.json: 588 -> 617
    of 951 cited, nothing lost, 80 -> 90 words an answer; for every question 623; a wider margin for any section (four
    units within 0.2) 631 with 98 words, two more units of the sections 639 with 98."""
    if question.type in CARRIED_TYPES or question.asks_what_it_is:
        return []
    sections = {(passages[j.unit.passage].source, passages[j.unit.passage].section) for j in chosen}
    return [j for j in answering if j not in chosen and j.score >= top.score - SECTION_MARGIN
            and (passages[j.unit.passage].source, passages[j.unit.passage].section) in sections
            and not j.unit.text.rstrip().endswith(":")]


def _in_named(question: Question, units: list[Unit], passages: Sequence[Passage]) -> list[Unit]:
    """The units of the documents the question names ("What does the overview say …"), if it names any."""
    if not question.documents:
        return units
    return [unit for unit in units if passages[unit.passage].source in question.documents]


def _distinct(candidates: Sequence[Judged], limit: int, before: Sequence[Judged] = ()) -> list[Judged]:
    """Up to ``limit`` candidates, in order, skipping near-repeats of each other and of ``before`` (overlapping
    chunks repeat sentences)."""
    chosen: list[Judged] = []
    for judged in candidates:
        if len(chosen) == limit:
            break
        if not any(float(judged.vector @ other.vector) >= DUPLICATE_COSINE for other in [*before, *chosen]):
            chosen.append(judged)
    return chosen


def _complement(question: Question, answering: Sequence[Judged], chosen: Sequence[Judged]) -> list[Judged]:
    """The answering unit that adds the most of what the chosen ones leave out: a second topic or a second
    document the question names ("What do the overview and the core post say about …"), when the focus terms
    no chosen unit holds (in its text, context or document title) weigh at least COMPLEMENT_SHARE. Never a document's
    title ("title: heapq — Heap queue algorithm"): it holds the question's words without saying anything of them."""
    held = set().union(*(stemmed_terms(f"{j.unit.matched} {j.unit.title}") for j in chosen))
    missing = {term: weight for term, weight in question.focus.items() if term not in held}
    if not missing or sum(missing.values()) < COMPLEMENT_SHARE * sum(question.focus.values()):
        return []

    def adds(judged: Judged) -> float:
        return sum(w for t, w in missing.items() if t in stemmed_terms(f"{judged.unit.matched} {judged.unit.title}"))

    gain, best = max(((adds(j), j) for j in answering if j not in chosen and j.unit.kind != METADATA),
                     key=lambda pair: pair[0], default=(0.0, None))
    return [best] if gain > 0 else []


def _shaped(question: Question, answering: Sequence[Judged], chosen: Sequence[Judged], top: Judged) -> list[Judged]:
    """A question asking for a shape of sentence (grounding.answer_shape: a reason for a why-question, an instruction
    for a how-to, …) is answered by one: when no chosen unit has it, the best answering unit that does and comes
    within WIDE_MARGIN of the best. The best is often the asker's premise restated ("HTTP/2 is faster in theory, so why
    is it switched off …?" / "HTTP/2 … provides a far more efficient transport …"), the reason below it ("… not
    enabled by default, because HTTP/1.1 is a mature, battle-hardened transport layer …"). HTTPX set: 1 more cited;
    Python-docs set 1 more and 1 fewer (with the why asked after the premise, rag.grounding._WHY). Taken for every
    shape, not only a reason, the counts on all three sites are the same (9 Python-docs answers quote one more
    sentence: "… uses the j or J suffix to indicate the imaginary part (e.g. 3+5j)" for "How do I write 3 + 5i?")."""
    shape = answer_shape(question)
    if shape is None or any(shape.search(j.unit.text) for j in chosen):
        return []
    return [j for j in answering if j.score >= top.score - WIDE_MARGIN and shape.search(j.unit.text)][:1]


def _draws_on(question: Question, unit: Unit) -> bool:
    """Does the unit lean on the sentence before it: drawing on it ("This means …"), or pointing back at it ("They
    …", "By default, this is …", "… appear here first") when the question asks for more than one fact?"""
    return bool(_DRAWS_ON.search(unit.text) or (_POINTS_BACK.match(unit.text) or _HERE.search(unit.text))
                and question.type not in CARRIED_TYPES)


def _link_line(unit: Unit) -> bool:
    """"Full text at https://mitpress.mit.edu/sicp/.": a link between a reference and what is said of it ("In this
    classic textbook …"), read past to the reference."""
    return bool(_LINK_LINE.match(unit.text))


_LINK_LINE = re.compile(r"^(?:[\w ]{0,30}\s)?(?:at|see|from)?\s*<?https?://\S+\s*$", re.IGNORECASE)


# "New language features generally appear here first.": "here" is what the sentence before describes (CPython)
_HERE = re.compile(r"\b(?:appears?|shows?\s+up|happens?|lives?|is|are)\s+here\b(?!\s*:)", re.IGNORECASE)


def _with_continuations(question: Question, chosen: Sequence[Judged], every: Sequence[Unit],
                        answering: Collection[Unit] = ()) -> list[Unit]:
    """The chosen units, each followed by the sentence that goes on with it, when that sentence starts by
    pointing back at it ("They can also be installed on MAC OS X" after "The utilities have been written for
    Linux") or going on with the list item it opens ("Paul argues in favor of a soft takeoff." after "Takeoff speeds
    by Paul Christiano — This post …") and says focus terms the chosen units do not: the rest of the answer, not a
    new topic. A sentence pointing back is read on even without them ("This way, it is possible to write classes
    which change the behavior of subclasses." after "Whenever a class inherits from another class,
    __init_subclass__() is called on the parent class."), unless the question asks for one fact ("In which year did
    the build farm open?"). A unit answering the sentence before it (a reason, an instruction, "This means …") comes after
    that sentence. ``answering`` are the units judged to answer: see _next_in_section for reading on into them."""
    held = set().union(*(stemmed_terms(j.unit.text) for j in chosen))
    wanted = {term for term in question.focus if term not in held}
    units: list[Unit] = []
    for judged in chosen:
        if judged.unit in units:
            continue
        at = _index_in(every, judged.unit) if judged.unit.kind in (SENTENCE, ITEM) else -1
        # … and a sentence pointing back is quoted with the one it points at, unless one fact is asked for
        before = judged.finishes or (every[at - 1] if at > 0 and _draws_on(question, judged.unit) else None)
        # the statement the reason / instruction / conclusion answers, said first, and the one it points at in turn
        # ("parse_float, if specified, …" / "By default, this is …" / "This can be used to …")
        leading: list[Unit] = []
        while (before is not None and len(leading) < 2 and before.kind == SENTENCE
               and before.passage == judged.unit.passage and before not in units and before in every
               and not _label(before)):
            leading.insert(0, before)
            first = every.index(before)
            before = every[first - 1] if first > 0 and (_draws_on(question, before) or _link_line(before)) else None
        opening = leading[0] if leading else judged.unit  # the sentence quoted first: it may go on after code
        units += _code_gone_on_from(opening, every.index(opening) if leading else at, every, units) + leading
        if leading:  # … and the code between the sentence it finishes and it ("… from a command-line option such
            # as:" / "--log=INSERT-YOUR-LEVEL-HERE" / "and you have the value … you can use:"; on the Python-docs set
            # two answers so mended, none cited more or fewer)
            units += _code_gone_on_from(judged.unit, at, every, units)
        units.append(judged.unit)
        following = every[at + 1] if 0 <= at < len(every) - 1 else None
        following = None if following is not None and _entry_note(question, following) else following
        if _introduced_example(judged.unit, following):
            units.append(following)
            continue
        if _in_parallel(judged.unit, following) and following not in units and all(following != j.unit for j in chosen):
            units += _read_on(question, following, every, at + 1, units)
            continue
        if judged is chosen[0] and (resolved := _resolution(judged.unit, every[at + 1:] if at >= 0 else [])):
            units += [unit for unit in resolved if unit not in units]
            continue
        if listed := _list_of(judged.unit, every, at, units):
            units += listed  # "… are numbered “A.B.C”:" says nothing alone
            continue
        if judged is chosen[0] and judged.unit.kind == ITEM:  # the best item quoted whole, as a list's items are, up
            # to a chosen sentence (quoted, and read on from, in its turn). Python-docs set: 1944 -> 1948 of 3019
            # cited, nothing lost, 62 answers longer
            units += takewhile(lambda unit: unit not in units and all(unit != j.unit for j in chosen),
                               _item_rest(judged.unit, every))
        if judged is chosen[0] and (introduced := _introduced_by_next(question, judged.unit, every, at)):
            units += [unit for unit in introduced if unit not in units]
            continue
        # The best sentence is read on with the next one of its section (see _next_in_section), and so is any other
        # whose next one answers too or says focus terms no chosen unit does, unless it speaks of someone else
        adds = following is not None and bool(wanted & stemmed_terms(following.text))
        if (question.type not in CARRIED_TYPES and _next_in_section(judged.unit, following)
                and following not in units and all(following != j.unit for j in chosen)
                and (judged is chosen[0] or (adds or following in answering)
                     and not _names_someone_else(question, judged.unit, following))):
            units += _read_on(question, following, every, at + 1, units)
            continue
        points_back = following is not None and bool(_POINTS_BACK.match(following.text))
        item_rest = following is not None and judged.unit.kind == ITEM and following.context.endswith(judged.unit.text)
        if (following is not None and following.kind == SENTENCE and following.passage == judged.unit.passage
                and (points_back and question.type not in CARRIED_TYPES or (points_back or item_rest) and adds)
                and following not in units and all(following != j.unit for j in chosen)):
            units += _read_on(question, following, every, at + 1, units)
    return units


def _read_on(question: Question, unit: Unit, every: Sequence[Unit], at: int, quoted: Sequence[Unit]) -> list[Unit]:
    """A sentence read on to (``every[at]``), with what goes on with it in turn: the example it introduces, or the
    sentence saying the same of the other case ("If typed is set to true, …" / "If typed is false, …") or pointing
    back at it ("… bind the “server” socket to 'localhost'." / "On most platforms, this will take a shortcut …").
    Python-docs set: 1896 -> 1904 of 2971 cited, nothing lost; 270 answers a sentence longer (median 611 -> 617
    characters)."""
    said = _with_example(unit, every, at)
    if len(said) == 1 and (listed := _list_of(unit, every, at, quoted)):
        return [unit, *listed]
    after = every[at + 1] if len(said) == 1 and at + 1 < len(every) else None
    if (after is not None and after.kind == SENTENCE and after.passage == unit.passage and after not in quoted
            and (_in_parallel(unit, after)
                 or question.type not in CARRIED_TYPES and _POINTS_BACK.match(after.text) and _same_section(unit, after))):
        said.append(after)
    return said


def _introduced_by_next(question: Question, unit: Unit, every: Sequence[Unit], at: int) -> list[Unit]:
    """The next sentence, when it introduces a list or code saying more of what the question asks ("A future
    statement must appear near the top of the module." / "The only lines that can appear before a future statement
    are:" / the list of them), with that list or code; none otherwise. A lead-in is not read on to alone (see
    _next_in_section): "Here's a simple example:" says nothing without what follows it. Python-docs set: 1905 -> 1907
    of 2971 cited, nothing lost, 25 answers changed; and a lead-in speaking of what the sentence did ("Primaries
    represent …" / "Their syntax is:" / the grammar rule), whatever its words: +1."""
    following = every[at + 1] if 0 <= at < len(every) - 1 else None
    if (following is None or following.kind != SENTENCE or following.passage != unit.passage
            or not _same_section(unit, following) or not lead_in(following.text)
            or not (stemmed_terms(following.text) & set(question.focus) or _POSSESSIVE_BACK.match(following.text))):
        return []
    if listed := _introduced_list(following, every[at + 2:]):
        return [following, *listed]
    code = every[at + 2] if at + 2 < len(every) else None
    return [following, code] if _introduced_example(following, code) else []


# "Their syntax is:", "Its signature is:": a lead-in saying more of what the sentence before spoke of
_POSSESSIVE_BACK = re.compile(r"^(?:its|their)\s", re.IGNORECASE)


def _label(unit: Unit) -> bool:
    """A few capitalised words, no sentence: a byline ("Tshepang Lekhonkhobe" above "This tutorial is intended to
    be …"), "Note", "Abstract". It is no statement a sentence pointing back leans on."""
    words = unit.text.split()
    return len(words) < MIN_WORDS and not unit.text.rstrip().endswith((".", ":", "?", "!")) and all(
        word[:1].isupper() for word in words)


def _with_example(unit: Unit, every: Sequence[Unit], at: int) -> list[Unit]:
    """A sentence read on to (``every[at]``), with the example it introduces in turn ("On a Linux machine, this can be
    done via:" / "$ yum install systemtap-sdt-devel"): the line says nothing without it. Python-docs set: 1859 -> 1864
    of 2924 cited, nothing lost."""
    after = every[at + 1] if at + 1 < len(every) else None
    return [unit, after] if _introduced_example(unit, after) else [unit]


def _in_parallel(unit: Unit, following: Unit | None) -> bool:
    """Does ``following`` say the same of another case, in a sentence opening as the unit's does ("In a DLL, linkage
    is declared in the source code with __declspec(dllexport)." / "In a .pyd, linkage is defined in a list of available
    functions.")? The one is said against the other: quoted alone, it answers half a question comparing them. On
    bench/pydocs_questions.json: +1 cited of 1,215, four other answers one sentence longer ("In base 10, …" / "In base
    2, 1/10 is the infinitely repeating fraction"), nothing lost. A switch's two settings ("If typed is set to true,
    …" / "If typed is false, …") and two purposes ("To add an item …" / "To retrieve an item …") are such pairs too:
    1894 -> 1896 of 2971 cited (with _read_on, which reads on to them), nothing lost."""
    if following is None or unit.kind != SENTENCE or following.kind != SENTENCE or following.passage != unit.passage:
        return False
    mine, theirs = _SCOPE_OPENING.match(unit.text), _SCOPE_OPENING.match(following.text)
    if mine is not None and theirs is not None:
        return mine.group(1).lower() == theirs.group(1).lower() and mine.group(2).lower() != theirs.group(2).lower()
    mine, theirs = _CONDITION_OPENING.match(unit.text), _CONDITION_OPENING.match(following.text)
    return (mine is not None and theirs is not None and mine["subject"].lower() == theirs["subject"].lower()
            and mine["case"].lower() != theirs["case"].lower())


# "In a DLL, …", "On Windows, …", "For Flag classes, …", "To add an item to the top of the stack, …": a sentence
# scoped to one case (the word, then the case)
_SCOPE_OPENING = re.compile(r"^(in|on|for|with|under|to)\s+([^,;:]{1,50}),\s", re.IGNORECASE)
# "If typed is set to true, …" / "If typed is false, …": one switch's two settings (the subject is its first two words)
_CONDITION_OPENING = re.compile(r"^(?:if|when|unless)\s+(?P<subject>\S+\s+\S+)(?P<case>[^,;]{0,60}),\s", re.IGNORECASE)


def _code_gone_on_from(unit: Unit, at: int, every: Sequence[Unit], quoted: Sequence[Unit]) -> list[Unit]:
    """The code shown in the middle of the sentence the unit finishes, with the line opening that sentence ("You'll
    need to call:" / "curses.nocbreak() … curses.echo()" / "to reverse the curses-friendly terminal settings."): the
    part after the code says nothing alone."""
    code = every[at - 1] if at > 0 else None
    if (code is None or code.kind != CODE or code.passage != unit.passage or code in quoted
            or not unit.text[:1].islower()):
        return []
    lead = every[at - 2] if at > 1 else None
    return [lead, code] if lead is not None and lead not in quoted and _introduced_example(lead, code) else [code]


def _next_in_section(unit: Unit, following: Unit | None) -> bool:
    """Is ``following`` the sentence after a quoted sentence, in the same passage and section? The quoted sentence is
    quoted with it, as a reader of the page would read on: the answer to a question is often the sentence after the
    one sharing its words ("… occasionally Python suddenly begins to take a long time to start up." / "The problem
    may be caused by a misconfiguration of virus checking software …"). Measured on bench/pydocs_questions.json, for
    the best sentence: evidence cited 80 → 83 of 111, the held-out questions gaining as the tuned ones did; the corpus
    set's counts unchanged. Read on from any quoted sentence when the next one answers too or says focus terms none
    quoted does (_with_continuations): 1161 → 1176 of 1839 cited, declined unchanged, answers a median 7% longer (653
    → 696 characters); from every quoted sentence, 1194 cited, but answers 14% longer, quoting sentences that do
    not answer. The next sentence must say something itself: not a question the text asks, a short line introducing
    an example, or a pointer elsewhere (a long one ending in ":" does: "Members of an IntEnum can be compared to
    integers; …:"). A typed question ("In which year did Codex appear?") has its one fact and is not read on (the
    caller's check)."""
    return (following is not None and unit.kind == SENTENCE and following.kind == SENTENCE
            and following.passage == unit.passage and _same_section(unit, following)
            and (len(following.text.split()) >= MIN_WORDS or len(unit.text.split()) < MIN_WORDS)  # "You can't." /
            # "Use PyTuple_Pack() instead."
            and not following.text.rstrip().endswith("?")
            and not lead_in(following.text) and not POINTER.match(following.text))  # not "What is my take on
    # this?", "Here's a simple example of a generator function:", "See …"


def _names_someone_else(question: Question, unit: Unit, following: Unit) -> bool:
    """Does ``following`` write a proper name neither the question nor the unit before it writes ("Ines prefers the
    neap tides …" / "Tom Reed later replied preferring spring tides.")? It speaks of another than the one asked
    about."""
    return any(name not in question.text and name not in unit.text for name in proper_names(following.text))


def _same_section(unit: Unit, following: Unit) -> bool:
    """Is ``following`` in the unit's section? A sentence answering a question its text asks has that question in its
    context too ("Should you use these module-level functions, …?" / "If you're accessing a regex within a loop,
    pre-compiling it will save a few function calls." / "Outside of loops, there's not much difference …")."""
    return following.context == unit.context or unit.after_question and unit.context.startswith(f"{following.context} ")


def _introduced_example(unit: Unit, following: Unit | None) -> bool:
    """Is ``following`` the example the unit introduces ("… the flag strict=False can be passed to the
    constructor:" / ">>> ipaddress.ip_network('192.0.2.1/24', strict=False)")? Shown under the prose whatever the
    question asks: a sentence ending in ":" says its point with the code after it ("… so the network prefix includes
    the entire network address:" / ">>> ipaddress.ip_network(3221225984)" / "IPv4Network('192.0.2.0/32')"). On
    bench/pydocs_questions.json, beyond how-to and code questions: +2 cited of 951, 86 answers of 1,193 longer. A list
    item does so too ("Attach a Formatter … with a format string such as:"): 1943 -> 1944 of 3019, 14 answers longer."""
    return (following is not None and following.kind == CODE and following.passage == unit.passage
            and unit.kind in (SENTENCE, ITEM) and _introduces(unit.text))


def _introduces(text: str) -> bool:
    """Does the sentence lead into what comes after it: it ends in ":", or runs on into it without a full stop
    ("However, you can set the default timeout globally for all sockets using" / the code doing it)? Python-docs set,
    for the sentence running on: 1865 -> 1866 of 2924 cited, 36 answers given the code such a sentence left hanging."""
    return text.rstrip().endswith(":") or text.rstrip()[-1:].isalnum()


def _resolution(unit: Unit, after: Sequence[Unit]) -> list[Unit]:
    """The sentences going on from a best sentence that only sets a problem up ("Sometimes you want to let a log file
    grow to a certain size, then open a new file …" / "You may want to keep a certain number of these files …" /
    "For this usage pattern, the logging package provides a RotatingFileHandler:"), in its section, up to
    SETUP_REACH of them and the code the last one introduces: the answer comes after the setup that shares the
    question's words. None for any other unit."""
    if unit.kind != SENTENCE or not _SETUP.match(unit.text):
        return []
    going_on: list[Unit] = []
    for following in after[:SETUP_REACH + 1]:
        if following.passage != unit.passage:
            break
        if following.kind == CODE:
            if going_on and _introduces(going_on[-1].text):
                going_on.append(following)
            break
        if following.kind != SENTENCE or following.context != unit.context or len(going_on) == SETUP_REACH:
            break
        going_on.append(following)
    return going_on


def _item_rest(item: Unit, every: Sequence[Unit]) -> list[Unit]:
    """The sentences after a list item's first, up to ITEM_SENTENCES of them: a list answer quotes each item whole
    ("Make a copy when using a list as a key." / "This doesn't work because the list, being a mutable object, …")."""
    at = _index_in(every, item)
    rest: list[Unit] = []
    for unit in every[at + 1 : at + 1 + ITEM_SENTENCES] if at >= 0 else []:
        if unit.kind != SENTENCE or unit.passage != item.passage or not unit.context.endswith(item.text):
            break
        rest.append(unit)
    return rest


def _introduced_list(unit: Unit, after: Sequence[Unit]) -> list[Unit]:
    """The items of the list a sentence ending in ":" introduces ("Python versions are numbered “A.B.C” or “A.B”:"
    / "A is the major version number …"), up to MAX_LIST_ITEMS; none for any other unit."""
    if unit.kind != SENTENCE or not unit.text.rstrip().endswith(":"):
        return []
    return list(takewhile(lambda item: _opens_list(unit, item), after[:MAX_LIST_ITEMS]))


def _list_of(unit: Unit, every: Sequence[Unit], at: int, quoted: Sequence[Unit]) -> list[Unit]:
    """The items of the list the unit (``every[at]``) introduces, each whole, as a list answer quotes them, that are
    not quoted yet; none if it introduces no list."""
    listed = _introduced_list(unit, every[at + 1:] if at >= 0 else [])
    return [said for item in listed for said in [item, *_item_rest(item, every)] if said not in quoted]


def _index_in(every: Sequence[Unit], unit: Unit) -> int:
    """Where the unit is among the passages' units, -1 if not there."""
    try:
        return every.index(unit)
    except ValueError:
        return -1


def _with_verdicts(units: Sequence[Unit], every: Sequence[Unit]) -> list[Unit]:
    """The units, a sentence preceded by the bare verdict opening its paragraph ("In general, no." / "There are
    already millions of lines of Python code around the world, so any change … has to be frowned upon."): the verdict
    is the answer, too short to be chosen alone. Python-docs set: 1708 -> 1709 of 2682 cited, nothing else moved."""
    out: list[Unit] = []
    for unit in units:
        at = _index_in(every, unit) if unit.kind == SENTENCE else -1
        before = every[at - 1] if at > 0 else None
        if (before is not None and before.kind == SENTENCE and before.passage == unit.passage
                and before.context == unit.context and _VERDICT.match(before.text)
                and before not in units and before not in out):
            out.append(before)
        out.append(unit)
    return out


def _with_item_heads(units: Sequence[Unit], every: Sequence[Unit]) -> list[Unit]:
    """The units, a sentence from inside a long list item preceded by the item's first sentence, which says what
    it is about ("Evolution producing humans is the only known example …" before "For a long time humans pursuing
    their inner goal helped to achieve evolution's outer goal …"), unless that is quoted already."""
    out: list[Unit] = []
    for unit in units:
        at = _index_in(every, unit) if unit.kind == SENTENCE else -1
        head = next((u for u in reversed(every[:at]) if u.kind == ITEM or u.passage != unit.passage), None) if at > 0 else None
        if (head is not None and head.kind == ITEM and head.passage == unit.passage and unit.context.endswith(head.text)
                and head not in units and head not in out):
            out.append(head)
        out.append(unit)
    return out


def _with_code_rest(units: Sequence[Unit], every: Sequence[Unit], passages: Sequence[Passage]) -> list[Unit]:
    """The units, a code block cut off by the end of its chunk followed by its rest, when another passage given
    holds it: a long example ("class AsyncZip(threading.Thread): …" / "background = AsyncZip(…)") is split across
    chunks, and the lines that show how to use it are often in the second. The lines the chunks share (their
    overlap) are quoted once. So is a sentence ending its chunk with ":" followed by the example it introduces
    from the next chunk ("… can be simulated without the parameter by using the builtin reversed() function
    twice:" / ">>> double_reversed = list(reversed(sorted(reversed(data), …)))"), as one in the same chunk is."""
    out: list[Unit] = []
    for unit in units:
        out.append(unit)
        rest = _code_rest(unit, every, passages) if unit.kind == CODE else _introduced_code(unit, every, passages)
        if rest is not None and rest not in units and rest not in out:
            out.append(rest)
    return out


def _introduced_code(unit: Unit, every: Sequence[Unit], passages: Sequence[Passage]) -> Unit | None:
    """The code block opening the given passage that goes on from the unit's, when the unit ends its passage with
    ":" (past the lines the two chunks share)."""
    if unit.kind not in (SENTENCE, ITEM) or not _introduces(unit.text) or not _ends_its_passage(unit, every):
        return None
    said = " ".join(passages[unit.passage].text.split())
    for at, passage in enumerate(passages):
        if at == unit.passage or not passage.goes_on_from(passages[unit.passage]):
            continue
        for opening in (u for u in every if u.passage == at and u.kind != HEADING):
            if opening.kind == CODE:
                return opening
            if " ".join(opening.text.split()) not in said:  # past the overlap, and no code yet
                break
    return None


def _ends_its_passage(unit: Unit, every: Sequence[Unit]) -> bool:
    """Is the unit the last of its passage's units (what the next chunk may go on from)?"""
    own = [u for u in every if u.passage == unit.passage]
    return bool(own) and own[-1] == unit


def _code_rest(unit: Unit, every: Sequence[Unit], passages: Sequence[Passage]) -> Unit | None:
    """The rest of a code block that ends its passage, from the given passage that goes on from it, if any."""
    if not _ends_its_passage(unit, every):
        return None
    for at, passage in enumerate(passages):
        if at == unit.passage or not passage.continues_code_of(passages[unit.passage]):
            continue
        opening = next((u for u in every if u.passage == at and u.kind != HEADING), None)
        if opening is None or opening.kind != CODE:
            continue
        mine, theirs = unit.text.splitlines(), opening.text.splitlines()
        shared = max((n for n in range(1, min(len(mine), len(theirs)) + 1) if mine[-n:] == theirs[:n]), default=0)
        if shared < len(theirs):
            return replace(opening, text="\n".join(theirs[shared:]).strip("\n"))
    return None


# An API entry's heading: a name and its parameters ("Path.is_socket()", "popitem(last=True)", "class
# collections.deque([iterable[, maxlen]])"), or the name of an attribute or term a definition list describes
# ("PurePath.suffix", "c_ignored_default", "\Z")
_SIGNATURE_HEADING = re.compile(r"^(?:[a-z]+\s+)?@?(?P<name>[A-Za-z_][\w.]*)\(.*\)$"
                                r"|^(?P<term>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+|[a-z_]\w*|\\[A-Za-z])$")


def _with_entry_headings(question: Question, units: Sequence[Unit], every: Sequence[Unit],
                         passages: Sequence[Passage]) -> list[Unit]:
    """The units, the sentence opening an API entry after the entry's signature ("Path.is_socket()" / "Return True if
    the path points to a Unix socket …"): the entry's first sentence never names what it describes, and an answer
    quoting it alone does not say which call to make to a question not naming it in code. Only the first sentence of the
    entry's first passage found (a later one of the section does not open it), once per entry. Python-docs set: 1451
    -> 1455 of 2305 cited, nothing lost; a sentence naming only another owner's namesake ("… (as returned by
    os.readlink())" under "Path.readlink()") gets it too: 1740 -> 1742 of 2731, nothing lost. So does the description
    of an attribute or term under its name ("PurePath.suffix" / "The file extension of the final component, if any:"):
    1908 -> 1910 of 2971, nothing lost, 30 answers given the name. An entry the question names in code gets its
    signature only when the question names one of its parameters too ("… python.function.entry gives me filename,
    funcname and lineno. Anything else?": the signature lists frameptr): 1977 -> 1978 of 3067, nothing lost, 23
    answers given the signature."""
    heading_of: dict[int, Unit] = {}  # each passage's innermost heading (units_of gives it first) …
    opening_of: dict[int, Unit] = {}  # … and the first unit of its text
    for each in every:
        (heading_of if each.kind == HEADING else opening_of).setdefault(each.passage, each)
    headed: list[Unit] = []
    for unit in units:
        passage, heading = passages[unit.passage], heading_of.get(unit.passage)
        signature = (_SIGNATURE_HEADING.match(heading.text.strip())
                     if unit.kind == SENTENCE and heading is not None else None)
        if (signature and unit == opening_of.get(unit.passage) and all(u.text != heading.text for u in headed)
                and not _writes_entry_name(unit.text, name := signature.group("name") or signature.group("term"))
                and (all(asked.rsplit(".", 1)[-1] != name.rsplit(".", 1)[-1] for asked in question.names)
                     or names_a_parameter(heading.text, question.text))
                and not any(p.source == passage.source and p.section == passage.section and p.start < passage.start
                            for p in passages)):
            headed.append(heading)
        headed.append(unit)
    return headed


def _writes_entry_name(text: str, name: str) -> bool:
    """Does the sentence name the entry it opens ("Path.readlink", or "readlink()" on its own), not only a namesake of
    another owner ("… (as returned by os.readlink())")?"""
    return name in text or re.search(rf"(?<![\w.]){re.escape(name.rsplit('.', 1)[-1])}\b", text) is not None


def _quote(units: Sequence[Unit]) -> Iterator[str]:
    """The chosen units as answer sentences, each ending with its passage's [n] marker; code as a fenced block,
    exactly as written, its marker on the line after it. A sentence leading into the code or the list quoted next
    keeps its colon ("Their syntax is [1]:"), which a full stop would turn into a sentence cut short ("Their syntax is
    [1]."), and the list's items follow it as bullets, as a list answer gives them."""
    after_block = False  # a code block or a list was quoted last: the next sentence opens a paragraph
    lead: Unit | None = None  # the sentence whose list is being quoted …
    item: Unit | None = None  # … and its item quoted last
    for position, unit in enumerate(units):
        following = units[position + 1] if position + 1 < len(units) else None
        marker = f"[{unit.passage + 1}]"
        if unit.kind == CODE:
            yield f"{chr(10) * 2 if position else ''}{quoted_code(unit.text, unit.passage + 1)}"
            after_block, lead = True, None
            continue
        if lead is not None and _opens_list(lead, unit):
            item = unit
            yield f"\n- {f' {marker}. '.join(_bare(s) for s in _sentences_of(unit))} {marker}"
            continue
        if lead is not None and item is not None and unit.kind == SENTENCE and unit.context.endswith(item.text):
            yield f". {_bare(unit.text)} {marker}"  # an item's next sentence, on its line
            continue
        after_block, lead, item = after_block or lead is not None, None, None
        # A unit of several sentences (a labelled line, "Portability alert: …. …."): each sentence carries the
        # marker, so that the citation check reads every one of them as a claim of the passage, not the last alone.
        sentences = _sentences_of(unit)
        for at, sentence in enumerate(sentences):
            text = sentence.lstrip("—–-:;,. ")
            end = text[-1] if text[-1] in "!?" else "."
            if (at == len(sentences) - 1 and text.endswith(":") and following is not None
                    and (following.kind == CODE or _opens_list(unit, following))):
                end, lead = ":", unit if following.kind != CODE else None
            yield f"{chr(10) * 2 if after_block else ' ' if position or at else ''}{_bare(text)} {marker}{end}"
            after_block = False


def _sentences_of(unit: Unit) -> list[str]:
    """The sentences an answer quotes a unit as: a sentence or item of several, each cited, or the unit whole."""
    sentences = passage_sentences(unit.text) if unit.kind in (SENTENCE, ITEM) else []
    return sentences if len(sentences) > 1 else [unit.text]


def _bare(sentence: str) -> str:
    """A sentence without its closing mark, where its [n] marker goes."""
    return sentence.strip().rstrip(" .!?…:;,")


def _opens_list(lead: Unit, unit: Unit) -> bool:
    """Is the unit an item of the list the sentence ending in ":" introduces?"""
    return unit.kind == ITEM and unit.passage == lead.passage and unit.context.endswith(lead.text.rstrip())


def _quotable(unit: Unit, question: Question) -> bool:
    """Could this unit be the answer? Not a question the document asks ("What's the evidence that …?"), except a
    heading expanding the acronym asked about ("Can't we get rid of the Global Interpreter Lock?"); not code
    unless the question asks for code, and never a block of comments alone; not a label (sentences and items
    shorter than MIN_WORDS, except the answer to a question the text asks, a definition under the term asked about:
    "Jython" / "Python implemented in Java.", and a whole sentence of three words or more: "The directory must be
    empty."); a link definition only for a question asking for a link (its words are the body sentence that uses the
    link, a unit of its own)."""
    if unit.kind == HEADING:
        return question.type == EXPANSION
    if unit.kind == LINK:
        return question.type == URL
    if unit.text.endswith("?"):
        return False
    if unit.kind == CODE:
        return question.wants_code and not _only_comments(unit.text)
    if _entry_note(question, unit):
        return False
    return (unit.kind in (ROW, METADATA, LINK) or question.wants_list or unit.after_question  # "I am ambivalent."
            or len(unit.text.split()) >= (2 if question.type in CARRIED_TYPES else MIN_WORDS)
            or unit.kind == SENTENCE and len(unit.text.split()) >= 3 and unit.text.endswith(".")
            or under_term_asked(question, unit) or _under_question_asked(question, unit))


def _only_comments(code: str) -> bool:
    """Is every line of the code block a comment ("# PEG grammar for Python"), none a "#!" line naming the
    interpreter? It shows no code. On bench/pydocs_questions.json: +1 cited of 1,263, no other answer changed (with
    "#!" lines taken for comments, two answers lost the line a script starts with)."""
    lines = [line.lstrip() for line in code.splitlines() if line.strip()]
    return all(line.startswith("#") and not line.startswith("#!") for line in lines)


def _entry_note(question: Question, unit: Unit) -> bool:
    """Is the unit an API entry's note, for a question not asking about what it notes: the release that added or
    changed something ("Changed in version 3.7: Added the defaults parameter …"), which says when, not what or how, or
    the auditing event the entry raises ("Raises an auditing event pathlib.Path.glob with arguments self, pattern."),
    which says what security hooks see? Neither the answer nor the sentence after it. A release note saying what was
    forbidden before ("Changed in version 3.2: Previously it was illegal to delete a name … free variable …") says
    what holds now, and answers "Is del allowed on a name a nested function reads?" (Python-docs set: 1504 -> 1505 of
    2390 cited, nothing else changed; with any note saying "now" or "is raised" too, +2 and -2)."""
    return any(note.search(unit.text) and not asks.search(question.text) for note, asks in _ENTRY_NOTES)


def _under_question_asked(question: Question, unit: Unit) -> bool:
    """Is the unit a sentence under a heading asking what the question asks (a FAQ entry: "How do I check for a
    keypress without blocking?" / "Use the msvcrt module.")? A short one is the answer, not a label."""
    return unit.kind == SENTENCE and heading_asks(question, unit.context)


def build(settings: Settings) -> ExtractiveBackend:
    return ExtractiveBackend()
