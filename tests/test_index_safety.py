"""One writer at a time across processes, checkpoints that survive a kill, schema versions, stale model exports.

Kill and lock tests run real `python -m rag.cli` processes against a temp index (torch backend for startup speed).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rag.api import Assistant
from rag.store import DB_NAME, SCHEMA_VERSION, StoreError

NOTE_COUNT = 60


def cli_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {**os.environ, "RAG_EMBED_RUNTIME": "torch", "RAG_CORPUS_DIR": str(tmp_path / "corpus"),
           "RAG_INDEX_DIR": str(tmp_path / "index")}
    return env | {f"RAG_{key.upper()}": value for key, value in settings.items()}


def cli(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], cwd=tmp_path, env=cli_env(tmp_path, **settings),
                          capture_output=True, text=True, timeout=600)


def read_until(stream, marker: str, child: subprocess.Popen) -> str:
    """Lines of ``stream`` up to the one holding ``marker`` (the child must not end first)."""
    seen = ""
    deadline = time.monotonic() + 300
    while marker not in seen and time.monotonic() < deadline:
        line = stream.readline()
        assert line or child.poll() is None, f"process ended before {marker!r}: {seen}"
        seen += line
    assert marker in seen
    return seen


HOLD_LOCK = textwrap.dedent(
    """
    import sys
    from rag.store import Store

    with Store(sys.argv[1]).index_lock():
        print("LOCKED", flush=True)
        sys.stdin.readline()
    """
)


def test_second_index_run_waits_for_the_first_or_fails_with_no_wait(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.md").write_text("# Okapi\n\nThe okapi is a giraffid native to the Congo.\n")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path / "index")], cwd=tmp_path,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        read_until(holder.stdout, "LOCKED", holder)
        busy = cli(tmp_path, "index", "--no-wait")
        assert busy.returncode == 2
        assert busy.stderr == f"error: another index run (pid {holder.pid}) is in progress\n"

        waiter = subprocess.Popen([sys.executable, "-m", "rag.cli", "index", "--json"], cwd=tmp_path,
                                  env=cli_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            waiting = read_until(waiter.stderr, "waiting…", waiter)
            assert f"another index run (pid {holder.pid}) is in progress; waiting…" in waiting
            assert waiter.poll() is None
            holder.stdin.write("release\n")
            holder.stdin.flush()
            out, err = waiter.communicate(timeout=300)
        finally:
            waiter.kill()
        assert waiter.returncode == 0, err
        assert json.loads(out)["added"] == ["a.md"]
        assert "database is locked" not in err and "Traceback" not in err
    finally:
        holder.kill()
        holder.wait()


STOP_AFTER_A_CHECKPOINT = textwrap.dedent(
    """
    import time
    from rag.api import Assistant

    saved = False

    def progress(fraction, message):
        global saved
        if message.startswith("checkpoint"):
            saved = True
        elif saved and message.startswith("embedded"):  # more work done since the checkpoint, not committed
            print("KILL_ME", flush=True)
            time.sleep(600)

    Assistant().index(progress=progress)
    """
)


def test_killed_run_keeps_its_checkpoints_and_the_next_run_embeds_only_the_rest(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for number in range(NOTE_COUNT):  # a unique code word to find each by
        (corpus / f"note-{number:03d}.md").write_text(f"# Note {number}\n\nField note {number} records codeword "
                                                      f"zq{number:03d}x for the survey.\n")
    child = subprocess.Popen([sys.executable, "-c", STOP_AFTER_A_CHECKPOINT], cwd=tmp_path,
                             env=cli_env(tmp_path, checkpoint_documents="10"), stdout=subprocess.PIPE, text=True)
    try:
        read_until(child.stdout, "KILL_ME", child)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL

    from conftest import make_settings

    between = Assistant(make_settings(tmp_path), embedder=embedder)
    committed = sorted(record.source for record in between.documents())
    assert 0 < len(committed) < NOTE_COUNT
    assert committed == [f"note-{number:03d}.md" for number in range(len(committed))]  # files go in path order
    assert between.search("zq000x", 1, mode="bm25")[0].passage.source == "note-000.md"  # the checkpoint is searchable
    assert between.search(f"zq{NOTE_COUNT - 1:03d}x", 1, mode="bm25") == []
    committed_chunks = between.status()["chunks"]

    resumed = cli(tmp_path, "index", "--json")
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["chunks_embedded"] == report["chunks_total"] - committed_chunks  # only what was not committed
    assert report["chunks_total"] % NOTE_COUNT == 0 and report["chunks_embedded"] > 0
    assert len(report["added"]) == NOTE_COUNT - len(committed) and len(report["unchanged"]) == len(committed)
    assert report["documents_total"] == NOTE_COUNT
    last = f"note-{NOTE_COUNT - 1:03d}.md"
    assert between.search(f"zq{NOTE_COUNT - 1:03d}x", 1, mode="bm25")[0].passage.source == last


# What layouts before 5 lacked: the answer units' vectors.
NO_UNIT_VECTORS = ("DROP INDEX chunks_without_unit_vectors", "ALTER TABLE chunks DROP COLUMN unit_vectors")


def set_schema(index_dir: Path, version: str, *statements: str) -> None:
    """Make the index look as another version of rag left it."""
    db = sqlite3.connect(index_dir / DB_NAME)
    with db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (version,))
        for statement in statements:
            db.execute(statement)
    db.close()


@pytest.fixture
def small_index(fresh_assistant):
    (Path(fresh_assistant.settings.corpus_dir) / "a.md").write_text("# Owls\n\nOwls hunt at night.\n")
    fresh_assistant.index()
    return fresh_assistant


@pytest.mark.parametrize("version,maker", [("99", "a newer version of rag"), ("0", "an older version of rag")])
def test_incompatible_schema_is_refused_in_one_line_and_rebuild_fixes_it(small_index, tmp_path, version, maker):
    index_dir = Path(small_index.settings.index_dir)
    set_schema(index_dir, version)
    with pytest.raises(StoreError, match=f"layout version {version}, made by {maker}"):
        Assistant(small_index.settings, embedder=small_index.embedder).status()

    status = cli(tmp_path, "status")
    assert status.returncode == 2
    assert status.stderr == (
        f"error: the index in {index_dir} has layout version {version}, made by {maker}; this version reads "
        f"layout {SCHEMA_VERSION}: rebuild it with `rag index --rebuild`\n"
    )
    assert cli(tmp_path, "search", "owls").returncode == 2

    rebuilt = cli(tmp_path, "index", "--rebuild", "--json")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads(rebuilt.stdout)["added"] == ["a.md"]
    assert Assistant(small_index.settings, embedder=small_index.embedder).search("owls", 1)[0].passage.source == "a.md"


def test_additive_schema_change_migrates_without_reindexing(small_index):
    index_dir = Path(small_index.settings.index_dir)
    # Layout 1 had neither the source index nor the chunks' code column (layout 4) nor their unit vectors (5).
    set_schema(index_dir, "1", "DROP INDEX documents_by_source", "ALTER TABLE chunks DROP COLUMN code", *NO_UNIT_VECTORS)
    reopened = Assistant(small_index.settings, embedder=small_index.embedder)
    assert reopened.search("owls", 1)[0].passage.source == "a.md"
    assert reopened.search("owls", 1)[0].passage.code == ""  # migrated chunks mark no code
    assert reopened.store.meta()["schema"] == str(SCHEMA_VERSION)
    db = sqlite3.connect(index_dir / DB_NAME)
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'documents_by_source'").fetchone()
    db.close()
    assert reopened.index().chunks_embedded == 0


def test_layout_2_index_migrates_keeping_its_vectors_and_building_the_lexical_index(small_index):
    """Layout 2 kept whole FAISS and bm25s files per generation: its FAISS file becomes the dense base,
    the tantivy index is built from the store on opening, and nothing is embedded again."""
    index_dir = Path(small_index.settings.index_dir)
    generation = small_index.store.meta()["generation"]
    assert small_index.store.meta()["dense_base"] == generation  # as layout 2 named its files
    set_schema(index_dir, "2", "DROP TRIGGER chunks_logged_insert", "DROP TRIGGER chunks_logged_delete",
               "DROP TABLE lexical_log", "DELETE FROM meta WHERE key = 'dense_base'", "ALTER TABLE chunks DROP COLUMN code",
               *NO_UNIT_VECTORS)
    shutil.rmtree(index_dir / "lexical")
    (index_dir / f"bm25-{generation}").mkdir()
    (index_dir / f"bm25-{generation}" / "data.csc.index.npy").write_bytes(b"\0" * 64)

    reopened = Assistant(small_index.settings, embedder=small_index.embedder)
    for mode in ("bm25", "dense", "hybrid"):
        assert reopened.search("owls hunting", 1, mode)[0].passage.source == "a.md"
    meta = reopened.store.meta()
    assert meta["schema"] == str(SCHEMA_VERSION) and meta["dense_base"] == generation
    (Path(small_index.settings.corpus_dir) / "b.md").write_text("# Bats\n\nBats navigate by echolocation.\n")
    report = reopened.index()
    new_chunks = {record.source: record.chunk_count for record in reopened.documents()}["b.md"]
    assert report.added == ["b.md"] and report.chunks_embedded == new_chunks  # a.md's vectors were kept
    assert reopened.search("echolocation", 1, "bm25")[0].passage.source == "b.md"
    assert not (index_dir / f"bm25-{generation}").exists()


def test_damaged_lexical_index_is_refused_clearly_and_the_next_run_rebuilds_it(small_index):
    index_dir = Path(small_index.settings.index_dir)
    (index_dir / "lexical" / "meta.json").write_text("not tantivy")
    with pytest.raises(StoreError, match="is damaged"):
        Assistant(small_index.settings, embedder=small_index.embedder).search("owls", 1, "bm25")
    report = small_index.index()  # nothing changed on disk: only the lexical index is built again
    assert report.chunks_embedded == 0 and not report.added
    reopened = Assistant(small_index.settings, embedder=small_index.embedder)
    assert reopened.search("owls hunting", 1, "bm25")[0].passage.source == "a.md"


def test_interrupted_model_exports_are_removed_and_not_counted(small_index):
    models = Path(small_index.settings.index_dir) / "models"
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()  # its pid belongs to no process now
    dead = models / f".export-{ended.pid}-x1"
    running = models / f".export-{os.getpid()}-x2"  # this process is alive: an export in progress
    legacy = models / ".export-x3"  # no owner pid recorded: removed once old
    for folder in (dead, running, legacy):
        folder.mkdir(parents=True)
        (folder / "model.onnx").write_bytes(b"\0" * 1_000_000)
    hour_ago = time.time() - 3600
    os.utime(legacy, (hour_ago, hour_ago))

    started = Assistant(small_index.settings, embedder=small_index.embedder)
    assert not dead.exists() and not legacy.exists() and running.exists()
    status = started.status()
    visible = sum(path.stat().st_size for path in Path(small_index.settings.index_dir).rglob("*")
                  if path.is_file() and ".export-" not in str(path))
    assert status["index_bytes"] == visible
