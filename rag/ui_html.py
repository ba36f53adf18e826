"""The HTML the chat UI shows: answers with citation links, the sources panel, passages as the reader sees them.

Passages of Markdown documents are rendered (links as links, tables as tables) with markdown-it-py, the
CommonMark parser, rather than shown as source text; raw HTML in a document is never passed through (comments
and tags are dropped, images shown as their alt text, so a passage can neither run script nor load anything).
The exact span a citation quotes (``quote_start``/``quote_end``) is highlighted in the rendered text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import lru_cache

from rag.api import document_key
from rag.answer import NOT_IN_DOCUMENTS, UNVERIFIED, UNVERIFIED_NOTE, VERIFIED
from rag.citations import UNSUPPORTED
from rag.injection import instruction_like
from rag.loaders.markdown import _FRONT_MATTER, _LINK_DEFINITION, code_ranges, within
from rag.passage import Hit, Passage
from rag.store import StoreError
from rag.text import citation_marks, outside_code, split_sentences, sub_citation_marks, without_citation_marks

# Characters of document text shown around a cited span (extended to whole blocks for Markdown).
CONTEXT_CHARS = 240
# How far a Markdown excerpt may grow to reach a block boundary (a blank line) on either side; past it the
# excerpt starts or ends at a line.
BLOCK_REACH_CHARS = 400
MARKDOWN_SUFFIXES = (".md", ".markdown")
# Private-use characters marking the quoted span through rendering; they never occur in indexed text's markup.
_QUOTE_START, _QUOTE_END = "\ue000", "\ue001"
# A line's block syntax (indent, list bullet, heading hashes, quote): a highlight starts after it, or the line
# would stop being a list item or heading.
_LINE_SYNTAX = re.compile(r"[ \t]*(?:(?:[*+-]|\d{1,9}[.)]|#{1,6}|>)[ \t]+)?")
_HTML_MARKUP = re.compile(r"<!--.*?(?:-->|\Z)|</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>", re.DOTALL)

EMPTY_SOURCES = '<div class="sources-empty"><p class="empty">Sources for each answer appear here.</p></div>'


@lru_cache(maxsize=1)
def _markdown():
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")
    md.add_render_rule("image", lambda renderer, tokens, idx, options, env: html.escape(tokens[idx].content))

    def link_open(renderer, tokens, idx, options, env):  # links open outside the app, without telling the site where from
        tokens[idx].attrSet("target", "_blank")
        tokens[idx].attrSet("rel", "noopener noreferrer")
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


# ---- the answer -------------------------------------------------------------------------------------------


def _where(passage: Passage) -> str:
    parts = [f"<b>{html.escape(passage.title)}</b>"] if passage.title else []
    if passage.section:
        parts.append(html.escape(passage.section))
    text = " › ".join(parts)
    return f"{text} · page {passage.page}" if passage.page else text


def source_label(passage: Passage) -> str:
    """One line naming where a passage is from, as the copied answer's source list shows it."""
    where = " › ".join(part for part in (passage.title, passage.section) if part)
    page = f", page {passage.page}" if passage.page else ""
    return f"{where} — {passage.source}{page}" if where else f"{passage.source}{page}"


def linked_answer(text: str, citations: Sequence, turn: int) -> str:
    """Answer text with each [n] turned into a link to passage n of this turn: its title as tooltip, its
    source line in ``data-source`` (the copy button turns the answer into plain text plus a source list)."""
    by_number = {citation.n: citation for citation in citations}

    def link(match: re.Match[str]) -> str:
        citation = by_number.get(int(match.group(1)))
        if citation is None:
            return match.group(0)
        passage = citation.passage
        tip = " › ".join(part for part in (passage.title, passage.section) if part)
        if passage.page:
            tip += f" (page {passage.page})"
        tip += f" — {' '.join(passage.text.split())[:200]}"
        return (
            f'<a class="cite-ref" href="#cite-{turn}-{citation.n}" title="{html.escape(tip, quote=True)}" '
            f'data-source="{html.escape(source_label(passage), quote=True)}">[{citation.n}]</a>'
        )

    # Prose is escaped and its markers linked; fenced code goes to the Markdown renderer as written (it escapes code)
    return outside_code(text, lambda prose: sub_citation_marks(html.escape(prose, quote=False), link))


def unverified_sentences(answer) -> list[str]:
    """The answer's sentences the support check could not back: citing no passage, or one that lacks them."""
    supported = {citation.n: citation.supported for citation in answer.citations}
    out = []
    for sentence in split_sentences(answer.answer):
        if sentence == UNVERIFIED_NOTE or (sentence.startswith("(") and sentence.endswith(").")):
            continue  # the pipeline's own note about the answer
        numbers = [int(match.group(1)) for match in citation_marks(sentence)]
        if UNSUPPORTED in sentence or not numbers or not all(supported.get(n, False) for n in numbers):
            plain = " ".join(without_citation_marks(sentence.replace(UNSUPPORTED, "")).split())
            out.append(re.sub(r"\s+([.,;:!?])", r"\1", plain))
    return out


def state_banner(answer) -> str:
    """One of the three things an answer can be, in words and colour (see rag/answer.py)."""
    sentences = unverified_sentences(answer) if answer.state != NOT_IN_DOCUMENTS else []
    named = "".join(f"<li>{html.escape(sentence)}</li>" for sentence in sentences)
    if answer.state == VERIFIED:
        unbacked = f" Except these sentences, which no cited passage backs:<ul>{named}</ul>" if sentences else ""
        return f'<div class="state verified">✓ Answered from the documents: the cited passages back the answer.{unbacked}</div>'
    if answer.state == UNVERIFIED:
        detail = (f" Not backed by the passages they cite:<ul>{named}</ul>" if sentences
                  else " The cited passages do not clearly answer the question.")
        return ('<div class="state unverified">⚠ Answered, but not verified: check it against the sources '
                f"below.{detail}</div>")
    assert answer.state == NOT_IN_DOCUMENTS
    return ('<div class="state not-found">✗ Not in the documents: the documents don\'t answer this question. '
            "The closest passages are below.</div>" if answer.citations or answer.uncited else
            '<div class="state not-found">✗ Not in the documents: the documents don\'t answer this question.</div>')


# ---- passages ---------------------------------------------------------------------------------------------


def _highlight_between_markers(markup: str) -> str:
    """Wrap every text run between the quote markers in <mark>, whatever elements the span crosses."""
    out, inside = [], False
    for piece in re.split(r"(<[^>]*>)", markup):
        if piece.startswith("<"):
            if _QUOTE_START in piece:
                inside = True
            if _QUOTE_END in piece:
                inside = False
            out.append(piece.replace(_QUOTE_START, "").replace(_QUOTE_END, ""))
            continue
        for part in re.split(f"([{_QUOTE_START}{_QUOTE_END}])", piece):
            if part == _QUOTE_START:
                inside = True
            elif part == _QUOTE_END:
                inside = False
            elif part:
                out.append(f"<mark>{part}</mark>" if inside and part.strip() else part)
    return "".join(out)


def _block_start(text: str, offset: int, floor: int) -> int:
    """Start of the block (after a blank line) holding ``offset``, or of its line if that is too far back."""
    reach = max(floor, offset - BLOCK_REACH_CHARS)
    blank = text.rfind("\n\n", reach, offset)
    if blank >= 0:
        return blank + 2
    line = text.rfind("\n", reach, offset)
    return line + 1 if line >= 0 else reach


def _block_end(text: str, offset: int) -> int:
    reach = min(len(text), offset + BLOCK_REACH_CHARS)
    blank = text.find("\n\n", offset, reach)
    if blank >= 0:
        return blank
    line = text.rfind("\n", offset, reach)
    return line if line >= 0 and reach < len(text) else reach


def markdown_excerpt(document: str, start: int, end: int, quote: tuple[int, int] | None, whole: bool = False) -> str:
    """A Markdown file rendered with ``quote`` highlighted: around the quote (CONTEXT_CHARS either side), or
    ``document[start:end]`` without one, widened to whole blocks; with ``whole``, exactly ``[start:end]``.

    Reference-style links resolve through the document's own definitions; HTML comments and tags go
    (``A<!---->I`` reads "AI"); front matter is shown as the plain fields it is."""
    front = _FRONT_MATTER.match(document)
    body_start = front.end() if front else 0
    quote_start, quote_end = quote or (start, start)
    if quote and quote_end <= body_start:  # a front-matter field is quoted
        return _plain_excerpt(document, quote_start, quote_end, floor=0, ceiling=body_start, markup=_HTML_MARKUP)
    if end <= body_start:
        return f'<div class="passage">{html.escape(_HTML_MARKUP.sub("", document[start:end]))}</div>'
    if whole:
        lo, hi = max(body_start, start), end
    elif quote:
        lo = _block_start(document, max(body_start, quote_start - CONTEXT_CHARS), body_start)
        hi = _block_end(document, min(len(document), quote_end + CONTEXT_CHARS))
    else:
        lo, hi = _block_start(document, max(body_start, start), body_start), _block_end(document, end)
    if not _LINE_SYNTAX.match(document, lo).group().strip():  # not a list item or heading: the indent of a
        lo += len(document[lo:hi]) - len(document[lo:hi].lstrip(" \t"))  # continuation line would make code
    quote_start, quote_end = max(lo, quote_start), max(lo, quote_end)
    syntax_end = _LINE_SYNTAX.match(document, document.rfind("\n", 0, quote_start) + 1).end()
    if quote_start < syntax_end:  # the quote starts inside the line's bullet or heading marks
        quote_start = min(quote_end, syntax_end)
    region = document[lo:hi]
    if quote:
        region = (document[lo:quote_start] + _QUOTE_START + document[quote_start:quote_end] + _QUOTE_END
                  + document[quote_end:hi])
    region = _without_html(region.replace("\r\n", "\n"))
    definitions = [line for line in document[body_start:].splitlines() if _LINK_DEFINITION.match(line)]
    rendered = _markdown().render(region + "\n\n" + "\n".join(definitions))
    return f'<div class="passage rendered">{_highlight_between_markers(rendered)}</div>'


def _without_html(markdown: str) -> str:
    """Markdown without its HTML comments and tags; code keeps what looks like one ("`pip install <package>`")."""
    code = code_ranges(markdown)
    return _HTML_MARKUP.sub(lambda tag: tag.group() if within(code, tag.start()) else "", markdown)


def _plain_excerpt(document: str, start: int, end: int, floor: int = 0, ceiling: int | None = None,
                   markup: re.Pattern[str] | None = None) -> str:
    """The span in <mark>, with up to CONTEXT_CHARS of text either side cut at word boundaries (and ``markup``
    removed from all three)."""
    ceiling = len(document) if ceiling is None else ceiling
    before = document[max(floor, start - CONTEXT_CHARS) : start]
    after = document[end : min(ceiling, end + CONTEXT_CHARS)]
    if start - CONTEXT_CHARS > floor and " " in before:
        before = "…" + before[before.index(" ") + 1 :]
    if end + CONTEXT_CHARS < ceiling and " " in after:
        after = after[: after.rindex(" ")] + "…"
    def shown(text: str) -> str:
        return html.escape(markup.sub("", text) if markup else text)

    return (
        f'<div class="passage"><span class="context">{shown(before)}</span>'
        f"<mark>{shown(document[start:end])}</mark>"
        f'<span class="context">{shown(after)}</span></div>'
    )


def passage_html(passage: Passage, document: str | None, quote: tuple[int, int] | None = None) -> str:
    """A passage as its document shows it. A citation's ``quote`` (source offsets) is highlighted, or the whole
    passage when the quote is unknown; a passage retrieved but not cited (``quote`` None) is not highlighted.
    Without the document text: the stored passage text."""
    valid = document is not None and 0 <= passage.start < passage.end <= len(document)
    if not valid:
        text = html.escape(passage.text)
        return f'<div class="passage">{f"<mark>{text}</mark>" if quote else text}</div>'
    markdown = passage.source.lower().endswith(MARKDOWN_SUFFIXES)
    if quote is None:
        if markdown:
            return markdown_excerpt(document, passage.start, passage.end, None)
        return f'<div class="passage">{html.escape(document[passage.start:passage.end])}</div>'
    if not passage.start <= quote[0] < quote[1] <= passage.end:
        quote = (passage.start, passage.end)
    if markdown:
        return markdown_excerpt(document, passage.start, passage.end, quote)
    return _plain_excerpt(document, *quote)


def _injection_note(text: str) -> str:
    """A visible note on a passage that reads like an instruction to a model (quoted, never obeyed)."""
    phrase = instruction_like(text)
    if phrase is None:
        return ""
    return (f'<div class="injection">⚠ This passage contains instruction-like text (“{html.escape(phrase)}”). '
            "It is quoted as document content; the assistant does not follow instructions found in documents.</div>")


class DocumentTexts:
    """Each cited document's id and stored text, read once per rendering (None once removed from the index).
    Looked up through the passage's chunk, so the same file name indexed from two folders is never confused."""

    def __init__(self, assistant):
        self.store = assistant.store
        self.found: dict[int, tuple[str | None, str | None]] = {}

    def __call__(self, passage: Passage) -> tuple[str | None, str | None]:
        if passage.id not in self.found:
            root = self.store.chunk_root(passage.id)
            try:
                text = None if root is None else self.store.document_text(passage.source, root)
            except StoreError:
                text = None
            self.found[passage.id] = (None if text is None else document_key(root, passage.source), text)
        return self.found[passage.id]


def _open_link(doc_id: str | None, quote: tuple[int, int] | None, page: int | None = None) -> str:
    """A link to the whole document, scrolled to the quote, beside its PDF page (served by the app from the
    index: /document/<id>)."""
    if doc_id is None:
        return ""
    query = [f"start={quote[0]}", f"end={quote[1]}"] if quote and 0 <= quote[0] < quote[1] else []
    query += [f"page={page}"] if page else []
    return (f' · <a class="open-doc" href="document/{doc_id}{"?" if query else ""}{"&amp;".join(query)}#cited" '
            'target="_blank" rel="noopener">open document ↗</a>')


def _source_block(passage: Passage, texts: DocumentTexts, quote: tuple[int, int] | None = None,
                  number: int | None = None, turn: int = 0, verdict: str = "") -> str:
    """One passage with where it is from; a citation (``number``) has its quote highlighted and its verdict."""
    cited = number is not None
    id_attr = f' id="cite-{turn}-{number}"' if cited else ""
    doc_id, document = texts(passage)
    if cited and (quote is None or quote[0] < 0):
        quote = (passage.start, passage.end)
    return (f'<div class="source"{id_attr}><div class="source-head">{f"[{number}] " if cited else ""}{_where(passage)}'
            f" · <code>{html.escape(passage.source)}</code>{f' · {verdict}' if verdict else ''}"
            f"{_open_link(doc_id, quote or (passage.start, passage.end), passage.page)}</div>"
            f"{_injection_note(passage.text)}{passage_html(passage, document, quote)}</div>")


def _turn_head(turn: int) -> str:
    return f"<h3>Sources of answer {turn}</h3>"


def sources_html(assistant, answer, turn: int) -> str:
    """The sources panel for one answer: its state, the cited passages in context, then the uncited ones."""
    texts = DocumentTexts(assistant)
    parts = [f'<div class="sources" data-turn="{turn}" data-state="{answer.state}">', _turn_head(turn),
             state_banner(answer)]
    for citation in answer.citations:
        passage = citation.passage
        verdict = (
            '<span class="warn">⚠ not supported by this passage</span>' if not citation.supported
            else '<span class="ok">✓ supported by this passage</span>' if citation.answers
            else '<span class="warn">✓ in this passage, but it does not answer the question</span>'
        )
        parts.append(_source_block(passage, texts, (citation.quote_start, citation.quote_end), citation.n, turn,
                                   verdict))
    if answer.uncited:
        label = "retrieved passage" if len(answer.uncited) == 1 else "retrieved passages"
        opened = " open" if not answer.citations else ""
        parts.append(f"<details{opened}><summary>{len(answer.uncited)} more {label} (not cited)</summary>")
        parts += [_source_block(hit.passage, texts) for hit in answer.uncited]
        parts.append("</details>")
    if not answer.citations and not answer.uncited:
        parts.append('<p class="empty">No passages matched.</p>')
    parts.append("</div>")
    return "".join(parts)


def retrieved_html(assistant, hits: Sequence[Hit], turn: int, stopped: bool = False) -> str:
    """The sources panel while the answer is being written (or after Stop): the retrieved passages, best first."""
    texts = DocumentTexts(assistant)
    count = f'{len(hits)} retrieved passage{"" if len(hits) == 1 else "s"}'
    state = (f'<div class="state stopped">⏹ Stopped: the answer was cut off, so its citations were not checked. '
             f"The {count}:</div>" if stopped else f'<div class="state writing">Writing the answer from {count}…</div>')
    parts = [f'<div class="sources" data-turn="{turn}" data-state="{"stopped" if stopped else "writing"}">',
             _turn_head(turn), state]
    parts += [_source_block(hit.passage, texts) for hit in hits]
    parts.append("</div>")
    return "".join(parts)


def searching_html(turn: int) -> str:
    return (f'<div class="sources" data-turn="{turn}" data-state="searching">{_turn_head(turn)}'
            '<p class="empty">Searching the documents…</p></div>')


def error_html(turn: int) -> str:
    return (f'<div class="sources" data-turn="{turn}" data-state="error">{_turn_head(turn)}'
            '<p class="empty">No answer, so no sources.</p></div>')


# ---- styles and script -------------------------------------------------------------------------------------

# Every custom colour is a variable with a light and a dark value: Gradio puts the class "dark" on the page for
# ?__theme=dark and for a system preference for dark. Text/background pairs keep WCAG AA contrast (>= 4.5:1).
CSS = """
:root { --rag-mark-bg: #fff1a8; --rag-mark-fg: #1f1a00;
        --rag-ok: #177245; --rag-warn: #8a5000;
        --rag-verified-bg: #e6f4ea; --rag-verified-border: #9fd3b0; --rag-verified-fg: #0f5a2e;
        --rag-unverified-bg: #fff4e0; --rag-unverified-border: #f0c36d; --rag-unverified-fg: #6b3e00;
        --rag-missing-bg: #fdecea; --rag-missing-border: #f5c2c0; --rag-missing-fg: #8a1f17; }
.dark { --rag-mark-bg: #6b5800; --rag-mark-fg: #fffbe6;
        --rag-ok: #6fdc9a; --rag-warn: #ffc266;
        --rag-verified-bg: #12321f; --rag-verified-border: #2f6b45; --rag-verified-fg: #b8f0cc;
        --rag-unverified-bg: #3a2a05; --rag-unverified-border: #8a6410; --rag-unverified-fg: #ffd98a;
        --rag-missing-bg: #3d1512; --rag-missing-border: #8c2f28; --rag-missing-fg: #ffc4bd; }
a.cite-ref { text-decoration: none; font-weight: 600; font-size: 0.85em; vertical-align: super; padding: 0 1px; }
#sources .sources:not(:last-child) { display: none; }
.sources h3 { margin: 0 0 0.5em 0; }
.sources .source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px;
                   margin-bottom: 10px; scroll-margin: 80px; }
.sources .source.flash { outline: 3px solid var(--color-accent); }
.sources .source-head { font-size: 0.9em; margin-bottom: 6px; }
.sources .source-head code { font-size: 0.9em; }
.sources .passage { font-size: 0.9em; line-height: 1.45; max-height: 22em; overflow-y: auto; overflow-wrap: anywhere; }
.sources .passage:not(.rendered) { white-space: pre-wrap; }
.sources .passage.rendered :is(h1, h2, h3, h4, h5, h6) { font-size: 1em; margin: 0.4em 0; }
.sources .passage.rendered :is(p, ul, ol, table) { margin: 0.3em 0; }
.sources .passage.rendered table { border-collapse: collapse; font-size: 0.95em; }
.sources .passage.rendered :is(td, th) { border: 1px solid var(--border-color-primary); padding: 2px 6px; }
.sources .context { opacity: 0.75; }
.sources mark { background: var(--rag-mark-bg); color: var(--rag-mark-fg); padding: 0 1px; }
.sources .ok { color: var(--rag-ok); font-weight: 600; }
.sources .warn { color: var(--rag-warn); font-weight: 600; }
.sources .state { border-radius: 8px; padding: 8px 10px; margin-bottom: 10px; font-weight: 600; border: 1px solid; }
.sources .state ul { margin: 4px 0 0 0; font-weight: normal; }
.sources .state.verified { background: var(--rag-verified-bg); border-color: var(--rag-verified-border);
                           color: var(--rag-verified-fg); }
.sources .state.unverified { background: var(--rag-unverified-bg); border-color: var(--rag-unverified-border);
                             color: var(--rag-unverified-fg); }
.sources .state.not-found { background: var(--rag-missing-bg); border-color: var(--rag-missing-border);
                            color: var(--rag-missing-fg); }
.sources .state.writing, .sources .state.stopped { border-color: var(--border-color-primary); font-weight: normal; }
.sources .empty, .sources-empty .empty { opacity: 0.8; }
.sources .injection { background: var(--rag-unverified-bg); border: 1px solid var(--rag-unverified-border);
                      color: var(--rag-unverified-fg); border-radius: 6px; padding: 4px 8px; margin-bottom: 6px;
                      font-size: 0.85em; }
.chat-stopped { font-style: italic; opacity: 0.85; }
#chat button[aria-label="Clear"] { display: none; }  /* the "Clear conversation" button does this, and waits for an answer to end */
/* Phones: the question box takes the whole width, an answer's sources follow the conversation. */
@media (max-width: 640px) {
  #chat-layout { flex-direction: column; }
  #chat-column { display: contents; }
  #chat-column > * { order: 3; }  /* the question box, queue and filter (Gradio may wrap them) */
  #chat-column > :is(#chat, :has(#chat)) { order: 1; }
  #sources-column { order: 2; max-height: 70vh; overflow-y: auto; }
  #question-row { flex-direction: column; }
  #question-row > * { width: 100%; min-width: 0 !important; }
  #chat-column > :is(#examples, :has(#examples)) { order: 5; }
  #chat-column > :is(#details, :has(#details)) { order: 6; }
  #chat-status-row > #collection { flex: 1 1 100% !important; }  /* the collection chooser: a whole line */
}
"""

# A marker click shows its answer's sources (earlier answers too) and scrolls to the passage instead of
# following the link. Copying an answer puts plain text on the clipboard: [n] markers, then the numbered
# source list (the chat's copy button would copy the message's HTML).
HEAD = """
<script>
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest('a[href^="#cite-"]') : null;
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  const target = document.getElementById(link.getAttribute("href").slice(1));
  if (!target) return;
  const turn = target.closest(".sources");
  if (turn) {
    for (const block of turn.parentElement.querySelectorAll(":scope > .sources")) {
      block.style.display = block === turn ? "block" : "none";
    }
  }
  target.scrollIntoView({behavior: "smooth", block: "center"});
  target.classList.remove("flash");
  void target.offsetWidth;
  target.classList.add("flash");
}, true);

(() => {
  const clipboard = navigator.clipboard;
  if (!clipboard || !clipboard.writeText) return;
  const write = clipboard.writeText.bind(clipboard);
  const plainAnswer = (markup) => {
    const doc = new DOMParser().parseFromString(markup, "text/html");
    const sources = new Map();
    for (const link of doc.querySelectorAll("a.cite-ref")) {
      const marker = link.textContent;
      if (!sources.has(marker)) sources.set(marker, link.dataset.source || "");
      link.replaceWith(marker);
    }
    let text = doc.body.textContent.trim();
    if (sources.size) {
      const numbered = [...sources].sort((a, b) => parseInt(a[0].slice(1)) - parseInt(b[0].slice(1)));
      text += "\\n\\nSources:\\n" + numbered.map(([marker, source]) => `${marker} ${source}`).join("\\n");
    }
    return text;
  };
  clipboard.writeText = (text) =>
    write(typeof text === "string" && text.includes('class="cite-ref"') ? plainAnswer(text) : text);
})();
</script>
"""


# ---- the source view: a whole document, scrolled to a cited span ------------------------------------------

# The page runs no script and loads nothing (see the Content-Security-Policy the app sends with it).
_DOCUMENT_CSS = """
:root { color-scheme: light dark; --mark-bg: #fff1a8; --mark-fg: #1f1a00; }
@media (prefers-color-scheme: dark) { :root { --mark-bg: #6b5800; --mark-fg: #fffbe6; } }
body { font: 16px/1.55 ui-sans-serif, system-ui, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       max-width: 52em; margin: 0 auto; padding: 1em; overflow-wrap: anywhere; }
header { border-bottom: 1px solid #8884; margin-bottom: 1em; padding-bottom: 0.5em; }
.plain { white-space: pre-wrap; }
mark { background: var(--mark-bg); color: var(--mark-fg); scroll-margin-top: 30vh; }
table { border-collapse: collapse; } td, th { border: 1px solid #8886; padding: 2px 6px; }
/* A PDF: the cited page beside the text (stacked on phones); the page stays in view while the text scrolls. */
body.with-page { max-width: 96em; }
.with-page main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1.5em; }
.pdf-page { position: sticky; top: 0.5em; align-self: start; margin: 0; }
.pdf-page img { width: 100%; height: auto; border: 1px solid #8886; background: #fff; }
.pdf-page figcaption { font-size: 0.85em; opacity: 0.8; }
@media (max-width: 800px) { .with-page main { grid-template-columns: 1fr; } .pdf-page { position: static; } }
"""


def document_page(record, text: str, quote: tuple[int, int] | None, page: int | None = None) -> str:
    """The whole indexed text of a document as its reader sees it, ``quote`` highlighted; the first highlight
    is ``#cited``, so a link ending in #cited opens scrolled to it. A PDF's ``page`` is shown beside it, as an
    image the app renders from the file (``<id>/page/<n>.png``)."""
    if quote is not None and not 0 <= quote[0] < quote[1] <= len(text):
        quote = None
    if record.source.lower().endswith(MARKDOWN_SUFFIXES):
        body = markdown_excerpt(text, 0, len(text), quote, whole=True)
    elif quote is None:
        body = f'<div class="plain">{html.escape(text)}</div>'
    else:
        start, end = quote
        body = (f'<div class="plain">{html.escape(text[:start])}<mark>{html.escape(text[start:end])}</mark>'
                f"{html.escape(text[end:])}</div>")
    body = body.replace("<mark>", '<mark id="cited">', 1)
    title = html.escape(record.title or record.source)
    figure = ""
    if page and record.source.lower().endswith(".pdf"):
        figure = (f'<figure class="pdf-page"><img src="{document_key(record.root, record.source)}/page/{page}.png" '
                  f'alt="Page {page} of {title}"><figcaption>Page {page} of the PDF</figcaption></figure>')
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>'
            f'<style>{_DOCUMENT_CSS}</style></head><body{" class=with-page" if figure else ""}>'
            f"<header><b>{title}</b> · "
            f"<code>{html.escape(record.source)}</code> · the indexed text</header><main>{figure}<div>{body}</div>"
            "</main></body></html>")
