"""The Gradio 6 web UI: chat with cited sources, document upload and indexing, answer settings.

Everything here is a thin layer over :class:`rag.api.Assistant`; the named API endpoints (``ask``,
``upload``, ``reindex``, ``remove``, ``settings``) call the same methods as the CLI, so the app can be
scripted with ``gradio_client``. The handlers are plain functions of (assistant, caller's role, inputs) that
check the role themselves (rag/auth.py); ``build_app`` only lays out components and wires them, so every
endpoint enforces the same roles as the page. ``remove`` takes a document id (the table's ``id`` column).
``launch`` also serves the HTTP API of rag/http_api.py (/v1, OpenAI-compatible) from the same app.
"""

from __future__ import annotations

import html
import logging
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import rag  # noqa: F401  (offline/telemetry environment before gradio imports)

import gradio as gr
from gradio.components.chatbot import ChatbotDataMessages, Message
from pydantic import field_validator

from rag.api import Assistant, document_id
from rag.auth import EDIT, READ, Access, PermissionDenied, Role, allows, require
from rag.backends import BACKEND_NAMES
from rag.config import Settings
from rag.errors import USER_ERRORS
from rag.injection import instruction_like
from rag.passage import Passage
from rag.prompt import chat_history
from rag.retrieve import MODES
from rag.store import StoreError
from rag.text import one_line
from rag.uploads import UPLOAD_TYPES, store_uploads

log = logging.getLogger(__name__)

EXAMPLES = [
    "What is specification gaming?",
    "Which organisations work on alignment research?",
    "What is inner alignment?",
]
# Characters of document text shown around a cited passage.
CONTEXT_CHARS = 240
DOC_HEADERS = ["title", "source", "chunks", "indexed at", "id"]

# System fonts only: the default Gradio fonts are served locally, but nothing should depend on that.
THEME = gr.themes.Default(
    font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
)

CSS = """
a.cite-ref { text-decoration: none; font-weight: 600; font-size: 0.85em; vertical-align: super; padding: 0 1px; }
.sources h3 { margin: 0 0 0.5em 0; }
.sources .source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px;
                   margin-bottom: 10px; scroll-margin: 80px; }
.sources .source.flash { outline: 3px solid var(--color-accent); }
.sources .source-head { font-size: 0.9em; margin-bottom: 6px; }
.sources .source-head code { font-size: 0.9em; }
.sources .passage { white-space: pre-wrap; font-size: 0.9em; line-height: 1.45; max-height: 22em; overflow-y: auto; }
.sources .context { opacity: 0.65; }
.sources mark { background: #fff1a8; color: inherit; padding: 0 1px; }
.sources .ok { color: #177245; font-weight: 600; }
.sources .warn { color: #a15c00; font-weight: 600; }
.sources .banner { background: #fdecea; border: 1px solid #f5c2c0; color: #8a1f17; border-radius: 8px;
                   padding: 8px 10px; margin-bottom: 10px; font-weight: 600; }
.sources .empty { opacity: 0.7; }
.sources .injection { background: #fff4e5; border: 1px solid #f0c36d; color: #7a4b00; border-radius: 6px;
                      padding: 4px 8px; margin-bottom: 6px; font-size: 0.85em; }
"""

# A marker click scrolls to its passage in the sources panel instead of following the link.
HEAD = """
<script>
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest('a[href^="#cite-"]') : null;
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  const target = document.getElementById(link.getAttribute("href").slice(1));
  if (!target) return;
  target.scrollIntoView({behavior: "smooth", block: "center"});
  target.classList.remove("flash");
  void target.offsetWidth;
  target.classList.add("flash");
}, true);
</script>
"""


# ---- rendering ----------------------------------------------------------------------------------------


def plain_history(history: Sequence[dict]) -> list[dict[str, str]]:
    """The conversation as plain text messages: citation links and escaping undone."""
    return chat_history(history, clean=lambda text: html.unescape(re.sub(r"<[^>]+>", "", text)))


def _where(passage: Passage) -> str:
    parts = [f"<b>{html.escape(passage.title)}</b>"] if passage.title else []
    if passage.section:
        parts.append(html.escape(passage.section))
    text = " › ".join(parts)
    return f"{text} · page {passage.page}" if passage.page else text


def linked_answer(text: str, citations: Sequence, turn: int) -> str:
    """Answer text with each [n] turned into a link to passage n of this turn, its title as tooltip."""
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
            f'<a class="cite-ref" href="#cite-{turn}-{citation.n}" title="{html.escape(tip, quote=True)}">'
            f"[{citation.n}]</a>"
        )

    return re.sub(r"\[(\d+)\]", link, html.escape(text, quote=False))


def _in_context(document: str, start: int, end: int) -> str:
    """The span in <mark>, with up to CONTEXT_CHARS of escaped text either side cut at word boundaries."""
    before = document[max(0, start - CONTEXT_CHARS) : start]
    after = document[end : end + CONTEXT_CHARS]
    if start > CONTEXT_CHARS and " " in before:
        before = "…" + before[before.index(" ") + 1 :]
    if end + CONTEXT_CHARS < len(document) and " " in after:
        after = after[: after.rindex(" ")] + "…"
    return (
        f'<span class="context">{html.escape(before)}</span>'
        f"<mark>{html.escape(document[start:end])}</mark>"
        f'<span class="context">{html.escape(after)}</span>'
    )


def _injection_note(text: str) -> str:
    """A visible note on a passage that reads like an instruction to a model (quoted, never obeyed)."""
    phrase = instruction_like(text)
    if phrase is None:
        return ""
    return (f'<div class="injection">⚠ This passage contains instruction-like text (“{html.escape(phrase)}”). '
            "It is quoted as document content; the assistant does not follow instructions found in documents.</div>")


def sources_html(assistant: Assistant, answer, turn: int) -> str:
    """The sources panel for one answer: cited passages in context, then the uncited ones collapsed."""
    parts = [f'<div class="sources" data-turn="{turn}">']
    if not answer.grounded:
        parts.append('<div class="banner">The documents don\'t answer this: no statement above is backed by '
                     "the indexed passages.</div>")
    if answer.citations:
        parts.append("<h3>Sources</h3>")
    texts: dict[str, str | None] = {}
    for citation in answer.citations:
        passage = citation.passage
        if passage.source not in texts:
            try:
                texts[passage.source] = assistant.document_text(passage.source)
            except StoreError:  # removed since the answer was given
                texts[passage.source] = None
        document = texts[passage.source]
        valid = document is not None and 0 <= passage.start < passage.end <= len(document)
        if valid:  # highlight the quoted unit (a sentence, a table row, a field), the rest of the chunk is context
            quoted = passage.start <= citation.quote_start < citation.quote_end <= passage.end
            start, end = (citation.quote_start, citation.quote_end) if quoted else (passage.start, passage.end)
            body = _in_context(document, start, end)
        else:
            body = f"<mark>{html.escape(passage.text)}</mark>"
        verdict = (
            '<span class="warn">⚠ not supported by this passage</span>' if not citation.supported
            else '<span class="ok">✓ supported by this passage</span>' if citation.answers
            else '<span class="warn">✓ in this passage, but it does not answer the question</span>'
        )
        parts.append(
            f'<div class="source" id="cite-{turn}-{citation.n}"><div class="source-head">[{citation.n}] '
            f"{_where(passage)} · <code>{html.escape(passage.source)}</code>"
            f" · {verdict}</div>{_injection_note(passage.text)}<div class=\"passage\">{body}</div></div>"
        )
    if answer.uncited:
        label = "retrieved passage" if len(answer.uncited) == 1 else "retrieved passages"
        parts.append(f"<details><summary>{len(answer.uncited)} more {label} (not cited)</summary>")
        for hit in answer.uncited:
            passage = hit.passage
            parts.append(
                f'<div class="source"><div class="source-head">{_where(passage)} · <code>{html.escape(passage.source)}</code>'
                f'</div>{_injection_note(passage.text)}<div class="passage">{html.escape(passage.text)}</div></div>'
            )
        parts.append("</details>")
    if not answer.citations and not answer.uncited:
        parts.append('<p class="empty">No passages matched.</p>')
    parts.append("</div>")
    return "".join(parts)


EMPTY_SOURCES = '<div class="sources"><p class="empty">Sources for the latest answer appear here.</p></div>'


# ---- handlers: plain functions over an Assistant and the caller's role ---------------------------------


@dataclass
class DocumentsView:
    table: list[list]
    choices: list[tuple[str, str]]  # (label, document id) for the remove dropdown
    status: str


@dataclass
class SettingsView:
    backend: str
    llm_model: str
    openai_base_url: str
    key_hint: str
    ollama_base_url: str
    top_k: int
    retrieval_mode: str
    summary: str

    @property
    def visible(self) -> dict[str, bool]:
        return backend_fields(self.backend)


def backend_fields(backend: str) -> dict[str, bool]:
    """The one rule for which settings fields a backend reads (and so which ones the UI shows)."""
    return {
        "llm_model": backend != "extractive",
        "openai_base_url": backend == "openai",
        "openai_api_key": backend == "openai",
        "ollama_base_url": backend == "ollama",
    }


def documents_view(assistant: Assistant, role: Role | None) -> DocumentsView:
    require(role, READ, "list documents")
    records = sorted(assistant.documents(), key=lambda record: (record.source, record.root))
    table = [
        [record.title, record.source, record.chunk_count,
         time.strftime("%Y-%m-%d %H:%M", time.localtime(record.indexed_at)), document_id(record)]
        for record in records
    ]
    names = Counter(record.source for record in records)
    choices = [
        (record.source if names[record.source] == 1 else f"{record.source} ({record.root})", document_id(record))
        for record in records
    ]
    return DocumentsView(table, choices, _status_line(assistant))


def ask_turns(assistant: Assistant, role: Role | None, message: str, history: list[dict]) -> Iterator[tuple]:
    """Stream one chat turn as (chat, sources html, answer dict) states; nothing for an empty question."""
    require(role, READ, "ask questions")
    question = (message or "").strip()
    if not question:
        return
    earlier = plain_history(history)
    turn = sum(1 for m in history if m.get("role") == "assistant") + 1
    chat = list(history) + [
        {"role": "user", "content": html.escape(question, quote=False)},
        {"role": "assistant", "content": "…"},
    ]
    waiting = '<div class="sources"><p class="empty">Searching the documents…</p></div>'
    yield chat, waiting, None
    streamed = ""
    try:
        for event in assistant.ask(question, earlier):
            if event.kind == "delta":
                streamed += event.text
                chat[-1] = {"role": "assistant", "content": html.escape(streamed, quote=False)}
                yield chat, waiting, None
            elif event.answer is not None:
                answer = event.answer
                chat[-1] = {"role": "assistant", "content": linked_answer(answer.answer, answer.citations, turn)}
                yield chat, sources_html(assistant, answer, turn), answer.to_dict()
    except Exception as exc:  # the chat shows one line, never a traceback
        message = _one_line_error(exc)
        chat[-1] = {"role": "assistant", "content": f"⚠️ **Error:** {html.escape(message)}"}
        failed = f'<div class="sources" data-turn="{turn}"><p class="empty">No answer, so no sources.</p></div>'
        yield chat, failed, {"error": message}


def upload_files(assistant: Assistant, role: Role | None, files: Sequence[str] | None, progress=None) -> str:
    """Save uploads into the corpus folder and index them (rag/uploads.py); returns the report (markdown)."""
    require(role, EDIT, "upload documents")
    if not files:
        return "Choose one or more files first."
    uploads, unreadable = [], []
    for path in map(Path, files):
        try:
            uploads.append((path.name, path.read_bytes()))
        except OSError as exc:
            unreadable.append(f"{path.name}: cannot read the upload ({exc.strerror or exc})")
    try:
        result = store_uploads(assistant, role, uploads, progress)
    except Exception as exc:
        return f"Indexing failed: {html.escape(_one_line_error(exc))}"
    notes = unreadable + result.notes
    if result.report is None:
        return "\n".join(f"- {html.escape(note)}" for note in notes)
    return _report_markdown(result.report, notes)


def reindex(assistant: Assistant, role: Role | None, progress=None) -> str:
    """Re-scan the corpus folder: new and changed files are indexed, deleted ones dropped."""
    require(role, EDIT, "re-index")
    try:
        report = assistant.index(progress=progress)
    except Exception as exc:
        return f"Re-indexing failed: {html.escape(_one_line_error(exc))}"
    return _report_markdown(report)


def remove_document(assistant: Assistant, role: Role | None, doc_id: str | None) -> str:
    require(role, EDIT, "remove documents")
    if not doc_id:
        return "Choose a document to remove first."
    try:
        return assistant.remove(doc_id)
    except Exception as exc:
        return f"Could not remove `{html.escape(doc_id)}`: {html.escape(_one_line_error(exc), quote=False)}"


def settings_view(assistant: Assistant, role: Role | None, notes: Sequence[str] = ()) -> SettingsView:
    require(role, READ, "view settings")
    settings = assistant.settings
    return SettingsView(
        backend=settings.backend,
        llm_model=settings.llm_model,
        openai_base_url=settings.openai_base_url,
        key_hint="(a key is set)" if settings.openai_api_key.get_secret_value() else "(no key set)",
        ollama_base_url=settings.ollama_base_url,
        top_k=settings.top_k,
        retrieval_mode=settings.retrieval_mode,
        summary="\n\n".join([_settings_summary(settings), *(f"**{note}**" for note in notes)]),
    )


def apply_settings(assistant: Assistant, role: Role | None, backend: str, model: str | None, openai_url: str | None,
                   api_key: str | None, ollama_url: str | None, top_k, mode: str) -> SettingsView:
    """Change the answer settings of this running server (not saved to rag.toml); editors only, since base
    URLs and model paths decide where the API key goes and which files are read."""
    require(role, EDIT, "change settings")
    current = assistant.settings
    update = {
        "backend": backend,
        "llm_model": (model or "").strip(),
        "openai_base_url": (openai_url or "").strip() or current.openai_base_url,
        "ollama_base_url": (ollama_url or "").strip() or current.ollama_base_url,
        "top_k": max(1, int(top_k)),
        "retrieval_mode": mode,
    }
    if (api_key or "").strip():
        update["openai_api_key"] = api_key.strip()
    return settings_view(assistant, role, assistant.update_settings(**update))


# ---- the app ------------------------------------------------------------------------------------------


def _status_line(assistant: Assistant) -> str:
    status = assistant.status()
    when = f", last indexed {status['last_indexed']}" if status["last_indexed"] else ""
    return f"**{status['documents']} documents, {status['chunks']} chunks** in `{status['index_dir']}`{when}"


def _report_markdown(report, notes: Sequence[str] = ()) -> str:
    lines = [f"- {html.escape(note)}" for note in notes]
    for label, sources in (("added", report.added), ("updated", report.updated), ("removed", report.removed)):
        lines += [f"- {label}: `{source}`" for source in sources]
    lines += [f"- skipped `{source}`: {html.escape(reason)}" for source, reason in report.skipped]
    if report.unchanged:
        lines.append(f"- unchanged: {len(report.unchanged)} file(s)")
    head = (
        f"**Indexed in {report.seconds:.1f} s**: added {len(report.added)}, updated {len(report.updated)}, "
        f"removed {len(report.removed)}, skipped {len(report.skipped)}; the index holds "
        f"{report.documents_total} documents, {report.chunks_total} chunks."
    )
    return "\n".join([head, "", *lines])


def _settings_summary(settings: Settings) -> str:
    model = settings.llm_model or "backend default"
    extra = ""
    if settings.backend == "openai":
        key = "set" if settings.openai_api_key.get_secret_value() else "not set"
        extra = f", base URL `{settings.openai_base_url}`, API key {key}"
    elif settings.backend == "ollama":
        extra = f", base URL `{settings.ollama_base_url}`"
    if settings.backend == "extractive":
        model = "none (quotes passages)"
    return (
        f"Effective settings: backend **{settings.backend}** (model: {model}{extra}), "
        f"top-k **{settings.top_k}**, retrieval **{settings.retrieval_mode}**."
    )


def _one_line_error(exc: Exception) -> str:
    if isinstance(exc, USER_ERRORS):
        return one_line(exc)
    log.exception("unexpected error in the UI")
    return f"unexpected error ({type(exc).__name__}: {one_line(exc)}); details are in the server log"


class _PlainTextMessage(Message):
    """A chat message whose content may also be the plain string of the documented history format."""

    @field_validator("content", mode="before")
    @classmethod
    def _text_parts(cls, content):
        return [{"type": "text", "text": content}] if isinstance(content, str) else content


class _ChatHistory(ChatbotDataMessages):
    root: list[_PlainTextMessage]


def build_app(assistant: Assistant, access: Access | None = None) -> gr.Blocks:
    """The whole UI over one Assistant; launch it with :func:`launch` (theme, CSS and head go there).
    ``access`` says which role each logged-in user has (default: open, everyone an editor)."""
    access = access or Access({})

    def role(request: gr.Request | None) -> Role | None:
        return access.role(getattr(request, "username", None))

    def refused(exc: PermissionDenied) -> gr.Error:
        return gr.Error(str(exc), print_exception=False)

    def documents_outputs(request: gr.Request) -> tuple:
        try:
            view = documents_view(assistant, role(request))
        except PermissionDenied as exc:
            raise refused(exc) from None
        return view.table, gr.Dropdown(choices=view.choices, value=None), view.status

    def settings_outputs(view: SettingsView) -> tuple:
        visible = view.visible
        return (
            gr.Dropdown(value=view.backend),
            gr.Textbox(value=view.llm_model, visible=visible["llm_model"]),
            gr.Textbox(value=view.openai_base_url, visible=visible["openai_base_url"]),
            gr.Textbox(value="", placeholder=view.key_hint, visible=visible["openai_api_key"]),
            gr.Textbox(value=view.ollama_base_url, visible=visible["ollama_base_url"]),
            view.top_k,
            view.retrieval_mode,
            view.summary,
        )

    def on_ask(message: str, history: list[dict], request: gr.Request) -> Iterator[tuple]:
        states = ask_turns(assistant, role(request), message, history)
        try:
            first = next(states)
        except StopIteration:
            yield "", history, gr.skip(), gr.skip()
            return
        except PermissionDenied as exc:
            raise refused(exc) from None
        yield "", *first
        for chat, sources_panel, details in states:
            yield "", chat, sources_panel, details

    def on_upload(files: list[str] | None, request: gr.Request, progress=gr.Progress()) -> tuple:
        try:
            report = upload_files(assistant, role(request), files, lambda f, message: progress(f, desc=message))
        except PermissionDenied as exc:
            raise refused(exc) from None
        return (report, *documents_outputs(request))

    def on_reindex(request: gr.Request, progress=gr.Progress()) -> tuple:
        try:
            report = reindex(assistant, role(request), lambda f, message: progress(f, desc=message))
        except PermissionDenied as exc:
            raise refused(exc) from None
        return (report, *documents_outputs(request))

    def on_remove(doc_id: str | None, request: gr.Request) -> tuple:
        try:
            message = remove_document(assistant, role(request), doc_id)
        except PermissionDenied as exc:
            raise refused(exc) from None
        return (message, *documents_outputs(request))

    def on_pick(event: gr.SelectData):
        """Clicking a table row chooses that document (its id, the last column) for removal."""
        return gr.Dropdown(value=event.row_value[-1]) if event.row_value else gr.skip()

    def on_settings_view(request: gr.Request) -> tuple:
        try:
            return settings_outputs(settings_view(assistant, role(request)))
        except PermissionDenied as exc:
            raise refused(exc) from None

    def on_apply(backend, model, openai_url, api_key, ollama_url, top_k, mode, request: gr.Request) -> tuple:
        try:
            view = apply_settings(assistant, role(request), backend, model, openai_url, api_key, ollama_url, top_k,
                                  mode)
        except PermissionDenied as exc:
            raise refused(exc) from None
        return settings_outputs(view)

    def on_backend(backend: str) -> tuple:
        visible = backend_fields(backend)
        return tuple(gr.Textbox(visible=visible[name])
                     for name in ("llm_model", "openai_base_url", "openai_api_key", "ollama_base_url"))

    def on_role(request: gr.Request) -> tuple:
        """Editing controls are shown to editors only (the handlers refuse other roles anyway)."""
        editor = allows(role(request), EDIT)
        return gr.Column(visible=editor), gr.Row(visible=editor), gr.Tab(visible=editor)

    with gr.Blocks(title="Ask your documents") as demo:
        gr.Markdown("## Ask your documents\nAnswers come only from the indexed documents, with numbered citations.")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            label="Conversation",
                            height=460,
                            elem_id="chat",
                            buttons=["copy"],
                            feedback_options=None,
                            placeholder="Ask a question about the documents, or pick an example below.",
                        )
                        chatbot.data_model = _ChatHistory  # the API also takes {"role", "content": "text"}
                        with gr.Row(equal_height=True):
                            question = gr.Textbox(
                                label="Question", show_label=False, placeholder="Your question…", scale=5,
                                elem_id="question", submit_btn=False, lines=1, max_lines=4,
                            )
                            with gr.Column(scale=1, min_width=140):
                                send = gr.Button("Ask", variant="primary", elem_id="ask")
                                clear = gr.Button("Clear conversation", size="sm", elem_id="clear")
                        examples = gr.Examples(EXAMPLES, inputs=question, label="Example questions")
                        with gr.Accordion("Answer details (JSON)", open=False):
                            details = gr.JSON(label="Latest answer", elem_id="answer-json")
                    with gr.Column(scale=2):
                        sources = gr.HTML(EMPTY_SOURCES, elem_id="sources", js_on_load=None)
            with gr.Tab("Documents", id="documents"):
                status = gr.Markdown(elem_id="index-status")
                with gr.Row():
                    with gr.Column() as upload_column:
                        files = gr.File(
                            label=f"Upload documents ({' '.join(UPLOAD_TYPES)})",
                            file_count="multiple",
                            file_types=UPLOAD_TYPES,
                            elem_id="upload-files",
                        )
                        with gr.Row():
                            upload_button = gr.Button("Upload and index", variant="primary", elem_id="upload")
                            reindex_button = gr.Button("Re-index corpus folder", elem_id="reindex")
                    report = gr.Markdown("", elem_id="index-report")
                table = gr.Dataframe(
                    headers=DOC_HEADERS, datatype=["str", "str", "number", "str", "str"], interactive=False,
                    label="Indexed documents", elem_id="documents-table", wrap=True,
                )
                with gr.Row() as remove_row:
                    # Values are document ids; custom values let API scripts name any id, remove() checks it.
                    to_remove = gr.Dropdown(label="Document to remove", choices=[], allow_custom_value=True, scale=3,
                                            elem_id="remove-source")
                    remove_button = gr.Button("Remove document and its file", variant="stop", scale=1,
                                              elem_id="remove")
            with gr.Tab("Settings", id="settings") as settings_tab:
                # Built with the effective values (the API defaults); refreshed on every page load.
                current = assistant.settings
                shown = backend_fields(current.backend)
                summary = gr.Markdown(_settings_summary(current), elem_id="settings-summary")
                backend = gr.Dropdown(list(BACKEND_NAMES), value=current.backend, label="Answer backend",
                                      elem_id="backend",
                                      info="extractive quotes passages; local, openai and ollama use an LLM")
                model = gr.Textbox(current.llm_model, label="Model", placeholder="backend default",
                                   info="model name, or a GGUF path for the local backend",
                                   visible=shown["llm_model"])
                openai_url = gr.Textbox(current.openai_base_url, label="OpenAI-compatible base URL",
                                        visible=shown["openai_base_url"])
                api_key = gr.Textbox("", label="API key", type="password", elem_id="api-key",
                                     info="never shown again; leave empty to keep the current key",
                                     visible=shown["openai_api_key"])
                ollama_url = gr.Textbox(current.ollama_base_url, label="Ollama base URL",
                                        visible=shown["ollama_base_url"])
                top_k = gr.Slider(1, max(20, current.top_k), value=current.top_k, step=1,
                                  label="Passages retrieved (top-k)")
                mode = gr.Radio(list(MODES), value=current.retrieval_mode, label="Retrieval mode")
                apply = gr.Button("Apply", variant="primary", elem_id="apply-settings")

        chat_io = dict(inputs=[question, chatbot], outputs=[question, chatbot, sources, details])
        question.submit(on_ask, **chat_io, api_name="ask", concurrency_id="ask", concurrency_limit=4)
        send.click(on_ask, **chat_io, api_visibility="private", concurrency_id="ask", concurrency_limit=4)
        # An example fills the box and is asked at once.
        examples.load_input_event.then(on_ask, **chat_io, api_visibility="private", concurrency_id="ask",
                                       concurrency_limit=4)
        clear.click(lambda: ([], EMPTY_SOURCES, None), outputs=[chatbot, sources, details], api_visibility="private",
                    queue=False)
        chatbot.clear(lambda: (EMPTY_SOURCES, None), outputs=[sources, details], api_visibility="private", queue=False)

        documents_io = [report, table, to_remove, status]
        # One index run at a time; asks have their own concurrency group, so they keep being answered meanwhile.
        upload_button.click(on_upload, inputs=files, outputs=documents_io, api_name="upload",
                            concurrency_id="index", concurrency_limit=1).then(
            lambda: None, outputs=files, api_visibility="private", queue=False)
        reindex_button.click(on_reindex, outputs=documents_io, api_name="reindex",
                             concurrency_id="index", concurrency_limit=1)
        remove_button.click(on_remove, inputs=to_remove, outputs=documents_io, api_name="remove",
                            concurrency_id="index", concurrency_limit=1)
        table.select(on_pick, outputs=to_remove, api_visibility="private", queue=False)

        settings_fields = [backend, model, openai_url, api_key, ollama_url, top_k, mode]
        apply.click(on_apply, inputs=settings_fields, outputs=[*settings_fields, summary], api_name="settings")
        backend.change(on_backend, inputs=backend, outputs=[model, openai_url, api_key, ollama_url],
                       api_visibility="private", queue=False)

        demo.load(on_role, outputs=[upload_column, remove_row, settings_tab], api_visibility="private", queue=False)
        demo.load(documents_outputs, outputs=[table, to_remove, status], api_visibility="private", queue=False)
        demo.load(on_settings_view, outputs=[*settings_fields, summary], api_visibility="private", queue=False)
    return demo


class EditorOnlyUploads:
    """ASGI middleware: Gradio's file-upload route (``POST …/upload``) accepts only editors.

    Gradio itself lets any logged-in user upload temporary files; only editors have a use for them, and a
    reader should not be able to fill the server's disk. The user is the one Gradio's login cookie names.
    """

    def __init__(self, app, access: Access):
        self.app = app
        self.access = access

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].rstrip("/").endswith("/upload"):
            from starlette.requests import Request
            from starlette.responses import JSONResponse

            server = scope["app"]
            cookies = Request(scope).cookies
            token = cookies.get(f"access-token-{server.cookie_id}") or cookies.get(
                f"access-token-unsecure-{server.cookie_id}")
            role = self.access.role(server.tokens.get(token))
            if not allows(role, EDIT):
                status = 401 if role is None else 403
                detail = "not authenticated" if role is None else "permission denied: only editors can upload files"
                await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def launch(demo: gr.Blocks, settings: Settings, access: Access | None = None,
           assistant: Assistant | None = None, **options) -> None:
    """Serve ``demo`` on settings.host:settings.port with the offline theme (no web fonts, no CDN);
    with users in ``access``, every page, route and endpoint needs a login (Gradio's ``auth``).
    With ``assistant``, the HTTP API (rag/http_api.py: /v1, docs at /docs) is served by the same app."""
    from starlette.middleware import Middleware

    from rag.http_api import api_routes

    access = access or Access({})
    if not access.open:
        options.setdefault("auth", access.check_login)
        options.setdefault("auth_message", "Log in with your reader or editor account.")
    app_kwargs = {"middleware": [Middleware(EditorOnlyUploads, access=access)]}
    if assistant is not None:
        app_kwargs["routes"] = api_routes(assistant, access)
    demo.queue(default_concurrency_limit=1).launch(
        app_kwargs=app_kwargs,
        server_name=settings.host,
        server_port=settings.port,
        theme=THEME,
        css=CSS,
        head=HEAD,
        show_error=True,
        max_file_size=int(settings.max_file_mb * 1_000_000),  # the same limit indexing applies
        **options,
    )


def serve(settings: Settings, insecure_no_auth: bool = False) -> None:
    """Check who may connect, bring the index up to date with the corpus folder, then serve the UI and the
    HTTP API (/v1) in one process."""
    from rag.http_api import API_PREFIX, start_assistant

    assistant, access = start_assistant(settings, insecure_no_auth)
    print(f"HTTP API at http://{settings.host}:{settings.port}{API_PREFIX} (docs at /docs)", flush=True)
    launch(build_app(assistant, access), settings, access, assistant)
