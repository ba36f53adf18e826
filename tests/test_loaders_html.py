"""Web pages: main content only, headings from heading elements, API entries as sections, exact spans.

Most checks run over every page of two real documentation sites (62 pages of the Python 3.11 docs built by Sphinx,
../shared/bench/pydocs, and HTTPX's 23 pages built by MkDocs Material, bench/sites/httpx), against a separate
reference reading of each page's heading elements.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from loader_checks import assert_exact_spans, assert_skipped, chunks_of, find
from rag.chunk import SECTION_SEPARATOR
from rag.loaders import load_document
from rag.passage import Passage
from rag.units import CODE, ROW, SENTENCE, passage_units
from test_load import load

PYDOCS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "pydocs"
if not PYDOCS.is_dir():
    PYDOCS = Path("/work/shared/bench/pydocs")
PAGES = sorted(str(path.relative_to(PYDOCS)) for path in PYDOCS.rglob("*.html")) if PYDOCS.is_dir() else []
# Text of Sphinx's sidebars, related-links bars and footer: never reading matter.
NAVIGATION = ("Navigation", "Previous topic", "Next topic", "This Page", "Quick search", "Show Source", "Report a Bug")


class ReferenceOutline(HTMLParser):
    """What a page's headings are, read independently of the loader: the text of h1–h6 elements, of
    definition-list terms (``dt``: API signatures, glossary terms; not a field list's "Parameters", not the links
    of a "See also" box) and of mkautodoc's signatures (``div.autodoc-signature``), without
    permalink anchors; and the ``#`` comment lines of its ``<pre>`` blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: set[str] = set()
        self.comments: set[str] = set()
        self.current: list[str] | None = None
        self.closing = ""
        self.in_anchor = 0
        self.pre: list[str] | None = None
        self.lists: list[bool] = []  # per open <dl>: are its terms no headings (a field list, links)?
        self.divs: list[bool] = []  # per open <div>: is it a "See also" box?

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        classes = (values.get("class") or "").split()
        if tag == "div":
            self.divs.append("seealso" in classes)
        if tag == "dl":
            self.lists.append("field-list" in classes or any(self.divs))
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6") or tag == "dt" and self.lists and not self.lists[-1]:
            self.current, self.closing = [], tag
        elif tag == "div" and "autodoc-signature" in classes:  # holds no div: its end is the next </div>
            self.current, self.closing = [], tag
        elif tag == "a" and "headerlink" in (values.get("class") or ""):
            self.in_anchor += 1
        elif tag == "pre":
            self.pre = []

    def handle_endtag(self, tag):
        if tag == "dl" and self.lists:
            self.lists.pop()
        if tag == "div" and self.divs:
            self.divs.pop()
        if tag == self.closing and self.current is not None:
            self.headings.add(" ".join("".join(self.current).split()))
            self.current = None
        elif tag == "a" and self.in_anchor:
            self.in_anchor -= 1
        elif tag == "pre" and self.pre is not None:
            for line in "".join(self.pre).splitlines():
                if line.strip().startswith("#") and line.strip("# \t"):
                    self.comments.add(" ".join(line.strip().lstrip("#").split()))
            self.pre = None

    def handle_data(self, data):
        if self.current is not None and not self.in_anchor:
            self.current.append(data)
        if self.pre is not None:
            self.pre.append(data)


def reference(page: str, root: Path = PYDOCS) -> ReferenceOutline:
    outline = ReferenceOutline()
    outline.feed((root / page).read_text(encoding="utf-8"))
    return outline


def is_heading(part: str, headings: set[str]) -> bool:
    """``part`` is one of the headings, or one cut short with "…"."""
    if part.endswith("…"):
        return any(heading.startswith(part[:-1]) for heading in headings)
    return part in headings


def read_page(page: str, root: Path = PYDOCS):
    """A page of a site (the shared pydocs set by default) as loaded, read where it is: the sets are shared, never
    written to (test_load's load() writes its bytes first, which emptied a page under two runs at once)."""
    return load_document(root / page, page, (root / page).read_bytes())


@functools.lru_cache(maxsize=None)
def pydocs_page(page: str, embedder):
    doc = read_page(page)
    return doc, chunks_of(doc, embedder)


@pytest.mark.skipif(not PAGES, reason="the pydocs set (../shared/bench/pydocs) is not on this machine")
@pytest.mark.parametrize("page", [p for p in PAGES if not p.endswith("index.html") or p == "tutorial/index.html"])
def test_pydocs_page_is_main_content_with_true_sections(page, embedder):
    doc, chunks = pydocs_page(page, embedder)
    outline = reference(page)
    assert doc.title in outline.headings  # the h1, not "<h1> — Python 3.11.2 documentation"
    assert_main_content_with_true_sections(doc, chunks, outline, NAVIGATION)


def assert_main_content_with_true_sections(doc, chunks, outline: ReferenceOutline, navigation: tuple[str, ...]):
    """The page's chunks map back to its text and hold none of the site's ``navigation`` text, and every part of
    every section path is one of its headings."""
    assert_exact_spans(doc, chunks)
    for chunk in chunks:
        assert not any(words in chunk.text for words in navigation), (chunk.section, chunk.text)
        assert "¶" not in chunk.section
        for component in chunk.section.split(SECTION_SEPARATOR) if chunk.section else []:
            assert not component.startswith("#")
            assert component not in outline.comments, component
            # Overloads: the signatures of one entry, joined by "; ".
            parts = [component] if is_heading(component, outline.headings) else component.split("; ")
            assert all(is_heading(part, outline.headings) for part in parts), (component, chunk.text[:80])
    assert all("¶" not in heading.text for heading in doc.headings)


@pytest.mark.skipif(not PAGES, reason="the pydocs set is not on this machine")
def test_table_of_contents_pages_are_skipped_with_a_reason(tmp_path):
    # faq/index.html's main content is its title and a toctree: nothing to index, and it says why.
    assert_skipped(PYDOCS, "faq/index.html", (PYDOCS / "faq/index.html").read_bytes(), "only headings")


@pytest.mark.skipif(not PAGES, reason="the pydocs set is not on this machine")
def test_code_comments_stay_code_and_are_searchable(embedder):
    doc, chunks = pydocs_page("tutorial/introduction.html", embedder)
    comment = find(chunks, "# this is the first comment")
    assert comment.section == "3. An Informal Introduction to Python" or comment.section == ""
    assert "spam = 1  # and this is the second comment" in doc.text  # code keeps its spacing in the text
    later = find(chunks, "Python strings cannot be changed")
    assert later.section == "3.1. Using Python as a Calculator > 3.1.2. Strings"


@pytest.mark.skipif(not PAGES, reason="the pydocs set is not on this machine")
def test_api_entries_are_sections_titled_by_their_signature(embedder):
    doc, chunks = pydocs_page("heapq.html", embedder)
    assert doc.title == "heapq — Heap queue algorithm"
    popped = find(chunks, "Pop and return the smallest item from the heap, maintaining the heap invariant.")
    assert popped.section == "heapq.heappop(heap)"
    assert "heapq.heappop(heap)" not in popped.text  # the signature is the section, the text its description
    # Text after the last entry belongs to the page again, and the next h2 starts its own section.
    assert find(chunks, "A heapsort can be implemented by pushing").section == "Basic Examples"

    doc, chunks = pydocs_page("collections.html", embedder)
    method = find(chunks, "Return a list of the n most common elements and their counts")
    assert method.section == "Counter objects > class collections.Counter([iterable-or-mapping]) > most_common([n])"
    after_class = find(chunks, "Counters were primarily designed to work with positive integers")
    assert after_class.section == "Counter objects"


# ---------------------------------------------------------------------------------------------
# Small pages: each rule on its own


def page(body: str, head: str = "<title>Site page</title>") -> str:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"


SIDEBAR = '<div class="sphinxsidebar" role="navigation"><h3>This Page</h3><ul><li>Show Source</li></ul></div>'


@pytest.mark.parametrize(
    "layout",
    [
        "<header>Site banner words</header><main>{content}</main><aside>Sidebar words</aside>",
        '<div class="wrapper">Banner words<div role="main">{content}</div>Footer words</div>',
        '<div class="document"><div class="body">{content}</div></div><div>Sidebar words</div>',
        "<div>Menu words</div><article>{content}</article><div>Related words</div>",
        # MkDocs Material: navigation and the page's table of contents live inside <main>.
        '<main class="md-main"><div class="md-sidebar"><nav class="md-nav">Menu words</nav></div>'
        '<div class="md-content"><article class="md-content__inner">{content}</article></div></main>',
    ],
)
def test_main_content_landmark_is_all_that_is_read(tmp_path, layout):
    content = "<h1>Guide</h1><p>The real content of the page.</p>"
    doc = load(tmp_path, "p.html", page(SIDEBAR + layout.format(content=content) + "<footer>Copyright words</footer>"))
    assert doc.text == "Guide\n\nThe real content of the page."
    assert [(h.level, h.text) for h in doc.headings] == [(1, "Guide")]


def test_without_landmarks_navigation_and_footers_are_dropped(tmp_path):
    doc = load(
        tmp_path,
        "p.html",
        page('<nav>Menu</nav><div role="search">Search box</div><h1>Title</h1><p>Body text.</p><footer>Legal</footer>'),
    )
    assert doc.text == "Title\n\nBody text."


def test_code_comment_in_pre_is_never_a_heading(tmp_path, embedder):
    body = (
        "<h1>Recipes</h1><h2>Permutations</h2><p>How to list them:</p>"
        "<pre># Compute the list of all permutations of l\n"
        "def permutations(l):\n    # base case\n    return [l]\n</pre>"
        "<p>That is all there is to permutations and the recipe above.</p>"
    )
    doc = load(tmp_path, "r.html", page(body))
    assert [h.text for h in doc.headings] == ["Recipes", "Permutations"]
    chunks = chunks_of(doc, embedder)
    assert_exact_spans(doc, chunks)
    assert {chunk.section for chunk in chunks} == {"Recipes > Permutations"}
    code = find(chunks, "Compute the list of all permutations")
    assert "# base case" in code.text  # code is kept as text, comments included
    assert "    # base case\n    return [l]" in doc.text


def test_permalinks_and_pilcrows_are_not_part_of_headings(tmp_path):
    body = (
        '<h1>Input and Output<a class="headerlink" href="#io" title="Permalink">¶</a></h1><p>Text.</p>'
        "<h2>Files¶</h2><p>More text.</p>"
    )
    doc = load(tmp_path, "io.html", page(body, "<title>Input and Output — Docs</title>"))
    assert [h.text for h in doc.headings] == ["Input and Output", "Files"]
    assert "¶" not in doc.text.split("Files")[0]
    assert doc.title == "Input and Output" and doc.metadata["title"] == "Input and Output — Docs"


def test_words_around_inline_code_in_a_table_cell_keep_their_spaces(tmp_path):
    # Sphinx's attribute tables: "The function's documentation string, or <code>None</code> if unavailable" read
    # "orNoneif"; a word split by markup ("inher<b>ited</b>") stays one word.
    body = ("<h1>Callables</h1><table><thead><tr><th><p>Attribute</p></th><th><p>Meaning</p></th></tr></thead><tbody>"
            "<tr><td><p><code><span>__doc__</span></code></p></td><td><p>The function's documentation\nstring, or "
            '<code class="docutils literal"><span class="pre">None</span></code> if\nunavailable; not inher<b>ited</b>.'
            "</p></td></tr></tbody></table>")
    doc = load(tmp_path, "callables.html", page(body, "<title>Callables</title>"))
    assert "| __doc__ | The function's documentation string, or None if unavailable; not inherited. |" in doc.text


def test_a_tables_header_row_labels_its_other_rows(tmp_path):
    # Sphinx's tables put their header in <thead>: "What numeric values do INFO and WARNING have?" is answered by
    # the row "Level: INFO · Numeric value: 20", not "INFO: 20". A table without header cells has no header. A column
    # whose header is empty (the data model's "Writable" / "Read-only") gives its value alone, not "·: Writable".
    body = ("<h1>Levels</h1><p>The numeric values are given in the following table.</p><table><thead><tr><th><p>Level"
            "</p></th><th><p>Numeric value</p></th><th></th></tr></thead><tbody><tr><td><p>WARNING</p></td><td><p>30</p>"
            "</td><td><p>Fixed</p></td></tr><tr><td><p>INFO</p></td><td><p>20</p></td><td></td></tr></tbody></table>"
            "<table><tr><td>Watch</td><td>Hours</td></tr><tr><td>First</td><td>4</td></tr></table>")
    doc = load(tmp_path, "levels.html", page(body, "<title>Levels</title>"))
    assert ("| Level | Numeric value | |\n| --- | --- | --- |\n| WARNING | 30 | Fixed |\n| INFO | 20 | |\n\n"
            "| Watch | Hours |\n| First") in doc.text
    passage = Passage(doc.text, 0, len(doc.text), "Levels", None, id=0, source="levels.html", title="Levels")
    rows = [unit.text for unit in passage_units(passage, 0) if unit.kind == ROW]
    assert rows == ["Level: WARNING · Numeric value: 30 · Fixed", "Level: INFO · Numeric value: 20", "Watch: Hours",
                    "First: 4"]


def sections_and_texts(tmp_path, embedder, name: str, html: str) -> list[tuple[str, str]]:
    """The page's chunks as (section path, text), each checked to map back to the page's text."""
    doc = load(tmp_path, name, html)
    chunks = chunks_of(doc, embedder)
    assert_exact_spans(doc, chunks)
    return [(c.section, c.text) for c in chunks]


def test_api_entry_is_a_section_and_overloads_share_it(tmp_path, embedder):
    body = (
        "<h1>shapes</h1><h2>Functions</h2><p>The module offers these functions.</p>"
        '<dl class="py function"><dt class="sig sig-object py">shapes.area(<em>shape</em>)'
        '<a class="headerlink" href="#a">¶</a></dt><dd><p>Return the area of <em>shape</em> in square metres.</p>'
        '<dl class="field-list"><dt>Parameters</dt><dd>shape – any shape</dd></dl></dd></dl>'
        '<dl class="py class"><dt class="sig sig-object py">class shapes.Circle(r)</dt>'
        '<dt class="sig sig-object py">class shapes.Circle(x, y, r)</dt><dd><p>A round shape.</p>'
        '<dl class="py method"><dt class="sig sig-object py">scale(factor)</dt><dd><p>Grow the circle.</p></dd></dl>'
        "</dd></dl><p>All functions accept any shape.</p><h2>Constants</h2><p>None yet.</p>"
    )
    assert sections_and_texts(tmp_path, embedder, "shapes.html", page(body, "<title>shapes — Docs</title>")) == [
        ("Functions", "The module offers these functions."),
        ("Functions > shapes.area(shape)", "Return the area of shape in square metres.\n\nParameters\nshape – any shape"),
        ("Functions > class shapes.Circle(r); class shapes.Circle(x, y, r)", "A round shape."),
        ("Functions > class shapes.Circle(r); class shapes.Circle(x, y, r) > scale(factor)", "Grow the circle."),
        ("Functions", "All functions accept any shape."),
        ("Constants", "None yet."),
    ]


def test_mkdocs_api_entry_is_a_section_titled_by_its_signature(tmp_path, embedder):
    # mkautodoc (MkDocs' API reference, as HTTPX's site uses it): a signature div over a docstring div is an entry,
    # a class's members are entries under it, and text after the entry belongs to the section again.
    def signature(name, params):
        return (f'<div class="autodoc-signature"><code>{name}</code><span class="autodoc-punctuation">(</span>'
                f'<em class="autodoc-param">{params}</em><span class="autodoc-punctuation">)</span></div>')

    body = (
        '<article class="md-content__inner"><h1>Reference</h1><h2>Helpers</h2>'
        f'<div class="autodoc">{signature("shapes.area", "shape")}'
        '<div class="autodoc-docstring"><p>Return the area of a shape.</p></div></div>'
        f'<h2>Circle</h2><div class="autodoc">{signature("class shapes.Circle", "r")}'
        '<div class="autodoc-docstring"><p>A round shape.</p></div><div class="autodoc-members">'
        f'{signature("scale", "self, factor")}<div class="autodoc-docstring"><p>Grow the circle.</p></div>'
        '</div></div><p>Circles are immutable.</p></article>'
    )
    assert sections_and_texts(tmp_path, embedder, "ref.html", page(body, "<title>Reference</title>")) == [
        ("Helpers > shapes.area(shape)", "Return the area of a shape."),
        ("Circle > class shapes.Circle(r)", "A round shape."),
        ("Circle > class shapes.Circle(r) > scale(self, factor)", "Grow the circle."),
        ("Circle", "Circles are immutable."),
    ]


def test_glossary_entry_is_a_section_titled_by_its_term(tmp_path, embedder):
    # A definition list in prose (Sphinx's "simple" / glossary lists, a hand-written <dl>) defines its terms:
    # the definition is cited under the term it defines, and synonyms over one definition share it.
    body = (
        "<h1>Implementations</h1><p>Known implementations include:</p>"
        '<dl class="simple"><dt>Jython</dt><dd><p>Python implemented in Java. It runs on the JVM.</p></dd>'
        "<dt>PyPy</dt><dt>RPython</dt><dd><p>An implementation of Python written in Python.</p></dd></dl>"
        "<p>Each has its own release schedule.</p>"
        '<div class="admonition seealso"><p class="admonition-title">See also</p>'
        '<dl class="simple"><dt>PEP 999 - Implementations</dt><dd><p>The list of them.</p></dd></dl></div>'
    )
    assert sections_and_texts(tmp_path, embedder, "impl.html", page(body, "<title>Implementations — Docs</title>")) == [
        ("", "Known implementations include:"),
        ("Jython", "Python implemented in Java. It runs on the JVM."),
        ("PyPy; RPython", "An implementation of Python written in Python."),
        ("", "Each has its own release schedule.\n\nSee also\n\nPEP 999 - Implementations\n\nThe list of them."),
    ]  # a "See also" box's links are cross-references, not terms it defines


def test_headings_are_searchable_by_both_retrievers(fresh_assistant):
    # A word only a heading holds (the section path is indexed with the text by BM25 and embedded).
    corpus = Path(fresh_assistant.settings.corpus_dir)
    body = (
        "<main><h1>Design FAQ</h1><h2>Can't we get rid of the Global Interpreter Lock?</h2>"
        "<p>Removing it would make single-threaded programs slower, which is why it stays.</p>"
        "<h2>Why are strings immutable?</h2><p>Fixed storage and hashing are simpler that way.</p></main>"
    )
    (corpus / "design.html").write_text(page(body, "<title>Design FAQ | Docs</title>"), encoding="utf-8")
    fresh_assistant.index()
    for mode in ("bm25", "dense"):
        top = fresh_assistant.search("What does GIL stand for, the Global Interpreter Lock?", k=1, mode=mode)[0]
        assert top.passage.section == "Can't we get rid of the Global Interpreter Lock?", mode


def test_page_without_landmarks_loses_link_menus_not_content(tmp_path):
    # Div soup: menus and related links are only recognisable by density (trafilatura rejects them,
    # and they are mostly link text); prose, a short plain list and a table stay.
    menu = "".join(f'<div class="item"><a href="/p{i}">Menu entry {i}</a></div>' for i in range(12))
    prose = "".join(
        f"<p>Lighthouse keepers trimmed the wicks every evening, logged passing ships and kept paragraph {i} in order.</p>"
        for i in range(6)
    )
    body = (
        f'<div class="top">{menu}</div><div class="content"><h1>Keeping a light</h1>{prose}'
        "<ul><li>oil</li><li>wicks</li></ul><table><tr><td>Watch</td><td>Hours</td></tr></table></div>"
        '<div class="side"><h3>Related pages</h3><ul><li><a href="/a">Foghorns of the north coast</a></li>'
        '<li><a href="/b">Ships lost in the strait</a></li></ul></div>'
    )
    doc = load(tmp_path, "soup.html", page(body))
    assert "Menu entry" not in doc.text and "Foghorns" not in doc.text and "Related pages" not in doc.text
    assert doc.text.startswith("Keeping a light\n\nLighthouse keepers")
    assert "kept paragraph 5 in order." in doc.text
    assert "- oil\n- wicks" in doc.text and "| Watch | Hours |" in doc.text
    assert [h.text for h in doc.headings] == ["Keeping a light"]


def test_list_item_bullet_stays_with_its_paragraph(tmp_path):
    doc = load(tmp_path, "l.html", page("<main><p>Ways:</p><ul><li><p>first way</p></li><li><p>second way</p></li></ul></main>"))
    assert doc.text == "Ways:\n\n- first way\n\n- second way"


def test_markdown_code_in_html_pre_blocks_is_never_a_heading(tmp_path, embedder):
    # CommonMark: a <pre> HTML block is not Markdown, like a fence; its "# comment" lines are code.
    text = (
        "# Recipes\n\nIntro text for the recipes.\n\n<pre>\n# Compute all permutations\nx = 1\n</pre>\n\n"
        "```\n# fenced comment\n```\n\n    # indented comment\n\n## Real heading\n\nMore text.\n"
    )
    doc = load(tmp_path, "r.md", text)
    assert [h.text for h in doc.headings] == ["Recipes", "Real heading"]
    chunks = chunks_of(doc, embedder)
    assert find(chunks, "Compute all permutations").section == ""
    assert find(chunks, "More text.").section == "Real heading"


def code_of(doc, chunks) -> tuple[list[str], list[str]]:
    """The code a Document marks (body spans) and the code its chunks mark (ranges of their text)."""
    marked = [doc.body[a:b] for a, b in doc.code_spans]
    in_chunks = [chunk.text[a:b] for chunk in chunks for a, b in chunk.code_ranges]
    return marked, in_chunks


@pytest.mark.parametrize("name", ["r.html", "r.md"])
def test_code_blocks_are_marked_in_the_document_and_its_chunks(tmp_path, embedder, name):
    # <pre> in a page; a fence and an HTML <pre> block in Markdown: code spans, carried to the chunks' text.
    pre = "<pre>for attempt in range(5):\n    time.sleep(2 ** attempt)\n</pre>"
    if name.endswith(".html"):
        data = page(f"<main><h1>Retries</h1><p>Wait longer after each failure.</p>{pre}<p>Then give up.</p></main>")
    else:
        data = (f"# Retries\n\nWait longer after each failure.\n\n```python\nfor attempt in range(5):\n"
                f"    time.sleep(2 ** attempt)\n```\n\nThen give up.\n\n{pre}\n\nThe end.\n")
    doc = load(tmp_path, name, data)
    chunks = chunks_of(doc, embedder)
    marked, in_chunks = code_of(doc, chunks)
    assert marked and all("time.sleep(2 ** attempt)" in code for code in marked)
    assert all("failure" not in code and "give up" not in code for code in marked)  # prose is not code
    assert len(in_chunks) == len(marked) and all("time.sleep(2 ** attempt)" in code for code in in_chunks)
    assert all("failure" not in code and "give up" not in code for code in in_chunks)


@pytest.mark.parametrize("name", ["v.html", "v.md"])
def test_a_short_code_block_is_marked_on_its_own_line_not_in_the_prose_naming_it(tmp_path, embedder, name):
    # "deactivate" is a word of the sentence introducing the block: the mark must land on the block's line.
    if name.endswith(".html"):
        data = page("<main><h1>Environments</h1><p>To deactivate a virtual environment, type:</p>"
                    "<pre>deactivate</pre><p>into the terminal.</p></main>")
    else:
        data = "# Environments\n\nTo deactivate a virtual environment, type:\n\n```\ndeactivate\n```\n\ninto the terminal.\n"
    chunks = chunks_of(load(tmp_path, name, data), embedder)
    (chunk,) = [c for c in chunks if c.code_ranges]
    (a, b), = chunk.code_ranges
    assert chunk.text[a:b].strip("`\n") == "deactivate" and chunk.text[a - 1] == "\n"
    passage = Passage(**dataclasses.asdict(chunk), id=0, source=name, title="Environments")
    kinds = {unit.text: unit.kind for unit in passage_units(passage, 0)}
    assert kinds["To deactivate a virtual environment, type:"] == SENTENCE and kinds["deactivate"] == CODE


@pytest.mark.skipif(not PAGES, reason="the pydocs set is not on this machine")
def test_pydocs_code_is_marked_in_chunks(embedder):
    doc, chunks = pydocs_page("tutorial/introduction.html", embedder)
    marked, in_chunks = code_of(doc, chunks)
    assert any("# this is the first comment" in code for code in marked)
    assert any("# this is the first comment" in code for code in in_chunks)
    assert not any("Python strings cannot be changed" in code for code in in_chunks)


@pytest.mark.skipif(not PAGES, reason="the pydocs set is not on this machine")
def test_pydocs_question_set_evidence_is_on_its_page():
    # bench/pydocs_questions.json: every evidence string is exact text of its page as loaded.
    questions = json.loads((Path(__file__).resolve().parent.parent / "bench" / "pydocs_questions.json").read_text())
    assert len(questions["answerable"]) >= 40 and len(questions["unanswerable"]) >= 15
    for item in questions["answerable"]:
        for answer in [item, *item.get("also", [])]:
            doc = read_page(answer["source"])
            assert answer["evidence"] in doc.text, item["question"]


# HTTPX's documentation as MkDocs Material builds it (bench/sites/README.md): a second site generator, in the repo
HTTPX_SITE = Path(__file__).resolve().parent.parent / "bench" / "sites" / "httpx"
HTTPX_PAGES = sorted(path.relative_to(HTTPX_SITE).as_posix() for path in HTTPX_SITE.rglob("*.html"))
# Material's header, search box, navigation drawer, table of contents and footer, around every page's <article>
MATERIAL_CHROME = ("Skip to content", "Initializing search", "Table of contents", "Back to top", "Made with",
                   "Material for MkDocs", "Third Party Packages\nContributing")


@pytest.mark.parametrize("page", HTTPX_PAGES)
def test_mkdocs_page_is_main_content_with_true_sections(page, embedder):
    doc, outline = read_page(page, HTTPX_SITE), reference(page, HTTPX_SITE)
    # The h1, or <title> where that is the navigation's name for the page ("HTTP/2 Support - HTTPX" over "HTTP/2")
    assert doc.title in outline.headings or doc.title == doc.metadata["title"]
    assert_main_content_with_true_sections(doc, chunks_of(doc, embedder), outline, MATERIAL_CHROME)


def test_mkdocs_api_reference_entries_are_sections_titled_by_their_signature(embedder):
    doc = read_page("api/index.html", HTTPX_SITE)
    chunks = chunks_of(doc, embedder)
    assert len(HTTPX_PAGES) == 23
    sent = find(chunks, "Send a request.")
    assert sent.section.startswith("Client > class httpx.Client(*, auth=None, params=None, headers=None")
    assert sent.section.endswith(" > send(self, request, *, stream=False, auth=, follow_redirects=)")
    assert "send(self" not in sent.text  # the signature is the section, the text its description
    assert find(chunks, "Sends a GET request.").section.startswith("Helper Functions > httpx.get(url, *, params=None")


def test_httpx_question_set_evidence_is_on_its_page():
    # bench/httpx_questions.json: every evidence string is exact text of its page as loaded.
    questions = json.loads((Path(__file__).resolve().parent.parent / "bench" / "httpx_questions.json").read_text())
    assert len(questions["answerable"]) == 40 and len(questions["unanswerable"]) == 15
    for item in questions["answerable"]:
        doc = read_page(item["source"], HTTPX_SITE)
        assert item["evidence"] in doc.text, item["question"]


# The Rust book as rustup installs it: bench/rustbook_questions.json's pages, where this machine has them
RUST_BOOK = next(iter(sorted((Path.home() / ".rustup" / "toolchains").glob("*/share/doc/rust/html/book"))), None)


@pytest.mark.skipif(RUST_BOOK is None, reason="no Rust book installed by rustup on this machine")
def test_rust_book_question_set_evidence_is_on_its_page():
    # bench/rustbook_questions.json: every evidence string is text of its page as loaded (whitespace aside), and the
    # mdBook sidebar, page navigation and search bar are no text of any page.
    questions = json.loads((Path(__file__).resolve().parent.parent / "bench" / "rustbook_questions.json").read_text())
    assert len(questions["answerable"]) == 40 and len(questions["unanswerable"]) == 15
    for item in questions["answerable"]:
        doc = read_page(item["source"], RUST_BOOK)
        assert " ".join(item["evidence"].split()) in " ".join(doc.text.split()), item["question"]
        assert "Keyboard shortcuts" not in doc.text and "Previous chapter" not in doc.text
