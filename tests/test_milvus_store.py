"""The Milvus store on a real milvus-lite engine: index, search and cite; update and delete files; a change that
fails stays invisible; signature mismatch; a server that is down; `rag migrate --to milvus`.

Only behaviour is asserted, never milvus-lite's known differences from a Milvus cluster (no stemming analyzer,
negative BM25 scores, per-segment IDF, latency)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from rag.api import Assistant, document_id
from rag.cli import main
from rag.migrate import migrate_index
from rag.milvus_store import MilvusStore, MilvusUnavailableError
from rag.store import IndexMismatchError

from conftest import REPO, make_settings


def milvus_assistant(tmp_path, embedder, **overrides) -> Assistant:
    (tmp_path / "corpus").mkdir(exist_ok=True)
    overrides = {"store": "milvus", "milvus_uri": str(tmp_path / "milvus.db"), **overrides}
    return Assistant(make_settings(tmp_path, **overrides), embedder=embedder)


def write(assistant: Assistant, name: str, text: str) -> None:
    (assistant.settings.corpus_dir / name).write_text(text, encoding="utf-8")


ORCHARD = "# Orchard notes\n\nThe orchard grows Bramley apples. Harvest starts in late September every year.\n"
HIVES = "# Beekeeping\n\nThe hives stand by the east wall. The beekeeper checks the queens every spring.\n"


def sources(hits) -> set[str]:
    return {hit.passage.source for hit in hits}


def test_index_search_and_answer_with_citations(milvus_corpus_assistant):
    assistant = milvus_corpus_assistant
    status = assistant.status()
    assert status["store"].startswith("the Milvus index rag_* at ")
    assert status["documents"] == 3 and status["chunks"] > 3 and status["generation"] >= 1
    for mode in ("dense", "bm25", "hybrid"):
        hits = assistant.search("What is specification gaming?", 5, mode)
        assert hits and hits[0].passage.source == "ai-alignment-overview.txt", mode
    chunk_ids = [hit.passage.id for hit in assistant.search("What is specification gaming?", 5)]
    assert assistant.store.unit_vectors(chunk_ids)  # answer units stored with the chunks (migrated from local)
    events = list(assistant.ask("Which organisation works on causal scrubbing?", backend="extractive"))
    answer = events[-1].answer
    assert answer.grounded and "Redwood Research" in answer.answer
    assert all(c.supported for c in answer.citations) and answer.citations[0].passage.source == "ai-alignment-overview.txt"


def test_search_within_chosen_documents(milvus_corpus_assistant):
    assistant = milvus_corpus_assistant
    chosen = next(r for r in assistant.documents() if r.source == "core-of-the-alignment-problem.md")
    for mode in ("dense", "bm25", "hybrid"):
        hits = assistant.search("What is specification gaming?", 5, mode, documents=[document_id(chosen)])
        assert hits and sources(hits) == {"core-of-the-alignment-problem.md"}, mode


def test_update_delete_and_reindex_follow_the_files(tmp_path, embedder):
    assistant = milvus_assistant(tmp_path, embedder)
    write(assistant, "orchard.md", ORCHARD)
    write(assistant, "hives.md", HIVES)
    assert sorted(assistant.index().added) == ["hives.md", "orchard.md"]
    assert "orchard.md" in sources(assistant.search("When does the apple harvest start?", 1))

    write(assistant, "orchard.md", ORCHARD.replace("Bramley apples", "Conference pears"))
    report = assistant.index()
    assert report.updated == ["orchard.md"] and report.unchanged == ["hives.md"]
    top = assistant.search("Which pears grow in the orchard?", 1)[0].passage
    assert top.source == "orchard.md" and "Conference pears" in top.text
    assert all("Bramley" not in hit.passage.text for hit in assistant.search("Bramley apples", 10, "bm25"))

    (assistant.settings.corpus_dir / "hives.md").unlink()
    assert assistant.index().removed == ["hives.md"]
    assert [r.source for r in assistant.documents()] == ["orchard.md"]
    assert "hives.md" not in sources(assistant.search("Where do the hives stand?", 10))
    documents, chunks = assistant.store.counts()
    assert documents == 1 and chunks == sum(r.chunk_count for r in assistant.documents())
    # Replaced and removed rows are deleted, not only hidden.
    store = assistant.store
    assert store.milvus.count(store.chunk_collection, "gen >= 0") == chunks

    # A second client on the same Milvus (another machine) sees the same index.
    other = MilvusStore(assistant.settings)
    assert [r.source for r in other.documents()] == ["orchard.md"] and other.generation == store.generation


def test_a_failed_change_stays_invisible_and_is_cleaned_up(tmp_path, embedder):
    assistant = milvus_assistant(tmp_path, embedder)
    write(assistant, "orchard.md", ORCHARD)
    assistant.index()
    store, before = assistant.store, assistant.store.counts()
    content = None
    with pytest.raises(RuntimeError, match="cut off"):
        with store.writer(assistant.signature(), 10_000) as writer:
            content = writer.find_content(store.documents()[0].content_hash, ".md")
            writer.remove(str(assistant.settings.corpus_dir), "orchard.md")
            writer.put(str(assistant.settings.corpus_dir), "copy.md", "x" * 64, 1, 1, content.title, content.metadata,
                       content.text, content.chunks, content.vectors)
            raise RuntimeError("cut off")
    assert store.counts() == before and [r.source for r in store.documents()] == ["orchard.md"]
    assert "orchard.md" in sources(assistant.search("When does the apple harvest start?", 1))
    with store.writer(assistant.signature(), 10_000):  # the next writer deletes the uncommitted rows
        pass
    assert store.milvus.count(store.chunk_collection, "gen >= 0") == before[1]


def test_other_embedding_or_chunk_settings_are_refused(tmp_path, embedder):
    assistant = milvus_assistant(tmp_path, embedder)
    write(assistant, "orchard.md", ORCHARD)
    assistant.index()
    other = milvus_assistant(tmp_path, embedder, chunk_tokens=120)
    with pytest.raises(IndexMismatchError, match="chunk_tokens '200' \\(now '120'\\)"):
        other.search("apples")
    with pytest.raises(IndexMismatchError):
        other.index()
    assert not other.index_ready() and "rebuild" in other.status()["warning"]
    assert other.index(rebuild=True).added == ["orchard.md"]
    assert other.search("When does the apple harvest start?", 1)[0].passage.source == "orchard.md"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_server_that_is_down_is_one_error_line(tmp_path, embedder):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "milvus_lite.cmdline", "server", "--data-dir", str(tmp_path / "data"),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assistant = milvus_assistant(tmp_path, embedder, milvus_uri=uri)
                break
            except MilvusUnavailableError:
                assert time.monotonic() < deadline and server.poll() is None, "milvus-lite server did not start"
                time.sleep(0.5)
        write(assistant, "orchard.md", ORCHARD)
        assistant.index()
        assert assistant.search("When does the apple harvest start?", 1)[0].passage.source == "orchard.md"
    finally:
        server.terminate()
        server.wait(30)

    with pytest.raises(MilvusUnavailableError, match=f"Milvus at {uri} \\(setting milvus_uri\\) cannot be used"):
        assistant.search("When does the apple harvest start?", 1)
    env = {**os.environ, "RAG_STORE": "milvus", "RAG_MILVUS_URI": uri, "RAG_INDEX_DIR": str(tmp_path / "index")}
    cli = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "When does the harvest start?"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 2 and "Traceback" not in cli.stderr
    lines = [line for line in cli.stderr.splitlines() if line.startswith("error:")]
    assert lines == [f"error: Milvus at {uri} (setting milvus_uri) cannot be used: " + lines[0].split(": ", 2)[2]]


def test_migrate_copies_the_local_index_without_embedding(tmp_path, embedder, capsys, monkeypatch):
    local = Assistant(make_settings(tmp_path), embedder=embedder)
    (tmp_path / "corpus").mkdir()
    write(local, "orchard.md", ORCHARD)
    write(local, "hives.md", HIVES)
    local.index()
    settings = make_settings(tmp_path, store="milvus", milvus_uri=str(tmp_path / "milvus.db"))

    report = migrate_index(settings, "milvus")
    assert sorted(report.copied) == ["hives.md", "orchard.md"] and not report.unchanged
    milvus = Assistant(settings, embedder=embedder)
    assert milvus.store.counts() == local.store.counts()
    assert [(r.source, r.content_hash, r.chunk_count) for r in milvus.documents()] == [
        (r.source, r.content_hash, r.chunk_count) for r in local.documents()]
    for record in local.documents():
        ours = local.store.vectors_of(local.store.chunk_ids_of([(record.root, record.source)]))[1]
        theirs = milvus.store.vectors_of(milvus.store.chunk_ids_of([(record.root, record.source)]))[1]
        np.testing.assert_allclose(theirs, ours, atol=1e-6)
        assert milvus.document(document_id(record))[1] == local.document(document_id(record))[1]
    for mode in ("dense", "bm25", "hybrid"):
        assert milvus.search("Where do the hives stand?", 1, mode)[0].passage.source == "hives.md"

    # Again through the CLI: nothing to copy. Then a changed file is copied again, alone.
    monkeypatch.setenv("RAG_STORE", "milvus")
    monkeypatch.setenv("RAG_MILVUS_URI", settings.milvus_uri)
    assert main(["migrate", "--to", "milvus", "--index-dir", str(settings.index_dir)]) == 0
    assert "copied 0 documents (0 chunks), 2 already there" in capsys.readouterr().out
    write(local, "hives.md", HIVES.replace("east wall", "north gate"))
    local.index()
    again = migrate_index(settings, "milvus")
    assert again.copied == ["hives.md"] and again.unchanged == ["orchard.md"]
    assert "north gate" in milvus.search("Where do the hives stand?", 1)[0].passage.text


def test_collections_on_milvus_keep_their_own_milvus_collections(tmp_path, embedder):
    assistant = milvus_assistant(tmp_path, embedder)
    write(assistant, "orchard.md", ORCHARD)
    assistant.index()
    assistant.create_collection("bee-keeping")
    bees = assistant.collection("bee-keeping")
    write(bees, "hives.md", HIVES)
    bees.index()
    assert sources(bees.search("Where do the hives stand?", 5)) == {"hives.md"}
    assert sources(assistant.search("Where do the hives stand?", 5)) == {"orchard.md"}
    answer = list(bees.ask("Where do the hives stand?", backend="extractive"))[-1].answer
    assert answer.grounded and "east wall" in answer.answer

    milvus = bees.store.milvus
    own = {"rag_c_bee_dkeeping_chunks", "rag_c_bee_dkeeping_documents", "rag_c_bee_dkeeping_meta"}
    assert own <= set(milvus.list_collections())
    assistant.remove_collection("bee-keeping")
    left = set(assistant.store.milvus.list_collections())
    assert not own & left and "rag_chunks" in left
    assert sources(assistant.search("When does the apple harvest start?", 1)) == {"orchard.md"}
