"""The UI's named API endpoints driven by gradio_client, and upload safety."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from rag.uploads import safe_filename, save_upload
from ui_server import ui  # noqa: F401  (the shared app fixture)

QUOKKA = "# Quokka field notes\n\nThe quokka census on Plinth Island counted 4711 quokkas in a single damp afternoon.\n"


@pytest.fixture(scope="module")
def client(ui):
    from gradio_client import Client

    return Client(ui.url, verbose=False)


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every entry under ``folder`` with file contents, to prove an action changed nothing."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


def upload(client, *paths: Path) -> str:
    from gradio_client import handle_file

    report, _table, _choices, _status = client.predict([handle_file(str(p)) for p in paths], api_name="/upload")
    return report


def document_id_of(client, source: str) -> str:
    """The id column of the documents table row for ``source`` (removal takes ids, not file names)."""
    _report, table, _choices, _status = client.predict(api_name="/reindex")
    (row,) = [row for row in table["data"] if row[1] == source]
    return row[-1]


def test_ask_endpoint_returns_cited_answer_and_sources(client):
    _box, chat, sources, answer = client.predict("What is inner alignment?", [], api_name="/ask")

    assert answer["grounded"] is True and answer["state"] == "verified"
    # Both the essay and the overview's "Open Problems" list define inner alignment; nothing else does.
    assert answer["citations"]
    assert {c["source"] for c in answer["citations"]} <= {"core-of-the-alignment-problem.md", "ai-alignment-overview.txt"}
    assert any("inner alignment" in c["text"].lower() or "inner values" in c["text"].lower() for c in answer["citations"])
    first = answer["citations"][0]
    assert {"n", "source", "title", "section", "text", "start", "end", "page", "supported"} <= set(first)
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert 'href="#cite-1-1"' in chat[1]["content"][0]["text"]
    assert 'id="cite-1-1"' in sources and "<mark>" in sources


def test_ask_endpoint_uses_history_for_follow_ups(client):
    _box, chat, _sources, _answer = client.predict("What is specification gaming?", [], api_name="/ask")

    _box, _chat, alone_sources, alone = client.predict("Where has it been observed?", [], api_name="/ask")
    assert alone["grounded"] is False and alone["state"] == "not_found"
    assert "documents don't answer this" in alone_sources

    _box, chat, _sources, follow_up = client.predict("Where has it been observed?", chat, api_name="/ask")
    assert follow_up["grounded"] is True
    assert "CoastRunners" in follow_up["answer"]
    assert len(chat) == 4


def test_ask_endpoint_accepts_history_with_plain_string_content(client):
    """The documented history format, {"role", "content": "text"}, as a script would send it."""
    history = [
        {"role": "user", "content": "What is specification gaming?"},
        {"role": "assistant", "content": "Specification gaming is when an AI system exploits a flawed objective."},
    ]
    _box, chat, _sources, follow_up = client.predict("Where has it been observed?", history, api_name="/ask")
    assert follow_up["grounded"] is True
    assert "CoastRunners" in follow_up["answer"]
    assert [m["role"] for m in chat] == ["user", "assistant", "user", "assistant"]


def test_empty_question_is_ignored(client):
    _box, chat, _sources, _answer = client.predict("   ", [], api_name="/ask")
    assert chat == []


def test_upload_index_ask_and_remove(client, ui, tmp_path):
    notes = tmp_path / "quokka-notes.md"
    notes.write_text(QUOKKA, encoding="utf-8")

    report = upload(client, notes)
    assert "added: `quokka-notes.md`" in report
    assert (ui.corpus / "quokka-notes.md").read_text(encoding="utf-8") == QUOKKA

    _box, _chat, sources, answer = client.predict("How many quokkas did the census count?", [], api_name="/ask")
    assert "4711" in answer["answer"]
    assert answer["citations"][0]["source"] == "quokka-notes.md"
    assert "quokka-notes.md" in sources

    same = upload(client, notes)  # identical content: no duplicate file
    assert "already in the corpus as quokka-notes.md" in same
    assert not (ui.corpus / "quokka-notes-2.md").exists()

    changed = tmp_path / "changed" / "quokka-notes.md"
    changed.parent.mkdir()
    changed.write_text(QUOKKA.replace("4711", "5000"), encoding="utf-8")
    renamed = upload(client, changed)  # same name, different content: never overwritten
    assert "saved as quokka-notes-2.md" in renamed and "added: `quokka-notes-2.md`" in renamed
    assert (ui.corpus / "quokka-notes.md").read_text(encoding="utf-8") == QUOKKA

    ids = {}
    for source in ("quokka-notes.md", "quokka-notes-2.md"):
        ids[source] = document_id_of(client, source)
        message, table, _choices, _status = client.predict(ids[source], api_name="/remove")
        assert f"Removed `{source}`" in message and "deleted its file" in message
        assert not (ui.corpus / source).exists()
        assert source not in [row[1] for row in table["data"]]
    message, *_ = client.predict(ids["quokka-notes.md"], api_name="/remove")
    assert "no indexed document" in message


def test_bad_uploads_are_refused_and_change_nothing(client, ui, tmp_path):
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    binary = tmp_path / "blob.txt"
    binary.write_bytes(bytes(range(256)) * 8)
    outer, work = ui.corpus.parent.parent, ui.corpus.parent
    before_outer, before_work = snapshot(outer), snapshot(work)

    report = upload(client, empty, binary)

    assert "empty.md: refused, empty file" in report
    assert "blob.txt: refused, binary file" in report
    assert snapshot(work) == before_work
    assert snapshot(outer) == before_outer


def test_reindex_endpoint_syncs_the_folder(client, ui):
    dropped = ui.corpus / "dropped-in.txt"
    dropped.write_text("Wombats produce cube-shaped droppings, which stack neatly on logs.\n", encoding="utf-8")
    try:
        report, table, _choices, _status = client.predict(api_name="/reindex")
        assert "added: `dropped-in.txt`" in report
        assert "dropped-in.txt" in [row[1] for row in table["data"]]
    finally:
        dropped.unlink()
    report, table, _choices, _status = client.predict(api_name="/reindex")
    assert "removed: `dropped-in.txt`" in report
    assert "dropped-in.txt" not in [row[1] for row in table["data"]]


def progress_text(job) -> str:
    return " ".join(unit.desc or "" for unit in job.status().progress_data or ())


def test_questions_are_answered_while_an_upload_is_indexing(client, ui, tmp_path):
    """The index lock is held as a long index run would hold it: the upload waits, asks must not."""
    from gradio_client import handle_file
    from gradio_client.utils import Status

    late = tmp_path / "late-arrival.md"
    late.write_text("# Late arrival\n\nThe platypus uses electroreception to find shrimp in muddy rivers.\n")
    with ui.assistant.index_lock():
        job = client.submit([handle_file(str(late))], api_name="/upload")
        deadline = time.monotonic() + 60
        while "waiting…" not in progress_text(job) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert job.status().code == Status.PROGRESS
        assert f"another index run (pid {os.getpid()}) is in progress; waiting…" in progress_text(job)

        _box, _chat, _sources, answer = client.predict("What is specification gaming?", [], api_name="/ask")
        assert answer["grounded"] is True
        assert not job.done()
    report, *_ = job.result(timeout=120)
    assert "added: `late-arrival.md`" in report
    client.predict(document_id_of(client, "late-arrival.md"), api_name="/remove")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/x.md", "x.md"),
        ("..\\..\\windows\\x.md", "x.md"),
        ("/etc/passwd.txt", "passwd.txt"),
        (".hidden.md", "hidden.md"),
        ("My Notes (final)!.MD", "My-Notes-final.md"),
        ("Ünïcödé.txt", "Unicode.txt"),
        ("..", None),
        ("../", None),
        (".md", "md"),  # no suffix left: save_upload refuses it as an unsupported type
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_save_upload_never_writes_outside_the_folder(tmp_path):
    corpus = tmp_path / "a" / "corpus"
    corpus.mkdir(parents=True)
    before = snapshot(tmp_path)

    saved, note = save_upload("../../etc/x.md", b"# X\n\nA note about x.\n", corpus, 10**6)
    assert saved == corpus / "x.md" and note == "../../etc/x.md: saved as x.md"
    assert snapshot(tmp_path) == {**before, "a/corpus/x.md": b"# X\n\nA note about x.\n"}

    for name, data, reason in [
        ("notes.exe", b"MZ", "unsupported file type .exe"),
        ("big.md", b"x" * 2000, "file too large"),
        ("empty.md", b"", "empty file"),
        ("zeros.md", b"\0" * 64, "binary file"),
        ("..", b"text", "not a usable file name"),
    ]:
        saved, note = save_upload(name, data, corpus, 1000)
        assert saved is None and reason in note and "refused" in note
    assert sorted(p.name for p in corpus.iterdir()) == ["x.md"]  # no temp files left behind either


def test_settings_endpoint_applies_values_and_never_echoes_the_key(client, ui):
    from ui_server import free_port

    original = ui.assistant.settings
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    try:
        result = client.predict("openai", "", dead, "sk-secret-test", original.ollama_base_url, 3, "bm25",
                                api_name="/settings")
        assert "sk-secret-test" not in repr(result)
        assert "backend **openai**" in result[-1] and "API key set" in result[-1] and "top-k **3**" in result[-1]
        applied = ui.assistant.settings
        assert (applied.backend, applied.openai_base_url, applied.top_k, applied.retrieval_mode) == (
            "openai", dead, 3, "bm25")
        assert applied.openai_api_key.get_secret_value() == "sk-secret-test"

        _box, chat, sources, answer = client.predict("What is inner alignment?", [], api_name="/ask")
        assert "error" in answer and "\n" not in answer["error"]
        assert f"cannot reach {dead}" in answer["error"]
        assert chat[-1]["content"][0]["text"].startswith("⚠️ **Error:**")
        assert "Traceback" not in repr(chat)
    finally:
        ui.assistant.settings = original


def test_pdf_citation_shows_its_page(client, ui, tmp_path):
    from test_load import make_pdf

    paper = tmp_path / "axolotl-report.pdf"
    paper.write_bytes(make_pdf(
        [["Axolotl report", "Introduction to the survey of lake habitats."],
         ["Axolotls in Lake Xochimilco regrow lost limbs within nine weeks."]],
        title="Axolotl report",
    ))
    try:
        assert "added: `axolotl-report.pdf`" in upload(client, paper)
        _box, _chat, sources, answer = client.predict("How quickly do axolotls regrow limbs?", [], api_name="/ask")
        cited = answer["citations"][0]
        assert (cited["source"], cited["page"]) == ("axolotl-report.pdf", 2)
        assert "Axolotl report</b>" in sources and "· page 2" in sources
    finally:
        client.predict(document_id_of(client, "axolotl-report.pdf"), api_name="/remove")
