"""Text utilities shared across the pipeline: one-line display, stemmed terms from many threads, chat history."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from conftest import CORPUS
from rag.prompt import chat_history
from rag.text import clean_line, content_words, one_line, passage_sentences, stemmer, terms

THREADS = 8


def test_one_line_collapses_whitespace_and_cuts_at_a_word():
    assert one_line("  a\n\tb  c ") == "a b c"
    assert one_line(ValueError("bad\nthing")) == "bad thing"
    assert one_line("alpha beta, gamma delta", 14) == "alpha beta…"
    assert one_line("supercalifragilistic", 5) == "super…"


def test_markdown_emphasis_is_taken_off_but_python_operators_are_kept():
    # Quoted from the Python tutorial: the power operator is no bold markup, "*args" no emphasis.
    power = "Since ** has higher precedence than -, -3**2 will be interpreted as -(3**2) and thus result in -9."
    assert clean_line(power) == power
    assert clean_line("def f(*args, **kwargs): uses *x*") == "def f(*args, **kwargs): uses x"
    assert clean_line("a **bold** and _emphasised_ word") == "a bold and emphasised word"


def test_what_looks_like_a_tag_in_a_passage_is_text_the_reader_sees():
    # The loaders take markup out; quoted, the regex HOWTO's "(?P<name>...)" read "(?P...)" and the FAQ's "from
    # <module> import ..." read "from import ...".
    for text in ("The syntax for a named group is (?P<name>...).", "avoid from <module> import ...",
                 "Run `pyenv install <version>` first.", "Mail A.M. Kuchling <amk@amk.ca>"):
        assert clean_line(text) == text


def test_a_documents_footnote_marks_are_dropped_but_indices_after_code_kept():
    # A bare "[1]" would read as one of the answer's citations; "sys.argv[0]" is what the page says.
    assert clean_line("as the paper[1] shows [2]. Next.[3]") == "as the paper shows. Next."
    assert clean_line("When -m module is used, sys.argv[0] is set") == "When -m module is used, sys.argv[0] is set"
    assert clean_line("heap[0], my_list[5], f()[2] and x[1]") == "heap[0], my_list[5], f()[2] and x[1]"
    # … and so are a list or index inside a call, assigned or compared: the tutorial's sort key was quoted and indexed
    # as "lambda pair: pair", and "b'123'[1] == b'2'" as "b'123' == b'2'".
    for code in (">>> pairs.sort(key=lambda pair: pair[1])", "In Python 2, b'123'[1] == b'2'", ">>> a_list += [1]",
                 "f(iterA[0], iterB[0]), f(iterA[1], iterB[1])"):
        assert clean_line(code) == code


def test_negative_contractions_are_function_words():
    # The index splits "can't" into pieces it never finds rare; as one focus term it would outweigh every other.
    assert content_words("Why can't 0.1 be represented exactly? It doesn’t fit, isn't exact.") == [
        "0", "1", "represented", "exactly", "fit", "exact"]
    assert terms("The cannot-fail test's ending") == {"cannot-fail", "test", "end"}


def test_a_typographic_apostrophe_is_read_as_a_straight_one():
    # The Python docs write "A finder’s job is to …": its word is "finder", as in "finder's".
    assert terms("A finder’s job") == terms("A finder's job") == {"finder", "job"}


def test_british_spellings_are_read_as_american_ones():
    # A question asking which colours curses offers is about the page's "Colors are numbered …"; one site may write
    # "behaviour" on one page and "behavior" on another.
    assert terms("The colours I get after I initialise it, its behaviour") == terms(
        "The colors you get after you initialize it, its behavior")
    assert content_words("serialised catalogue centre licence memoise analysed") == [
        "serialized", "catalog", "center", "license", "memoize", "analyzed"]
    # … but no word that only ends like one: "raise", "promise", "otherwise", "four", "hour", "detour"
    assert content_words("raise promise otherwise four hours detour") == [
        "raise", "promise", "otherwise", "four", "hours", "detour"]


def test_filler_words_say_nothing_of_the_topic():
    # "How can I fill in whatever data I have and just leave the other placeholders?": "whatever" and "just" are no
    # word the answer ("… safe_substitute() … will leave placeholders unchanged if data is missing") needs to hold
    assert content_words("fill in whatever data I have and just leave the placeholders") == [
        "fill", "data", "leave", "placeholders"]


def test_terms_from_many_threads_match_one_thread():
    """PyStemmer objects are not thread-safe: every thread must stem with its own, and get the same terms."""
    lines = [line for path in sorted(CORPUS.iterdir()) for line in path.read_text().splitlines() if line.strip()]
    expected = [terms(line) for line in lines]
    start = threading.Barrier(THREADS)

    def work(offset: int) -> tuple[object, list[set[str]]]:
        start.wait()  # all threads stem at once
        order = lines[offset:] + lines[:offset]  # each thread in a different order, so their words interleave
        stemmed = [terms(line) for line in order * 3]
        return stemmer(), stemmed[-len(lines):]

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(work, range(0, THREADS * 97, 97)))
    for offset, (_, stemmed) in zip(range(0, THREADS * 97, 97), results):
        assert stemmed == expected[offset:] + expected[:offset]
    instances = {id(instance) for instance, _ in results} | {id(stemmer())}
    assert len(instances) == THREADS + 1  # one stemmer per thread, the main thread's included
    assert len(lines) > 500 and stemmer() is stemmer()


def test_chat_history_keeps_text_of_user_and_assistant_turns():
    history = [
        {"role": "system", "content": "ignored"},
        {"role": "user", "content": "  What is <b>RLHF</b>?  "},
        {"role": "assistant", "content": [{"type": "text", "text": "Feedback"}, "training [1]."]},
        {"role": "assistant", "content": {"text": "   "}},
        "not a message",
        {"content": "no role"},
    ]
    assert chat_history(history) == [
        {"role": "user", "content": "What is <b>RLHF</b>?"},
        {"role": "assistant", "content": "Feedback training [1]."},
    ]
    assert chat_history(history, clean=lambda text: text.replace("<b>", "").replace("</b>", ""))[0] == {
        "role": "user", "content": "What is RLHF?"
    }
    assert chat_history(None) == []


def test_a_title_cut_at_its_own_exclamation_mark_goes_on_but_a_new_sentence_after_one_does_not():
    # "… worth watching: Where Did the Godwits Go? A Winter Count" is one title in a list after a lead-in; "… when
    # you are shut down! Nate Soares, Benja Fallenstein, and Eliezer Yudkowski introduce the concept …" is a new
    # sentence, names in capitals notwithstanding: its other words are not a title's.
    listed = ("The films are worth watching: Where Did the Godwits Go? A Winter Count, and Knots Everywhere! Roosts at "
              "High Water.")
    assert passage_sentences(listed) == [listed]
    assert passage_sentences("It is convergent behavior: you can't achieve goals when you are shut down! Nate Soares, "
                             "Benja Fallenstein, and Eliezer Yudkowski introduce the concept as an open problem.") == [
        "It is convergent behavior: you can't achieve goals when you are shut down!",
        "Nate Soares, Benja Fallenstein, and Eliezer Yudkowski introduce the concept as an open problem."]


def test_a_line_hard_wrapped_before_a_name_or_after_a_word_that_goes_on_is_rejoined():
    # Hand-wrapped Markdown breaks lines anywhere: "Researchers at / OpenAI found …" is one sentence, not a fragment
    # and a sentence missing its subject; so is "a descriptor whose / __get__() method …".
    assert passage_sentences("Researchers at\nOpenAI found that it works.") == ["Researchers at OpenAI found that it works."]
    assert passage_sentences("The value is set by\n2 flags.") == ["The value is set by 2 flags."]
    assert passage_sentences("The Ten class is a descriptor whose\n__get__() method returns 10.") == [
        "The Ten class is a descriptor whose __get__() method returns 10."]
    assert passage_sentences("Define it with\n`__slots__` in the class body.") == [
        "Define it with `__slots__` in the class body."]
    # A line that may end a heading still does, and a sentence begun in capitals after one is a sentence.
    assert passage_sentences("AI Alignment Overview\nHub page for AI alignment.") == [
        "AI Alignment Overview", "Hub page for AI alignment."]
    assert passage_sentences("Tkinter questions\nHow do I freeze Tkinter applications?") == [
        "Tkinter questions", "How do I freeze Tkinter applications?"]
