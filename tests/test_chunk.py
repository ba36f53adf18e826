"""Chunking with the real MiniLM tokenizer: token limits, source offsets, sections, structure."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from rag.chunk import chunk_document, embedding_text
from rag.loaders import load_document
from rag.passage import Span
from test_load import make_pdf

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
CORPUS_FILES = sorted(p.name for p in CORPUS.iterdir())
MAX_TOKENS, OVERLAP = 200, 32


def cleaned(text: str) -> str:
    """An independent notion of "the same text modulo cleaning": no markup, URLs-only lines or whitespace."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    text = re.sub(r"</?[A-Za-z][^<>]*>", "", text)
    text = re.sub(r"(?m)^ {0,3}\[[^\]\n]+\]:[ \t]*\S.*$", "", text)
    return re.sub(r"\s+", "", html.unescape(text))


def load(tmp_path: Path, name: str, data: bytes | str):
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return load_document(path, name, path.read_bytes())


@pytest.fixture(scope="module")
def corpus_chunks(embedder):
    result = {}
    for name in CORPUS_FILES:
        path = CORPUS / name
        doc = load_document(path, name, path.read_bytes())
        result[name] = (doc, chunk_document(doc, embedder.count_tokens, MAX_TOKENS, OVERLAP))
    return result


def find(chunks: list[Span], needle: str) -> Span:
    return next(c for c in chunks if needle in c.text)


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_chunks_fit_the_model_and_point_at_their_source(corpus_chunks, embedder, name):
    doc, chunks = corpus_chunks[name]
    assert len(chunks) >= 5
    for chunk in chunks:
        assert embedder.count_tokens(embedding_text(doc.title, chunk)) <= MAX_TOKENS
        assert chunk.text == chunk.text.strip() and chunk.page is None
        # The span is exactly where the passage came from, not merely somewhere that contains it.
        assert cleaned(doc.text[chunk.start : chunk.end]) == cleaned(chunk.text)
    starts = [c.start for c in chunks]
    assert starts == sorted(starts)
    # Every word of the body ends up in some chunk (headings in its section): nothing is lost between chunks.
    covered = "".join(cleaned(c.section + c.text) for c in chunks) + cleaned(doc.title)
    for word in re.findall(r"[A-Za-z]{6,}", doc.body)[::25]:
        assert word in covered


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_no_markup_reaches_chunks(corpus_chunks, name):
    _, chunks = corpus_chunks[name]
    for chunk in chunks:
        assert "<!--" not in chunk.text and "<abbr>" not in chunk.text and "\r" not in chunk.text


def test_comments_inside_words_read_as_the_word(corpus_chunks):
    doc, chunks = corpus_chunks["ai-alignment-starter-pack.md"]
    chunk = find(chunks, "Intro to AI Safety")
    assert "A<!---->I" in doc.text[chunk.start : chunk.end]
    assert "AGI Ruin: A List of Lethalities" in find(chunks, "Lethalities").text
    assert "building AI whose" in find(chunks, "building AI whose").text
    assert "title:" not in " ".join(c.text for c in chunks)  # front matter is metadata, not body


def test_overview_table_stays_in_one_chunk_with_all_rows(corpus_chunks):
    doc, chunks = corpus_chunks["ai-alignment-overview.txt"]
    rows = [line for line in doc.text.splitlines() if line.startswith("|")]
    assert len(rows) == 8
    holders = [c for c in chunks if "| Anthropic |" in c.text]
    assert len(holders) == 1
    assert all(row in holders[0].text for row in rows)
    assert holders[0].section == "Alignment Research Organisations"


@pytest.mark.parametrize(
    ("name", "needle", "section"),
    [
        ("ai-alignment-overview.txt", "Hub page for AI alignment", ""),
        ("ai-alignment-overview.txt", "Specification gaming", "Why Alignment is Hard"),
        (
            "ai-alignment-overview.txt",
            "Train a reward model from human preference",
            "Core Techniques > Reinforcement Learning from Human Feedback (RLHF)",
        ),
        ("ai-alignment-overview.txt", "Anthropic's approach", "Constitutional AI (CAI)"),
        ("ai-alignment-overview.txt", "Eliciting latent knowledge", "Open Problems"),
        ("ai-alignment-starter-pack.md", "Despite the amount of attention", ""),
        ("ai-alignment-starter-pack.md", "vastly better than humans", "Why misalignment is dangerous"),
        (
            "ai-alignment-starter-pack.md",
            "Corrigibility][corrigibility]",
            "Orthogonality, instrumental convergence, and corrigibility",
        ),
        ("core-of-the-alignment-problem.md", "SERI ML Alignment Theory Scholars", ""),
        ("core-of-the-alignment-problem.md", "Hold Off On Proposing Solutions", "Introduction"),
        ("core-of-the-alignment-problem.md", "point robustly", "Frames on outer alignment > The Pointers Problem"),
        ("core-of-the-alignment-problem.md", "malign learned", "Frames on inner alignment > Mesa-Optimizers"),
    ],
)
def test_section_paths(corpus_chunks, name, needle, section):
    _, chunks = corpus_chunks[name]
    assert find(chunks, needle).section == section


def test_heading_lines_are_context_not_body(corpus_chunks):
    doc, chunks = corpus_chunks["core-of-the-alignment-problem.md"]
    chunk = find(chunks, "point robustly at anything")
    assert not chunk.text.startswith("#")
    text = embedding_text(doc.title, chunk)
    context = "The Core of the Alignment Problem is... — Frames on outer alignment > The Pointers Problem"
    assert text.startswith(context + "\n\n")
    assert text.count("The Pointers Problem") == 1
    # The title heading is the title, not a section.
    assert not any(c.section.startswith("The Core of the Alignment Problem") for c in chunks)


def test_crlf_markdown_spans_are_exact(tmp_path, embedder):
    source = (CORPUS / "ai-alignment-starter-pack.md").read_text(encoding="utf-8").replace("\n", "\r\n")
    doc = load(tmp_path, "crlf.md", source)
    assert doc.text == source and doc.metadata["date"] == "2024-06-09"
    chunks = chunk_document(doc, embedder.count_tokens, MAX_TOKENS, OVERLAP)
    assert find(chunks, "vastly better than humans").section == "Why misalignment is dangerous"
    for chunk in chunks:
        assert "\r" not in chunk.text
        assert cleaned(doc.text[chunk.start : chunk.end]) == cleaned(chunk.text)


def test_long_sections_overlap(corpus_chunks):
    _, chunks = corpus_chunks["core-of-the-alignment-problem.md"]
    overlapping = [
        (a, b) for a, b in zip(chunks, chunks[1:]) if a.section == b.section and b.start < a.end
    ]
    assert overlapping
    for a, b in overlapping:
        shared = a.text[-(a.end - b.start) :]
        assert cleaned(shared) and cleaned(b.text).startswith(cleaned(shared)[:20])


def test_lists_and_tables_are_cut_between_items(tmp_path, embedder):
    items = "\n".join(
        f"- Item {i} begins here,\n  continues with several more words on a second line,\n  and ends {i}."
        for i in range(30)
    )
    rows = "\n".join(f"| row {i} | value {i} with some words | more cells here |" for i in range(40))
    table = f"| a | b | c |\n|---|---|---|\n{rows}"
    doc = load(tmp_path, "lists.md", f"# Lists\n\nIntro sentence.\n\n{items}\n\n## Table\n\n{table}\n")
    chunks = chunk_document(doc, embedder.count_tokens, 120, 16)
    assert len(chunks) > 4
    for chunk in chunks:
        assert embedder.count_tokens(embedding_text(doc.title, chunk)) <= 120
        for line in chunk.text.splitlines():
            if line.startswith("- Item"):
                number = line.split()[2].rstrip(",")
                assert f"and ends {number}." in chunk.text  # an item is never split from its continuation
            if line.startswith("|"):
                assert line.endswith("|")  # nor a row from its end
        assert cleaned(doc.text[chunk.start : chunk.end]) == cleaned(chunk.text)
    table_chunks = [c for c in chunks if "| row" in c.text]
    assert table_chunks and all(c.section == "Table" for c in table_chunks)


def test_a_table_that_fits_is_not_split_by_the_text_before_it(tmp_path, embedder):
    intro = " ".join(f"Sentence number {i} is here." for i in range(20))
    rows = "\n".join(f"| name {i} | role {i} |" for i in range(8))
    doc = load(tmp_path, "t.md", f"# T\n\n{intro}\n\n| name | role |\n|---|---|\n{rows}\n\nAfter.\n")
    chunks = chunk_document(doc, embedder.count_tokens, 160, 16)
    holders = [c for c in chunks if "| name" in c.text]
    assert len(holders) == 1 and all(f"| name {i} | role {i} |" in holders[0].text for i in range(8))


@pytest.mark.parametrize("name, wrap", [
    ("example.md", lambda code: f"```python\n{code}\n```"),
    ("example.html", lambda code: f"<pre>{html.escape(code)}</pre>"),
])
def test_code_keeps_its_indentation_while_prose_is_tidied(tmp_path, embedder, name, wrap):
    code = "def total(items):\n    result = 0      # running sum\n    for item in items:\n        result += item\n    return result"
    body = f"<p>Add   the\t items  up:</p>{wrap(code)}" if name.endswith(".html") else f"Add   the\t items  up:\n\n{wrap(code)}\n"
    page = f"<html><body><main><h1>Sums</h1>{body}</main></body></html>" if name.endswith(".html") else f"# Sums\n\n{body}"
    doc = load(tmp_path, name, page)
    (chunk,) = chunk_document(doc, embedder.count_tokens, MAX_TOKENS, OVERLAP)
    assert "Add the items up:" in chunk.text and code in chunk.text, chunk.text
    (start, end), = chunk.code_ranges
    assert code in chunk.text[start:end]
    assert cleaned(doc.text[chunk.start : chunk.end]) == cleaned(chunk.text)


def test_plain_sentences_split_at_sentence_ends(tmp_path, embedder):
    text = "Notes\n" + " ".join(f"Statement {i} says something ordinary about topic {i}." for i in range(60)) + "\n"
    doc = load(tmp_path, "notes.txt", text)
    chunks = chunk_document(doc, embedder.count_tokens, 64, 12)
    assert len(chunks) > 5
    for chunk in chunks:
        assert embedder.count_tokens(embedding_text(doc.title, chunk)) <= 64
        assert chunk.text.startswith("Statement") and chunk.text.endswith(".")


def test_pdf_chunks_carry_pages_and_never_straddle_them(tmp_path, embedder):
    page_one = [f"Page one line {i} talks about apples and pears." for i in range(40)]
    page_two = [f"Page two line {i} talks about boats and rivers." for i in range(5)]
    doc = load(tmp_path, "p.pdf", make_pdf([page_one, page_two], title="Fruit and Boats"))
    chunks = chunk_document(doc, embedder.count_tokens, 100, 16)
    assert {c.page for c in chunks} == {1, 2}
    for chunk in chunks:
        assert embedder.count_tokens(embedding_text(doc.title, chunk)) <= 100
        assert ("apples" in chunk.text) != ("boats" in chunk.text)
        assert chunk.page == (1 if "apples" in chunk.text else 2)
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert chunk.section == ""


def test_pdf_sections_come_from_the_outline(tmp_path, embedder):
    pages = [["Paper Title", "1 Introduction", "Intro text."], ["Some text.", "2.1 Setup", "Setup text."]]
    outline = [("Introduction", 0, []), ("Method", 1, [("Setup", 1)])]
    doc = load(tmp_path, "outlined.pdf", make_pdf(pages, outline=outline))
    chunks = chunk_document(doc, embedder.count_tokens, 200, 32)
    assert [(c.page, c.section, c.text) for c in chunks] == [
        (1, "", "Paper Title"),
        (1, "Introduction", "Intro text."),
        (2, "Method", "Some text."),
        (2, "Method > Setup", "Setup text."),
    ]


def test_html_sections_come_from_headings(tmp_path, embedder):
    page = (
        "<html><head><title>Site</title></head><body><h1>Guide</h1><p>Intro words.</p>"
        "<h2>Install</h2><p>Run the installer.</p><h3>On Linux</h3><p>Use the package.</p></body></html>"
    )
    doc = load(tmp_path, "g.html", page)
    chunks = chunk_document(doc, embedder.count_tokens, 200, 32)
    assert [(c.section, c.text) for c in chunks] == [
        ("Guide", "Intro words."),
        ("Guide > Install", "Run the installer."),
        ("Guide > Install > On Linux", "Use the package."),
    ]
    assert all(doc.text[c.start : c.end] == c.text for c in chunks)


def test_hostile_long_runs_still_fit(tmp_path, embedder):
    blob = "QmFzZTY0" * 20_000  # 160 kB without a single space
    words = " ".join(f"w{i}" for i in range(30_000))  # one enormous line of words
    doc = load(tmp_path, "hostile.txt", f"Hostile\n{blob}\n{words}\n")
    chunks = chunk_document(doc, embedder.count_tokens, 200, 32)
    for chunk in chunks:
        assert embedder.count_tokens(embedding_text(doc.title, chunk)) <= 200
        assert len(chunk.text) <= 2_000
        assert cleaned(doc.text[chunk.start : chunk.end]) == cleaned(chunk.text)
    assert cleaned("".join(c.text for c in chunks if "QmFz" in c.text)) == blob
    assert "w29999" in chunks[-1].text


def test_long_section_paths_shrink_before_text_does(tmp_path, embedder):
    deep = "".join(f"{'#' * n} Very long heading number {n} with many many words in it\n\n" for n in range(1, 7))
    doc = load(tmp_path, "deep.md", f"---\ntitle: Deep\n---\n{deep}Body text here.\n")
    chunks = chunk_document(doc, embedder.count_tokens, 48, 8)
    assert [c.text for c in chunks] == ["Body text here."]
    assert embedder.count_tokens(embedding_text(doc.title, chunks[0])) <= 48
    assert chunks[0].section.endswith("number 6 with many many words in it") or chunks[0].section == ""
