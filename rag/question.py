"""What a question asks for: its expected answer type, its focus terms (weighted by rarity), whether it wants
several items, and whether it only makes sense after the conversation before it.

The answer pipeline uses this to decide whether a quoted unit *answers* the question (it covers the focus and,
for a typed question, carries an answer of that type: a year for "in what year", a name for "who wrote") and
to decline honestly otherwise. Pure text processing plus an IDF function supplied by the caller (the index's
own BM25 statistics), so any module above rag/text.py may import it.
"""

from __future__ import annotations

import builtins
import functools
import math
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache

from rag.text import content_words, stemmer, terms

# Expected answer types. "definition", "list" and "yes/no" shape the answer; the others must appear in it.
PERSON, ORGANISATION, DATE, YEAR, VERSION, NUMBER, LIMIT, PERCENTAGE, AMOUNT, PLACE, URL, EXPANSION = (
    "person", "organisation", "date", "year", "version", "number", "limit", "percentage", "amount", "place", "url",
    "expansion",
)
DEFINITION, LIST, YES_NO = "definition", "list", "yes/no"
CARRIED_TYPES = (PERSON, ORGANISATION, DATE, YEAR, VERSION, NUMBER, LIMIT, PERCENTAGE, AMOUNT, PLACE, URL, EXPANSION)

_I = re.IGNORECASE
# What "where can I find / see / get" asks a link for: a thing kept on the web ("a collection of code examples",
# "the current development sources", "an overview of the GUI frameworks"), not a value of the asker's program ("the
# arguments the exception was created with")
_RESOURCE = (r"(?:\s+[\w'’-]+){0,5}?\s+(?:collections?|examples?|overviews?|sources?|papers?|videos?|talks?|books?|"
             r"tutorials?|documentation|docs|information|details|guides?|articles?|lists?|downloads?|installers?|"
             r"binaries|recordings?|slides|releases?|more)\b")
# Question patterns, first match wins. Each names the type of the answer, not of the subject.
_TYPE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (EXPANSION, re.compile(r"\b(?:stand|stands)\s+for\b|\bshort\s+for\b|\bacronym\b|\babbreviat|\bexpan(?:d|sion)\b"
                           r"|\bfull\s+(?:name|form)\b", _I)),
    # "address" is a web address when it is asked for ("the address of …"), not an IP address in a how-to nor
    # "the usable host addresses of a network"; a URL or link is one when it is the thing asked ("What URL …", "the
    # link to …"), not a kind of value the question handles ("a database URL", "the URL argument"), a verb ("compile
    # and link") nor a symbolic link ("because the link itself is still there")
    (URL, re.compile(r"\b(?:what|which)\s+(?:urls?|links?|web\s*sites?|web\s*pages?)\b"
                     r"|\b(?:the|its|their|any|an?)\s+(?:urls?(?!\s+(?:argument|parameter|string|form|component|part|"
                     r"scheme|path|prefix|pattern))|links?(?=\s+(?:to|for|of|on)\b)|web\s*sites?|"
                     r"web\s*pages?)\b"
                     r"|\b(?:web|e-?mail|site|page|channel)\s+address\b"
                     r"|\b(?:the|its|their|an?)\s+address(?:es)?\s+of\b|\bwhere\s+can\s+(?:i|one|you)\s+"
                     rf"(?:read|watch|(?:find|see|get)\b(?={_RESOURCE}))\b", _I)),
    (PERCENTAGE, re.compile(r"\bpercent(?:age)?\b|\bwhat\s+(?:share|proportion|fraction)\b|\bby\s+how\s+much\b"
                            r"|\bwhat\s+(?:accuracy|success\s+rate|error\s+rate|rate)\b", _I)),
    # not a count something costs ("how many bytes does each entry cost?") nor a name in code ("Product.price")
    (AMOUNT, re.compile(r"\bhow\s+much\s+(?:money|funding|does\s+it\s+cost|did\s+it\s+cost)\b"
                        r"|^(?!.*\bhow\s+many\b).*(?:\bcost\b|(?<![\w.])price\b)"
                        r"|\bbudget\b|\bfunding\b|\bsalary\b", _I)),
    # "In which Python version was it added?", "since which version …": a release, not a protocol's ("which IP
    # version"), version control or a version string the asker's code reads
    # … and "What's the oldest Python version I can run it on?", "What is the minimum version of …?" (HTTPX set: 1 more
    # cited, "HTTPX requires Python 3.9+"; Python-docs set unchanged)
    (VERSION, re.compile(r"\b(?:what|which|what(?:'s|’s|\s+is|\s+are)\s+the\s+(?:oldest|earliest|newest|latest|"
                         r"lowest|minimum|highest|first|last|most\s+recent))\s+"
                         r"(?:(?-i:[A-Za-z][a-z]\w*)\s+)?(?:versions?|releases?)\b"
                         r"(?!\s+(?:control|number|string|info))", _I)),
    (YEAR, re.compile(r"\b(?:what|which)\s+year\b|\bin\s+(?:what|which)\s+year\b|\byear\s+(?:was|did|were)\b", _I)),
    (DATE, re.compile(r"\b(?:what|which)\s+(?:date|day|month|decade)\b|\bwhen\s+(?:was|were|did|is|will)\b.*\b(?:"
                      r"publish|post|writ|wrote|releas|found|introduc|creat|born|die|start|launch|held|given|coin|"
                      r"propos|announc|establish|appear|updat|first|invent|made|record|last)"
                      # "What is its end-of-life date?", "What was the release date?"
                      r"|\b(?:what|which)(?:'s|’s|\s+is|\s+was|\s+are|\s+were)\s+(?:the|its|their)\s+"
                      r"(?:[\w-]+\s+){0,2}dates?\s*(?:[?.,]|$|\s+(?:of|for)\b)",
                      _I)),
    # not "how often": a frequency is written in words ("only between bytecode instructions") as often as in numbers;
    # nor "how much" asking how far to go ("How much can I trust that?", "How much should go into them?")
    (NUMBER, re.compile(r"\bhow\s+(?:many|much(?!\s+(?:can|could|should|would|may|might|must)\b)|long|old|large|big|"
                        r"far)\b|\bwhat\s+(?:number|size|age)\b"
                        r"|\bhead[-\s]?count\b|\bnumber\s+of\b", _I)),
    (PERSON, re.compile(r"^\s*(?:and\s+)?(?:who|whom|whose)\b|\bwhich\s+(?:person|people|author|researcher|scientist|"
                        r"writer)s?\b|\bwho\s+(?:wrote|coined|said|argued|founded|proposed|gave|invented|created)\b"
                        r"|\b(?:the|its|their)\s+authors?\s*[?.]?\s*$"
                        r"|\bwritten\s+by\b|\bname\s+of\s+the\s+(?:author|person|speaker)\b", _I)),
    # "Which group published it?", not a regex's or an import list's group ("which group do I get?", "which group
    # goes first?"): a group or team is an organisation when it does what one does
    (ORGANISATION, re.compile(r"\b(?:which|what)\s+(?:organi[sz]ation|company|companies|lab|labs|institute|"
                              r"university|org|startup)s?\b|\b(?:which|what)\s+(?:group|team)s?\s+(?:published|founded|"
                              r"developed|created|released|proposed|introduced|coined|invented|started|launched|funded|"
                              r"wrote|built|made|ran|runs|leads|led|maintains|funds|develops|publishes)\b", _I)),
    (PLACE, re.compile(r"\b(?:which|what)\s+(?:country|city|place|location|state|continent)\b"
                       r"|\bwhere\s+(?:is|was|are|were|did|does|do)\b.*\b(?:based|located|headquartered|held|born|"
                       r"founded|take\s+place|took\s+place|happen|meet|hosted)", _I)),
]
_LIST_CUE = re.compile(
    r"^\s*(?:list|name|enumerate|give)\b|\bwhat\s+are\s+(?:the|some)\b"
    # "Which sections …", "Which libraries …": a plural (not "which os call", "which class", "which status")
    r"|\bwhich\s+(?:\w+-[\w-]+\s+)?(?:\w{2,}(?<![su])s|\w+ies)\b(?!\s+(?:is|was)\b)"
    # … the verb, not Python's list ("the overview lists", "is listed", "does the pack list"; not "a list as a key")
    r"|\b(?:listed|enumerates?|enumerated)\b|\b(?:does|do|did)\s+(?:the\s+|this\s+|that\s+)?(?:\w+\s+){1,2}list\b|\blists\s+(?:the|a|an|some|all)\b"
    r"|\b(?:what|which)\s+(?:\w+\s+){0,2}(?:organi[sz]ations|companies|labs|techniques|problems|approaches|methods|"
    r"resources|posts|papers|examples|frames|risks)\b"
    r"|\b(?:examples|kinds|types)\s+of\b"
    # "What reasons does …", "What approaches to X are there": what/which + a plural noun (not a verb in -s)
    r"|\b(?:what|which)\s+(?!(?:does|is|was|has|happens|causes|makes|means|goes|comes|says|explains|needs|"
    r"remains|helps|seems|changes|works|sets|uses|gives|takes|keeps|lets|gets|runs|returns|yields|raises|"
    r"this|thus|its)\b)(?:[a-z]{3,}(?<![su])s|[a-z]+ies)"
    r"\s+(?:do|does|did|are|were|can|could|should|would|to|for|of|in|on)\b",
    _I,
)
# A question that asks to see code; any other is answered in prose (code may only illustrate it).
# Text the question quotes (an error message: "gives 'command not found'") asks for nothing.
_QUOTED = re.compile(r"(?<!\w)(['\"‘“])[^'\"‘’“”]{1,80}['\"’”](?!\w)")
_CODE_CUE = re.compile(
    # "What command …", not "from the command line" (where it is run, not what is asked for)
    r"\b(?:snippet|syntax|(?<!\bfor\s)example|examples|sample|one-liner|command|commands|idiom)\b(?![\s-]+line)"
    r"|\bshow\s+(?:me|how)\b"
    # what the grammar allows ("Which part of the grammar allows ** between the braces?", "Is … valid according to
    # Python's grammar?"): its rule, a code block; not what its notation means ("What does the ? mean there?").
    # Python-docs set: 1940 -> 1942 of 3019 cited, nothing lost
    r"|\bgrammar\b[^?]*\b(?:allows?|lets?|permits?|accepts?)\b|\b(?:valid|allowed|legal)\b[^?]*\bgrammar\b"
    r"|\b(?:what|which)(?:(?:'s|’s|\s+is)\s+the)?\s+command[\s-]+lines?\b"  # … but "What('s the) command line …?"
    # code asked for ("What code …", "What argparse code …", "code that …"), not code worked on ("When porting
    # code to run on …", "some of the code")
    r"|\b(?:what|which|some|me|any|example|sample)\s+(?:(?!of\b|in\b)[\w.-]+\s+){0,2}code\b"
    r"|\bcode\s+(?:that|which|for)\b"
    # the call or expression itself asked for ("What's the basicConfig call for that?", "What's the shortest
    # expression that gives me …?")
    r"|\bwhat(?:'s|’s|\s+is)\s+the\s+(?:[\w.]+\s+)?(?:call|expression)\s+(?:for|that|to)\b"
    r"|\bhow\s+(?:do|can|would|should)\s+(?:i|you|one|we)\s+(?:write|call|invoke|import|spell|type)\b"
    # what something the asker describes would look like, written ("… prints a message when it gets closed. What would
    # that look like?", "What does the working version look like?")
    r"|\bwhat\s+(?:would|does|do|might|should|will)\s+(?:that|it|this|the\s+(?:working|fixed|corrected|right|"
    r"correct)\s+(?:version|code|one))\s+look\s+like\b",
    _I,
)
# An example the asker refers to, not one asked for: "The server example in the socket HOWTO calls listen(5) …", "I
# copied the logging cookbook example that …"
_REFERRED_EXAMPLE = re.compile(r"\b(?:the|this|that)\s+(?:[\w.'’/-]+\s+){0,2}examples?\s+(?=(?:from|in|on)\b)"
                               r"|\b(?:ran|run|copied|tried|followed|read)\s+the\s+(?:[\w.'’/-]+\s+){0,2}examples?\b", _I)
_YES_NO = re.compile(r"(?:^|^[^?,]{1,40},)\s*(?:is|are|was|were|does|do|did|can|could|should|will|would|has|have|had)\b",
                     _I)  # "Is …?", "On a rational level, is …?"
_WHAT_IT_DOES = re.compile(r"^\s*what\s+(?:does|do)\s+.+\s+do\s*\??\s*$", _I)
# How-to, also asked after what sets it up ("I'm done in my virtual environment; how do I leave it?", "… re-raise it.
# How?", "… it won't let me set a breakpoint. What can I do?").
_ASKS_HOW = re.compile(r"(?:^|[;:,.?!]\s+)how\s+(?:do|can|should|would|could|may)\s+(?:i|you|one|we)\b"
                       r"|\bhow\s*\?\s*$|\bwhat\s+(?:can|should|do|could|must)\s+(?:i|you|we|one)\s+do\b", _I)


_CLAUSE_END = re.compile(r"(?<=[.?!;])\s+")  # where one sentence or clause of a question ends and the next starts


def asked_clause(question: str) -> str:
    """The last sentence or clause of a question that asks it, without the ones setting it up ("I read a CSV file
    … ; how do I …?", "… finds nothing. How do I make the dot match newlines?") or explaining it after ("Is a list a
    linked list under the hood? I'm worried that …")."""
    pieces = [piece for piece in _CLAUSE_END.split(question.strip()) if piece]
    return next((piece for piece in reversed(pieces) if piece.endswith("?")), pieces[-1]) if pieces else ""


def asks_how(question: str) -> bool:
    """Does the question ask how to do something?"""
    return _ASKS_HOW.search(question) is not None


_DEFINITION = re.compile(r"^\s*(?:what\s+(?:exactly\s+)?(?:is|are)\s+(?:an?\s+|the\s+)?|define\b|"
                         r"what\s+does\s+.+\s+mean\b)", _I)
# "Which function …?", "Which C API calls …?" (see Question.asks_for_call)
_ASKS_CALL = re.compile(r"\b(?:which|what)\s+(?:[\w/]+\s+){0,2}(?:functions?|methods?|calls?|routines?|macros?)\b", _I)
# "What is the easiest way to …?", "What's the efficient way?": how to do something, not what something is (the
# kind of way asked, group 1, and the word for it, group 2: see Question.way_named).
_WAY_ASKED = re.compile(r"\bwhat(?:'s|’s|\s+is|\s+are)\s+the\s+((?:[\w-]+\s+){1,3}?)(way|ways|idiom|approach)\b", _I)
_DEFINED = re.compile(r"^\s*what\s+(?:exactly\s+)?(?:is|are)\s+(?:an?\s+|the\s+)?(?P<term>[^?,]+?)"
                      r"(?:\s+(?:in|within|inside)\s+[^?]+|\s*,[^?]*)?\s*\??\s*$", _I)
# Where a question sets its scope before asking ("In Argument Clinic, what is a converter?", "On Windows, how do I …"):
# what it asks is read after it. Not a condition ("If I call pop() …, which element …"): that is part of what is asked.
_SCOPE = re.compile(r"^\s*(?:in|on|with|using|inside|within|from|for|under)\s+[^?,]{1,60},\s*", _I)


def unscoped(question: str) -> str:
    """The question without the scope it opens with."""
    return _SCOPE.sub("", question, count=1)

# Words that ask for the type or frame the question, not what it is about: left out of the focus.
_FRAME_WORDS = frozenset(
    "year years date day month decade many much number percent percentage share proportion fraction long old often "
    "far url link links website web site page address stand stands short acronym abbreviation expansion expand "
    "full name names form author wrote written writer person people organisation organisations organization "
    "organizations company companies country city place location cost price list give mention mentioned "
    "document documents text post article guide guides manual passage say says said according kind kinds type types "
    "example examples main called known something anything one ones way ways thing things given gives provided listed "
    "cited linked read find code snippet syntax show".split()
)

# … but "a list", "my lists" (not "a list of …") is Python's list, the thing asked about ("What is the maximum size of a
# Python list?"): Python-docs set 1978 -> 1979 of 3067 cited, nothing else moved.
_A_LIST = re.compile(r"\b(?:a|an|the|my|your|this|that|each|every|same|python|empty|sorted|nested|whole|one|another|"
                     r"new|plain|ordinary)\s+lists?\b(?!\s+of\b)", _I)

# Follow-up cues: a question that leans on the conversation for what it is about.
_PRONOUN = re.compile(r"\b(?:it|its|it's|they|them|their|theirs|this|that|these|those|he|him|his|she|her|hers|"
                      r"the\s+same|the\s+former|the\s+latter|there)\b", _I)
_ELLIPSIS = re.compile(r"^\s*(?:and|but|also|what\s+about|how\s+about|and\s+what\s+about|same\s+for|why|why\s+not|"
                       r"how\s+so|what\s+else|anything\s+else|more|tell\s+me\s+more|go\s+on|and\s+then)\b", _I)


# A how-to the gate reads as asked (Question.how_to) …
_OPENS_HOW_TO = re.compile(r"^\s*how\s+(?:do|can|should|would|could|may)\s+(?:i|you|one|we)\b", _I)
# … also when asked after what sets it up: by its asking clause alone, when that has this many focus words. On the
# Python-docs set: 137 -> 140 of 164 near-topic questions declined, 397 -> 396 of 639 cited, 31 -> 34 falsely
# declined; from 3 words on, 142 declined but 394 cited and 41 falsely declined.
SETUP_HOW_TO_TERMS = 5
# "How do I get rid of that invisible character?", "… turn such a path into …": what the setup describes. Such a
# clause is still the how-to asked when it asks for a word no passage holds ("How do I convert such a domain name into
# the xn-- form with punycode?"): whatever it leans on, pages that never write what it wants do not say how. So is a
# short one, or one leaning on the setup by a pronoun ("How do I make it support the vectorcall protocol?"): Python-
# docs set 557 -> 563 of 716 declined (lookbehind, grapheme clusters, pipx, …), 1805 -> 1804 of 2826 cited, 191 ->
# 195 falsely declined (words the pages happen not to use: "deduct", "squeeze", "the newest one").
_POINTS_AT_SETUP = re.compile(r"\b(?:that|such\s+an?)\s+\w+", _I)

UNHELD_MIN_PASSAGES = 1000  # an index this large lacks a word only when its documents do not speak of the thing
ASKING_WORDS = 5  # an asking clause shorter than this ("Why?", "How do I leave it?") says too little alone
TITLE_SHARE = 0.25  # weight of a focus term found only in the document title (see Question.coverage)


@dataclass(frozen=True)
class Question:
    text: str
    type: str | None  # one of CARRIED_TYPES, DEFINITION, YES_NO, or None
    wants_list: bool
    focus: dict[str, float] = field(default_factory=dict)  # stemmed focus term -> IDF weight
    focus_words: tuple[str, ...] = ()  # the same focus, as the question spells it (for messages)
    wants_code: bool = False  # asks to see code: only then may a code block be quoted as the answer
    parts: tuple[Question, ...] = ()  # the questions of a multi-part one ("What is X, and which Y …?"), each typed
    names: tuple[str, ...] = ()  # code names it asks about ("heapq.heappop", "rel_tol"): the answer's passage has them
    unknown: tuple[str, ...] = ()  # proper names it asks about that no indexed passage holds ("Android", "SMS")
    documents: frozenset[str] = frozenset()  # sources it names ("the overview"): only they may answer it
    literals: tuple[str, ...] = ()  # dotted numbers it names ("3.10", "0.1", "192.0.2.0/24"): said as written
    unwritten: tuple[str, ...] = ()  # acronyms and rare names it writes that no retrieved passage writes ("HTTP PUT",
    # "Rust"): see rag.answer.unwritten_names
    unheld: frozenset[str] = frozenset()  # focus words no indexed passage holds ("broadcast"): see rag.question._unheld
    rarest: str | None = None  # the focus term fewest passages hold, of those some passage holds ("schema")
    specific: str | None = None  # the same, in an index large enough that rarity means specificity (see large_index)
    deferred: dict[str, str] = field(default_factory=dict)  # code name -> the entry its own defers its arguments
    # to: json.dumps -> json.dump ("The arguments have the same meaning as in dump()"); see rag.answer.deferring
    documented: dict[str, frozenset[str]] = field(default_factory=dict)  # code name -> sources of its module's pages
    # that name it ("json — JSON encoder and decoder" for json.loads); see rag.answer.documenting
    discussed: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)  # code name -> (source, section)
    # of the passages whose text names it: see rag.answer.discussing

    @functools.cached_property
    def asks_what_it_is(self) -> bool:
        """"What is X?", "What does X do?": answered by a sentence saying what X is or does, not by one pointing
        elsewhere or introducing an example. Cached: the judge asks it of every unit."""
        return self.type == DEFINITION or bool(_WHAT_IT_DOES.search(unscoped(asked_clause(self.text))))

    @functools.cached_property
    def asks_for_call(self) -> bool:
        """"Which function should I use …?", "Which C API calls do I use for that?": answered by a sentence naming
        one (rag.backends.extractive._calls_first)."""
        return bool(_ASKS_CALL.search(asked_clause(self.text)))

    @functools.cached_property
    def how_to(self) -> Question | None:
        """The how-to the question asks, as the how-to gate (rag.grounding.says_how) reads it: the question itself
        when it opens with "How do I …", after the scope it sets or not ("With pathlib, how do I …": the same how-to
        as "How do I … with pathlib?"; on the Python-docs set 190 -> 192 of 224 near-topic questions declined, 550 ->
        548 of 879 cited, 49 -> 53 falsely declined); one asked after a setup ("My script prints a progress dot after
        each step, but the dots only show up at the end. How do I make print write each dot out immediately?") as its
        asking clause alone, the setup's words being the asker's situation, which a passage sharing them need not
        answer. None for any other question, and when the asking clause leans on the setup ("how do I leave it?") or
        has too few words of its own to judge by, unless it asks for a word no page holds. Cached: the gate asks it of
        every unit."""
        if _OPENS_HOW_TO.search(unscoped(self.text)):
            return self
        clause = asked_clause(self.text)
        asked = self._focus_in(clause)
        if clause == self.text or not _OPENS_HOW_TO.search(clause):
            return None
        unreadable_alone = (len(asked) < SETUP_HOW_TO_TERMS or depends_on_conversation(clause)
                            or _POINTS_AT_SETUP.search(clause) is not None)
        if unreadable_alone and not self.unheld & asked.keys():
            return None
        return replace(self, text=clause, focus=asked, rarest=self.rarest if self.rarest in asked else None)

    @functools.cached_property
    def part_asks_unheld(self) -> bool:
        """Does a part of a question asking two things ask, in its own asking clause, about a word no indexed passage
        holds (Question.unheld: "Does the PSF offer an official certification, and how do I sign up for it?")? Each
        part alone is answered by what comes closest, so the question is not answered. A word of a code name the
        question writes ("PyType_FromSpec()": names are judged as names), of a name of the asker's own ("My Money
        class") or one naming no topic ("myself") is no such word. Python-docs set: 512 -> 518 of 668 declined, 1674
        -> 1672 of 2633 cited (171 -> 177 falsely declined); single questions so gated would lose 90 cited for 15
        more declined (their own gates, rag.grounding.tells_what_is_asked, decline most of those already). Cached:
        the extractive backend and the citation check both ask."""
        if not self.parts:
            return False
        names = [match.group(0) for match in _CODE_NAME.finditer(self.text)] + list(own_names(self.text))
        ignored = set().union(*(stemmed_terms(name) for name in names)) | NO_TOPIC
        return any((part.unheld & stemmed_terms(asked_clause(part.text))) - ignored for part in self.parts)

    @functools.cached_property
    def asking(self) -> str | None:
        """The clause that asks the question when a setup comes before it ("My script saves a summary every evening.
        When yesterday's file is still there, what does write_text() do with it?"), if it says enough alone to be
        embedded (ASKING_WORDS words); None for a question that is all asking."""
        clause = asked_clause(self.text)
        return clause if clause != self.text and len(clause.split()) >= ASKING_WORDS else None

    @functools.cached_property
    def asking_terms(self) -> dict[str, float]:
        """The focus terms of the clause that asks, when a setup comes before it (empty for a question that is all
        asking): see rag.grounding.covers."""
        return self._focus_in(self.asking) if self.asking else {}

    def _focus_in(self, clause: str) -> dict[str, float]:
        """The focus terms a clause of the question holds, but for words naming no topic ("up", "still")."""
        held = stemmed_terms(clause)
        return {term: weight for term, weight in self.focus.items() if term in held and term not in NO_TOPIC}

    @functools.cached_property
    def way_named(self) -> re.Pattern[str] | None:
        """What a sentence opens with when it names the way the question asks for ("What is the easiest way to do
        that?" / "The easiest way is …"): see rag.grounding.covers. Cached: the judge asks it of every unit."""
        asked = _WAY_ASKED.search(asked_clause(self.text))
        if not asked:
            return None
        kind = r"\s+".join(map(re.escape, asked.group(1).split()))
        return re.compile(rf"(?:the\s+)?{kind}\s+{asked.group(2)}\b", re.IGNORECASE)

    @functools.cached_property
    def asked_names(self) -> tuple[str, ...]:
        """The code names an answer's passage must hold: those the asking clause writes when a setup comes first ("I
        added __slots__ … and now weakref.ref(node) fails with TypeError. How can I keep __slots__ and still take
        weak references?" asks about __slots__; the call that failed is the asker's situation), else all of them."""
        if not self.asking:
            return self.names
        return tuple(name for name in self.names if mentions(name, self.asking)) or self.names

    @functools.cached_property
    def names_set_up(self) -> bool:
        """Are the code names asked about only the setup's, the clause that asks naming none ("I
        wrapped my client socket with makefile() so that I can use write() and readline(). … Why?", "… does
        self.log = logging.getLogger('app') in its __init__ … Is there any point in holding on to loggers …?")? They
        say where the asker is, and a passage about one of them may answer: the reason the read hangs names write()
        alone (one name alone need not be named at all: see rag.grounding.names_found). On the Python-docs set: 547 ->
        549 of 879 cited, 53 -> 50 falsely declined, none more answered of 224 near-topic questions."""
        clause = asked_clause(self.text)
        return (clause != self.text and bool(self.asked_names)
                and not any(mentions(name, clause) for name in self.asked_names))

    @functools.cached_property
    def names_apart(self) -> bool:
        """Are the code names asked about each written by some passage found, but never two in one section ("… wait
        for a key with getch(). Do I have to call refresh() myself …?", where the pages name refresh() in one section
        and getch() in another)? One of them is then enough on the answering passage (rag.grounding.names_found).
        Cached: read per passage, once ``discussed`` is set."""
        asked = self.asked_names
        return (len(asked) > 1 and self.discussed.keys() >= set(asked)
                and not frozenset.intersection(*(self.discussed[name] for name in asked)))

    @functools.cached_property
    def defined(self) -> dict[str, float]:
        """The focus terms of what a definition question asks to be defined: "What is a guard in a match statement's
        case clause?" asks what a guard is; the place it names is where, not what (a sentence defining a guard need
        not say "match"); nor need it say what follows a comma, which restates the term ("What is a future statement,
        the from __future__ import line?")."""
        match = _DEFINED.search(unscoped(asked_clause(self.text)))
        term = stemmed_terms(match.group("term")) if match else set()
        return {stem: weight for stem, weight in self.focus.items() if stem in term} or self.focus

    def coverage(self, text: str, title: str = "", terms: Mapping[str, float] | None = None) -> float:
        """IDF-weighted share of the focus terms (or of ``terms``, some of them) present in ``text`` (1.0 when there
        are none); terms found only in the document's ``title`` count a quarter: a question naming the document is
        not answered by every sentence in it."""
        terms = self.focus if terms is None else terms
        total = sum(terms.values())
        if not total:
            return 1.0
        present, named = stemmed_terms(text), stemmed_terms(title) if title else set()
        return sum(w if t in present else w * TITLE_SHARE if t in named else 0.0 for t, w in terms.items()) / total


@lru_cache(maxsize=4096)
def stemmed_terms(text: str) -> frozenset[str]:
    """Content words and their stems; cached, as scoring one answer's units asks for the same texts many times."""
    words = content_words(text)
    return frozenset(stemmer().stemWords(words)) | frozenset(words)


_WH = re.compile(r"\b(?:what|which|who|whom|whose|when|where|how)\b", _I)
_ASKS_WHY = re.compile(r"\s*(?:why|how\s+come)\b", _I)  # an asking clause that opens so wants a reason
# … and one opening "How does it …" or "What's a simple way …" wants a way, as a how-to does (see analyse): "How does
# my impl function find out how long that string is?" asks how, not for a length ("… passed in … as a parameter named
# <name>_length"). Python-docs set: 1481 -> 1482 of 2351 cited, 167 -> 166 falsely declined, declined unchanged; with
# the way named ("What's a simple way for the receiving side to know how many bytes to read …?"): 1484 and 164.
_ASKS_A_WAY = re.compile(r"^\s*(?:how\s+(?:do|does|did|can|could|should|would|will|may|might)\b"
                         r"|what(?:'s|’s|\s+is|\s+are)\s+(?:an?|the)\s+(?:[\w-]+\s+){0,3}?"
                         r"(?:way|ways|idiom|approach)\b)", _I)


# "Is there a maximum number of groups a pattern may contain?", "… how many parameters a function may have, like the
# old limit of 255?": a limit asked for, which a sentence saying there is none answers as well as one giving it
# ("Identifiers are unlimited in length.", "… no minimum or maximum quota …"); one saying neither does not ("Elaborate
# REs may use many groups, …"). Python-docs set: 547 -> 549 of 704 declined; 1780 -> 1779 of 2780 cited (the quota
# sentence, less close in meaning than a typed question's answer must be, lost to "zero, one or more handlers").
# "What is the parser's nesting limit …?" asks for one too (570 -> 571 of 728 declined, nothing else moved), where
# "What is the maximum number of questions …?" asks for a number (the PDF manuals' 10/12 declined, not 9/12). Not
# the verb: "What's the code to cap a client's pool at 10 connections …?" asks for code.
_LIMIT_ASKED = re.compile(r"\b(?:is|are)\s+there\s+(?:an?|any)\s+(?:\w+\s+)?(?:maximum|limit|upper\s+bound|cap|max)\b"
                          r"|\bhow\s+(?:many|long|large|big|deep)\b[^?]*\b(?:at\s+most|maximum|limit)\b"
                          r"|\bwhat(?:'s|’s|\s+is|\s+are)\s+the\s+(?:[\w'’-]+\s+){0,3}?"
                          r"(?<!\bto\s)(?:limits?|upper\s+bound|cap)\b", _I)


# "What should I look at to know how much has come in so far?", "How do I find out how many columns the terminal
# has?": a way of finding the number out is asked for (num_bytes_downloaded, shutil.get_terminal_size()), which no
# sentence giving the way need carry as a number. HTTPX set: 1 more cited; Python-docs set unchanged.
_FINDS_OUT_HOW_MANY = re.compile(r"^\s*(?:what|which|how\s+(?:do|does|can|could|should|would)|is\s+there)\b.*"
                                 r"\b(?:know|tell|see|find\s+out|check|determine|work\s+out|figure\s+out|measure|"
                                 r"track|monitor)\s+how\s+(?:many|much|long|big|large|far|old)\b", _I)


def answer_type(question: str) -> str | None:
    asked = asked_clause(question)  # "A website answers my calls differently. … what does urllib tell it it is?"
    if _LIMIT_ASKED.search(asked):
        return LIMIT
    if _YES_NO.search(question) and not _WH.search(question):
        return YES_NO  # "Is the author worried …?" asks yes or no, not for a person
    for kind, pattern in _TYPE_PATTERNS:
        # "What do the three parts of a version number stand for?" writes no acronym: it asks what they mean. An
        # asking clause opening yes or no asks whether ("Does that cost me anything?"), not for a number. Python-docs
        # set: 1444 -> 1446 of 2305 cited, 166 -> 161 falsely declined, 455 -> 454 of 584 declined. (A limit asked so,
        # "… Is there a cap on how many handlers I can attach?", is typed above: "no minimum or maximum quota" carries
        # it.)
        if kind == NUMBER and _FINDS_OUT_HOW_MANY.search(asked):
            continue
        if pattern.search(asked) and (kind != EXPANSION or asked_acronym(question)):
            return None if _YES_NO.match(asked) else kind
    if _YES_NO.search(question):
        return YES_NO
    if _DEFINITION.search(unscoped(asked)) and not _WAY_ASKED.search(asked):
        return DEFINITION
    return None


# "A built-in function such as open()", "something like obj.na": a name the asker gives as an example of what they
# ask about is no name the answer must write (the page says how to override any builtin).
# … so is one inside a value it gives as one ("Windows paths like C:\Users\me\report.docx").
# … and so are the others it lists with it ("like READ | WRITE", "such as GET or POST"), and the name it gives its
# example by ("grammar rules, such as the one for simple_stmt"), and one written with its article ("a binary file
# such as a PNG"), and the language it is an example in ("like super.method() in Java").
_EXAMPLE_WORDS = r"(?:\bsuch\s+as|(?<!\bwould\s)(?<!'d\s)\blike|\be\.g\.,?|\bfor\s+(?:example|instance),?)"
_EXAMPLE_CUE = re.compile(rf"{_EXAMPLE_WORDS}\s+"
                          r"(?:(?:the\s+ones?|those|that)\s+(?:for|of|in|named|called)\s+|an?\s+)?"
                          r"(?:\S+(?:\s*[|,/]\s*|\s+(?:or|and)\s+|(?<![.?!])\s+(?-i:in)\s+))*\S*$", re.IGNORECASE)


def offered_as_example(question: str, at: int) -> bool:
    """Is what the question writes from ``at`` on given as an example ("such as get_identifiers()", "like
    zip_longest")?"""
    return _EXAMPLE_CUE.search(question, 0, at) is not None


# "Is there a method for that, …?", "Is there something in the standard library that …, such as urllib.robotparser?"
_ASKS_WHETHER_ONE = re.compile(r"\bis\s+there\s+(?:an?|any|anything|something|some)\b", _I)


def _example_asked_about(question: str, match: re.Match[str]) -> bool:
    """Is the example a dotted call ("… hands me a connected socket, such as socket.create_connection()?"), or any
    code name offered as the thing a question asks whether there is ("Is there a method for that, such as
    get_identifiers()?", "Is there a ready-made sort key in ipaddress, like get_mixed_type_key, …?") or which call it
    is ("Which itertools function does that, something like zip_longest …?")? The asker names the API they have in
    mind; a page answering them names it too. On bench/pydocs_questions.json: 2 more near-topic questions declined,
    nothing lost; the call asked for, 1 more."""
    asked = _clause_before(question, match.start())
    return (("." in match.group(0) and question.startswith("(", match.end())) or bool(_ASKS_WHETHER_ONE.search(asked))
            or bool(_ASKS_CALL.search(asked)))


# "Is there a method on the Logger object that hands me that child directly, such as log.getChild('pool')?", "Is
# there a file method for that, like f.writelines(lines)?": a method called on the asker's object, offered as the one
# asked whether there is. The object is theirs; the method is the API's, which a page answering writes. Not one showing
# how the asker calls their own ("can I still call it through an instance, like obj.helper(2)?").
_METHOD_CALL = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\.([A-Za-z_]\w*)\(")


def _example_methods(question: str) -> list[str]:
    """The methods the question offers as examples, called on an object of the asker's (see _METHOD_CALL).
    Python-docs set: 500 -> 502 of 656 declined, nothing else moved."""
    return [match.group(2) for match in _METHOD_CALL.finditer(question)
            if offered_as_example(question, match.start()) and _askers_object(question, match.group(1))
            and _ASKS_WHETHER_ONE.search(_clause_before(question, match.start()))]


def _clause_before(question: str, at: int) -> str:
    """The clause the question's text before ``at`` ends with: what an example offered at ``at`` is given for."""
    return _CLAUSE_END.split(question[:at])[-1]


# Names from code: dotted ("os.walk", "Counter.most_common") or with an underscore ("rel_tol", "__slots__").
# … and a plain name written as a call ("remove()", "eval()"), whose entry is titled by its signature ("list.remove(x)")
# … but not a file in a path ("/run/myapp/api.sock", "C:\logs\app.log": 160 falsely declined instead of 161 of 2305)
# … nor a number ("0x_FF_FF", "1__000": 1644 -> 1645 of 2587 cited, 173 -> 172 falsely declined)
# … and an attribute on code, as Rust writes it ("#[inline]", "#[cfg(test)]"), whole
_CODE_NAME = re.compile(r"(?<![\w./\\])(?!\d)"
                        r"(?:[A-Za-z_]\w+(?:\.[A-Za-z_]\w*)+|\w*[A-Za-z]_\w*|__\w+__|[A-Za-z]\w+(?=\(\)))(?![\w.])"
                        r"|#!?\[[A-Za-z_]\w*(?:\([^()\]]*\))?\]")


# A backslash escape the asking clause writes ("What does \s match?", "What does \B mean, compared with \b?") is asked
# about as code: its entry is titled by it, and case tells it from its opposite ("\S"). One in the setup is the asker's
# example ("… with the pattern r'^\w+='", "… calls \b, ^ and $ 'zero-width assertions'. What does zero-width
# mean?").
_ESCAPE = re.compile(r"(?<=\s)\\[A-Za-z](?=[\s,;:?!)])")


# … but not a web address ("the standard Python from python.org"): where something is found, which a passage answering
# about it need not write (Python-docs set: 549 -> 550 of 879 cited).
_WEB_ADDRESS = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.(?:org|com|net|edu|gov)$", re.IGNORECASE)


# A version, decimal or address: "Python 3.10" is not answered by what holds for "Python 3.9", nor "0.1" by "0.125".
_LITERAL = re.compile(r"(?<![\w.])\d+(?:[./:]\d+)+(?![\w]|\.\d)")


def says_literally(literal: str, text: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(literal)}(?![\w]|\.\d)", text) is not None


_CLASS_NAME = re.compile(r"^[A-Z][a-z]+[A-Za-z]*$")  # "Logger", "LoggerAdapter"; not "LOCALE", "heappop"


# Built-in functions a class customises through the special method of the same name (str() through __str__()), as
# the data model names them (not aiter() and anext(): a page on __anext__() says nothing of a built-in anext())
_HOOKED_BUILTINS = frozenset({"str", "repr", "len", "iter", "next", "hash", "bool", "bytes", "format", "abs", "round",
                              "dir", "reversed", "int", "float", "complex", "divmod", "pow"})


def mentions(name: str, text: str) -> bool:
    """Does ``text`` (a passage with its section path) name ``name`` as code: the whole dotted name, or its last
    part as code ("heappop(", ".most_common", "most_common([n])", a constant "LOCALE", a class "Logger") next to its
    first part ("heapq"; a type's in the plural too: "L.append(x)" where "L, L1, L2 are lists" names list.append)?"""
    if re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text):
        return True
    # a built-in function by its word inflected in prose ("Use encoding="utf-8" when opening JSON file": open())
    if name.isalpha() and name.islower() and callable(getattr(builtins, name, None)):
        if re.search(rf"\b{name}(?:s|ed|ing)\b", text, re.IGNORECASE):
            return True
    if name in _HOOKED_BUILTINS and f"__{name}__" in text:  # "its own str() output": a class's __str__() gives it
        return True
    first, *_, last = name.split(".") if "." in name else (name, name)
    as_code = re.search(rf"\.{re.escape(last)}\b|\b{re.escape(last)}\s*\(", text)
    if not as_code and last.isupper() and len(last) >= 3:  # a constant in capitals is code as it stands ("re.LOCALE"
        as_code = re.search(rf"\b{re.escape(last)}\b", text)  # in the regex HOWTO's flags table, "LOCALE, L")
    if not as_code and _CLASS_NAME.match(last):  # … and so is a class ("you pass it a Logger instance": logging.Logger)
        as_code = re.search(rf"(?<![\w.]){re.escape(last)}\b", text)
    # a module's name in any case ("Logging HOWTO" over "… subclasses of Handler …"), a class's as written
    module_case = re.IGNORECASE if first.islower() else 0
    # … or a class's as the end of its base's name ("PurePath.with_suffix(suffix)" documents Path.with_suffix;
    # Python-docs set: 1939 -> 1940 of 3019 cited, 209 -> 208 falsely declined, nothing else moved)
    owner = rf"(?:\b|(?<=[a-z])){re.escape(first)}" if _CLASS_NAME.match(first) else rf"\b{re.escape(first)}"
    return bool(as_code) and re.search(rf"{owner}s?\b", text, module_case) is not None


def quoted_names(question: str) -> frozenset[str]:
    """The code-like names inside the values a question quotes ("Path('done.flag')" -> done.flag): the asker's data."""
    return frozenset(name for match in _QUOTED.finditer(question) for name in _CODE_NAME.findall(match.group(0)))


_HEADING_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)*\.?\s+")
_SIGNATURE_KEYWORDS = re.compile(r"^(?:(?:abstract|async|class|classmethod|staticmethod|exception|method|function|"
                                 r"property|decorator|attribute|data|coroutine)\s+)+", _I)


def entry_title(heading: str) -> str:
    """An API entry's heading without its numbering, signature keywords and "@" ("classmethod Path.cwd()" ->
    "Path.cwd()")."""
    return _SIGNATURE_KEYWORDS.sub("", _HEADING_NUMBER.sub("", heading)).lstrip("@")


def titled_by(name: str, heading: str) -> bool:
    """Is the heading the entry of ``name`` itself ("3.3.2.4. __slots__", "@functools.cache(user_function)",
    "classmethod Path.cwd()", "most_common([n])" for Counter.most_common), not one that only mentions it ("Notes on
    using __slots__")? Numbering, signature keywords, "@" and the parameter list are left out."""
    core = re.split(r"[(\[;]", entry_title(heading), maxsplit=1)[0].strip()
    last = name.rsplit(".", 1)[-1]
    return core in (name, last) or core.endswith(f".{last}")


# Where a question asks a second thing: ", and which …", "? How …?" (not "? I'm worried that …": what it says after
# a question explains it).
_SECOND_QUESTION = re.compile(r",\s+and\s+(?=(?:what|which|who|whom|whose|when|where|why|how)\b)|(?<=\?)\s+(?=[^?]*\?)",
                              _I)


_ASKING_OPENING = re.compile(r"\s*(?:(?:[\w-]+\s+){0,2}(?:what|which|who|whom|whose|when|where|why|how)|is|are|was|"
                             r"were|does|do|did|can|could|should|will|would|has|have|had)\b", _I)  # "Roughly how many …"


def _question_pieces(question: str) -> list[str]:
    """The question split where it asks a second thing, but not after a clause that asks nothing: "My program shows
    four windows, and when I call refresh() on each they flicker. How can I redraw them in one go?" asks one thing.
    Python-docs set: 1446 -> 1448 of 2305 cited, 454 -> 455 of 584 declined."""
    pieces, start = [], 0
    for match in _SECOND_QUESTION.finditer(question):
        before = question[start: match.start()]
        if match.group(0).lstrip().startswith(",") and not _ASKING_OPENING.match(
                unscoped(_CLAUSE_END.split(before.strip())[-1])):
            continue
        pieces.append(before)
        start = match.end()
    return [*pieces, question[start:]]


# "AttributeError: module 'curses' has no attribute 'has_colours'", "NameError: name 'np' is not defined": a name the
# asker's error says does not exist, which the answer need not name: it is the mistake asked about ("curses uses the
# American spelling 'color'"). Python-docs set: 1487 -> 1488 of 2351 cited, 161 -> 160 falsely declined, declined
# unchanged.
_REPORTED_MISSING = re.compile(r"has\s+no\s+attribute\s+['\"‘’]?(\w+)"
                               r"|\bname\s+['\"‘’](\w+)['\"‘’]\s+is\s+not\s+defined"
                               r"|No\s+module\s+named\s+['\"‘’]([\w.]+)", _I)


# "… straight from the format spec, without me calling strftime()", "… without open() and read()": a call the asker
# wants to do without, which the answer need not name.
_DONE_WITHOUT = re.compile(r"\bwithout\s+(?:me\s+|having\s+to\s+)?(?:calling\s+|using\s+|call\s+|use\s+)?"
                           r"(?:\w+\(\)\s+(?:or|and)\s+)?$", _I)


# "… look up an item's position the way list.index() does, …": what the asker likens what they ask to, which the
# answer's pages need not name (they document the deque's own index()). Python-docs set: 1779 -> 1780 of 2780 cited,
# 189 -> 188 falsely declined, declined unchanged.
# … and so is one "like with" or "as with" it, whatever follows ("do I get -1 back like with str.find()?", "… in the
# same order as with os.symlink": 1833 -> 1834 of 2874 cited, 200 -> 199 falsely declined, declined unchanged)
_LIKENED_BEFORE = re.compile(r"\b(?:the\s+way|like|as)\s+(with\s+)?(?:the\s+|an?\s+)?$", _I)
_LIKENED_AFTER = re.compile(r"^(?:\([^()]*\))?\s+(?:does|do|did|would|works?|behaves?)\b", _I)


def _compared_with(question: str, match: re.Match[str]) -> bool:
    """Is the code name what the asker likens what they ask to ("the way dict.fromkeys works")?"""
    likened = _LIKENED_BEFORE.search(question[: match.start()])
    return likened is not None and (likened.group(1) is not None
                                    or _LIKENED_AFTER.match(question[match.end():]) is not None)


def _called_on_askers_object(question: str, match: re.Match[str]) -> bool:
    """Is the dotted name a call with arguments, or a subscript, on an object of the asker's code ("I tried
    fields.append('ts')", "m = pat.match(line)", "self.cache[key]"): its first part a lower-case name that is no
    module of the standard library, no built-in and not imported by the question? No page writes it; the question's
    words say what it does. One written alone may be an API asked about ("… through pattern.groupindex?")."""
    name = match.group(0)
    return ("." in name and _askers_object(question, name.split(".")[0])
            and re.match(r"\((?!\))|\[", question[match.end():]) is not None)


def _askers_object(question: str, name: str) -> bool:
    """Is the name a variable of the asker's code: lower-case, no module of the standard library, no built-in and not
    imported by the question?"""
    return (name.islower() and name not in sys.stdlib_module_names and not hasattr(builtins, name)
            and not re.search(rf"\bimport\s+{re.escape(name)}\b", question))


def _with_defined_term(pieces: list[str]) -> list[str]:
    """The parts after one asking what a term is, each with the term in brackets: "What is a set in Python, and what
    is it typically used for?" asks what a set is used for, and the second part alone never says so ("They are used
    throughout Python itself." of descriptors answered it). Python-docs set: 1448 -> 1451 of 2305 cited, nothing
    lost."""
    defined = _DEFINED.search(unscoped(asked_clause(pieces[0])))
    return pieces if defined is None else [pieces[0], *(f"{piece} ({defined.group('term')})" for piece in pieces[1:])]


def analyse(question: str, idf: Callable[[list[str]], list[float]] | None = None,
            titles: Mapping[str, str] | None = None) -> Question:
    """The question's type, list intent and focus; ``idf`` maps stemmed terms to rarity weights (uniform if None);
    ``titles`` (source -> title of every indexed document) tell which documents it names ("the overview").

    A question asking two things gets each analysed as a part, and no type of its own (each part has one).
    The words naming a document are not its focus (they say where the answer is, not what it says) unless they are
    all it asks about."""
    pieces = [piece.strip() for piece in _question_pieces(question) if len(content_words(piece)) >= 2]
    parts = tuple(analyse(piece, idf, titles) for piece in _with_defined_term(pieces)) if len(pieces) > 1 else ()
    # not "gives 'command not found'", nor "I ran the smtplib example from the tutorial …"
    wants_code = bool(_CODE_CUE.search(_REFERRED_EXAMPLE.sub(" ", _QUOTED.sub(" ", question))))
    # A question asking for code wants the code, not the one fact a type names ("Show me how to work out how many
    # days old someone is": a date computation, not a number); so does one asking how to find it out ("How can I see
    # how many calls hit the cache?", "How do I find out which URL the page came from?", "How does my function find
    # out how long that string is?"): a way, not the number. A why-question wants a reason, whatever word it uses
    # ("Why would breaking code up like that cost speed?").
    kind = None if parts else answer_type(question)
    asked = asked_clause(question)
    if kind in CARRIED_TYPES and (wants_code or asks_how(question) or _ASKS_WHY.match(asked)
                                  or _ASKS_A_WAY.match(unscoped(asked))):
        kind = None
    named = named_documents(question, titles) if titles else {}
    naming = set().union(*named.values())
    said = _BOUNDS.sub(lambda m: _BOUND_WORDS[m.group(1).lower()], question)  # "at most" -> "maximum"
    python_list = bool(_A_LIST.search(said))
    words = [w for w in content_words(said)
             if (w not in _FRAME_WORDS or python_list and w in ("list", "lists")) and not w.isdigit() or _is_year(w)]
    # … unless the document is all it asks about ("Who wrote the AI alignment starter pack?").
    entitled = set().union(*(stemmed_terms(titles[source]) for source in named)) if named else set()
    if not all(stemmed_terms(w) & entitled for w in words):
        words = [w for w in words if not stemmed_terms(w) & naming]
    stems = stemmer().stemWords(words)
    weights = idf(stems) if idf and stems else [1.0] * len(stems)
    focus: dict[str, float] = {}
    for stem, weight in zip(stems, weights):
        focus[stem] = max(focus.get(stem, 0.0), float(weight))
    # A list asked for by the clause that asks, not by the setup ("… the cases listed below it. Where may … go?")
    listing = bool(_LIST_CUE.search(asked))
    wants_list = not parts and kind in (None, ORGANISATION, DEFINITION, PERSON) and listing
    own, packages = own_names(question), own_packages(question)
    missing = {name for match in _REPORTED_MISSING.finditer(question) for name in match.groups() if name}
    names = tuple(dict.fromkeys(m.group(0) for m in _CODE_NAME.finditer(question)
                                if (not offered_as_example(question, m.start())
                                    or _example_asked_about(question, m))
                                and m.group(0) not in own
                                and m.group(0).split(".")[0] not in packages
                                and not _called_on_askers_object(question, m)
                                and not _DONE_WITHOUT.search(question[: m.start()])
                                and not _compared_with(question, m)
                                and not missing.intersection(m.group(0).split("."))
                                and not _WEB_ADDRESS.match(m.group(0)))
                  | dict.fromkeys(_ESCAPE.findall(asked)) | dict.fromkeys(_example_methods(question)))
    unknown = _unknown_names(question, idf, focus) if idf and not parts else ()
    unseen = idf([""])[0] if idf else 0.0  # the IDF of a term no passage holds
    if idf:
        parts = tuple(replace(part, unknown=part.unknown + _unindexed_calls(part, idf, unseen)) for part in parts)
    # The most specific word asked about, not one of what the asker compares it with (see _COMPARISON) nor one
    # qualifying what is asked (_QUALIFIERS)
    not_asked = set().union(*(stemmed_terms(m.group(0)) for m in _COMPARISON.finditer(question)))
    not_asked -= stemmed_terms(_COMPARISON.sub(" ", question))
    not_asked |= {stem for word, stem in zip(words, stems) if word in _QUALIFIERS}
    own_focus = {term: weight for term, weight in focus.items() if term not in not_asked}
    rarest = _rarest_held(own_focus, unseen) if idf else None
    return Question(question, kind, wants_list, focus, tuple(dict.fromkeys(words)), wants_code, parts, names, unknown,
                    frozenset(named), tuple(dict.fromkeys(_LITERAL.findall(question))),
                    rarest=rarest, specific=rarest if large_index(unseen) else None,
                    unheld=_unheld(focus, unseen) if idf else frozenset())


# Words saying how often, how much or how surely ("Can random.random() ever return exactly 1.0 …?", "… truly
# private …", "… the same key twice …") qualify what is asked and are no thing asked about, however few pages write
# them (Question.rarest). Python-docs set: 1776 -> 1779 of 2780 cited, 191 -> 188 falsely declined, declined unchanged.
_QUALIFIERS = frozenset("ever exactly truly really actually always still even very already twice few several somehow "
                        "perhaps maybe possibly".split())

# "…, the way I already do with plain dicts?", "… as I would in bash": what the asker compares what they ask with.
# Its words are no specific thing asked (Question.rarest): Python-docs set 1485 -> 1486 of 2351 cited, 163 -> 162
# falsely declined, declined unchanged.
_COMPARISON = re.compile(r"\b(?:the\s+way|(?:as|like)\s+I\s+(?:do|would|did|can|could))\b[^?.]*", _I)


def _unindexed_calls(part: Question, idf: Callable[[list[str]], list[float]], unseen: float) -> tuple[str, ...]:
    """The functions a part of a question asks about by calling them ("What replaces raw_input() in Python 3, and what
    became of the old input() …?") that no indexed passage holds: the part is unanswered, as one asking about a
    proper name no page writes is (Question.unknown), though the pages found name what the other part asks about.
    A single question's names are required of its passages already (rag.grounding.names_found). Python-docs set: 549
    -> 550 of 704 declined, cited unchanged."""
    called = [name for name in part.asked_names if name.isidentifier() and re.search(rf"\b{name}\(", part.text)]
    weights = idf([stemmer().stemWord(name.lower()) for name in called]) if called else []
    return tuple(name for name, weight in zip(called, weights) if weight >= unseen)


def _rarest_held(focus: dict[str, float], unseen: float) -> str | None:
    """The focus term with the highest IDF short of ``unseen``, the IDF of a term no passage holds (a word of the
    question's own, "piling up", says nothing of what the passages hold)."""
    held = [term for term, weight in focus.items() if weight < unseen]
    return max(held, key=focus.__getitem__, default=None)


def _unheld(focus: dict[str, float], unseen: float) -> frozenset[str]:
    """The focus words no indexed passage holds (their IDF is ``unseen``, the empty term's): "broadcast" in "How do
    I get the broadcast address of a network?" on pages that never write it. Words of four letters or more only: a code
    fragment ("x", "b'abc") or a hyphenated word the index splits in two is no word the pages lack. None in an index
    of fewer than UNHELD_MIN_PASSAGES passages, where a few notes lack most words a question may use ("stop")."""
    if not large_index(unseen):
        return frozenset()
    return frozenset(term for term, weight in focus.items() if weight >= unseen and term.isalpha() and len(term) >= 4)


def large_index(unseen: float) -> bool:
    """Does the index hold UNHELD_MIN_PASSAGES passages or more (``unseen``: BM25's IDF of a term no passage holds,
    log(2N + 2))?"""
    return unseen >= math.log(2 * UNHELD_MIN_PASSAGES + 2)


# A proper name: a capitalised word after the question's first word ("Android", "Markdown"), an acronym ("SMS"), a
# word with a capital inside ("eBPF", "iPhone"), one whose capitals run into lower-case letters ("HPy", "JSONPath";
# not an acronym's plural, "APIs": Python-docs set 580 -> 582 of 740 declined, 1860 -> 1859 cited, the descriptor
# page writing SQLite only as "sqlite3"), an acronym with its number ("SOCKS4", "RS232"; not a number in hex, "a color
# value FF8800"), or the name of an option, command, package or module ("the darkmode option", "the faulthandler
# module").
_NAMED_THING = r"(?:option|command|package|module|library|environment|parameter|flag|setting)s?"
_PROPER_NAME = re.compile(r"(?<=\S)\s+([A-Z][a-z]+[A-Za-z]*|[A-Z]{2,}(?!s\b)[a-z][A-Za-z]*|"
                          r"(?![A-F\d]+\b)[A-Z]{2,}\d+|[A-Z]{2,}|[a-z]+[A-Z][A-Za-z]*)\b"
                          rf"|\bthe\s+([a-z][a-z0-9]+)\s+{_NAMED_THING}\b")


def proper_names(question: str) -> tuple[str, ...]:
    """The capitalised names a question writes inside a sentence ("Rust", "Schema" in "a JSON Schema"): not a word
    opening a sentence it asks ("… What's going on?"), a common word ("Which"), an acronym (see acronyms) or a name
    of the asker's own (see own_names)."""
    names = [m.group(1) for m in _names_written(question)
             if m.group(1) and not m.group(1).isupper() and m.group(1).lower() not in _FRAME_WORDS
             and content_words(m.group(1))]
    return tuple(dict.fromkeys(names))


def _names_written(question: str) -> list[re.Match[str]]:
    """The _PROPER_NAME matches of the question, but a capitalised word opening a sentence ("… in a method. Now
    when …"), a name of the asker's own code (see own_names), one inside a string their code passes or assigns
    ("Enum('Level', 'LOW MEDIUM HIGH')"), one given as an example or comparison ("like Java's") and the languages the
    asker comes from ("Coming from PHP and Perl, …", "Out of PHP habit …": Python-docs set 1613 -> 1615 of 2534 cited,
    170 -> 168 falsely declined, declined unchanged)."""
    matches = list(_PROPER_NAME.finditer(question))
    if not matches:
        return []
    own = own_names(question)
    theirs = (_askers_strings(question) + [match.span() for match in _BACKGROUND.finditer(question)]
              + _askers_setting(question))
    return [m for m in matches
            if not (m.group(1) and re.search(r"[.?!:;]\s*$", question[: m.start() + 1]))
            and (m.group(1) or m.group(2)) not in own
            and not any(start <= m.start(m.lastindex) < end for start, end in theirs)
            and not offered_as_example(question, m.start(m.lastindex))]


# "Coming from PHP and Perl, …", "Out of PHP habit I typed …": what the asker knows, not what they ask about
_BACKGROUND = re.compile(r"\b(?:coming|moving|switching|came|come)\s+(?:over\s+)?from\s+(?-i:[A-Z])[\w#+]*"
                         r"(?:(?:\s*,\s*|\s+(?:and|or)\s+)(?-i:[A-Z])[\w#+]*)*"
                         r"|\bout\s+of\s+(?:an?\s+)?(?:old\s+)?(?-i:[A-Z])[\w#+]*\s+habits?\b", _I)


# "I'm on a Mac", "on my Ubuntu box", "I'm on a Fedora / Red Hat server", "our CI machines", "Our build box runs
# CentOS": where the asker works, told before they ask; the pages need not name it. Asked about ("How do I install
# Python on my Android phone?") it is what the pages must write, and so is a platform the asker did something on ("I
# installed Python myself on my Mac; how do I uninstall it?"), which the answer is for. (The "… runs CentOS" form:
# Python-docs set 1864 -> 1865 of 2924 cited, 205 -> 204 falsely declined.)
_NAME = r"(?-i:[A-Z])[\w+#-]*"
_MACHINE = r"(?:machines?|servers?|box(?:es)?|laptops?|logs?|pipelines?|runners?|containers?)\b"
_SETTING = re.compile(rf"\b(?:I'?m|I\s+am|we'?re|we\s+are)\s+(?:on|using|running)\s+(?:an?\s+)?{_NAME}"
                      rf"(?:\s*/\s*{_NAME}(?:\s+{_NAME})?)?"
                      rf"|\b(?:my|our|the)\s+{_NAME}\s+{_MACHINE}"
                      rf"|\b(?:my|our|the)\s+(?:[\w-]+\s+)?{_MACHINE}\s+(?:runs?|(?:is|are)\s+running)\s+{_NAME}", _I)


def _askers_setting(question: str) -> list[tuple[int, int]]:
    """Where the question's setup (before its asking clause) says where the asker works (_SETTING). Python-docs set:
    1645 -> 1650 of 2587 cited, 171 -> 165 falsely declined, declined unchanged."""
    asked = asked_clause(question)
    setup = len(question) - len(asked) if question.endswith(asked) else 0
    return [match.span() for match in _SETTING.finditer(question[:setup])]


# What a call's brackets hold: its arguments ("Enum('Level', 'LOW MEDIUM HIGH')"), or a signature's parameters
# ("itertools.tee(iter, [n])": rag.grounding.names_a_parameter)
CALL_ARGUMENTS = re.compile(r"\w\(([^()]{1,200})\)")
# "Enum('Level', 'LOW MEDIUM HIGH')", "level = 'MEDIUM'": a string the asker's code passes or assigns is their data
_ASSIGNED_STRING = re.compile(rf"\w\s*=\s*({_QUOTED.pattern})")


def _askers_strings(question: str) -> list[tuple[int, int]]:
    """Where the strings the asker's code passes or assigns are in the question (start, end): no name in them is one
    the pages must write, as a proper name or as an acronym."""
    spans = [(call.start(1) + string.start(), call.start(1) + string.end())
             for call in CALL_ARGUMENTS.finditer(question) for string in _QUOTED.finditer(call.group(1))]
    return spans + [match.span(1) for match in _ASSIGNED_STRING.finditer(question)]


# "In my Player class", "an Enum called Color", "my base class Shape", "a Circle, a subclass of Shape": a name the asker
# gives their own code.
# "… raises its own StorageUnavailable error", "my area() function", "I wrote a small BitMask class" too, and "both
# of them define a save() method".
_CODE_NOUN = (r"(?:class|classes|subclass|subclasses|enum|enums|function|module|package|object|type|exception|error|"
              r"instance|method|variable|dataclass|decorator|script|program|app|application|library|project|tool)")
_OWN_NAME = re.compile(rf"\b(?:my|our|its|their)\s+(?:own\s+)?((?-i:[A-Z])\w*|[a-z_]\w*(?=\(\)))(?:\(\))?\s+{_CODE_NOUN}\b"
                       rf"|\b{_CODE_NOUN}\s+(?:called|named)\s+([A-Z]\w*)"
                       r"|\b(?:my|our|its|their)\s+(?:(?-i:[a-z]+)\s+)?(?:class|subclass|enum|dataclass|exception|type)\s+"
                       rf"((?-i:[A-Z][a-z]\w*))\b(?!\s+{_CODE_NOUN}\b)"
                       r"|\b((?-i:[A-Z][a-z]\w*)),\s+an?\s+subclass\s+of\b"
                       # "I subclassed UserList as TaggedList"
                       r"|\bsubclass(?:ed|ing)?\s+[\w.]+\s+as\s+((?-i:[A-Z][a-z]\w*))\b"
                       r"|\b(?:overrides|overriding|overrode|overridden)\s+([A-Za-z_]\w*)\(\)"
                       r"|(?<=[a-z] )((?-i:[A-Z][a-z]\w*))\s+(?:objects|instances)\b"
                       # "I wrote a small BitMask class", "I have a FixedPoint number class", "My subclass of a
                       # third-party Vector class" (with "its subclass ColorPoint" and "subclassed UserList as
                       # TaggedList", on the Python-docs set: 1904 -> 1905 cited, 209 -> 206 falsely declined)
                       r"|\b(?:make|made|making|write|wrote|writing|create|created|creating|define|defined|defining|"
                       r"build|built|building|have|has|had|subclass\s+of)\s+an?\s+(?:(?-i:[a-z-]+)\s+){0,2}"
                       r"((?-i:[A-Z]\w*))\s+(?:(?-i:[a-z]+)\s+)?(?:class|subclass|enum|dataclass|exception)\b"
                       # "… defines a little show() helper", "both of them define a save() method"
                       r"|\b(?:writes?|wrote|written|defines?|defined|implements?|implemented)\s+an?\s+"
                       r"(?:(?-i:[a-z]+)\s+){0,2}((?-i:[a-z_]\w*))\(\)\s+(?:method|function|helper|callback|hook)\b",
                       re.IGNORECASE)


# "I made groups = defaultdict(list)", "a lookup table, __by_code = {}", "I wrote str.shout = lambda s: …", "def
# foo(a)", "class Foo": a name or attribute the asker's code binds (not a keyword argument, "basicConfig(level=…)",
# "f(a, key=…)", which names the API's own parameter: see _bound_names).
_BOUND = re.compile(r"(?<![\w.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*=(?!=)|\b(?:def|class)\s+([A-Za-z_]\w*)\s*[(:]")


def _bound_names(text: str) -> set[str]:
    """The names the code in ``text`` binds: _BOUND's, but no name inside a call's brackets (a keyword argument)."""
    return {name for match in _BOUND.finditer(text) for name in match.groups()
            if name and text.count("(", 0, match.start()) <= text.count(")", 0, match.start())}


# "sorted(orders, key=get_customer)", "reduce(operator.mul, numbers, 1)": what the asker's call passes (a name of
# theirs, or a value they chose; the question asks about the function they call).
_PASSED = re.compile(r"(?:[(,]|\w=)\s*([A-Za-z_][\w.]*\w)\s*(?=[,)])")
# "[item async for item in stream()]": what the asker's loop calls for its items (a function of theirs; not a
# built-in, "for i in range(n)", nor a module's, "for entry in os.scandir(path)").
_ITERATED = re.compile(r"\bfor\s+\w+(?:\s*,\s*\w+)*\s+in\s+([A-Za-z_]\w*)\s*\(")
# "{make_key(r): make_value(r) for r in rows}": what the asker's loop applies to its own loop variable (a function of
# theirs; a built-in, "str(r)", is Python's, and an API name a page writes is kept by rag.answer.names_as_written).
_LOOP_VARIABLE = re.compile(r"\bfor\s+([A-Za-z_]\w*)\s+in\b")
# "python -m tools.cleanup": a package of the asker's that they run (not "python -m json.tool").
_RUN_AS_MODULE = re.compile(r"(?<!\S)-m\s+([A-Za-z_]\w*(?:\.\w+)+)")
# "My module orders.py does from customers import find_customer, and customers.py …": from a file of the asker's.
_IMPORTED = re.compile(r"\bfrom\s+(\w+)\s+import\s+(\w+(?:\s*,\s*(?!(?:and|or)\b)\w+)*)")


@lru_cache(maxsize=1024)  # analyse, the proper and unknown names and rag.answer each ask it of the same question
def own_names(question: str) -> frozenset[str]:
    """The names the asker gives their own code ("In my Player class …", "an Enum called Color", "our package shop"),
    binds in it ("groups = defaultdict(list)", "def foo(a)"), passes to a call ("key=get_customer"), calls for a loop's
    items ("for item in stream()") or on them ("{make_key(r): make_value(r) for r in rows}") or on a variable it binds
    ("raw = fetch() / … / else: parse(raw)") or imports from a file of theirs, names it calls its own ("MyObject"),
    an enum it looks a member up on ("Perm.READ"), the class a method it defines is called on ("create_small =
    partialmethod(…) … Widget.create_small()"), and the names made from them ("… to make an ExtendedColor"): no page
    writes them, and none need to."""
    given = {name for match in _OWN_NAME.finditer(question) for name in match.groups() if name}
    bound = _bound_names(question)
    given |= bound | {match.group(1) for match in _PASSED.finditer(question)}
    given |= {name for name in _ITERATED.findall(question) if not hasattr(builtins, name)}
    given |= {name for variable in {*_LOOP_VARIABLE.findall(question), *bound}
              for name in re.findall(rf"(?<![\w.])([A-Za-z_]\w*)\(\s*{re.escape(variable)}\s*\)", question)
              if not hasattr(builtins, name)}
    given |= {name for name in _RUN_AS_MODULE.findall(question) if name.split(".")[0] not in sys.stdlib_module_names}
    given |= {name.strip() for match in _IMPORTED.finditer(question)
              if re.search(rf"\b{re.escape(match.group(1))}\.py\b", question) for name in match.group(2).split(",")}
    given |= set(_MY_NAME.findall(question)) | set(_ENUM_MEMBER.findall(question))
    # "… create_small = partialmethod(…) … when I call Widget.create_small()": the class of a method it defines
    methods = {defined or assigned for defined, assigned in _METHOD_DEFINED.findall(question)}
    given |= {owner for owner, attribute in re.findall(r"(?<![\w.])([A-Za-z_]\w*)\.([A-Za-z_]\w*)", question)
              if attribute in methods and owner not in sys.stdlib_module_names and not hasattr(builtins, owner)}
    made = {word for word in re.findall(r"\b[A-Z]\w*", question)
            if any(name[:1].isupper() and name in word for name in given)}
    return frozenset(given | made | own_packages(question))


# "def area(self)", "create_small = functools.partialmethod(create, 'small')": a method the asker's code defines
_METHOD_DEFINED = re.compile(r"\bdef\s+([A-Za-z_]\w*)\s*\(|\b([A-Za-z_]\w*)\s*=\s*(?:[\w.]+\.)?"
                             r"(?:partialmethod|property|classmethod|staticmethod|cached_property|singledispatchmethod)\(")


# "self(type="MyObject *")", "my_list.sort()": a name made to say it is the asker's own (the shapes of
# rag.answer._POSSESSED that prose cannot mistake for a word: "mystery" is none).
_MY_NAME = re.compile(r"(?<![\w.])(My[A-Z]\w*|my_\w+)")


# "Perm.READ", "Status.SHIPPED": the enum of the asker's that a member in capitals is looked up on ("Perm is an
# enum.Flag. Can I write Perm.READ | 8 …?"; not a call, "Path.cwd()", nor an acronym, "HTTPStatus.OK")
_ENUM_MEMBER = re.compile(r"(?<![\w.])([A-Z][a-z]+\w*)\.[A-Z][A-Z0-9_]+\b(?![.(])")


# "Our package shop has an empty __init__.py": a package or module of the asker's, named after what it is.
_OWN_PACKAGE = re.compile(r"\b(?:my|our)\s+(?:own\s+)?(?:(?:package|module)\s+((?-i:[a-z_]\w*))\b"
                          r"|((?-i:[a-z_]\w*))\s+(?:package|module)\b)", re.IGNORECASE)


def own_packages(question: str) -> frozenset[str]:
    """The packages and modules the asker names as theirs ("Our package shop …", "my settings module"): every dotted
    name under one ("shop.cart", "shop.cart.total()") is theirs too, written on no page, where a name under the
    asker's variable or class ("obj.__len__", "Color.RED") may still be the API's. The name must be used as code
    too ("import shop.cart", "settings.debug_override"): in "my package live in a second folder" it is a verb."""
    named = {name for match in _OWN_PACKAGE.finditer(question) for name in match.groups() if name}
    return frozenset(name for name in named if re.search(rf"\b{re.escape(name)}\.\w|\bimport\s+{re.escape(name)}\b",
                                                         question))


# "Is there a tool that … rewrites it to modern Python 3 syntax, such as pyupgrade?": the one lower-case word given
# as the example, ending its clause or followed by a remark in brackets ("such as py-spy (py-spy top …)"), another
# one ("for example with chardet or charset-normalizer?") or what goes with it ("for example with pyenv and a
# .python-version file?"), names a tool or package (a word of the language the pages would hold), with an article
# or not ("something like a bidict"), or with a name used from it ("for example joblib.Memory or diskcache?": the
# package joblib; Python-docs set: 499 -> 500 of 656 declined, nothing else moved); not a word called with arguments,
# which is the asker's own code ("callable like functions, e.g. scorer(item)": 1804 -> 1805 of 2826 cited); after
# the package or project it comes from ("for example with pip-tools' pip-compile?": 571 -> 572 of 728 declined).
_TOOL = (r"(?:[a-z][\w-]*(?:'s|’s|'|’)\s+)?(?=[a-z0-9-]{4})([a-z][a-z0-9]*(?:-[a-z0-9]+)*)(?!\([^)])"
         r"(?:\.[A-Za-z_]\w*)*(?=\s*[?,;()]|\s*$|\s+(?:or|and)\s)")
# "for example with the py-bt command from …": one named as the command, tool or package it is
_NAMED_TOOL = (r"(?:the\s+)?(?=[a-z0-9-]{4})([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\s+"
               r"(?=(?:command|tool|utility|package|library|extension|plugin)\b)")
_EXAMPLE_TOOL = re.compile(rf"{_EXAMPLE_WORDS}\s+(?:(?:with|using)\s+)?(?:an?\s+)?(?:{_TOOL}|{_NAMED_TOOL})")
# … and the tools listed after it ("such as black or autopep8", "like flake8, pylint or mypy")
_MORE_TOOLS = re.compile(rf"(?:\s*,\s*(?:or\s+|and\s+)?|\s+(?:or|and)\s+){_TOOL}")


def _example_tools(question: str) -> list[str]:
    """The tools or packages a question gives as examples of what it asks for, every one of a list."""
    tools = []
    for match in _EXAMPLE_TOOL.finditer(question):
        tools.append(match.group(1) or match.group(2))
        at = match.end()
        while (more := _MORE_TOOLS.match(question, at)) is not None:
            tools.append(more.group(1))
            at = more.end()
    return tools


def _unknown_names(question: str, idf: Callable[[list[str]], list[float]], focus: dict[str, float]) -> tuple[str, ...]:
    """The proper names of the question no indexed passage holds: the documents never mention what is asked
    about, so no passage sharing the question's other words answers it ("Can AMC send the marks by SMS?"). So is a
    tool or package given as the example of what is asked for ("such as pyupgrade?", each of a list: "such as black
    or autopep8?"), where a proper name given as one is a comparison ("a garbage collector like Java's"). A term in no
    passage gets the rarest weight (that of the empty term, which no passage holds); when every focus term has it,
    the index has no statistics and nothing is judged unknown."""
    rarest = idf([""])[0]
    if not focus or all(weight >= rarest for weight in focus.values()):
        return ()
    unknown = []
    named = [match.group(1) or match.group(2) for match in _names_written(question)]
    handled = handled_exceptions(question)
    for name in dict.fromkeys(named + _example_tools(question) + _quoted_terms(asked_clause(question))):
        stem = stemmer().stemWord(name.lower())
        if name.lower() not in _FRAME_WORDS and name not in handled and focus.get(stem, 0.0) >= rarest:
            unknown.append(name)
    return tuple(unknown)


def _quoted_terms(clause: str) -> list[str]:
    """The single words the asking clause quotes as the name of what it asks about ("What does the 'surrogatepass'
    error handler do?"): the thing named, which a passage answering writes; not a value ("the word 'spam'")."""
    return [match.group(1) for match in _QUOTED_TERM.finditer(clause)]


_QUOTED_TERM = re.compile(r"(?<!\w)['‘\"“]([a-z][a-z0-9_]{3,})['’\"”]\s+"
                          r"(?=(?:error\s+)?(?:handler|option|flag|mode|argument|parameter|setting|method|function|"
                          r"module|codec|encoding|format|style|keyword|command|directive|converter)s?\b)")


def handled_exceptions(question: str) -> frozenset[str]:
    """The exception classes the asker's code raises or catches ("raise UploadError('upload failed') from …", "except
    NotFoundError:", "… fetches a value from a config service and now and then raises ConnectionError"): one no page
    holds, or no passage found writes, is theirs (a library's or their own), not what they ask about. Python-docs set:
    1482 -> 1483 of 2351 cited, 166 -> 165 falsely declined, declined unchanged (as unknown names); as rare names
    (rag.answer.rare_names) and raised in prose too ("raises ConnectionError"), 1507 -> 1509 of 2390 cited, 162 ->
    158 falsely declined, declined unchanged."""
    return frozenset(name for match in _HANDLED.finditer(question) for name in match.groups() if name)


_HANDLED = re.compile(r"\b(?:raise|raises|raised|raising)\s+([A-Z]\w*)\b|\bexcept\*?\s*\(?([A-Z]\w*)\b")


# "At most" asks for the maximum, the word documents state a limit with ("the maximum number of answers").
_BOUNDS = re.compile(r"\bat\s+(most|least)\b", _I)
_BOUND_WORDS = {"most": "maximum", "least": "minimum"}


def _is_year(word: str) -> bool:
    return bool(re.fullmatch(r"1[5-9]\d\d|20\d\d", word))


def bm25_idf(document_frequency: Callable[[str], int], documents: int) -> Callable[[list[str]], list[float]]:
    """Okapi BM25's IDF, log(1 + (N - df + 0.5) / (df + 0.5)), over an index's own counts; unseen terms get the
    rarest weight (a term the index never saw is as specific as a question term can be)."""

    def idf(terms: list[str]) -> list[float]:
        return [math.log(1 + (documents - df + 0.5) / (df + 0.5)) for df in map(document_frequency, terms)]

    return idf


def depends_on_conversation(question: str) -> bool:
    """Does the question need the conversation to be understood (a pronoun, ellipsis, "what about …")?

    Decided before retrieval, so a question that stands on its own is searched exactly as asked."""
    if _ELLIPSIS.search(question):
        return True
    if _PRONOUN.search(question):
        # "What is this technique called" leans on context; "that" after a noun ("the problem that …") does not.
        return bool(re.search(r"(?:^|\s)(?:it|its|it's|they|them|their|he|him|his|she|her|there)\b", question, _I)
                    or re.search(r"\b(?:this|that|these|those)\s*(?:[?.!]|$|\b(?:is|was|are|were|mean|do|does)\b)",
                                 question, _I)
                    or re.search(r"\b(?:this|these|those)\s+\w+", question, _I))
    return len(content_words(question)) <= 1  # "Why?", "How so?", "And the year?"


# "the overview", "the starter pack", "the core post": a document named by the words after "the".
_THE_PHRASE = re.compile(r"\bthe\s+(?=((?:[\w'’-]+\s+){0,2}[\w'’-]+))", _I)
MAX_NAMED_DOCUMENTS = 3  # a question naming more is about a topic, not about these documents


def named_documents(question: str, titles: Mapping[str, str]) -> dict[str, set[str]]:
    """The documents (keys of ``titles``, document -> title) the question names by title words no other title
    has, in the words after a "the" ("What do the overview and the core post say …"), each with those words (as
    stems): each document must be searched, or the best-matching one crowds the other out of the passages. A word
    for a document (_FRAME_WORDS: "the guide on isolating …", "the code that …") names none alone: on the Python-docs
    set the pages titled "Descriptor HowTo Guide" and "Porting Python 2 Code to Python 3" were taken as named."""
    own = _distinctive_title_terms(tuple(titles.items()))
    named: dict[str, set[str]] = {}
    asked = stemmed_terms(question)
    for match in _THE_PHRASE.finditer(question):
        naming = _naming_words(match.group(1))
        said = stemmed_terms(" ".join(w for w in match.group(1).split() if w.lower() not in _FRAME_WORDS))
        for doc, terms_ in own:
            if (said & terms_ and all(stemmed_terms(word) & stemmed_terms(titles[doc]) for word in naming)
                    and _refers_to_a_document(question[match.start(1):], asked, titles[doc])
                    and not _opens_a_part(doc, titles)):  # last: it reads every title
                named.setdefault(doc, set()).update(asked & terms_)
    return named if len(named) <= MAX_NAMED_DOCUMENTS else {}


def _opens_a_part(doc: str, titles: Mapping[str, str]) -> bool:
    """Is the document the index page of a folder holding others ("reference/index.html", titled "The Python Language
    Reference")? Its title names that part of the site, whose pages say what "the language reference" says, not
    the page listing them."""
    folder, _, name = doc.rpartition("/")
    return (name.rsplit(".", 1)[0].lower() in ("index", "readme")
            and any(other != doc and other.rpartition("/")[0] == folder for other in titles))


# What a phrase naming a document goes on with: a word for a document ("the core post") or for what a document does
# ("the overview give", "the starter pack list"), or a possessive ("the starter pack's author").
_DOCUMENT_CUE = re.compile(
    r"[’']s\b|\b(?:says?|said|give[sn]?|gave|lists?|listed|describes?|described|mentions?|mentioned|recommends?|"
    r"recommended|defines?|defined|explains?|explained|covers?|covered|states?|stated|writes?|wrote|written|claims?|"
    r"argues?|argued|suggests?|suggested|post|posts|page|pages|guide|article|paper|document|manual|book|chapter|"
    r"notes|report)\b", _I)
DOCUMENT_CUE_WORDS = 6  # … within this many words of where the phrase starts ("the overview and the core post say")
# … as the phrase's own verb, not a passive one ("the encoding has to be written into the clinic block")
_PASSIVE = re.compile(r"\b(?:be|been|being|is|are|was|were)\s+(?:\w+ly\s+)?$", _I)
# … in the phrase's own clause: "add to the class so callers can just write …" has the callers write, not the class
_PHRASE_CLAUSE_END = re.compile(r"[,;:.?!]|\b(?:so|that|because|if|when|while|but|then|where|which|who|whose|until|"
                                r"unless|before|after|since|although|though)\b", _I)


def _refers_to_a_document(phrase_on: str, asked: frozenset[str], title: str) -> bool:
    """Does a "the …" phrase sharing a title's words refer to that document, not to the thing the site is about?
    On a documentation site "stay in the interpreter", "the language called Python" and "so the output is small"
    ask about the interpreter, the language and the output, not about the pages titled "Using the Python
    Interpreter", "The Python Language Reference" and "Input and Output". A phrase refers to the document when it
    goes on like one (_DOCUMENT_CUE, in its own clause: "… add to the class so callers can just write …" has the
    callers write; Python-docs set +1 cited of 2127, nothing else changed; and as its verb, not a passive one: "the
    class the method was defined in" names no page titled "9. Classes", +1 cited of 2217), or the question holds every
    word of the title ("When was the AI Alignment Overview published?"), a title of two words or more: "nothing of
    the sort" names no "Sorting HOW TO" (Python-docs set: 172 -> 171 falsely declined of 2587; 500 -> 499 of 656
    declined, a near-topic sort-key question held to that page by the same mistake now answered from the json page)."""
    clause = _PHRASE_CLAUSE_END.split(" ".join(phrase_on.split()[:DOCUMENT_CUE_WORDS]), 1)[0]
    return (any(not _PASSIVE.search(clause[: cue.start()]) and _cue_of_phrase(clause, cue)
                for cue in _DOCUMENT_CUE.finditer(clause))
            or len(terms := set(stemmer().stemWords(content_words(title)))) >= 2 and terms <= asked)


def _cue_of_phrase(clause: str, cue: re.Match[str]) -> bool:
    """Is the cue the phrase's own: a possessive only on its naming words ("the starter pack's author"), not on a
    noun after them ("the annotation for a function's return type" names no page titled "Annotations Best
    Practices"). Python-docs set: 1643 -> 1644 of 2587 cited, 175 -> 173 falsely declined, declined unchanged."""
    if cue.group(0)[0] not in "’'":
        return True
    return all(content_words(word) for word in clause[: cue.start()].split())


def without_terms(question: str, stems: set[str]) -> str:
    """The question without the words whose stem is in ``stems`` (the words naming a document, to search it by
    what is asked of it)."""
    return " ".join(word for word in question.split()
                    if not stemmed_terms(word) & stems or not content_words(word))


def _naming_words(phrase: str) -> list[str]:
    """The words of a "the …" phrase that say which thing it is, up to its first function word ("core" in "core
    post say", "overview" in "overview and the"): a document is named only when its title has them all, so "the
    array module" does not name "An introduction to the ipaddress module" for sharing "module"."""
    words = []
    for word in phrase.split():
        if not content_words(word):
            break
        if word.lower() not in _FRAME_WORDS:
            words.append(word)
    return words


@functools.lru_cache(maxsize=4)
def _distinctive_title_terms(titles: tuple[tuple[str, str], ...]) -> tuple[tuple[str, frozenset[str]], ...]:
    """Each document's title terms (stems: "module" and "modules" are one word) that no other title has (cached: the
    titles change only with the index)."""
    own = [(doc, frozenset(terms(title))) for doc, title in titles]
    seen = Counter(term for _, terms_ in own for term in terms_)
    return tuple((doc, frozenset(term for term in terms_ if seen[term] == 1)) for doc, terms_ in own)


# ---- does a text carry an answer of the expected type? ------------------------------------------------------

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_YEAR_RE = re.compile(r"(?<![\w.,/=-])(?:1[5-9]\d\d|20\d\d)(?![\w%])")
_DATE_RE = re.compile(rf"\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b\d{{1,2}}\s+{_MONTH}\s+\d{{4}}\b|\b{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}\b"
                      rf"|\b{_MONTH}\s+\d{{4}}\b", _I)
_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
                 r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|"
                 r"million|billion|dozen|dozens|hundreds|thousands|millions|half|twice|double|triple")
# "Changed in version 3.5", "starting with Python 3.7", "v2.1": a release's number, named as one
_VERSION_RE = re.compile(r"\b(?:version|release|v)\s*\d+(?:\.\d+)*\b|\b(?-i:[A-Z][\w-]*)\s+\d+\.\d+(?:\.\d+)?\b", _I)
_NUMBER_RE = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", _I)
_LIMIT_RE = re.compile(r"\b(?:limit(?:s|ed)?|unlimited|limitless|maximum|minimum|quota|at\s+most|no\s+more\s+than|"
                       r"(?:un)?bounded|capped|arbitrar(?:y|ily)\s+(?:large|long|many|deep))\b", _I)
_PERCENT_RE = re.compile(r"\d\s*%|\bpercent\b|\bper\s*cent\b|\bpercentage\s+points?\b", _I)
_AMOUNT_RE = re.compile(r"[$€£¥]\s*\d|\d\s*(?:k|m|bn)?\s*(?:usd|eur|gbp|dollars?|euros?|pounds?)\b"
                        r"|\b\d[\d,.]*\s*(?:million|billion|thousand)\b", _I)
_URL_RE = re.compile(r"\bhttps?://\S+|\bwww\.\S+|\b[a-z0-9-]+\.(?:com|org|net|io|ai|dev|edu|gov)(?:/\S*)?\b", _I)
_CAP = r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_NAME = rf"{_CAP}(?:\s+(?:[A-Z]\.\s*)?{_CAP}){{0,2}}"
_PERSON_BY = re.compile(rf"\b(?:by|from|under|with|author:?|authors:?|according\s+to|written\s+by|interview\s+with)"
                        rf"\s+{_NAME}|\bauthors?:\s*\S+")  # a person tied to what is said by a preposition
_PERSON_ACTS = re.compile(rf"\b{_NAME}\s+(wrote|writes|says|said|argues|argued|explains|explained|believes|believed|"
                          rf"proposed|coined|introduced|describes|described|claims|claimed|notes|noted|suggests|"
                          rf"suggested)\b")  # … or as the one doing it
_PERSON_RE = re.compile(rf"{_PERSON_BY.pattern}|{_PERSON_ACTS.pattern}|\b{_CAP}\s+{_CAP}'s\b")
_WHO_DOES = re.compile(r"^\s*who\s+([a-z]+)\b", _I)
_IRREGULAR = {"wrote": "write", "written": "write", "led": "lead", "won": "win", "made": "make", "began": "begin",
              "said": "say", "thought": "think", "taught": "teach", "found": "find", "built": "build"}


def names_another_doer(question: str, text: str) -> bool:
    """Does the text name a person only as doing something else than a "Who <verb> …?" question asks? "In this 2023
    podcast Eliezer explains why …" names no writer for "Who wrote the starter pack?"; "Paul argues in favor of a
    soft takeoff" does answer "Who argues …", and "by Gwern" / "author: …" answer any of them."""
    asked = _WHO_DOES.match(question)
    if not asked or asked.group(1).lower() in {"is", "was", "are", "were", "did", "does", "do", "has", "had"}:
        return False
    if _PERSON_BY.search(text):
        return False
    base = lambda verb: stemmer().stemWord(_IRREGULAR.get(verb.lower(), verb.lower()))  # noqa: E731
    doing = {base(m.group(1)) for m in _PERSON_ACTS.finditer(text)}
    return bool(doing) and base(asked.group(1)) not in doing


_ORG_SUFFIX = re.compile(r"\b(?:[A-Z][\w&-]*\s+){0,4}(?:Research|Institute|Lab|Labs|Laboratory|Center|Centre|University|"
                         r"Foundation|Inc|Ltd|LLC|Corporation|Company|Group|Team|Council|Society|Initiative)\b")
_ORG_TOKEN = re.compile(
    r"\b[A-Z][a-z]+[A-Z]\w*\b"  # OpenAI, DeepMind
    r"|\b[A-Z][\w-]+['’]s\s+(?:approach|team|lab|work|research|agenda|model|paper|policy|commitment)\b"
    r"|\([A-Z][\w-]+(?:\s+[A-Z][\w-]+)*\)"  # "Constitutional AI (Anthropic)"
    r"|\b(?:at|by|from|with|and|of)\s+[A-Z][\w-]+(?:\s+[A-Z][\w-]+)*"
    r"|\b(?:[Oo]rgani[sz]ation|[Cc]ompany|[Ll]ab)\s*:\s*\S")
_WEB_PLACE = re.compile(r"\b(?:on|at|in|from)\s+(?:the\s+|its\s+)?(?:[\w.-]+\s+){0,2}"
                        r"(?:wiki|web\s*site|site|home\s*page|mailing\s+list|forum|newsgroup|bug\s+tracker|"
                        r"issue\s+tracker)\b", _I)
_PLACE_RE = re.compile(rf"\b(?:in|at|from|near|based\s+in)\s+(?:the\s+)?{_NAME}")
# A pointer to a document by its title: "See The Perils of Floating Point …", "consult the Beginner’s Guide" (the
# page text keeps the title, not the link). Python-docs set: 1832 -> 1833 of 2874 cited, nothing else moved. So is one
# to a kind of document ("… you can refer to almost any textbook on writing compilers": 1891 -> 1892 of 2971 cited).
_NAMED_DOCUMENT = re.compile(r"\b(?:[Ss]ee|[Cc]onsult|[Rr]efer\s+to|[Rr]ead)\s+(?:(?:the\s+)?[A-Z][\w’'-]+"
                             r"|(?:almost\s+)?(?:any|an?)\s+(?:\w+\s+)?(?:textbook|book|paper|article|tutorial|guide)s?\b)")


def carries(text: str, kind: str | None, acronym: str | None = None) -> bool:
    """Does ``text`` hold an answer of type ``kind``? Types that shape the answer (definition, list, yes/no)
    and untyped questions are carried by any text. A URL's digits and capitals are no year or name."""
    if kind != URL:
        text = _URL_RE.sub(" ", text)
    if kind == YEAR:
        return bool(_YEAR_RE.search(text))
    if kind == DATE:
        return bool(_YEAR_RE.search(text) or _DATE_RE.search(text))
    if kind == VERSION:
        return bool(_VERSION_RE.search(text))
    if kind == LIMIT:  # one said in words, or the number itself
        return bool(_LIMIT_RE.search(text)) or carries(text, NUMBER)
    if kind == NUMBER:  # a year is no count
        return bool(_NUMBER_RE.search(_YEAR_RE.sub(" ", text)))
    if kind == PERCENTAGE:
        return bool(_PERCENT_RE.search(text))
    if kind == AMOUNT:
        return bool(_AMOUNT_RE.search(text))
    if kind == URL:  # a link, the web place it leads to ("… can be found on the python wiki") or the document it
        # names ("See The Perils of Floating Point for a more complete account …")
        return bool(_URL_RE.search(text) or _WEB_PLACE.search(text) or _NAMED_DOCUMENT.search(text))
    if kind == PERSON:
        return bool(_PERSON_RE.search(text))
    if kind == ORGANISATION:
        return bool(_ORG_SUFFIX.search(text) or _ORG_TOKEN.search(text))
    if kind == PLACE:
        return bool(_PLACE_RE.search(text))
    if kind == EXPANSION:
        return bool(acronym) and (expands(text, acronym) or _says_what_it_is(text, acronym))
    return True


def person_names(text: str) -> list[str]:
    """The people a text names by first and last name ("by Paul Christiano" -> "Paul Christiano"), once each."""
    text = _URL_RE.sub(" ", text)
    return list(dict.fromkeys(m.group(1) for m in re.finditer(rf"\b(?:by|from|with|and)\s+({_CAP}\s+{_CAP})\b", text)))


_ACRONYM = re.compile(r"(?<=\S)\s+([A-Z]{3,})\b")  # after the first word; "OK", "IT", "US" are words


def acronyms(question: str) -> tuple[str, ...]:
    """The acronyms a question writes ("How do I send an HTTP PUT request?" -> HTTP, PUT), except words that frame
    what it asks ("What URL …"), examples it gives ("like READ | WRITE") unless as the thing it asks whether there is
    ("Is there an environment variable, something like LOGLEVEL …?": Python-docs set 588 -> 589 of 752 declined,
    nothing else moved) and the asker's strings ("Enum('Level', 'LOW MEDIUM HIGH')"); none in a question in
    capitals."""
    letters = [ch for ch in question if ch.isalpha()]
    if sum(ch.isupper() for ch in letters) > len(letters) / 2:
        return ()
    written = [m for m in _ACRONYM.finditer(question) if not offered_as_example(question, m.start(1))
               or _ASKS_WHETHER_ONE.search(_clause_before(question, m.start(1)))]
    data = _askers_strings(question) + _askers_setting(question) if written else []
    written = [m for m in written if not any(start <= m.start(1) < end for start, end in data)]
    return tuple(dict.fromkeys(m.group(1) for m in written
                               if m.group(1).lower() not in _FRAME_WORDS and not _HEX_DIGITS.fullmatch(m.group(1))))


_HEX_DIGITS = re.compile(r"[A-F]{4,}")  # "a code point above FFFF": a number in hex, which no page need write


def asked_acronym(question: str) -> str | None:
    """The acronym an expansion question asks about ("What does RLHF stand for?" -> "RLHF")."""
    candidates = re.findall(r"\b[A-Z][A-Za-z]*[A-Z]\w*\b", question)
    return max(candidates, key=lambda c: sum(ch.isupper() for ch in c)) if candidates else None


_GLUE = frozenset("of for from and the to in on with a an by".split())


def expands(text: str, acronym: str) -> bool:
    """Does ``text`` spell out ``acronym`` as words whose initials make it (AI in a name counts as A, I)?"""
    letters = [ch.lower() for ch in acronym if ch.isalpha()]
    words = re.findall(r"[A-Za-z][A-Za-z'’]*", re.sub(r"-", " ", text))
    for start in range(len(words)):
        i, j, used = 0, start, 0
        while i < len(letters) and j < len(words):
            word = words[j]
            if word == acronym:
                break
            if word.isupper() and len(word) >= 2 and "".join(letters[i:i + len(word)]) == word.lower():
                i, used = i + len(word), used + 1
            elif word[0].lower() == letters[i]:
                i, used = i + 1, used + 1
            elif word.lower() not in _GLUE or not used:
                break
            j += 1
        if i == len(letters) and used >= 2:
            return True
    return False


def _says_what_it_is(text: str, acronym: str) -> bool:
    """Does ``text`` open by saying what the letters stand for ("NN is the Python version, a number such as “33” for
    Python 3.3."): a placeholder or symbol is explained, not spelled out."""
    return re.match(rf"\W*{re.escape(acronym)}\s+(?:stands\s+for|means|is\s+short\s+for|is\s+the|refers\s+to)\b",
                    text) is not None


def spelled_out(text: str, acronym: str) -> bool:
    """Does ``text`` write ``acronym`` out as capitalised words ("Artificial General Intelligence" for AGI, "Global
    Interpreter Lock" for GIL)? Stricter than :func:`expands`: fit to pick passages out of many."""
    letters = [ch for ch in acronym.upper() if ch.isalpha()]
    if len(letters) < 2:
        return False
    glue = r"(?:(?:of|for|from|and|the|to|in|on|with|by|a|an)[\s-]+)?"
    pattern = glue.join(rf"{letter}[\w'’]*[\s-]+" for letter in letters[:-1]) + glue + rf"{letters[-1]}\w*"
    return re.search(rf"\b{pattern}", text) is not None


def type_phrase(kind: str | None) -> str:
    """How a decline names what is missing: "… but don't give its year"."""
    return {
        YEAR: "don't give the year", VERSION: "don't give the version", DATE: "don't give the date",
        NUMBER: "don't give the number", LIMIT: "don't give a limit",
        PERCENTAGE: "don't give a percentage", AMOUNT: "don't give the amount", PERSON: "don't say who",
        ORGANISATION: "don't name the organisation", PLACE: "don't say where", URL: "don't give a link for it",
        EXPANSION: "don't spell out the acronym",
    }.get(kind or "", "don't answer this question")


def focus_phrase(question: Question, held: str | None = None, limit: int = 4) -> str:
    """The rarest focus words, as and where the question writes them (for "The documents discuss X …"): only those
    the passages' text ``held`` holds, when given, one word per stem, and no particle, pronoun, general word or single
    letter ("out", "my", "several", the "n" of "%n"). The rarest words are often the asker's own ("invoices"), which
    the documents do not discuss at all."""
    stems = stemmer().stemWords(list(question.focus_words))
    found = stemmed_terms(held) if held is not None else set(stems)
    ranked = sorted(((word, stem) for word, stem in zip(question.focus_words, stems)
                     if stem in found and len(word) > 1 and word.lower() not in _UNNAMED),
                    key=lambda pair: -question.focus.get(pair[1], 0.0))
    chosen = {word for word, _ in ranked[:limit]}
    # Words the question writes side by side stay one phrase ("zip archive"); phrases are listed ("create, zip
    # archive and shutil"), not run together into words the question never wrote in that order.
    phrases: list[list[str]] = []
    seen, last = set(), -2
    for at, word in enumerate(_original_words(question.text)):
        if word.lower() not in chosen or (stem := stemmer().stemWord(word.lower())) in seen:
            continue
        seen.add(stem)
        if at == last + 1:
            phrases[-1].append(word)
        else:
            phrases.append([word])
        last = at
    # A possessive ends no phrase: "socket", not "socket's" ("window's title" keeps it).
    listed = [re.sub(r"['’]s$", "", " ".join(phrase)) for phrase in phrases]
    if len(listed) > 1:
        return f"{', '.join(listed[:-1])} and {listed[-1]}"
    return listed[0] if listed else "this topic"


# Words too general to say what documents discuss ("The documents discuss several, priority and heapq …"); only for
# naming, as a question may well ask about them.
_GENERAL_WORDS = frozenset("several every each both either neither those other others same different instead without "
                           "before after between during again further more most less least very better best make makes "
                           "made making need needs needed want wants keep keeps put get gets getting use uses using "
                           "used way ways thing things something anything actually directly simply automatically "
                           "already whether through inside like first second two three new old small top later "
                           "available allowed comes defined introduced because since look looks earlier".split())


# Words naming no topic, in a clause that asks or a part of a question (Question.part_asks_unheld): "myself", "the
# pattern itself" ask about no word a page must write (with the reflexives here, Python-docs set 1672 -> 1673 of 2633
# cited, nothing else moved)
NO_TOPIC = frozenset("my mine own out up off over down away back lot lots just really still even ever myself yourself "
                     "himself herself itself ourselves yourselves themselves".split())
_UNNAMED = NO_TOPIC | _GENERAL_WORDS  # never named in a decline


def _original_words(text: str) -> Iterable[str]:
    return re.findall(r"[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*", text)
