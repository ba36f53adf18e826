"""Does a quoted unit answer the question? The one test every backend's citations go through.

A unit *answers* a question when it covers the question's focus (enough of its rare terms, counting the unit's
context such as a table header or a list's lead-in, or a close enough meaning) and, for a typed question,
carries an answer of that type (a year for "in what year …"). Scores rank units for the extractive backend
and for choosing what a decline quotes.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from rag.question import (
    AMOUNT, CALL_ARGUMENTS, CARRIED_TYPES, DATE, DEFINITION, EXPANSION, NUMBER, ORGANISATION, PERCENTAGE, PERSON, VERSION,
    YEAR, YES_NO, Question, asked_acronym, asked_clause, asks_how, carries, entry_title, mentions, names_another_doer,
    says_literally, stemmed_terms, titled_by,
)
from rag.text import CELL_SEPARATOR, content_words, stemmer, terms
from rag.units import (
    CODE, ITEM, LABEL, METADATA, ROW, SENTENCE, Unit, entry_text, field_key, field_words, inline_lead_in,
)

if TYPE_CHECKING:
    from rag.embed import Embedder
    from rag.passage import Passage

# Focus coverage: the IDF-weighted share of the question's focus terms a unit (with its context) must contain,
# or the cosine between question and unit that stands in for it (paraphrases share no words). Set on the
# calibration half of bench/questions.json (bench/results/answers.json).
FOCUS_MIN = 0.5
FOCUS_COSINE = 0.38
# A sentence of the API entry of what the question asks about needs less: the entry is about it, and the question's
# other words are often the asker's situation ("When I call a compiled regular expression's sub() method without
# passing count, how many of the matches get replaced?" / "The default value of 0 means to replace all occurrences.").
# Python-docs set: 548 -> 550 of 879 cited, 53 -> 50 falsely declined, declined unchanged; at 0.2 one evidence sentence
# is outranked by its entry's others.
ENTRY_COSINE = 0.3
FOCUS_COSINE_TYPED = 0.7  # a typed question's verb ("coined", "founded") matters: meaning alone must be closer
# … unless the question asks how much or how many and the unit gives a number, holding some of its words: "Is
# there a rough coverage percentage we should be aiming for?" / "If you want a number to aim for, try to get over
# 80% coverage …" (Python-docs set: 1419 -> 1420 of 2265 cited, 161 -> 159 falsely declined, declined unchanged;
# at a coverage of 0.2, one near-topic question fewer declined). Not a name or a date: any sentence about the topic
# may name a person ("Who wrote the starter pack?" / "Scott Alexander … writes about AI alignment").
MEASURED_TYPES = (NUMBER, PERCENTAGE, AMOUNT)
TYPED_CARRIED_COSINE, TYPED_CARRIED_COVERAGE = 0.45, 0.3
# … and so does what a how-to question wants done: a sentence about the same module or topic is as close in meaning
# as one doing a different thing with it ("To get curses to do the job, … enable keypad mode" for mouse clicks), so
# one unit of a how-to answer must be this close (or hold most of its words): see says_how
FOCUS_COSINE_HOW_TO = 0.6
# "I froze my Tkinter program, but it still only runs where Tcl and Tk are present. What do I have to do to get a
# build that really stands on its own?": the setup's words say where the asker is, the asking clause what they ask.
# A unit's cosine is a blend of the two (Question.asking): 418 -> 426 of 663 Python-docs questions cited, 145 -> 146
# of 170 declined; weights 0.2-0.4 all gain 5-8.
ASKING_WEIGHT = 0.3
# … and a unit holding most of the asking clause's own words covers the question, however few of the setup's it holds
# ("For a queue simulation I need random service times drawn from a bell curve … Which function in the random module
# gives me that?" / "normalvariate(mean, sdev) samples …"), when that clause has this many focus terms to judge by.
# Python-docs set: 1511 -> 1513 of 2390 cited (+3, -1), falsely declined and declined unchanged; from 2 to 3 terms
# the same, 4 one fewer.
ASKING_TERMS_MIN = 3
HOW_TO_COSINE_FLOOR, HOW_TO_COVERAGE_FLOOR = 0.4, 0.2
# A unit's ranking score: the weighted sum of what judge() sees in it (Judged.features). The weights were set by hand
# until bench/fit_scorer.py fitted most of them (bench/results/scorer.md): a pairwise logistic regression ranking each
# tuning question's evidence unit above the other units its answer judged, drawn toward the hand-set weights. The
# ones marked "hand-set" kept their hand-set share: too few tuning questions exercise them (list, lookup, field and
# typed questions), or the behaviour their tests on small documents pin (a glossary entry, a list item, an
# instruction after the asker's setup) moved with them.
SCORE_WEIGHTS = {
    "cosine": 0.879,  # the question's cosine with the unit, its entry ("Term: sentence") or the sentence it finishes
    "own_words": 0.153,  # focus coverage of the unit's own words …
    "context_words": 0.124,  # … and with its context (header, lead-in, section, title)
    "typed": 0.133,  # hand-set: a typed question prefers units carrying its type
    "literal": 0.161,  # the unit says every version / decimal / address the question names, as written
    "concluding": 0.068,  # "What we landed on is …", "In short, …", the answer after a question the text asks
    "listed": 0.086,  # a row or item of a list about what a question asking for several items names
    "led": 0.266,  # hand-set: … above all one whose lead-in / section (with the list's context) names what is asked
    "structured": 0.044,  # hand-set: rows and items are self-contained facts (not a property listed under a term)
    "looks_up": 0.266,  # hand-set: a unit whose label names what is asked and whose cell / section names its subject
    "opening": 0.089,  # hand-set: the first sentence under a heading naming what is asked (a glossary or API entry)
    "api_entry": 0.239,  # … of the API entry of what is asked, holding the question's other words ("What does
    # heapq.heappop return?": the description opening heapq.heappop's own entry, not a sentence using the name)
    "shaped": 0.133,  # hand-set: the asked shape (answer_shape), or finishing the sentence that states the topic
    "field": 0.266,  # hand-set: "What is the title of …": the title field, above the sentence describing the document
    "defines": 0.166,  # a what-is question's term defined (see _defines)
    "passage_rank": -0.093,  # how far down the retrieved passages it is (0 first, 1 from the PASSAGE_RANKS+1-th on)
    "code": 0.112,  # a code block (quotable only for a question asking for code)
}
PASSAGE_RANKS = 9
# A part of a question asking two things that asks who or when, which no unit carrying a name or a date answers,
# leaves the question unanswered: "Who is the release manager for Python 3.11, and how are release managers chosen?"
# is not answered by how releases are made (the extractive backend declines it, as the citation check does any
# backend's answer). Python-docs set: 524 -> 526 of 680 declined, cited unchanged; with every typed part
# (numbers, links), 2 fewer cited ("… and what tool turns them into the website?" asks for no link). A release asked
# for ("In which Python version did CPython drop its old parser, and could I still switch back …?") is a when:
# 535 -> 537 of 692 declined, cited unchanged (one wrong answer declined instead).
WHO_OR_WHEN = (PERSON, ORGANISATION, DATE, YEAR, VERSION)

_CONCLUSION = re.compile(
    r"^(?:in\s+short|in\s+summary|to\s+summari[sz]e|in\s+conclusion|overall|ultimately|the\s+upshot|"
    r"tl;?dr|our\s+(?:answer|conclusion|verdict)|the\s+answer\s+is|what\s+we\s+(?:landed|settled|decided)\s+on)\b"
    r"|\b(?:we\s+(?:landed|settled|decided)\s+on|the\s+answer\s+is|(?:gets|comes)\s+at\s+the\s+core|"
    r"best\s+is|we\s+conclude|our\s+conclusion)\b",
    re.IGNORECASE,
)
# What a how-to question wants is an instruction ("To implement a queue, use collections.deque", "In general, try
# copy.copy()"); a why-question wants a reason ("The advantage is that …"): a sentence of that shape beats one that
# only restates the topic ("It is good practice to use the with keyword …"). Which how-to the gate reads (says_how):
# rag.question.Question.how_to.
_INSTRUCTION = re.compile(r"(?:^|[,:;]\s*)(?:use|call|try|pass|set|add|run|write|import|create|install|open|put|"
                          r"specify|type)\b|\byou\s+(?:can|could|should|need\s+to|must)\s+(?!not\b)"
                          # "To request that the bits be zeroed, the flag strict=False can be passed …"
                          r"|^to\s+[a-z]+\b[^,.]{0,100},|\b(?:can|could|should|must|may)\s+(?:also\s+|\w+ly\s+)?be\s+(?:used|passed|"
                          r"set|given|specified|supplied|added|enabled|disabled|changed|overridden|installed|derived|"
                          r"subclassed|defined|created|written)\b",
                          re.IGNORECASE)
# "Why …?", also asked after its statement ("… changes that cell in every row. Why?", "… in theory, so why is it …?"),
# "What could be causing it?"
_WHY = re.compile(r"^\s*why\b|\bwhy\s*\?\s*$|,\s*(?:so|but|then)\s+why\b"
                  r"|\b(?:explain|reason|wonder|know|understand)\s+why\b|^\s*how\s+come\b"
                  r"|\bwhat\s+(?:could|might|would|can|may)?\s*(?:be\s+)?caus(?:e|es|ing)\b"
                  r"|\bwhat\s+is\s+the\s+(?:reason|cause)\b", re.IGNORECASE)
_REASON = re.compile(r"\b(?:because|since|so\s+that|the\s+(?:advantage|benefit|reason)|this\s+is\s+why|that\s+is\s+why|"
                     r"in\s+order\s+to|this\s+means|driven\s+by|otherwise|to\s+avoid|ensures?|guarantees?|caused\s+by|due\s+to|"
                     r"the\s+(?:cause|problem)\s+(?:is|may\s+be|might\s+be|can\s+be))\b", re.IGNORECASE)
# "Where does the global statement have to go?" wants the rule that places it ("The global statement must precede all
# uses of the listed names.", "… and it must be last", "The #! must be the first two characters of the file.").
_WHERE_IT_GOES = re.compile(r"\bwhere\s+(?:exactly\s+)?(?:does|do|must|should|can|is|are)\b[^?]*\b(?:have\s+to|has\s+to|"
                            r"must|should|go|goes|allowed|appear)\b", re.IGNORECASE)
_PLACEMENT = re.compile(r"\b(?:must|should|has\s+to|have\s+to|needs?\s+to|can\s+only|may\s+only)\s+(?:\w+\s+){0,3}?"
                        r"(?:precede|follow|come|appear|occur|be\s+(?:the\s+)?(?:first|last|placed|put|defined|written|at|in|"
                        r"on|before|after|near|inside|within)|be\s+\w+\s+(?:before|after|at|in))\b", re.IGNORECASE)
# "Is switching to defaultdict(list) worth it, or is it just a matter of taste?", "Is there any downside to the class
# version?" wants the page's judgement of it ("This technique is simpler and faster than …", "… has the disadvantage
# that it is a bit slower …", "… pre-compiling it will save a few function calls"). Python-docs set: 1672 -> 1674 of
# 2633 cited, nothing lost (without "save", one lost). So does one asking whether it is quicker ("Would wrapping them
# in a ChainMap be quicker than that?" / "It is often much faster than creating a new dictionary …"), read from the
# asking clause: "He claims it also runs faster. Why would it?" asks for a reason (1706 -> 1707 of 2682, nothing lost;
# from the whole question, one lost). And one asking whether it makes sense, answered by a rule against it ("Does it
# make sense to put a quantifier on a zero-width assertion?" / "… zero-width assertions should never be repeated, …":
# 1735 -> 1736 of 2731, nothing lost).
_MERIT_ASKED = re.compile(r"\b(?:worth\s+(?:it|the\s+\w+|\w+ing)|matter\s+of\s+taste|any\s+(?:better|worse)|"
                          r"quicker|faster|slower|downsides?|drawbacks?|disadvantages?|advantages?|"
                          r"benefits?|pros\s+and\s+cons|"
                          r"(?:good|bad)\s+(?:idea|habit|practice)|preferable|recommended|"
                          r"makes?\s+sense)\b", re.IGNORECASE)
_MERIT = re.compile(r"\b(?:simpler|faster|slower|quicker|easier|harder|cleaner|clearer|safer|better|worse|"
                    r"more\s+(?:efficient|readable|robust|reliable|convenient|flexible|concise|complicated)|"
                    r"less\s+(?:efficient|readable|error-prone|convenient)|(?:dis)?advantages?|drawbacks?|downsides?|"
                    r"benefits?|saves?|(?:good|bad|best)\s+practice|bad\s+idea|recommended|preferred|preferable|"
                    r"should\s+(?:never|not|always))\b",
                    re.IGNORECASE)
# "What happens if I call with_name() on a path that has no name?": the sentence stating that case's outcome ("If the
# original path doesn't have a name, ValueError is raised"), not the entry's opening. Python-docs set: 1892 -> 1894 of
# 2971 cited, nothing lost, 14 answers changed.
_OUTCOME_ASKED = re.compile(r"\bwhat\s+happens\s+(?:if|when)\b", re.IGNORECASE)
_OUTCOME = re.compile(r"^\s*(?:if|when|whenever|unless|otherwise)\b", re.IGNORECASE)
# A what-is question wants a sentence saying what the thing is: it is the sentence's subject ("The nonlocal statement
# causes …", "An Enum is a set of …") or what the sentence calls something ("Any function containing a yield
# keyword is a generator function", "… (also called f-strings)"; a glossary item "Term: what it is").
_SUBJECT_LEAD = re.compile(r"^(?:the|a|an|any|every|each)\s+", re.IGNORECASE)
# "However, aliasing has a surprising effect …" goes on from the sentence before: what it says of the term is no
# definition of it
_GOES_ON = re.compile(r"^(?:however|but|also|still|yet|moreover|furthermore|nevertheless|nonetheless|unfortunately|"
                      r"similarly|likewise|instead|otherwise|thus|hence|therefore|so|and)\b", re.IGNORECASE)
_REPORTS = re.compile(r"\b(?:has\s+been|have\s+been|was|were)\b", re.IGNORECASE)  # "X has been observed …" tells
# of X, not what it is
_NAMED_AS = [re.compile(pattern, re.IGNORECASE) for pattern in (
    r"\b(?:is|are)\s+(?:(?:called|known\s+as|what\s+we\s+call)\s+(?:an?\s+|the\s+)?|an?\s+|the\s+)(.+)$",
    r"\((?:also\s+)?(?:called|known\s+as)\s+([^)]+)\)", r",\s+(?:called|known\s+as)\s+(.+)$",
    r",\s+or\s+(.+?)(?:\s+for\s+short)?\s*[.;]?$")]  # "… the function's documentation string, or docstring."

_WHICH_IS = re.compile(r",\s+which\s+(?:is|are)\s+(?:an?|the)\s", re.IGNORECASE)

_CONCLUSION_SECTION = re.compile(r"\b(?:conclusions?|summary|tl;?dr|takeaways?|answer|verdict|key\s+facts)\b", re.I)


@dataclass(frozen=True)
class Judged:
    unit: Unit
    score: float  # ranking score
    cosine: float  # question vs the unit's own text
    covers: bool  # the unit covers the question's focus
    carries: bool  # the unit carries an answer of the question's type (always true for untyped questions)
    vector: np.ndarray = field(repr=False, compare=False, default=None)  # the unit's text embedding
    finishes: Unit | None = None  # the sentence before it stating what is asked about, which it answers (quoted
    # with it: "By default, enumerations allow aliases." / "When this isn't desired, use the unique() decorator:")
    features: dict[str, float] = field(repr=False, compare=False, default_factory=dict)  # what ``score`` weighs

    @property
    def answers(self) -> bool:
        return self.covers and self.carries


def covers(question: Question, unit: Unit, cosine: float) -> bool:
    """Enough of the question's rare terms are in the unit (with its context), or its meaning is close enough
    (paraphrases share no words)."""
    if question.unknown or question.unwritten:
        return False  # the question asks about a name no indexed passage holds, or an acronym none found writes
    if unit.kind == METADATA and not asks_about_field(question, unit):
        return False  # "title: X" is no answer to "what does X do?"
    if question.asks_what_it_is and (unit.cross_reference or lead_in(unit.text) or POINTER.match(unit.text)):
        return False  # "The specification for the nonlocal statement." / "Here's a simple example of a generator:" /
        # "More information can be found at the Jython website."
    if restates(question, unit):
        return False  # "date: 2024-06-09" is no answer to "what is the title of the post dated 2024-06-09?"
    if _NOT_COVERED.search(unit.text):
        return False  # "This HOWTO doesn't cover … capturing mouse events": it says the answer is elsewhere
    if names_field(question, unit) and question.coverage(f"{unit.matched} {unit.document}", unit.title) >= FOCUS_MIN:
        return True  # "the title of the post produced in the SERI … program": the document is named by its content
    if question.way_named is not None and question.way_named.match(unit.text):
        return True  # "What is the easiest way to do that?" / "The easiest way is to use the concurrent.futures module"
    if in_own_entry(question, unit) and cosine >= ENTRY_COSINE:
        return True  # "sub() … without passing count, how many matches get replaced?" / "The default value of 0 …"
    if question.literals and cosine >= ENTRY_COSINE and all(says_literally(v, unit.text) for v in question.literals):
        return True  # "… the behaviour Python had before 3.2 … What do I have to set?" / "To obtain the pre-3.2
        # behaviour, logging.lastResort can be set to None." (Python-docs set: 1416 -> 1417 of 2265 cited)
    typed = question.type in CARRIED_TYPES
    coverage = question.coverage(unit.matched, unit.title)
    asked = question.asking_terms
    return (coverage >= FOCUS_MIN or cosine >= (FOCUS_COSINE_TYPED if typed else FOCUS_COSINE)
            or len(asked) >= ASKING_TERMS_MIN and question.coverage(unit.matched, unit.title, asked) >= FOCUS_MIN
            or question.type in MEASURED_TYPES and cosine >= TYPED_CARRIED_COSINE
            and coverage >= TYPED_CARRIED_COVERAGE and carries_answer(question, unit.text))


def says_how(question: Question, unit: Unit, cosine: float) -> bool:
    """Could the unit tell how to do what a how-to question asks: it holds most of the question's words, or is
    closer in meaning than FOCUS_COSINE_HOW_TO? An answer to a how-to question needs one such unit; the others may
    be looser (the statement before the instruction, the instruction after it). True for any other question."""
    if (asked := question.how_to) is None:
        return True
    question = asked
    # The entry of the call named for what is asked, on the type asked about, says how in its own words: "how do I
    # count … in a list" / list.count(x), "… get Path.glob() to hand me only the subfolders" / Path.glob(pattern).
    # Python-docs set: 1413 -> 1415 of 2265 cited, 167 -> 164 falsely declined, declined unchanged.
    if cosine >= HOW_TO_COSINE_FLOOR and _entry_does_asked(question, unit):
        return True
    coverage = question.coverage(unit.matched, unit.title)
    # A how-to asking for something no passage writes a word of ("How do I get the broadcast address of a network
    # with ipaddress?", "… using the themed ttk widgets") is not answered by a sentence close in meaning, which is
    # about what the pages do say of the module; only one holding most of its words may say how. On the Python-docs
    # set: 179 -> 181 of 212 declined, 518 -> 517 of 831 cited (textwrap never says "reformat"), 48 -> 50 falsely
    # declined. One as close in meaning as a typed question's answer must be still may ("… count downwards …?" / "…
    # specify a different increment (even negative; …)": 1 more cited of 1887, declined unchanged).
    if question.unheld & question.focus.keys():
        return coverage >= FOCUS_MIN and cosine >= HOW_TO_COSINE_FLOOR or cosine >= FOCUS_COSINE_TYPED
    # Otherwise words or meaning, each with some of the other, unless the meaning is very close: the words of an API
    # entry's signature without its meaning ("Changed in version 3.6: fp can now be a binary file." for JSON with
    # comments), or the meaning of the same module without the thing asked ("… enable keypad mode" for mouse clicks in
    # curses, 0.67). A unit close in meaning with few of the words must still name the most specific thing asked that
    # the index knows: "The JSON file to be validated or pretty-printed:" does not say how to validate against a JSON
    # schema, nor "The simplest way to use urllib.request is as follows:" how to upload a file with it.
    holds_rarest = question.rarest is None or holds(unit, question.rarest)
    return (coverage >= FOCUS_MIN and cosine >= HOW_TO_COSINE_FLOOR or cosine >= FOCUS_COSINE_TYPED
            or cosine >= FOCUS_COSINE_HOW_TO and coverage >= HOW_TO_COVERAGE_FLOOR and holds_rarest)


# An API entry's signature heading: "list.count(x)", "classmethod Path.cwd()", "str.ljust(width[, fillchar])".
_ENTRY_CALL = re.compile(r"^(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*)\.([A-Za-z_]\w*)\(")


def _entry_does_asked(question: Question, unit: Unit) -> bool:
    """Is the unit a sentence of the API entry of a call named for what a how-to asks to do, on a type the question
    names ("how do I count how many times 'ERROR' shows up in a list …?" / list.count(x): "Return the number of times
    x appears in the list.")? Its words are the entry's, not the asker's, but the call is what they ask for."""
    if unit.kind != SENTENCE or not unit.context:
        return False
    call = _ENTRY_CALL.match(entry_title(unit.context))
    if call is None:
        return False
    owner, name = call.groups()
    return (stemmer().stemWord(name.lower()) in question.focus
            and re.search(rf"\b{re.escape(owner)}s?\b", question.text, re.IGNORECASE) is not None)


def in_own_entry(question: Question, unit: Unit) -> bool:
    """Is the unit a sentence of the API entry of every code name the question asks about (under a heading titled by
    its signature: "sub(replacement, string[, count=0])")?"""
    return (bool(question.asked_names) and unit.kind == SENTENCE and bool(unit.context)
            and all(titled_by(name, unit.context) for name in question.asked_names))


def says_whether(question: Question, unit: Unit, cosine: float) -> bool:
    """Could the unit answer a yes/no question: it holds the most specific thing asked that the index knows (the
    focus term of highest IDF some passage holds, Question.specific: only in an index of UNHELD_MIN_PASSAGES
    passages or more, where the rarest word is no common one a few notes happen to lack), or is as close in meaning
    as a how-to's answer must be (FOCUS_COSINE_HOW_TO)? "Can I give a regular expression search a time limit …?" is
    not answered by a sentence about regular expressions that says nothing of time. True for any other question. On
    the Python-docs set: 192 -> 194 of 224 near-topic questions declined, cited unchanged (552 of 879); four
    answerable questions whose answers cited no evidence are declined instead (50 -> 54 falsely declined). A question
    asking for a judgement ("Is wrapping everything in except Exception: a good habit …?") is spoken to by one in any
    words ("However, it is good practice to be as specific as possible …"): its rarest word frames what it asks
    (1739 -> 1740 of 2731 cited, nothing lost)."""
    if question.type != YES_NO or question.specific is None:
        return True
    # the unit's judgement word first: the question's shape is read only for the few units holding one
    return (cosine >= FOCUS_COSINE_HOW_TO or holds(unit, question.specific)
            or bool(_MERIT.search(unit.text)) and answer_shape(question) is _MERIT)


def tells_what_is_asked(question: Question, unit: Unit, cosine: float) -> bool:
    """The gate one unit of an answer must pass (in the extractive backend and the citation check alike): it says how
    for a how-to question, speaks of what a yes/no question asks."""
    return says_how(question, unit, cosine) and says_whether(question, unit, cosine)


def holds(unit: Unit, term: str) -> bool:
    """Does the unit, with its context and document title, hold the stemmed ``term``?"""
    return term in stemmed_terms(f"{unit.matched} {unit.title}")


_NOT_COVERED = re.compile(r"\b(?:does|do|will)\s*(?:n[o’']t|not)\s+(?:cover|discuss|describe|explain|address|go\s+into)\b"
                          r"|\bbeyond\s+the\s+scope\b|\bnot\s+covered\s+(?:here|in\s+this)\b", re.IGNORECASE)
POINTER = re.compile(r"(?:(?:more|further)\s+(?:information|details)\b|for\s+(?:more|further)\s+(?:information|details)\b"
                     r"|see\s|refer\s+to\b)", re.IGNORECASE)
LEAD_IN_WORDS = 12  # a line ending in ":" this short only introduces what follows (an example, a list)


def lead_in(text: str) -> bool:
    """"Here's the simplest example of a generator function:", "UTF-8 has several convenient properties:" (not
    "When the answer is not to count toward the mark, one uses the \\QuestionIndicative command, as in …:")."""
    return text.rstrip().endswith(":") and len(text.split()) < LEAD_IN_WORDS


def written_text(passage: Passage) -> str:
    """What a passage writes, for telling whether it names something: its document title, section path and text."""
    return f"{passage.title}\n{passage.section}\n{passage.text}"


def names_found(question: Question, passage: Passage) -> bool:
    """Does the passage (text, section path, document title) name every code name the question asks about
    (Question.asked_names; one of them is enough when only the setup names them: Question.names_set_up), is it in a
    section another passage naming it is in (Question.discussed), or is it on the name's module page that documents
    it? "What does os.walk yield?" is not answered by a page that never names os.walk, however close its words;
    "Will json.loads skip a byte order mark?" is, by the json page's "This module's deserializer raises a ValueError
    when an initial BOM is present." One name only the setup writes, which a passage found writes, need not be
    named at all: it is where the asker is ("My script finishes with sys.exit(1) … Does Python print a stack traceback
    for it …?" / "In either case, it prints a stack traceback, except when the exception is SystemExit."). On the
    Python-docs set: +5 and -3 cited of 1,215, 2 fewer falsely declined, declined unchanged; without the passage
    found writing it, 5 fewer near-topic questions declined. Names the passages found write, but never in one section
    together, need only one of them there: "… wait for a key with getch(). Do I have to call refresh() myself …?" is
    answered by "getch() refreshes the screen …" in a section that never writes refresh() (Python-docs set: 1301 ->
    1303 of 2079 cited, 149 -> 145 falsely declined, declined unchanged)."""
    where, deferred, section = written_text(passage), question.deferred, (passage.source, passage.section)
    if question.names_set_up and len(question.asked_names) == 1 and question.asked_names[0] in question.discussed:
        return True
    named = any if question.names_set_up or question.names_apart else all
    return named(mentions(name, where) or name in deferred and mentions(deferred[name], where)
                 or passage.source in question.documented.get(name, ())
                 or section in question.discussed.get(name, ()) for name in question.asked_names)


def heading_asks(question: Question, heading: str) -> bool:
    """Is the heading a question asking what this one asks (a FAQ entry's: "How do I check for a keypress without
    blocking?"), a remark in brackets after it or not ("How do I delete a file? (And other file questions…)")?"""
    return _ASIDE.sub("", heading).endswith("?") and question.coverage(heading) >= FOCUS_MIN


_ASIDE = re.compile(r"\s*\([^()]*\)\s*$")


def restates(question: Question, unit: Unit) -> bool:
    """Does the unit only repeat the question (every one of its terms is in it)?"""
    said = terms(unit.text)
    return bool(said) and said <= terms(question.text)


def asks_about_field(question: Question, unit: Unit) -> bool:
    """Does the question ask for what this front-matter field holds (its name or a word for it: "published")?"""
    asked = set(re.findall(r"[a-z]+", question.text.lower()))
    fields = field_words(unit)
    return bool(asked & fields or set(stemmer().stemWords(list(asked))) & set(stemmer().stemWords(list(fields))))


def names_field(question: Question, unit: Unit) -> bool:
    """Does the question name this metadata unit's field itself ("What is the title of …")?"""
    return unit.kind == METADATA and stemmer().stemWord(field_key(unit)) in stemmed_terms(question.text)


def carries_answer(question: Question, text: str) -> bool:
    acronym = asked_acronym(question.text) if question.type == EXPANSION else None
    return carries(text, question.type, acronym) and not (question.type == NUMBER and counts_something_else(question, text)
                                                          or question.type == PERSON and names_another_doer(question.text, text))


_COUNTED = re.compile(r"\b(?:how\s+many|number\s+of)\s+([a-z]+)", re.IGNORECASE)


def counts_something_else(question: Question, text: str) -> bool:
    """Does the text give the number of other things than the question counts? "The maximum number of answers
    for a given question is 199" does not say how many questions an exam may have."""
    asked = [m.group(1).lower() for m in _COUNTED.finditer(question.text)]
    given = [m.group(1).lower() for m in re.finditer(r"\bnumber\s+of\s+([a-z]+)", text, re.IGNORECASE)]
    if not asked or not given:
        return False
    return not set(stemmer().stemWords(asked)) & set(stemmer().stemWords(given))


def question_vector(question: Question, embedder: Embedder) -> np.ndarray:
    """The vector a unit's cosine with the question is taken with: the question's, weighing its asking clause more
    than the setup before it (ASKING_WEIGHT)."""
    asked = embedder.encode_query(question.text)
    if question.asking:
        asked = (1 - ASKING_WEIGHT) * asked + ASKING_WEIGHT * embedder.encode_query(question.asking)
    return asked


def judge(question: Question, units: Sequence[Unit], embedder: Embedder, sections: Sequence[str] = ()) -> list[Judged]:
    """Every unit scored and judged, best first; ``sections`` are the passages' section paths (by unit.passage)."""
    if not units:
        return []
    vectors = embedder.encode([unit.text for unit in units])
    asked = question_vector(question, embedder)
    cosines = vectors @ asked
    # A definition under its term's heading is read as "Term: definition" (a glossary entry): the heading is the
    # sentence's subject, so it counts as the sentence's own words and meaning.
    opening = {unit: entry_text(unit) for unit in _section_openings(question, units, sections)}
    entry_cosines = dict(zip(opening, embedder.encode(list(opening.values())) @ asked)) if opening else {}
    defining = question.asks_what_it_is and not question.wants_list
    shape = answer_shape(question)
    judged = []
    for at, (unit, cosine, vector) in enumerate(zip(units, cosines, vectors)):
        cosine = float(cosine)
        # The context (header, lead-in, section, title) decides coverage but ranks less than the unit's own words:
        # otherwise every sentence of a document whose title repeats the question would tie.
        coverage = question.coverage(unit.matched, unit.title)
        own = question.coverage(opening.get(unit, unit.text))
        if names_field(question, unit):  # the field's own words are its value; what it is the field of, its document
            own = coverage = question.coverage(f"{unit.matched} {unit.document}", unit.title)
        ranked_cosine = max(cosine, float(entry_cosines.get(unit, cosine)))
        carried = units[at - 1] if at and carries_on(question, units[at - 1], unit) else None
        if carried:  # ranked as the sentence it finishes: that one says what is asked about, this one answers it
            ranked_cosine = max(ranked_cosine, float(cosines[at - 1]))
            own = max(own, question.coverage(units[at - 1].text))
        has_type = carries_answer(question, unit.text)
        concluding = bool(_CONCLUSION.search(unit.text)) or unit.after_question or (
            unit.passage < len(sections) and bool(_CONCLUSION_SECTION.search(sections[unit.passage].rsplit(" > ", 1)[-1]))
        )
        structured = unit.kind in (ROW, ITEM)
        # A list question wants a list about what it asks: one whose lead-in or section names part of the focus,
        # a table or list, or items listed inline after a lead-in ("The follow-up videos are also worth watching: …").
        list_lead = f"{inline_lead_in(unit)} {unit.context}" if question.wants_list and inline_lead_in(unit) else ""
        listed = question.wants_list and (structured or bool(list_lead)) and question.coverage(list_lead or unit.context) > 0
        if listed:
            own = coverage
        # … and most a list whose lead-in names what is asked: the items, not a sentence that shares their words.
        led = listed and question.coverage(list_lead or unit.context, unit.title) >= FOCUS_MIN
        literal = bool(question.literals) and all(says_literally(value, unit.text) for value in question.literals)
        features = {
            "cosine": ranked_cosine, "own_words": own, "context_words": coverage,
            "typed": float(has_type and question.type is not None), "literal": float(literal),
            "concluding": float(concluding), "listed": float(listed), "led": float(led),
            "structured": float(structured and not (defining and _a_property(question, unit))),
            "looks_up": float(_looks_up(question, unit)), "opening": float(unit in opening),
            "api_entry": float(unit in opening and unit.passage < len(sections)
                               and _documents(question, sections[unit.passage])
                               and _says_the_rest(question, unit.text)),
            "shaped": float(bool(shape and shape.search(unit.text)) or bool(carried)),
            "field": float(names_field(question, unit)), "defines": float(defining and _defines(question, unit)),
            "passage_rank": min(unit.passage, PASSAGE_RANKS) / PASSAGE_RANKS, "code": float(unit.kind == CODE),
        }
        score = weighted(features)
        # … and quoted after it unless it says what it answers itself ("To keep a job queue, use a ring of tickets …");
        # code always comes under the prose that introduces it
        finishes = carried if carried and (unit.kind == CODE or question.coverage(unit.text) < FOCUS_MIN) else None
        judged.append(Judged(unit, score, cosine, covers(question, unit, ranked_cosine if carried else cosine), has_type,
                             vector, finishes, features))
    return sorted(judged, key=lambda j: -j.score)


def weighted(features: dict[str, float], weights: dict[str, float] = SCORE_WEIGHTS) -> float:
    """A unit's ranking score: its features (Judged.features) weighed by ``weights``."""
    return sum(weights[name] * value for name, value in features.items())


def heading_names(question: Question, heading: str) -> bool:
    """Is the heading titled by what the question asks about: every code name it asks ("__slots__",
    "@functools.cache(user_function)"), or, with none, most of its focus ("Formatted string literals")?"""
    if question.names:
        return all(titled_by(name, heading) for name in question.names)
    return question.coverage(heading) >= FOCUS_MIN


def _documents(question: Question, section: str) -> bool:
    """Is the section an API entry for every code name the question asks about (titled by its signature)?"""
    entry = section.rsplit(" > ", 1)[-1]  # "most_common([n])" under "Counter objects" documents Counter.most_common
    return bool(question.names) and all(mentions(name, section) and titled_by(name, entry) for name in question.names)


def _says_the_rest(question: Question, text: str) -> bool:
    """Does the text hold every focus term the question adds to the code names it asks about? "What does Path.mkdir
    do when parents is true?" asks about one parameter, which the entry's opening does not mention."""
    named = stemmed_terms(" ".join(re.sub(r"[._]+", " ", name) for name in question.names))
    return set(question.focus) - named <= stemmed_terms(text)


def _a_property(question: Question, unit: Unit) -> bool:
    """Is the item one of a list of properties of what a what-is question asks about ("UTF-8 has several
    convenient properties:" / "UTF-8 is a byte oriented encoding."), not a glossary entry? No self-contained fact
    to prefer over the sentence defining it."""
    return unit.kind == ITEM and not LABEL.match(unit.text) and question.coverage(unit.context) >= FOCUS_MIN


def _defines(question: Question, unit: Unit) -> bool:
    """Does the prose sentence say what the question's focus is: the focus opens it (as its subject, followed by
    more than a few words) or is what the sentence names something ("… is a generator function", "(also called
    f-strings …)", "…, called name mangling")? An item does only as a glossary entry ("Specification gaming: A system …"), not as one of a
    list of properties ("UTF-8 has several convenient properties:" / "UTF-8 is a byte oriented encoding.")."""
    focus, text = set(question.defined), unit.text
    if not focus or unit.kind not in (SENTENCE, ITEM):
        return False
    if unit.kind == ITEM:
        return bool(m := LABEL.match(text)) and focus <= stemmed_terms(m.group(1))
    words = _SUBJECT_LEAD.sub("", text).split()
    span = len(focus) + 1
    if (len(words) > span + 3 and focus <= stemmed_terms(" ".join(words[:span]))
            and not _REPORTS.search(" ".join(words[:span + 2])) and not _GOES_ON.match(text)):
        return True
    # … or is what a clause after it says it is ("… specifying a character class, which is a set of characters …")
    for m in _WHICH_IS.finditer(text):
        if focus <= stemmed_terms(" ".join(text[: m.start()].split()[-span:])):
            return True
    # The name opens what the sentence calls it ("… is encoded in UTF-8" does not) …
    for calling, pattern in enumerate(_NAMED_AS):
        for m in pattern.finditer(text):
            named = re.split(r"[;,.:(]", m.group(1))[0].split()
            # … its rarer words at least: "a mechanism, called name mangling" names what "name mangling in Python
            # classes" asks about; after "is a" the name comes first ("… is the core research agenda" is no name)
            opening, name = " ".join(named[:2] if calling else named[:1]), " ".join(named[:span])
            defines_name = (question.coverage(name, terms=question.defined) >= FOCUS_MIN if calling
                            else focus <= stemmed_terms(name))
            if stemmed_terms(opening) & focus and defines_name:
                return True
    return False


def carries_on(question: Question, before: Unit, unit: Unit) -> bool:
    """Does ``unit`` give what the question asks for right after the sentence ``before`` that states what it asks
    about: the reason after the statement for a why-question ("It is good practice to use the with keyword …" /
    "The advantage is that the file is properly closed …"), the instruction after the behaviour a how-to question
    wants changed ("By default, enumerations allow multiple names as aliases …" / "When this behavior isn't desired,
    you can use the unique() decorator:"), the code under the prose introducing it for a question asking for code
    ("To create a virtual environment, … run the venv module …:" / "python3 -m venv tutorial-env"), the value a typed
    question asks for in a sentence whose subject is the one before it ("… makes .NET libraries available." / "It
    was created by Brian Lloyd.": Python-docs set 1484 -> 1485 of 2351 cited, 164 -> 163 falsely declined, declined
    unchanged)?"""
    if before.passage != unit.passage or before.kind != SENTENCE:
        return False
    if _WHY.search(question.text):
        return unit.kind == SENTENCE and bool(_REASON.search(unit.text)) and not _REASON.search(before.text)
    if is_how_to(question) and unit.kind == SENTENCE:
        return bool(_INSTRUCTION.search(unit.text)) and not _INSTRUCTION.search(before.text)
    if question.type in CARRIED_TYPES and unit.kind == SENTENCE and (_SUBJECT_BEFORE.match(unit.text)
                                                                      or names_a_parameter(before.text, unit.text)):
        return carries_answer(question, unit.text) and not carries_answer(question, before.text)
    return question.wants_code and unit.kind == CODE


# "It was created by Brian Lloyd.": a sentence whose subject is what the one before it speaks of
_SUBJECT_BEFORE = re.compile(r"^(?:it|they|he|she|this|these)\s", re.IGNORECASE)


def names_a_parameter(signature_text: str, text: str) -> bool:
    """Does ``text`` speak of a parameter of the call the sentence before writes ("itertools.tee(iter, [n])
    replicates an iterator …" / "If you don't supply a value for n, the default is 2."): it goes on about that call.
    A stop word ("a", "in"), a Python keyword ("None") or a method's own instance or class ("self", "cls") in the
    brackets is no parameter's name."""
    return any(re.search(rf"(?<![\w.]){re.escape(name)}(?![\w(])", text)
               for params in CALL_ARGUMENTS.findall(signature_text)
               for name in re.findall(r"[A-Za-z_]\w*", params)
               if content_words(name) and not keyword.iskeyword(name) and name not in ("self", "cls"))


def is_how_to(question: Question) -> bool:
    return asks_how(question.text)


def answer_shape(question: Question) -> re.Pattern[str] | None:
    """The shape of sentence the question asks for: an instruction for a how-to question, a reason for a why-question,
    a rule placing something for a question asking where it has to go, a judgement for one asking whether something
    is worth it (read from its asking clause: "He claims it also runs faster. Why would it?" asks for none), a case's
    outcome for one asking what happens if. Found once per question, not per unit judged."""
    if is_how_to(question):
        return _INSTRUCTION
    if _WHY.search(question.text):
        return _REASON
    if _WHERE_IT_GOES.search(question.asking or question.text):
        return _PLACEMENT
    if _MERIT_ASKED.search(asked_clause(question.text)):
        return _MERIT
    if _OUTCOME_ASKED.search(asked_clause(question.text)):
        return _OUTCOME
    return None


def _looks_up(question: Question, unit: Unit) -> bool:
    """A lookup: the unit labels what the question asks and names its subject elsewhere — a table row with the
    asked attribute in a header and the subject in a cell ("Organisation: Anthropic · Agenda: …" for "What is
    Anthropic's agenda?"), or a labelled line under a heading naming the subject ("Limitations: …" in the section
    "Reinforcement Learning from Human Feedback (RLHF)" for "What are the limitations of RLHF?")."""
    if unit.kind == ROW and CELL_SEPARATOR in unit.text and not question.wants_list:
        cells = [cell.split(": ", 1) for cell in unit.text.split(CELL_SEPARATOR)]
        label = " ".join(cell[0] for cell in cells if len(cell) == 2)  # a value without a header labels nothing
        subject = " ".join(cell[-1] for cell in cells)
    elif unit.kind in (SENTENCE, ITEM) and (m := LABEL.match(unit.text)):
        label, subject = m.group(1), unit.context
    else:
        return False
    asked, named = terms(label) & question.focus.keys(), (terms(subject) - terms(label)) & question.focus.keys()
    return bool(asked) and bool(named) and question.coverage(unit.matched, unit.title) >= FOCUS_MIN


def under_term_asked(question: Question, unit: Unit) -> bool:
    """Is the unit a sentence under a heading naming what a definition question asks about ("Jython" / "Python
    implemented in Java.", a glossary entry or a section titled by the term)?"""
    return (unit.kind == SENTENCE and bool(unit.context) and question.type == DEFINITION
            and question.coverage(unit.context) >= FOCUS_MIN)


def _section_openings(question: Question, units: Sequence[Unit], sections: Sequence[str] = ()) -> set[Unit]:
    """The first prose unit of each passage whose section heading names what the question asks about: for a
    definition question a heading naming the focus over a sentence that does not repeat it ("Scalable Oversight"
    / "Techniques for supervising …"); for a question about code names an API entry titled by their signature
    ("heapq.heappop(heap)" / "Pop and return the smallest item …"); for any question a heading that asks it (a FAQ
    entry: "How do I copy an object in Python?" / "In general, try copy.copy() …"); and the answer to a question the
    text asks itself, when that question asks what this one does."""
    openings, seen = set(), set()
    for unit in units:
        if unit.after_question and question.coverage(unit.context) >= FOCUS_MIN:
            openings.add(unit)  # the text asks what the question asks ("What is my take on this? I am ambivalent.")
        if unit.kind not in (SENTENCE, ITEM) or unit.passage in seen:
            continue
        seen.add(unit.passage)
        heading = unit.context if unit.kind == SENTENCE else ""
        path = sections[unit.passage] if unit.passage < len(sections) else heading
        if not heading:
            continue
        if question.names and _documents(question, path) or (
            under_term_asked(question, unit) and question.coverage(unit.text) < FOCUS_MIN
        ) or heading_asks(question, heading):
            openings.add(unit)
    return openings


def best_cosines(claims: Sequence[str], texts: Sequence[str], embedder: Embedder) -> np.ndarray:
    """claims x texts cosine matrix (empty-safe)."""
    if not claims or not texts:
        return np.zeros((len(claims), len(texts)), dtype=np.float32)
    return embedder.encode(list(claims)) @ embedder.encode(list(texts)).T
