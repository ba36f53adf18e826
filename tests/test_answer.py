"""The answer pipeline with the extractive backend over a real index of corpus/."""

from __future__ import annotations

import json
import re

import pytest

from rag.answer import Answer, answer_stream
from rag.backends import BACKEND_NAMES, BackendError, get_backend
from rag.citations import MarkerRewriter, claims_of
from rag.text import split_sentences


@pytest.fixture(scope="module")
def extractive(indexed_assistant):
    return get_backend("extractive", indexed_assistant.settings)


def ask(assistant, backend, question, history=()):
    events = list(
        answer_stream(
            question, history, retrieve=assistant.search, embedder=assistant.embedder, backend=backend, k=5,
            idf=assistant.idf(), document_text=assistant.document_text,
        )
    )
    assert [e.kind for e in events[:-1]] == ["delta"] * (len(events) - 1) and events[-1].kind == "done"
    return [e.text for e in events[:-1]], events[-1].answer


@pytest.mark.parametrize(
    "question, source, fact",
    [
        ("What is specification gaming?", "ai-alignment-overview.txt", "loopholes in the reward function"),
        ("By how much does Constitutional AI reduce human labelling cost for safety training?",
         "ai-alignment-overview.txt", "80%"),
        ("Which organisation works on causal scrubbing?", "ai-alignment-overview.txt", "Redwood Research"),
        ("What is a corrigible AI?", "ai-alignment-starter-pack.md", "allows itself to be corrected"),
        ("In which year did OpenAI Codex appear?", "ai-alignment-starter-pack.md", "2021"),
        ("What did the image classifier in the Adversarial Patch paper misclassify a banana as?",
         "ai-alignment-starter-pack.md", "toaster"),
        ("Which scholars program produced the post on the core of the alignment problem?",
         "core-of-the-alignment-problem.md", "SERI ML Alignment Theory Scholars Program"),
    ],
)
def test_extractive_answers_factoids_with_the_right_citation(indexed_assistant, extractive, question, source, fact):
    deltas, answer = ask(indexed_assistant, extractive, question)
    assert answer.grounded and answer.backend == "extractive"
    assert fact in answer.answer
    # The sentence holding the fact cites a passage of the right document that contains it.
    sentence = next(s for s in split_sentences(answer.answer) if fact in s)
    cited = [answer.citations[int(n) - 1] for n in re.findall(r"\[(\d+)\]", sentence)]
    assert cited and all(c.passage.source == source and fact in " ".join(c.passage.text.split()) for c in cited)
    # Citations are numbered 1..n in order of first use, all checked as supported.
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert all(c.supported for c in answer.citations)
    first_use = [int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)]
    assert list(dict.fromkeys(first_use)) == [c.n for c in answer.citations]
    # Streamed sentences add up to the final text; uncited hits are still reported.
    assert "".join(deltas) == answer.answer and len(deltas) == len(split_sentences(answer.answer))
    cited_ids = {(c.passage.source, c.passage.start) for c in answer.citations}
    assert all((h.passage.source, h.passage.start) not in cited_ids for h in answer.uncited)
    assert len(answer.uncited) + len(cited_ids) == len(indexed_assistant.search(answer.query, 5))


@pytest.mark.parametrize("question", ["What is the boiling point of tungsten?", "Who won the 2018 FIFA World Cup?"])
def test_question_without_relevant_passages_is_not_grounded(indexed_assistant, extractive, question):
    deltas, answer = ask(indexed_assistant, extractive, question)
    assert not answer.grounded and answer.citations == []
    assert "do not appear to answer" in answer.answer and "".join(deltas) == answer.answer
    assert len(answer.uncited) == 5  # the closest passages are still shown


def test_extractive_follow_up_uses_the_previous_question(indexed_assistant, extractive):
    history = [
        {"role": "user", "content": "What is Constitutional AI?"},
        {"role": "assistant", "content": [{"type": "text", "text": "The model critiques its own outputs [1]."}]},
    ]
    _, answer = ask(indexed_assistant, extractive, "And which company developed it?", history)
    assert answer.query == "constitutional ai And which company developed it?"
    assert answer.grounded and "Anthropic" in answer.answer
    _, alone = ask(indexed_assistant, extractive, "And which company developed it?")
    assert alone.query == "And which company developed it?"


def test_retrieved_passages_can_be_announced_before_the_answer(indexed_assistant):
    events = list(indexed_assistant.ask("What is specification gaming?", backend="extractive", announce_retrieval=True))
    # the top 5 chunks, up to 2 chunks holding answer units nearer the question (rag.retrieve.with_unit_hits), the
    # opening of a section naming what is asked (with_section_leads) and the chunks going on in the top 5's sections
    # (with_section_rests)
    assert events[0].kind == "retrieved" and 5 <= len(events[0].hits) <= 5 + 2 + 1 + 5
    top = indexed_assistant.search("What is specification gaming?", k=5)
    assert [hit.passage.id for hit in events[0].hits[:5]] == [hit.passage.id for hit in top]
    final = events[-1].answer
    assert [hit.passage.id for hit in final.uncited] == [
        hit.passage.id for hit in events[0].hits if hit.passage.id not in {c.passage.id for c in final.citations}]


def test_answer_json_shape(indexed_assistant, extractive):
    _, answer = ask(indexed_assistant, extractive, "What is a paperclip maximizer?")
    data = json.loads(json.dumps(answer.to_dict()))
    assert set(data) == {"answer", "grounded", "state", "backend", "citations", "timings", "retrieved"}
    assert data["state"] == "verified"  # grounded; "unverified" and "not_found" are the other two
    assert set(data["citations"][0]) == {
        "n", "source", "title", "section", "text", "start", "end", "page", "code", "supported", "answers", "quote_start",
        "quote_end", "instruction_like",
    }
    assert data["citations"][0]["instruction_like"] is None  # set to the matched phrase for instruction-like text
    assert {"retrieval_ms", "first_token_ms", "total_ms"} <= set(data["timings"])
    assert data["timings"]["total_ms"] >= data["timings"]["first_token_ms"] >= data["timings"]["retrieval_ms"]
    # The quoted text is the stored document text at the cited offsets (up to the chunker's whitespace).
    citation = answer.citations[0]
    document = indexed_assistant.document_text(citation.passage.source)
    assert document[citation.passage.start : citation.passage.end].split() == citation.passage.text.split()
    # The quote offsets pick the quoted unit out of the chunk: inside its span, and holding the quoted words.
    assert citation.passage.start <= citation.quote_start < citation.quote_end <= citation.passage.end
    assert citation.quote_end - citation.quote_start < citation.passage.end - citation.passage.start
    quoted = re.findall(r"\w+", re.sub(r"\s*\[\d+\]", "", split_sentences(answer.answer)[0]))
    assert set(quoted) <= set(re.findall(r"\w+", document[citation.quote_start : citation.quote_end]))


def test_assistant_ask_streams_the_same_answer(indexed_assistant):
    events = list(indexed_assistant.ask("What is a mesa-optimizer?", backend="extractive"))
    final = events[-1].answer
    assert isinstance(final, Answer) and final.grounded
    assert "".join(e.text for e in events[:-1]) == final.answer


def test_empty_question_and_unknown_backend_are_clear_errors(indexed_assistant, extractive):
    with pytest.raises(ValueError, match="empty"):
        ask(indexed_assistant, extractive, "   ")
    with pytest.raises(BackendError) as caught:
        get_backend("gpt-17", indexed_assistant.settings)
    assert "RAG_BACKEND" in str(caught.value) and all(name in str(caught.value) for name in BACKEND_NAMES)


def test_markers_split_across_deltas_are_renumbered_and_out_of_range_dropped():
    rewriter = MarkerRewriter(passages=3)
    pieces = ["Alpha [", "3", "][1", "2]. Beta [2, ", "3] [pass", "age 1]. Gamma [4]", "."]
    out = "".join(rewriter.feed(p) for p in pieces) + rewriter.flush()
    assert out == "Alpha [1]. Beta [2][1] [3]. Gamma ."
    assert rewriter.order == [3, 2, 1]


def test_brackets_inside_code_blocks_are_code_not_markers():
    # Streamed in pieces that split the fence and the code: only the markers outside the block are renumbered.
    rewriter = MarkerRewriter(passages=7)
    pieces = ["Use it [3]:\n\n``", "`\n>>> list(range(3, 6))\n[3, ", "4, 5]\n>>> x[1]\n```\n[3]\n\nThen [", "5]."]
    out = "".join(rewriter.feed(p) for p in pieces) + rewriter.flush()
    assert out == "Use it [1]:\n\n```\n>>> list(range(3, 6))\n[3, 4, 5]\n>>> x[1]\n```\n[1]\n\nThen [2]."
    assert rewriter.order == [3, 5]
    assert claims_of(out) == [("Use it:", [1]), (">>> list(range(3, 6))\n[3, 4, 5]\n>>> x[1]", [1]), ("Then.", [2])]


def test_an_index_or_a_list_written_as_code_in_prose_is_code_not_a_marker():
    # "sys.argv[0]" and "heap[0]" quoted from the Python docs keep their index; the marks after them still cite.
    rewriter = MarkerRewriter(passages=3)
    out = rewriter.feed("With -m, sys.argv[0] is the module's name [3]. The smallest is heap[0], and my_list[2] the") \
        + rewriter.feed(" third [2].") + rewriter.flush()
    assert out == ("With -m, sys.argv[0] is the module's name [1]. "
                   "The smallest is heap[0], and my_list[2] the third [2].")
    assert claims_of(out) == [("With -m, sys.argv[0] is the module's name.", [1]),
                              ("The smallest is heap[0], and my_list[2] the third.", [2])]
    # … and so are lists of numbers passed to a call, assigned or compared. The functools docs' "For example,
    # reduce(lambda x, y: x+y, [1, 2, 3, 4, 5]) calculates ((((1+2)+3)+4)+5)." was quoted as "reduce(lambda x, y: x+y,
    # [1][2][3][4][5])": five citations the answer never made. "[1, 2]" after a claim still cites both passages.
    rewriter = MarkerRewriter(passages=5)
    out = rewriter.feed("For example, reduce(lambda x, y: x+y, [1, 2, 3, 4, 5]) calculates ((((1+2)+3)+4)+5) [4]. ") \
        + rewriter.feed("Then x = [1, 2] and f([3], 5) hold it [5, 2].") + rewriter.flush()
    assert out == ("For example, reduce(lambda x, y: x+y, [1, 2, 3, 4, 5]) calculates ((((1+2)+3)+4)+5) [1]. "
                   "Then x = [1, 2] and f([3], 5) hold it [2][3].")
    assert rewriter.order == [4, 5, 2]
    assert claims_of(out) == [("For example, reduce(lambda x, y: x+y, [1, 2, 3, 4, 5]) calculates ((((1+2)+3)+4)+5).",
                               [1]), ("Then x = [1, 2] and f([3], 5) hold it.", [2, 3])]
    # … and so are lists compared: "(for example, [1,2] < [1,2,3] is true)" was quoted as "[2][3] < [2][3][4]".
    rewriter = MarkerRewriter(passages=5)
    out = rewriter.feed("The shorter is first (for example, [1,2] < [1,2,3] is true) [4]. ") \
        + rewriter.feed("And a_list += [1, 2, 3] extends it [2].") + rewriter.flush()
    assert out == ("The shorter is first (for example, [1,2] < [1,2,3] is true) [1]. "
                   "And a_list += [1, 2, 3] extends it [2].")
    # … also when a model's stream breaks right after the list, before what says it is code has come
    rewriter = MarkerRewriter(passages=5)
    pieces = ["For example, reduce(f, [1, 2, 3]", ") gives 6 [4]. Shorter first: [1,2]", " < [1,2,3]", " is true [2]."]
    out = "".join(rewriter.feed(piece) for piece in pieces) + rewriter.flush()
    assert out == "For example, reduce(f, [1, 2, 3]) gives 6 [1]. Shorter first: [1,2] < [1,2,3] is true [2]."


def test_a_claim_goes_on_after_an_abbreviation_before_a_word_in_lower_case():
    # "… built-in exceptions such as ValueError, TypeError etc. may also be raised) [1].": one quoted sentence, as the
    # units are split; cut after "etc." its first half cited nothing and the evidence went uncited. A sentence that
    # ends with "etc." before a capital still ends there.
    out = ("urlopen raises URLError (though built-in exceptions such as ValueError, TypeError etc. may also be raised) "
           "[1]. It lists TypeError etc. Then more [2].")
    assert claims_of(out) == [("urlopen raises URLError (though built-in exceptions such as ValueError, TypeError etc. "
                               "may also be raised).", [1]), ("Then more.", [2])]


def test_a_table_row_quoted_is_one_claim_though_a_cell_ends_with_a_stop():
    # "What you don't want to collect: Current process name … processes. · How to avoid collecting it: Set
    # logging.logMultiprocessing to False [1].": cut after the first cell, the row's first half cited nothing and its
    # second was matched to another row saying "Set logging.logThreads to False".
    out = ("What you don't want to collect: Current process name when using multiprocessing. · How to avoid collecting "
           "it: Set logging.logMultiprocessing to False [1]. Then more [2].")
    assert claims_of(out) == [("What you don't want to collect: Current process name when using multiprocessing. · How "
                               "to avoid collecting it: Set logging.logMultiprocessing to False.", [1]), ("Then more.", [2])]


def test_a_quote_is_located_to_its_end_when_its_last_words_also_come_early():
    # The quote's closing words ("or f") first occur in its own opening ("literal or f-string"): the highlight must
    # still run to the end of the sentence, not stop after five words.
    from rag.citations import locate
    from rag.passage import Passage

    document = ("New in version 3.6.\n\nA formatted string literal or f-string is a string literal that is prefixed "
                "with 'f' or 'F'. These strings may contain replacement fields.")
    passage = Passage(document, 0, len(document), "Formatted string literals", None, id=1, source="x.html", title="x")
    quote = "A formatted string literal or f-string is a string literal that is prefixed with 'f' or 'F'."
    start, end = locate(quote, passage, document)
    assert document[start:end] == quote


def test_a_quote_is_located_to_its_end_and_not_into_its_twin():
    # "is returned" closes the quote and first comes halfway through it; the next sentence, its near twin, holds
    # every word of it again: the highlight is the quoted sentence, whole, and only it.
    from rag.citations import locate
    from rag.passage import Passage

    first = ("The expression x and y first evaluates x; if x is false, its value is returned; otherwise, y is "
             "evaluated and the resulting value is returned.")
    second = ("The expression x or y first evaluates x; if x is true, its value is returned; otherwise, y is "
              "evaluated and the resulting value is returned.")
    document = f"Boolean operations\n\n{first}\n\n{second}\n\nNeither and nor or restrict the value and type."
    passage = Passage(document, 0, len(document), "Boolean operations", None, id=1, source="x.html", title="x")
    for quote in (first, second):
        start, end = locate(quote, passage, document)
        assert document[start:end] == quote


def test_a_quote_is_located_to_its_end_over_a_placeholder_that_looks_like_markup():
    # '"<attrname>"' in C code is text, not a tag to skip: the quote's place ends after it, not at "module,".
    from rag.citations import locate
    from rag.passage import Passage

    sentence = "You can then access the module's attributes as follows:"
    code = 'attr = PyObject_GetAttrString(module, "<attrname>");'
    document = f"{sentence} {code}\n\nCalling PyObject_SetAttrString() also works. <b>Bold</b> words."
    passage = Passage(document, 0, len(document), "Embedding", None, id=1, source="x.html", title="x")
    start, end = locate(f"{sentence} {code}", passage, document)
    assert document[start:end] == f"{sentence} {code}"
    start, end = locate("Calling PyObject_SetAttrString() also works. Bold words.", passage, document)
    assert document[start:end] == "Calling PyObject_SetAttrString() also works. <b>Bold</b> words."


def test_a_quote_is_located_over_the_footnote_marker_it_leaves_out_to_its_closing_bracket():
    # The answer quotes "… (although it is not a strict subset of JavaScript )" without the page's footnote marker
    # "[1]": its place still runs over the marker to the closing bracket and full stop.
    from rag.citations import locate
    from rag.passage import Passage

    sentence = ("JSON is a lightweight data interchange format inspired by JavaScript object literal syntax (although "
                "it is not a strict subset of JavaScript [1] ).")
    document = f"{sentence}\n\njson exposes an API familiar to users of the marshal and pickle modules."
    passage = Passage(document, 0, len(document), "json", None, id=1, source="x.html", title="x")
    start, end = locate(sentence.replace(" [1]", ""), passage, document)
    assert document[start:end] == sentence


def test_a_quote_that_is_its_whole_passage_is_placed_with_the_heading_quoted_before_it():
    # A one-sentence passage quoted under its section heading: the sentence's place is the passage's whole span,
    # which is no failure to place it; the quote runs from the heading over the sentence.
    from rag.citations import locate_all
    from rag.passage import Passage

    document = "heapq.heappop(heap)\n\nheapq.heapify(x)\n\nTransform list x into a heap, in-place, in linear time."
    sentence = "Transform list x into a heap, in-place, in linear time."
    passage = Passage(sentence, document.index(sentence), len(document), "heapq.heapify(x)", None, id=1,
                      source="h.html", title="heapq")
    start, end = locate_all(["heapq.heapify(x)", sentence], passage, document)
    assert document[start:end] == f"heapq.heapify(x)\n\n{sentence}"


def test_an_answers_claims_go_on_over_an_ellipsis_before_a_word_in_lower_case():
    # "a sequence of if... elif... elif... else [1]" is one claim, as the quoted sentence is one unit: cut at each
    # "...", its last piece ("else.") matched the passage's heading instead of the sentence.
    from rag.citations import claims_of

    assert claims_of("You can do this with a sequence of if... elif... else [1]. For literal values, use a match ... "
                     "case statement [1]. Loading... Done [2].") == [
        ("You can do this with a sequence of if... elif... else.", [1]),
        ("For literal values, use a match ... case statement.", [1]), ("Done.", [2])]  # before a capital it ends


def test_a_quoted_code_block_is_located_where_it_stands_not_in_the_sentence_sharing_its_words():
    # The command "deactivate" is also the second word of the sentence introducing it: the quote of the code block
    # is the block's own line, so the highlight runs from the sentence over the command.
    from rag.citations import locate
    from rag.passage import Passage

    document = ("12.2. Creating Virtual Environments\n\nTo deactivate a virtual environment, type:\n\ndeactivate\n\n"
                "into the terminal.\n\n>>> for line in lines:\n...     print(line)\n")
    passage = Passage(document, 0, len(document), "12.2. Creating Virtual Environments", None, id=1, source="x.html",
                      title="x")
    start, end = locate("deactivate", passage, document)
    assert (start, end) == (document.index("\ndeactivate\n") + 1, document.index("\ndeactivate\n") + 11)
    code = ">>> for line in lines:\n...     print(line)"
    assert locate(code, passage, document) == (document.index(code), document.index(code) + len(code))
