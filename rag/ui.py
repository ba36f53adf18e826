"""The Gradio 6 web UI: chat with cited sources, document upload and indexing, answer settings.

Everything here is a thin layer over :class:`rag.api.Assistant`; the named API endpoints (``ask``,
``upload``, ``reindex``, ``remove``, ``settings``, ``save_settings``) call the same methods as the CLI, so the
app can be scripted with ``gradio_client``. The handlers are plain functions of (assistant, caller's role,
inputs) that check the role themselves (rag/auth.py); ``build_app`` only lays out components and wires them,
so every endpoint enforces the same roles as the page. ``remove`` takes a document id (the table's ``id``
column), ``ask`` optionally a list of them to ask within. Two routes sit beside Gradio's as ASGI middleware:
``/healthz`` and the document view ``/document/<id>``. What the page shows is built in rag/ui_html.py.
``launch`` also serves the HTTP API of rag/http_api.py (/v1, OpenAI-compatible) from the same app.
"""

from __future__ import annotations

import html
import logging
import os
import re
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import rag  # noqa: F401  (offline/telemetry environment before gradio imports)

import gradio as gr
from gradio.components.chatbot import ChatbotDataMessages, Message
from pydantic import field_validator

from rag.api import ANSWER_SETTINGS, Assistant, document_id
from rag.auth import EDIT, READ, Access, PermissionDenied, Role, allows, require
from rag.backends import BACKEND_NAMES, effective_model
from rag.collections import UnknownCollection, list_collections
from rag.config import DEFAULT_COLLECTION, Settings, config_file
from rag.conversations import ConversationStore
from rag.errors import USER_ERRORS, UserError
from rag.prompt import chat_history
from rag.retrieve import MODES
from rag.store import StoreError
from rag.text import one_line
from rag.uploads import UPLOAD_TYPES, create_exclusive, store_uploads
from rag.ui_html import (
    CSS,
    EMPTY_SOURCES,
    HEAD,
    document_page,
    error_html,
    linked_answer,
    retrieved_html,
    searching_html,
    sources_html,
)

log = logging.getLogger(__name__)

EXAMPLES = [
    "What is specification gaming?",
    "Which organisations work on alignment research?",
    "What is inner alignment?",
]
DOC_HEADERS = ["title", "source", "chunks", "size", "indexed at", "id"]

# System fonts only: the default Gradio fonts are served locally, but nothing should depend on that.
THEME = gr.themes.Default(
    font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
)

# ---- rendering ----------------------------------------------------------------------------------------


def plain_history(history: Sequence[dict]) -> list[dict[str, str]]:
    """The conversation as plain text messages: citation links and escaping undone."""
    return chat_history(history, clean=lambda text: html.unescape(re.sub(r"<[^>]+>", "", text)))


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
        [record.title, record.source, record.chunk_count, _size(record.size),
         time.strftime("%Y-%m-%d %H:%M", time.localtime(record.indexed_at)), document_id(record)]
        for record in records
    ]
    names = Counter(record.source for record in records)
    choices = [
        (record.source if names[record.source] == 1 else f"{record.source} ({record.root})", document_id(record))
        for record in records
    ]
    return DocumentsView(table, choices, _status_line(assistant))


STOPPED_NOTE = "\n\n<span class=\"chat-stopped\">⏹ Stopped: the answer was cut off here.</span>"


def ask_turns(assistant: Assistant, role: Role | None, message: str, history: list[dict],
              stop: threading.Event | None = None, documents: Sequence[str] | None = None) -> Iterator[tuple]:
    """Stream one chat turn as (chat, this turn's sources html, answer dict) states; nothing for an empty
    question. The retrieved passages are shown as soon as they are found; once ``stop`` is set the answer ends
    where it is, what arrived kept and marked as stopped. ``documents`` (ids; empty or None: all) restricts
    retrieval to those documents."""
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
    panel = searching_html(turn)
    yield chat, panel, None
    streamed, hits = "", []
    try:
        with closing(assistant.ask(question, earlier, announce_retrieval=True,
                                   documents=list(documents) if documents else None)) as events:
            for event in events:
                if stop is not None and stop.is_set():
                    chat[-1] = {"role": "assistant", "content": html.escape(streamed, quote=False) + STOPPED_NOTE}
                    yield chat, retrieved_html(assistant, hits, turn, stopped=True), {"stopped": True,
                                                                                      "answer": streamed}
                    return
                if event.kind == "retrieved":
                    hits = event.hits
                    panel = retrieved_html(assistant, hits, turn)
                    yield chat, panel, None
                elif event.kind == "delta":
                    streamed += event.text
                    chat[-1] = {"role": "assistant", "content": html.escape(streamed, quote=False)}
                    yield chat, panel, None
                elif event.answer is not None:
                    answer = event.answer
                    chat[-1] = {"role": "assistant", "content": linked_answer(answer.answer, answer.citations, turn)}
                    yield chat, sources_html(assistant, answer, turn), answer.to_dict()
    except Exception as exc:  # the chat shows one line, never a traceback
        message = _one_line_error(exc)
        chat[-1] = {"role": "assistant", "content": f"⚠️ **Error:** {html.escape(message)}"}
        yield chat, error_html(turn), {"error": message}


class ChatQueues:
    """Per browser session: the questions waiting for the answer being written, and its Stop switch.

    One run at a time answers a session's questions in order, so a question asked while an answer streams
    is queued (and shown), never dropped or answered against a stale conversation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, list[str]] = {}
        self._running: dict[str, threading.Event] = {}

    def add(self, session: str, question: str, documents: Sequence[str] = (), collection: str | None = None
            ) -> list[str]:
        """Queue a question with the collection and documents it is asked within; returns the questions waiting."""
        with self._lock:
            self._pending.setdefault(session, []).append((question, tuple(documents), collection))
            return [q for q, *_ in self._pending[session]]

    def pending(self, session: str) -> list[str]:
        with self._lock:
            return [q for q, *_ in self._pending.get(session, ())]

    def start(self, session: str) -> threading.Event | None:
        """The Stop switch of a new run, or None when a run is already answering this session."""
        with self._lock:
            if session in self._running:
                return None
            self._running[session] = threading.Event()
            return self._running[session]

    def next_or_finish(self, session: str) -> tuple[str, tuple[str, ...], str | None] | None:
        """The next (question, documents, collection); with none left the run ends here, atomically with :meth:`add`."""
        with self._lock:
            queue = self._pending.get(session)
            if queue:
                return queue.pop(0)
            self._running.pop(session, None)
            return None

    def finish(self, session: str) -> None:
        with self._lock:
            self._running.pop(session, None)

    def stop(self, session: str) -> list[str]:
        """Stop the answer being written; the questions still waiting are handed back (never lost)."""
        with self._lock:
            if session in self._running:
                self._running[session].set()
            return [q for q, *_ in self._pending.pop(session, [])]

    def busy(self, session: str) -> bool:
        with self._lock:
            return session in self._running


# ---- conversations kept in the browser (localStorage, through gr.BrowserState) ----------------------------

MAX_CONVERSATIONS = 30  # oldest dropped first: localStorage holds a few MB per site


def new_conversations() -> dict:
    return {"current": uuid.uuid4().hex[:12], "chats": {}}


def remember_conversation(role: Role | None, saved: dict | None, chat: list[dict], panel: str,
                          collection: str | None = None) -> dict:
    """The browser's conversations with the current one updated (its title is its first question; it remembers
    the collection it asks in)."""
    require(role, READ, "keep conversations")
    saved = saved if saved and isinstance(saved.get("chats"), dict) and saved.get("current") else new_conversations()
    chats = dict(saved["chats"])
    if chat:
        first = next((m["content"] for m in plain_history(chat) if m["role"] == "user"), "")
        title = one_line(first, 60) or "Conversation"
        chats[saved["current"]] = {"title": title, "chat": chat, "panel": panel, "updated": time.time(),
                                   "collection": collection or DEFAULT_COLLECTION}
        for oldest in sorted(chats, key=lambda key: chats[key]["updated"])[:-MAX_CONVERSATIONS]:
            del chats[oldest]
    else:
        chats.pop(saved["current"], None)
    return {"current": saved["current"], "chats": chats}


def conversation_collection(saved: dict) -> str:
    """The collection the current conversation asks in (the default one for a new or older conversation)."""
    return saved.get("chats", {}).get(saved.get("current"), {}).get("collection") or DEFAULT_COLLECTION


def conversation_choices(saved: dict) -> list[tuple[str, str]]:
    """(title, id) of every kept conversation, newest first."""
    chats = saved.get("chats", {})
    return [(chats[key]["title"], key) for key in sorted(chats, key=lambda key: -chats[key]["updated"])]


def open_conversation(role: Role | None, saved: dict, key: str | None) -> tuple[dict, list[dict], str]:
    """Switch to conversation ``key`` (a new, empty one for None or an unknown key)."""
    require(role, READ, "open conversations")
    chats = saved.get("chats", {}) if saved else {}
    if key in chats:
        return {"current": key, "chats": chats}, chats[key]["chat"], chats[key]["panel"]
    return {"current": uuid.uuid4().hex[:12], "chats": chats}, [], EMPTY_SOURCES


def delete_conversation(role: Role | None, saved: dict) -> tuple[dict, list[dict], str]:
    """Forget the current conversation and open the newest one left (or a new one)."""
    require(role, READ, "delete conversations")
    chats = {key: chat for key, chat in (saved or {}).get("chats", {}).items() if key != (saved or {}).get("current")}
    remaining = conversation_choices({"chats": chats})
    return open_conversation(role, {"chats": chats}, remaining[0][1] if remaining else None)


def queue_note(pending: Sequence[str]) -> str:
    if not pending:
        return ""
    items = "\n".join(f"{i}. {html.escape(one_line(q))}" for i, q in enumerate(pending, 1))
    return f"**Queued** — asked when the current answer is done (Stop hands them back to the box):\n\n{items}"


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
    except UnknownCollection as exc:  # removed since the page listed it: nothing was saved
        return f"Not uploaded: {html.escape(one_line(exc), quote=False)}"
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


def collection_choices(assistant: Assistant, role: Role | None) -> list[str]:
    """The name of every collection, the default one first (the chat's status line says what each holds)."""
    require(role, READ, "list collections")
    return [found.name for found in list_collections(assistant.settings)]


def create_collection(assistant: Assistant, role: Role | None, name: str | None) -> str:
    require(role, EDIT, "create collections")
    try:
        made = assistant.create_collection(name or "")
    except UserError as exc:
        return f"Not created: {html.escape(one_line(exc), quote=False)}"
    return f"Created the collection `{made.name}`: upload documents into it below, then choose it in the Chat tab."


def collection_removal_question(assistant: Assistant, role: Role | None, name: str | None) -> tuple[str, bool]:
    """What removing the collection will delete, and whether it can be removed at all."""
    require(role, EDIT, "remove collections")
    try:
        return assistant.collection_removal_preview(name or DEFAULT_COLLECTION) + " Remove it?", True
    except UserError as exc:
        return f"Cannot remove it: {html.escape(one_line(exc), quote=False)}", False


def remove_collection(assistant: Assistant, role: Role | None, name: str | None) -> str:
    require(role, EDIT, "remove collections")
    try:
        return assistant.remove_collection(name or DEFAULT_COLLECTION)
    except Exception as exc:
        return f"Could not remove the collection: {html.escape(_one_line_error(exc), quote=False)}"


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
    notes = assistant.update_settings(**update)
    applied = (f"✓ Applied at {time.strftime('%H:%M:%S')} to the running server, for everyone using it "
               "(not saved: a restart goes back to rag.toml unless you save).")
    return settings_view(assistant, role, [applied, *notes])


def save_settings(assistant: Assistant, role: Role | None) -> str:
    """Write the answer settings in force to rag.toml (``RAG_CONFIG``) so they survive a restart; editors only.
    Other keys and tables of the file are kept (tomlkit edits it in place); the API key is never written."""
    import tomlkit

    require(role, EDIT, "save settings")
    path = config_file()
    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.ParseError) as exc:
        return f"Not saved: cannot read `{path}` ({html.escape(one_line(exc))})."
    settings = assistant.settings
    for name in ANSWER_SETTINGS:
        if name != "openai_api_key":
            document[name] = getattr(settings, name)
    tmp = path.with_name(f".{path.name}.saving")
    try:
        tmp.write_text(tomlkit.dumps(document), encoding="utf-8")
        os.replace(tmp, path)  # whole or not at all
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        return f"Not saved: cannot write `{path}` ({html.escape(exc.strerror or str(exc))})."
    overridden = [f"`RAG_{name.upper()}`" for name in ANSWER_SETTINGS
                  if name != "openai_api_key" and os.environ.get(f"RAG_{name.upper()}")]
    note = (f" The environment sets {', '.join(overridden)}: at restart the environment wins over the file."
            if overridden else "")
    return (f"✓ Saved to `{path.resolve()}` at {time.strftime('%H:%M:%S')}: they survive a restart. The API key "
            f"is never written to the file (set `RAG_OPENAI_API_KEY`).{note}")


# ---- the app ------------------------------------------------------------------------------------------


def _size(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    return f"{size / 1000:.1f} kB" if size < 1_000_000 else f"{size / 1_000_000:.1f} MB"


def chat_status(assistant: Assistant, role: Role | None) -> str:
    """The Chat tab's line on what can be asked about: how many documents are indexed."""
    require(role, READ, "see the index status")
    count = assistant.status()["documents"]
    if not count:
        return "**No documents indexed yet**: nothing can be answered until some are added."
    return f"Answers come from **{count} indexed document{'' if count == 1 else 's'}**."


def filter_choices(assistant: Assistant, role: Role | None) -> list[tuple[str, str]]:
    """What a question can be asked within: each document, each folder holding some, each front matter tag."""
    view = documents_view(assistant, role)
    folders = sorted({source.rsplit("/", 1)[0] for _title, source, *_ in view.table if "/" in source})
    tags = sorted({tag for found in assistant.store.document_tags().values() for tag in found})
    return (view.choices + [(f"folder: {folder}/", f"folder:{folder}") for folder in folders]
            + [(f"tag: {tag}", f"tag:{tag}") for tag in tags])


def removal_question(assistant: Assistant, role: Role | None, doc_id: str | None) -> str | None:
    """What removing the chosen document will do, for the confirmation step (None: nothing chosen)."""
    require(role, EDIT, "remove documents")
    if not doc_id:
        return None
    try:
        return assistant.removal_preview(doc_id) + " Remove it?"
    except Exception as exc:
        return f"Cannot remove `{html.escape(doc_id)}`: {html.escape(_one_line_error(exc), quote=False)}"


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
    model = effective_model(settings) or "none (quotes passages)"
    if settings.backend != "extractive" and not settings.llm_model:
        model += ", the backend's default"
    extra = ""
    if settings.backend == "openai":
        key = "set" if settings.openai_api_key.get_secret_value() else "not set"
        extra = f", base URL `{settings.openai_base_url}`, API key {key}"
    elif settings.backend == "ollama":
        extra = f", base URL `{settings.ollama_base_url}`"
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

    @contextmanager
    def refusals() -> Iterator[None]:
        """A role's refusal as the one-line error Gradio shows (no traceback)."""
        try:
            yield
        except PermissionDenied as exc:
            raise refused(exc) from None

    def in_collection(name: str | None) -> Assistant:
        """The chosen collection's Assistant; one removed meanwhile is told in one line."""
        try:
            return assistant.collection(name)
        except UserError as exc:
            raise gr.Error(one_line(exc), print_exception=False) from None

    def documents_outputs(collection: str | None, request: gr.Request) -> tuple:
        with refusals():
            view = documents_view(in_collection(collection), role(request))
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

    def on_ask(message: str, history: list[dict], within: list[str] | None, collection: str | None,
               request: gr.Request) -> Iterator[tuple]:
        states = ask_turns(in_collection(collection), role(request), message, history, documents=within)
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

    queues = ChatQueues()

    def on_question(message: str, within: list[str] | None, collection: str | None, request: gr.Request) -> tuple:
        """Enter or Ask: the question joins this session's queue at once and the box is free for the next."""
        with refusals():
            require(role(request), READ, "ask questions")
        question = (message or "").strip()
        if not question:
            return gr.skip(), gr.skip()
        try:
            assistant.collection(collection)
        except UserError as exc:  # e.g. removed meanwhile: the question stays in the box
            gr.Warning(f"Not asked: {one_line(exc)}. Choose another collection.")
            return gr.skip(), gr.skip()
        return "", queue_note(queues.add(request.session_hash, question, within or (), collection))

    def on_answer_queue(history: list[dict], panel: str, request: gr.Request) -> Iterator[tuple]:
        """Answer this session's queued questions in order (one run per session; a second one leaves at once).
        Outputs never include the question box, so what is typed meanwhile stays."""
        session = request.session_hash
        stop = queues.start(session)
        if stop is None:
            yield (gr.skip(),) * 6
            return
        panels = panel if 'class="sources"' in (panel or "") else ""
        chat = history
        answering = gr.Button(visible=True), gr.Button(interactive=False)
        shown: tuple[str, ...] | None = None  # the queue as this stream last showed it

        def queue_change():
            """The queue note when the queue changed since this stream last showed it, else no update: a note
            computed before a question was added could reach the page after the one adding it and hide it."""
            nonlocal shown
            pending = tuple(queues.pending(session))
            if pending == shown:
                return gr.skip()
            shown = pending
            return queue_note(pending)

        try:
            while not stop.is_set() and (asked := queues.next_or_finish(session)) is not None:
                question, within, collection = asked
                try:
                    asked_in = assistant.collection(collection)
                except UserError as exc:
                    gr.Warning(f"Not asked: {one_line(exc)}")
                    continue
                turn_panel = ""
                for chat, turn_panel, details in ask_turns(asked_in, role(request), question, chat, stop, within):
                    yield chat, panels + turn_panel, details, queue_change(), *answering
                panels += turn_panel
        except PermissionDenied as exc:
            raise refused(exc) from None
        finally:
            queues.finish(session)
        yield chat, panels or EMPTY_SOURCES, gr.skip(), queue_note(()), gr.Button(visible=False), gr.Button(
            interactive=True)

    # With logins, each user's conversations live on the server (rag/conversations.py), else in the browser.
    on_server = None if access.open else ConversationStore(Path(assistant.settings.index_dir) / "conversations")

    def kept(saved: dict | None, request: gr.Request, restoring: bool = False) -> dict | None:
        """The conversations to work on: this browser's, or the logged-in user's from the server (the page's
        open conversation stays open; a reload opens the one the user had open last)."""
        if on_server is None or not request.username:
            return saved
        stored = on_server.load(request.username) or new_conversations()
        if restoring or not (saved or {}).get("current"):
            return stored
        return {"current": saved["current"], "chats": stored["chats"]}

    def keep(saved: dict, request: gr.Request) -> None:
        if on_server is not None and request.username:
            on_server.save(request.username, saved)

    def on_remember(chat: list[dict], panel: str, saved: dict | None, collection: str | None,
                    request: gr.Request) -> tuple:
        with refusals():
            saved = remember_conversation(role(request), kept(saved, request), chat, panel, collection)
        keep(saved, request)
        return saved, gr.Radio(choices=conversation_choices(saved), value=saved["current"])

    def on_switch(action, saved: dict | None, key: str | None, request: gr.Request) -> tuple:
        """Open, start or delete a conversation; not while an answer is being written into the current one."""
        if queues.busy(request.session_hash):
            gr.Warning("An answer is still being written: wait for it or press Stop first.")
            return (gr.skip(),) * 6
        with refusals():
            saved, chat, panel = action(role(request), kept(saved, request), key)
        keep(saved, request)
        choices = conversation_choices(saved)
        asked_in = gr.skip()  # a new chat keeps the chosen collection; an old one asks in its own (if still there)
        if chat:
            asked_in = conversation_collection(saved)
            if asked_in not in collection_choices(assistant, role(request)):
                asked_in = DEFAULT_COLLECTION
        return saved, chat, panel, None, gr.Radio(choices=choices, value=saved["current"] if chat else None), asked_in

    def on_open(saved: dict | None, key: str | None, request: gr.Request) -> tuple:
        return on_switch(open_conversation, saved, key, request)

    def on_new(saved: dict | None, request: gr.Request) -> tuple:
        return on_switch(open_conversation, saved, None, request)

    def on_delete(saved: dict | None, request: gr.Request) -> tuple:
        return on_switch(lambda role_, saved_, _key: delete_conversation(role_, saved_), saved, None, request)

    def on_restore(saved: dict | None, request: gr.Request) -> tuple:
        """A reload shows the conversation this browser (with logins: this user) had open."""
        saved = kept(saved, request, restoring=True)
        return on_switch(open_conversation, saved, (saved or {}).get("current"), request)

    def on_stop(draft: str, request: gr.Request) -> tuple:
        """Stop the answer being written; questions still queued go back into the box, before the draft."""
        waiting = queues.stop(request.session_hash)
        if not waiting:
            return gr.skip(), queue_note(())
        return "\n".join([*waiting, draft] if (draft or "").strip() else waiting), queue_note(())

    def on_upload(files: list[str] | None, collection: str | None, request: gr.Request,
                  progress=gr.Progress()) -> tuple:
        with refusals():
            report = upload_files(in_collection(collection), role(request), files,
                                  lambda f, message: progress(f, desc=message))
        return (report, *documents_outputs(collection, request))

    def on_reindex(collection: str | None, request: gr.Request, progress=gr.Progress()) -> tuple:
        with refusals():
            report = reindex(in_collection(collection), role(request), lambda f, message: progress(f, desc=message))
        return (report, *documents_outputs(collection, request))

    def on_remove(doc_id: str | None, collection: str | None, request: gr.Request) -> tuple:
        with refusals():
            message = remove_document(in_collection(collection), role(request), doc_id)
        return (message, *documents_outputs(collection, request))

    def on_remove_question(doc_id: str | None, collection: str | None, request: gr.Request) -> tuple:
        """First step of a removal: say what will happen (file deleted, or only unindexed) and ask."""
        with refusals():
            question_text = removal_question(in_collection(collection), role(request), doc_id)
        if question_text is None:
            return "Choose a document to remove first.", gr.Row(visible=False)
        return question_text, gr.Row(visible=True)

    def on_chat_status(collection: str | None, request: gr.Request) -> tuple:
        """The Chat tab's document count, and the documents a question can be asked within (the collection's)."""
        asked_in = in_collection(collection)
        with refusals():
            return chat_status(asked_in, role(request)), gr.Dropdown(choices=filter_choices(asked_in, role(request)))

    def on_collection_chosen(collection: str | None, request: gr.Request) -> tuple:
        """Another collection in the chat: its count, its documents to ask within (none chosen yet)."""
        info, within_choices = on_chat_status(collection, request)
        return info, gr.Dropdown(choices=within_choices.choices, value=[])

    def on_collections(chat_choice: str | None, documents_choice: str | None, request: gr.Request) -> tuple:
        """Both collection choosers, with fresh counts; a choice whose collection is gone falls back to default."""
        with refusals():
            choices = collection_choices(assistant, role(request))
        return tuple(gr.Dropdown(choices=choices) if value in choices else gr.Dropdown(choices=choices,
                                                                                      value=DEFAULT_COLLECTION)
                     for value in (chat_choice, documents_choice))

    def on_create_collection(name: str | None, request: gr.Request) -> tuple:
        with refusals():
            message = create_collection(assistant, role(request), name)
        made = message.startswith("Created")
        return message, (name or "").strip() if made else gr.skip(), "" if made else gr.skip()

    def on_remove_collection_question(name: str | None, request: gr.Request) -> tuple:
        with refusals():
            question_text, possible = collection_removal_question(assistant, role(request), name)
        if not possible:  # said where the outcome of removals is said; no question to confirm
            return gr.skip(), gr.Row(visible=False), question_text
        return question_text, gr.Row(visible=True), ""

    def on_remove_collection(name: str | None, request: gr.Request) -> str:
        with refusals():
            return remove_collection(assistant, role(request), name)

    def on_save(request: gr.Request) -> str:
        with refusals():
            return save_settings(assistant, role(request))

    def on_pick(event: gr.SelectData):
        """Clicking a table row chooses that document (its id, the last column) for removal."""
        return gr.Dropdown(value=event.row_value[-1]) if event.row_value else gr.skip()

    def on_settings_view(request: gr.Request) -> tuple:
        with refusals():
            return settings_outputs(settings_view(assistant, role(request)))

    def on_apply(backend, model, openai_url, api_key, ollama_url, top_k, mode, request: gr.Request) -> tuple:
        with refusals():
            view = apply_settings(assistant, role(request), backend, model, openai_url, api_key, ollama_url, top_k,
                                  mode)
        return settings_outputs(view)

    def on_backend(backend: str) -> tuple:
        visible = backend_fields(backend)
        return tuple(gr.Textbox(visible=visible[name])
                     for name in ("llm_model", "openai_base_url", "openai_api_key", "ollama_base_url"))

    def on_role(request: gr.Request) -> tuple:
        """Editing controls are shown to editors only (the handlers refuse other roles anyway)."""
        editor = allows(role(request), EDIT)
        return (gr.Column(visible=editor), gr.Column(visible=editor), gr.Column(visible=editor), gr.Tab(visible=editor),
                gr.Button("Add or view documents →" if editor else "View the documents →"))

    with gr.Blocks(title="Ask your documents") as demo:
        # Without logins, conversations stay in this browser's localStorage (encrypted with a key kept in the index
        # folder); with logins, on the server per user (the page holds the open one's id).
        saved = (gr.BrowserState(new_conversations(), storage_key="rag-conversations",
                                 secret=_browser_secret(assistant)) if on_server is None
                 else gr.State(new_conversations()))
        with gr.Sidebar(label="Conversations", open=True, elem_id="conversations"):
            new_chat = gr.Button("+ New chat", size="sm", elem_id="new-chat")
            kept_where = "this browser" if on_server is None else "yours, kept on the server"
            history = gr.Radio(choices=[], label=f"Past conversations ({kept_where})", elem_id="history")
            delete_chat = gr.Button("Delete this chat", size="sm", variant="stop", elem_id="delete-chat")
        gr.Markdown("## Ask your documents\nAnswers come only from the indexed documents, with numbered citations.")
        with gr.Tabs() as tabs:
            with gr.Tab("Chat", id="chat") as chat_tab:
                with gr.Row(elem_id="chat-status-row"):
                    # Values are collection names; custom values let API scripts name any (unknown ones are refused).
                    chat_collection = gr.Dropdown(label="Collection", choices=[DEFAULT_COLLECTION],
                                                  value=DEFAULT_COLLECTION, allow_custom_value=True,
                                                  elem_id="collection", scale=0, min_width=280)
                    chat_info = gr.Markdown(elem_id="chat-status")
                    to_documents = gr.Button("Add or view documents →", size="sm", variant="secondary",
                                             elem_id="to-documents", scale=0, min_width=200)
                with gr.Row(equal_height=False, elem_id="chat-layout"):
                    with gr.Column(scale=3, elem_id="chat-column"):
                        chatbot = gr.Chatbot(
                            label="Conversation",
                            show_label=False,  # the tab says it; the floating label covered messages on phones
                            height=460,
                            elem_id="chat",
                            buttons=["copy"],
                            feedback_options=None,
                            placeholder="Ask a question about the documents, or pick an example below.",
                        )
                        chatbot.data_model = _ChatHistory  # the API also takes {"role", "content": "text"}
                        with gr.Row(equal_height=True, elem_id="question-row"):
                            question = gr.Textbox(
                                label="Question", show_label=False, placeholder="Your question…", scale=5,
                                elem_id="question", submit_btn=False, lines=1, max_lines=4,
                            )
                            with gr.Column(scale=1, min_width=140):
                                send = gr.Button("Ask", variant="primary", elem_id="ask")
                                stop = gr.Button("Stop", variant="stop", elem_id="stop", visible=False)
                                clear = gr.Button("Clear conversation", size="sm", elem_id="clear")
                        queued = gr.Markdown("", elem_id="queued")
                        # Values are document ids; custom values let API scripts name any id (unknown ones match
                        # nothing).
                        within = gr.Dropdown(label="Ask within documents, folders or tags (empty: all)", choices=[],
                                             multiselect=True, allow_custom_value=True, elem_id="within")
                        api_ask = gr.Button(visible=False)  # the named `ask` endpoint: one question, one answer
                        examples = gr.Examples(EXAMPLES, inputs=question, label="Example questions",
                                               elem_id="examples")
                        with gr.Accordion("Answer details (JSON)", open=False, elem_id="details"):
                            details = gr.JSON(label="Latest answer", elem_id="answer-json")
                    with gr.Column(scale=2, elem_id="sources-column"):
                        sources = gr.HTML(EMPTY_SOURCES, elem_id="sources", js_on_load=None)
            with gr.Tab("Documents", id="documents"):
                with gr.Row(equal_height=True, elem_id="collection-row"):
                    docs_collection = gr.Dropdown(label="Collection", choices=[DEFAULT_COLLECTION],
                                                  value=DEFAULT_COLLECTION, allow_custom_value=True,
                                                  elem_id="documents-collection", scale=2, min_width=220,
                                                  info="the documents, uploads and re-index below are this one's")
                    with gr.Column(scale=3, min_width=280) as collection_column:
                        with gr.Row(equal_height=True):
                            new_collection = gr.Textbox(label="New collection", placeholder="letters, digits, - and _",
                                                        elem_id="new-collection", scale=3, min_width=160)
                            create_button = gr.Button("Create", elem_id="create-collection", scale=1, min_width=90)
                            remove_collection_button = gr.Button("Remove collection…", variant="stop", scale=1,
                                                                 min_width=160, elem_id="remove-collection")
                with gr.Row(visible=False, elem_id="remove-collection-confirm") as collection_confirm_row:
                    collection_confirm_text = gr.Markdown(elem_id="remove-collection-question")
                    collection_yes = gr.Button("Yes, remove the collection", variant="stop", scale=0, min_width=200,
                                               elem_id="remove-collection-yes")
                    collection_no = gr.Button("Cancel", scale=0, min_width=100, elem_id="remove-collection-cancel")
                collection_report = gr.Markdown(elem_id="collection-report")
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
                    headers=DOC_HEADERS, datatype=["str", "str", "number", "str", "str", "str"], interactive=False,
                    label="Indexed documents", elem_id="documents-table", wrap=True,
                )
                with gr.Column() as remove_column:
                    with gr.Row():
                        # Values are document ids; custom values let API scripts name any id, remove() checks it.
                        to_remove = gr.Dropdown(label="Document to remove (or click its row)", choices=[],
                                                allow_custom_value=True, scale=3, elem_id="remove-source")
                        remove_button = gr.Button("Remove…", variant="stop", scale=1, elem_id="remove")
                    with gr.Row(visible=False, elem_id="remove-confirm") as confirm_row:
                        confirm_text = gr.Markdown(elem_id="remove-question")
                        remove_yes = gr.Button("Yes, remove", variant="stop", scale=0, min_width=120,
                                               elem_id="remove-yes")
                        remove_no = gr.Button("Cancel", scale=0, min_width=100, elem_id="remove-cancel")
            with gr.Tab("Settings", id="settings") as settings_tab:
                # Built with the effective values (the API defaults); refreshed on every page load.
                current = assistant.settings
                shown = backend_fields(current.backend)
                gr.Markdown(
                    "These settings apply to **the whole server**: every user's next question uses them. "
                    "**Apply** changes the running server only, so a restart goes back to rag.toml and the "
                    "environment; **Save to rag.toml** keeps them across restarts (never the API key).",
                    elem_id="settings-scope")
                summary = gr.Markdown(_settings_summary(current), elem_id="settings-summary")
                backend = gr.Dropdown(list(BACKEND_NAMES), value=current.backend, label="Answer backend",
                                      elem_id="backend",
                                      info="extractive quotes passages; local, openai and ollama use an LLM")
                model = gr.Textbox(current.llm_model, label="Model", placeholder="empty: the backend's default",
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
                with gr.Row():
                    apply = gr.Button("Apply", variant="primary", elem_id="apply-settings")
                    save = gr.Button("Save to rag.toml", elem_id="save-settings")
                save_report = gr.Markdown(elem_id="save-report")

        api_ask.click(on_ask, inputs=[question, chatbot, within, chat_collection],
                      outputs=[question, chatbot, sources, details],
                      api_name="ask", concurrency_id="ask", concurrency_limit=4)
        answer_io = dict(fn=on_answer_queue, inputs=[chatbot, sources],
                         outputs=[chatbot, sources, details, queued, stop, clear], api_visibility="private",
                         concurrency_id="ask", concurrency_limit=4, trigger_mode="multiple")
        question_io = dict(fn=on_question, inputs=[question, within, chat_collection], outputs=[question, queued],
                           api_visibility="private", queue=False, trigger_mode="multiple")
        remember_io = dict(fn=on_remember, inputs=[chatbot, sources, saved, chat_collection], outputs=[saved, history],
                           api_visibility="private", queue=False)
        question.submit(**question_io).then(**answer_io).then(**remember_io)
        send.click(**question_io).then(**answer_io).then(**remember_io)
        # An example fills the box and is asked at once.
        examples.load_input_event.then(**question_io).then(**answer_io).then(**remember_io)
        switch_io = dict(outputs=[saved, chatbot, sources, details, history, chat_collection], api_visibility="private",
                         queue=False)
        chat_status_io = dict(fn=on_chat_status, inputs=chat_collection, outputs=[chat_info, within],
                              api_visibility="private", queue=False)
        for switched in (history.input(on_open, inputs=[saved, history], **switch_io),
                         new_chat.click(on_new, inputs=saved, **switch_io),
                         delete_chat.click(on_delete, inputs=saved, **switch_io),
                         demo.load(on_restore, inputs=saved, **switch_io)):
            switched.then(**chat_status_io)  # the count and filter of the conversation's collection
        # On a phone the open sidebar would cover the page (Gradio makes it full width there): start it closed.
        demo.load(None, js="() => { if (window.innerWidth <= 768) "
                           "document.querySelector('#conversations.open .toggle-button')?.click(); }",
                  api_visibility="private", queue=False)
        stop.click(on_stop, inputs=question, outputs=[question, queued], api_visibility="private", queue=False)
        clear.click(lambda: ([], EMPTY_SOURCES, None), outputs=[chatbot, sources, details], api_visibility="private",
                    queue=False).then(**remember_io)

        documents_io = [report, table, to_remove, status]
        collections_io = dict(fn=on_collections, inputs=[chat_collection, docs_collection],
                              outputs=[chat_collection, docs_collection], api_visibility="private", queue=False)
        # A quick refresh of the table (opening the tab, choosing a collection) shows no progress overlay over it: a
        # late one covered the table and swallowed a row click under load, as the index runs' did (see below)
        documents_view_io = dict(fn=documents_outputs, inputs=docs_collection, outputs=[table, to_remove, status],
                                 api_visibility="private", queue=False, show_progress="hidden")
        # One index run at a time; asks have their own concurrency group, so they keep being answered meanwhile.
        uploaded = upload_button.click(on_upload, inputs=[files, docs_collection], outputs=documents_io,
                                       api_name="upload", concurrency_id="index", concurrency_limit=1,
                                       show_progress_on=report)
        uploaded.then(lambda: None, outputs=files, api_visibility="private", queue=False)
        reindexed = reindex_button.click(on_reindex, inputs=docs_collection, outputs=documents_io, api_name="reindex",
                                         concurrency_id="index", concurrency_limit=1, show_progress_on=report)
        remove_button.click(on_remove_question, inputs=[to_remove, docs_collection],
                            outputs=[confirm_text, confirm_row], api_visibility="private", queue=False)
        removed = remove_yes.click(on_remove, inputs=[to_remove, docs_collection], outputs=documents_io,
                                   api_name="remove", concurrency_id="index", concurrency_limit=1,
                                   show_progress_on=report)
        removed.then(lambda: gr.Row(visible=False), outputs=confirm_row, api_visibility="private", queue=False)
        for index_run in (uploaded, reindexed, removed):  # the Chat tab's document count follows the index
            index_run.then(**chat_status_io)
        remove_no.click(lambda: gr.Row(visible=False), outputs=confirm_row, api_visibility="private", queue=False)
        chat_tab.select(**chat_status_io)
        chat_collection.input(on_collection_chosen, inputs=chat_collection, outputs=[chat_info, within],
                              api_visibility="private", queue=False)
        # "Add or view documents": the Documents tab opens on the chat's collection.
        to_documents.click(lambda chosen: (gr.Tabs(selected="documents"), chosen), inputs=chat_collection,
                           outputs=[tabs, docs_collection], api_visibility="private", queue=False
                           ).then(**documents_view_io)
        docs_collection.input(**documents_view_io)
        created = create_button.click(on_create_collection, inputs=new_collection,
                                      outputs=[collection_report, docs_collection, new_collection],
                                      api_name="create_collection", concurrency_id="index", concurrency_limit=1)
        new_collection.submit(None, js="() => document.querySelector('#create-collection')?.click()",
                              api_visibility="private", queue=False)
        created.then(**collections_io).then(**documents_view_io)
        remove_collection_button.click(on_remove_collection_question, inputs=docs_collection,
                                       outputs=[collection_confirm_text, collection_confirm_row, collection_report],
                                       api_visibility="private", queue=False)
        removed_collection = collection_yes.click(on_remove_collection, inputs=docs_collection,
                                                  outputs=collection_report, api_name="remove_collection",
                                                  concurrency_id="index", concurrency_limit=1)
        removed_collection.then(lambda: gr.Row(visible=False), outputs=collection_confirm_row,
                                api_visibility="private", queue=False)
        removed_collection.then(**collections_io).then(**documents_view_io).then(**chat_status_io)
        collection_no.click(lambda: gr.Row(visible=False), outputs=collection_confirm_row, api_visibility="private",
                            queue=False)
        table.select(on_pick, outputs=to_remove, api_visibility="private", queue=False)

        settings_fields = [backend, model, openai_url, api_key, ollama_url, top_k, mode]
        apply.click(on_apply, inputs=settings_fields, outputs=[*settings_fields, summary], api_name="settings")
        save.click(on_save, outputs=save_report, api_name="save_settings")
        backend.change(on_backend, inputs=backend, outputs=[model, openai_url, api_key, ollama_url],
                       api_visibility="private", queue=False)

        demo.load(on_role, outputs=[upload_column, remove_column, collection_column, settings_tab, to_documents],
                  api_visibility="private", queue=False)
        demo.load(**collections_io)
        demo.load(**chat_status_io)
        demo.load(**documents_view_io)
        demo.load(on_settings_view, outputs=[*settings_fields, summary], api_visibility="private", queue=False)
    return demo


def caller_role(scope, access: Access) -> Role | None:
    """The role of the user Gradio's login cookie names, for routes outside Gradio's own endpoints."""
    from starlette.requests import Request

    server = scope["app"]
    cookies = Request(scope).cookies
    token = cookies.get(f"access-token-{server.cookie_id}") or cookies.get(f"access-token-unsecure-{server.cookie_id}")
    return access.role(server.tokens.get(token))


def _browser_secret(assistant: Assistant) -> str:
    """The key that encrypts conversations kept in browsers: made once, kept (owner-only) in the index folder,
    so stored conversations still open after a restart. A read-only index folder gets a key for this run only."""
    path = Path(assistant.settings.index_dir) / "ui-browser-secret"
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            create_exclusive(path, secrets.token_hex(32).encode("ascii"))  # another server's key wins a race
        return path.read_text(encoding="ascii").strip()
    except OSError as exc:
        log.warning("conversations kept in browsers will not open after a restart: cannot keep a key in %s (%s)",
                    path, exc)
        return secrets.token_hex(32)


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
            from starlette.responses import JSONResponse

            role = caller_role(scope, self.access)
            if not allows(role, EDIT):
                status = 401 if role is None else 403
                detail = "not authenticated" if role is None else "permission denied: only editors can upload files"
                await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class DocumentView:
    """ASGI middleware: ``GET /document/<id>?start=&end=&page=`` shows one indexed document whole, the span
    highlighted (citations link here with ``#cited``), a PDF's cited page beside it (``/document/<id>/page/<n>.png``,
    rendered from the file in the corpus folder). Readers and editors only; the text comes from the index and
    the file is chosen by document id, so no file path is ever taken from the request."""

    PATH = re.compile(r"/document/([0-9a-f]{12})(?:/page/([1-9][0-9]{0,5})\.png)?")

    def __init__(self, app, access: Access, assistant: Assistant):
        self.app = app
        self.access = access
        self.assistant = assistant

    async def __call__(self, scope, receive, send):
        match = self.PATH.fullmatch(scope["path"]) if scope["type"] == "http" else None
        if match is None or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        from starlette.concurrency import run_in_threadpool
        from starlette.requests import Request
        from starlette.responses import HTMLResponse, PlainTextResponse

        if not allows(caller_role(scope, self.access), READ):
            await PlainTextResponse("log in first", status_code=401)(scope, receive, send)
            return
        from starlette.responses import Response

        query = Request(scope).query_params
        doc_id, page_image = match.groups()
        if page_image is not None:
            try:
                png = await run_in_threadpool(self.assistant.pdf_page, doc_id, int(page_image))
            except StoreError:
                await PlainTextResponse("no such page of an indexed PDF", status_code=404)(scope, receive, send)
                return
            await Response(png, media_type="image/png", headers={
                "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=300"})(scope, receive, send)
            return
        try:
            record, text = await run_in_threadpool(self.assistant.find_document, doc_id)
            quote = (int(query["start"]), int(query["end"])) if "start" in query and "end" in query else None
            page = int(query["page"]) if query.get("page", "").isdigit() else None
        except (StoreError, ValueError):
            await PlainTextResponse("no such indexed document", status_code=404)(scope, receive, send)
            return
        response = HTMLResponse(document_page(record, text, quote, page), headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                                       "frame-ancestors 'self'",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})
        await response(scope, receive, send)


class HealthCheck:
    """ASGI middleware: ``GET /healthz`` for container and load-balancer probes, without login. It says only
    whether the index is loaded (committed and readable with the current settings): no paths, names or counts.
    Always 200 while the server runs; an empty index is a state to fix, not a reason to restart the server."""

    def __init__(self, app, assistant: Assistant):
        self.app = app
        self.assistant = assistant

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/healthz" and scope["method"] in ("GET", "HEAD"):
            from starlette.concurrency import run_in_threadpool
            from starlette.responses import JSONResponse

            loaded = await run_in_threadpool(self.assistant.index_ready)
            await JSONResponse({"status": "ok", "index_loaded": loaded})(scope, receive, send)
            return
        await self.app(scope, receive, send)


def launch(demo: gr.Blocks, settings: Settings, access: Access | None = None, assistant: Assistant | None = None,
           **options) -> None:
    """Serve ``demo`` on settings.host:settings.port with the offline theme (no web fonts, no CDN);
    with users in ``access``, every page, route and endpoint needs a login (Gradio's ``auth``);
    with ``assistant``, ``/healthz`` reports whether its index is loaded, and the HTTP API (rag/http_api.py:
    /v1, docs at /docs) is served by the same app."""
    from starlette.middleware import Middleware

    from rag.http_api import api_routes

    access = access or Access({})
    middleware = [Middleware(EditorOnlyUploads, access=access)]
    if assistant is not None:
        middleware.append(Middleware(HealthCheck, assistant=assistant))
        middleware.append(Middleware(DocumentView, access=access, assistant=assistant))
    if not access.open:
        options.setdefault("auth", access.check_login)
        options.setdefault("auth_message", "Log in with your reader or editor account.")
    app_kwargs = {"middleware": middleware}
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
        footer_links=["api", "gradio"],  # Gradio's own "Settings" link would be confused with the Settings tab
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
