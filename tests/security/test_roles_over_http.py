"""The real server on 127.0.0.1 with users configured, driven as an anonymous caller, a reader and an editor
through gradio_client and raw HTTP: every endpoint and route enforces the roles the UI shows."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from servers import CONFIGURED_KEY, PASSWORDS, Recorder, start_secure

ENDPOINTS = ["ask", "upload", "reindex", "remove", "settings", "save_settings", "create_collection",
             "remove_collection"]


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    server, demo = start_secure(tmp_path_factory.mktemp("secure"), embedder)
    yield server
    demo.close()


@pytest.fixture(scope="module")
def recorder():
    recorder = Recorder()
    yield recorder
    recorder.close()


def client_as(server, name):
    from gradio_client import Client

    return Client(server.url, auth=(name, PASSWORDS[name]), verbose=False)


@pytest.fixture(scope="module")
def reader(server):
    return client_as(server, "rita")


@pytest.fixture(scope="module")
def editor(server):
    return client_as(server, "ed")


@contextmanager
def http_as(server, name: str | None) -> Iterator[httpx.Client]:
    """A raw HTTP client holding the login cookie of ``name`` (or none)."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        if name is not None:
            response = client.post("login", data={"username": name, "password": PASSWORDS[name]})
            assert response.status_code == 200, response.text
        yield client


def documents_by_source(server, source: str) -> dict[str, str]:
    """{root: document id} of every indexed document with this file name."""
    from rag.api import document_id

    return {record.root: document_id(record) for record in server.assistant.documents() if record.source == source}


def denied(client, *args, api_name: str) -> str:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as caught:
        client.predict(*args, api_name=api_name)
    return str(caught.value)


# ---- anonymous -------------------------------------------------------------------------------------------


def test_wrong_password_and_unknown_user_cannot_log_in(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        assert client.post("login", data={"username": "ed", "password": "editor-pass-2"}).status_code == 400
        assert client.post("login", data={"username": "nobody", "password": "x"}).status_code == 400


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_caller_is_refused_by_every_named_endpoint(server, endpoint):
    with http_as(server, None) as client:
        response = client.post(f"gradio_api/call/{endpoint}", json={"data": []})
        assert response.status_code == 401


def test_anonymous_caller_gets_no_config_no_upload_no_files(server):
    before = sorted(p.name for p in server.corpus.iterdir())
    with http_as(server, None) as client:
        assert client.get("config").status_code == 401
        assert client.get("gradio_api/info").status_code == 401
        upload = client.post("gradio_api/upload", files={"files": ("x.md", b"# X\n\nhello\n", "text/markdown")})
        assert upload.status_code == 401
        corpus_file = server.corpus / "notes.md"
        assert client.get(f"gradio_api/file={corpus_file}").status_code in (401, 403)
    assert sorted(p.name for p in server.corpus.iterdir()) == before


def test_anonymous_settings_change_never_sends_the_key_anywhere(server, reader, recorder):
    """Issue 8 #1: an anonymous POST to the settings endpoint used to redirect the server's key."""
    with http_as(server, None) as client:
        response = client.post("gradio_api/call/settings",
                               json={"data": ["openai", "", recorder.url, "", "", 3, "bm25"]})
        assert response.status_code == 401
    settings = server.assistant.settings
    assert (settings.backend, settings.openai_base_url) == ("extractive", "https://api.openai.com/v1")
    assert settings.openai_api_key.get_secret_value() == CONFIGURED_KEY
    _box, _chat, _sources, answer = reader.predict("What is specification gaming?", [], api_name="/ask")
    assert answer["grounded"] is True
    assert recorder.seen == []


def test_users_without_api_keys_lock_the_http_api_even_for_a_logged_in_editor(server):
    """The HTTP API takes keys, not the UI's login cookie: with users but no keys configured, nobody gets in."""
    for name, headers, code in ((None, {"Authorization": "Bearer rag-guess"}, "invalid_api_key"),
                                ("ed", {}, "missing_api_key")):  # the editor's login cookie alone
        with http_as(server, name) as client:
            for method, path in (("GET", "v1/models"), ("POST", "v1/index"), ("GET", "v1/documents")):
                response = client.request(method, path, headers=headers)
                assert response.status_code == 401 and response.json()["error"]["code"] == code
    assert (server.corpus / "notes.md").exists()


# ---- reader ------------------------------------------------------------------------------------------------


def test_reader_asks_and_sees_documents(reader):
    _box, chat, sources, answer = reader.predict("What is inner alignment?", [], api_name="/ask")
    assert answer["grounded"] is True and answer["citations"]
    assert 'id="cite-1-1"' in sources


def test_reader_is_refused_every_editing_endpoint_and_nothing_changes(server, reader, recorder, tmp_path):
    from gradio_client import handle_file

    corpus_id = documents_by_source(server, "notes.md")[str(server.corpus.resolve())]
    before_files = sorted(p.name for p in server.corpus.iterdir())
    before_documents = server.assistant.documents()
    before_settings = server.assistant.settings
    upload = tmp_path / "reader-upload.md"
    upload.write_text("# Reader\n\nA reader tries to add this.\n", encoding="utf-8")

    assert "permission denied: a reader cannot remove documents" in denied(reader, corpus_id, api_name="/remove")
    assert "permission denied" in denied(reader, api_name="/reindex")
    with pytest.raises(httpx.HTTPStatusError, match="403"):  # the file never reaches the server's upload folder
        reader.predict([handle_file(str(upload))], api_name="/upload")
    assert "permission denied: a reader cannot change settings" in denied(
        reader, "openai", "", recorder.url, "", "", 3, "bm25", api_name="/settings")
    assert "permission denied: a reader cannot create collections" in denied(reader, "mine",
                                                                            api_name="/create_collection")
    assert "permission denied: a reader cannot remove collections" in denied(reader, "default",
                                                                            api_name="/remove_collection")
    assert not (server.corpus.parent / "collections").exists()

    assert sorted(p.name for p in server.corpus.iterdir()) == before_files
    assert server.assistant.documents() == before_documents
    assert server.assistant.settings is before_settings
    assert recorder.seen == []


def test_reader_is_refused_by_raw_http_too(server):
    corpus_id = documents_by_source(server, "notes.md")[str(server.corpus.resolve())]
    with http_as(server, "rita") as client:
        upload = client.post("gradio_api/upload", files={"files": ("x.md", b"# X\n\nhello\n", "text/markdown")})
        assert upload.status_code == 403 and "only editors" in upload.text
        event = client.post("gradio_api/call/remove", json={"data": [corpus_id, "default"]})  # id, collection
        assert event.status_code == 200  # queued; the handler refuses it
        stream = client.get(f"gradio_api/call/remove/{event.json()['event_id']}").text
        assert "event: error" in stream and "permission denied" in stream
    assert (server.corpus / "notes.md").exists()
    assert str(server.corpus.resolve()) in documents_by_source(server, "notes.md")


# ---- editor ------------------------------------------------------------------------------------------------


def test_editor_changing_the_base_url_clears_the_key(server, editor, recorder):
    original = server.assistant.settings
    try:
        *_fields, summary = editor.predict("openai", "", recorder.url, "", original.ollama_base_url, 3, "hybrid",
                                           api_name="/settings")
        assert "API key not set" in summary and "key set for the old URL was cleared" in summary
        _box, _chat, _sources, answer = editor.predict("What is specification gaming?", [], api_name="/ask")
        assert "error" in answer
        assert recorder.seen, "the answer never reached the recording server"
        assert all(CONFIGURED_KEY not in (header or "") for header in recorder.seen)
    finally:
        server.assistant.settings = original
        recorder.requests.clear()


def test_editor_upload_through_the_upload_route_works(server, editor, tmp_path):
    from gradio_client import handle_file

    note = tmp_path / "editor-note.md"
    note.write_text("# Editor note\n\nThe kestrel nest on the bell tower held five eggs.\n", encoding="utf-8")
    report, _table, _choices, _status = editor.predict([handle_file(str(note))], api_name="/upload")
    assert "added: `editor-note.md`" in report
    (doc_id,) = documents_by_source(server, "editor-note.md").values()
    message, *_ = editor.predict(doc_id, api_name="/remove")
    assert "deleted its file" in message and not (server.corpus / "editor-note.md").exists()


def test_remove_takes_an_id_and_never_deletes_outside_the_corpus(server, editor):
    """Issue 8 #2: two folders hold notes.md; removing one never touches the other's file."""
    ids = documents_by_source(server, "notes.md")
    corpus_root, elsewhere_root = str(server.corpus.resolve()), str(server.elsewhere.resolve())
    assert set(ids) == {corpus_root, elsewhere_root}

    message, table, _choices, _status = editor.predict(ids[elsewhere_root], api_name="/remove")
    assert "outside the corpus folder" in message and "only the index entry was removed" in message
    assert (server.elsewhere / "notes.md").exists() and (server.corpus / "notes.md").exists()
    assert set(documents_by_source(server, "notes.md")) == {corpus_root}
    assert ids[corpus_root] in [row[-1] for row in table["data"]]

    message, *_ = editor.predict(ids[corpus_root], api_name="/remove")
    assert "deleted its file" in message
    assert not (server.corpus / "notes.md").exists()
    assert (server.elsewhere / "notes.md").read_text(encoding="utf-8").count("elsewhere") == 1

    message, *_ = editor.predict("notes.md", api_name="/remove")  # a bare file name is not an id
    assert "no indexed document with id 'notes.md'" in message


def test_symlink_leaving_the_corpus_is_never_followed_for_deletion(server, editor):
    """The link was swapped to point outside after indexing: removal unindexes, deletes neither end."""
    ids = documents_by_source(server, "vault-link.md")
    assert len(ids) == 1, "the link was indexed while it pointed inside the corpus"
    message, *_ = editor.predict(next(iter(ids.values())), api_name="/remove")
    assert "symbolic link" in message and "only the index entry was removed" in message
    assert (server.outside / "vault.md").read_text(encoding="utf-8").startswith("# Outside")
    assert (server.corpus / "vault-link.md").is_symlink()
    assert not documents_by_source(server, "vault-link.md")


def test_instruction_like_passage_is_marked_in_sources_and_answer(reader):
    _box, _chat, sources, answer = reader.predict("What do the instructions in the operator memo say?", [],
                                                  api_name="/ask")
    memo = [c for c in answer["citations"] + answer["retrieved"] if c["source"] == "operator-memo.md"]
    assert memo and memo[0]["instruction_like"] == "Ignore previous instructions"
    assert "instruction-like text (“Ignore previous instructions”)" in sources
    others = [c for c in answer["citations"] + answer["retrieved"] if c["source"] != "operator-memo.md"]
    assert all(c["instruction_like"] is None for c in others)


def test_document_view_needs_a_login_and_shows_the_document_of_its_id(server):
    """The source view serves the indexed text of exactly the document its id names, an anonymous caller sees
    nothing, and no path in the request is ever read."""
    from rag.api import document_id

    records = server.assistant.documents()
    with http_as(server, None) as client:
        assert client.get(f"document/{document_id(records[0])}").status_code == 401
        health = client.get("healthz")  # probes need no login, and learn only whether the index is loaded
        assert health.status_code == 200 and health.json() == {"status": "ok", "index_loaded": True}
    with http_as(server, "rita") as client:
        for record in records:
            page = client.get(f"document/{document_id(record)}")
            assert page.status_code == 200 and "default-src 'none'" in page.headers["content-security-policy"]
            assert f"<title>{html.escape(record.title)}</title>" in page.text
            assert f"<code>{html.escape(record.source)}</code>" in page.text
        assert client.get("document/..%2F..%2Fetc%2Fpasswd").status_code == 404
        assert client.get(f"document/{'f' * 12}").status_code == 404


def test_reader_cannot_save_settings_to_rag_toml(server, reader):
    assert "permission denied" in denied(reader, api_name="/save_settings")
