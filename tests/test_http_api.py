"""The HTTP API (/v1) through the clients people already use: the real `openai` SDK and LangChain's
`ChatOpenAI` against the real server on 127.0.0.1 (UI and API in one process, API keys for a reader and
an editor), raw HTTP for what those clients cannot send, and `rag serve --api-only` as a real process."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from conftest import CORPUS, REPO, make_settings
from rag.auth import hash_api_key, new_api_key
from ui_server import free_port, ui  # noqa: F401  (the shared open app, for the open-server test)

READER_KEY, EDITOR_KEY = new_api_key(), new_api_key()
UPLOAD_LIMIT_MB = 0.2  # this server's max_file_mb: small, so the size limit is cheap to reach
QUOKKA = "# Quokka field notes\n\nThe quokka census on Plinth Island counted 4711 quokkas in a single damp afternoon.\n"
QUESTION = "What is inner alignment?"


@dataclass
class ApiServer:
    base_url: str  # .../v1
    root: str
    assistant: object
    corpus: Path


@pytest.fixture(scope="session")
def server(tmp_path_factory, embedder):
    """The UI and the API served by one Gradio app, with a reader key and an editor key (no users)."""
    from rag.api import Assistant
    from rag.auth import load_access
    from rag.ui import build_app, launch

    tmp = tmp_path_factory.mktemp("http-api")
    shutil.copytree(CORPUS, tmp / "corpus")
    keys = {"reader-app": {"role": "reader", "key_hash": hash_api_key(READER_KEY)},
            "editor-app": {"role": "editor", "key_hash": hash_api_key(EDITOR_KEY)}}
    # The openai backend is down: its port is bound for the whole session but never listens, so connections are
    # refused and no fake backend a later test starts on port 0 is handed it (a released port was, once: the "down"
    # backend then answered 401).
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{reserved.getsockname()[1]}/v1"
        settings = make_settings(tmp, host="127.0.0.1", port=free_port(), api_keys=keys, max_file_mb=UPLOAD_LIMIT_MB,
                                 openai_base_url=dead)
        assistant = Assistant(settings, embedder=embedder)
        assert len(assistant.index().added) == 3
        access = load_access(settings)
        demo = build_app(assistant, access)
        launch(demo, settings, access, assistant, prevent_thread_lock=True, quiet=True)
        root = f"http://127.0.0.1:{settings.port}"
        yield ApiServer(f"{root}/v1", root, assistant, tmp / "corpus")
        demo.close()


def openai_client(server, key: str):
    from openai import OpenAI

    return OpenAI(base_url=server.base_url, api_key=key, max_retries=0, timeout=120)


def http(server, key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=server.base_url + "/", headers=headers, timeout=120)


def assert_openai_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    """OpenAI's error shape, the status, and nothing of the server's insides."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and {"message", "type", "code"} <= set(body["error"])
    assert body["error"]["message"] and "\n" not in body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    assert "Traceback" not in response.text and 'File "' not in response.text
    return body["error"]


def assert_checked_citations(text: str, extras: dict) -> None:
    """Every [n] in the text names a citation; citations carry the passage and the support verdict."""
    citations = extras["citations"]
    assert extras["grounded"] is True and citations
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    assert numbers and numbers <= {c["n"] for c in citations}
    for citation in citations:
        assert {"n", "source", "title", "section", "text", "start", "end", "page", "supported", "answers"} <= set(
            citation)
    assert any(c["supported"] and c["answers"] for c in citations)


# ---- the openai SDK ---------------------------------------------------------------------------------------


def test_models_lists_one_model_per_backend(server):
    models = [model.id for model in openai_client(server, READER_KEY).models.list()]
    assert models[0] == "rag-extractive"  # the configured backend first
    assert sorted(models) == ["rag-extractive", "rag-local", "rag-ollama", "rag-openai"]


def test_non_streamed_answer_has_markers_and_checked_citations(server):
    completion = openai_client(server, READER_KEY).chat.completions.create(
        model="rag-extractive", messages=[{"role": "user", "content": QUESTION}])
    text = completion.choices[0].message.content
    assert completion.object == "chat.completion" and completion.choices[0].finish_reason == "stop"
    assert_checked_citations(text, completion.model_extra)
    assert {c["source"] for c in completion.model_extra["citations"]} <= {
        "core-of-the-alignment-problem.md", "ai-alignment-overview.txt"}
    assert any("inner" in c["text"].lower() for c in completion.model_extra["citations"])


def test_streamed_answer_arrives_in_pieces_then_citations(server):
    client = openai_client(server, READER_KEY)
    chunks = list(client.chat.completions.create(
        model="rag-extractive", messages=[{"role": "user", "content": QUESTION}], stream=True))
    deltas = [chunk.choices[0].delta.content for chunk in chunks if chunk.choices[0].delta.content]
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop"
    assert len(deltas) >= 2  # the extractive backend streams sentence by sentence
    streamed = "".join(deltas)
    assert_checked_citations(streamed, final.model_extra)
    whole = client.chat.completions.create(model="rag-extractive", messages=[{"role": "user", "content": QUESTION}])
    assert " ".join(streamed.split()) == " ".join(whole.choices[0].message.content.split())
    assert final.model_extra["citations"] == whole.model_extra["citations"]


def test_stream_is_server_sent_events_ending_in_done(server):
    request = {"model": "rag-extractive", "messages": [{"role": "user", "content": QUESTION}], "stream": True}
    with http(server, READER_KEY) as reader, reader.stream("POST", "chat/completions", json=request) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        body = response.read().decode()
    events = [event for event in body.split("\n\n") if event]
    assert all(event.startswith("data: ") for event in events) and events[-1] == "data: [DONE]"
    chunks = [json.loads(event.removeprefix("data: ")) for event in events[:-1]]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["grounded"] is True


def test_follow_up_uses_the_earlier_messages(server):
    client = openai_client(server, READER_KEY)
    first = client.chat.completions.create(
        model="rag-extractive", messages=[{"role": "user", "content": "What is specification gaming?"}])
    alone = client.chat.completions.create(
        model="rag-extractive", messages=[{"role": "user", "content": "Where has it been observed?"}])
    assert alone.model_extra["grounded"] is False
    follow_up = client.chat.completions.create(model="rag-extractive", messages=[
        {"role": "system", "content": "You are a helpful assistant."},  # clients send one; the server's rules win
        {"role": "user", "content": "What is specification gaming?"},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": [{"type": "text", "text": "Where has it been observed?"}]},
    ])
    assert "CoastRunners" in follow_up.choices[0].message.content
    assert_checked_citations(follow_up.choices[0].message.content, follow_up.model_extra)


def test_upload_then_cited_answer_then_delete(server, tmp_path):
    client = openai_client(server, READER_KEY)
    question = [{"role": "user", "content": "How many quokkas did the Plinth Island census count?"}]
    with http(server, EDITOR_KEY) as editor:
        response = editor.post("documents", files=[("file", ("../Quokka notes.md", QUOKKA.encode(), "text/markdown"))])
        assert response.status_code == 200, response.text
        (document,) = response.json()["data"]
        assert document["source"] == "Quokka-notes.md"  # the UI's name rules: no path, safe characters
        assert (server.corpus / "Quokka-notes.md").read_text(encoding="utf-8") == QUOKKA
        try:
            answer = client.chat.completions.create(model="rag-extractive", messages=question)
            assert "4711" in answer.choices[0].message.content
            assert_checked_citations(answer.choices[0].message.content, answer.model_extra)
            assert answer.model_extra["citations"][0]["source"] == "Quokka-notes.md"
            listed = {d["id"]: d for d in http(server, READER_KEY).get("documents").json()["data"]}
            assert listed[document["id"]]["source"] == "Quokka-notes.md"
            assert "root" not in listed[document["id"]]  # readers don't see server folders (nor in the UI)
            assert document["root"] == str(server.corpus.resolve())
        finally:
            deleted = editor.delete(f"documents/{document['id']}")
        assert deleted.status_code == 200 and deleted.json()["deleted"] is True
        assert "deleted its file" in deleted.json()["message"]
        assert not (server.corpus / "Quokka-notes.md").exists()
        assert_openai_error(editor.delete(f"documents/{document['id']}"), 404, "document_not_found")
    after = client.chat.completions.create(model="rag-extractive", messages=question)
    assert "4711" not in after.choices[0].message.content
    assert all(c["source"] != "Quokka-notes.md" for c in after.model_extra["citations"])


def test_upload_follows_the_ui_rules(server):
    before = sorted(p.name for p in server.corpus.iterdir())
    with http(server, EDITOR_KEY) as editor:
        refused = assert_openai_error(editor.post("documents", files=[
            ("file", ("tool.exe", b"MZ\0\0", "application/octet-stream")),
            ("file", ("empty.md", b"", "text/markdown")),
        ]), 400, "upload_refused")
        assert "unsupported file type .exe" in refused["message"] and "empty file" in refused["message"]
        assert_openai_error(editor.post("documents", data={"purpose": "x"}), 400, "missing_file")
    assert sorted(p.name for p in server.corpus.iterdir()) == before


def test_search_and_reindex(server):
    with http(server, READER_KEY) as reader:
        hits = reader.get("search", params={"q": "specification gaming", "k": 3, "mode": "bm25"}).json()["data"]
        assert len(hits) == 3 and all({"source", "text", "score", "instruction_like"} <= set(hit) for hit in hits)
        assert "chunk_id" not in hits[0]
        assert any("specification gaming" in hit["text"].lower() for hit in hits)
        default = reader.get("search", params={"q": "specification gaming"}).json()["data"]
        assert len(default) == server.assistant.settings.top_k
        assert_openai_error(reader.get("search", params={"q": "x", "mode": "fuzzy"}), 400, "invalid_request")
    with http(server, EDITOR_KEY) as editor:
        report = editor.post("index").json()
        assert report["documents_total"] == 3 and len(report["unchanged"]) == 3


def test_collection_parameter_on_every_route(server):
    """Create a collection, upload into it, ask and search in it; the default collection never sees it."""
    client = openai_client(server, READER_KEY)
    question = [{"role": "user", "content": "How many quokkas did the Plinth Island census count?"}]
    with http(server, EDITOR_KEY) as editor, http(server, READER_KEY) as reader:
        assert_openai_error(reader.post("collections", json={"name": "pets"}), 403, "insufficient_role")
        assert_openai_error(editor.post("collections", json={"name": "../pets"}), 400)
        made = editor.post("collections", json={"name": "pets"})
        assert made.status_code == 200 and made.json()["id"] == "pets" and made.json()["removable"] is True
        try:
            assert_openai_error(editor.post("collections", json={"name": "pets"}), 400)
            uploaded = editor.post("documents", params={"collection": "pets"},
                                   files=[("file", ("quokka.md", QUOKKA.encode(), "text/markdown"))])
            assert uploaded.status_code == 200, uploaded.text
            assert uploaded.json()["data"][0]["root"].endswith("collections/pets/corpus")

            by_field = client.chat.completions.create(model="rag-extractive", messages=question,
                                                      extra_body={"collection": "pets"})
            assert "4711" in by_field.choices[0].message.content
            assert {c["source"] for c in by_field.model_extra["citations"]} == {"quokka.md"}
            by_model = client.chat.completions.create(model="rag-extractive/pets", messages=question, stream=True)
            assert "4711" in "".join(chunk.choices[0].delta.content or "" for chunk in by_model if chunk.choices)
            default = client.chat.completions.create(model="rag-extractive", messages=question)
            assert all(c["source"] != "quokka.md" for c in default.model_extra["citations"])
            assert "rag-extractive/pets" in [model.id for model in client.models.list()]

            hits = reader.get("search", params={"q": "quokka census", "collection": "pets"}).json()["data"]
            assert {hit["source"] for hit in hits} == {"quokka.md"}
            listed = reader.get("documents", params={"collection": "pets"}).json()["data"]
            assert [d["source"] for d in listed] == ["quokka.md"] and "root" not in listed[0]
            assert "quokka.md" not in {d["source"] for d in reader.get("documents").json()["data"]}
            collections = reader.get("collections").json()["data"]
            assert [(c["id"], c["documents"]) for c in collections] == [("default", 3), ("pets", 1)]
            assert "corpus_dir" not in collections[1]  # folders are for editors
            assert editor.post("index", params={"collection": "pets"}).json()["documents_total"] == 1
            assert_openai_error(reader.get("search", params={"q": "x", "collection": "nope"}), 404,
                                "collection_not_found")
            conflict = {"model": "rag-extractive/pets", "messages": question, "collection": "other"}
            assert_openai_error(reader.post("chat/completions", json=conflict), 400, "collection_conflict")
            doc_id = listed[0]["id"]
            assert_openai_error(editor.delete(f"documents/{doc_id}"), 404, "document_not_found")  # not in default
            assert editor.delete(f"documents/{doc_id}", params={"collection": "pets"}).json()["deleted"] is True
            assert_openai_error(reader.delete("collections/pets"), 403, "insufficient_role")
            assert_openai_error(editor.delete("collections/default"), 400)
        finally:
            removed = editor.delete("collections/pets")
        assert removed.status_code == 200 and "deleted" in removed.json()["message"]
        assert [c["id"] for c in reader.get("collections").json()["data"]] == ["default"]


def test_langchain_chat_openai_invoke_and_stream(server):
    from langchain_core.messages import AIMessage, HumanMessage
    from langchain_openai import ChatOpenAI

    chat = ChatOpenAI(model="rag-extractive", base_url=server.base_url, api_key=READER_KEY, max_retries=0)
    reply = chat.invoke([HumanMessage(QUESTION)])
    assert "[1]" in reply.content and "inner" in reply.content.lower()
    streamed = "".join(str(chunk.content) for chunk in chat.stream([
        HumanMessage("What is specification gaming?"),
        AIMessage("Specification gaming is when an AI system exploits a flawed objective [1]."),
        HumanMessage("Where has it been observed?"),
    ]))
    assert "CoastRunners" in streamed and "[1]" in streamed


# ---- keys and roles -----------------------------------------------------------------------------------------


def test_wrong_key_is_401_in_openai_shape(server):
    import openai

    with pytest.raises(openai.AuthenticationError) as caught:
        openai_client(server, "rag-not-a-key").models.list()
    assert caught.value.status_code == 401 and caught.value.code == "invalid_api_key"
    with http(server, "rag-not-a-key") as wrong:
        assert_openai_error(wrong.post("chat/completions", json={"model": "rag-extractive", "messages": []}), 401)


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "models"), ("POST", "chat/completions"), ("GET", "documents"), ("POST", "documents"),
    ("DELETE", "documents/abc"), ("POST", "index"), ("GET", "search?q=x"),
])
def test_anonymous_caller_is_refused_everywhere(server, method, path):
    with http(server, None) as anonymous:
        response = anonymous.request(method, path, json={"model": "rag-extractive"})
    assert_openai_error(response, 401, "missing_api_key")
    assert response.headers["www-authenticate"] == "Bearer"


def test_reader_key_on_editor_endpoints_is_403_and_changes_nothing(server):
    import openai

    before_files = sorted(p.name for p in server.corpus.iterdir())
    before_documents = server.assistant.documents()
    (some_id,) = [d["id"] for d in http(server, READER_KEY).get("documents").json()["data"]
                  if d["source"] == "ai-alignment-overview.txt"]
    with http(server, READER_KEY) as reader:
        upload = reader.post("documents", files=[("file", ("r.md", b"# R\n\nA reader adds this.\n", "text/markdown"))])
        assert "a reader cannot upload documents" in assert_openai_error(upload, 403, "insufficient_role")["message"]
        assert_openai_error(reader.delete(f"documents/{some_id}"), 403, "insufficient_role")
        assert_openai_error(reader.post("index"), 403, "insufficient_role")
    with pytest.raises(openai.PermissionDeniedError):
        openai_client(server, READER_KEY).post("/index", cast_to=object)
    assert sorted(p.name for p in server.corpus.iterdir()) == before_files
    assert server.assistant.documents() == before_documents


# ---- bad requests ---------------------------------------------------------------------------------------------


def test_malformed_and_invalid_requests_get_openai_errors(server):
    import openai

    with http(server, READER_KEY) as reader:
        bad_json = reader.post("chat/completions", content=b'{"model": "rag-extractive", "messages": [',
                               headers={"Content-Type": "application/json"})
        assert "not valid JSON" in assert_openai_error(bad_json, 400, "invalid_request")["message"]
        assert_openai_error(reader.post("chat/completions", json={"model": "rag-extractive"}), 400, "invalid_request")
        last_is_assistant = {"model": "rag-extractive", "messages": [{"role": "assistant", "content": "hi"}]}
        assert_openai_error(reader.post("chat/completions", json=last_is_assistant), 400, "invalid_messages")
        blank = {"model": "rag-extractive", "messages": [{"role": "user", "content": "   "}]}
        assert_openai_error(reader.post("chat/completions", json=blank), 400)
        assert_openai_error(reader.get("no-such-route"), 404, "not_found")
        assert_openai_error(reader.get("chat/completions"), 405)
    with pytest.raises(openai.NotFoundError) as caught:
        openai_client(server, READER_KEY).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert caught.value.code == "model_not_found"


def test_oversized_bodies_are_refused_before_they_are_read(server):
    huge = {"model": "rag-extractive", "messages": [{"role": "user", "content": "x" * 1_100_000}]}
    with http(server, READER_KEY) as reader:
        assert_openai_error(reader.post("chat/completions", json=huge), 413, "request_too_large")

        def chunked():  # no Content-Length: counted as it arrives
            yield b'{"model": "rag-extractive", "messages": [{"role": "user", "content": "'
            for _ in range(20):
                yield b"y" * 100_000
            yield b'"}]}'

        response = reader.post("chat/completions", content=chunked(), headers={"Content-Type": "application/json"})
        assert_openai_error(response, 413, "request_too_large")
    before = sorted(p.name for p in server.corpus.iterdir())
    with http(server, EDITOR_KEY) as editor:
        over_file_limit = b"# Big\n\n" + b"word " * int(UPLOAD_LIMIT_MB * 1_000_000 / 4)  # within the body cap
        refused = editor.post("documents", files=[("file", ("big.md", over_file_limit, "text/markdown"))])
        assert "file too large" in assert_openai_error(refused, 400, "upload_refused")["message"]
        over_body_limit = b"# Big\n\n" + b"word " * int(UPLOAD_LIMIT_MB * 1_000_000 / 3)
        response = editor.post("documents", files=[("file", ("big.md", over_body_limit, "text/markdown"))])
        assert_openai_error(response, 413, "request_too_large")
    assert sorted(p.name for p in server.corpus.iterdir()) == before


def test_backend_down_is_one_line_502_streamed_or_not(server):
    """The openai backend points at a port where nothing listens: the client learns that, in one line."""
    import openai

    client = openai_client(server, READER_KEY)
    question = [{"role": "user", "content": QUESTION}]
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="rag-openai", messages=question)
    assert caught.value.status_code == 502 and caught.value.code == "backend_unavailable"
    assert "cannot reach http://127.0.0.1:" in caught.value.message and "Traceback" not in caught.value.message
    with pytest.raises(openai.InternalServerError):
        list(client.chat.completions.create(model="rag-openai", messages=question, stream=True))


def failing_midway(state):
    """An OpenAI-compatible server (real HTTP) that streams two pieces of an answer, then an error event."""
    from test_backends import JSONHandler

    class Handler(JSONHandler):
        server_state = state

        def do_POST(self):  # noqa: N802 (http.server's naming)
            self.read_json()
            events = [{"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                       "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                      for delta in ({"role": "assistant", "content": ""}, {"content": "Inner alignment is "},
                                    {"content": "about "})]
            self.send(200, "text/event-stream", [f"data: {json.dumps(e)}\n\n".encode() for e in events]
                      + [b'data: {"error": {"message": "the model server ran out of memory"}}\n\n'])

    return Handler


def test_backend_failing_midway_ends_the_stream_with_an_error_event(server):
    import openai
    from test_backends import FakeServer

    upstream = FakeServer(failing_midway)
    original = server.assistant.settings
    server.assistant.update_settings(openai_base_url=f"{upstream.url}/v1")
    try:
        stream = openai_client(server, READER_KEY).chat.completions.create(
            model="rag-openai", messages=[{"role": "user", "content": QUESTION}], stream=True)
        received = []
        with pytest.raises(openai.APIError) as caught:
            for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")
        assert "".join(received).startswith("Inner alignment is")  # the status was 200: the answer had begun
        assert "ran out of memory" in caught.value.message and "Traceback" not in caught.value.message
        assert caught.value.code == "backend_unavailable"
    finally:
        server.assistant.settings = original
        upstream.close()


# ---- docs, the open server, and --api-only ------------------------------------------------------------------


def test_openapi_docs_are_served(server):
    with httpx.Client(base_url=server.root, timeout=60, follow_redirects=True) as anonymous:
        docs = anonymous.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
        assert assets and all(url.startswith("/v1/docs-assets/") for url in assets)  # nothing from a CDN
        assert all(anonymous.get(url).status_code == 200 for url in assets)
        schema = anonymous.get("/v1/openapi.json").json()
    assert {"/models", "/chat/completions", "/documents", "/documents/{doc_id}", "/index", "/search"} <= set(
        schema["paths"])


def test_open_loopback_server_takes_any_key(ui):
    """No users and no keys on 127.0.0.1: every caller is an editor, as in the UI (the SDK insists on a key)."""
    from openai import OpenAI

    client = OpenAI(base_url=f"{ui.url}v1", api_key="anything", max_retries=0)
    assert "rag-extractive" in [model.id for model in client.models.list()]
    with httpx.Client(base_url=f"{ui.url}v1/", timeout=120) as anonymous:
        assert anonymous.get("documents").status_code == 200


def test_rag_serve_api_only_serves_the_api_without_the_ui(tmp_path):
    """`rag serve --api-only` as users start it: indexes every collection's folder, then answers through the SDK."""
    from openai import OpenAI

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "quokka.md").write_text(QUOKKA, encoding="utf-8")
    (tmp_path / "collections" / "birds" / "corpus").mkdir(parents=True)  # a collection filled before the start
    (tmp_path / "collections" / "birds" / "corpus" / "heron.md").write_text(
        "# Heron notes\n\nThe grey heron colony on Plinth Island counted 38 nests this spring.\n", encoding="utf-8")
    port = free_port()
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "HOME": str(tmp_path), "RAG_EMBED_RUNTIME": "torch",
           "RAG_CORPUS_DIR": str(tmp_path / "corpus"), "RAG_INDEX_DIR": str(tmp_path / "index"),
           "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--api-only", "--port", str(port)],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="local", max_retries=0, timeout=60)
        deadline = time.monotonic() + 180
        while True:
            try:
                client.models.list()
                break
            except Exception:
                assert process.poll() is None and time.monotonic() < deadline, "the API server did not start"
                time.sleep(0.5)
        answer = client.chat.completions.create(
            model="rag-extractive", messages=[{"role": "user", "content": "How many quokkas were counted?"}])
        assert "4711" in answer.choices[0].message.content and answer.model_extra["grounded"] is True
        herons = client.chat.completions.create(
            model="rag-extractive/birds", messages=[{"role": "user", "content": "How many heron nests were counted?"}])
        assert "38" in herons.choices[0].message.content
        assert {c["source"] for c in herons.model_extra["citations"]} == {"heron.md"}
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=30).status_code == 404  # no UI
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=60)
    assert "API on http://127.0.0.1:" in output and "Traceback" not in output


def test_new_api_key_prints_a_key_and_its_entry(tmp_path):
    import tomllib

    from rag.auth import parse_api_keys

    result = subprocess.run([sys.executable, "-m", "rag.cli", "new-api-key", "open-webui", "--role", "editor"],
                            cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    key = result.stdout.split("give it to the client): ")[1].split()[0]
    entry = tomllib.loads(result.stdout.split("users_file):\n")[1])
    assert parse_api_keys(entry["api_keys"])["open-webui"].key_hash == hash_api_key(key)
    assert json.dumps(entry).count(key) == 0  # only the hash is configured
