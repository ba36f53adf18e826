"""The HTTP API under /v1: OpenAI-compatible chat with checked citations, plus documents, indexing and search.

For the clients people already have (the ``openai`` SDK, LangChain's ``ChatOpenAI``, Open WebUI, LibreChat,
editor plug-ins). :func:`api_routes` is added to Gradio's FastAPI app by rag/ui.py ``launch``, so one process
serves the UI and the API; ``rag serve --api-only`` serves the same routes alone (:func:`serve`).

Callers send ``Authorization: Bearer <key>``; keys map to the reader/editor roles of rag/auth.py and every
route checks the caller's role with the same ``require`` as the UI's handlers. Errors have OpenAI's shape
``{"error": {"message", "type", "code", "param"}}``; an unexpected error is logged with its traceback and
the client gets one line. Request bodies are capped before they are read.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Mount, Route

from rag.answer import final_answer
from rag.api import Assistant, document_id
from rag.auth import EDIT, READ, Access, PermissionDenied, Role, allows, check_bind, load_access, require
from rag.backends import BACKEND_NAMES, BackendError
from rag.collections import UnknownCollection, list_collections
from rag.config import DEFAULT_COLLECTION, RetrievalMode, Settings
from rag.errors import USER_ERRORS
from rag.injection import instruction_like
from rag.prompt import chat_history
from rag.store import StoreError
from rag.text import one_line
from rag.uploads import store_uploads

log = logging.getLogger(__name__)

API_PREFIX = "/v1"
MODEL_PREFIX = "rag-"  # model "rag-<backend>" answers with that backend of the registry (rag/backends)
# A JSON request (a chat of hundreds of turns fits easily); anything larger is a mistake or abuse.
JSON_BODY_MAX_BYTES = 1_000_000
# Multipart framing around the uploaded files of one request (their sum may reach max_file_mb).
MULTIPART_OVERHEAD_BYTES = 64_000
MAX_FILES_PER_UPLOAD = 100
# Answers computed at once, as in the UI's ask queue (concurrency_limit=4): more requests wait their turn
# instead of slowing every answer down on a small CPU (and without holding the threads other routes use).
ANSWERS_AT_ONCE = 4
DOCS_ASSETS = "/docs-assets"  # Swagger UI's scripts and styles, served from the fastapi-offline package
PUBLIC_PATHS = ("/docs", "/docs/oauth2-redirect", "/openapi.json")  # the API's description, no data


# ---- errors in OpenAI's shape --------------------------------------------------------------------------


class ApiError(HTTPException):
    """An error for the client, in OpenAI's shape. FastAPI's HTTPException, so FastAPI passes it through
    unchanged even when raised while it reads the request body (the size limit)."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(status, message, headers)
        self.kind = kind
        self.code = code


def error_body(message: str, kind: str, code: str | None) -> dict:
    return {"error": {"message": message, "type": kind, "code": code, "param": None}}


def _response(error: ApiError) -> JSONResponse:
    return JSONResponse(error_body(error.detail, error.kind, error.code), error.status_code, error.headers)


def api_error(exc: Exception, role: Role | None = None) -> ApiError:
    """What the client is told about ``exc``: a status, one line and a code, never a traceback."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, StarletteHTTPException):  # routing: unknown path (404), wrong method (405)
        return ApiError(exc.status_code, str(exc.detail), code="not_found" if exc.status_code == 404 else None)
    if isinstance(exc, PermissionDenied):
        if role is None:
            return ApiError(401, str(exc), code="missing_api_key", headers={"WWW-Authenticate": "Bearer"})
        return ApiError(403, str(exc), "permission_error", "insufficient_role")
    if isinstance(exc, BackendError):  # the answer model is down or failing: worth a retry
        return ApiError(502, one_line(exc), "server_error", "backend_unavailable")
    if isinstance(exc, UnknownCollection):
        return ApiError(404, one_line(exc), code="collection_not_found")
    if isinstance(exc, StoreError):  # an empty or incompatible index: the message says how to fix it
        return ApiError(400, one_line(exc), code="index_unavailable")
    if isinstance(exc, USER_ERRORS):
        return ApiError(400, one_line(exc))
    log.error("unexpected error in the HTTP API", exc_info=exc)
    return ApiError(500, f"internal error ({type(exc).__name__}); details are in the server log", "server_error")


def _validation_message(exc: RequestValidationError) -> str:
    problems = []
    for error in exc.errors()[:3]:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        if error.get("type") == "json_invalid":
            problems.append("the request body is not valid JSON")
        else:
            problems.append(f"{where or 'body'}: {error.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(problems)


# ---- the gate: API key -> role, body size limit, last-resort error handler --------------------------------


def bearer_key(authorization: str | None) -> str | None:
    scheme, _, key = (authorization or "").partition(" ")
    return key.strip() or None if scheme.lower() == "bearer" else None


class Gate:
    """ASGI middleware of the API app: every request but the API's description needs a key with a role
    (checked before the body is read), bodies are capped, and nothing unexpected reaches the client
    as more than one line."""

    def __init__(self, app, access: Access, upload_max_bytes: int):
        self.app = app
        self.access = access
        self.upload_max_bytes = upload_max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            self._authenticate(scope)
            await self.app(scope, _capped(receive, self._body_limit(scope)), tracked_send)
        except Exception as exc:
            if not started:  # else answered already by the app's handler, or a streamed answer is under way
                await _response(api_error(exc, scope.get("state", {}).get("role")))(scope, receive, send)

    def _authenticate(self, scope) -> None:
        """Put the caller's role in the request state; refuse a missing or unknown key (401)."""
        key = bearer_key(dict(scope["headers"]).get(b"authorization", b"").decode("latin-1"))
        role = self.access.key_role(key)
        scope.setdefault("state", {})["role"] = role
        path = _path(scope)
        if role is None and path not in PUBLIC_PATHS and not path.startswith(f"{DOCS_ASSETS}/"):
            message = "invalid API key" if key else "missing API key: send Authorization: Bearer <key>"
            raise ApiError(401, message, code="invalid_api_key" if key else "missing_api_key",
                           headers={"WWW-Authenticate": "Bearer"})

    def _body_limit(self, scope) -> int:
        limit = JSON_BODY_MAX_BYTES
        if scope["method"] == "POST" and _path(scope) == "/documents":
            limit = self.upload_max_bytes + MULTIPART_OVERHEAD_BYTES
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        return limit


def _path(scope) -> str:
    """The path inside the API app (after the /v1 mount)."""
    root = scope.get("root_path", "")
    path = scope["path"]
    return path[len(root):] if root and path.startswith(root) else path


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"request body too large (limit {limit / 1e6:.1f} MB)", code="request_too_large")


def _capped(receive, limit: int):
    """``receive`` that fails with 413 once the body passes ``limit`` bytes (a chunked body has no length)."""
    seen = 0

    async def receive_capped():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _too_large(limit)
        return message

    return receive_capped


def _role_of(request: Request) -> Role | None:
    return request.state.role


# ---- request and response models ----------------------------------------------------------------------


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """OpenAI's request. Sampling options (temperature, max_tokens, …) are accepted and ignored: answers
    follow the server's settings, and the extractive backend has nothing to sample."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(description="one of GET /v1/models, e.g. rag-extractive, or rag-extractive/NAME to ask "
                                   "in the collection NAME")
    messages: list[ChatMessage] = Field(min_length=1, description="the conversation; the last one is the question")
    stream: bool = False
    collection: str | None = Field(None, description="the collection to answer from (default: the default one)")


class CollectionRequest(BaseModel):
    name: str = Field(description="letters, digits, - and _")


COLLECTION_QUERY = Query(None, description="the collection (default: the default one; GET /v1/collections)")


# ---- the app --------------------------------------------------------------------------------------------


def backend_and_collection(model: str, collection: str | None) -> tuple[str, str | None]:
    """The backend and collection a request names: model ``rag-<backend>`` or ``rag-<backend>/<collection>``
    (for clients that can only pick a model, such as Open WebUI), and/or the ``collection`` field."""
    name, _, in_model = model.strip().partition("/")
    backend = name.lower().removeprefix(MODEL_PREFIX)
    if backend not in BACKEND_NAMES:
        raise ApiError(404, f"the model {model!r} does not exist; GET /v1/models lists the models",
                       code="model_not_found")
    if in_model and collection and in_model != collection:
        raise ApiError(400, f"the model names the collection {in_model!r} but the collection field {collection!r}",
                       code="collection_conflict")
    return backend, in_model or collection


def question_and_history(messages: list[ChatMessage]) -> tuple[str, list[dict[str, str]]]:
    """The last message is the question; the user and assistant messages before it are the chat history
    (system messages are left out: answers follow the server's rules)."""
    plain = [message.model_dump() for message in messages]
    last = chat_history(plain[-1:])
    if not last or last[0]["role"] != "user":
        raise ApiError(400, "the last message must be a user message with text", code="invalid_messages")
    return last[0]["content"], chat_history(plain[:-1])


def answer_extras(answer) -> dict:
    """What the answer adds to OpenAI's response: the fields of `rag ask --json` but the text (in the message):
    ``citations`` (checked), ``grounded``, ``retrieved``, ``backend``, ``timings``."""
    return {key: value for key, value in answer.to_dict().items() if key != "answer"}


def build_api(assistant: Assistant, access: Access) -> FastAPI:
    """The API app, to mount at /v1 (see :func:`api_routes`)."""
    api = FastAPIOffline(  # FastAPI whose /docs page loads nothing from a CDN (the tool runs offline)
        redoc_url=None,
        static_url=DOCS_ASSETS,
        title="rag HTTP API",
        version="1",
        summary="OpenAI-compatible chat completions with checked citations, plus documents, indexing and search.",
        description="Authenticate with `Authorization: Bearer <key>` (`rag new-api-key`); readers may ask, "
                    "list and search, editors may also upload, remove and re-index. Errors use OpenAI's shape.",
    )
    created = int(time.time())
    answer_slots = anyio.CapacityLimiter(ANSWERS_AT_ONCE)

    async def answering(work: Callable, *args):
        """Run a step of answering in a worker thread, at most ANSWERS_AT_ONCE at a time."""
        return await anyio.to_thread.run_sync(work, *args, limiter=answer_slots)

    async def on_error(request: Request, exc: Exception):
        return _response(api_error(exc, getattr(request.state, "role", None)))

    # Expected errors first; Exception goes to Starlette's last-resort handler (which answers, then re-raises
    # to the Gate, which stops it there).
    for kind in (StarletteHTTPException, PermissionDenied, *USER_ERRORS, Exception):
        api.add_exception_handler(kind, on_error)

    @api.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError):
        return _response(ApiError(400, _validation_message(exc), code="invalid_request"))

    @api.get("/models", summary="The models: one per answer backend, then one per collection (the server's backend)")
    def models(request: Request) -> dict:
        require(_role_of(request), READ, "list models")
        default = assistant.settings.backend
        names = [MODEL_PREFIX + name for name in sorted(BACKEND_NAMES, key=lambda name: name != default)]
        names += [f"{MODEL_PREFIX}{default}/{found.name}" for found in list_collections(assistant.settings)
                  if found.name != DEFAULT_COLLECTION]
        return {"object": "list", "data": [
            {"id": name, "object": "model", "created": created, "owned_by": "rag"} for name in names
        ]}

    @api.get("/collections", summary="The collections (named indexes), the default one first")
    def collections(request: Request) -> dict:
        role = _role_of(request)
        require(role, READ, "list collections")
        found = assistant.collections()
        return {"object": "list", "data": [_collection(collection, count, role) for collection, count in found]}

    @api.post("/collections", summary="Create an empty collection (upload into it with ?collection=NAME)")
    def create_collection(body: CollectionRequest, request: Request) -> dict:
        role = _role_of(request)
        require(role, EDIT, "create collections")
        return _collection(assistant.create_collection(body.name), 0, role)

    @api.delete("/collections/{name}", summary="Remove a collection made here, deleting its documents and index")
    def remove_collection(name: str, request: Request) -> dict:
        require(_role_of(request), EDIT, "remove collections")
        message = assistant.remove_collection(name)
        return {"id": name, "object": "collection", "deleted": True, "message": message}

    @api.post("/chat/completions", summary="Answer the last user message from the documents, with citations")
    async def chat_completions(body: ChatRequest, request: Request):
        require(_role_of(request), READ, "ask questions")
        backend, collection = backend_and_collection(body.model, body.collection)
        asked = assistant.collection(collection)
        question, history = question_and_history(body.messages)
        completion_id, created_at = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        events = await answering(asked.ask, question, history, backend)
        if not body.stream:
            answer = await answering(final_answer, events)
            return {
                "id": completion_id, "object": "chat.completion", "created": created_at, "model": body.model,
                "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                             "message": {"role": "assistant", "content": answer.answer}}],
                **answer_extras(answer),
            }
        # Retrieval and the backend's first reply happen before the first event: their errors get a status.
        first = await answering(next, events, None)
        chunk = {"id": completion_id, "object": "chat.completion.chunk", "created": created_at, "model": body.model}
        return StreamingResponse(_sse(chunk, first, lambda: answering(next, events, None)),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @api.get("/documents", summary="The indexed documents")
    def documents(request: Request, collection: str | None = COLLECTION_QUERY) -> dict:
        role = _role_of(request)
        require(role, READ, "list documents")
        records = sorted(assistant.collection(collection).documents(),
                         key=lambda record: (record.source, record.root))
        return {"object": "list", "data": [_document(record, role) for record in records]}

    @api.post(
        "/documents", summary="Upload files (multipart field `file`, repeatable) into the corpus and index them",
        openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "array", "items": {"type": "string", "format": "binary"}}},
        }}}}},
    )
    async def upload(request: Request, collection: str | None = COLLECTION_QUERY) -> dict:
        role = _role_of(request)
        require(role, EDIT, "upload documents")  # before the body is read
        into = assistant.collection(collection)
        form = await request.form(max_files=MAX_FILES_PER_UPLOAD, max_fields=MAX_FILES_PER_UPLOAD)
        files = [item for item in form.getlist("file") if isinstance(item, UploadFile)]
        if not files:
            raise ApiError(400, "no file in the request: send multipart/form-data with one or more `file` fields",
                           code="missing_file")
        uploads = [(item.filename or "", await item.read()) for item in files]
        await form.close()
        result = await run_in_threadpool(store_uploads, into, role, uploads)
        if not result.saved:
            raise ApiError(400, "; ".join(result.notes), code="upload_refused")
        saved = {str(path.resolve()) for path in result.saved}
        return {
            "object": "list",
            "data": [_document(record, role) for record in into.documents()
                     if str(Path(record.root) / record.source) in saved],
            "notes": result.notes,
            "report": result.report.to_dict() if result.report else None,
        }

    @api.delete("/documents/{doc_id}", summary="Unindex a document (and delete its file when inside the corpus)")
    def remove(doc_id: str, request: Request, collection: str | None = COLLECTION_QUERY) -> dict:
        require(_role_of(request), EDIT, "remove documents")
        held = assistant.collection(collection)
        if not any(document_id(record) == doc_id for record in held.documents()):
            raise ApiError(404, f"no indexed document with id {doc_id!r}", code="document_not_found")
        message = held.remove(doc_id)
        return {"id": doc_id, "object": "document", "deleted": True, "message": message}

    @api.post("/index", summary="Re-index the corpus folder: new and changed files in, deleted ones out")
    def reindex(request: Request, collection: str | None = COLLECTION_QUERY) -> dict:
        require(_role_of(request), EDIT, "re-index")
        return assistant.collection(collection).index().to_dict()

    @api.get("/search", summary="Retrieve passages for a query, without answering")
    def search(
        request: Request,
        q: str = Query(min_length=1, max_length=10_000, description="the query"),
        k: int | None = Query(None, ge=1, le=100, description="number of passages (default: the top_k setting)"),
        mode: RetrievalMode | None = Query(None, description="hybrid, dense or bm25 (default: the setting)"),
        collection: str | None = COLLECTION_QUERY,
    ) -> dict:
        require(_role_of(request), READ, "search")
        hits = assistant.collection(collection).search(q, k, mode)
        return {"object": "list", "data": [
            {**hit.passage.to_dict(), "score": hit.score, "instruction_like": instruction_like(hit.passage.text)}
            for hit in hits
        ]}

    return api


def _document(record, role: Role | None) -> dict:
    """A document as the API shows it; the folder it was indexed from only to editors (as in the UI)."""
    shown = {"id": document_id(record), "object": "document", "source": record.source, "title": record.title,
             "chunks": record.chunk_count, "indexed_at": int(record.indexed_at)}
    return {**shown, "root": record.root} if allows(role, EDIT) else shown


def _collection(found, documents: int, role: Role | None) -> dict:
    """A collection as the API shows it; its folders only to editors (as documents' folders)."""
    shown = {"id": found.name, "object": "collection", "documents": documents, "removable": found.made_here}
    folders = {"corpus_dir": str(found.corpus_dir), "index_dir": str(found.index_dir)}
    return {**shown, **folders} if allows(role, EDIT) else shown


async def _sse(chunk: dict, first, following: Callable[[], Awaitable]) -> AsyncIterator[str]:
    """OpenAI's stream: a role chunk, one chunk per text delta, a final chunk with ``finish_reason`` and the
    checked citations, then ``[DONE]``. ``following()`` gives the next answer event (None at the end).
    A failure midway becomes an ``error`` event (the SDK raises it)."""

    def data(payload: dict) -> str:
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    def choice(delta: dict, finish_reason: str | None = None) -> dict:
        return {**chunk, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}]}

    yield data(choice({"role": "assistant", "content": ""}))
    answer, event = None, first
    try:
        while event is not None:
            if event.kind == "delta":
                yield data(choice({"content": event.text}))
            else:
                answer = event.answer
            event = await following()
        if answer is None:
            raise RuntimeError("the answer stream ended without an answer")
    except Exception as exc:
        error = api_error(exc)
        yield data(error_body(error.detail, error.kind, error.code))
        return
    yield data({**choice({}, "stop"), **answer_extras(answer)})
    yield "data: [DONE]\n\n"


def api_routes(assistant: Assistant, access: Access) -> list[BaseRoute]:
    """The API at /v1 and its interactive docs at /docs, for the app serving the UI or a bare one."""
    api = build_api(assistant, access)
    upload_max_bytes = int(assistant.settings.max_file_mb * 1_000_000)
    gated = Gate(api, access, upload_max_bytes)
    return [
        Mount(API_PREFIX, app=gated),
        Route("/docs", lambda request: RedirectResponse(f"{API_PREFIX}/docs"), include_in_schema=False),
    ]


# ---- serving -------------------------------------------------------------------------------------------


def start_assistant(settings: Settings, insecure_no_auth: bool) -> tuple[Assistant, Access]:
    """What `rag serve` does before serving the UI or the API: check who may connect (refusing an open
    non-loopback bind before any work), then bring every collection's index up to date with its corpus folder."""
    access = load_access(settings)
    warning = check_bind(settings.host, access, insecure_no_auth)  # raises before any work is done
    if warning:
        print(warning, file=sys.stderr, flush=True)
    assistant = Assistant(settings)
    for found in list_collections(settings):
        print(f"indexing {found.corpus_dir} (collection {found.name}; only new or changed files are embedded)…",
              flush=True)
        print(assistant.collection(found.name).index().summary(), flush=True)
    return assistant, access


def serve(settings: Settings, insecure_no_auth: bool = False) -> None:
    """`rag serve --api-only`: the HTTP API without the UI."""
    import uvicorn
    from starlette.applications import Starlette

    assistant, access = start_assistant(settings, insecure_no_auth)
    app = Starlette(routes=api_routes(assistant, access))
    print(f"API on http://{settings.host}:{settings.port}{API_PREFIX} (docs at /docs)", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
