"""Answers that answer the question, and honest declines when the documents are silent (issue 10), on the real
model and a real index of corpus/: table rows, metadata and links as citable units, typed questions, list
answers, follow-ups that don't leak, and post-hoc attribution for a chat model that writes no [n] markers."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from rag.answer import (answer_stream, final_answer, names_as_written, rare_names, subject_acronyms,
                        suggested_names, suggested_settings, unwritten_names)
from rag.backends import ChatBackend, get_backend
from rag.backends.extractive import _code_rest, _draws_on, _in_parallel, _label, _link_line, _only_comments, _quote
from rag.grounding import SCORE_WEIGHTS, answer_shape, judge, names_a_parameter, question_vector, written_text
from rag.chunk import LINKS_SECTION, METADATA_SECTION, reference_chunks
from rag.citations import UNSUPPORTED, check_claims, claims_of
from rag.loaders import load_document
from rag.passage import Hit, Passage
from rag.retrieve import with_section_rests
from rag.question import (
    AMOUNT, DATE, DEFINITION, EXPANSION, LIMIT, NUMBER, ORGANISATION, PERCENTAGE, PERSON, URL, VERSION, YEAR, acronyms,
    analyse, answer_type, asked_clause, bm25_idf, carries, depends_on_conversation, expands, focus_phrase, mentions,
    named_documents, own_names, proper_names,
)
from rag.text import fenced_spans, split_sentences
from rag.units import CODE, ITEM, SENTENCE, Unit, units_of

from conftest import CORPUS, make_settings


@pytest.fixture(scope="module")
def extractive(indexed_assistant):
    return get_backend("extractive", indexed_assistant.settings)


def ask(assistant, backend, question, history=()):
    events = list(answer_stream(
        question, history, retrieve=assistant.search, embedder=assistant.embedder, backend=backend, k=5,
        idf=assistant.idf(), document_text=assistant.document_text,
    ))
    return events[-1].answer


def ask_quoting(assistant, question):
    """The extractive backend's answer to ``question`` over the assistant's index."""
    return ask(assistant, get_backend("extractive", assistant.settings), question)


def quoted(assistant, citation) -> str:
    return assistant.document_text(citation.passage.source)[citation.quote_start : citation.quote_end]


def test_a_table_cell_question_returns_the_row_with_its_header(indexed_assistant, extractive):
    answer = ask(indexed_assistant, extractive, "Which organisation works on causal scrubbing?")
    assert answer.grounded
    assert answer.answer == "Organisation: Redwood Research · Agenda: Adversarial training, causal scrubbing [1]."
    (citation,) = answer.citations
    assert citation.supported and citation.answers
    # The highlight is the row in the source table, not the whole chunk.
    assert quoted(indexed_assistant, citation) == "| Redwood Research | Adversarial training, causal scrubbing |"
    assert citation.passage.start < citation.quote_start and citation.quote_end < citation.passage.end


def test_a_list_question_lists_the_rows_each_cited(indexed_assistant, extractive):
    answer = ask(indexed_assistant, extractive, "Which organisations work on alignment research?")
    assert answer.grounded
    lines = answer.answer.splitlines()
    assert len(lines) == 6 and all(line.startswith("- Organisation: ") and line.endswith("[1]") for line in lines)
    for name in ("Anthropic", "OpenAI", "DeepMind", "ARC", "Redwood Research", "MIRI"):
        assert any(f"Organisation: {name}" in line for line in lines)
    assert answer.citations[0].answers


@pytest.mark.parametrize("question, missing", [
    ("In what year was RLHF introduced?", "year"),
    ("What percentage of AI failures are caused by distributional shift?", "percentage"),
    ("What does MIRI stand for?", "acronym"),
    ("Who wrote the AI alignment starter pack?", "who"),
])
def test_a_typed_question_whose_answer_is_absent_is_declined(indexed_assistant, extractive, question, missing):
    answer = ask(indexed_assistant, extractive, question)
    assert not answer.grounded
    assert answer.answer.startswith("The documents discuss ") and missing in split_sentences(answer.answer)[0]
    # What the documents do say is quoted and checked: in the passage, but not an answer.
    assert all(c.supported and not c.answers for c in answer.citations)
    assert len(answer.citations) + len(answer.uncited) == 5


def test_a_decline_names_only_what_the_documents_discuss(indexed_assistant, extractive):
    # The rarest words of a question are often the asker's own: "The documents discuss startup's" would be false.
    answer = ask(indexed_assistant, extractive, "What percentage of my startup's AI failures are caused by distributional shift?")
    said = split_sentences(answer.answer)[0]
    assert not answer.grounded and said.startswith("The documents discuss ") and "distributional shift" in said
    assert "startup" not in said and "my" not in said.split()
    # … nor a single letter of the asker's pattern ("Holiday_%n%f")
    asked = analyse("How can I make Template use % to mark the placeholders of patterns such as Holiday_%n%f?")
    assert focus_phrase(asked, "Template placeholders n f patterns") == "Template, placeholders and patterns"
    # Words the question writes side by side stay one phrase; the phrases are listed, not run together.
    assert focus_phrase(analyse("How do I create a zip archive with shutil.make_archive?")) == "create, zip archive and shutil"
    # General words name no topic, a stem is named once, and a possessive ends no phrase.
    asked = analyse("How do I keep several connections open between requests?")
    assert focus_phrase(asked, "keep several connections open between requests") == "connections open and requests"
    assert focus_phrase(analyse("Do pool workers restart when one worker crashes?")) == "pool workers restart"
    assert focus_phrase(analyse("Why does my socket's receive buffer overflow?"), "socket") == "socket"
    # … nor words that only say how or when ("automatically", "like", "whether", "first", "introduced").
    asked = analyse("How can I have a cleanup function called automatically when my program is about to exit?")
    assert focus_phrase(asked) == "cleanup function, program and exit"
    asked = analyse("How do I check with the ipaddress module whether an IPv6 address like fe80::1 is link-local?")
    assert focus_phrase(asked) == "check, ipaddress module and IPv6"
    assert focus_phrase(analyse("Which PEP first introduced namespace packages?")) == "PEP and namespace packages"


@pytest.mark.parametrize("question, fact", [
    ("In which year did OpenAI Codex appear?", "2021"),
    ("By how much does Constitutional AI reduce human labelling cost for safety training?", "80%"),
    ("What does ARC stand for?", "Alignment Research Center"),
    ("What does DPO stand for?", "Direct Preference Optimisation"),  # the expansion is the section heading
    ("Who wrote Takeoff speeds?", "Paul Christiano"),
])
def test_a_typed_question_whose_answer_is_present_is_answered(indexed_assistant, extractive, question, fact):
    answer = ask(indexed_assistant, extractive, question)
    assert answer.grounded and fact in answer.answer
    assert all(c.supported and c.answers for c in answer.citations)


def test_front_matter_and_link_definitions_are_citable(indexed_assistant, extractive):
    published = ask(indexed_assistant, extractive, "When was the AI alignment starter pack published?")
    assert published.grounded and published.answer == "date: 2024-06-09 [1]."
    (citation,) = published.citations
    assert citation.passage.section == METADATA_SECTION and citation.answers
    document = indexed_assistant.document_text(citation.passage.source)
    assert quoted(indexed_assistant, citation) == "date: 2024-06-09"
    assert citation.quote_end < document.index("\n---", 3)  # inside the front matter

    link = ask(indexed_assistant, extractive, "What URL does the starter pack give for Intro to AI Safety?")
    assert link.grounded and "https://www.youtube.com/watch?v=pYXy-A4siMw" in link.answer
    (citation,) = link.citations
    assert citation.passage.section == LINKS_SECTION
    assert quoted(indexed_assistant, citation).endswith("https://www.youtube.com/watch?v=pYXy-A4siMw")


def test_reference_chunks_point_at_the_front_matter_and_the_definitions(embedder):
    path = CORPUS / "ai-alignment-starter-pack.md"
    doc = load_document(path, path.name, path.read_bytes())
    chunks = reference_chunks(doc, embedder.count_tokens, 200)
    front = next(c for c in chunks if c.section == METADATA_SECTION)
    assert doc.text[front.start : front.end].startswith("---\ntitle:") and "date: 2024-06-09" in front.text
    links = [c for c in chunks if c.section == LINKS_SECTION]
    assert len(links) > 5
    first = next(c for c in links if "miles-intro" in c.text)
    # The body line using the link is kept with the label; the span is the definition block in the source.
    assert "Intro to AI Safety by Robert Miles [miles-intro]: https://www.youtube.com/watch?v=pYXy-A4siMw" in first.text
    assert "[miles-intro]:    https://www.youtube.com/watch?v=pYXy-A4siMw" in doc.text[first.start : first.end]


def test_unrelated_follow_ups_do_not_leak(indexed_assistant, extractive):
    first = ask(indexed_assistant, extractive, "What is specification gaming?")
    history = [{"role": "user", "content": "What is specification gaming?"},
               {"role": "assistant", "content": first.answer}]
    second = ask(indexed_assistant, extractive, "Which organisation works on causal scrubbing?", history)
    fresh = ask(indexed_assistant, extractive, "Which organisation works on causal scrubbing?")
    assert second.query == fresh.query == "Which organisation works on causal scrubbing?"
    assert second.answer == fresh.answer and second.answer != first.answer
    assert [c.to_dict() for c in second.citations] == [c.to_dict() for c in fresh.citations]
    # A question that leans on the conversation is still rewritten.
    follow = ask(indexed_assistant, extractive, "Where has it been observed?", history)
    assert follow.query != "Where has it been observed?" and "CoastRunners" in follow.answer


def chat(reply: str) -> ChatBackend:
    return ChatBackend("fake", FakeListChatModel(responses=[reply]), describe_error=str)


def test_post_hoc_attribution_cites_supported_sentences_and_marks_the_rest(indexed_assistant):
    reply = ("Specification gaming is when a system exploits loopholes in the reward function instead of the "
             "intended behaviour. Bananas are a popular fruit in tropical countries.")
    answer = ask(indexed_assistant, chat(reply), "What is specification gaming?")
    first, second = split_sentences(answer.answer)
    assert re.search(r"\[1\]\.$", first) and "[" not in second
    assert second.endswith(f"{UNSUPPORTED}.")
    (citation,) = answer.citations
    assert citation.supported and citation.answers and "loopholes" in citation.passage.text
    assert answer.grounded


def test_an_llm_answer_without_the_asked_type_is_not_grounded(indexed_assistant):
    reply = "RLHF introduced practical alignment for large language models [1]."
    answer = ask(indexed_assistant, chat(reply), "In what year was RLHF introduced?")
    assert not answer.grounded
    assert "don't give the year" in answer.answer
    assert all(not c.answers for c in answer.citations)


@pytest.mark.parametrize("question, kind", [
    ("In what year was the Attention paper published?", YEAR),
    ("In which Python version was math.cbrt() added?", VERSION),
    ("which python version accepts starred items there?", VERSION),
    # a protocol's version (IPv4 or IPv6) is no release, nor is version control
    ("Which attribute of the resulting object tells me which IP version it is?", None),
    ("What version control system do the core developers use?", None),
    ("When was the post published?", DATE),
    ("We plan an upgrade. What is its end-of-life date?", DATE),  # a date asked for by name …
    ("What was the release date of the overview?", DATE),
    ("What is the date format of the log lines?", DEFINITION),  # … not one the question speaks of
    ("How many organisations are listed?", NUMBER),
    ("How often does CPython switch between threads?", None),  # a frequency is a phrase as often as a number
    ("What percentage of failures come from distributional shift?", PERCENTAGE),
    ("Who wrote the starter pack?", PERSON),
    ("Which company developed Constitutional AI?", ORGANISATION),
    ("Which group published the starter pack?", ORGANISATION),
    # a regex's group or a group of imports is no organisation
    ("When I call m.group() without passing a group number, which group do I get?", None),
    ("How should I arrange my imports, and which group goes first?", None),
    ("In (a)|(b), which group matched?", None),
    ("What URL does it give for the Clippy story?", URL),
    ("What is the address of Robert Miles' YouTube channel?", URL),
    ("What is the link to the quantilizers paper?", URL),
    ("Where can I find an overview of the GUI frameworks that work with Python?", URL),
    # … but not a value of the asker's program found somewhere in it
    ("In a handler written as except OSError as err:, where can I find the arguments it was made with?", None),
    # a URL the question handles, and "link" as a verb, ask for no link
    ("What's the usual way to share a few settings, say a debug flag and a database URL, between my modules?", None),
    ("I come from C. Do I have to compile and link my Python programs each time before I can run them?", None),
    ("I called add_password(None, 'alice:pw@intranet.local', 'alice', 'pw'). Is that form of the URL argument "
     "allowed?", None),
    ("How do I make ipaddress.ip_network accept an address with host bits set?", None),  # an IP address, no URL
    ("What code loops over all the usable host addresses of a network with ipaddress?", None),
    # a symbolic link is no link asked for
    ("Path('current') is a broken symlink. Does exists() return True because the link itself is still there?", None),
    # a web site setting the question up is not what its last clause asks for
    ("A website treats my scripts differently from my browser. What does urllib tell the server it is?", None),
    ("What does RLHF stand for?", EXPANSION),
    ("What do the three parts of a version number like 3.11.4 stand for?", None),  # no acronym: what they mean
    ("Is scalable oversight solved?", "yes/no"),
    ("What is a mesa-optimizer?", "definition"),
    # an asking clause opening yes or no asks whether, not for the number or amount a clause inside it names …
    ("I run one tee copy to the end before the other. Does that way of using tee cost me anything?", None),
    # … unless it asks whether there is a limit, which a number or a word saying there is none gives
    ("My logger writes to a file and the console. Is there a cap on how many handlers I can attach to it?", LIMIT),
    ("My logger writes to a file and the console. How many handlers can I attach to it?", NUMBER),
    # "how much" asking how far to go is no amount ("… how much can I trust that it really is text?")
    ("If a blob decodes as UTF-8 without an error, how much can I trust that it really is text?", None),
    ("I'm writing our exception classes. How much should go into them?", None),
    ("How much memory does a list of a million ints take?", NUMBER),
    # a count something costs is a number, and a price in code no amount
    ("Roughly how many bytes does each entry of an ordinary list of ints cost?", NUMBER),
    ("How can I tell that the attribute was read on the class itself, like Product.price?", None),
    ("How much does the hosted service cost?", AMOUNT),
    # a way of finding a number out asks for the way, not the number
    ("What should I look at to know how much of a download has come in so far?", None),
    ("How do I find out how many columns the terminal has?", None),
    # the oldest or newest version asked for
    ("What's the oldest Python version I can run it on?", VERSION),
    ("What is the minimum Python version for this package?", VERSION),
    # a limit asked for, not the verb ("What's the code to cap …")
    ("What's the connection limit of a client's pool?", LIMIT),
    ("What's the code to cap a client's pool at 10 connections?", None),
])
def test_answer_types(question, kind):
    assert answer_type(question) == kind


def test_focus_terms_are_weighted_by_the_index_rarity(indexed_assistant):
    asked = analyse("In what year did OpenAI Codex appear in alignment work?", indexed_assistant.idf())
    assert asked.type == YEAR and "year" not in asked.focus
    assert asked.focus["codex"] > asked.focus["align"]  # "codex" is in two chunks, "alignment" in most
    assert analyse("Which organisations work on alignment research?").wants_list


def test_a_list_is_a_topic_unless_it_frames_what_is_asked():
    assert "list" in analyse("What is the maximum size of a Python list?").focus
    assert "list" in analyse("How do I empty my lists in place?").focus
    assert "list" not in analyse("Give a list of the alignment organisations.").focus
    assert "list" not in analyse("List the open problems the overview names.").focus


@pytest.mark.parametrize("question, wants_list", [
    ("What open problems in alignment does the overview list?", True),
    ("Which OpenAI team is listed among the alignment research organisations?", True),
    ("What does the starter pack list as essential reading?", True),
    ("The starter pack lists the posts about what?", True),
    ("Which organisations work on alignment research?", True),
    # Python's list is what is asked about, not a list asked for
    ("How do I sort a list from largest to smallest?", False),
    ("Why won't Python let me use a list as a dictionary key?", False),
    ("How do I iterate over two lists side by side in one for loop?", False),
    # a list in the setup is no list asked for
    ("I put case _: first to handle the cases listed below it, and it fails. Where may a catch-all case go?", False),
    ("I read the overview. Which organisations does it list?", True),
    # "os" is no plural, nor "class" or "status": one call, class or status is asked for
    ("I log which folder they are relative to. Which os call gives me the current working directory?", False),
    ("Which class does the decorator return?", False),
])
def test_a_list_is_asked_for_by_the_verb_not_by_naming_python_lists(question, wants_list):
    assert analyse(question).wants_list == wants_list


def test_conversation_dependence_and_acronyms():
    assert depends_on_conversation("And which company developed it?")
    assert depends_on_conversation("What about DeepMind?")
    assert depends_on_conversation("Where has it been observed?")
    assert not depends_on_conversation("Which organisation works on causal scrubbing?")
    assert not depends_on_conversation("What is the problem that inner alignment tries to solve?")
    assert expands("Reinforcement Learning from Human Feedback (RLHF)", "RLHF")
    assert expands("Constitutional AI (CAI)", "CAI")
    assert not expands("RLHF is expensive at scale", "RLHF")


# ---- code and headings (issue 15): code is searchable but never the prose answer; a heading is evidence ---------

RETRY_NOTES = """\
# Retrying requests

The retry helper waits longer after every failed attempt, doubling the delay each time.

```python
# retry the request with exponential backoff until the server answers
for attempt in range(5):
    time.sleep(2 ** attempt)
```

Retries stop after five attempts, so a dead server fails fast instead of hanging the caller.
"""


def indexed_with(assistant, name: str, text: str):
    """The assistant after indexing one more document, ``name`` holding ``text``."""
    (Path(assistant.settings.corpus_dir) / name).write_text(text, encoding="utf-8")
    assistant.index()
    return assistant


@pytest.fixture
def retry_assistant(fresh_assistant):
    return indexed_with(fresh_assistant, "retry.md", RETRY_NOTES)


def test_a_code_block_is_never_the_prose_answer(retry_assistant):
    extractive = get_backend("extractive", retry_assistant.settings)
    # The code's comment repeats the question's words; the prose that explains it is the answer.
    answer = ask(retry_assistant, extractive, "How is the request retried with exponential backoff until the server answers?")
    assert "range(5)" not in answer.answer and "# retry" not in answer.answer
    for citation in answer.citations:
        assert "time.sleep" not in quoted(retry_assistant, citation)
    # The code is still searchable by its own words.
    assert "time.sleep(2 ** attempt)" in retry_assistant.search("time.sleep attempt backoff", k=1)[0].passage.text


def test_a_question_asking_for_code_gets_the_code_block(retry_assistant):
    extractive = get_backend("extractive", retry_assistant.settings)
    answer = ask(retry_assistant, extractive, "Show me the code for retrying with exponential backoff.")
    assert answer.grounded and "time.sleep(2 ** attempt)" in answer.answer
    (citation,) = answer.citations
    assert citation.answers and "time.sleep(2 ** attempt)" in quoted(retry_assistant, citation)


def test_a_heading_expanding_an_acronym_answers_what_it_stands_for(fresh_assistant):
    # The expansion is only in a heading, and that heading is itself a question (the Python FAQ's GIL entry).
    page = ("<!doctype html><html><head><title>Design FAQ</title></head><body><main><h1>Design FAQ</h1>"
            "<h2>Can't we get rid of the Global Interpreter Lock?</h2>"
            "<p>The GIL is often seen as a hindrance to using several processor cores from one program.</p>"
            "<p>Removing it would make single-threaded programs slower, which is why it stays.</p>"
            "<h2>Why are strings immutable?</h2><p>Fixed storage and hashing are simpler that way.</p></main></body></html>")
    (Path(fresh_assistant.settings.corpus_dir) / "design.html").write_text(page, encoding="utf-8")
    fresh_assistant.index()
    extractive = get_backend("extractive", fresh_assistant.settings)
    answer = ask(fresh_assistant, extractive, "What does GIL stand for?")
    assert answer.grounded and "Global Interpreter Lock" in answer.answer
    assert any(c.answers and "Global Interpreter Lock" in quoted(fresh_assistant, c) for c in answer.citations)


def test_code_questions_are_recognised():
    assert analyse("Show me the code for retrying requests").wants_code
    assert analyse("Give an example of a list comprehension").wants_code
    assert not analyse("What is a namedtuple?").wants_code
    assert not analyse("How does the retry helper wait between attempts?").wants_code
    assert analyse("What code reads a file line by line?").wants_code
    assert analyse("Write me some code that parses dates").wants_code
    assert not analyse("When porting code to run on both versions, should I check the version?").wants_code
    # … also code of a library the question names ("What argparse code …"), not a part of the asker's code.
    assert analyse("What argparse code lets my script take one or more file names?").wants_code
    assert not analyse("Why does some of the code in my module run twice?").wants_code
    assert analyse("What command starts the server?").wants_code
    # What the grammar allows is its rule, a code block; what its notation means is said in prose.
    assert analyse("Does Python's grammar let me put a decorator above a class statement?").wants_code
    assert analyse("Is a bare annotation like count: int a valid statement according to the grammar?").wants_code
    assert not analyse("In the PEG grammar listing, what does a trailing question mark mean?").wants_code
    # The command line is where something is run, not a command asked for.
    assert not analyse("How do I run just one test method from the command line?").wants_code
    assert not analyse("How can my program read its command-line arguments from a file?").wants_code
    # … unless the command line is what is asked for
    assert analyse("I saved the script as call_stack.d. What command line runs it against my program?").wants_code
    assert analyse("I saved it as calls.stp. What's the command line to run it while my test.py executes?").wants_code
    # Text the question quotes, such as an error message, asks for nothing.
    assert not analyse("Typing python gives 'command not found', but python3 works. Why?").wants_code
    assert analyse("What's the command for 'x'?").wants_code
    # "For example" gives an example of the asker's; it asks for none.
    assert not analyse("If I set a Counter entry to 0, for example c['apples'] = 0, does the key go?").wants_code
    assert analyse("Give me an example of a Counter whose count drops to zero.").wants_code
    # … nor does an example the asker refers to ("the server example in the socket HOWTO"), unless asked for again
    assert not analyse("The server example in the sockets HOWTO calls listen(5). What does the 5 control?").wants_code
    assert not analyse("I copied the cookbook example that logs to /tmp/app.log and it fails on Windows. Why?").wants_code
    assert analyse("Show me the smallest example of a class that uses a custom metaclass.").wants_code
    # … and so does one asking what the call or expression is, written out
    assert analyse("I'd like only the level and the message. What's the basicConfig call for that?").wants_code
    assert analyse("What's the shortest expression that gives me a Counter with only the positive counts?").wants_code
    assert not analyse("What does that call hand back to me?").wants_code


PYDOCS = Path("/work/shared/bench/pydocs")
if not PYDOCS.is_dir():
    PYDOCS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "pydocs"


def indexed_page(assistant, page: str):
    """The assistant after indexing one more page of the Python-docs set, under its file name."""
    shutil.copy(PYDOCS / page, Path(assistant.settings.corpus_dir) / Path(page).name)
    assistant.index()
    return assistant


@pytest.mark.skipif(not (PYDOCS / "collections.html").is_file(), reason="the pydocs set is not on this machine")
def test_a_doctest_is_never_the_answer_to_what_a_namedtuple_is(fresh_assistant):
    # Issue 15: ">>> Color = namedtuple('Color', 'red green blue')" was the answer to "What is a namedtuple?".
    indexed_page(fresh_assistant, "collections.html")
    extractive = get_backend("extractive", fresh_assistant.settings)
    answer = ask(fresh_assistant, extractive, "What is a namedtuple?")
    # A doctest may be shown as the example a quoted sentence introduces, under the prose, never as the prose.
    prose = answer.answer
    for start, end in reversed(fenced_spans(prose)):
        prose = prose[:start] + prose[end:]
    assert answer.grounded and ">>>" not in prose and not answer.answer.startswith("```")
    # The passages it was chosen from hold the doctests it must not quote.
    assert any(hit.passage.code_ranges for hit in fresh_assistant.search("What is a namedtuple?", 5))
    for citation in answer.citations:
        code = [" ".join(citation.passage.text[a:b].split()) for a, b in citation.passage.code_ranges]
        said = " ".join(quoted(fresh_assistant, citation).split())
        assert said and not any(said in block for block in code), said
    # A code name the page never names is not answered by its look-alikes (collections has no os.walk).
    walk = ask(fresh_assistant, extractive, "What does os.walk yield for each directory?")
    assert not walk.grounded
    popped = ask(fresh_assistant, extractive, "What does collections.OrderedDict.popitem return?")
    assert popped.grounded and "popitem" in " ".join(c.passage.section for c in popped.citations)


def test_a_sentence_leading_into_quoted_code_or_a_list_keeps_its_colon():
    # "Their syntax is:" before the grammar rule was quoted "Their syntax is [1]." and read as a sentence cut short.
    lead = Unit("Primaries represent the most tightly bound operations of the language. Their syntax is:", SENTENCE, 0)
    rule = Unit("primary ::=  atom | attributeref | subscription | slicing | call", CODE, 0)
    hanging = Unit("They include:", SENTENCE, 1)
    listing = Unit("Those superpowers include the ability to:", SENTENCE, 1, "Unsafe superpowers")
    items = [Unit(text, ITEM, 1, f"Unsafe superpowers {listing.text}") for text in ("Dereference a raw pointer.",
                                                                                    "Call an unsafe function.")]
    more = Unit("The unsafe keyword does not turn off the borrow checker.", SENTENCE, 1, "Unsafe superpowers")
    quoted = "".join(_quote([lead, rule, hanging, listing, *items, more]))
    assert quoted.startswith("Primaries represent the most tightly bound operations of the language [1]. "
                             "Their syntax is [1]:\n\n```\nprimary ::=")
    # A lead-in whose code or list is not quoted next ends as every other sentence does; one whose list is quoted
    # next keeps its colon, its items following as bullets.
    assert quoted.endswith("```\n[1]\n\nThey include [2]. Those superpowers include the ability to [2]:\n- "
                           "Dereference a raw pointer [2]\n- Call an unsafe function [2]\n\nThe unsafe keyword does "
                           "not turn off the borrow checker [2].")
    # The citation check still reads the lead-in as a claim of its passage.
    assert ("Their syntax is:", [1]) in claims_of(quoted)


def test_a_sentence_read_on_to_brings_the_list_it_introduces_as_bullets(fresh_assistant):
    # The Rust book: "Those superpowers include the ability to:", read on to because it points back at the sentence
    # answering, was quoted "Those superpowers include the ability to [1]." without the five superpowers.
    indexed_with(fresh_assistant, "unsafe.md", (
        "# Unsafe Rust\n\n## Unsafe superpowers\n\nTo switch to unsafe Rust, use the unsafe keyword and then start a "
        "new block that holds the unsafe code. You can take five actions in unsafe Rust that you can't in safe Rust, "
        "which we call unsafe superpowers. Those superpowers include the ability to:\n\n1. Dereference a raw pointer."
        "\n2. Call an unsafe function or method.\n3. Access or modify a mutable static variable.\n4. Implement an "
        "unsafe trait.\n5. Access fields of unions.\n\nThe unsafe keyword does not turn off the borrow checker.\n"))
    answer = answered_with(fresh_assistant, "What can you do in unsafe Rust that you can't in safe Rust?",
                           "Those superpowers include the ability to [1]:\n- Dereference a raw pointer [1]\n- Call an "
                           "unsafe function or method [1]\n- Access or modify a mutable static variable [1]\n- "
                           "Implement an unsafe trait [1]\n- Access fields of unions [1]")
    assert all(citation.supported for citation in answer.citations)
    # Each item is a claim of its own, cited, as a list answer's are.
    assert ("Access fields of unions", [1]) in claims_of(answer.answer)


SCANNING_NOTES = """# Reading the scans

Scan the completed answer sheets and give the scans to the program: it reads the boxes students ticked.
The scans can be TIFF, JPG or PNG image files, or PDF files that are converted before the analysis.
The marks can then be sent to the students by email, one message per student.
"""


def test_a_question_about_a_name_no_passage_holds_is_declined(fresh_assistant):
    # Near-topic: the words of the question are all over the notes, but not the name it asks about.
    indexed_with(fresh_assistant, "scanning.md", SCANNING_NOTES)
    for question, name in [("Can the marks be sent to the students by SMS?", "SMS"),
                           ("Which Android app can scan the answer sheets?", "Android"),
                           ("Can the scans be read from an iPhone camera?", "iPhone")]:  # a name in mixed case
        answer = ask_quoting(fresh_assistant, question)
        assert not answer.grounded and name in answer.answer, answer.answer
    # The same question about what the notes do name is answered.
    answer = ask_quoting(fresh_assistant, "Can the marks be sent to the students by email?")
    assert answer.grounded and "email" in answer.answer
    # An option, command or package the notes never name is as unknown as a capitalised name.
    answer = ask_quoting(fresh_assistant, "What does the darkmode option of the scanning program do?")
    assert not answer.grounded and "darkmode" in answer.answer, answer.answer
    # … and so is a module: the notes say how the marks are sent, not how to log with the mailtrace module.
    answer = ask_quoting(fresh_assistant, "How can the marks sent by email be logged, for example with the mailtrace "
                         "module?")
    assert not answer.grounded and "mailtrace" in answer.answer, answer.answer
    # … and so is a tool given as the example of what is asked for: the notes name no such tool.
    answer = ask_quoting(fresh_assistant, "Is there a tool that converts the scans to PDF files before the analysis, "
                         "such as scanconvert?")
    assert not answer.grounded and "scanconvert" in answer.answer, answer.answer
    answer = ask_quoting(fresh_assistant, "Can the scans be image files, such as png?")  # a word the notes hold
    assert answer.grounded, answer.answer
    assert analyse("Can the marks be sent by SMS?").unknown == ()  # no index statistics: nothing is unknown


def test_an_acronym_no_retrieved_passage_writes_is_declined(fresh_assistant):
    # "put" is all over the notes as a word, so the index's case-folded statistics know it; the acronym PUT is not
    # there: the notes tell how to send GET and POST requests only.
    indexed_with(fresh_assistant, "requests.md", (
        "# Sending HTTP requests\n\nTo send an HTTP GET request, put the parameters in the URL with urlencode(). To "
        "send an HTTP POST request, put the encoded data in the data argument of Request. Put the headers in a "
        "dictionary and pass it as headers.\n"))
    answer = ask_quoting(fresh_assistant, "How do I send an HTTP PUT request?")
    assert not answer.grounded and "PUT" in answer.answer and not answer.citations, answer.answer
    answer = ask_quoting(fresh_assistant, "How do I send an HTTP POST request?")
    assert answer.grounded and "put the encoded data in the data argument" in answer.answer, answer.answer
    assert acronyms("How do I send an HTTP PUT request?") == ("HTTP", "PUT")
    # An acronym with no vowel is no word in lower case: "https locations" writes HTTPS, where "put" is no PUT.
    indexed_with(fresh_assistant, "proxies.md", (
        "# Proxies\n\nThe fetcher reads http locations through the proxy set in the environment. Currently the "
        "fetcher does not support fetching of https locations through a proxy.\n"))
    answered_with(fresh_assistant, "Can the fetcher get HTTPS locations through a proxy?", "does not support fetching")
    # Words, not acronyms: two-letter capitals, words framing the question, a question written in capitals.
    assert acronyms("Is it OK to call an API from here, and what URL does it use?") == ("API",)
    assert acronyms("HOW DO I SEND A PUT REQUEST?") == ()


MANUAL_NOTES = """# Installing the utilities

The utilities have been written for Linux. They can also be installed on macOS using MacPorts.
The installer needs a network connection to download the fonts.

# Formatting

To get bold text, enclose it between [* and *]. To get italic text, enclose it between [_ and _].

# Limits

The maximum number of students per test is limited to 4,095.
The maximum number of answers for a given question is limited to 199.

# Answer layouts

- environment choiceshoriz is chosen for short answers:
Question 5 How many legs has an insect?
- environment choicescols spreads the answers over columns:
Question 6 How many moons has Mars?
"""


@pytest.fixture
def manual_assistant(fresh_assistant):
    return indexed_with(fresh_assistant, "manual.md", MANUAL_NOTES)


def test_the_sentence_that_goes_on_with_the_answer_is_quoted_too(manual_assistant):
    answer = ask_quoting(manual_assistant, "On which operating systems can the utilities be installed?")
    assert answer.grounded and "Linux" in answer.answer and "macOS" in answer.answer, answer.answer
    assert "network" not in answer.answer  # the next sentence that does not point back stays out
    said = " ".join(quoted(manual_assistant, c) for c in answer.citations)
    assert "Linux" in said and "They can also be installed on macOS" in said


def test_a_sentence_pointing_back_is_quoted_after_the_one_it_points_at(fresh_assistant):
    # "In practice, this keeps each write call fast …" says nothing alone: what "this" is comes in the sentence
    # before it. A question asking for one fact ("How much …?") is still answered by the one sentence holding it.
    indexed_with(fresh_assistant, "storage.md", (
        "# Storage engine\n\n## Write path\n\nIncoming records are first appended to an in-memory buffer. The buffer "
        "is flushed to the data file by a background thread every ten seconds. In practice, this keeps each write call "
        "fast while bounding how much a crash can lose to the last ten seconds of records.\n\n## Read path\n\nReads "
        "consult the buffer before the data file, so a record is visible as soon as its write call returns.\n"))
    answer = answered_with(fresh_assistant, "Why are write calls fast, and how much can a crash lose?",
                           "In practice, this keeps each write call fast")
    assert answer.answer.index("flushed to the data file by a background thread") < answer.answer.index("In practice")
    answer = answered_with(fresh_assistant, "How much data can a crash lose?", "the last ten seconds of records")
    assert "background thread" not in answer.answer, answer.answer


def test_a_sentence_pointed_at_that_points_back_in_turn_brings_the_one_before_it(fresh_assistant):
    # "This can be used to use another datatype …" points at "By default, this is equivalent to float(num_str).",
    # which points at the sentence naming parse_float: without it the answer never says what to set.
    indexed_with(fresh_assistant, "decoding.md", (
        "# Decoding JSON\n\n## Hooks\n\nThe parse_float hook, if specified, will be called with the string of every "
        "JSON float to be decoded. By default, this is equivalent to float(num_str). This can be used to use another "
        "datatype or parser for JSON floats (e.g. decimal.Decimal).\n"))
    answer = answered_with(fresh_assistant, "My invoice amounts come back as floats. How can I get another datatype, "
                           "such as decimal.Decimal, for JSON floats?", "The parse_float hook, if specified",
                           "This can be used to use another datatype")
    assert answer.answer.index("parse_float") < answer.answer.index("By default, this")


def test_markup_a_manual_teaches_is_quoted_and_located_as_written(manual_assistant):
    answer = ask_quoting(manual_assistant, "How do I get italic text?")
    assert answer.grounded and "enclose it between [_ and _]" in answer.answer, answer.answer
    assert any(quoted(manual_assistant, c).endswith("[_ and _].") for c in answer.citations)


def test_a_list_item_ending_in_a_colon_does_not_swallow_the_lines_it_introduces(manual_assistant):
    answer = ask_quoting(manual_assistant, "Which environment is chosen for short answers?")
    assert answer.grounded and "choiceshoriz is chosen for short answers" in answer.answer, answer.answer
    # The example question the item introduces (a figure's caption in a PDF) is not part of it.
    assert "insect" not in answer.answer


RELEASE_NOTES = """# Release numbering

Our releases are numbered “X.Y.Z”:

- X is the major number, raised only for incompatible changes.
- Y is the minor number, raised when features are added.
- Z is the patch number, raised for each bug-fix release.

Release candidates carry an rc suffix and are never installed by default.
"""


def test_a_sentence_introducing_a_list_is_quoted_with_its_items(fresh_assistant):
    # "… are numbered “X.Y.Z”:" says nothing by itself; a question with "stand for" but no acronym is no
    # expansion question (it used to be declined as one: "don't spell out the acronym")
    assistant = indexed_with(fresh_assistant, "releases.md", RELEASE_NOTES)
    answer = ask_quoting(assistant, "What do the three parts of a release number like 2.4.1 stand for?")
    assert answer.grounded, answer.answer
    for item in ("X is the major number", "Y is the minor number", "Z is the patch number"):
        assert item in answer.answer, answer.answer
    said = " ".join(quoted(assistant, c) for c in answer.citations)
    assert "numbered “X.Y.Z”" in said and "raised for each bug-fix release" in said


BACKUP_NOTES = """# Keeping backups small

Sometimes you want to keep a backup folder from filling the disk, starting a fresh archive once the current one grows large.
You may want to keep only a handful of old archives and drop the oldest when a new one starts.
For this usage pattern, the toolkit provides a RollingArchive class:

```python
archive = RollingArchive("backups", max_bytes=10_000_000, keep=5)
```

Archives are compressed with zstd by default.
"""


def test_a_sentence_setting_a_problem_up_is_read_on_to_its_answer(fresh_assistant):
    # The setup shares the question's words; the answer is two sentences on, with the code it introduces.
    assistant = indexed_with(fresh_assistant, "backups.md", BACKUP_NOTES)
    answer = ask_quoting(assistant, "How do I stop my backups from filling the disk and start a new archive when one gets big?")
    assert answer.grounded and answer.answer.startswith("Sometimes you want to keep a backup folder"), answer.answer
    assert "the toolkit provides a RollingArchive class" in answer.answer, answer.answer
    assert "max_bytes=10_000_000" in answer.answer and "zstd" not in answer.answer, answer.answer


SHELTER_NOTES = """# Winter shelters for hedgehogs

Gardeners can choose between several kinds of shelter:

- A log pile in a quiet corner. It stays damp and attracts beetles the hedgehog can eat.
- A wooden hedgehog house with a tunnel entrance. The tunnel keeps foxes and badgers out.
- A heap of dry leaves under a hedge. It is free but blows away in storms.

Shelters are best set up in October, before the first frosts.
"""


def test_a_list_answer_quotes_each_item_whole(fresh_assistant):
    assistant = indexed_with(fresh_assistant, "shelters.md", SHELTER_NOTES)
    answer = ask_quoting(assistant, "Which kinds of winter shelter can gardeners give hedgehogs?")
    assert answer.grounded and answer.answer.count("\n- ") == 2, answer.answer
    for rest in ("attracts beetles", "keeps foxes and badgers out", "blows away in storms"):
        assert rest in answer.answer, answer.answer
    assert "October" not in answer.answer


READING_LIST = """# Honeybee navigation

## The honeybee navigation reading list

- In this 2021 lecture Karl explains how bees use the sun as a compass on cloudy days.
- The waggle dance is decoded step by step in a short illustrated guide for beginners.
"""


def test_a_person_doing_something_else_is_no_answer_to_who_did_it(fresh_assistant):
    # "Karl explains …" names who explains, not who wrote the list
    assistant = indexed_with(fresh_assistant, "reading.md", READING_LIST)
    answer = ask_quoting(assistant, "Who wrote the reading list on honeybee navigation?")
    assert not answer.grounded and "Karl" not in answer.answer.split("closest")[0], answer.answer
    answer = ask_quoting(assistant, "Who explains how bees use the sun as a compass?")
    assert answer.grounded and "Karl explains" in answer.answer, answer.answer


def test_a_count_of_other_things_does_not_answer_how_many(manual_assistant):
    # "the number of answers for a given question" shares the words, but counts answers, not questions.
    answer = ask_quoting(manual_assistant, "What is the maximum number of questions in one test?")
    assert not answer.grounded and "199" not in answer.answer.split("closest")[0], answer.answer
    answer = ask_quoting(manual_assistant, "What is the maximum number of students per test?")
    assert answer.grounded and "4,095" in answer.answer, answer.answer


def test_at_most_asks_for_the_maximum(manual_assistant):
    assert "maximum" in analyse("How many answers can a question have at most?").focus_words
    answer = ask_quoting(manual_assistant, "How many answers can a single question have at most?")
    assert answer.grounded and "199" in answer.answer, answer.answer


def _swarm_journal() -> str:
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Holiday"]
    return "# The Beekeeper's Journal\n\n" + "\n\n".join(
        f"## {day}\n\nThe colony in hive {n} showed swarming signs again: queen cells along the frames, bees "
        f"clustering at the entrance and a loud hum. Swarming hives need space, so I added a super to hive {n} "
        f"and checked the swarm trap by the hedge. Swarming season keeps every beekeeper busy."
        for n, day in enumerate(days, 1))


def _pollinator_overview() -> str:
    """A long overview whose one passage on swarming never says "overview" (its title is far above it)."""
    plants = ["Clover", "Lavender", "Apple blossom", "Borage", "Heather", "Willow", "Thyme", "Sunflowers"]
    sections = [f"## {plant}\n\n{plant} flowers feed pollinators for weeks. Gardeners who sow {plant.lower()} near "
                f"vegetables see more visits to the crops, and the plants ask little care beyond watering in dry "
                f"weeks. Butterflies, hoverflies and solitary bees all take its nectar." for plant in plants]
    sections.insert(5, "## Colonies\n\nSwarming: a honeybee colony splits in two when its hive grows crowded, and "
                       "the old queen leaves with half the bees.")
    return "# Pollinator Overview\n\n" + "\n\n".join(sections) + "\n"


@pytest.fixture
def pollinator_assistant(fresh_assistant):
    indexed_with(fresh_assistant, "journal.md", _swarm_journal())
    return indexed_with(fresh_assistant, "overview.md", _pollinator_overview())


def test_a_question_naming_two_documents_is_answered_from_each(pollinator_assistant):
    # The journal says "swarming" in every passage and would fill all five; the overview must be searched too.
    assert {h.passage.source for h in pollinator_assistant.search("What do the overview and the journal say about "
                                                                  "swarming?", k=5)} == {"journal.md"}
    answer = final_answer(pollinator_assistant.ask("What do the overview and the journal say about swarming?",
                                                   backend="extractive"))
    assert answer.grounded, answer.answer
    assert {c.passage.source for c in answer.citations} == {"journal.md", "overview.md"}
    assert "the old queen leaves with half the bees" in answer.answer


def test_a_question_naming_one_document_is_answered_from_it(pollinator_assistant):
    answer = final_answer(pollinator_assistant.ask("What does the overview say about swarming?", backend="extractive"))
    assert answer.grounded, answer.answer
    assert {c.passage.source for c in answer.citations} == {"overview.md"}
    # The words naming the document are not what it is asked about; the document alone may be.
    titles = pollinator_assistant.titles()
    assert "overview" not in analyse("What does the overview say about swarming?", titles=titles).focus_words
    assert "overview" in analyse("Who wrote the pollinator overview?", titles=titles).focus_words


def test_a_word_for_a_document_alone_names_none():
    # "The guide on isolating C extension modules …" names the page on isolating extension modules, not "Descriptor
    # HowTo Guide" for sharing "guide"; "the code that gives me …" names no "Porting Python 2 Code to Python 3".
    titles = {"descriptor.html": "Descriptor HowTo Guide", "isolating.html": "Isolating Extension Modules",
              "porting.html": "Porting Python 2 Code to Python 3", "sorting.html": "Sorting HOW TO"}
    assert named_documents("The guide on isolating C extension modules tells me to switch to per-module state. What "
                           "does that term mean?", titles).keys() == {"isolating.html"}
    assert named_documents("Show me the code that gives me the letters in only one of two words.", titles) == {}
    assert named_documents("What does the descriptor guide say about properties?", titles).keys() == {"descriptor.html"}
    # "module" and "modules" are one word: "the module names mention XML" names no "… the ipaddress module".
    titles["ipaddress.html"] = "An introduction to the ipaddress module"
    assert named_documents("Since the module names mention XML, will I have to build XML myself?", titles) == {}


def _garden_report() -> str:
    """A report that spells OGI out once, in a long passage about something else, and uses it everywhere after."""
    history = ("## History\n\nThe town's allotments date from the railway years, when workers were given strips of land "
               "beside the sidings. Later the strips were merged into larger plots and a water tower was raised. "
               "The Open Garden Initiative (OGI) took them over after the council sold the depot. The tower is "
               "listed now, the hedges were replanted and the old shed became a tool library for the plot holders.")
    uses = [f"## {topic}\n\nOGI volunteers ran the {topic.lower()} this year, on three Saturdays in a row. OGI members "
            f"voted on it at the spring meeting, the OGI committee paid for the materials and OGI plans to repeat it "
            f"next year. OGI counts it a success: more plot holders came than last time, the weather held, and the "
            f"{topic.lower()} raised enough to cover the hire of the hall. OGI thanks everyone who helped, and OGI "
            f"asks that tools borrowed for the {topic.lower()} be returned to the shed by the end of the month."
            for topic in ["Seed swap", "Compost drive", "Harvest fair", "Pond clearing", "School visits",
                          "Tool repair", "Bee hotel build", "Hedge laying", "Path gravelling", "Apple pressing"]]
    return "# Garden report\n\n" + "\n\n".join([*uses[:3], history, *uses[3:]]) + "\n"


def test_an_acronym_spelled_out_far_from_its_uses_is_found(fresh_assistant):
    (Path(fresh_assistant.settings.corpus_dir) / "report.md").write_text(_garden_report(), encoding="utf-8")
    fresh_assistant.index()
    assert not any("Open Garden Initiative" in h.passage.text for h in fresh_assistant.search("What does OGI stand for?", k=5))
    answer = final_answer(fresh_assistant.ask("What does OGI stand for?", backend="extractive"))
    assert answer.grounded and "Open Garden Initiative" in answer.answer, answer.answer
    # An acronym spelled out nowhere is still declined.
    answer = final_answer(fresh_assistant.ask("What does TSC stand for in the report?", backend="extractive"))
    assert not answer.grounded, answer.answer


GARDEN_API = ("<!doctype html><html><head><title>garden — tending plants</title></head><body><main>"
              "<h1>garden — tending plants</h1><p>The garden module tends plants in a simulated plot.</p>"
              '<dl class="py function"><dt class="sig sig-object py">garden.prune(<em>plant</em>)</dt>'
              "<dd><p>Remove the dead stems of plant and return the weight cut, in grams.</p>"
              "<p>Raises ValueError for a plant with no stems.</p></dd></dl>"
              "<h2>Style notes</h2><p>Many uses of garden.prune() are clearer when written as a plain loop over the "
              "stems.</p><p>Keep helper functions short.</p></main></body></html>")

KITCHEN_NOTES = """# Kitchen notes

## How do I store fresh herbs?

Wrap them in a damp paper towel and keep them in the fridge door.
Fresh herbs stored badly wilt, and how you store fresh herbs decides how long stored fresh herbs last.

## Job queues

It is possible to keep a job queue as a plain list of orders, but a list is not efficient for this purpose.
To keep a job queue, use a ring of tickets that takes and gives orders cheaply at both ends.
"""


@pytest.fixture
def kitchen_assistant(fresh_assistant):
    indexed_with(fresh_assistant, "garden.html", GARDEN_API)
    return indexed_with(fresh_assistant, "kitchen.md", KITCHEN_NOTES)


@pytest.mark.parametrize("question, answer_starts", [
    # An API entry's description says what it does, not a sentence elsewhere that uses the name.
    ("What does garden.prune return?", "Remove the dead stems of plant and return the weight cut"),
    # … also when the question writes the name as a call without its module ("prune()")
    ("What does prune() return?", "Remove the dead stems of plant and return the weight cut"),
    # A FAQ entry: the heading asks the question, the first sentence under it answers it.
    ("How do I store fresh herbs?", "Wrap them in a damp paper towel"),
    # A how-to question wants the instruction, not the sentence that restates the topic.
    ("How do I keep a job queue efficiently?", "To keep a job queue, use a ring of tickets"),
])
def test_the_sentence_shaped_like_the_answer_is_quoted_first(kitchen_assistant, question, answer_starts):
    answer = ask_quoting(kitchen_assistant, question)
    assert answer.grounded and answer.answer.startswith(answer_starts), answer.answer
    assert "Many uses" not in answer.answer  # the name used elsewhere is not the API entry's description


def test_what_happens_in_a_case_is_answered_by_the_sentence_stating_its_outcome(fresh_assistant):
    # "What happens if …?" asks for that case's outcome: "If the original path doesn't have a name, ValueError is
    # raised", not the entry's opening, which says what the call does in general.
    entry = ("# Paths\n\n## PurePath.with_name(name)\n\nReturn a new path with its final name component changed. If "
             "the original path doesn't have a name, ValueError is raised:\n\n```\n>>> p = PureWindowsPath('c:/')\n"
             ">>> p.with_name('setup.py')\nValueError: PureWindowsPath('c:/') has an empty name\n```\n")
    said = answered_with(indexed_with(fresh_assistant, "paths.md", entry), "What happens if I call with_name('notes.txt') "
                         "on a path that has no final name component, like PureWindowsPath('c:/')?", "ValueError").answer
    assert said.startswith("If the original path doesn't have a name"), said
    assert answer_shape(analyse("What happens when the list is empty?")).match("If the list is empty, it is kept.")
    assert answer_shape(analyse("What does an empty list do?")) is None


# ---- titles, inline lists and several documents (issue 10) ----------------------------------------------------

TITLED = {
    "bees.txt": "Honey Bee Field Notes\n\nThese notes were kept during the summer season at the Lowland apiary. "
                "Colonies were inspected weekly for queen cells and varroa mites.\n",
    "ferns.html": "<html><head><title>Fern Propagation Guide</title></head><body><h1>Fern Propagation Guide</h1>"
                  "<p>Spores germinate on damp sterile peat kept under glass in indirect light.</p></body></html>",
    "tides.md": "# Tidal Pools of the North Coast\n\nCompiled for the shoreline survey of the marine naturalists' "
                "society. Anemones and limpets cling to the rocks between the tides.\n",
}


def test_every_documents_title_is_a_citable_unit(fresh_assistant):
    """A title from a plain-text first line, an HTML h1 or a markdown H1 answers "what is the title of …", the
    document named by what it says, and the citation points at the title in the source."""
    for name, text in TITLED.items():
        indexed_with(fresh_assistant, name, text)
    for question, title in [
        ("What is the title of the notes kept at the Lowland apiary?", "Honey Bee Field Notes"),
        ("What is the title of the guide about spores germinating on peat?", "Fern Propagation Guide"),
        ("What is the title of the document compiled for the shoreline survey?", "Tidal Pools of the North Coast"),
    ]:
        answer = ask_quoting(fresh_assistant, question)
        assert answer.grounded and answer.answer == f"title: {title} [1].", question
        (citation,) = answer.citations
        assert citation.passage.section == METADATA_SECTION and citation.answers
        assert title in quoted(fresh_assistant, citation) and len(quoted(fresh_assistant, citation)) <= len(title) + 2


BIRDING_NOTES = """\
# Birding notes

## Estuary walks

 * [The Estuary in Winter][winter] by Mara Quint is a calm guide to waders,
   gulls and the tides that move them.
   The follow-up films are also worth watching:
   [Where Did the Godwits Go? A Winter Count][godwits],
   and [Knots Everywhere! Roosts at High Water][knots].
 * Mara Quint's blog that I mentioned before is worth following in general.

## Migration

 * Godwits fly south each autumn along the coast, stopping on the estuary mud.
   For weeks they feed on worms before the long flight to the African wetlands.

[winter]: https://example.org/estuary-in-winter
[godwits]: https://example.org/godwits
[knots]: https://example.org/knots
"""


@pytest.fixture
def birding_assistant(fresh_assistant):
    return indexed_with(fresh_assistant, "birding.md", BIRDING_NOTES)


def test_a_list_question_gets_the_items_listed_inline_under_the_lead_in_naming_them(birding_assistant):
    """Titles with their own "?" and "!" stay one list after the lead-in "The follow-up films are also worth
    watching:", and that list answers, not the sentence that merely shares the author's name."""
    answer = ask_quoting(birding_assistant, "Which follow-up films by Mara Quint are recommended?")
    assert answer.grounded
    assert ("The follow-up films are also worth watching: Where Did the Godwits Go? A Winter Count, and Knots "
            "Everywhere! Roosts at High Water [1].") in answer.answer
    assert "blog" not in answer.answer and "https://" not in answer.answer  # a link line is no answer to this
    source = birding_assistant.document_text("birding.md")
    quote = " ".join(quoted(birding_assistant, answer.citations[0]).split())
    assert "Where Did the Godwits Go? A Winter Count][godwits], and [Knots Everywhere! Roosts at High Water" in quote
    assert source.count("https://") == 3


def test_a_sentence_inside_a_long_list_item_is_quoted_with_the_items_first_sentence(birding_assistant):
    answer = ask_quoting(birding_assistant, "What do godwits do before the long flight to the African wetlands?")
    assert answer.grounded
    first, second = split_sentences(answer.answer)[:2]
    assert first.startswith("Godwits fly south each autumn") and second.startswith("For weeks they feed on worms")


def test_the_answer_to_a_question_the_text_asks_itself_beats_its_restatement(fresh_assistant):
    indexed_with(fresh_assistant, "garden.md", "# My garden\n\n## Verdict\n\nThe seed catalogues I compared range from "
                 "\"grow only heirlooms\" to \"buy every hybrid\".\nWhat is my opinion on this?\nI am undecided.\n\n"
                 "## Soil\n\nClay soil holds water well but drains slowly after heavy rain.\n")
    answer = ask_quoting(fresh_assistant, "What is the gardener's opinion on the range of seed catalogues?")
    assert answer.grounded and split_sentences(answer.answer)[0] == "I am undecided [1]."


TIDE_NOTES = """\
# Reading list

## Tides

 * [Tide Tables for Birders][tides] by Ines Marlow
   — This book does a good job of explaining spring and neap tides, and why each matters on the mudflats.
   Ines prefers the neap tides for counting waders.
   Tom Reed later replied preferring spring tides.

## Gear

Waterproof boots and a telescope on a tripod are the basics for estuary counts.

[tides]: https://example.org/tide-tables
"""


def test_a_follow_up_about_he_or_she_searches_the_person_the_last_answer_named(fresh_assistant):
    """"What kind of tides does she prefer?" after "Who wrote Tide Tables for Birders?" searches for Ines Marlow, and the
    list item's head is followed by the sentence of the same item that says what is asked (prefers)."""
    indexed_with(fresh_assistant, "reading.md", TIDE_NOTES)
    extractive = get_backend("extractive", fresh_assistant.settings)
    first = ask(fresh_assistant, extractive, "Who wrote Tide Tables for Birders?")
    assert first.grounded and "Ines Marlow" in first.answer
    history = [{"role": "user", "content": "Who wrote Tide Tables for Birders?"},
               {"role": "assistant", "content": first.answer}]
    follow = ask(fresh_assistant, extractive, "What kind of tides does she prefer?", history)
    assert "Ines Marlow" in follow.query
    assert follow.grounded and "Ines prefers the neap tides for counting waders [1]." in follow.answer
    assert "Tom Reed" not in follow.answer


def extractive_answer(assistant, question: str):
    """The extractive backend's final answer to ``question``."""
    return final_answer(assistant.ask(question, backend="extractive"))


def answered_with(assistant, question: str, *quotes: str):
    """The extractive answer to ``question``, checked to be grounded and to hold every one of ``quotes``."""
    answer = extractive_answer(assistant, question)
    assert answer.grounded and all(quote in answer.answer for quote in quotes), answer.answer
    return answer


def test_a_sentence_naming_the_way_asked_for_answers_it(fresh_assistant):
    # "What is the easiest way …?" after a setup full of the asker's words ("a few hundred independent download
    # jobs") is answered by the sentence that names that way ("The easiest way is …"), though it shares few of the
    # setup's words and is not close in meaning to all of it; "What is the easiest way" asks how, not what.
    indexed_with(fresh_assistant, "threads.md", "# Threads\n\n## How do I parcel out work among a bunch of worker "
                 "threads?\n\nThe easiest way is to use the concurrent.futures module, especially the "
                 "ThreadPoolExecutor class.\n\nOr, if you want fine control over the dispatching algorithm, you can "
                 "write your own logic manually. Use the queue module to create a queue containing a list of jobs.\n")
    question = ("I have a few hundred independent download jobs and want to spread them over a pool of worker "
                "threads. What is the easiest way to do that?")
    assert analyse(question).type is None
    answered_with(fresh_assistant, question, "The easiest way is to use the concurrent.futures module")


def test_a_release_note_answers_only_a_question_about_releases(fresh_assistant):
    # "Changed in version 3.7: Added the defaults parameter …" shares the question's words but says when it came,
    # not which fields get the defaults; a question about releases still gets it.
    indexed_with(fresh_assistant, "tuples.md", "# Named tuples\n\n## namedtuple()\n\nnamedtuple() returns a new "
                 "tuple subclass with named fields. The defaults parameter can be None or an iterable of default "
                 "values. Since fields with a default value must come after any fields without a default, the "
                 "defaults are applied to the rightmost parameters.\n\nChanged in version 3.7: Added the defaults "
                 "parameter and the _field_defaults attribute.\n")
    answer = answered_with(fresh_assistant, "I gave namedtuple three fields and the defaults parameter two values. "
                           "Which fields take those defaults?", "applied to the rightmost parameters")
    assert "Changed in version" not in answer.answer
    answered_with(fresh_assistant, "In which version did namedtuple get its defaults parameter?",
                  "Changed in version 3.7")


def test_a_title_word_alone_does_not_name_a_document(fresh_assistant):
    # "the array module" shares "module" with one title only, but "array" is not in it: no document is named, so
    # the page that does describe the array module answers.
    indexed_with(fresh_assistant, "ipaddress.md", "# An introduction to the ipaddress module\n\nThe ipaddress "
                 "module creates and inspects IPv4 and IPv6 addresses and networks from strings and integers.\n")
    indexed_with(fresh_assistant, "tools.md", "# Tools for working with lists\n\nThe array module provides an array() "
                 "object that is like a list that stores only homogeneous data and stores it more compactly.\n")
    titles = fresh_assistant.titles()
    assert analyse("What is the array module for?", titles=titles).documents == frozenset()
    assert analyse("What does the ipaddress module say about networks?", titles=titles).documents == {"ipaddress.md"}
    answer = extractive_answer(fresh_assistant, "What is the array module for?")
    assert answer.grounded, answer.answer
    assert "stores only homogeneous data" in answer.answer


def test_a_phrase_about_what_the_site_covers_names_no_document(fresh_assistant):
    # "stay in the interpreter" shares "interpreter" with one title only, but asks about the interpreter, not about
    # the page "Using the Interpreter": only a phrase going on like a document ("the tour says", "the tour's
    # author", "the tour page") or the whole title names one, and the answer may come from any page.
    indexed_with(fresh_assistant, "tour.md", (
        "# A Tour of the Language\n\nWhen a script file is given, the interpreter runs it and exits. Passing -i "
        "before the script runs the script and then enters interactive mode, so its variables can be inspected.\n"))
    indexed_with(fresh_assistant, "invoking.md", (
        "# Using the Interpreter\n\nThe interpreter is usually installed as /usr/local/bin/python3 on machines where "
        "it is available.\n"))
    titles = fresh_assistant.titles()
    question = "How can I run a script and then stay in the interpreter to look at its variables?"
    assert analyse(question, titles=titles).documents == frozenset()
    for naming in ("What does the tour say about scripts?", "Who is the tour's author?",
                   "What is on the tour page?", "Is the Tour of the Language worth reading?"):
        assert analyse(naming, titles=titles).documents == {"tour.md"}, naming
    answered_with(fresh_assistant, question, "Passing -i before the script")


def test_a_see_also_box_or_an_example_lead_in_does_not_say_what_a_thing_is(fresh_assistant):
    # A Sphinx "See also" box (link label, then its description) and a line introducing an example name the thing
    # asked about more closely than the sentence that defines it; neither says what it is or does.
    page = ("<html><head><title>Simple statements</title></head><body><div class='body' role='main'>"
            "<h2>The nonlocal statement</h2><p>Names listed in a nonlocal statement must not collide with "
            "pre-existing bindings in the local scope. The nonlocal statement causes the listed identifiers to refer "
            "to previously bound variables in the nearest enclosing scope excluding globals.</p>"
            "<div class='admonition seealso'><p class='admonition-title'>See also</p><dl><dt>PEP 3104 - Access to "
            "Names in Outer Scopes</dt><dd><p>The specification for the nonlocal statement.</p></dd></dl></div>"
            "<h2>Generators</h2><p>Here is the simplest example of a generator function:</p>"
            "<pre>def generate_ints(n):\n    for i in range(n):\n        yield i</pre>"
            "<p>Any function containing a yield keyword is a generator function; calling it returns an iterator."
            "</p></div></body></html>")
    indexed_with(fresh_assistant, "simple_stmts.html", page)
    answer = extractive_answer(fresh_assistant, "What does the nonlocal statement do?")
    assert answer.grounded and "causes the listed identifiers" in answer.answer, answer.answer
    assert "specification" not in answer.answer
    answer = extractive_answer(fresh_assistant, "What is a generator function?")
    assert answer.grounded and "Any function containing a yield keyword" in answer.answer, answer.answer
    assert "simplest example" not in answer.answer


def test_what_is_is_answered_by_the_sentence_saying_what_it_is(fresh_assistant):
    # Sentences that mention UTF-8 in passing, or hold it in a list of its properties, are as close in meaning;
    # the answer is the one whose subject is UTF-8 and that goes on to say what it is.
    indexed_with(fresh_assistant, "unicode.md", (
        "# Encodings\n\nThe byte order mark simply announces that the file is encoded in UTF-8.\n\n"
        "Many tools decode UTF-8 text without being told so.\n\n"
        "UTF-8 is one of the most commonly used encodings, and Python often defaults to using it.\n\n"
        "UTF-8 has several convenient properties:\n\n- UTF-8 is a byte oriented encoding.\n"
        "- It handles any Unicode code point.\n"))
    answer = extractive_answer(fresh_assistant, "What is UTF-8?")
    assert answer.grounded and "UTF-8 is one of the most commonly used encodings" in answer.answer, answer.answer
    assert "byte order mark" not in answer.answer and "Many tools" not in answer.answer


def test_a_glossary_entry_answers_what_its_term_is_however_short(fresh_assistant):
    # A definition list's term titles its entry; its definition may be shorter than a label ("Python implemented
    # in Java."), and is the answer, not the pointer to a website that names the term.
    indexed_with(fresh_assistant, "implementations.html", (
        "<html><head><title>Implementations</title></head><body><main><h1>Implementations</h1>"
        "<h2>Alternate Implementations</h2><p>Known implementations include:</p><dl class=\"simple\">"
        "<dt>CPython</dt><dd><p>This is the original and most-maintained implementation of Python, written in C.</p></dd>"
        "<dt>Jython</dt><dd><p>Python implemented in Java. This implementation can be used as a scripting language "
        "for Java applications. More information can be found at the Jython website.</p></dd>"
        "<dt>IronPython</dt><dd><p>An alternate Python for .NET. It was created by Jim Hugunin, the original "
        "creator of Jython.</p></dd></dl></main></body></html>"))
    answer = extractive_answer(fresh_assistant, "What is Jython?")
    assert answer.grounded and answer.answer.startswith("Python implemented in Java [1]."), answer.answer
    assert "website" not in answer.answer
    assert answer.citations[0].passage.section == "Alternate Implementations > Jython"


def test_a_short_whole_sentence_is_an_answer_not_a_label(fresh_assistant):
    # "The directory must be empty." has four words, fewer than a label may, but is a sentence: it answers.
    indexed_with(fresh_assistant, "paths.md", (
        "# Removing files\n\n## Path.rmdir()\n\nRemove this directory. The directory must be empty.\n\n"
        "## Path.unlink(missing_ok=False)\n\nRemove this file or symbolic link. If the path points to a directory, "
        "use Path.rmdir() instead.\n"))
    answered_with(fresh_assistant, "Can Path.rmdir() remove a folder that still has files inside it?",
                  "The directory must be empty")


def test_why_gets_the_reason_after_the_statement_and_a_code_question_the_code_under_its_prose(fresh_assistant):
    # The statement ("It is good practice …") and the prose introducing a command are closer to the questions
    # than what answers them: the reason that follows, and the code block under the prose.
    indexed_with(fresh_assistant, "files.md", (
        "# Reading and Writing Files\n\nIt is good practice to use the with keyword when dealing with file objects. "
        "The advantage is that the file is properly closed after its suite finishes, even if an exception is "
        "raised at some point.\n\n## Creating Virtual Environments\n\nTo create a virtual environment, decide upon "
        "a directory where you want to place it, and run the venv module as a script with the directory path:\n\n"
        "```\npython3 -m venv tutorial-env\n```\n\nThis will create the tutorial-env directory if it doesn't exist.\n\n"
        "## Data Compression\n\nCommon archive formats are supported directly by modules such as zlib and gzip.\n\n"
        "```\n>>> t = zlib.compress(s)\n>>> zlib.decompress(t)\n```\n"))
    # Each is quoted after the statement it answers, which says what it is the reason / the command for.
    answer = extractive_answer(fresh_assistant, "Why should I use the with keyword when opening files?")
    assert answer.grounded and answer.answer.startswith("It is good practice to use the with keyword"), answer.answer
    assert "[1]. The advantage is that the file is properly closed" in answer.answer
    answer = extractive_answer(fresh_assistant, "What command creates a virtual environment?")
    assert answer.grounded and answer.answer.startswith("To create a virtual environment"), answer.answer
    assert "[1]:\n\n```\npython3 -m venv tutorial-env\n```\n[1]" in answer.answer  # the code as a block, as written
    # … also when the prose before the code does not end in a colon
    answered_with(fresh_assistant, "What code compresses bytes in memory and gets them back?", "t = zlib.compress(s)")


def test_a_why_asked_after_a_statement_gets_the_reason_not_the_symptom_restated(fresh_assistant):
    # "… Why?" at the end asks for a reason as "Why …?" does; the sentences restating the symptom or the advice are
    # closer to the question than the one saying why ("The reason is …", "This means …").
    indexed_with(fresh_assistant, "lists.md", (
        "# Multidimensional lists\n\nYou may have tried to make a grid by multiplying a list of lists.\n\n"
        "But when you assign to one cell, the value shows up in every row:\n\n```\n>>> grid = [[0] * 3] * 3\n"
        ">>> grid[0][0] = 5\n```\n\nThe reason is that replicating a list with * doesn't create copies, it only "
        "creates references to the existing objects. Changes to one row will show in all rows, which is almost "
        "certainly not what you want.\n\nThe suggested approach is to build each row with a list comprehension.\n\n"
        "# Loggers\n\nLoggers are created on first use and kept for the life of the process. A good convention is "
        "to name each module's logger after the module, with getLogger(__name__):\n\n```\n"
        "logger = logging.getLogger(__name__)\n```\n\nThis means that logger names track the package hierarchy, "
        "so where an event was logged is obvious from the logger's name alone.\n"))
    answered_with(fresh_assistant, "I made a grid with [[0] * 3] * 3 and setting one cell changes that cell in every "
                  "row. Why?", "The reason is that replicating a list")
    answered_with(fresh_assistant, "Why is it recommended to create loggers with getLogger(__name__)?",
                  "This means that logger names track the package hierarchy")


def test_a_how_to_asked_after_its_setup_gets_the_command_the_instruction_introduces(fresh_assistant):
    # "…; how do I leave it?" asks how as "How do I …?" does: the instruction is shown with the command under it.
    indexed_with(fresh_assistant, "venv.md", (
        "# Virtual environments\n\nOnce you have created a virtual environment, you may activate it. Activating it "
        "changes your shell's prompt to show which environment you are using.\n\nTo deactivate a virtual "
        "environment, type:\n\n```\ndeactivate\n```\n\ninto the terminal.\n"))
    answered_with(fresh_assistant, "I'm done working inside my virtual environment; how do I leave it and get back to my "
                  "shell?", "To deactivate a virtual environment, type", "```\ndeactivate\n```")


def test_the_best_list_item_is_quoted_whole():
    # "The return statement returns with a value from a function. …" / "Falling off the end of a function also returns
    # None.": an item's later sentences are part of what it says, as they are when a list answer quotes it; up to a
    # chosen sentence, which is quoted (and read on from) in its own turn.
    from rag.backends.extractive import _with_continuations
    from rag.grounding import Judged
    from rag.units import ITEM, SENTENCE, Unit

    question = analyse("My function has no return statement at all. What do I get back when I call it?")
    item = Unit("The return statement returns with a value from a function.", ITEM, 0, "Defining Functions")
    rest = Unit("Falling off the end of a function also returns None.", SENTENCE, 0, f"Defining Functions {item.text}")
    other = Unit("The statement result.append(a) calls a method of the list object result.", ITEM, 0,
                 "Defining Functions")
    assert _with_continuations(question, [Judged(item, 0.6, 0.6, True, True)], [item, rest, other]) == [item, rest]
    chosen = [Judged(item, 0.6, 0.6, True, True), Judged(rest, 0.5, 0.5, True, True)]
    assert _with_continuations(question, chosen, [item, rest, other]) == [item, rest]


def test_a_list_item_introducing_code_is_shown_with_it():
    # A step in a list that ends in "such as:" says its point with the code after it, as a sentence would ("Attach a
    # Formatter instance to your SysLogHandler instance, with a format string such as:" / the format string).
    from rag.backends.extractive import _introduced_example
    from rag.units import CODE, ITEM, Unit

    step = Unit("Attach a Formatter instance to your SysLogHandler instance, with a format string such as:", ITEM, 0)
    code = Unit("'ASCII section\\ufeffUnicode section'", CODE, 0)
    assert _introduced_example(step, code)
    assert not _introduced_example(step, replace(code, passage=1))
    assert not _introduced_example(replace(step, text="Attach a Formatter instance to your SysLogHandler."), code)


def test_the_best_sentence_reads_on_into_a_long_sentence_that_introduces_an_example():
    # The sentence after the best one ends in ":" because code follows it, yet it says something itself: it is read
    # on ("What is an IntEnum?"), as a short lead-in ("For example:") or a question the text asks is not.
    from rag.backends.extractive import _next_in_section
    from rag.units import SENTENCE, Unit

    best = Unit("The first variation of Enum that is provided is also a subclass of int.", SENTENCE, 0, "IntEnum")
    saying = Unit("Members of an IntEnum can be compared to integers; by extension, integer enumerations of different "
                  "types can also be compared to each other:", SENTENCE, 0, "IntEnum")
    assert _next_in_section(best, saying)
    for following in ("Here is a simple example of one:", "So why would you want to subclass int at all?"):
        assert not _next_in_section(best, Unit(following, SENTENCE, 0, "IntEnum"))


def test_the_sentence_answering_a_question_the_text_asks_reads_on_in_its_section():
    # "Should you use these module-level functions, …? … If you're accessing a regex within a loop, pre-compiling it
    # will save a few function calls. Outside of loops, there's not much difference …": the answer's question is in
    # its context, not a section of its own; the sentence after it is read on. One in another section is not.
    from rag.backends.extractive import _next_in_section
    from rag.units import SENTENCE, Unit

    best = Unit("If you're accessing a regex within a loop, pre-compiling it will save a few function calls.", SENTENCE,
                0, "Module-Level Functions Should you use these module-level functions?", after_question=True)
    following = "Outside of loops, there's not much difference thanks to the internal cache."
    assert _next_in_section(best, Unit(following, SENTENCE, 0, "Module-Level Functions"))
    assert not _next_in_section(best, Unit(following, SENTENCE, 0, "Compiling Regular Expressions"))


def test_a_quoted_sentence_reads_on_into_the_next_one_when_that_one_answers_too():
    # "What kind of port number should I bind my toy server to?": the second sentence quoted, "… low number ports are
    # usually reserved for “well known” services (HTTP, SNMP etc).", reads on into the next one, which answers too,
    # as the best sentence always reads on; one that does not answer and adds no word of the question, one in another
    # section, one speaking of someone else, or a typed question's one fact is not read on to.
    from rag.backends.extractive import _with_continuations
    from rag.grounding import Judged
    from rag.units import SENTENCE, Unit

    question = analyse("I'm writing a toy socket server to learn how sockets work. What kind of port number should I "
                       "bind it to while I'm experimenting?")
    best = Unit("The socket is bound to a public host.", SENTENCE, 0, "Creating a Socket")
    second = Unit("A second thing to note: low number ports are usually reserved for “well known” services (HTTP, "
                  "SNMP etc).", SENTENCE, 1, "Creating a Socket")
    playing = Unit("If you're playing around, use a nice high number (4 digits).", SENTENCE, 1, "Creating a Socket")
    every = [best, Unit("It is visible to the outside world.", SENTENCE, 0, "Creating a Socket"), second, playing]
    chosen = [Judged(best, 0.6, 0.6, True, True), Judged(second, 0.5, 0.5, True, True)]
    assert _with_continuations(question, chosen, every, {best, second, playing}) == every
    assert _with_continuations(question, chosen, every, {best, second}) == every[:3]
    elsewhere = [*every[:3], replace(playing, context="Using a Socket")]
    assert _with_continuations(question, chosen, elsewhere, {best, second, elsewhere[3]}) == every[:3]
    someone = [*every[:3], replace(playing, text="Guido van Rossum plays around with a high number (4 digits).")]
    assert _with_continuations(question, chosen, someone, {best, second, someone[3]}) == every[:3]
    counted = analyse("How many digits should the port number of my toy socket server have?")
    assert _with_continuations(counted, chosen, every, {best, second, playing}) == [best, second]


def test_a_code_question_that_counts_gets_the_code_not_a_number(fresh_assistant):
    # "Show me how to work out how many days …" asks for code: "how many" does not make it a number question, whose
    # answer would have to be a sentence stating one.
    indexed_with(fresh_assistant, "dates.md", (
        "# Dates and times\n\nThe datetime module supplies classes for manipulating dates and times. While date "
        "and time arithmetic is supported, the focus of the implementation is on efficient member extraction.\n\n"
        "```\n>>> # dates support calendar arithmetic\n>>> birthday = date(1964, 7, 31)\n>>> age = now - birthday\n"
        ">>> age.days\n14368\n```\n\nA week has 7 days and a leap year has 366 days.\n"))
    answered_with(fresh_assistant, "Show me how to work out how many days old someone is from their birth date.",
                  ">>> age = now - birthday")


def test_an_api_entrys_first_sentence_is_quoted_under_its_signature(fresh_assistant):
    # "Return True if the path points to a Unix socket …" never names the call it describes: the answer gives the
    # entry's signature before it, and the citation's quote runs from that heading into the sentence. The heading
    # alone answers nothing: an answer whose only answering claim were a heading would not be grounded.
    indexed_with(fresh_assistant, "paths.md", (
        "# Paths\n\n## Methods\n\n### Path.is_socket()\n\nReturn True if the path points to a Unix socket, False "
        "if it points to another kind of file.\n\n### Path.is_fifo()\n\nReturn True if the path points to a FIFO.\n"))
    answer = answered_with(fresh_assistant, "With pathlib, how do I check that a path really is a Unix socket?",
                           "Path.is_socket() [1]. Return True if the path points to a Unix socket")
    (citation,) = answer.citations
    quote = fresh_assistant.document_text("paths.md")[citation.quote_start:citation.quote_end]
    assert quote.startswith("### Path.is_socket()") and quote.endswith("another kind of file."), quote
    from rag.citations import check_claims
    from rag.passage import Passage

    signature = "@functools.lru_cache(maxsize=128, typed=False)"
    text = "Decorator to wrap a function with a memoizing callable that saves up to the maxsize most recent calls."
    entry = Passage(text, 100, 100 + len(text), f"functools > {signature}", None, id=1, source="f.md", title="f")
    (verdict,) = check_claims(f"{signature} [1].", [entry], analyse(
        "How can I make functools.lru_cache ignore one of my function's arguments when it decides whether a call is "
        "cached?"), fresh_assistant.embedder)
    assert verdict.supported and not verdict.answers


def test_an_attributes_description_is_quoted_under_the_name_it_describes(fresh_assistant):
    # A definition list's term is its entry's heading too ("c_ignored_default" / "The default value used to initialize
    # the C variable …"): the answer to "Which attribute …?" is the name, which the description never writes. A
    # heading in words ("Methods and properties") is no such name.
    indexed_with(fresh_assistant, "clinic.md", (
        "# Argument Clinic\n\n## Writing a custom converter\n\n### c_ignored_default\n\nThe default value used to "
        "initialize the C variable when there is no default, but not specifying a default may result in an "
        "“uninitialized variable” warning.\n\n### converter\n\nThe name of the C converter function, as a string.\n"))
    answered_with(fresh_assistant, "My custom Argument Clinic converter makes the compiler warn about an "
                  "uninitialized variable. Which attribute sets the value the C variable is initialized with?",
                  "c_ignored_default [1]. The default value used to initialize the C variable")


def test_an_api_entrys_first_sentence_naming_another_owners_namesake_is_still_quoted_under_its_signature(
        fresh_assistant):
    # "Return the path to which the symbolic link points (as returned by os.readlink())" names os.readlink, not the
    # entry it opens: without "Path.readlink()" before it, the answer would not say which pathlib call to make.
    indexed_with(fresh_assistant, "paths.md", (
        "# Paths\n\n## Methods\n\n### Path.readlink()\n\nReturn the path to which the symbolic link points (as "
        "returned by os.readlink()).\n\n### Path.is_fifo()\n\nReturn True if the path points to a FIFO.\n"))
    answered_with(fresh_assistant, "Our deploy folder has a symlink named current. With pathlib, how do I find out what "
                  "that link points to?", "Path.readlink() [1]. Return the path to which the symbolic link points")


def test_quoted_code_keeps_its_brackets_and_spacing_and_cites_only_its_passage(fresh_assistant):
    # "[3, 4, 5]" and "args[1]" in quoted code are Python, not citations of passages 3, 4 and 5; its indentation
    # and spacing stay as written.
    indexed_with(fresh_assistant, "unpacking.md", (
        "# Unpacking argument lists\n\nWhen the arguments are already in a list, write the call with the * operator "
        "to unpack them out of the list:\n\n```\n>>> list(range(3, 6))    # separate arguments\n[3, 4, 5]\n"
        ">>> args = [3, 6]\n>>> if args[1] > 5:\n...     print(list(range(*args)))\n[3, 4, 5]\n```\n"))
    answer = extractive_answer(fresh_assistant, "Show me code that calls range with args unpacked from a list")
    assert answer.grounded and answer.answer.startswith("When the arguments are already in a list"), answer.answer
    assert ">>> list(range(3, 6))    # separate arguments\n[3, 4, 5]\n>>> args = [3, 6]\n>>> if args[1] > 5:\n"\
        "...     print(list(range(*args)))" in answer.answer, answer.answer
    assert [citation.n for citation in answer.citations] == [1]


def test_how_to_gets_the_instruction_after_the_behaviour_it_changes_with_its_example(fresh_assistant):
    # The sentence stating the default behaviour is closest to "How do I stop / make …"; what answers it is the
    # instruction after it (its own words barely overlap the question's), with the example it introduces shown
    # under it. A how-to that does not ask for code gets no code without prose.
    indexed_with(fresh_assistant, "registry.html", (
        "<html><head><title>Registries</title></head><body><main><h2>Unique names</h2><p>Registries are created "
        "with the Registry class. By default, a registry lets several names stand for the same value. When this "
        "behaviour isn’t wanted, you can use the distinct() decorator:</p><pre>@distinct\nclass Colour(Registry):\n"
        "    RED = 1</pre><h2>Host ranges</h2><p>Host ranges cannot contain any bits past the prefix. By default, "
        "building a host range with such bits raises ValueError. To request that the extra bits be cleared instead, "
        "the flag loose=True can be passed to the constructor:</p><pre>hostrange('10.0.0.7/24', loose=True)</pre>"
        "<p>Host ranges are printed in their compact form.</p></main></body></html>"))
    answer = extractive_answer(fresh_assistant, "How do I stop a registry from giving one value two names?")
    assert answer.grounded and "By default, a registry lets several names stand for the same value [1]. When this "\
        "behaviour isn’t wanted, you can use the distinct() decorator [1]:" in answer.answer, answer.answer
    assert "@distinct" in answer.answer  # the example, under the prose
    answer = extractive_answer(fresh_assistant, "How can I make a host range accept an address with bits past the prefix?")
    assert answer.grounded and "the flag loose=True can be passed to the constructor [1]" in answer.answer, answer.answer
    assert "hostrange('10.0.0.7/24', loose=True)" in answer.answer
    (citation,) = answer.citations  # the highlight spans the statement, the instruction and its example
    highlighted = fresh_assistant.document_text("registry.html")[citation.quote_start:citation.quote_end]
    assert "By default, building a host range" in highlighted and highlighted.endswith("loose=True)"), highlighted


def test_a_how_to_the_pages_do_not_answer_is_declined_not_answered_with_the_nearest_instruction(fresh_assistant):
    # Every instruction here is about the curses library; none says how to react to mouse clicks or make a window
    # scroll. A sentence about the same library is as close in meaning as one doing the thing asked, so a how-to
    # answer needs one unit holding most of the question's words or much closer in meaning.
    indexed_with(fresh_assistant, "curses.md", (
        "# Curses programming\n\n## Keys\n\nTo get curses to return special keys such as the arrow keys, you have to "
        "enable keypad mode with stdscr.keypad(True). Without it, an arrow key arrives as a sequence of escape codes.\n\n"
        "## Colours\n\nTo use colours, call start_color() right after creating the screen, then define colour pairs "
        "with init_pair().\n\n## Windows\n\nA new window is created with newwin(), giving its height, width and the "
        "position of its top left corner.\n"))
    for question in ("How do I react to mouse clicks in a curses program?",
                     "How do I make a curses window scroll when text reaches the bottom line?"):
        answer = extractive_answer(fresh_assistant, question)
        assert not answer.grounded, answer.answer
    # … and no unit whose words match only through its API entry's signature ("json.load(fp, …)": JSON, load, file)
    indexed_with(fresh_assistant, "json.md", (
        "# json\n\n## json.load(fp, *, cls=None, object_hook=None)\n\nDeserialize fp (a text or binary file holding a "
        "JSON document) to a Python object.\n\nChanged in version 3.6: fp can now be a binary file.\n\n## json.dumps(obj, "
        "*, indent=None)\n\nSerialize obj to a JSON formatted str. If indent is a non-negative integer, the output is "
        "pretty-printed with that indent level.\n"))
    answer = extractive_answer(fresh_assistant, "How do I load a JSON file with comments?")
    assert not answer.grounded, answer.answer
    answered_with(fresh_assistant, "How do I pretty-print JSON with an indent?", "pretty-printed with that indent level")
    answered_with(fresh_assistant, "How can I read the arrow keys in a curses program?", "enable keypad mode")
    answered_with(fresh_assistant, "How do I get colours on the screen with curses?", "call start_color()")


@pytest.mark.skipif(not (PYDOCS / "tutorial").is_dir(), reason="the pydocs set is not on this machine")
def test_a_how_to_after_its_setup_is_judged_by_what_it_asks_not_by_the_setups_words(fresh_assistant):
    # The tutorial's print(…, end=',') example shares the setup's words but says nothing of writing the output out
    # at once (flushing), which no page here does: the question is declined. An asking clause leaning on its setup
    # ("how do I leave it", "that invisible character") or too short to stand alone is judged with the setup.
    for page in ("tutorial/introduction.html", "tutorial/inputoutput.html", "tutorial/errors.html"):
        (Path(fresh_assistant.settings.corpus_dir) / page).parent.mkdir(exist_ok=True)
        shutil.copy(PYDOCS / page, Path(fresh_assistant.settings.corpus_dir) / page)
    fresh_assistant.index()
    answer = extractive_answer(fresh_assistant, "My script prints a progress dot with print('.', end='') after each "
                               "step, but the dots only show up all at once when it finishes. How do I make print "
                               "write each dot out immediately?")
    assert not answer.grounded, answer.answer
    answered_with(fresh_assistant, "My program reads numbers typed by the user and crashes on bad input. How do I "
                  "handle the ValueError exception?", "exception")


def test_a_how_to_answer_close_in_meaning_must_name_the_most_specific_thing_asked(fresh_assistant):
    # The json.tool lines are close in meaning to validating against a schema and share "validate" and "JSON",
    # but never name a schema, which the index knows from another page: no answer says how.
    indexed_with(fresh_assistant, "json_tool.md", (
        "# json.tool\n\nThe json.tool module provides a simple command line interface to validate and pretty-print "
        "JSON objects.\n\nUsing json.tool from the shell to validate and pretty-print:\n\n"
        "```\n$ echo '{\"json\": \"obj\"}' | python -m json.tool\n```\n"))
    indexed_with(fresh_assistant, "database.md", (
        "# Database notes\n\nThe database schema is versioned, and every migration script upgrades it by one step.\n\n"
        "## Imports\n\nThe importer validates every JSON document it reads before it writes a row.\n"))
    answer = extractive_answer(fresh_assistant, "How do I validate a JSON document against a JSON Schema?")
    assert not answer.grounded, answer.answer
    answered_with(fresh_assistant, "How do I check from the shell that a file holds valid JSON?", "json.tool")


def test_answer_shapes_of_pointers_causes_and_passive_instructions(fresh_assistant):
    # "More information can be found at …" names the thing but says nothing about what it is; "what could be causing
    # it?" asks for a cause like a why-question; "should typically be derived from …" is an instruction.
    indexed_with(fresh_assistant, "notes.md", (
        "# Implementations\n\n## IronPython\n\nMore information can be found at the IronPython website. IronPython is "
        "an alternate Python for .NET, written by the same author as Jython.\n\n## Slow builds\n\nUsually the build "
        "finishes in a minute, but sometimes it suddenly takes an hour on one machine. The problem may be caused by "
        "a virus scanner that checks every file the compiler writes. A build that suddenly became slow on one machine "
        "is the most common complaint in the forum.\n\n## Errors\n\nPrograms can report errors through exceptions. "
        "Your own kinds of exception are reported exactly like the built-in ones. New exception classes should "
        "typically be derived from the Exception class, either directly or indirectly.\n"))
    answer = answered_with(fresh_assistant, "What is IronPython?", "an alternate Python for .NET")
    assert "More information" not in answer.answer
    answer = answered_with(fresh_assistant, "My build has suddenly become very slow on one machine; what could be causing "
                           "it?", "[1]. The problem may be caused by a virus scanner")
    assert "most common complaint" not in answer.answer.split("caused by")[0]  # the cause before what restates it
    answered_with(fresh_assistant, "How do I make my own kind of exception?",
                  "[1]. New exception classes should typically be derived")


def test_an_attribute_on_code_is_a_name_the_answer_must_write(fresh_assistant):
    # The Rust book never writes #[inline]; "When should I put #[inline] on a function to help the optimizer?" was
    # answered with a sentence on optimisation levels. An attribute asked about is a code name, written whole.
    assert analyse("When should I put #[inline] on a function?").names == ("#[inline]",)
    assert analyse("Can I check them with #[cfg(feature = ...)] in my crate?").names == ("#[cfg(feature = ...)]",)
    indexed_with(fresh_assistant, "attributes.md", (
        "# Attributes\n\nAttributes are metadata about pieces of Rust code. The #[derive(Debug)] attribute makes a "
        "struct printable with {:?} in a format string. The #[test] attribute marks a function as a test, which cargo "
        "test runs. The optimizer decides on its own which functions to inline into their callers.\n"))
    answered_with(fresh_assistant, "What does #[derive(Debug)] do to my struct?", "makes a struct printable")
    assert not extractive_answer(fresh_assistant, "When should I put #[inline] on a function to help the optimizer?"
                                 ).grounded


def test_a_punctuation_mark_written_as_a_word_keeps_its_spaces(fresh_assistant):
    # The Rust book's "The same thing applies to the ? at the end of the read_to_string call." was quoted "… applies
    # to the? at the end …": tidying a model's stray space before a full stop took the operator's too.
    indexed_with(fresh_assistant, "errors.md", (
        "# Recoverable errors\n\nIf an error occurs, the ? operator will return early out of the whole function and "
        "give any Err value to the calling code. The same thing applies to the ? at the end of the read_to_string "
        "call.\n"))
    answered_with(fresh_assistant, "What does the ? operator do?", "the ? operator will return early",
                  "applies to the ? at the end")


@pytest.mark.skipif(not (PYDOCS / "howto" / "curses.html").is_file(), reason="the pydocs set is not on this machine")
def test_the_curses_howto_does_not_answer_mouse_clicks_with_its_keypad_instruction(fresh_assistant):
    # Issue 15: "To get curses to do the job, you'll have to enable keypad mode." is as close in meaning to a
    # question about mouse clicks (0.67) as a real paraphrased answer, while holding none of its other words.
    indexed_page(fresh_assistant, "howto/curses.html")
    for question in ("How do I react to mouse clicks in a curses program?",
                     "How do I make a curses window scroll up when text reaches its bottom line?"):
        answer = extractive_answer(fresh_assistant, question)
        assert not answer.grounded, answer.answer
    answered_with(fresh_assistant, "How can I get curses to handle the cursor keys instead of escape sequences?", "keypad")


def test_a_sentence_drawing_on_the_one_before_is_quoted_after_it_and_a_named_version_is_matched(fresh_assistant):
    # "This means …" and "… calling this function …" are closest to the questions but say nothing alone: the sentence
    # before them is what they mean. "Python 3.10" is answered by what holds for 3.10, not by a closer sentence
    # about 3.9.
    indexed_with(fresh_assistant, "interactive.md", (
        "# Interactive mode\n\nThe interpreter prints the value of each expression you type. In interactive mode, "
        "the last printed expression is assigned to the variable _. This means that when you use the interpreter as a "
        "calculator, it is easier to carry on with the next calculation.\n\n## Conditions\n\nComparisons can be chained. "
        "For example, a < b == c tests whether a is less than b and moreover b equals c.\n\n## Annotations\n\nIn Python 3.9 and "
        "older, getting the annotations of a class is complicated and error-prone. Python 3.10 adds a new function to "
        "the standard library: inspect.get_annotations(). In Python 3.10 and newer, calling this function is the best "
        "practice for getting annotations.\n\n## Streams\n\nThe sys module also has attributes for stdin, stdout, and "
        "stderr. The latter is useful for emitting warnings and error messages to make them visible even when stdout "
        "has been redirected.\n\n## Groups\n\nSometimes you'll want to use a group to denote a part of a pattern, "
        "but aren't interested in retrieving the group's contents. You can make this fact explicit by using a "
        "non-capturing group: (?:...), where the dots stand for any other pattern.\n"))
    # "The latter …" is one of the things the sentence before lists.
    answered_with(fresh_assistant, "My script's output goes to a file; how can its warnings still be seen?",
                  "stdin, stdout, and stderr [1]. The latter is useful")
    # "… this fact …": which fact is the sentence before.
    answered_with(fresh_assistant, "What is a non-capturing group, and how do I write one?",
                  "aren't interested in retrieving the group's contents [1]. You can make this fact explicit")
    answered_with(fresh_assistant, "Using the interpreter as a calculator, how do I reuse the last result?",
                  "the last printed expression is assigned to the variable _ [1]. This means")
    answer = answered_with(fresh_assistant, "What is the recommended way to get annotations on Python 3.10?",
                           "inspect.get_annotations() [1]. In Python 3.10 and newer, calling this function")
    assert "3.9" not in answer.answer
    answered_with(fresh_assistant, "Does Python evaluate x < y < z as x < y and y < z?",
                  "Comparisons can be chained [1]. For example, a < b == c")


def test_a_sentence_restating_the_one_before_is_quoted_after_it(fresh_assistant):
    # "That is, \\n is converted to a single newline character …" is closest to the question, but it only spells out
    # the rule the sentence before states (which strings its escapes are processed in).
    indexed_with(fresh_assistant, "substitution.md", (
        "# Search and Replace\n\nThe sub() method takes a replacement value, which can be either a string or a "
        "function, and the string to be processed. If replacement is a string, any backslash escapes in it are "
        "processed. That is, \\n is converted to a single newline character, \\r is converted to a carriage return, "
        "and so forth. Unknown escapes such as \\& are left alone.\n"))
    answered_with(fresh_assistant, "In the replacement string I give re.sub(), does \\n become a real newline?",
                  "any backslash escapes in it are processed [1]. That is")


def test_python_special_names_are_quoted_as_written_not_as_bold(fresh_assistant):
    # "__slots__" and "__init__.py" are names, not Markdown bold: an answer must quote them as the page has them.
    indexed_with(fresh_assistant, "datamodel.html", (
        "<html><head><title>Data model</title></head><body><main><h2>__slots__</h2><p>__slots__ allow us to "
        "explicitly declare data members (like properties) and deny the creation of __dict__ and __weakref__. "
        "The __init__.py files are required to make Python treat directories containing the file as packages."
        "</p><h2>Private variables</h2><p>Any identifier of the form __spam (at least two leading underscores, at "
        "most one trailing underscore) is textually replaced with _classname__spam, where classname is the current "
        "class name.</p></main></body></html>"))
    answer = extractive_answer(fresh_assistant, "What does __slots__ do?")
    assert answer.grounded and "__slots__ allow us to explicitly declare data members" in answer.answer, answer.answer
    assert "deny the creation of __dict__ and __weakref__" in answer.answer
    (citation,) = answer.citations
    source = fresh_assistant.document_text("datamodel.html")
    assert source[citation.quote_start:citation.quote_end].startswith("__slots__ allow us")
    answer = extractive_answer(fresh_assistant, "What is an identifier like __spam replaced with in a class?")
    assert answer.grounded and "of the form __spam (at least two" in answer.answer, answer.answer
    assert "textually replaced with _classname__spam" in answer.answer


def test_a_sentence_naming_the_term_defines_it(fresh_assistant):
    # "…, called name mangling" says what name mangling is; "This mangling is done …" only tells more about it.
    indexed_with(fresh_assistant, "classes.md", (
        "# Private Variables\n\nThis mangling is done without regard to the syntactic position of the identifier, "
        "as long as it occurs within the definition of a class.\n\nSince there is a valid use-case for class-private "
        "members (namely to avoid name clashes of names with names defined by subclasses), there is limited support "
        "for such a mechanism, called name mangling.\n"))
    answer = extractive_answer(fresh_assistant, "What is name mangling in classes?")
    assert answer.grounded and "there is limited support for such a mechanism, called name mangling" in answer.answer, answer.answer
    # "…, or docstring" names it too, after the longer name it is short for.
    indexed_with(fresh_assistant, "functions.md", (
        "# Defining functions\n\nThe keyword def introduces a function definition, and the statements that form the "
        "body of the function start at the next line. The first statement of the function body can optionally be a "
        "string literal; this string literal is the function's documentation string, or docstring.\n\n"
        "# Checking docstrings\n\nIf your docstring doesn't have a summary line, the checker will complain. A "
        "docstring that spans several lines should start with that summary line.\n"))
    answer = answered_with(fresh_assistant, "What is a docstring?", "the function's documentation string, or docstring")
    assert answer.answer.startswith("The first statement of the function body"), answer.answer  # the definition first


@pytest.mark.skipif(not (PYDOCS / "reference").is_dir(), reason="the pydocs set is not on this machine")
def test_the_place_a_definition_question_names_is_not_what_it_asks_defined(fresh_assistant):
    # "… in a match statement's case clause", "… in Python" say where; the sentence saying what a guard or an iterator
    # is need not name the place, and those that do only use the term.
    for page in ("reference/compound_stmts.html", "howto/functional.html"):
        (Path(fresh_assistant.settings.corpus_dir) / page).parent.mkdir(exist_ok=True)
        shutil.copy(PYDOCS / page, Path(fresh_assistant.settings.corpus_dir) / page)
    fresh_assistant.index()
    answered_with(fresh_assistant, "What is a guard in a match statement's case clause?",
                  "A guard (which is part of the case) must succeed")
    answered_with(fresh_assistant, "What is an iterator in Python?", "An iterator is an object representing a stream")
    # … and so when a setup comes first: the clause that asks decides the question's type and what it defines.
    setup = "My colleague keeps mentioning iterators in code reviews. What is an iterator in Python?"
    assert analyse(setup).type == "definition" and set(analyse(setup).defined) == {"iter"}
    answered_with(fresh_assistant, setup, "An iterator is an object representing a stream")


def test_a_definition_question_restating_its_term_after_a_comma_asks_the_term_defined(fresh_assistant):
    # ", the from __future__ import line" says again what is asked, in other words: the sentence defining a future
    # statement need not hold them, and the one that does only says what is not one.
    question = "What is a future statement, the from __future__ import line?"
    assert set(analyse(question).defined) == {"futur", "statement"}
    indexed_with(fresh_assistant, "future.md", (
        "# Future statements\n\nA future statement is a directive to the compiler that a particular module should be "
        "compiled using syntax or semantics that will be available in a specified future release of Python. It is "
        "written from __future__ import feature, and the only lines that can appear before it are the module "
        "docstring, comments and blank lines.\n\n"
        "# Importing __future__\n\nCode may also do import __future__ as any module. That is not a future "
        "statement; it's an ordinary import statement with no special semantics or syntax restrictions.\n"))
    answer = answered_with(fresh_assistant, question, "A future statement is a directive to the compiler")
    assert answer.answer.startswith("A future statement is a directive"), answer.answer


def test_a_sentence_going_on_from_the_one_before_does_not_define_its_subject(fresh_assistant):
    # "However, aliasing has a possibly surprising effect …" opens with the term but goes on from what came before;
    # the definition is the sentence naming it ("This is known as aliasing …"), quoted after the one it points at.
    indexed_with(fresh_assistant, "names.md", (
        "# A word about names and objects\n\nObjects have individuality, and multiple names (in multiple scopes) can "
        "be bound to the same object. This is known as aliasing in other languages. This is usually not appreciated "
        "on a first glance at Python. However, aliasing has a possibly surprising effect on the semantics of code "
        "involving mutable objects such as lists, dictionaries, and most other types.\n"))
    answer = answered_with(fresh_assistant, "What is aliasing?", "This is known as aliasing",
                           "multiple names (in multiple scopes) can be bound to the same object")
    assert "However" not in answer.answer, answer.answer


def test_the_best_sentence_is_read_on_with_the_next_one_in_its_section(fresh_assistant):
    # The sentence sharing the question's words sets the scene; the one after it says what is wrong. The next
    # section's first sentence is another topic and is not quoted with it.
    indexed_with(fresh_assistant, "builds.md", (
        "# Slow builds\n\nUsually the build finishes in a minute, but occasionally a build suddenly takes an hour "
        "on one machine. A misconfigured virus scanner that checks every file the compiler writes is the usual "
        "culprit.\n\n## Caching\n\nThe cache lives in the home folder and is shared between all projects.\n\n"
        "## History\n\nThe build farm opened in 2019 with two machines. It has grown to forty machines since then.\n"))
    answer = answered_with(fresh_assistant, "Why does a build suddenly take an hour on one machine?",
                           "occasionally a build suddenly takes an hour", "virus scanner that checks every file")
    assert "home folder" not in answer.answer
    (citation,) = answer.citations
    quote = fresh_assistant.document_text("builds.md")[citation.quote_start:citation.quote_end]
    assert quote.startswith("Usually the build") and quote.endswith("is the usual culprit."), quote
    # A pointer elsewhere says nothing itself: not read on to.
    indexed_with(fresh_assistant, "flaky.md", "# Flaky tests\n\nA flaky test passes on one run and fails on the next "
                 "without any change to the code. See the testing guide for the ways we track them down.\n")
    answer = answered_with(fresh_assistant, "What is a flaky test?", "passes on one run and fails on the next")
    assert "testing guide" not in answer.answer, answer.answer
    # A question asking for one fact (a year) gets that fact, not the sentence after it.
    answer = answered_with(fresh_assistant, "In which year did the build farm open?", "opened in 2019")
    assert "forty machines" not in answer.answer, answer.answer


def test_each_part_of_a_two_part_question_gets_its_own_sentence(fresh_assistant):
    # "What does it give me, and where does it start?": the sentence saying what it returns answers both parts'
    # words best, but the second part is answered by the defaults after it.
    indexed_with(fresh_assistant, "counters.md", (
        "# Counting iterators\n\nticker.count(start, step) returns an infinite stream of evenly spaced values. "
        "You can optionally supply the starting number, which defaults to 0, and the interval between numbers, "
        "which defaults to 1.\n\n## Repeating\n\nticker.repeat(elem) returns the element over and over.\n"))
    answered_with(fresh_assistant, "What does ticker.count give me, and where does it start counting?",
                  "returns an infinite stream of evenly spaced values", "which defaults to 0")


def test_each_parts_answer_is_read_on_like_a_one_part_questions(fresh_assistant):
    # "…, and what do I get back when I call one?" shares no word with the sentence saying it ("Such a function, when
    # called, returns a coroutine object."), which goes on with the first part's answer.
    indexed_with(fresh_assistant, "coroutines.md", (
        "# Python coroutines\n\nA function or method which is defined using async def is called a coroutine "
        "function. Such a function, when called, returns a coroutine object.\n\n## Awaitables\n\nAn awaitable object "
        "generally implements an __await__() method. Coroutine functions are often called from an event loop.\n"))
    answered_with(fresh_assistant, "People keep talking about 'coroutine functions' in asyncio code. What makes a "
                  "Python function a coroutine function, and what do I get back when I call one?",
                  "is called a coroutine function", "Such a function, when called, returns a coroutine object")


def test_a_quoted_sentence_is_read_on_with_the_sentence_pointing_back_at_it(fresh_assistant):
    # Issue 15: "This way, …" is the rest of the sentence before it, though it adds no word of the question.
    indexed_with(fresh_assistant, "hooks.md", (
        "# Defaults\n\nThe default subclass hook does nothing, but raises an error if it is called with any arguments."
        "\n\n# Inheritance\n\n- The subclass hook is called on the parent class whenever a class inherits from "
        "another class.\n\nThis way, it is possible to write classes which change the behavior of their subclasses.\n"))
    answered_with(fresh_assistant, "What is the subclass hook used for?", "called on the parent class whenever",
                  "This way, it is possible to write classes which change the behavior of their subclasses")


# A threading tutorial's example, longer than a chunk: the class in one chunk, how to start it in the next.
THREADS = (
    "# Multi-threading\n\nThreading is a technique for decoupling tasks which are not sequentially dependent. The "
    "following code shows how the threading module can run tasks in background while the main program continues "
    "to run:\n\n```python\n"
    "import threading, zipfile\n"
    "\n"
    "class AsyncZip(threading.Thread):\n"
    "    def __init__(self, infile, outfile):\n"
    "        threading.Thread.__init__(self)\n"
    "        self.infile = infile\n"
    "        self.outfile = outfile\n"
    "        self.compression = zipfile.ZIP_DEFLATED\n"
    "        self.finished = threading.Event()\n"
    "\n"
    "    def run(self):\n"
    "        archive = zipfile.ZipFile(self.outfile, 'w', self.compression)\n"
    "        archive.write(self.infile)\n"
    "        archive.close()\n"
    "        self.finished.set()\n"
    "        print('Finished background zip of:', self.infile)\n"
    "\n"
    "    def wait_quietly(self, timeout=None):\n"
    "        return self.finished.wait(timeout)\n"
    "\n"
    "background = AsyncZip('mydata.txt', 'myarchive.zip')\n"
    "background.start()\n"
    "print('The main program continues to run in foreground.')\n"
    "\n"
    "background.join()    # Wait for the background task to finish\n"
    "print('Main program waited until background was done.')\n"
    "```\n\n## Locks\n\nThe principal challenge of multi-threaded applications is coordinating threads that share "
    "data or other resources.\n")


def test_a_code_example_split_across_chunks_is_quoted_whole(fresh_assistant):
    indexed_with(fresh_assistant, "threads.md", THREADS)
    chunks = [hit.passage for hit in fresh_assistant.search("AsyncZip background zip", k=20)
              if hit.passage.source == "threads.md"]
    assert not any("class AsyncZip" in p.text and "background.start()" in p.text for p in chunks)  # it is split
    answer = answered_with(fresh_assistant, "Show me how to run a task in a background thread while the main "
                           "program keeps going.", "class AsyncZip(threading.Thread):", "background.start()")
    code = re.findall(r"```\n(.*?)\n```", answer.answer, flags=re.S)
    lines = [line for block in code for line in block.splitlines() if line.strip()]
    assert len(lines) == len(set(lines)) and len(lines) == len([l for l in THREADS.split("```python")[1]
                                                                 .split("```")[0].splitlines() if l.strip()])


def test_the_lines_two_chunks_of_a_code_block_share_are_quoted_once():
    # Chunks overlap: the second piece of a block starts with the last lines of the first.
    first = Passage("Example:\nx = 1\ny = 2\nz = 3", 0, 26, "Code", None, code="9:26", id=1, source="a.md", title="A")
    second = Passage("y = 2\nz = 3\nprint(x + y + z)", 18, 46, "Code", None, code="0:28", id=2, source="a.md",
                     title="A")
    every = units_of([first, second])
    (block,) = [unit for unit in every if unit.kind == CODE and unit.passage == 0]
    rest = _code_rest(block, every, [first, second])
    assert rest is not None and rest.text == "print(x + y + z)" and rest.passage == 1


def test_the_chunk_going_on_with_a_hits_section_joins_the_answer_passages():
    # rag.retrieve.with_section_rests: the next chunk (id + 1) is added when it goes on in the section of a top hit
    # (a cut code block, the sentences after it), not when it belongs to another section or document or does not
    # follow the hit.
    cut = Passage("Run it:\nclass Job:\n    pass", 0, 30, "Jobs", None, code="8:28", id=7, source="a.md", title="A")
    rest = Passage("job = Job()\njob.start()", 36, 60, "Jobs", None, code="0:23", id=8, source="a.md", title="A")
    prose = Passage("No code here at all.", 0, 20, "Other", None, id=3, source="b.md", title="B")
    next_section = Passage("A new topic.", 22, 34, "Another", None, id=4, source="b.md", title="B")
    stored = {passage.id: passage for passage in (cut, rest, prose, next_section)}
    fetch = lambda ids: {i: stored[i] for i in ids if i in stored}  # noqa: E731
    assert [hit.passage.id for hit in with_section_rests([Hit(cut, 0.9), Hit(prose, 0.8)], fetch, 5)] == [7, 3, 8]
    assert [hit.passage.id for hit in with_section_rests([Hit(cut, 0.9), Hit(rest, 0.5)], fetch, 5)] == [7, 8]
    assert [hit.passage.id for hit in with_section_rests([Hit(cut, 0.9)], fetch, 0)] == [7]  # only the top k's
    said = Passage("The rest of the section.", 18, 42, "Other", None, id=4, source="b.md", title="B")
    assert [hit.passage.id for hit in with_section_rests([Hit(prose, 0.8)], lambda ids: {4: said}, 5)] == [3, 4]
    moved = Passage(rest.text, 90, 114, "Jobs", None, code="0:23", id=8, source="a.md", title="A")  # not adjacent
    assert [hit.passage.id for hit in with_section_rests([Hit(cut, 0.9)], lambda ids: {8: moved}, 5)] == [7]


def test_a_method_called_on_the_askers_own_variable_or_their_own_file_is_asked_about_as_the_pages_write_it(
        fresh_assistant):
    # "my_list" is the asker's variable, written on no page: the question asks about list.sort(), which the page
    # documents, and is answered instead of declined for a name no passage holds.
    indexed_with(fresh_assistant, "design.md", (
        "# Why doesn't list.sort() return the sorted list?\n\nSorting a copy would waste memory when the list is "
        "large. Therefore, list.sort() sorts the list in place and returns None, not the sorted list.\n"))
    answered_with(fresh_assistant, "Why does my_list.sort() hand back None?", "sorts the list in place")
    # A qualifier named like a module is still required: a question about another library's function is declined.
    assert not extractive_answer(fresh_assistant, "Why does numpy.sort() hand back None?").grounded
    # The asker's own file is no code name the pages must write.
    indexed_with(fresh_assistant, "modules.md", (
        "# The module search path\n\nWhen a module is imported, the interpreter searches the directories of "
        "sys.path in order. The directory containing the script being run is placed at the beginning of the search "
        "path, ahead of the standard library path.\n"))
    answered_with(fresh_assistant, "I saved my script as random.py, and now import random loads my own file instead "
                  "of the standard module. Why?", "ahead of the standard library path")


def test_a_short_answer_under_a_faq_heading_asking_the_question_is_quoted_with_what_follows(fresh_assistant):
    # "You can't." is shorter than any sentence quoted as an answer, but it opens the entry that asks the question,
    # and the sentence after it, short too, says what to do instead.
    indexed_with(fresh_assistant, "extending.md", (
        "# Extending FAQ\n\n## Can I use Py_BuildValue() to create a tuple of arbitrary length?\n\nYou can't. Use "
        "PyTuple_Pack() instead.\n\n## How do I extract C values from a Python object?\n\nThat depends on the "
        "object's type. If it's a tuple, PyTuple_Size() returns its length and PyTuple_GetItem() returns the item "
        "at a given index.\n"))
    answered_with(fresh_assistant, "Can I use Py_BuildValue() to make a tuple of any length?",
                  "You can't", "Use PyTuple_Pack() instead")


def test_a_question_that_sets_its_scope_first_is_typed_by_what_it_then_asks():
    assert answer_type("In Argument Clinic, what is a converter?") == "definition"
    assert analyse("In the deception frame, what does the overseer do?").asks_what_it_is
    # A condition is part of what is asked, not a scope.
    assert answer_type("If I call pop() without an argument, what is a default?") is None


def test_a_list_a_quoted_sentence_introduces_is_quoted_item_by_item_whole(fresh_assistant):
    # The best sentence only introduces the list; the item saying what not to do gives its reason in its second
    # sentence, which is the answer as much as the first.
    indexed_with(fresh_assistant, "embedding.md", (
        "# Embedding on Windows\n\nEmbedding the Python interpreter in a Windows application can be summarized as "
        "follows:\n\n- Do not build Python into your .exe file directly. On Windows, Python must be a DLL to "
        "handle importing modules that are themselves DLLs.\n- Link your application against the import library "
        "of the Python DLL. The DLL is then loaded when the application starts.\n"))
    answered_with(fresh_assistant, "I'm embedding Python in a Windows application. Can I just compile the "
                  "interpreter statically into my .exe?", "Do not build Python into your .exe file directly",
                  "Python must be a DLL")


def test_a_rare_name_the_question_asks_about_must_be_written_by_the_passages_answering(fresh_assistant):
    # The FAQ on extension modules names C and C++ only; "Rust" is written on one other page, about something else,
    # which the search does not find. A question about writing one in Rust is declined, not answered with how to
    # write one in C.
    indexed_with(fresh_assistant, "extending.md", (
        "# Extending FAQ\n\n## Can I create my own functions in C?\n\nYes, you can create built-in modules "
        "containing functions, variables, exceptions and even new types in C. To write extension modules in C or "
        "C++, read the guide to extending and embedding the interpreter.\n"))
    indexed_with(fresh_assistant, "languages.md", (
        "# Iron\n\nRust forms on iron left out in the rain.\n"))
    for n in range(30):  # more pages on extension modules, so that "Rust" is rare and its page is not found
        (Path(fresh_assistant.settings.corpus_dir) / f"module{n}.md").write_text(
            f"# Extension module {n}\n\nExtension module {n} is written in C and wraps part {n} of the system "
            "library for the interpreter.\n", encoding="utf-8")
    fresh_assistant.index()
    answered_with(fresh_assistant, "Can I write an extension module in C?", "extension modules in C")
    answer = extractive_answer(fresh_assistant, "Can I write an extension module in Rust instead of C?")
    assert not answer.grounded and answer.answer == "None of the passages found mentions Rust.", answer.answer


def test_a_rare_name_counts_as_written_in_any_case_or_inside_a_longer_name():
    def written(text):
        return written_text(Passage(text=text, start=0, end=len(text), section="", page=None, id=0, source="a.md",
                                    title=""))

    rare = ("TeX", "Tkinter")
    assert unwritten_names("Which TeX engine typesets Japanese with Tkinter?", [
        written("Japanese questionnaires need the platex engine of LaTeX."), written("The tkinter module.")], rare) == ()
    assert unwritten_names("Which TeX engine typesets Japanese with Tkinter?",
                           [written("Japanese questionnaires need the platex engine.")], rare) == rare


def test_a_unit_holding_most_of_the_asking_clauses_words_covers_the_question_after_a_long_setup():
    # The setup's words are the asker's situation: a unit holding most of what the asking clause asks covers the
    # question though it shares few of the setup's words; one sharing the setup's words only does not.
    from rag.grounding import covers
    question = analyse("For a queue simulation of our help desk I need service times drawn from a bell curve with "
                       "mean 5. Which function in the random module gives me samples like that?")
    answering = "normalvariate() in the random module samples the normal distribution, one function among many."
    assert question.coverage(answering) < 0.5 and covers(question, Unit(answering, SENTENCE, 0), 0.1)
    assert not covers(question, Unit("A queue simulation of a help desk needs service times.", SENTENCE, 0), 0.1)
    assert analyse("Which function in the random module gives me samples like that?").asking_terms == {}


def test_a_how_to_that_counts_or_asks_which_url_wants_the_way_not_a_number_or_a_link(fresh_assistant):
    # "How can I see how many calls hit the cache?" asks for a way to find the number out, not for a sentence
    # stating one; "how do I find out which URL …" for a method, not a link.
    assert answer_type("How many calls hit the cache?") == NUMBER
    assert analyse("How can I see how many calls hit the cache and how many missed?").type is None
    assert analyse("After fetching, how do I find out which URL the page really came from?").type is None
    # … however it asks for the way
    assert analyse("My parameter accepts strings with NUL characters. How does my function find out how long that "
                   "string is?").type is None
    assert analyse("With curses, how can I tell how many colours the terminal supports?").type is None
    assert analyse("Every message of a kind has the same size. What's a simple way for the receiver to know how many "
                   "bytes to read?").type is None
    assert analyse("How long does a TCP connection stay in TIME_WAIT?").type == NUMBER
    indexed_with(fresh_assistant, "caching.md", (
        "# Caching results\n\nThe cache decorator keeps the results of recent calls. To help measure the "
        "effectiveness of the cache, the wrapped function is instrumented with a cache_info() function that returns "
        "a named tuple showing hits, misses, maxsize and currsize.\n\n# Fetching pages\n\nThe response has a geturl() "
        "method: it returns the real URL of the page fetched, which may differ after a redirect.\n"))
    answered_with(fresh_assistant, "I put the cache decorator on a slow function. How can I see how many calls hit "
                  "the cache and how many missed?", "cache_info() function that returns a named tuple")
    answered_with(fresh_assistant, "The fetch may follow redirects. How do I find out which URL the page really came "
                  "from?", "geturl() method: it returns the real URL")


def test_a_how_to_run_from_the_command_line_is_not_answered_with_an_unrelated_code_example(fresh_assistant):
    # The page shows a test case's code and never says how to run one test; asking how to do it "from the command
    # line" does not ask for code, so the example is no answer, nor what the decline quotes as closest.
    indexed_with(fresh_assistant, "testing.md", (
        "# Quality control\n\nThe unittest module is a fuller testing framework that keeps tests in a separate "
        "file:\n\n```\nimport unittest\n\nclass TestStatistics(unittest.TestCase):\n\n    def test_average(self):\n"
        "        self.assertEqual(average([20, 30, 70]), 40.0)\n\nunittest.main()  # run all tests from the command "
        "line\n```\n"))
    answer = extractive_answer(fresh_assistant, "How do I run just one test method of my unittest TestCase from the "
                               "command line?")
    assert not answer.grounded and "import unittest" not in answer.answer, answer.answer


def test_an_error_message_the_question_quotes_does_not_make_it_ask_for_a_command(fresh_assistant):
    # "gives 'command not found'" quotes an error; the why-question wants the reason, not the command line shown.
    indexed_with(fresh_assistant, "install.md", (
        "# Installing\n\nThe interpreter is usually installed under the name of its version:\n\n```\npython3.11\n```\n\n"
        "On Unix, the interpreter is by default not installed with the executable named python, so that it does not "
        "conflict with an older interpreter installed under that name.\n"))
    answer = answered_with(fresh_assistant, "On my Unix machine typing python gives 'command not found', but python3 "
                           "works. Why isn't it installed under the plain name python?",
                           "does not conflict with an older interpreter")
    assert "```" not in answer.answer, answer.answer



def test_an_acronym_or_name_in_the_setup_of_a_question_need_not_be_written_by_the_pages():
    # "I read a CSV file that Excel saved …" is the asker's situation; the question is how to skip the mark, which
    # the page on encodings answers without writing CSV or Excel. Asked about in the question itself, they still
    # have to be written by a passage found.
    text = "For reading such files, use the 'utf-8-sig' codec to automatically skip the mark if present."
    found = [written_text(Passage(text=text, start=0, end=len(text), section="Encodings", page=None, id=0,
                                  source="u.md", title=""))]
    assert asked_clause("I read a CSV file that Excel saved. How do I skip the mark?") == "How do I skip the mark?"
    assert asked_clause("I'm done in my environment; how do I leave it?") == "how do I leave it?"
    # What follows a question and asks nothing explains it: the question is what is asked, and no second part.
    worried = "Is a Python list a linked list under the hood? I'm worried that reading an item walks the list."
    assert asked_clause(worried) == "Is a Python list a linked list under the hood?" and analyse(worried).parts == ()
    assert len(analyse("What is a pad in curses? How is it different from a window?").parts) == 2
    # … and so does a setup's clause going on with ", and when …": it asks nothing, so it is no part of its own.
    assert analyse("My curses program shows four windows, and when I refresh each of them in turn the screen "
                   "flickers. How can I redraw all of them in one go?").parts == ()
    defined = analyse("What is a set in Python, and what is it typically used for?")
    assert len(defined.parts) == 2 and "set" in defined.parts[1].focus  # the part asks what a set is used for
    assert len(analyse("Roughly how many encodings are there, and where do I find the full list?").parts) == 2
    assert unwritten_names("I read a CSV file that Excel saved as UTF-8, and the first name starts with a mark. How do "
                           "I skip it?", found, ("Excel",)) == ()
    assert unwritten_names("How do I skip the mark of a CSV file that Excel saved?", found, ("Excel",)) == ("CSV", "Excel")


def test_a_part_calling_a_function_no_page_holds_leaves_the_question_unanswered():
    # Pages found for the other part's input() do not answer what replaces raw_input(), which no page holds; a name
    # only set as a value ("allow_fd=True") is no call asked about.
    idf = bm25_idf(lambda term: 0 if term in {"", "raw_input", "allow_fd"} else 50, 1000)
    porting = analyse("I'm porting a script that reads user input with raw_input(). What replaces raw_input() in "
                      "Python 3, and what became of the old input() that evaluated what the user typed?", idf)
    assert len(porting.parts) == 2 and porting.parts[0].unknown == ("raw_input",) and porting.parts[1].unknown == ()
    converter = analyse("My converter takes an option like path: my_path(allow_fd=True). Where does that allow_fd "
                        "value arrive? Am I supposed to override the class's __init__?", idf)
    assert len(converter.parts) == 2 and all(part.unknown == () for part in converter.parts)


def test_a_limit_asked_for_is_given_by_a_number_or_by_saying_there_is_none():
    # "Is there a maximum …?" asks for a limit even in yes/no words: a sentence saying there is none answers it, one
    # about the same things that says neither ("… may use many groups") does not.
    from rag.question import type_phrase

    assert analyse("Is there a maximum length for a variable name in Python?").type == LIMIT
    assert analyse("Python rejects my generated code. What is the parser's nesting limit, and can I raise "
                   "it?").type == LIMIT
    assert analyse("What is the maximum number of questions in one AMC exam?").type == NUMBER  # a count asked for
    assert analyse("My generated pattern has hundreds of groups. Is there a maximum number of groups a re pattern may "
                   "contain?").type == LIMIT
    assert analyse("Does CPython limit how many parameters a function may have, like the old limit of 255?").type == LIMIT
    assert analyse("Can I still use those variables after the match statement, or are they limited to the case "
                   "block?").type != LIMIT
    assert carries("Identifiers are unlimited in length.", LIMIT)
    assert carries("The addHandler() method has no minimum or maximum quota for the number of handlers you may add.",
                   LIMIT)
    assert carries("Up to 100 named groups were allowed before 3.5.", LIMIT)
    assert not carries("Elaborate REs may use many groups, both to capture substrings of interest, and to group and "
                       "structure the RE itself.", LIMIT)
    assert type_phrase(LIMIT) == "don't give a limit"


def test_a_call_the_asker_likens_what_they_ask_to_is_no_name_the_answer_must_write():
    # The deque's own index() entry answers; the pages need not name list.index() (names_found filters every
    # passage that does not write an asked name).
    likened = analyse("I keep recent events in a collections.deque. Can I look up the position of an item the way "
                      "list.index() does, and restrict the search to part of the deque?")
    assert "list.index" not in likened.names
    assert "dict.fromkeys" not in analyse("Can I build a Counter from keys, like dict.fromkeys works?").names
    assert "str.find" not in analyse("fruits.index('mango') when 'mango' isn't in the list: do I get -1 back like with "
                                     "str.find(), or something else?").names
    assert "os.symlink" not in analyse("Does Path.symlink_to() take its two paths in the same order as with "
                                       "os.symlink?").names
    assert "str.find" in analyse("What does str.find() give back, like with a missing substring?").names
    assert "list.index" in analyse("Does list.index() take a start position?").names
    assert "list.index" in analyse("Is there a way list.index() can search only part of a list?").names


def test_a_numbered_standard_no_passage_cites_is_unwritten_wherever_the_question_names_it():
    # RFC 6902 names what "that" is, though only the setup writes it; passages citing other RFCs and PEPs do not
    # speak of it. One a passage cites, with or without the space, is written.
    found = ["Since RFC5424 came out, as there has not been widespread deployment of it in syslog servers, …",
             "See PEP 8 for the style guide."]
    assert unwritten_names("My service keeps JSON documents and must record changes as a JSON Patch (RFC 6902). How "
                           "do I do that in Python?", found) == ("RFC 6902",)
    assert unwritten_names("PEP 659 is credited for the speed-up. What is the specializing interpreter from PEP 659?",
                           found) == ("PEP 659",)  # named once in the decline however often the question names it
    assert unwritten_names("Our syslog server wants RFC 5424 messages. How do I send them?", found) == ()
    assert unwritten_names("Does PEP 8 say how long a line may be?", found) == ()


def test_what_can_i_do_asks_for_an_instruction_and_gets_the_command_it_introduces(fresh_assistant):
    # "… it won't let me set a breakpoint. What can I do?" asks how, as "How do I …?" does: the instruction and the
    # command it introduces are quoted, not only the sentence restating the problem.
    indexed_with(fresh_assistant, "debugging.md", (
        "# Debugging extensions\n\nWhen using GDB with dynamically loaded extensions, you can't set a breakpoint in "
        "your extension until your extension is loaded. In your .gdbinit file (or interactively), add the command:\n\n"
        "```\nbr _PyImport_LoadDynamicModule\n```\n"))
    assert analyse("It won't let me set a breakpoint. What can I do?").type is None
    answered_with(fresh_assistant, "I'm debugging my extension module with GDB, but it won't let me set a breakpoint "
                  "in the extension's code. What can I do?", "add the command", "br _PyImport_LoadDynamicModule")


def test_an_entry_deferring_its_arguments_lets_the_entry_it_defers_to_answer(fresh_assistant):
    # json.dumps' entry says its arguments "have the same meaning as in dump()": a question about json.dumps is
    # answered by json.dump's entry, which never names json.dumps, and the deferring entry names json.dump too.
    indexed_with(fresh_assistant, "json.md", (
        "# json — JSON encoder and decoder\n\n## json.dump(obj, fp, *, sort_keys=False, indent=None)\n\n"
        "Serialize obj as a JSON formatted stream to fp, a file-like object. If sort_keys is true (default: False), "
        "then the output of dictionaries will be sorted by key. If indent is a non-negative integer, array elements "
        "and object members will be pretty-printed with that indent level.\n\n"
        "## json.dumps(obj, *, sort_keys=False, indent=None)\n\n"
        "Serialize obj to a JSON formatted str using this conversion table. The arguments have the same meaning as in "
        "dump().\n"))
    answered_with(fresh_assistant, "How do I make json.dumps sort the keys of dictionaries?",
                  "the output of dictionaries will be sorted by key")
    # A name whose entry defers to none still has to be named by the passage that answers
    assert not extractive_answer(fresh_assistant, "How do I make json.loads sort the keys of dictionaries?").grounded


def test_a_module_page_naming_the_function_answers_for_it_where_the_passage_does_not(fresh_assistant):
    # "This module's deserializer raises …" answers a question about json.loads on the json page, which documents
    # json.loads elsewhere; while the page never names json.loads, nothing said there is about it.
    encodings = ("## Character encodings\n\nThe RFC requires that JSON be represented using UTF-8, UTF-16 or UTF-32. "
                 "This module's deserializer raises a ValueError when an initial BOM is present; decode such input "
                 "with the utf-8-sig codec first.\n")
    usage = "".join(f"The {word} option changes how {word} values are written, and is off by default. "
                    for word in ("indent", "separators", "default", "sort_keys", "skipkeys", "ensure_ascii",
                                 "allow_nan", "check_circular", "cls", "object_hook", "parse_float", "parse_int",
                                 "parse_constant"))
    page = f"# json — JSON encoder and decoder\n\n## Basic usage\n\n{usage}{{entry}}\n\n{encodings}"
    question = "A partner sends us JSON with a byte order mark in front. Will json.loads simply skip that mark?"
    indexed_with(fresh_assistant, "json.md", page.format(entry=""))
    assert not extractive_answer(fresh_assistant, question).grounded
    indexed_with(fresh_assistant, "json.md", page.format(
        entry="json.loads(s) deserializes s, a str or bytes instance holding a JSON document, to a Python object."))
    answered_with(fresh_assistant, question, "raises a ValueError when an initial BOM is present")


@pytest.mark.skipif(not (PYDOCS / "faq" / "gui.html").is_file(), reason="the pydocs set is not on this machine")
def test_a_decline_quotes_what_the_pages_say_never_a_heading_or_label(fresh_assistant):
    # The FAQ's heading "Tkinter questions" holds the question's words and comes closest by them, but says nothing:
    # "The closest they come: "Tkinter questions"" told the asker nothing the decline had not.
    indexed_page(fresh_assistant, "faq/gui.html")
    for question in ("How do I add a menu bar to a Tkinter window?",
                     "How do I make a Tkinter button call my function when the user clicks it?"):
        answer = extractive_answer(fresh_assistant, question)
        assert not answer.grounded and answer.answer.startswith("The documents discuss "), answer.answer
        found = re.search(r'The closest they come: "(.*)" \[1\]\.$', answer.answer, re.S)
        assert found, answer.answer
        headings = {name for citation in answer.citations for name in citation.passage.section.split(" > ")}
        headings |= {name for hit in answer.uncited for name in hit.passage.section.split(" > ")}
        assert found.group(1) not in headings and len(found.group(1).split()) >= 4, found.group(1)
        (citation,) = answer.citations
        assert citation.supported and not citation.answers


def test_a_decline_shows_the_code_it_comes_closest_with_as_a_code_block(fresh_assistant):
    # Quoted inline, "class Ten:\n    def __get__(…" ran its lines together in the chat; a code block keeps them.
    indexed_with(fresh_assistant, "descriptors.md", (
        "# Descriptor HowTo\n\n## Simple example\n\nA descriptor is an object that defines __get__(), __set__() or "
        "__delete__(). The Ten class is a descriptor whose __get__() method always returns the constant 10:\n\n```\n"
        "class Ten:\n    def __get__(self, obj, objtype=None):\n        return 10\n```\n\nTo use the descriptor, it "
        "must be stored as a class variable in another class.\n"))
    answer = extractive_answer(fresh_assistant, "How do I write a descriptor __get__ method with type hints for the "
                                                "owner class?")
    assert not answer.grounded and answer.answer.startswith("The documents discuss "), answer.answer
    assert answer.answer.endswith("The closest they come:\n\n```\nclass Ten:\n    def __get__(self, obj, "
                                  "objtype=None):\n        return 10\n```\n[1]"), answer.answer
    (citation,) = answer.citations
    assert citation.supported and not citation.answers
    assert quoted(fresh_assistant, citation).startswith("class Ten:")


@pytest.mark.skipif(not (PYDOCS / "faq" / "gui.html").is_file(), reason="the pydocs set is not on this machine")
def test_the_asking_clause_weighs_more_than_the_setup_before_it(fresh_assistant):
    # The setup repeats the FAQ's statement of the problem ("When freezing Tkinter applications, the applications will
    # not be truly stand-alone …"); what is asked is how to get a stand-alone build, which the sentences after it say.
    indexed_page(fresh_assistant, "faq/gui.html")
    question = ("I froze my Tkinter app, and it still needs the Tcl and Tk libraries on every machine it runs on. "
                "What must I do to get a build that stands on its own?")
    assert analyse(question).asking == "What must I do to get a build that stands on its own?"
    answer = answered_with(fresh_assistant, question, "To get truly stand-alone applications")
    assert not answer.answer.startswith("When freezing Tkinter applications"), answer.answer
    assert analyse("How do I keep a log file small?").asking is None
    assert analyse("My log file grows every night. Why?").asking is None  # too short to say what it asks alone


def test_a_code_name_only_in_the_setup_need_not_be_named_by_the_answer(fresh_assistant):
    # "… now weakref.ref(node) fails" is the asker's situation; what is asked is how to keep __slots__ with weak
    # references, which the __slots__ entry says without writing weakref.ref. Named in the asking clause, a name is
    # still required ("How do I call weakref.ref …?" is not answered by a page that never names it).
    indexed_with(fresh_assistant, "slots.md", (
        "# Data model\n\n## __slots__\n\n__slots__ allow us to explicitly declare data members and deny the creation "
        "of __dict__ and __weakref__. Without a __weakref__ variable for each instance, classes defining __slots__ do "
        "not support weak references to its instances. If weak reference support is needed, then add '__weakref__' "
        "to the sequence of strings in the __slots__ declaration.\n"))
    question = ("I added __slots__ to my TreeNode class to save memory, and now weakref.ref(node) fails. How can I "
                "keep __slots__ and still take weak references to the nodes?")
    assert analyse(question).asked_names == ("__slots__",)
    answered_with(fresh_assistant, question, "add '__weakref__'")
    asked = "My TreeNode class has __slots__. How do I call weakref.ref on its instances?"
    assert analyse(asked).asked_names == ("weakref.ref",)
    assert not extractive_answer(fresh_assistant, asked).grounded


def test_a_setting_the_question_suggests_must_be_written_by_the_pages(fresh_assistant):
    # "…, for example with add_mutually_exclusive_group(required=True)?" guesses how it is done: pages showing the
    # group but never setting required=True do not say how to make it mandatory, however close their words.
    page = ("# Argparse tutorial\n\n## Conflicting options\n\nLet's introduce add_mutually_exclusive_group(). It "
            "allows for us to specify options that conflict with each other:\n\n```\ngroup = "
            "parser.add_mutually_exclusive_group({setting})\ngroup.add_argument('-v', '--verbose', action='store_true')"
            "\ngroup.add_argument('-q', '--quiet', action='store_true')\n```\n\n{said}\n")
    question = ("I put --verbose and --quiet in a mutually exclusive group. How do I make it mandatory that the user "
                "gives one of them, for example with add_mutually_exclusive_group(required=True)?")
    assert suggested_settings(question) == [("required=True", "required", "True")]
    assert suggested_settings("What is the difference between errors='replace' and errors='ignore'?") == []
    # … as is one given after "such as" ("Is there an argument to basicConfig that …, such as force=True?")
    assert suggested_settings("Is there an argument that makes it mandatory, such as required=True?") == [
        ("required=True", "required", "True")]
    indexed_with(fresh_assistant, "argparse.md", page.format(setting="", said="Either option may be given."))
    answer = extractive_answer(fresh_assistant, question)
    assert not answer.grounded and "required=True" in answer.answer, answer.answer
    indexed_with(fresh_assistant, "argparse.md", page.format(
        setting="required=True", said="With required=True, one of the conflicting options must be given."))
    answered_with(fresh_assistant, question, "required=True")


def test_a_web_place_answers_where_to_find_something(fresh_assistant):
    # "Where can I find …?" asks for a link or the place it leads to: "… can be found on the python wiki" answers it,
    # where a sentence naming no place still does not.
    indexed_with(fresh_assistant, "gui.md", (
        "# GUI programming FAQ\n\n## What GUI toolkits exist for Python?\n\nStandard builds of Python include an "
        "interface to the Tcl/Tk widget set, called tkinter. A list of cross-platform and platform-specific GUI "
        "frameworks can be found on the python wiki.\n"))
    answered_with(fresh_assistant, "Tkinter looks dated to me. Where can I find an overview of the other GUI "
                  "frameworks for Python, both cross-platform and platform-specific ones?", "on the python wiki")
    assert analyse("Where can I find a list of GUI frameworks?").type == "url"


def test_a_document_named_by_its_title_answers_where_to_read_more(fresh_assistant):
    # "Where can I read a fuller account …?" is answered by a pointer naming the document ("See The Perils of Floating
    # Point for a more complete account …"), whose link the page text no longer shows; a sentence naming none is not.
    page = ("# Floating Point Arithmetic\n\n## Representation Error\n\nDecimal fractions such as 0.1 cannot be "
            "represented exactly as binary fractions, so most of them are stored as the nearest binary fraction. "
            "{pointer}\n")
    question = "Where can I read a fuller account of the common floating-point surprises?"
    assert carries("See The Perils of Floating Point for more.", URL) and not carries("See below for more.", URL)
    # … and so does one to a kind of document ("you can refer to almost any textbook on writing compilers")
    assert carries("For the theory you can refer to almost any textbook on writing compilers.", URL)
    assert carries("Read a good tutorial first.", URL) and not carries("Read the notes below.", URL)
    indexed_with(fresh_assistant, "floats.md", page.format(
        pointer="See The Perils of Floating Point for a more complete account of other common surprises."))
    answered_with(fresh_assistant, question, "The Perils of Floating Point")
    indexed_with(fresh_assistant, "floats.md", page.format(
        pointer="A more complete account of other common surprises would fill a book of its own."))
    assert not extractive_answer(fresh_assistant, question).grounded


def test_the_claim_check_reads_a_set_up_question_as_the_scorer_does(embedder):
    # The scorer weighs the asking clause; were the claim check to read the whole question alone, a sentence the
    # scorer chose as the answer ("The latest development sources can be obtained at …") could be judged no answer
    # to it and the answer declined after quoting it.
    question = analyse("I want to read the interpreter's C code and try building it myself. Where can I get the "
                       "current development sources of Python?")
    assert question.asking and not question_vector(question, embedder) @ embedder.encode_query(question.text) > 0.999
    text = "The latest development sources can be obtained at https://github.com/python/cpython/."
    passage = Passage(text=text, start=0, end=len(text), section="Where can I get the source?", page=None, id=0,
                      source="general.md", title="General Python FAQ")
    judged = judge(question, units_of([passage]), embedder)[0]
    seen = []

    class Recording:
        def __getattr__(self, name):
            return getattr(embedder, name)

        def encode_query(self, query):
            seen.append(query)
            return embedder.encode_query(query)

    verdict = check_claims(f"{text} [1]", [passage], question, Recording())[0]
    assert question.asking in seen and verdict.answers == judged.answers


def test_a_units_score_is_what_its_features_weigh_and_an_earlier_passage_ranks_first(embedder):
    # bench/fit_scorer.py fits SCORE_WEIGHTS to Judged.features: a bonus added outside them would go unfitted. Of two
    # passages saying the same, the one retrieval ranked higher comes first (the fit's passage_rank weight).
    question = analyse("How long do the eggs of a blackbird take to hatch?")
    text = "Blackbird eggs hatch after about thirteen days of incubation."
    passages = [Passage(text=text, start=0, end=len(text), section="Birds", page=None, id=n, source=f"{n}.md",
                        title="Notes") for n in range(3)]
    judged = judge(question, [u for u in units_of(passages) if u.kind == SENTENCE], embedder,
                   [p.section for p in passages])
    assert all(set(j.features) == set(SCORE_WEIGHTS) for j in judged)
    assert all(abs(j.score - sum(SCORE_WEIGHTS[name] * value for name, value in j.features.items())) < 1e-9
               for j in judged)
    assert [j.unit.passage for j in judged] == [0, 1, 2] and judged[0].score > judged[1].score > judged[2].score


@pytest.mark.skipif(not (PYDOCS / "faq" / "library.html").is_file(), reason="the pydocs set is not on this machine")
def test_a_unit_holding_most_of_the_question_is_quoted_beside_a_better_scored_one(fresh_assistant):
    # The scorer puts the FAQ's general sentences on file objects first; the one saying what sys.stdout.close() does
    # holds most of the question's words and is quoted beside them, though it scores more than the margin below.
    indexed_page(fresh_assistant, "faq/library.html")
    answered_with(fresh_assistant, "Why doesn't calling sys.stdout.close() really close standard output?",
                  "does not close the associated C file descriptor")


@pytest.mark.skipif(not (PYDOCS / "howto").is_dir(), reason="the pydocs set is not on this machine")
def test_a_list_cut_by_its_chunk_is_no_list_answer_of_one_item(fresh_assistant):
    # The annotations HOWTO's list of what to hand eval() for a module, a class or a callable is cut across two
    # chunks; the best item ("If o is a callable (but not a class) …") is alone in its chunk's share of the list.
    # One item is no list: the answer quotes what comes close to it, as any answer does, and so the class's item.
    indexed_page(fresh_assistant, "howto/annotations.html")
    answered_with(fresh_assistant, "I'm stuck on Python 3.9, so I can't call inspect.get_annotations() and have to "
                  "evaluate stringized annotations with eval() myself. When the object is a class, which globals and "
                  "locals should I hand to eval()?", "If o is a class, use sys.modules[o.__module__].__dict__")


@pytest.mark.skipif(not (PYDOCS / "tutorial" / "classes.html").is_file(), reason="the pydocs set is not on this machine")
def test_a_name_the_asker_gives_their_own_code_need_not_be_written_by_the_pages(fresh_assistant):
    # "In my Player class …", "an Enum called Color … an ExtendedColor": the asker's own names, which no page writes;
    # the question is answered by what the tutorial says of class variables, not declined as about an unknown
    # "Player". A proper name of the asker's situation that is no code of theirs ("on my Mac") is still one, and
    # a word opening a sentence ("… in a method. Now when …") is none.
    assert own_names("In my Player class I wrote inventory = [] under the class line. Why?") == {"Player", "inventory"}
    assert own_names("I have an Enum called Color. Can I subclass it to make an ExtendedColor?") == {"Color", "ExtendedColor"}
    assert "Mac" in proper_names("I installed Python myself on my Mac; how do I uninstall it?")
    # … an error class of its own, and a function of the asker's written as a call, which is then no code name
    # the pages must write.
    assert own_names("My storage layer raises its own StorageUnavailable error instead.") == {"StorageUnavailable"}
    # … an enum a member in capitals is looked up on ("Perm.READ"); not a class whose method is called, nor an acronym
    assert own_names("Perm is an enum.Flag. Can I write Perm.READ | 8, as with an IntFlag?") == {"Perm"}
    assert own_names("Does Path.cwd() or HTTPStatus.OK resolve symlinks?") == set()
    # … the class a method the asker's code binds is called on ("create_small = … Widget.create_small()"), not a
    # module's or a class's method they only call
    assert "Widget" in own_names("I wrote create_small = partialmethod(create, 'small'). Does Widget.create_small() work?")
    assert "Path" not in own_names("I wrote cwd = os.getcwd(). Is Path.cwd() the same?")
    assert own_names("With @functools.lru_cache on my area() function, is area(3) cached?") == {"area"}
    assert analyse("With @functools.lru_cache on my area() function, is area(3) cached?").names == ("functools.lru_cache",)
    # … a subclass of theirs, and what their call passes ("key=get_customer"), not the function it calls.
    assert own_names("My CsvExporter subclass overrides a method.") == {"CsvExporter"}
    # … and the method a class of theirs overrides, written as a call: "How do I call the parent's version?" is
    # answered by pages that never write "export".
    assert own_names("My CsvExporter subclass overrides export(). How do I call the parent's version?") == {
        "CsvExporter", "export"}
    # … and a class of theirs spoken of by its instances after a word of the sentence ("small Particle objects").
    assert own_names("My simulation creates a few million small Particle objects. Do __slots__ help?") == {"Particle"}
    assert own_names("Particle objects are slow. Why?") == frozenset()
    # … and a class they say they made ("to make a Slug class"), not a library class they make objects of.
    assert own_names("I subclassed str to make a Slug class that lower-cases its text.") == {"Slug"}
    assert own_names("I wrote a small BitMask class that wraps an integer.") == {"BitMask"}
    assert own_names("I made a Counter object from the words. How do I get the top three?") == frozenset()
    # … and one they have ("I have a FixedPoint number class"), subclass a class as ("I subclassed UserList as
    # TaggedList"), name as a subclass of another class ("its subclass ColorPoint") or subclass ("My subclass of a
    # third-party Vector class"): pages that never write these names still answer.
    assert own_names("I have a FixedPoint number class. Which special methods make round(x) work?") == {"FixedPoint"}
    assert own_names("I subclassed collections.UserList as TaggedList. Why does slicing fail?") == {"TaggedList"}
    assert own_names("Point defines __eq__, and its subclass ColorPoint overrides __eq__.") == {"ColorPoint"}
    assert own_names("My subclass of a third-party Vector class sets __add__ = None.") >= {"Vector"}
    assert own_names("I have a Counter of the words. How do I get the top three?") == frozenset()
    # … and only a capitalised one after "my": "My argparse script", "my own type function" name a module and a
    # kind of function, not code of the asker's ("… for example by raising argparse.ArgumentTypeError?" asks about
    # argparse's exception, which a page must write).
    assert own_names("My argparse script checks a range. How do I write my own type function for it?") == frozenset()
    assert analyse("Does sorted(orders, key=get_customer, reverse=True) keep ties in order?").names == ()
    assert analyse("What does functools.reduce(operator.mul, numbers, 1) give for no numbers?").names == (
        "functools.reduce",)
    # … and a package of theirs they run with -m, not one Python ships.
    assert analyse("I run python -m tools.cleanup --dry-run. What is in sys.argv?").names == ("sys.argv",)
    assert analyse("What does python -m json.tool print?").names == ("json.tool",)
    # … and what their loop calls for its items, not a built-in or a module's function.
    assert analyse("A colleague wrote [item async for item in stream()]. What makes it asynchronous?").names == ()
    assert analyse("Does for i in range(3) build a list? And for e in os.scandir(path)?").names == ("os.scandir",)
    # … and what their loop applies to its own loop variable, not a built-in.
    assert own_names("My dict comprehension {make_key(r): make_value(r) for r in rows} has side effects. Which "
                     "part runs first?") == {"make_key", "make_value"}
    assert own_names("Does [str(r) for r in rows] build a list?") == frozenset()
    indexed_page(fresh_assistant, "tutorial/classes.html")
    answered_with(fresh_assistant, "In my Player class I wrote inventory = [] right under the class line and call "
                  "self.inventory.append(item) in a method. Now when one player picks something up, it appears in "
                  "every player's inventory. Why?", "just a single list would be shared by all Dog instances")


def test_where_the_asker_works_told_before_they_ask_is_no_name_the_pages_must_write():
    # "I'm on a Fedora / Red Hat server …", "… our CI machines can't reach": the asker's platform or setup, not what
    # they ask about; the FAQ's "For Red Hat, install the python-devel RPM …" was declined for never naming Fedora.
    assert proper_names("I'm on a Fedora / Red Hat server and compiling a C extension module fails because files "
                        "Python needs aren't there. What do I have to install?") == ("Python",)
    assert acronyms("My module talks to a payment provider's web API, which our CI machines can't reach. How can I "
                    "still test the module on its own there?") == ("API",)
    assert proper_names("Our build box runs CentOS, so it's yum, not apt. Which package do I install to get the "
                        "SystemTap development tools?") == ("SystemTap",)
    # Asked about, or what the asker did something on, the platform is what the answer is for.
    assert "Android" in proper_names("How do I install Python on my Android phone?")
    assert "Mac" in proper_names("I installed Python myself on my Mac; how do I uninstall it?")
    assert "CentOS" in proper_names("Which package do I install to get the SystemTap development tools on CentOS?")


def test_a_one_word_title_is_not_named_by_a_question_holding_its_word():
    # "… pressing it mid-line does nothing of the sort": a title of one word ("Sorting HOW TO") is in many a question
    # that means no page; the search was held to the Sorting HOWTO and the tutorial's answer declined. A question
    # holding every word of a longer title still names it.
    titles = {"howto/sorting.html": "Sorting HOW TO", "overview.md": "AI Alignment Overview"}
    assert named_documents("The tutorial says Ctrl-C at the >>> prompt throws away the line I'm typing, but in my "
                           "terminal it does nothing of the sort. What could be getting in the way?", titles) == {}
    assert named_documents("When was the AI Alignment Overview published?", titles).keys() == {"overview.md"}


def test_a_number_literal_with_underscores_is_no_code_name():
    # "Can I also write 0x_FF_FF, and is 1__000 …?" asks whether the literal is valid; no page writes it, and the
    # lexical analysis' "One underscore can occur between digits, and after base specifiers like 0x." was declined.
    assert analyse("I know 1_000_000 is allowed. Can I also write 0x_FF_FF, and is 1__000 with two underscores in a "
                   "row OK?").names == ()
    assert analyse("Is 0x_FF_FF valid, and what does int_max_str_digits limit?").names == ("int_max_str_digits",)


def test_the_title_of_a_folder_index_page_names_that_part_of_the_site_not_the_page():
    # "the Python language reference" is the title of reference/index.html, which only lists the reference's
    # pages: what the reference says is on those pages (reference/datamodel.html defines containers).
    titles = {"reference/index.html": "The Python Language Reference", "reference/datamodel.html": "3. Data model",
              "tutorial/index.html": "The Python Tutorial", "howto/sorting.html": "Sorting HOW TO"}
    question = "What does the Python language reference say it means when it calls an object a container?"
    assert analyse(question, titles=titles).documents == frozenset()
    assert analyse("What does the sorting how to say about stability?", titles=titles).documents == {"howto/sorting.html"}


def test_the_askers_own_variable_or_quoted_value_is_no_code_name_a_page_must_write():
    # "Path('done.flag').touch()": done.flag is the asker's file, "reading my_list[50000]" their variable; no page
    # writes them, so requiring them declined both questions. A code name written unquoted, or a quoted one some
    # passage writes, is still required.
    text = ("Create a file at this given path. If the file already exists, the function succeeds if exist_ok is true "
            "(and its modification time is updated to the current time), otherwise FileExistsError is raised.")
    found = [written_text(Passage(text=text, start=0, end=len(text), section="Path.touch(mode=0o666, exist_ok=True)",
                                  page=None, id=0, source="pathlib.html", title="pathlib"))]
    assert names_as_written(("done.flag", "touch"), found, "My script calls Path('done.flag').touch(). What does "
                            "touch() do when the file already exists?") == ("touch",)
    assert names_as_written(("my_list",), found, "Does reading my_list[50000] walk past all the items?") == ()
    # … nor a name imported from a file of the asker's …
    assert names_as_written(("find_customer",), found, "My module orders.py does from customers import find_customer, "
                            "and customers.py imports orders. Why does it fail?") == ()
    # … nor one named like a placeholder ("some_text", "other_counter").
    assert names_as_written(("some_text",), found, "Is '' in some_text always True?") == ()
    assert names_as_written(("counts.update", "other_counter"), found + ["update() adds counts"],
                            "What does counts.update(other_counter) do?") == ("update",)
    assert names_as_written(("numpy.sort",), found, "What does numpy.sort return?") == ("numpy.sort",)
    assert names_as_written(("exist_ok",), found, "What does 'exist_ok' do?") == ("exist_ok",)
    # … nor an attribute of the asker's instance, class or parsed options that no passage writes: a method of their
    # own class ("self.render()"), the option their script declares ("args.dry_run"); one a page writes is required
    methods = found + ["Derived classes may override methods of their base classes."]
    assert names_as_written(("self.render",), methods, "A method of my base class calls self.render(), and a subclass "
                            "overrides render(). Which one runs?") == ()
    assert names_as_written(("args.dry_run",), found, "What does args.dry_run hold when the option is left out?") == ()
    # … nor an attribute of a placeholder object ("obj.__annotations__": the page writes o.__annotations__)
    assert names_as_written(("obj.__annotations__",), found + ["o.__annotations__ is guaranteed to work"],
                            "Can my tool simply read obj.__annotations__ on functions?") == ("__annotations__",)
    assert names_as_written(("self.touch",), found + ["touch() updates the modification time"],
                            "Does self.touch() in my Path subclass update the time?") == ("touch",)
    assert names_as_written(("conn.render",), found, "What does conn.render() do?") == ("conn.render",)
    # … nor the object the question names in words before it writes it as code ("a list of sensor readings … call
    # readings.remove(x)"): list.remove is asked about, and requiring "readings.remove" declined the question.
    assert names_as_written(("readings.touch",), found, "I keep sensor readings in a list and call "
                            "readings.touch() on it. What happens?") == ("touch",)
    assert names_as_written(("readings.touch",), found, "What does readings.touch() do?") == ("readings.touch",)
    # … nor a function of theirs their setup calls, a name made of words that no passage writes ("My try block only
    # calls load_config(), …"); one the asking clause names is asked about ("for example with parse_known_args()").
    assert names_as_written(("load_config",), found, "My try block only calls load_config(), and the ValueError is "
                            "raised deeper. Will my except clause still catch it?") == ()
    assert names_as_written(("parse_known_args",), found, "My script wraps another tool. How do I pass unknown "
                            "options through, for example with parse_known_args()?") == ("parse_known_args",)
    # … nor one the asking clause calls as the asker's code does ("If attempts_left() is already false …"): asking
    # about it declined the question; one it offers as the API wanted, or writes uncalled, is still asked about.
    assert names_as_written(("attempts_left",), found, "My loop is while attempts_left(): … with an else. If "
                            "attempts_left() is false at the first check, does the else block run?") == ()
    assert names_as_written(("get_identifiers",), found, "Is there a method for listing placeholders, such as "
                            "get_identifiers()?") == ("get_identifiers",)
    assert names_as_written(("zip_longest",), found, "Which function fills the gaps, zip_longest?") == ("zip_longest",)


def test_a_name_capitalised_before_its_lower_case_letters_is_a_proper_name(fresh_assistant):
    # "HPy", "JSONPath", "CPython" are names as "PyPy" is: pages that never write one do not answer a question asking
    # about it ("How do I port my existing C extension module to HPy?" is not answered by how to write one in C). An
    # acronym's plural ("APIs", "PEPs") is no name.
    indexed_with(fresh_assistant, "extending.md", (
        "# Extending Python with C\n\nIt is quite easy to add new built-in modules to Python, if you know how to "
        "program in C. Such extension modules can do two things that can't be done directly in Python: they can "
        "implement new built-in object types, and they can call C library functions and system calls.\n\n"
        "Writing a C extension module means porting your C code to the Python/C API. Modules written that way run on "
        "CPython; PyPy emulates the API more slowly.\n"))
    answer = extractive_answer(fresh_assistant, "I've heard of HPy, a newer handle-based C API that also runs fast on "
                                                "PyPy. How do I port my existing C extension module to HPy?")
    assert not answer.grounded and "HPy" in answer.answer, answer.answer
    assert proper_names("How do I port my existing C extension module to HPy?") == ("HPy",)
    assert proper_names("Can I query it with JSONPath like in CPython?") == ("JSONPath", "CPython")
    assert proper_names("Which APIs and PEPs cover that?") == ()


def test_a_name_the_asker_gives_as_an_example_need_not_be_written_by_the_pages(fresh_assistant):
    # "a built-in function such as open()": the asker asks how to override any builtin, and the page answering says
    # so without naming open(); requiring it declined the question. A name asked about itself is still required.
    assert analyse("How do I swap out a built-in function such as open() for every module?").names == ()
    assert analyse("Can Tab completion of something like obj.na run my code?").names == ()
    assert analyse("Some grammar rules, such as the one for simple_stmt, run over several lines. Are those lines "
                   "separate rules?").names == ()  # the example, after "the one for"
    assert analyse("I would like os.walk to skip hidden folders. How?").names == ("os.walk",)
    # So is a proper name it compares with ("a garbage collector like Java's"): no "never mentions Java" decline.
    assert proper_names("Does CPython count references, or does it have a garbage collector like Java's?") == (
        "CPython",)
    assert proper_names("Can CPython call into Java classes?") == ("CPython", "Java")
    # … and the language its example is in (the Rust book: "… like super.method() in Java. Can I do that?" was
    # declined as "The indexed documents never mention Java.").
    assert proper_names("Inside the override I'd like to call the default first, like super.method() in Java. Can "
                        "I do that in Rust?") == ("Rust",)
    assert acronyms("How do I match balanced parentheses, like (a(b)). In PCRE I'd use (?R). How do I do it in "
                    "Python?") == ("PCRE",)  # a name after the example's sentence has ended is asked about
    # … and so are acronyms it gives as examples, with the others listed beside them.
    assert acronyms("How do I make an enum whose members can be combined, like READ | WRITE?") == ()
    assert acronyms("Which verbs such as GET or POST and the HEAD one does it send?") == ("HEAD",)
    assert acronyms("How do I read all of a binary file, such as a PNG, into a bytes object?") == ()  # with its article
    # … but not one offered as the thing asked whether there is: a page saying there is one names it
    assert acronyms("Is there an environment variable, something like LOGLEVEL or PYTHONLOGLEVEL, that the logging "
                    "module reads on its own?") == ("LOGLEVEL", "PYTHONLOGLEVEL")
    indexed_with(fresh_assistant, "builtins.md", (
        "# The builtins namespace\n\nThe builtins namespace associated with the execution of a code block is found "
        "by looking up the name __builtins__ in its global namespace. Users wanting to override values in the "
        "builtins namespace should import the builtins module and modify its attributes appropriately.\n\n"
        "# Files\n\nThe open() function returns a file object.\n"))
    answered_with(fresh_assistant, "For a test harness I want to swap out a built-in function such as open() for "
                  "every module in my program. What's the proper way to override a builtin?",
                  "should import the builtins module and modify its attributes")


def test_a_dotted_call_given_as_an_example_is_the_api_asked_about(fresh_assistant):
    # "… a helper that hands me a connected socket, such as socket.create_connection()?" names the API the asker has
    # in mind: a page that never writes it does not answer, however close its words about connecting ("You can use
    # the socket.connect_ex() method …"). A plain call as an example ("such as open()") stays an example.
    question = ("Instead of calling connect() myself, is there a helper that resolves the host and hands me back a "
                "connected socket, such as socket.create_connection()?")
    assert analyse(question).names == ("connect", "socket.create_connection")
    assert analyse("How do I swap out a built-in function such as open() for every module?").names == ()
    indexed_with(fresh_assistant, "sockets.md", (
        "# Connecting\n\nA client creates a socket and calls connect() with the host and port of the server. You can "
        "use the socket.connect_ex() method to avoid creating an exception when the connection fails. Then when you "
        "do the socket.connect(), you will either connect immediately or get an exception.\n"))
    assert not extractive_answer(fresh_assistant, question).grounded


@pytest.mark.skipif(not (PYDOCS / "faq" / "installed.html").is_file(), reason="the pydocs set is not on this machine")
def test_a_faq_heading_asking_the_question_with_a_remark_after_it_still_asks_it(fresh_assistant):
    # "How do I delete a file? (And other file questions…)" is a FAQ entry asking the question, its opening the
    # answer; the remark in brackets after the "?" made it read as no question, and the entry "Can I delete
    # Python?" answered instead ("That depends on where Python came from.").
    for page in ("library.html", "installed.html"):
        shutil.copy(PYDOCS / "faq" / page, Path(fresh_assistant.settings.corpus_dir) / page)
    fresh_assistant.index()
    answered_with(fresh_assistant, "How do I delete a file from Python?", "Use os.remove(filename)")


def test_a_variable_the_question_assigns_or_a_path_it_gives_as_an_example_is_the_askers_own(fresh_assistant):
    # "groups = defaultdict(list) … groups.get('missing')": groups is the asker's variable, though "groups" is a
    # word the pages write; the question asks about get(), which the page documents. "Windows paths like
    # C:\Users\me\report.docx": report.docx is the asker's file, given as an example.
    assert names_as_written(("groups.get",), ["get() returns None"], "I made groups = defaultdict(list). What does "
                            "groups.get('missing') return?") == ("get",)
    assert names_as_written(("groups.get",), ["get() returns None"], "Does groups.get() exist?") == ("groups.get",)
    # A function the question defines is the asker's too; so is "mylist" though a page's example names one.
    assert names_as_written(("foo.__annotations__",), ["__annotations__ holds strings"], 'I wrote def foo(a: "str"). '
                            "What is in foo.__annotations__?") == ("__annotations__",)
    assert names_as_written(("mylist.len",), ["mylist = list(set(mylist))", "len(list)"],
                            "Why len(mylist) and not mylist.len()?") == ("len",)
    assert analyse(r"How do I pick apart Windows paths like C:\Users\me\report.docx on Linux?").names == ()
    # … and a data file of theirs the setup names, whatever its extension, when no page writes it.
    assert names_as_written(("results.tmp", "Path.rename"), ["Path.rename(target)"], "My script writes results.tmp "
                            "and renames it with Path.rename(). How do I make it overwrite?") == ("Path.rename",)
    indexed_with(fresh_assistant, "collections.md", (
        "# defaultdict objects\n\nA defaultdict calls default_factory to supply a value for a missing key. Note "
        "that __missing__() is not called for any operations besides __getitem__(). This means that get() will, "
        "like normal dictionaries, return None as a default rather than using default_factory. Groups of values "
        "are often collected with a defaultdict.\n"))
    answered_with(fresh_assistant, "I made groups = defaultdict(list). If I call groups.get('missing') for a key "
                  "that isn't there yet, do I get a fresh empty list back?", "return None as a default")


def test_a_sentence_goes_on_after_i_e_and_e_g(fresh_assistant):
    # "… if there is no module state, i.e. PyModuleDef.m_size was zero." was cut after "i.e.", and the answer quoted
    # a sentence ending in "i.e".
    text = ("PyModule_GetState may return NULL without setting an exception if there is no module state, i.e. "
            "PyModuleDef.m_size was zero. Use e.g. PyModule_New to create one. It returns a new module.")
    span = Passage(text=text, start=0, end=len(text), section="Module state", page=None, id=0, source="c.md",
                   title="Module state")
    assert [unit.text for unit in units_of([span]) if unit.kind == SENTENCE] == [
        "PyModule_GetState may return NULL without setting an exception if there is no module state, i.e. "
        "PyModuleDef.m_size was zero.", "Use e.g. PyModule_New to create one.", "It returns a new module."]
    indexed_with(fresh_assistant, "isolating.md", f"# Module state\n\n{text}\n")
    answered_with(fresh_assistant, "In which case can PyModule_GetState() return NULL without an exception being "
                  "set?", "i.e. PyModuleDef.m_size was zero")


def test_a_lower_case_object_that_is_no_module_or_type_is_the_askers_own(fresh_assistant):
    # "sock.connect()", "counts.update()", "stdscr.getch()": the asker's objects, though the pages write "sock" and
    # "stdscr" in examples of their own; the question asks about connect(), which the page documents. A module
    # (imported, called one or Python's own) or a built-in type qualifies what is asked.
    texts = ["import json\nsock = socket.socket()\ncounts = Counter()\nYou can set the socket to non-blocking mode "
             "before connect(). str.join() and json.dumps() and subprocess.run() and update()."]
    for name, asked in [("sock.connect", "connect"), ("counts.update", "update"), ("json.dumps", "json.dumps"),
                        ("str.join", "str.join"), ("subprocess.run", "subprocess.run")]:
        assert names_as_written((name,), texts, f"My code calls {name}(). What does it do?") == (asked,)
    indexed_with(fresh_assistant, "client.md", (
        "# A client\n\nA client makes a socket with sock = socket.socket() and calls sock.send() to write to it; "
        "the server answers when it is ready.\n"))
    indexed_with(fresh_assistant, "sockets.md", (
        "# Non-blocking sockets\n\nTo prevent the TCP connect from blocking, you can set the socket to "
        "non-blocking mode before calling connect().\n"))
    answered_with(fresh_assistant, "My client calls sock.connect() and the whole program freezes until the server "
                  "answers. How can I start the connection without sitting blocked inside connect()?",
                  "set the socket to non-blocking mode")


@pytest.mark.skipif(not (PYDOCS / "functools.html").is_file(), reason="the pydocs set is not on this machine")
def test_a_passage_going_on_in_a_section_that_names_the_asked_name_answers_for_it(fresh_assistant):
    # total_ordering's entry names __gt__ in one chunk ("The class must define one of __lt__(), __le__(), __gt__() …")
    # and says in a later one, without naming it again, that the decorator overrides no method a superclass defines.
    indexed_page(fresh_assistant, "functools.html")
    answered_with(fresh_assistant, "My subclass defines __eq__ and __lt__, inherits __gt__ from its base class and is "
                  "decorated with functools.total_ordering. Will total_ordering replace the inherited __gt__?",
                  "total_ordering will not implement it again")


def test_a_how_to_asking_for_what_no_page_writes_a_word_of_is_declined(fresh_assistant, monkeypatch):
    # No page writes "broadcast": a sentence close in meaning says how to do something else with a network. What
    # the page does write is still answered. (A word a small index lacks says little: the rule waits for an index of
    # rag.question.UNHELD_MIN_PASSAGES passages, which this one page stands for.)
    import rag.question

    monkeypatch.setattr(rag.question, "UNHELD_MIN_PASSAGES", 1)
    indexed_with(fresh_assistant, "net.md", (
        "# Working with networks\n\n## Inspecting a network\n\nNetwork objects can report a number of details about "
        "themselves. You can get the netmask of a network from its netmask attribute, and the hostmask from its "
        "hostmask attribute. The number of addresses in a network is in its num_addresses attribute.\n\n"
        "## Iterating\n\nNetwork objects can be iterated to list all the addresses belonging to the network. For "
        "large networks, iterate over the hosts() method instead.\n"))
    assert not extractive_answer(fresh_assistant, "How do I get the broadcast address of a network?").grounded
    answered_with(fresh_assistant, "How do I get the netmask of a network?", "from its netmask attribute")


def test_a_question_asking_two_things_one_about_what_no_page_writes_is_declined(fresh_assistant, monkeypatch):
    # "Does the PSF offer an official certification, and how do I sign up for it?": no page writes "certification",
    # and each part alone is answered by whatever comes closest (what the PSF is, how to join it), so the question as a
    # whole is declined, by the extractive backend and by the citation check of any other backend's answer. A word of
    # a code name or of the asker's own class is no such word. (The rule waits for an index of
    # rag.question.UNHELD_MIN_PASSAGES passages, which this one page stands for.)
    import rag.question
    from rag.citations import check_claims
    from rag.passage import Passage

    monkeypatch.setattr(rag.question, "UNHELD_MIN_PASSAGES", 1)
    indexed_with(fresh_assistant, "psf.md", (
        "# The Python Software Foundation\n\nThe Python Software Foundation is an independent non-profit organization "
        "that holds the copyright on Python versions 2.1 and newer. Its mission is to advance open source technology "
        "related to the Python programming language. You can sign up as a member of the foundation on its website.\n"))
    asked = "Does the Python Software Foundation offer an official certification, and how do I sign up for it?"
    assert not extractive_answer(fresh_assistant, asked).grounded
    said = "You can sign up as a member of the foundation on its website."
    passage = Passage(said, 0, len(said), "The Python Software Foundation", None, id=0, source="psf.md",
                      title="The Python Software Foundation")
    (verdict,) = check_claims(f"{said} [1]", [passage], analyse(asked, fresh_assistant.idf()), fresh_assistant.embedder)
    assert verdict.supported and not verdict.answers
    answered_with(fresh_assistant, "What is the Python Software Foundation, and how do I sign up for it?",
                  "independent non-profit")
    own = analyse("My Certifier class wraps PyFoundation_Register(). What does the Python Software Foundation hold, "
                  "and how do I sign up with PyFoundation_Register() for my Certifier?", fresh_assistant.idf())
    assert {"certifi", "regist"} <= own.parts[-1].unheld and not own.part_asks_unheld


def test_a_question_asking_who_and_something_else_is_declined_when_no_passage_names_anyone(fresh_assistant):
    # "Who is the release manager for 3.11, and how are release managers chosen?": the second part alone is answered
    # by whatever comes closest (how releases are made), but nothing names anyone, so the question as a whole is
        # declined, by the extractive backend and by the citation check of any backend's answer.
    from rag.citations import check_claims
    from rag.passage import Passage

    said = ("In the run-up to a new major release, a series of development releases are made, denoted as alpha, beta, "
            "or release candidate. Alphas are early releases in which interfaces aren't yet finalized.")
    indexed_with(fresh_assistant, "releases.md", f"# Python releases\n\n## How are releases made?\n\n{said}\n")
    asked = "Who is the release manager for Python 3.11, and how are release managers chosen?"
    assert not extractive_answer(fresh_assistant, asked).grounded
    passage = Passage(said, 0, len(said), "Python releases > How are releases made?", None, id=0, source="releases.md",
                      title="Python releases")
    claim = "Development releases are made in the run-up to a new major release, as alpha, beta or release candidate."
    (verdict,) = check_claims(f"{claim} [1]", [passage], analyse(asked, fresh_assistant.idf()), fresh_assistant.embedder)
    assert verdict.supported and not verdict.answers
    indexed_with(fresh_assistant, "managers.md", "# Release managers\n\nThe Python 3.11 releases are managed by Pablo "
                 "Galindo Salgado.\n")
    answered_with(fresh_assistant, asked, "Pablo Galindo Salgado")


def test_a_question_asking_which_version_and_something_else_is_declined_when_no_passage_gives_one(fresh_assistant):
    # "In which Python version did …, and how does …?" asks when as a release number: a passage saying how the parser
    # works answers the second part only, so the question is declined until a passage gives the version.
    said = ("Python's parser reads the token stream with a PEG grammar: each rule tries its alternatives in order and "
            "takes the first that matches, backtracking with memoisation where it must.")
    indexed_with(fresh_assistant, "parsing.md", f"# Parsing\n\n## How the parser works\n\n{said}\n")
    asked = "In which Python version did the PEG parser replace the old parser, and how does the new parser work?"
    assert analyse(asked).parts[0].type == VERSION
    assert not (declined := extractive_answer(fresh_assistant, asked)).grounded, declined.answer
    # asked alone, the release is the question's type, and the decline says what the passages lack
    alone = extractive_answer(fresh_assistant, "In which Python version did the parser start to read the token stream "
                                               "with a PEG grammar?")
    assert not alone.grounded and "don't give the version" in alone.answer, alone.answer
    indexed_with(fresh_assistant, "changelog.md", "# Changelog\n\nChanged in version 3.9: Python's PEG parser "
                 "replaced the old LL(1) parser.\n")
    answered_with(fresh_assistant, asked, "Changed in version 3.9", "reads the token stream")


def test_a_how_to_with_a_word_no_page_writes_is_still_answered_by_a_sentence_very_close_in_meaning():
    # "… count downwards instead of up?": no page writes "downwards", yet "… or to specify a different increment (even
    # negative; sometimes this is called the 'step')" is as close in meaning as a typed question's answer must be
    # (FOCUS_COSINE_TYPED); a sentence merely close is still not enough without most of the question's words.
    from rag.grounding import FOCUS_COSINE_TYPED, says_how

    idf = bm25_idf(lambda term: 0 if term in {"", "downward"} else 50, 1000)
    question = analyse("How do I make range() count up in steps of 3, or count downwards instead of up?", idf)
    assert question.how_to is not None and "downward" in question.unheld
    unit = Unit("It is possible to let the range start at another number, or to specify a different increment (even "
                "negative; sometimes this is called the 'step'):", SENTENCE, 0, "4.3. The range() Function")
    assert says_how(question, unit, FOCUS_COSINE_TYPED + 0.01)
    assert not says_how(question, unit, FOCUS_COSINE_TYPED - 0.05)


def test_a_way_the_question_suggests_by_option_or_call_must_be_written_by_the_pages(fresh_assistant):
    # "…, for example with --index-url?": the asker's guess at how it is done, which pages that write none of the
    # options or functions it names do not document; pages that write one of them may answer.
    indexed_with(fresh_assistant, "pip.md", (
        "# Installing packages\n\nBy default pip installs packages from the Python Package Index. You can install a "
        "specific version of a package by giving the package's name followed by == and the version number. Use "
        "--upgrade to upgrade an installed package to the latest version.\n"))
    assert not extractive_answer(fresh_assistant, "How do I make pip install packages from our private index "
                                 "instead of the Python Package Index, for example with --index-url?").grounded
    answered_with(fresh_assistant, "How do I upgrade an installed package to the latest version with pip, for "
                  "example with --upgrade?", "Use --upgrade")
    # … and so is a command given after "such as" ("such as pip -P …"), where "-m" names the module a command runs.
    assert not extractive_answer(fresh_assistant, "Is there a single switch that makes pip install packages from "
                                 "our private index, such as pip -P for the index?").grounded
    assert suggested_names("How do I upgrade it in place, for example with python -m venv --upgrade?") == ["--upgrade"]
    assert suggested_names("How do I serve files with a command such as python -m http.server?") == []
    # … and an option alone ("Is there a command-line option, such as -q, that …?")
    assert suggested_names("Is there a command-line option, such as -q, that starts it without the banner?") == ["-q"]
    # … and the call a suggested way wraps a value in ("for example by wrapping it in enum.member()")
    assert suggested_names("How do I force a function to become an Enum member, for example by wrapping it in "
                           "enum.member()?") == ["enum.member"]
    # … and a package ("for example with the criterion crate", which the Rust book never names), not "a module"
    assert not extractive_answer(fresh_assistant, "How do I install packages from a mirror, for example with the "
                                 "pipmirror package?").grounded
    answered_with(fresh_assistant, "How do I upgrade an installed package to the latest version, for example with the "
                  "pip package?", "Use --upgrade")
    assert suggested_names("How do I time it on stable Rust, for example with the criterion crate?") == ["criterion"]
    assert suggested_names("How do I dump the tracebacks, for example with a module?") == []
    assert suggested_names("Is there one switch for it, such as python -I for isolated mode?") == ["-I"]  # no word


SORTING = ("# Sorting\n\n## Odds and ends\n\nIt is easy to add a standard sort order to a class by defining an __lt__() "
           "method. The sort routines use < when making comparisons between two objects. Given a class defining one or "
           "more rich comparison ordering methods, the total_ordering class decorator supplies the rest.\n")
IMPLEMENTATIONS = ("# Alternate implementations\n\n## Jython\n\nJython is Python implemented in Java. It leaves out the "
                   "parts of the standard library that are written in C.\n\n## IronPython\n\nIronPython is Python for "
                   ".NET. Some parts of the language behave differently on the .NET runtime.\n")


@pytest.mark.parametrize("name, page, asked, says, close, quoted", [
    # "…, for example with @dataclass(order=True)? In what order are the fields compared?": the first part suggests a
    # setting no page writes, so the pages' sort-order sentences do not answer it, as they would not asked alone
    ("sorting.md", SORTING, "Can a class generate its ordering methods from its fields for me, for example with "
     "@dataclass(order=True)? In what order are the fields compared?", "",
     "Can a class get a standard sort order, for example by defining an __lt__() method? What do the sort routines "
     "use when making comparisons?", "use < when making comparisons"),
    # "Where does MicroPython fit in, and which parts … does it leave out?": the second part asks about what the first
    # names, which no page holds; the pages' sentences on other implementations do not answer it
    ("implementations.md", IMPLEMENTATIONS, "Where does MicroPython fit in among the Python implementations, and which "
     "parts of the standard library does it leave out?", "MicroPython",
     "Where does Jython fit in, and which parts of the standard library does it leave out?",
     "leaves out the parts of the standard library"),
])
def test_each_part_of_a_two_part_question_sees_what_the_whole_question_lacks(fresh_assistant, name, page, asked, says,
                                                                            close, quoted):
    indexed_with(fresh_assistant, name, page)
    assert len(analyse(asked).parts) == 2
    answer = extractive_answer(fresh_assistant, asked)
    assert not answer.grounded and says in answer.answer, answer.answer
    answered_with(fresh_assistant, close, quoted)


def test_names_only_the_setup_writes_need_not_all_be_on_the_answering_passage(fresh_assistant):
    # "I wrapped my client socket with makefile() so that I can use write() and readline(). … Why?": the names say
    # where the asker is; the reason the read hangs is on a passage naming write() alone. A name the asking clause
    # writes is still required.
    question = ("I wrapped my client socket with makefile() so that I can use write() and readline(). I write the "
                "request and then read the reply, but the read just hangs forever. Why?")
    assert analyse(question).names_set_up
    named_in_asking = "I use write() and readline() on a socket file. What does readline() return at the end?"
    assert not analyse(named_in_asking).names_set_up
    indexed_with(fresh_assistant, "sockets.md", (
        "# Sockets as files\n\n## Flushing\n\nAfter you write() a request to a socket file, flush the file object. "
        "Without a flush in there, you may wait forever for the reply, because the request may still be in your "
        "output buffer.\n"))
    answered_with(fresh_assistant, question, "Without a flush in there")


def test_a_web_address_or_a_file_in_a_path_is_no_code_name_a_page_must_write(fresh_assistant):
    # "… the standard Python from python.org?" says where Python comes from; the answer need not write it.
    question = ("I wrote a terminal dashboard with the curses module on Linux. Can my Windows colleagues run it with "
                "the standard Python from python.org?")
    assert analyse(question).names == ()
    assert analyse("What does os.path.join return?").names == ("os.path.join",)
    # … nor is a file in a path of the asker's ("/run/myapp/api.sock", "C:\\logs\\app.log")
    assert analyse("How do I check with pathlib that /run/myapp/api.sock is a Unix domain socket?").names == ()
    assert analyse("Why does open() fail on C:\\logs\\app.log when os.path.exists says True?").names == (
        "open", "os.path.exists")
    indexed_with(fresh_assistant, "curses.md", (
        "# Curses programming\n\n## What is curses?\n\nThe curses library supplies a terminal-independent "
        "screen-painting and keyboard-handling facility for text-based terminals, and comes with Python on Linux. The "
        "Windows version of Python "
        "doesn't include the curses module. A ported version called UniCurses is available.\n"))
    answered_with(fresh_assistant, question, "doesn't include the curses module")


def test_a_how_to_after_the_scope_it_sets_is_gated_as_the_same_how_to(fresh_assistant):
    # "With pathlib, how do I …" asks what "How do I … with pathlib?" asks: the how-to gate reads both. A sentence
    # about another time stamp of a file does not say how to find when it was created, whichever way it is asked.
    scoped = "With pathlib, how do I find out when a file was created, as opposed to when it was last modified?"
    assert analyse(scoped).how_to is not None
    assert analyse("On Windows, what is the py launcher?").how_to is None
    indexed_with(fresh_assistant, "paths.md", (
        "# Paths\n\n## Reading a path's details\n\nPath.stat() returns an os.stat_result object containing information "
        "about this path. Its st_mtime attribute holds the time of the file's most recent content modification, in "
        "seconds since the epoch. Its st_size attribute holds the size of the file in bytes.\n"))
    for question in (scoped, "How do I find out with pathlib when a file was created, as opposed to when it was last "
                     "modified?"):
        assert not extractive_answer(fresh_assistant, question).grounded
    answered_with(fresh_assistant, "With pathlib, how do I find out the size of a file in bytes?", "st_size")


@pytest.mark.skipif(not (PYDOCS / "howto" / "regex.html").is_file(), reason="the pydocs set is not on this machine")
def test_a_sentence_of_the_asked_names_own_api_entry_may_answer_in_other_words(fresh_assistant):
    # "… without passing count, how many of the matches get replaced?": sub()'s own entry says "The default value of
    # 0 means to replace all occurrences.", which shares few of the question's words and is not very close in meaning.
    indexed_page(fresh_assistant, "howto/regex.html")
    answered_with(fresh_assistant, "When I call a compiled regular expression's sub() method without passing count, "
                  "how many of the matches get replaced?", "The default value of 0 means to replace all occurrences")


def test_each_sentence_of_a_labelled_line_is_cited_and_placed(fresh_assistant):
    # "Portability alert: …. …. …." is one unit, quoted whole: every sentence carries its marker, so the citation
    # check reads each as a claim and the highlight spans them all, not the last sentence alone.
    indexed_with(fresh_assistant, "select.md", (
        "# Sockets\n\n## Non-blocking sockets\n\nIn Python, you use select.select to wait on several sockets at "
        "once.\n\n"
        "Portability alert: On Unix, select works both with the sockets and files. Don't try this on Windows. On "
        "Windows, select works with sockets only. In fact, on Windows I usually use threads with my sockets.\n"))
    answer = answered_with(fresh_assistant, "My program passes both sockets and pipes to select.select() on Unix. "
                           "Will that work the same way on Windows?", "On Windows, select works with sockets only [1].")
    (citation,) = [c for c in answer.citations if c.passage.source == "select.md"]
    assert "On Windows, select works with sockets only." in quoted(fresh_assistant, citation)


def test_a_yes_no_question_is_answered_only_by_a_unit_speaking_of_what_it_asks(fresh_assistant, monkeypatch):
    # "Can I give a regular expression search a time limit …?": sentences about regular expressions that say nothing
    # of time (the question's rarest word the pages hold) do not answer it; a sentence holding the most specific word
    # of its own question does. (A rare word says little in a small index, where the rule waits for
    # rag.question.UNHELD_MIN_PASSAGES passages, which these notes stand for.)
    import rag.question

    monkeypatch.setattr(rag.question, "UNHELD_MIN_PASSAGES", 1)
    indexed_with(fresh_assistant, "sockets.md", "# Sockets\n\nA socket operation can be given a time limit with "
                 "settimeout().\n")
    indexed_with(fresh_assistant, "compiling.md", "# Compiling\n\nRegular expressions are compiled into objects "
                 "with methods for various operations.\n")
    indexed_with(fresh_assistant, "regex.md", (
        "# Regular expressions\n\n## Limits of regular expressions\n\nThere are also tasks that can be done with "
        "regular expressions, but the expressions turn out to be very complicated. In these cases, you may be better "
        "off writing Python code to do the processing; while Python code will be slower than an elaborate regular "
        "expression, it will also probably be more understandable.\n\n## Flags\n\nThe MULTILINE flag makes the "
        "anchors ^ and $ match at the beginning and end of each line of a string.\n"))
    assert not extractive_answer(fresh_assistant, "Can I give a regular expression search a time limit so a badly "
                                 "written pattern can't hang my program?").grounded
    answered_with(fresh_assistant, "Can the ^ anchor match at the start of every line of a string?", "MULTILINE flag")


def test_a_sentence_introducing_an_example_is_quoted_with_it_whatever_is_asked(fresh_assistant):
    # "… so the network prefix covers the entire address:" makes its point with the example after it; a question
    # that asks neither how nor for code still gets the example under the prose (never as the prose answer).
    indexed_with(fresh_assistant, "networks.md", "# IP networks\n\n## Defining networks\n\nNetworks are usually "
                 "written as a network address and a prefix length, such as 192.0.2.0/24. Networks can also be defined "
                 "with integers, just like host addresses. In this case, the network holds only the single address "
                 "identified by the integer, so the network prefix covers the entire network address:\n\n```\n"
                 ">>> ipaddress.ip_network(3221225984)\nIPv4Network('192.0.2.0/32')\n```\n\n## Hosts\n\nA host "
                 "address names one machine on a network.\n")
    answer = answered_with(fresh_assistant, "What prefix length does a network defined by an integer get?",
                           "so the network prefix covers the entire network address")
    assert "IPv4Network('192.0.2.0/32')" in answer.answer
    assert answer.answer.index("network prefix covers") < answer.answer.index("```")


@pytest.mark.parametrize("question, leaning, before", [
    # "Likewise, …" / "Instead …" go on from the contrast or parallel the sentence before sets …
    ("What does a comparison function such as cmp(a, b) return?", "Likewise, a comparison function such as cmp(a, b)",
     "Unlike key functions that return an absolute value for sorting"),
    # … and an aside in brackets from what it is said of
    ("Why is \\20 in a replacement string not group 2 followed by a literal 0?", "(\\20 would be interpreted",
     "\\g<2> is therefore equivalent to \\2"),
])
def test_a_sentence_leaning_on_the_one_before_is_quoted_after_it(fresh_assistant, question, leaning, before):
    indexed_with(fresh_assistant, "sorting.md", "# Sorting\n\n## Comparison functions\n\nA key function takes one "
                 "value and returns the key to sort it by. Unlike key functions that return an absolute value for "
                 "sorting, a comparison function computes the relative ordering for two inputs. Likewise, a comparison "
                 "function such as cmp(a, b) will return a negative value for less-than, zero if the inputs are equal, "
                 "or a positive value for greater-than.\n\n## Replacement strings\n\nIn a replacement string, "
                 "\\g<name> uses the group named name, and \\g<number> uses the corresponding group number. \\g<2> is "
                 "therefore equivalent to \\2, but isn't ambiguous in a replacement string such as \\g<2>0. (\\20 "
                 "would be interpreted as a reference to group 20, not a reference to group 2 followed by the literal "
                 "character '0'.)\n")
    answer = answered_with(fresh_assistant, question, leaning, before)
    assert answer.answer.index(before) < answer.answer.index(leaning)


def test_the_names_under_a_package_of_the_askers_own_need_not_be_written_by_the_pages(fresh_assistant):
    # "Our package shop … import shop.cart … shop.cart.total()": the package, its submodules and their functions are
    # the asker's; requiring a page to write them declined the question. A name under the asker's variable or class
    # may be the API's ("obj.__len__"), and an API name is still required.
    assert analyse("Our package shop imports shop.cart, which calls shop.cart.total() at once. Why?").names == ()
    assert analyse("My module utils calls os.walk on every folder. Why is it slow?").names == ("os.walk",)
    indexed_with(fresh_assistant, "packages.md", (
        "# Packages\n\n## Submodules\n\nWhen a submodule is loaded, a binding is placed in the parent module's "
        "namespace to the submodule object. For example, if package spam has a submodule foo, after importing "
        "spam.foo, spam will have an attribute foo which is bound to the submodule.\n\n## Regular packages\n\n"
        "A regular package is a directory holding an __init__.py file.\n"))
    answered_with(fresh_assistant, "Our package shop has an empty __init__.py. One module does import shop.cart, and "
                  "another, which only did import shop, later calls shop.cart.total(). Once the submodule has been "
                  "imported, does the shop package object carry a cart attribute?", "will have an attribute foo")


@pytest.mark.skipif(not (PYDOCS / "tutorial" / "stdlib2.html").is_file(),
                    reason="the pydocs set is not on this machine")
def test_one_more_sentence_of_a_section_quoted_already_joins_the_answer(fresh_assistant):
    # The sentence sharing the question's words comes first ("For mail-merge style applications, user supplied data
    # may be incomplete and the safe_substitute() method may be more appropriate …"); the one saying what substitute()
    # does with a missing value scores further down, in the same section, and joins it.
    indexed_page(fresh_assistant, "tutorial/stdlib2.html")
    answered_with(fresh_assistant, "I fill in mail-merge letters with string.Template. What does substitute() do "
                  "when one of the $placeholders has no value in my data?",
                  "The substitute() method raises a KeyError when a placeholder is not supplied")


def test_how_often_is_answered_by_a_frequency_written_in_words(fresh_assistant):
    # "How often …?" asks for a frequency, which pages write in words ("only between bytecode instructions", "once
    # per run") as often as with a number: typed as a number question, it declined every sentence without a digit.
    indexed_with(fresh_assistant, "threads.md", (
        "# Threads\n\nA global interpreter lock ensures that only one thread runs in the interpreter at a time. "
        "The interpreter switches among threads only between bytecode instructions; how frequently it switches can "
        "be set via sys.setswitchinterval().\n"))
    answered_with(fresh_assistant, "How often does the interpreter pass control from one thread to another?",
                  "switches among threads only between bytecode instructions")


def test_a_method_called_on_the_askers_object_named_short_for_what_it_is_needs_only_the_method(fresh_assistant):
    # "I created a generator and … called gen.send('hello')": "gen" is the asker's generator, which no page writes;
    # requiring it declined the question the send() entry answers. An object named for nothing the question says
    # ("numpy.sort") is still required.
    found = ["generator.send(value) Resumes the execution and sends a value into the generator function."]
    assert names_as_written(("gen.send",), found, "I created a generator and called gen.send('hello'). Why does it "
                            "fail?") == ("send",)
    assert names_as_written(("gen.send",), found, "Why does gen.send('hello') fail?") == ("gen.send",)
    assert names_as_written(("numpy.sort",), found, "I sort numbers. What does numpy.sort return?") == ("numpy.sort",)
    indexed_with(fresh_assistant, "generators.md", (
        "# Generator-iterator methods\n\n## generator.send(value)\n\nResumes the execution and sends a value into "
        "the generator function. When send() is called to start the generator, it must be called with None as the "
        "argument, because there is no yield expression that could receive the value; any other value raises "
        "TypeError.\n"))
    answered_with(fresh_assistant, "I created a generator and right away called gen.send('hello'), which fails with "
                  "TypeError. How do I start it before I send it real values?", "must be called with None")


def test_a_sentence_going_on_after_code_is_quoted_whole_and_read_on_to_its_next_step(fresh_assistant):
    # The page shows code in the middle of a sentence ("You'll need to call:" / the calls / "to reverse the
    # curses-friendly terminal settings."): the part after the code, quoted alone, says nothing of which calls. The
    # step that follows ("Then call the endwin() function …") is the rest of the answer.
    indexed_with(fresh_assistant, "curses.md", (
        "# Curses\n\n## Ending a curses application\n\nTerminating a curses application is much easier than starting "
        "one. You'll need to call:\n\n```\ncurses.nocbreak()\nstdscr.keypad(False)\ncurses.echo()\n```\n\nto "
        "reverse the curses-friendly terminal settings. Then call the endwin() function to restore the terminal to its "
        "original operating mode.\n\n## Colours\n\nMost terminals can display colours; call start_color() first.\n"))
    answer = answered_with(fresh_assistant, "When my curses program exits, which calls do I make so that the terminal "
                           "settings are reversed and the shell gets its usual terminal back?",
                           "curses.echo()", "to reverse the curses-friendly terminal settings", "Then call the endwin()")
    assert answer.answer.index("curses.echo()") < answer.answer.index("to reverse"), answer.answer
    # "Then …" goes on from the step before it, as "This …" does, wherever the step before ranks
    asked = analyse("Which calls do I make when my curses program exits?")
    assert _draws_on(asked, Unit("Then call the endwin() function to restore the terminal.", SENTENCE, 0))
    assert not _draws_on(asked, Unit("Theming needs no call at all.", SENTENCE, 0))


def test_a_sentence_settling_the_case_before_it_comes_after_that_case(fresh_assistant):
    # "If it is, use os.close():" answers "how do I close the C descriptors", but only under the sentence whose
    # case it settles ("… be sure that's what you really want to do").
    asked = analyse("How do I close the C file descriptor of stdout?")
    assert _draws_on(asked, Unit("If it is, use os.close():", SENTENCE, 0))
    assert _draws_on(asked, Unit("If so, the window will disappear after you call exit().", SENTENCE, 0))
    assert not _draws_on(asked, Unit("If its buffer is full, the write blocks.", SENTENCE, 0))
    indexed_with(fresh_assistant, "library.md", (
        "# Library FAQ\n\n## Why doesn't closing sys.stdout close the file descriptor?\n\nRunning "
        "sys.stdout.close() marks the Python-level file object as being closed, but does not close the associated C "
        "file descriptor. To close the underlying C file descriptor for one of these three, you should first be sure "
        "that's what you really want to do. If it is, use os.close():\n\n```\nos.close(stdin.fileno())\n"
        "os.close(stdout.fileno())\n```\n"))
    answer = answered_with(fresh_assistant, "My daemon must release file descriptors 0, 1 and 2. Show me how to "
                           "close the underlying C descriptors of stdin and stdout.",
                           "you should first be sure", "If it is, use os.close()", "os.close(stdout.fileno())")
    assert answer.answer.index("you should first be sure") < answer.answer.index("If it is"), answer.answer


EMBEDDING_ON_WINDOWS = (
    "# Python on Windows\n\n## How can I embed Python into a Windows application?\n\n"
    "Load-time linking means linking against pythonNN.lib, while run-time linking means linking against "
    "pythonNN.dll. Instead of linking at build time, link to pythonNN.dll at run time; it is typically installed in "
    "C:\\Windows\\System.\n\n"
    "Your code must load pythonNN.dll using the Windows LoadLibraryEx() routine. The code must also use access "
    "routines and data in pythonNN.dll using pointers obtained by the Windows GetProcAddress() routine.\n\n"
    "## Is a pyd file the same as a DLL?\n\nYes, a pyd file is a DLL, but you do not link your program with it.\n")

HEAP_ENTRIES = (
    "# heapq\n\nThe heapq module provides functions for implementing heaps based on regular lists.\n\n"
    "## heapq.heapreplace(heap, item)\n\nPop and return the smallest item from the heap, and also push the new item. "
    "This one step operation is more efficient than a heappop() followed by heappush() and can be more appropriate "
    "when using a fixed-size heap.\n\n"
    "## heapq.heappush(heap, item)\n\nPush the value item onto the heap, maintaining the heap invariant.\n")


def test_a_question_asking_which_call_is_answered_by_the_sentence_naming_one(fresh_assistant):
    # "Which Windows calls …?" asks for the calls: the sentence naming LoadLibraryEx() answers it, not the one on
    # linking that shares more of the asker's words.
    indexed_with(fresh_assistant, "windows.md", EMBEDDING_ON_WINDOWS)
    question = ("I'm embedding Python in a Windows program and would rather not link against pythonNN.lib at build "
                "time; the DLL should only be linked at run time. Which Windows calls do I need for that?")
    answer = answered_with(fresh_assistant, question, "LoadLibraryEx()")
    assert answer.answer.index("LoadLibraryEx()") < answer.answer.index("[1]"), answer.answer
    assert analyse(question).asks_for_call and analyse("Which function should I use to copy a file?").asks_for_call
    assert not analyse("Which file holds the settings, and how does it call them?").asks_for_call
    # A call the question writes itself ("I don't use curses.wrapper()") is no answer to which call to make
    from rag.backends.extractive import _calls, _named_calls
    assert _calls("Use socket.setblocking(False) or curses.wrapper() here.") == {"setblocking", "wrapper"}
    # An API entry's description names its call by its heading: "Push the value item onto the heap …" under
    # heapq.heappush(heap, item) answers "Which heapq function …?" before a sentence that names two calls in passing.
    indexed_with(fresh_assistant, "heapq.md", HEAP_ENTRIES)
    answer = answered_with(fresh_assistant, "I already have a list that I turned into a heap. Which heapq function adds "
                           "one more item to it so that it stays a valid heap?", "Push the value item onto the heap")
    assert answer.answer.index("Push the value") < answer.answer.index("more efficient"), answer.answer
    assert _named_calls(Unit("Push the value item onto the heap.", SENTENCE, 0, "heapq.heappush(heap, item)")) == {
        "heappush"}
    assert not _named_calls(Unit("Push the value item onto the heap.", SENTENCE, 0, "8.5. Heaps (and queues)"))


def test_a_sentence_read_on_to_brings_the_example_it_introduces(fresh_assistant):
    # "On a Linux machine, this can be done via:" is read on to from the sentence before it; alone it says nothing,
    # and the package asked for is in the command after it.
    indexed_with(fresh_assistant, "instrumentation.md", (
        "# Instrumenting CPython\n\n## Enabling the static markers\n\nOn Linux, in order to build CPython with the "
        "embedded markers for SystemTap, the SystemTap development tools must be installed.\n\nOn a Linux machine, "
        "this can be done via:\n\n```\n$ yum install systemtap-sdt-devel\n```\n\nCPython must then be configured "
        "with the --with-dtrace option.\n"))
    answer = answered_with(fresh_assistant, "Which package do I install to get the SystemTap development tools before "
                           "building CPython with the static markers?", "this can be done via", "systemtap-sdt-devel")
    assert answer.answer.index("this can be done via") < answer.answer.index("systemtap-sdt-devel"), answer.answer


def test_a_sentence_running_on_into_code_brings_it(fresh_assistant):
    # "… for all sockets using" ends in no full stop: it runs on into the code that does it, which is the answer.
    indexed_with(fresh_assistant, "timeouts.md", (
        "# Network programming\n\n## How do I set a timeout on a web request?\n\nBy default the socket module has no "
        "timeout and can hang. Currently, the socket timeout is not exposed at the http.client or urllib.request "
        "levels. However, you can set the default timeout globally for all sockets using\n\n```\nimport socket\n"
        "socket.setdefaulttimeout(10)\n```\n\nSockets created afterwards use that timeout.\n"))
    answered_with(fresh_assistant, "My script hangs forever when a web server never answers a urllib request; how can "
                  "I make it give up after some seconds?", "for all sockets using", "socket.setdefaulttimeout(10)")


def test_code_inside_a_sentence_quoted_with_its_opening_is_quoted_between_them(fresh_assistant):
    # "… from a command-line option such as:" / code / "and you have the value …": the sentence's second half is the
    # answer and is quoted with its opening; the code between them is part of the sentence.
    indexed_with(fresh_assistant, "logging.md", (
        "# Logging HOWTO\n\nThe standard levels are DEBUG, INFO, WARNING, ERROR and CRITICAL.\n\n"
        "## Logging to a file\n\nIf you want to set the logging level from a command-line option "
        "such as:\n\n```\n--log=INFO\n```\n\nand you have the value of the parameter passed for --log in some "
        "variable loglevel, you can use:\n\n```\ngetattr(logging, loglevel.upper())\n```\n\nto get the value which "
        "you'll pass to basicConfig() via the level argument.\n"))
    answer = answered_with(fresh_assistant, "My script has a --log option where people type a level name such as debug "
                           "or WARNING. How do I turn that text into the level value that logging.basicConfig() "
                           "expects?", "command-line option such as", "getattr(logging, loglevel.upper())")
    said = answer.answer
    assert said.index("option such as") < said.index("--log=INFO") < said.index("and you have the value"), said


def test_a_sentence_quoted_before_the_step_pointing_back_at_it_keeps_the_code_it_goes_on_after(fresh_assistant):
    # "Then call the endwin() function …" names a call and is quoted first (rag.backends.extractive._calls_first);
    # the sentence it points back at ("to reverse the curses-friendly terminal settings.") goes on after code, which
    # is quoted with it as it would be were that sentence the best one.
    indexed_with(fresh_assistant, "curses.md", (
        "# Curses\n\n## Ending a curses application\n\nTerminating a curses application is much easier than starting "
        "one. You'll need to call:\n\n```\ncurses.nocbreak()\nstdscr.keypad(False)\ncurses.echo()\n```\n\nto "
        "reverse the curses-friendly terminal settings. Then call the endwin() function to restore the terminal to its "
        "original operating mode.\n\n## Colours\n\nMost terminals can display colours; call start_color() first.\n"))
    answer = answered_with(fresh_assistant, "When my curses program exits normally, which calls do I make so the "
                           "shell gets its usual terminal back?", "curses.echo()",
                           "to reverse the curses-friendly terminal settings", "Then call the endwin()")
    assert (answer.answer.index("curses.echo()") < answer.answer.index("to reverse")
            < answer.answer.index("Then call the endwin()")), answer.answer


TEMPLATES = (
    "# Templating\n\nThe string module includes a versatile Template class with a simplified syntax suitable for "
    "editing by end-users. The format uses placeholder names formed by $ with valid Python identifiers "
    "(alphanumeric characters and underscores). The substitute() method raises a KeyError when a placeholder is not "
    "supplied in a dictionary or a keyword argument.\n")


def test_a_language_the_asker_comes_from_is_no_name_the_pages_must_write():
    # "Coming from PHP and Perl, I know associative arrays and hashes. Is a Python dict …?", "Out of PHP habit I typed
    # $total = 0 …": what the asker knows, not what they ask about; a name no page holds elsewhere still is asked about.
    idf = bm25_idf(lambda term: 0 if term in {"", "php", "perl", "rust"} else 5, 100)  # no passage holds these
    assert analyse("Coming from PHP and Perl, I know associative arrays. Is a Python dict the same kind of structure?",
                   idf).unknown == ()
    assert analyse("Out of PHP habit I typed $total = 0 and got a SyntaxError. Which characters are not allowed?",
                   idf).unknown == ()
    assert analyse("Can I write a Python extension module in Rust instead of C?", idf).unknown == ("Rust",)
    assert analyse("Is a Python dict the same kind of structure as a PHP associative array?", idf).unknown == ("PHP",)


def test_a_tool_given_as_the_example_of_what_is_asked_for_is_unknown_when_no_page_holds_it():
    # "… for example with a sampling profiler such as py-spy (py-spy top …)?": a tool's name, hyphenated or not,
    # given as the example asked for; pages that never write it do not answer (the profiler words alone would).
    idf = bm25_idf(lambda term: 0 if term in {"", "py-spi", "pyupgrad"} else 5, 100)  # no passage holds these
    assert analyse("Can I see what my service runs right now, for example with a sampling profiler such as py-spy "
                   "(py-spy top or py-spy dump)?", idf).unknown == ("py-spy",)
    assert analyse("Is there a tool that rewrites old code to modern syntax, such as pyupgrade?", idf).unknown == (
        "pyupgrade",)
    assert analyse("Can I see what my service runs right now with a sampling profiler?", idf).unknown == ()
    # … or suggested as the way, each of a list ("for example with chardet or charset-normalizer?"): a page writing
    # one that is also a word ("black") does not name the other
    idf = bm25_idf(lambda term: 0 if term in {"", "chardet", "charset-norm"} else 5, 100)
    assert analyse("How can Python work out a file's encoding before I open it, for example with chardet or "
                   "charset-normalizer?", idf).unknown == ("chardet", "charset-normalizer")
    idf = bm25_idf(lambda term: 0 if term in {"", "autopep8", "flake8"} else 5, 100)
    assert analyse("Is there a tool that reformats my code automatically, such as black or autopep8?", idf).unknown == (
        "autopep8",)
    assert analyse("Which linters do people run, like pylint, flake8 and mypy?", idf).unknown == ("flake8",)
    idf = bm25_idf(lambda term: 0 if term in {"", "bidict"} else 5, 100)
    assert analyse("Is there a two-way mapping type, something like a bidict?", idf).unknown == ("bidict",)
    # … or before what goes with it ("for example with pyenv and a .python-version file?")
    idf = bm25_idf(lambda term: 0 if term in {"", "pyenv"} else 5, 100)
    assert analyse("How do I have each project pick its own Python version, for example with pyenv and a "
                   ".python-version file?", idf).unknown == ("pyenv",)
    # … or named as the command or tool it is ("for example with the py-bt command from …")
    idf = bm25_idf(lambda term: 0 if term in {"", "py-bt"} else 5, 100)
    assert analyse("How can I print the stack of a hung process from gdb, for example with the py-bt command from "
                   "the python-gdb.py extension?", idf).unknown == ("py-bt",)
    # … or written with the name used from it ("for example joblib.Memory or diskcache"): the package it comes from
    idf = bm25_idf(lambda term: 0 if term in {"", "joblib", "diskcach"} else 5, 100)
    assert analyse("Can lru_cache keep its entries on disk, or which decorator do people use for a persistent memo "
                   "cache, for example joblib.Memory or diskcache?", idf).unknown == ("joblib", "diskcache")
    # … or after the package or project it comes from ("for example with pip-tools' pip-compile?")
    idf = bm25_idf(lambda term: 0 if term in {"", "pip-compil", "pip-tool"} else 5, 100)
    assert analyse("How do I have the exact pins of all dependencies generated for me, for example with pip-tools' "
                   "pip-compile?", idf).unknown == ("pip-compile",)
    # … but a call with arguments after "e.g." is the asker's own code, not a tool ("… callable like functions, e.g.
    # scorer(item)"), where an empty call names the function asked for ("such as isascii()?")
    idf = bm25_idf(lambda term: 0 if term in {"", "scorer", "isascii"} else 5, 100)
    assert analyse("I'd like objects of my own class to be callable like functions, e.g. scorer(item). What does the "
                   "class need?", idf).unknown == ()
    assert analyse("Does str have a method that tells me whether a string is all ASCII, such as isascii()?",
                   idf).unknown == ("isascii",)


def test_a_call_offered_as_the_one_asked_about_must_be_on_the_page(fresh_assistant):
    # "Is there a method for that, such as get_identifiers()?" asks whether that method exists: pages that never
    # write it do not answer, however close their words ("placeholder names formed by $ …").
    indexed_with(fresh_assistant, "templates.md", TEMPLATES)
    question = ("I let users write their own Template texts. Before substituting, I'd like to list which placeholders "
                "a template uses. Is there a method for that, such as get_identifiers()?")
    answer = extractive_answer(fresh_assistant, question)
    assert not answer.grounded, answer.answer
    assert "get_identifiers" in analyse(question).names
    # … as must any code name offered as the thing asked whether there is
    assert "get_mixed_type_key" in analyse("Is there a ready-made sort key in ipaddress, like get_mixed_type_key, "
                                           "that orders IPv4 and IPv6 addresses together?").names
    # … or offered as the call a question asks for ("Which itertools function does that, something like zip_longest?")
    assert "zip_longest" in analyse("zip() drops the leftover items. Which itertools function keeps them, something "
                                    "like zip_longest with a fill value?").names
    # … or called on an object of the asker's ("like f.writelines(lines)"): the object is theirs, the method the API's;
    # pages that never write writelines do not say there is one (the tutorial's f.write() was the answer) …
    assert "writelines" in analyse("I have a list of lines and want to write all of them to a file in one call. Is "
                                   "there a file method for that, like f.writelines(lines)?").names
    assert "getChild" in analyse("My module does log = logging.getLogger(__name__). Is there a method on the Logger "
                                 "object that hands me a child logger directly, such as log.getChild('pool')?").names
    # … but not one showing how the asker calls a method of theirs
    assert "helper" not in analyse("If I decorate a method with @staticmethod, can I still call it through an "
                                   "instance, like obj.helper(2), or only through the class?").names
    # A call given as an example of a kind of thing asked about is no name the page must write
    assert "open" not in analyse("For a test harness I want to swap out a built-in function such as open() for every "
                                 "module. What is the proper way?").names
    answered_with(fresh_assistant, "Which method raises a KeyError when a placeholder is missing, such as "
                  "substitute()?", "The substitute() method raises a KeyError")


def test_a_sentence_saying_something_happens_here_is_quoted_after_the_one_saying_where_here_is(fresh_assistant):
    # "New language features generally appear here first." alone does not say where: the sentence before, on the
    # implementation it describes, does.
    indexed_with(fresh_assistant, "implementations.md", (
        "# Alternate implementations\n\n## CPython\n\nThis is the original and most-maintained implementation of "
        "Python, written in C. New language features generally appear here first.\n\n## Jython\n\nPython implemented "
        "in Java. This implementation can be used as a scripting language for Java applications.\n"))
    answer = answered_with(fresh_assistant, "When a new language feature is announced, where does it normally show up "
                           "first: in CPython or in another implementation such as Jython?",
                           "New language features generally appear here first")
    assert answer.answer.index("the original and most-maintained implementation") < answer.answer.index(
        "appear here first"), answer.answer
    asked = analyse("Where do new features show up first?")
    assert not _draws_on(asked, Unit("Here is an example of a new feature:", SENTENCE, 0))
    assert not _draws_on(asked, Unit("The new features are described here: see below.", SENTENCE, 0))


def test_one_name_only_the_setup_writes_need_not_be_on_the_answering_passage(fresh_assistant):
    # "My script finishes with sys.exit(1) … Does the interpreter print a stack traceback …?": sys.exit says where the
    # asker is; the answer is in a section that never writes it. A passage found must write it, though: a name the
    # passages never write (urllib.request.urlretrieve) is still asked about, and the question is declined.
    indexed_with(fresh_assistant, "exceptions.md", (
        "# Exceptions\n\n## Leaving a program\n\nThe function sys.exit() raises the SystemExit exception, so cleanup "
        "actions specified by finally clauses of try statements are honoured.\n\n## Uncaught exceptions\n\nWhen an "
        "exception is not handled at all, the interpreter terminates execution of the program. In either case, it "
        "prints a stack traceback, except when the exception is SystemExit.\n"))
    question = ("My script finishes with sys.exit(1), which raises SystemExit, and nothing catches it. Does the "
                "interpreter print a stack traceback for it, the way it does for other uncaught exceptions?")
    assert analyse(question).names_set_up
    answered_with(fresh_assistant, question, "except when the exception is SystemExit")
    assert not extractive_answer(fresh_assistant, "My script ends with urllib.request.urlretrieve(url). Does the "
                                 "interpreter print a stack traceback when the program terminates?").grounded


def test_an_extension_module_or_c_file_of_the_asker_is_no_code_name():
    question = "I'm building my Windows extension as spam.pyd so that scripts can write import spam. Which function?"
    assert names_as_written(("spam.pyd",), ["A DLL named foo.pyd must have a function PyInit_foo()."], question) == ()
    assert names_as_written(("foo.c",), ["Run clinic.py on your C file."], "How do I run clinic on foo.c?") == ()


def test_a_method_of_a_type_is_named_by_an_example_on_a_value_of_that_type():
    # The FAQ writes "L.append(x)" under "L, L1, L2 are lists": that names list.append; another type's does not.
    assert mentions("list.append", "The following are atomic (L, L1, L2 are lists): L.append(x), L1.extend(L2)")
    assert not mentions("list.append", "Use a deque: d.append(x) adds to the right side.")


def test_a_class_is_named_next_to_its_module_written_as_a_title_writes_it():
    # "Logging HOWTO > Logging Levels: … subclasses of Handler will need to override this emit()" names logging.Handler:
    # a module's name opens a title or heading in capitals. A class's name, the first part of a method's, keeps its case.
    assert mentions("logging.Handler", "Logging HOWTO\nLogging Levels\nMost user-defined subclasses of Handler will "
                                       "need to override this emit().")
    assert not mentions("logging.Handler", "Socket HOWTO\nMost subclasses of Handler override emit().")
    assert not mentions("Path.glob", "Glob the given relative pattern in the directory represented by this path: glob(pattern)")


def test_a_method_documented_on_a_base_class_ending_in_the_class_name_is_named():
    # Path inherits "PurePath.with_suffix(suffix)": the entry names Path.with_suffix, so "What does
    # Path.with_suffix('.bak') return …?" is answered from it. A name merely starting with the class's does not.
    assert mentions("Path.with_suffix", "Pure paths > PurePath.with_suffix(suffix)\nReturn a new path with the suffix "
                                        "changed.")
    assert not mentions("Path.with_suffix", "Pathological cases > with_suffix(suffix)")


def test_a_built_in_function_is_named_by_its_word_inflected_in_prose():
    # "Which encoding should I give open() when my program reads and writes .json files?" / "Use encoding="utf-8" when
    # opening JSON file as a text file": the built-in named by its verb. A word merely sharing its start is not.
    assert mentions("open", 'Use encoding="utf-8" when opening JSON file as a text file for reading and writing.')
    assert mentions("float", "Storing floats as text loses no precision with repr().")
    assert not mentions("open", "The operation cannot proceed while the handle is opener-owned.")
    assert not mentions("heappop", "Popping from a heap returns the smallest item.")


def test_a_sentence_said_of_one_case_is_quoted_with_the_next_saying_it_of_another(fresh_assistant):
    # "In a DLL, linkage is declared …" / "In a .pyd, linkage is defined …": each is said against the other, so one
    # quoted alone answers half of a question comparing them. A next sentence opening differently is no such pair.
    one = Unit("In a DLL, linkage is declared in the source code with __declspec(dllexport).", SENTENCE, 0)
    other = Unit("In a .pyd, linkage is defined in a list of available functions.", SENTENCE, 0)
    assert _in_parallel(one, other)
    assert not _in_parallel(one, Unit("Of course, foo.pyd is required if you want to say import foo.", SENTENCE, 0))
    assert not _in_parallel(one, replace(other, passage=1))
    # A switch's two settings, and two instructions each for its own purpose, are such pairs too; two conditions on
    # different subjects are not.
    typed = Unit("If typed is set to true, function arguments of different types will be cached separately.", SENTENCE, 0)
    assert _in_parallel(typed, Unit("If typed is false, the implementation will usually regard them as equivalent "
                                    "calls and only cache a single result.", SENTENCE, 0))
    assert not _in_parallel(typed, Unit("If maxsize is set to None, the LRU feature is disabled.", SENTENCE, 0))
    assert _in_parallel(Unit("To add an item to the top of the stack, use append().", SENTENCE, 0),
                        Unit("To retrieve an item from the top of the stack, use pop() without an explicit index.",
                             SENTENCE, 0))
    indexed_with(fresh_assistant, "windows.md", (
        "# Windows FAQ\n\n## Is a *.pyd file the same as a DLL?\n\nYes, .pyd files are dll's, but there are a few "
        "differences. If you have a DLL named foo.pyd, then it must have a function PyInit_foo(). You can then write "
        "import foo, and Python will search for foo.pyd. Note that the search path for foo.pyd is PYTHONPATH, not the "
        "same as the path that Windows uses to search for foo.dll. Also, foo.pyd need not be present to run your "
        "program, whereas if you linked your program with a dll, the dll is required. In a DLL, linkage is declared "
        "in the source code with __declspec(dllexport). In a .pyd, linkage is defined in a list of available "
        "functions.\n"))
    answered_with(fresh_assistant, "In an ordinary Windows DLL I mark the functions I export with "
                  "__declspec(dllexport). Is that also how a .pyd extension module makes its functions available?",
                  "In a DLL, linkage is declared", "In a .pyd, linkage is defined")


def test_a_sentence_read_on_to_brings_the_one_going_on_with_it(fresh_assistant):
    # The best sentence is read on to the next, and that one to the sentence pointing back at it: "bind the server
    # socket to 'localhost'" says what to do, "On most platforms, this will take a shortcut …" why it is faster.
    indexed_with(fresh_assistant, "sockets.md", (
        "# Socket Programming HOWTO\n\n## Inter-process communication\n\nIf you need fast IPC between two processes "
        "on one machine, you should look into pipes or shared memory. If you do decide to use AF_INET sockets, bind "
        "the “server” socket to 'localhost'. On most platforms, this will take a shortcut around a couple of layers of "
        "network code and be quite a bit faster.\n\n## Binary data\n\nIt is perfectly possible to send binary data "
        "over a socket.\n"))
    answered_with(fresh_assistant, "Two processes on one machine exchange data over a socket. How can I make "
                  "that faster?", "bind the “server” socket to 'localhost'", "this will take a shortcut")


def test_the_best_sentence_is_read_on_to_the_list_its_next_sentence_introduces(fresh_assistant):
    # "A future statement must appear near the top of the module." is read on to "The only lines that can appear
    # before a future statement are:", which says nothing without its list: the list comes with it.
    indexed_with(fresh_assistant, "future.md", (
        "# Simple statements\n\n## Future statements\n\nA future statement is a directive to the compiler that a "
        "particular module should be compiled using syntax or semantics of a future release.\n\nA future statement "
        "must appear near the top of the module. The only lines that can appear before a future statement are:\n\n"
        "- the module docstring (if any),\n- comments,\n- blank lines, and\n- other future statements.\n"))
    answered_with(fresh_assistant, "Where in a module must a future statement appear?", "near the top of the module",
                  "the module docstring", "other future statements")
    # … and so is a lead-in saying more of what the sentence spoke of ("Their syntax is:"), whatever its words.
    indexed_with(fresh_assistant, "expressions.md", (
        "# Expressions\n\n## Primaries\n\nPrimaries represent the most tightly bound operations of the language. "
        "Their syntax is:\n\n```\nprimary ::=  atom | attributeref | subscription | slicing | call\n```\n"))
    answered_with(fresh_assistant, "In expressions, what is a primary?", "most tightly bound",
                  "primary ::=  atom")


def test_a_byline_or_note_label_is_never_quoted_as_what_a_sentence_points_back_at(fresh_assistant):
    # "This tutorial is intended to be …" points back, but the line before it is the author's name, and "Note" above
    # "While this decorator makes it easy …" is a label: neither is a statement the sentence leans on.
    assert _label(Unit("Tshepang Lekhonkhobe", SENTENCE, 0)) and _label(Unit("Note", SENTENCE, 0))
    assert not _label(Unit("Word boundary", SENTENCE, 0))  # the term "This is a zero-width assertion …" defines
    assert not _label(Unit("Use PyTuple_Pack() instead.", SENTENCE, 0))
    indexed_with(fresh_assistant, "argparse.md", (
        "# Argparse Tutorial\n\nTshepang Lekhonkhobe\n\nThis tutorial is intended to be a gentle introduction to "
        "argparse, the recommended command-line parsing module in the Python standard library.\n"))
    answer = answered_with(fresh_assistant, "Is there a gentle introduction to the argparse command-line parsing "
                           "module?", "This tutorial is intended to be a gentle introduction")
    assert "Lekhonkhobe" not in answer.answer


def test_a_code_block_of_comments_alone_is_never_the_code_an_answer_shows(fresh_assistant):
    # "… the ^ marker sits under a print( call …" reads as a question about code, but "# PEG grammar for Python" shows
    # none: the sentence saying where the error is answers. A "#!" line is code, though: the line a script starts with.
    assert _only_comments("# PEG grammar for Python\n\n# ===== START OF THE GRAMMAR =====")
    assert not _only_comments("#!/usr/bin/env python3")
    assert not _only_comments("# the sum\ntotal = a + b")
    indexed_with(fresh_assistant, "errors.md", (
        "# Errors\n\n## Syntax errors\n\nOn a SyntaxError, the parser repeats the offending line and displays a little arrow pointing at "
        "the token in the line where the error was detected. The error is caused by (or at least detected at) the token "
        "preceding the arrow: in the example, the error is detected at the function print(), since a colon is missing "
        "before it.\n\n## Grammar\n\nSee PEP 617 for more details on the grammar's syntax of print( calls.\n\n"
        "```\n# PEG grammar for Python: the syntax error marker and print( calls\n```\n"))
    answer = answered_with(fresh_assistant, "I get SyntaxError: invalid syntax, and the ^ marker sits under a print( "
                           "call that looks perfectly correct to me. Is the mistake really where the marker points?",
                           "detected at) the token preceding the arrow")
    assert "# PEG grammar" not in answer.answer


def test_a_method_named_by_a_plain_word_on_the_askers_object_must_be_written_as_code():
    # "Is there a method for that, such as parser.error()?": the parser is the asker's object, but "error" is a word
    # every page on argparse writes; a page answering names the method as code ("parser.error(", ".error"), so the
    # name stays whole when none does. A method the pages write as code is still reduced to it ("counts.update()").
    prose = ["Specifying anything else results in an error. parser = argparse.ArgumentParser()"]
    asked = "After parse_args() my script checks its options. Is there a method for that, such as parser.error()?"
    assert names_as_written(("parse_args", "parser.error"), prose + ["The parse_args() method returns data."],
                            asked) == ("parse_args", "parser.error")
    assert names_as_written(("parser.error",), prose + ["Call parser.error(message) to stop with a usage message."],
                            asked) == ("error",)
    assert names_as_written(("counts.update",), ["c.update(other) adds counts"],
                            "What does counts.update(other_counter) do?") == ("update",)


def test_a_name_only_the_askers_setup_writes_and_no_page_writes_is_theirs():
    # The asker's function ("a render() function built with singledispatch"), data field ("[priority, count, job_id]
    # entries") or method of their object ("keep handler = conn.reconnect"), written in the setup alone: no page
    # writes them, and requiring them declined three answerable questions. One the asking clause names, or a page
    # writes, is still required.
    found = ["To access all registered implementations, use the read-only registry attribute. sorted() returns a "
             "new list. A dictionary can point to an entry in the queue."]
    assert names_as_written(("render",), found, "Several modules register implementations on a render() function "
                            "built with functools.singledispatch. How can I list all the types registered?") == ()
    assert names_as_written(("job_id",), found, "Our job queue is a heapq list of [priority, count, job_id] entries. "
                            "How do I get at one job's entry without scanning the heap?") == ()
    assert names_as_written(("conn.reconnect",), found, "I want to keep handler = conn.reconnect and only call "
                            "handler() later. Is it legit to grab a method off an object like that?") == ()
    assert names_as_written(("render",), found, "How do I call render() again on every registered type?") == ("render",)
    assert names_as_written(("sorted",), found, "My script calls sorted() on the rows. Can it reverse them?") == (
        "sorted",)
    # … so is a function their code calls on a variable it binds, though its name is a word the pages write
    # ("raw = fetch() … parse(raw)"), and a file named with dots ("_mymodule.clinic.c")
    code = "My code is try: raw = fetch() / except ValueError: use_default() / else: parse(raw). If parse() raises"
    assert names_as_written(("parse",), ["The else clause runs when no exception was raised; parse the output."],
                            f"{code} a ValueError, does the except clause above it catch it?") == ()
    assert names_as_written(("parse",), ["Call parse(text) to read it."], f"{code}, what happens?") == ("parse",)
    assert names_as_written(("_mymodule.clinic.c",), found, "Clinic writes a separate _mymodule.clinic.c. May I leave "
                            "it out of version control?") == ()


def test_an_acronym_the_question_also_writes_in_lower_case_counts_when_a_page_writes_it_so():
    # "student objects with gpa and name attributes … the best GPA": the page's example writes student.gpa, and the
    # question names that attribute itself; an acronym with a vowel the question writes only in capitals is still
    # required as written ("PUT" is no "put").
    found = [">>> valedictorian = max((student.gpa, student.name) for student in graduates)"]
    assert unwritten_names("I have student objects with gpa and name attributes. Show me a one-liner that gives me "
                           "the best GPA.", found) == ()
    assert unwritten_names("Show me a one-liner that gives me the best GPA.", found) == ("GPA",)
    assert unwritten_names("How do I send an HTTP PUT request?", ["q.put(item) puts an item, over http"]) == ("PUT",)


def test_names_of_the_askers_own_code_are_no_names_a_page_must_write():
    # "my settings module … settings.debug_override": the module is the asker's, and so is all under it; "my package
    # live in a second folder" names no package "live". A member of the asker's own enum ("Status.DONE") is theirs;
    # a special attribute of it ("Color.RED.__doc__") is Python's. "… defines a little show() helper" is theirs.
    question = "A plugin sets settings.debug_override = True on my settings module. How do I remove that attribute?"
    assert analyse(question).names == ()
    assert own_names("Some submodules of my package live in a second folder. What can __init__.py do?") == frozenset()
    found = ["An enumeration member has a name and a value. Every object has a __doc__ attribute. Edit __init__.py."]
    asked = "My Status enum (a plain Enum) has a member DONE whose value is 2. Will Status.DONE == 2 be True?"
    assert names_as_written(("Status.DONE",), found, asked) == ()
    documented = ("I'd like each member of my Color enum to carry a description, so that help(Color.RED) or "
                  "Color.RED.__doc__ explains it.")
    assert names_as_written(("Color.RED.__doc__",), found, documented) == ("__doc__",)
    # A file name the pages write is kept whole: "__init__.py" is no attribute "py" of a qualifier "__init__".
    assert names_as_written(("__init__.py",), found, "What can the package's __init__.py do?") == ("__init__.py",)
    assert "show" in own_names("My startup file does import numpy as np and defines a little show() helper. Can I "
                               "use it?")
    assert analyse("Both of my base classes define a save() method. Which save() does the subclass use?").names == ()
    # A method no passage writes, of a type the pages write as the API's ("curses.window.addch()"), is asked about:
    # pages that never write it do not answer (unlike a method of the asker's own connection object).
    found = ["Another example is curses.window.addch(), which takes two arguments.", "conn.close() closes it."]
    assert names_as_written(("window.border",), found, "window.border() in curses takes eight arguments. Which side "
                            "does each of them set?") == ("window.border",)
    assert names_as_written(("conn.reconnect",), found, "I keep handler = conn.reconnect in a dict. Why does the "
                            "handler run twice?") == ()


def test_where_something_has_to_go_is_answered_by_the_rule_that_places_it(fresh_assistant):
    # "Where does the global statement have to go?" wants the rule placing it ("… must precede all uses …"), not the
    # sentences closer in meaning that say what the statement is.
    indexed_with(fresh_assistant, "global.md", (
        "# The global statement\n\nThe global statement is a declaration which holds for the entire current code "
        "block. It means that the listed identifiers are to be interpreted as globals. In a function, variables that "
        "are only referenced are implicitly global. The global statement must precede all uses of the listed names. "
        "Names listed in a global statement must not be defined as formal parameters.\n"))
    answered_with(fresh_assistant, "My function prints counter on its first line and declares global "
                  "counter a few lines further down, and now the module no longer compiles. Where does the "
                  "global statement have to go?", "must precede all uses")


def test_whether_something_is_worth_it_is_answered_by_the_pages_judgement_of_it(fresh_assistant):
    # "Is switching to defaultdict(list) worth it, or is it just a matter of taste?" wants what the page judges of it
    # ("… simpler and faster than …") first, before the sentences closer in meaning that say what a defaultdict does.
    indexed_with(fresh_assistant, "defaultdict.md", (
        "# defaultdict objects\n\n## defaultdict Examples\n\nUsing list as the default_factory, it is easy to group "
        "a sequence of key-value pairs into a dictionary of lists:\n\n```\n>>> d = defaultdict(list)\n>>> for k, v in "
        "s:\n...     d[k].append(v)\n```\n\nWhen each key is encountered for the first time, it is not already in the "
        "mapping; so an entry is automatically created using the default_factory function which returns an empty "
        "list. The list.append() operation then attaches the value to the new list. When keys are encountered again, "
        "the look-up proceeds normally (returning the list for that key) and the list.append() operation adds another "
        "value to the list. This technique is simpler and faster than an equivalent technique using "
        "dict.setdefault():\n\n```\n>>> d = {}\n>>> for k, v in s:\n...     d.setdefault(k, []).append(v)\n```\n\n"
        "Setting the default_factory to set makes the defaultdict useful for building a dictionary of sets.\n"))
    answer = answered_with(fresh_assistant, "To group (key, value) pairs I currently write d.setdefault(k, "
                           "[]).append(v) in a loop. Is switching to defaultdict(list) worth it, or is it just a "
                           "matter of taste?", "simpler and faster")
    assert answer.answer.index("simpler and faster") < answer.answer.index("group a sequence"), answer.answer


def test_whether_something_is_quicker_is_answered_by_the_pages_judgement_of_its_speed(fresh_assistant):
    # "Would wrapping them in a ChainMap be quicker than that?" asks for a judgement as "is it worth it?" does: the
    # sentence saying it is faster comes first, not the entry of the method whose words are closest. A setup saying
    # something got faster ("He claims it also runs faster. Why would it?") asks for no judgement: a reason.
    indexed_with(fresh_assistant, "collections.html", (
        "<!doctype html><html><head><title>collections — Container datatypes</title></head><body><main>"
        "<h1>collections — Container datatypes</h1><h2>ChainMap objects</h2><p>A ChainMap class is provided for "
        "quickly linking a number of mappings so they can be treated as a single unit. It is often much faster than "
        "creating a new dictionary and running multiple update() calls.</p><p>The class can be used to simulate "
        "nested scopes and is useful in templating.</p>"
        '<dl class="py class"><dt class="sig sig-object py">class collections.ChainMap(<em>*maps</em>)</dt><dd>'
        "<p>A ChainMap groups multiple dicts or other mappings together to create a single, updateable view.</p>"
        '<dl class="py method"><dt class="sig sig-object py">new_child(<em>m=None</em>, <em>**kwargs</em>)</dt><dd>'
        "<p>Returns a new ChainMap containing a new map followed by all of the maps in the current instance. If m is "
        "specified, it becomes the new map at the front of the list of mappings; if not specified, an empty dict is "
        "used.</p></dd></dl></dd></dl></main></body></html>"))
    answer = answered_with(fresh_assistant, "I layer a few config dicts and currently merge them by creating a new dict "
                           "and calling update() once per layer. Would wrapping them in a collections.ChainMap be "
                           "quicker than that?", "much faster than creating a new dictionary")
    assert "new_child" not in answer.answer.split("much faster")[0], answer.answer  # the judgement first
    told_faster = analyse("A colleague stores the object in a local variable first. He claims it also runs faster. "
                          "Why would it?")
    assert answer_shape(told_faster) is None


def test_whether_something_makes_sense_is_answered_by_the_rule_against_it(fresh_assistant):
    # "Does it make sense to …?" asks for a judgement as "is it worth it?" does, and "… should never …" is one: it
    # comes before the entries that only say what the things asked about are.
    indexed_with(fresh_assistant, "regex.md", (
        "# Regular Expression HOWTO\n\n## More Metacharacters\n\nSome of the remaining metacharacters are zero-width "
        "assertions. They don't cause the engine to advance through the string; instead, they consume no characters "
        "at all, and simply succeed or fail. This means that zero-width assertions should never be repeated, because "
        "if they match once at a given location, they can obviously be matched an infinite number of times.\n\n"
        "- `\\b`: Word boundary. This is a zero-width assertion that matches only at the beginning or end of a word.\n"
        "- `\\B`: Another zero-width assertion, this is the opposite of `\\b`, only matching when the current "
        "position is not at a word boundary.\n"))
    answer = answered_with(fresh_assistant, "Does it make sense to put a repeat such as * or + after a zero-width "
                           "assertion like a word boundary in my pattern?", "should never be repeated")
    assert answer.answer.index("should never") < answer.answer.index("Another zero-width assertion"), answer.answer


def test_whether_something_is_a_good_habit_is_answered_by_a_judgement_in_other_words():
    # "Is … a good habit?" asks yes or no, and such a question needs a sentence holding its most specific word
    # ("habit") — but that word only frames the judgement asked for, and "it is good practice to …" is one. A sentence
    # judging nothing still needs the word (or to be as close in meaning as a how-to's answer).
    from rag.grounding import FOCUS_COSINE_HOW_TO, says_whether

    idf = bm25_idf(lambda term: 0 if term == "" else 1 if term == "habit" else 50, 1000)
    question = analyse("Is wrapping all of my code in except Exception: a good habit, so that my program never "
                       "crashes?", idf)
    assert question.type == "yes/no" and question.specific == "habit"
    judging = Unit("However, it is good practice to be as specific as possible with the types of exceptions that we "
                   "intend to handle, and to allow any unexpected exceptions to propagate on.", SENTENCE, 0,
                   "8.3. Handling Exceptions")
    saying = Unit("Exception can be used as a wildcard that catches (almost) everything.", SENTENCE, 0,
                  "8.3. Handling Exceptions")
    assert says_whether(question, judging, FOCUS_COSINE_HOW_TO - 0.1)
    assert not says_whether(question, saying, FOCUS_COSINE_HOW_TO - 0.1)


def test_a_word_qualifying_a_yes_no_question_is_not_the_thing_it_asks_about():
    # "ever" and "exactly" are rarer in the pages than "random", but they say how surely the asker wants it, not what
    # about: the sentence giving random()'s range speaks to the question, a sentence about exact values does not.
    from rag.grounding import FOCUS_COSINE_HOW_TO, says_whether

    idf = bm25_idf(lambda term: 0 if term == "" else 1 if term in {"ever", "exact"} else 5 if term == "random" else 50,
                   1000)
    question = analyse("Can random.random() ever return exactly 1.0, or exactly 0.0?", idf)
    assert question.type == "yes/no" and question.specific == "random"
    ranged = Unit("This returns a random floating point number in the range [0, 1).", SENTENCE, 0,
                  "How do I generate random numbers in Python?")
    unrelated = Unit("The result is exact, and it is returned as a float.", SENTENCE, 0, "Numbers")
    assert says_whether(question, ranged, FOCUS_COSINE_HOW_TO - 0.1)
    assert not says_whether(question, unrelated, FOCUS_COSINE_HOW_TO - 0.1)


def test_a_bare_verdict_opening_the_paragraph_is_quoted_before_the_sentence_chosen(fresh_assistant):
    # "In general, no." is the FAQ's answer, too short to be chosen alone: the sentence after it, which is, brings it.
    indexed_with(fresh_assistant, "faq.md", (
        "# General Python FAQ\n\n## Is it reasonable to propose incompatible changes to Python?\n\nIn general, no. "
        "There are already millions of lines of Python code around the world, so any change in the language that "
        "invalidates more than a very small fraction of existing programs has to be frowned upon.\n\nProviding a "
        "gradual upgrade path is necessary if a feature has to be changed.\n"))
    answer = answered_with(fresh_assistant, "I'd like to propose a change to the language that would stop some existing "
                           "programs from working. Is a proposal like that likely to be accepted?", "millions of lines")
    assert answer.answer.startswith("In general, no [1]. There are already millions"), answer.answer


def test_a_sentence_ending_its_chunk_with_a_colon_is_quoted_with_the_example_the_next_chunk_opens_with(fresh_assistant):
    # "… by using the builtin reversed() function twice:" ends one chunk, and the example it introduces opens the
    # next: the answer shows the example, as it does when both are in one chunk, whatever the question asks.
    filler = " ".join(f"Sorting note {n} says that the records keep their place when their keys are equal, which "
                      f"makes a sort of records by several keys possible in passes." for n in range(9))
    indexed_with(fresh_assistant, "sorting.md", (
        f"# Sorting\n\n## Odds and ends\n\n{filler} The reverse parameter still keeps records with equal keys in "
        "their original order. Interestingly, that effect can be simulated without the parameter by using the "
        "builtin reversed() function twice:\n\n```\n>>> double_reversed = list(reversed(sorted(reversed(data), "
        "key=itemgetter(0))))\n```\n\nThe sort routines use < when making comparisons between two objects.\n"))
    hits = fresh_assistant.search("simulated without the parameter by using the builtin reversed() function twice", k=5)
    code_chunks = [h.passage for h in hits if "double_reversed" in h.passage.text]
    assert code_chunks and all("function twice:" not in p.text for p in code_chunks)  # the chunk boundary is between
    answered_with(fresh_assistant, "Can the effect of the reverse parameter, keeping records with equal keys in "
                  "their original order, be simulated without the parameter?",
                  "function twice", "double_reversed = list(reversed(sorted(reversed(data)")


def test_an_api_offered_as_the_example_of_something_there_may_be_must_be_on_the_page():
    # "Is there something in the standard library that parses robots.txt …, such as urllib.robotparser and
    # can_fetch()?" asks whether that module exists, as "Is there a method for that, such as …?" does: pages that
    # never write it do not answer, however close their words on urllib.request. One given as an example of a kind
    # of thing is still no name a page must write.
    names = analyse("Before my crawler fetches pages, it should check each site's robots.txt. Is there something in "
                    "the standard library that parses robots.txt, such as urllib.robotparser and can_fetch()?").names
    assert {"urllib.robotparser", "can_fetch"} <= set(names)
    assert "open" not in analyse("Is a built-in function such as open() replaceable for every module?").names


def test_a_hex_number_is_no_acronym_a_page_must_write():
    # "… an escape for a code point above FFFF?": a number in hex, not an acronym the pages must write as the
    # question does (they write "four hex digits"); "HTTP PUT" still is one.
    assert acronyms("I wrote '\\u1F600' for the emoji. How do I write an escape for a code point above FFFF?") == ()
    assert unwritten_names("How do I escape a code point above FFFF?", ["\\u is followed by four hex digits"]) == ()
    assert acronyms("How do I send an HTTP PUT request?") == ("HTTP", "PUT")


def test_a_name_made_to_say_it_is_the_askers_own_need_not_be_on_a_page():
    # "… need self declared as MyObject * rather than the default type": a name the asker made to say it is theirs
    # ("MyObject", "my_list"), which no page writes and none needs to; a proper name no page holds still is unknown.
    idf = bm25_idf(lambda term: 0 if term in {"", "myobject", "rust"} else 5, 100)
    question = ("Dozens of methods need self declared as MyObject * rather than the default type. Writing "
                "self(type=\"MyObject *\") in every block is getting repetitive. Is there a neater way?")
    assert "MyObject" in own_names(question)
    assert analyse(question, idf).unknown == ()
    assert analyse("Dozens of methods need self declared in Rust. Is there a neater way?", idf).unknown == ("Rust",)


def test_a_word_the_asking_clause_quotes_is_unknown_when_no_page_holds_it():
    # "What does the 'surrogatepass' error handler do …?" is not answered by pages on 'surrogateescape'; a word the
    # setup quotes ("encoding them with 'strict' fails") is the asker's situation.
    idf = bm25_idf(lambda term: 0 if term in {"", "surrogatepass", "strict"} else 5, 100)
    assert analyse("Encoding my file names fails. What does the 'surrogatepass' error handler do?", idf).unknown == (
        "surrogatepass",)
    assert analyse("Encoding them with 'strict' fails. What does the surrogate error handler do?", idf).unknown == ()
    assert analyse("How do I count how often the word 'surrogatepass' turns up in a list?", idf).unknown == ()


def test_an_exception_class_the_askers_code_raises_or_catches_need_not_be_on_a_page():
    # "raise UploadError('upload failed') from ConnectionError": the asker's (or their library's) exception class,
    # which no page writes and none needs to, in each part of a question asking two things too; named in prose, it
    # is still a name the pages must hold.
    idf = bm25_idf(lambda term: 0 if term in {"", "uploaderror", "notfounderror"} else 5, 100)
    question = ("A colleague wrote raise UploadError('upload failed') from ConnectionError. Is that allowed, and what "
                "ends up in the new exception's __cause__?")
    asked = analyse(question, idf)
    assert asked.parts and all(part.unknown == () for part in asked.parts)
    assert analyse("One caller only has except NotFoundError:. Does that also catch its base class?", idf).unknown == ()
    assert analyse("Does the logging module report UploadError failures by itself?", idf).unknown == ("UploadError",)
    # … and one the index holds rarely is no rare name the passages answering must write (rag.answer.rare_names),
    # raised in prose too ("… now and then raises ConnectionError")
    rare = bm25_idf(lambda term: 1 if term == "connectionerror" else 60, 100)
    question = ("The factory of my defaultdict fetches a default from a config service and now and then raises "
                "ConnectionError. When that happens during d[key], does the caller get a KeyError or my ConnectionError?")
    assert rare_names(question, rare) == ()
    assert rare_names("Does the caller get a KeyError or a ConnectionError?", rare) == ("ConnectionError",)


def test_a_value_a_yes_no_question_asks_about_is_no_name_the_passages_must_write():
    # "Will isinstance(buf, Hashable) then correctly say False?" is answered by "… would be incorrectly identified as
    # hashable by an isinstance(obj, collections.abc.Hashable) call", which never writes False.
    rare = bm25_idf(lambda term: 1 if term in {"fals", "buffer"} else 60, 100)
    question = "My Buffer class raises TypeError in __hash__. Will isinstance(buf, Hashable) then correctly say False?"
    assert rare_names(question, rare) == ()
    assert rare_names("Will the Buffer class then be hashable?", rare) == ("Buffer",)


def test_a_placeholder_in_a_name_is_answered_by_the_sentence_saying_what_it_is(fresh_assistant):
    # "What does the NN stand for [in pythonNN.dll]?" is no acronym to spell out: "NN is the Python version, …"
    # says what it stands for. A sentence merely naming it does not.
    assert carries("NN is the Python version, a number such as 33 for Python 3.3.", EXPANSION, "NN")
    assert not carries("Link with pythonNN.dll, where NN varies.", EXPANSION, "NN")
    indexed_with(fresh_assistant, "embedding.md", (
        "# Embedding Python on Windows\n\nDo not build Python into your .exe file directly. On Windows, link with "
        "pythonNN.dll; it is typically installed in C:\\Windows\\System. NN is the Python version, a number such as "
        "33 for Python 3.3. You can link to Python in two different ways.\n"))
    answered_with(fresh_assistant, "The instructions for embedding keep telling me to link with pythonNN.dll. What "
                  "does the NN stand for?", "NN is the Python version")


def test_a_term_defined_by_the_clause_after_it_is_the_definition(fresh_assistant):
    # "… used for specifying a character class, which is a set of characters that you wish to match": the clause
    # after the term says what it is, ahead of sentences that only use the term ("[abc] is a character class …").
    indexed_with(fresh_assistant, "regex.md", (
        "# Regular expressions\n\n## Special sequences\n\nSpecial sequences can be included inside a character "
        "class. For example, [\\s,.] is a character class that will match any whitespace character, or ',' or "
        "'.'.\n\n## Metacharacters\n\nThe first metacharacters we'll look at are [ and ]. They're used for "
        "specifying a character class, which is a set of characters that you wish to match. If the caret appears "
        "elsewhere in a character class, it does not have special meaning.\n"))
    answer = answered_with(fresh_assistant, "Tutorials keep talking about character classes written in square "
                           "brackets. What is a character class?", "which is a set of characters")
    assert "will match any whitespace" not in answer.answer.split("which is a set of characters")[0], answer.answer


def test_an_attribute_suggested_as_the_way_must_be_written_by_the_pages():
    # "…, for example through the match object's lastgroup attribute?": the way the asker suggests, which pages that
    # never write it do not document (they say how to name a group, not which one matched).
    question = ("After each match, how do I find out which of the named groups matched, for example through the "
                "match object's lastgroup attribute?")
    assert suggested_names(question) == ["lastgroup"]
    assert unwritten_names(question, ["Named groups are still given numbers."]) == ("lastgroup",)
    assert unwritten_names(question, ["The lastgroup attribute names the last matched group."]) == ()


def test_a_how_to_leaning_on_its_setup_is_still_gated_when_it_asks_for_a_word_no_page_holds():
    # "How do I convert such a domain name to punycode …?" leans on its setup ("such a domain name"), so the
    # how-to gate cannot read it alone; but what it wants ("punycode") is on no page, and pages that never write it
    # do not say how, however close they come to domain names. Without such a word it is still read as no how-to.
    idf = bm25_idf(lambda term: 0 if term in {"", "punycod"} else 50, 5000)  # a large index lacking "punycode"
    setup = "Our sign-up form accepts e-mail addresses with international domain names such as münchen.de. "
    gated = analyse(setup + "How do I convert such a domain name to punycode for the mail server?", idf)
    assert gated.how_to is not None and "punycod" in gated.how_to.unheld
    assert analyse(setup + "How do I convert such a domain name to ASCII for the mail server?",
                   idf).how_to is None
    # … and so is one too short to judge alone, or leaning on the setup by a pronoun ("How do I make it support the
    # vectorcall protocol?"), when what it wants is on no page
    idf = bm25_idf(lambda term: 0 if term in {"", "vectorcal"} else 50, 5000)
    setup = "My C extension type is called millions of times from Python and the call overhead shows up in profiles. "
    gated = analyse(setup + "How do I make it support the vectorcall protocol?", idf)
    assert gated.how_to is not None and "vectorcal" in gated.how_to.unheld
    assert analyse(setup + "How do I make it support the fastcall protocol?", idf).how_to is None


def test_a_module_constant_in_capitals_is_named_by_the_constant_alone():
    # "Why does the regex HOWTO advise against re.LOCALE?": the HOWTO's flags table writes "LOCALE, L" beside the re
    # module's calls, not "re.LOCALE"; a constant in capitals is code as it stands. A word in lower case is not
    # ("the locale mechanism"), nor the constant on a page that never names its module.
    assert mentions("re.LOCALE", "LOCALE, L: Do a locale-aware match. Call re.compile(pattern, flags).")
    assert not mentions("re.LOCALE", "The locale mechanism is unreliable. Call re.compile(pattern, flags).")
    assert not mentions("re.LOCALE", "Setting the LOCALE flag makes matching slower.")
    assert not mentions("heapq.heappop", "heappop is a word here, next to heapq.")  # no call, no attribute


ADAPTERS = (
    "# Adding context with adapters\n\nThe logging package lets you wrap a logger to add context to every message. "
    "When you create an instance of LoggerAdapter, you pass it a Logger instance and a dict-like object holding your "
    "context. The adapter is designed to look like a Logger, so that you can call debug(), info(), warning(), error(), "
    "exception(), critical() and log(). These methods have the same signatures as their counterparts in Logger, so "
    "you can use the two types of instances interchangeably.\n")


def test_a_class_is_named_by_its_name_as_a_word_beside_its_module(fresh_assistant):
    # "… take a logging.Logger …": a page writes the class as prose does ("you pass it a Logger instance"), not as
    # "logging.Logger" or "Logger(": a capitalised class name is code as it stands, next to its module's name.
    assert mentions("logging.Logger", "The logging package: you pass it a Logger instance.")
    assert not mentions("logging.Logger", "You pass it a Logger instance.")  # not without its module
    assert not mentions("pathlib.Path", "The pathlib module: give the path to a folder.")  # a word, not the class
    indexed_with(fresh_assistant, "adapters.md", ADAPTERS)
    answered_with(fresh_assistant, "Our helper functions are typed to take a logging.Logger and call .info() and "
                  ".log(level, ...) on it. Can I pass them a LoggerAdapter instead, or do its methods differ?",
                  "same signatures as their counterparts in Logger")


def test_words_inside_a_string_the_askers_code_passes_are_their_data():
    # "Enum('Level', 'LOW MEDIUM HIGH')": the member names are the asker's, which no page need write; the same
    # name written in the prose of the question is still one the pages must hold.
    idf = bm25_idf(lambda term: 0 if term in {"", "medium"} else 5, 100)  # no passage holds "medium"
    assert analyse("I create an enum on the fly with Enum('Level', 'LOW MEDIUM HIGH'). How do I make the assigned "
                   "numbers begin at 0?", idf).unknown == ()
    assert analyse("I set level = 'MEDIUM' in my config. How do I make the assigned numbers begin at 0?",
                   idf).unknown == ()
    assert analyse("My enum's members include MEDIUM. How do I make the assigned numbers begin at 0?",
                   idf).unknown == ("MEDIUM",)
    # … nor an acronym the passages must write, when the asking clause itself passes the string
    assert acronyms("Why does Enum('Level', 'LOW MEDIUM HIGH') start counting at 1?") == ()
    assert acronyms("Why does Enum('Level', 'LOW MEDIUM HIGH') number LOW as 1?") == ("LOW",)  # written outside it
    assert acronyms("Why does my enum number LOW as 1 and MEDIUM as 2?") == ("LOW", "MEDIUM")


def test_a_why_question_asks_for_a_reason_whatever_word_it_uses():
    # "Why would breaking code up like that cost speed?" asks for a reason, not an amount: "cost" types "How much does
    # it cost?" only. A reason carries no amount, so typing it declined a question the FAQ answers.
    assert analyse("I split a hot loop into small helper functions and it runs slower. Why would breaking code up "
                   "like that cost speed in Python?").type is None
    assert analyse("How much does the hosted service cost?").type == "amount"


def test_a_name_in_capitals_the_setups_code_binds_is_the_askers_own():
    # "class Status(Enum): DRAFT = 10, then REVIEW = auto() …. Which values do REVIEW and DONE end up with?": the
    # asking clause writes the asker's members, which no page need write; one the setup does not bind is still an
    # acronym the pages must write, as are the same names in a question with no setup binding them.
    text = "For standard Enum classes the next value chosen is the last value seen incremented by one."
    found = [written_text(Passage(text=text, start=0, end=len(text), section="Using auto", page=None, id=0,
                                  source="enum.md", title=""))]
    question = "class Status(Enum): DRAFT = 10, then REVIEW = auto() and DONE = auto(). Which values do REVIEW and {}?"
    assert unwritten_names(question.format("DONE end up with"), found) == ()
    assert unwritten_names(question.format("CLOSED get"), found) == ("CLOSED",)
    assert unwritten_names("Which values do REVIEW and DONE end up with after auto()?", found) == ("REVIEW", "DONE")


def test_a_class_the_asker_names_after_its_kind_is_their_own():
    # "… only for my base class Shape. When the generic function is called with a Circle, a subclass of Shape, …":
    # the asker's classes, which no page need write; a name after "my class" that a kind word follows is none.
    question = ("I registered a functools.singledispatch implementation only for my base class Shape. When the generic "
                "function is called with a Circle, a subclass of Shape, does it pick the Shape implementation?")
    assert {"Shape", "Circle"} <= own_names(question)
    assert "Point" in own_names("In my class Point I define __eq__.")
    assert "Foo" not in own_names("In my module Foo class I define __eq__.")
    idf = bm25_idf(lambda term: 0 if term in {"", "shape", "circl"} else 5, 100)  # no passage holds these
    assert analyse(question, idf).unknown == ()


def test_names_no_one_section_writes_together_are_answered_where_one_of_them_is(fresh_assistant):
    # "… wait for a key with getch(). Do I have to call refresh() myself …?": the pages name refresh() in one section
    # and getch() in another, whose "getch() refreshes the screen" answers; no passage writes both. A name no passage
    # writes at all is still asked about, and the question is declined.
    indexed_with(fresh_assistant, "curses.md", (
        "# Curses\n\n## Windows\n\nNothing is drawn until you call the refresh() method of the window: curses sends "
        "the changes to the terminal only then.\n\n## User Input\n\nThe getch() method refreshes the screen and then "
        "waits for the user to hit a key, displaying the key if echo() has been called earlier.\n"))
    question = ("I draw my menu with a few addstr() calls and then wait for a key with getch(). Do I have to call "
                "refresh() myself in between, or does getch() take care of that?")
    answered_with(fresh_assistant, question, "getch() method refreshes the screen")
    assert not extractive_answer(fresh_assistant, "I wait for a key with getch(). Do I have to call redrawwin() "
                                 "myself first, or does getch() take care of that?").grounded


def test_a_name_the_askers_code_binds_after_a_comma_is_theirs_but_a_keyword_argument_is_not():
    # "… a private lookup table, __by_code = {}, next to the real members": the asker's name, which no page need
    # write; "f(a, key=…)" passes the API's own parameter, inside the call's brackets.
    assert "__by_code" in own_names("Inside my Enum class body I keep a private lookup table, __by_code = {}, next "
                                    "to the real members. Does that name turn into an enum member too?")
    assert "key" not in own_names("I call sorted(rows, key=str.lower). Is the sort stable?")
    # … and so is an attribute the asker sets on an object or type ("str.shout = lambda s: …")
    assert "str.shout" in own_names("Just to try it I wrote str.shout = lambda s: s.upper() and got a TypeError.")
    assert "level" not in own_names("I call logging.basicConfig(filename='app.log', level=logging.INFO) twice.")


def test_a_cue_word_in_the_next_clause_does_not_make_a_phrase_name_a_document():
    # "… add to the class so callers can just write async for …": the callers write, and "the class" is the asker's
    # class, not the page titled "9. Classes"; "the Classes page say" still names it.
    titles = {"classes.html": "9. Classes", "sorting.html": "Sorting HOW TO", "io.html": "7. Input and Output"}
    assert named_documents("Our wrapper class has an async readline() coroutine. Show me what to add to the class so "
                           "callers can just write async for line in port.", titles) == {}
    assert named_documents("What does the Classes page say about private variables?", titles).keys() == {"classes.html"}


def test_asking_what_something_described_would_look_like_asks_for_code():
    # "I want one tiny generator that … prints a message when it gets closed. What would that look like?": the code,
    # shown; "What should the string returned by __repr__ look like?" asks what the string is, not for code.
    assert analyse("For a workshop I want one tiny generator that echoes back whatever is sent in and prints a "
                   "message when it gets closed. What would that look like?").wants_code
    assert analyse("Python says my f-string ends too early. What does the working version look like?").wants_code
    assert not analyse("What should the string returned by my class's __repr__ method look like?").wants_code


RENAMING_FILES = (
    "# Files\n\n## Renaming\n\nTo rename a file, use os.rename(old_path, new_path). It works within one file "
    "system.\n\n## Paths\n\nThe rename method of a path renames that file to the given target. Relative paths are "
    "interpreted relative to the current working directory. It is implemented in terms of os.rename() and gives "
    "the same guarantees.\n")
RENAME_QUESTION = ("My download script writes to report.tmp and, once the download is complete, should give the file "
                   "its final name. Which function do I call to rename a file?")


def test_a_call_with_several_arguments_is_a_call_the_sentence_names(fresh_assistant):
    # "Which function do I call to rename a file?": "To rename a file, use os.rename(old_path, new_path)." names the
    # call (its arguments are spaced after the comma), and comes before a sentence naming os.rename() in passing.
    indexed_with(fresh_assistant, "files.md", RENAMING_FILES)
    answer = answered_with(fresh_assistant, RENAME_QUESTION, "os.rename(old_path, new_path)")
    assert answer.answer.startswith("To rename a file"), answer.answer
    from rag.backends.extractive import _calls
    assert _calls("Copy it with shutil.copy(src, dst), see (the notes) first.") == {"copy"}


def test_a_documents_title_is_no_second_topic_to_quote_beside_the_answer(fresh_assistant):
    # The document's title ("title: Files") holds words of the question the chosen sentences leave out, but a title is
    # no second topic to add beside them: it is quoted only for a question about titles.
    indexed_with(fresh_assistant, "files.md", RENAMING_FILES)
    answer = answered_with(fresh_assistant, RENAME_QUESTION, "os.rename(old_path, new_path)")
    assert "title:" not in answer.answer, answer.answer


def test_a_builtin_a_class_customises_is_named_by_its_special_method():
    # "… its own fixed-width str() output": a page defining __str__() for it speaks of str(); a page writing neither
    # does not, and a name that is no such built-in ("save") is not named by "__save__".
    assert mentions("str", "...     def __str__(self):\n...         return 'Point: x=%6.3f' % self.x")
    assert mentions("len", "Called to implement the built-in function len(). Should return the length.")
    assert not mentions("str", "Point(x=11, y=22) and the _fields attribute")
    assert not mentions("save", "def __save__(self): ...")
    assert not mentions("anext", "which can call asynchronous code in its __anext__ method")


def test_a_note_that_an_entry_raises_an_auditing_event_answers_only_questions_about_auditing():
    # "Raises an auditing event pathlib.Path.glob with arguments self, pattern." says what security hooks see: no
    # answer to "Does glob return dotfiles?", but one to a question about audit hooks.
    from rag.backends.extractive import _quotable
    from rag.units import SENTENCE, Unit
    note = Unit("Raises an auditing event pathlib.Path.glob with arguments self, pattern.", SENTENCE, 0)
    assert not _quotable(note, analyse("Does Path.glob('*') also return dotfiles such as .env?"))
    assert _quotable(note, analyse("Which audit event does Path.glob raise for my audit hook?"))
    assert _quotable(Unit("Glob the given relative pattern in the directory represented by this path.", SENTENCE, 0),
                     analyse("Does Path.glob('*') also return dotfiles such as .env?"))


def test_a_release_note_saying_what_was_forbidden_before_answers_whether_it_is_allowed():
    # "Changed in version 3.2: Previously it was illegal to delete a name …" says what holds now, not only when it
    # changed: it answers whether the del is allowed. A note saying only what came when still does not.
    from rag.backends.extractive import _quotable
    from rag.units import SENTENCE, Unit
    question = analyse("Is del allowed on a local name that a nested helper function still reads?")
    assert _quotable(Unit("Changed in version 3.2: Previously it was illegal to delete a name from the local namespace "
                          "if it occurs as a free variable in a nested block.", SENTENCE, 0), question)
    assert _quotable(Unit("Changed in version 3.8: Prior to Python 3.8, a continue statement was illegal in the "
                          "finally clause.", SENTENCE, 0), question)
    assert not _quotable(Unit("Changed in version 3.2: Added support for deleting names from the local namespace.",
                              SENTENCE, 0), question)


def test_a_cue_word_in_the_passive_does_not_make_a_phrase_name_a_document():
    # "… the encoding has to be written into the clinic block": nobody says the page titled "json — JSON encoder and
    # decoder" writes anything; "the class the method was defined in" names no "9. Classes". "The JSON encoder page
    # says …" still names it.
    titles = {"json.html": "json — JSON encoder and decoder", "classes.html": "9. Classes"}
    assert named_documents("After moving the function to Argument Clinic, the encoding has to be written into the "
                           "clinic block. Why did Clinic take that flexibility away?", titles) == {}
    assert named_documents("My impl needs the class the method was defined in. What do I put into the clinic input?",
                           titles) == {}
    assert named_documents("The JSON encoder page says NaN is allowed. Why?", titles).keys() == {"json.html"}


def test_a_possessive_after_a_phrase_does_not_make_it_name_a_document():
    # "How do I write the annotation for a function's return type …": the possessive is the function's, so nothing
    # names the page titled "Annotations Best Practices", and "annotation" stays a word the answer must say (it was
    # taken out of the question and the tutorial's "Return annotations are defined by a literal ->, …" was declined).
    # "Who is the starter pack's author?" still names the pack.
    titles = {"howto/annotations.html": "Annotations Best Practices", "pack.md": "AI Alignment Starter Pack"}
    assert named_documents("How do I write the annotation for a function's return type in a def line, and where "
                           "exactly does it go?", titles) == {}
    assert named_documents("Who is the starter pack's author?", titles).keys() == {"pack.md"}


@pytest.mark.skipif(not (PYDOCS / "howto" / "regex.html").is_file(), reason="the pydocs set is not on this machine")
def test_a_backslash_escape_asked_about_is_answered_from_its_own_entry(fresh_assistant):
    # "\S" and "\s" differ only in case, and so do the sentences of their entries in the regex HOWTO ("Matches any
    # non-whitespace character" / "Matches any whitespace character"): the escape the question asks about is a code
    # name whose entry is titled by it, so the other one's entry does not answer.
    indexed_page(fresh_assistant, "howto/regex.html")
    answer = answered_with(fresh_assistant, "What does \\B mean in a pattern, compared with \\b?",
                           "the opposite of \\b")
    assert not answer.answer.startswith("Word boundary")
    answered_with(fresh_assistant, "Does \\s in a pattern also match tabs and line breaks, or only spaces?",
                  "Matches any whitespace character")


def test_a_how_to_is_answered_by_the_entry_of_the_call_named_for_what_it_asks(fresh_assistant):
    # "How do I tally … in a list?" shares few words with list.count()'s entry ("Return the number of times x appears
    # in the list."), but the entry is of the call named for what is asked, on the type asked about; an entry of
    # another type's call is no answer.
    indexed_with(fresh_assistant, "lists.html", (
        "<html><body><div class='body' role='main'><h1>Lists</h1><p>Lists hold items in order.</p>"
        "<dl class='py method'><dt class='sig'>list.append(x)</dt><dd><p>Add an item to the end of the list.</p></dd>"
        "</dl><dl class='py method'><dt class='sig'>list.count(x)</dt><dd><p>Return the number of times x appears "
        "in the list.</p></dd></dl><dl class='py method'><dt class='sig'>deque.count(x)</dt><dd><p>Return the "
        "number of deque elements equal to x.</p></dd></dl></div></body></html>"))
    answered_with(fresh_assistant, "How do I count how often the word 'spam' turns up in a list of tokens?",
                  "Return the number of times x appears in the list")


def test_a_call_on_an_object_of_the_askers_code_is_no_name_a_page_must_write():
    # "m = pat.match(line)", "I tried fields.append('ts')": the asker's variables, which no page writes, with a
    # method called on them; a module's function ("json.dumps(obj)"), a built-in type's method ("str.join(parts)")
    # and an attribute asked about by itself ("… through pattern.groupindex?") stay names the answer must find.
    assert analyse("After m = pat.match(line) succeeds I call m.start(). Can that be anything other than "
                   "0?").names == ()
    assert analyse("Inside def log(*fields): I tried fields.append('ts') and got an AttributeError. Why?").names == ()
    assert analyse("Does json.dumps(obj) sort the keys?").names == ("json.dumps",)
    assert analyse("Is str.join(parts) faster than adding strings?").names == ("str.join",)
    assert analyse("How do I get the group numbers from a compiled pattern, for example through "
                   "pattern.groupindex?").names == ("pattern.groupindex",)


def test_a_sentence_saying_the_version_asked_about_may_answer_in_other_words(fresh_assistant):
    # "… the behaviour Python had before 3.2 …": the sentence naming that version ("To obtain the pre-3.2 behaviour,
    # …") answers, though it shares few of the question's words and is not very close in meaning to all of it.
    indexed_with(fresh_assistant, "logging.md", (
        "# Logging\n\n## When no handlers are configured\n\nIf no logging configuration is provided, events of "
        "severity WARNING and greater are printed to sys.stderr by a handler of last resort. This internal handler "
        "is not associated with any logger. To obtain the pre-3.2 behaviour, logging.lastResort can be set to "
        "None.\n\n## Handlers\n\nHandlers send the log records to the appropriate destination.\n"))
    answered_with(fresh_assistant, "My script never configures logging, yet warnings from a library it uses get "
                  "printed bare on stderr. I want what the logging package did before 3.2, when such events were not "
                  "sent anywhere. What do I have to change?", "logging.lastResort can be set to None")


def test_a_call_the_asker_wants_to_do_without_is_no_name_a_page_must_write():
    # "… straight from the format spec, without me calling strftime()": the answer (an f-string's format spec) need
    # not name the call the asker would rather not make; one asked about stays a name.
    assert analyse("Show me an f-string that prints a date as 'January 27, 2017' straight from the format spec, "
                   "without me calling strftime().").names == ()
    assert analyse("With pathlib, how do I read a whole binary file in one call, without open() and "
                   "read()?").names == ()
    assert analyse("Does strftime() pad the day with a zero?").names == ("strftime",)


def test_a_unit_carrying_the_number_asked_for_needs_less_of_the_questions_words(fresh_assistant):
    # "Is there a rough coverage percentage we should be aiming for?": the sentence giving the percentage shares few
    # of the question's words and is not as close in meaning as a typed question's answer otherwise must be.
    indexed_with(fresh_assistant, "porting.md", (
        "# Porting Python 2 code\n\n## Have good test coverage\n\nOnce your code supports the oldest version you "
        "want, make sure your test suite is good. If you want a number to aim for, try to get over 80% coverage of "
        "your code base (and don't feel bad if you find it hard to get better than 90% coverage). If you don't "
        "already have a tool to measure test coverage then coverage.py is recommended.\n\n## Drop support for old "
        "versions\n\nOnly worry about the newest versions you need.\n"))
    answered_with(fresh_assistant, "Before we start porting our Python 2 code base we want to beef up the tests. Is "
                  "there a rough coverage percentage we should be aiming for?", "80% coverage")


def test_a_typed_answer_in_the_sentence_after_the_one_stating_what_is_asked_about(fresh_assistant):
    # "Who originally created Python for .NET, …?" / "… makes .NET libraries available. It was created by Brian
    # Lloyd.": the sentence giving the person speaks of what the one before it states, in its pronoun alone; the
    # answer quotes it after that one, and its citation answers the question as the sentence it finishes.
    indexed_with(fresh_assistant, "predictors.md", "# Tide predictors\n\n## Harbour Runner\n\nThis tide predictor "
                 "actually uses the gauge network's own tables, but runs as a managed service and makes tide forecasts "
                 "available to small harbours. It was created by Mara Quist. For more information, see the project's "
                 "home page.\n\n## Wave Desk\n\nAn alternate predictor for large ports, built on satellite swell data.\n")
    answer = answered_with(fresh_assistant, "Who originally created Harbour Runner, the tide predictor that uses the "
                           "gauge network's tables and makes tide forecasts available to small harbours?",
                           "It was created by Mara Quist [1].")
    assert answer.answer.index("makes tide forecasts available") < answer.answer.index("Mara Quist")


def test_a_typed_answer_in_the_sentence_after_a_signature_speaking_of_its_parameter(fresh_assistant):
    # "If I call itertools.tee(it) without saying how many …, how many iterators do I get back?" / "itertools.tee(iter,
    # [n]) replicates an iterator; it returns n independent iterators … If you don't supply a value for n, the default
    # is 2.": the number is in the sentence after the signature, which it goes on about by naming its parameter.
    indexed_with(fresh_assistant, "streams.md", "# Stream helpers\n\n## Splitting streams\n\nstreams.fanout(source, "
                 "[n]) copies a stream; it returns n independent copies that all yield the items of the source. If you "
                 "don't supply a value for n, the default is 3. Splitting keeps every item some copy has not read yet "
                 "in memory, which can be a lot when one copy falls far behind.\n\n## Joining streams\n\n"
                 "streams.merge(first, second) interleaves two streams into one, taking items as they arrive.\n")
    answer = answered_with(fresh_assistant, "If I call streams.fanout(src) without saying how many copies I want, how "
                           "many streams do I get back?", "the default is 3")
    assert answer.answer.index("copies a stream") < answer.answer.index("the default is 3")


def test_the_most_specific_word_asked_is_not_one_of_what_the_asker_compares_it_with():
    # "…, the way I already do with plain dicts?": "plain" is rarer than "ChainMap" in the index, but what the asker
    # compares with is no thing a yes/no answer must speak of; asked about, it is.
    idf = bm25_idf(lambda term: {"": 0, "plain": 2, "chainmap": 6}.get(term, 400), 2000)
    assert analyse("On Python 3.11, can I merge a ChainMap with a dict of overrides using the | operator, the way I "
                   "already do with plain dicts?", idf).rarest == "chainmap"
    assert analyse("On Python 3.11, can I merge plain dicts and a ChainMap with the | operator?", idf).rarest == "plain"


def test_an_acronym_most_passages_hold_need_not_be_written_by_the_passages_found():
    # "What does the porting HOWTO point to?" in docs whose pages are HOWTOs: the acronym is their subject, as
    # "Python" is, which the passage answering need not repeat; a rare one ("PUT") still must be written, and in a
    # small index none is the subject.
    idf = bm25_idf(lambda term: {"": 0, "howto": 1800}.get(term, 5), 2000)  # a large index (UNHELD_MIN_PASSAGES)
    question = "I'd like a core developer's view on Python 3. What does the porting HOWTO point to?"
    assert subject_acronyms(question, idf) == ("HOWTO",)
    found = ["If you would like to read one core Python developer's take on why Python 3 came into existence, read …"]
    assert unwritten_names(question, found, (), subject_acronyms(question, idf)) == ()
    assert unwritten_names(question, found) == ("HOWTO",)
    assert subject_acronyms("How do I send an HTTP PUT request?", idf) == ()
    assert subject_acronyms(question, bm25_idf(lambda term: {"": 0, "howto": 90}.get(term, 5), 100)) == ()


def test_a_name_the_askers_error_says_does_not_exist_need_not_be_on_a_page():
    # "curses.has_colours() fails with AttributeError: module 'curses' has no attribute 'has_colours'": the name is
    # the mistake asked about ("curses uses the American spelling 'color'"), which no page writes; a name the question
    # calls without such an error still must be written.
    asked = analyse("curses.has_colours() fails with AttributeError: module 'curses' has no attribute 'has_colours'. "
                    "What am I doing wrong?")
    assert "curses.has_colours" not in asked.names
    assert "ElementTree.parse" not in analyse("I called ElementTree.parse('data.xml'), but Python says NameError: name "
                                              "'ElementTree' is not defined. What did I miss?").names
    assert "curses.has_colors" in analyse("curses.has_colors() returns False in my terminal. Why?").names


def test_a_sentence_speaking_of_this_book_is_quoted_with_the_reference_it_speaks_of(fresh_assistant):
    # "In this classic textbook …" answers "is there a textbook …?" only with the reference naming the book, read
    # past the link line between them.
    assert _draws_on(analyse("Is there a textbook on streams?"),
                     Unit("In this classic textbook of computer science, chapter 3 discusses streams.", SENTENCE, 0))
    assert _link_line(Unit("Full text at https://mitpress.mit.edu/sicp/.", SENTENCE, 0))
    assert not _link_line(Unit("Download it from https://www.python.org/ and run the installer.", SENTENCE, 0))
    indexed_with(fresh_assistant, "functional.md", (
        "# Functional Programming HOWTO\n\n## References\n\nStructure and Interpretation of Computer Programs, by "
        "Harold Abelson and Gerald Jay Sussman with Julie Sussman. Full text at https://mitpress.mit.edu/sicp/. "
        "In this classic textbook of computer science, chapters 2 and 3 discuss the use of sequences and streams to "
        "organize the data flow inside a program.\n"))
    answered_with(fresh_assistant, "Is there a classic textbook that explains how to organize a program's data flow "
                  "with sequences and streams?", "Structure and Interpretation of Computer Programs",
                  "In this classic textbook")


def test_an_entry_the_question_names_is_quoted_under_its_signature_when_the_question_names_a_parameter(
        fresh_assistant):
    # "… python.function.entry gives me filename, funcname and lineno. Anything else?": the entry is named, but its
    # signature lists what it hands over ("frameptr"), which the first sentence never says. An entry named without
    # its parameters ("What does Path.is_fifo do?") is quoted without the signature it already knows.
    indexed_with(fresh_assistant, "tapset.md", (
        "# Instrumenting CPython\n\n## Static markers\n\n### python.function.entry(str filename, str funcname, int "
        "lineno, frameptr)\n\nThis probe point indicates that execution of a Python function has begun.\n\n"
        "### python.function.return(str filename, str funcname, int lineno, frameptr)\n\nThis probe point is the "
        "converse of python.function.entry.\n\n### Path.is_fifo()\n\nReturn True if the path points to a FIFO.\n"))
    answered_with(fresh_assistant, "My probe python.function.entry gives me filename, funcname and lineno. Does the "
                  "probe point hand my script anything else when a function's execution has begun?",
                  "python.function.entry(str filename, str funcname, int lineno, frameptr) [1]. This probe point "
                  "indicates")
    answer = answered_with(fresh_assistant, "What does Path.is_fifo() return for a FIFO?", "Return True if the path")
    assert not answer.answer.startswith("Path.is_fifo()"), answer.answer
    # a method's own instance or class is no parameter a question names: "object.__repr__(self)" says nothing new
    assert not names_a_parameter("object.__repr__(self)", "What should __repr__ return when self holds a list?")
    assert names_a_parameter("object.__format__(self, format_spec)", "Which format_spec does it get?")


# ---- a second site generator: HTTPX's documentation (bench/sites/httpx, MkDocs Material) -----------------------------

HTTPX_SITE = Path(__file__).resolve().parent.parent / "bench" / "sites" / "httpx"


@pytest.fixture(scope="module")
def httpx_site(tmp_path_factory, embedder):
    """An Assistant over a real index of HTTPX's 23 documentation pages: read-only."""
    from rag.api import Assistant

    tmp = tmp_path_factory.mktemp("httpx-site")
    shutil.copytree(HTTPX_SITE, tmp / "corpus")
    assistant = Assistant(make_settings(tmp), embedder=embedder)
    assistant.index()
    return assistant


@pytest.mark.parametrize("question, evidence", [
    # a why asked after the asker's premise wants the reason, not the premise restated ("HTTP/2 is a major new
    # iteration …, with potential performance benefits")
    ("HTTP/2 is quicker in theory, so why is it switched off unless I ask for it?",
     "HTTP/2 support is not enabled by default, because HTTP/1.1 is a mature"),
    # a way of finding out how much asks for the way, which no number need come with
    ("While a large download runs I'd like to update a progress display. What should I read to know how much has "
     "arrived?", "inspect the response.num_bytes_downloaded property"),
    # the oldest version asked for is a version, which a sentence of four words may give
    ("What's the minimum Python version httpx supports?", "HTTPX requires Python 3.9+"),
])
def test_httpx_docs_answers_cite_the_evidence(httpx_site, question, evidence):
    answer = extractive_answer(httpx_site, question)
    assert answer.grounded and any(evidence in quoted(httpx_site, c) for c in answer.citations if c.answers), \
        answer.answer


def test_an_acronym_with_its_number_that_no_page_writes_is_declined(httpx_site):
    # "SOCKS4" is a name, as "SOCKS" is: pages about SOCKS5 proxies do not say whether SOCKS4 works
    declined = extractive_answer(httpx_site, "Does httpx work with a SOCKS4 proxy?")
    assert not declined.grounded and "SOCKS4" in declined.answer, declined.answer
    assert extractive_answer(httpx_site, "How do I send my requests through a SOCKS5 proxy?").grounded


def test_an_acronym_with_its_number_is_a_name_and_a_number_in_hex_is_not():
    idf = bm25_idf(lambda term: 0 if term in {"", "ff8800", "socks4"} else 50, 1000)  # neither on any page
    assert analyse("Can I use a SOCKS4 proxy with it?", idf).unknown == ("SOCKS4",)
    hexadecimal = "How do I write a number in hexadecimal directly in my Python source, like a color value FF8800?"
    assert analyse(hexadecimal, idf).unknown == ()
