"""Indexing, incremental re-indexing, crash safety and retrieval on real files with the real model."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import CORPUS, REPO, make_settings
from rag.api import Assistant
from rag.retrieve import lexical_query
from rag.store import IndexMismatchError


def test_corpus_is_indexed_with_structure(indexed_assistant):
    status = indexed_assistant.status()
    assert status["documents"] == 3
    assert status["chunks"] >= 20
    assert status["embed_model"] == "all-MiniLM-L6-v2"
    titles = {record.source: record.title for record in indexed_assistant.documents()}
    assert titles["ai-alignment-starter-pack.md"] == "AI alignment starter pack"
    assert titles["ai-alignment-overview.txt"] == "AI Alignment Overview"


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_specification_gaming_finds_the_overview(indexed_assistant, mode):
    hits = indexed_assistant.search("What is specification gaming?", k=5, mode=mode)
    assert hits[0].passage.source == "ai-alignment-overview.txt"
    assert "Specification gaming" in hits[0].passage.text
    source_text = indexed_assistant.document_text(hits[0].passage.source)
    assert "Specification gaming" in source_text[hits[0].passage.start : hits[0].passage.end]


def test_organisations_table_is_found_whole(indexed_assistant):
    hits = indexed_assistant.search("Which organisations do alignment research and what are their agendas?", k=3)
    table = next(hit for hit in hits if "| Redwood Research |" in hit.passage.text)
    for organisation in ("Anthropic", "DeepMind", "MIRI", "Redwood Research", "ARC"):
        assert organisation in table.passage.text


def test_html_comment_inside_word_is_searchable(indexed_assistant):
    hits = indexed_assistant.search("AI alignment starter pack introduction", k=5, mode="bm25")
    assert any(hit.passage.source == "ai-alignment-starter-pack.md" for hit in hits)
    assert all("<!--" not in hit.passage.text and "<abbr>" not in hit.passage.text for hit in hits)


def test_incremental_reindex_embeds_only_what_changed(fresh_assistant):
    corpus = Path(fresh_assistant.settings.corpus_dir)
    for path in CORPUS.iterdir():
        shutil.copy(path, corpus / path.name)
    (corpus / "copy-of-overview.txt").write_bytes((CORPUS / "ai-alignment-overview.txt").read_bytes())

    first = fresh_assistant.index()
    assert sorted(first.added) == sorted([*os.listdir(CORPUS), "copy-of-overview.txt"])
    overview_chunks = {r.source: r.chunk_count for r in fresh_assistant.documents()}["ai-alignment-overview.txt"]
    assert first.chunks_copied == overview_chunks  # the copy's vectors came from the original
    assert first.chunks_embedded == first.chunks_total - overview_chunks

    again = fresh_assistant.index()
    assert again.chunks_embedded == again.chunks_copied == 0 and not again.added and not again.updated and not again.removed
    assert len(again.unchanged) == 4

    # Same content, new modification time: hashed, recognised, nothing embedded.
    os.utime(corpus / "ai-alignment-overview.txt", ns=(time.time_ns(), time.time_ns()))
    assert fresh_assistant.index().chunks_embedded == 0

    edited = corpus / "ai-alignment-starter-pack.md"
    edited.write_text(edited.read_text() + "\n\n## Zebra appendix\n\nThe quokka benchmark measures zebra alignment.\n")
    changed = fresh_assistant.index()
    assert changed.updated == ["ai-alignment-starter-pack.md"]
    starter_chunks = next(r for r in fresh_assistant.documents() if r.source == edited.name).chunk_count
    assert changed.chunks_embedded == starter_chunks
    assert fresh_assistant.search("quokka benchmark zebra", k=1)[0].passage.source == edited.name

    (corpus / "core-of-the-alignment-problem.md").unlink()
    removed = fresh_assistant.index()
    assert removed.removed == ["core-of-the-alignment-problem.md"] and removed.chunks_embedded == 0
    inner = fresh_assistant.search("inner alignment", 20)
    assert all(hit.passage.source != "core-of-the-alignment-problem.md" for hit in inner)
    # Both copies of the same content stay citable.
    sources = {hit.passage.source for hit in fresh_assistant.search("specification gaming boat race CoastRunners", 10)}
    assert {"ai-alignment-overview.txt", "copy-of-overview.txt"} <= sources


def test_bad_files_are_skipped_with_reasons(fresh_assistant):
    corpus = Path(fresh_assistant.settings.corpus_dir)
    (corpus / "good.md").write_text("# Good\n\nPenguins are flightless birds of the southern hemisphere.\n")
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(bytes(range(256)))
    (corpus / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    fresh_assistant.settings.max_file_mb = 0.001
    (corpus / "huge.txt").write_text("word " * 1000)
    report = fresh_assistant.index()
    reasons = dict(report.skipped)
    assert report.added == ["good.md"]
    assert set(reasons) == {"empty.txt", "binary.txt", "image.png", "huge.txt"}
    assert "too large" in reasons["huge.txt"] and "unsupported" in reasons["image.png"]
    assert all(reason for reason in reasons.values())
    assert fresh_assistant.search("flightless birds", 1)[0].passage.source == "good.md"


def test_changed_settings_are_detected_and_rebuild_fixes_them(fresh_assistant, embedder, tmp_path):
    corpus = Path(fresh_assistant.settings.corpus_dir)
    (corpus / "a.md").write_text("# A\n\nThe capital of France is Paris.\n")
    fresh_assistant.index()

    rechunked = Assistant(make_settings(tmp_path, chunk_tokens=120), embedder=embedder)
    with pytest.raises(IndexMismatchError, match="chunk_tokens"):
        rechunked.search("capital")
    with pytest.raises(IndexMismatchError):
        rechunked.index()
    assert rechunked.index(rebuild=True).added == ["a.md"]
    assert rechunked.search("capital of France", 1)[0].passage.source == "a.md"


def test_other_embedding_model_is_detected(fresh_assistant, tmp_path):
    from rag.embed import default_model_path

    (Path(fresh_assistant.settings.corpus_dir) / "a.md").write_text("# A\n\nOwls hunt at night.\n")
    fresh_assistant.index()
    other_model = tmp_path / "other-minilm"
    shutil.copytree(default_model_path(), other_model)
    other = Assistant(make_settings(tmp_path, embed_model=str(other_model)))
    with pytest.raises(IndexMismatchError, match="embed_model 'all-MiniLM-L6-v2'"):
        other.search("owls")


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import rag.dense_index, rag.lexical_index
    from rag.api import Assistant
    from rag.config import load_settings

    stage = sys.argv[1]

    def pause(marker):
        print(marker, flush=True)
        time.sleep(120)

    catch_up, write_base = rag.lexical_index.catch_up, rag.dense_index.write_base

    def pause_before_lexical(*args):  # the change is committed in SQLite, tantivy not yet updated
        pause("LEXICAL")

    def pause_after_base_written(*args):  # a compaction's files are written, not yet committed
        write_base(*args)
        pause("COMPACTION")

    if stage == "lexical":
        rag.lexical_index.catch_up = pause_before_lexical
    if stage == "compaction":
        rag.dense_index.write_base = pause_after_base_written

    def progress(fraction, message):
        if stage == "embedding" and message.startswith("embedded"):
            pause("EMBEDDING")

    Assistant(load_settings(embed_runtime="torch")).index(progress=progress)
    """
)


@pytest.mark.parametrize("stage", ["embedding", "lexical", "compaction"])
def test_kill_during_indexing_leaves_the_last_committed_index_and_the_next_run_completes_it(
    fresh_assistant, tmp_path, stage
):
    corpus = Path(fresh_assistant.settings.corpus_dir)
    (corpus / "first.md").write_text("# First\n\nThe okapi is a giraffid native to the Congo.\n")
    fresh_assistant.index()
    before = [hit.to_dict() for hit in fresh_assistant.search("okapi", 3)]
    meta = fresh_assistant.store.meta()

    (corpus / "first.md").write_text("# First\n\nRewritten: nothing about that animal any more.\n")
    (corpus / "second.md").write_text("# Second\n\nThe axolotl is a salamander that keeps its gills.\n")
    env = {**os.environ, "RAG_CORPUS_DIR": str(corpus), "RAG_INDEX_DIR": str(fresh_assistant.settings.index_dir)}
    child = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, stage], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        deadline = time.time() + 300
        line = ""
        while stage.upper() not in line and time.time() < deadline:
            line = child.stdout.readline()
            assert line or child.poll() is None, "indexing process ended before reaching the kill point"
        assert stage.upper() in line
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()

    survivor = Assistant(fresh_assistant.settings, embedder=fresh_assistant.embedder)
    if stage == "embedding":  # nothing committed: the previous index answers, the next run does all the work
        assert survivor.status()["generation"] == int(meta["generation"])
        assert [r.source for r in survivor.documents()] == ["first.md"]
        assert [hit.to_dict() for hit in survivor.search("okapi", 3)] == before
        report = survivor.index()
        assert report.added == ["second.md"] and report.updated == ["first.md"]
    else:  # the change committed before the kill: it answers in full, lexical caught up on opening
        assert survivor.status()["generation"] == int(meta["generation"]) + 1
        assert survivor.store.meta()["dense_base"] == meta["dense_base"]  # the cut-short compaction did not count
        assert [r.source for r in survivor.documents()] == ["first.md", "second.md"]
        for mode in ("dense", "bm25", "hybrid"):
            assert survivor.search("axolotl gills", 1, mode)[0].passage.source == "second.md"
        assert all("okapi" not in hit.passage.text for hit in survivor.search("okapi giraffid", 3, "bm25"))
        report = survivor.index()
        assert not report.added and not report.updated and report.chunks_embedded == 0
        assert survivor.store.meta()["dense_base"] != meta["dense_base"]  # the next run compacted
    assert survivor.search("axolotl gills", 1)[0].passage.source == "second.md"
    assert sorted(path.name for path in Path(fresh_assistant.settings.index_dir).glob("dense-*")) == [
        f"dense-{survivor.store.meta()['dense_base']}.faiss"
    ]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "RAG_EMBED_RUNTIME": "torch"}
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_cli_index_search_status(tmp_path):
    shutil.copytree(CORPUS, tmp_path / "corpus")
    indexed = run_cli("index", "--json", cwd=tmp_path)
    assert indexed.returncode == 0, indexed.stderr
    assert len(json.loads(indexed.stdout)["added"]) == 3

    found = run_cli("search", "What is specification gaming?", "--json", "-k", "3", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert set(hits[0]) == {"source", "title", "section", "text", "score", "start", "end", "page", "code"}
    assert hits[0]["source"] == "ai-alignment-overview.txt"

    status = json.loads(run_cli("status", "--json", cwd=tmp_path).stdout)
    assert status["documents"] == 3 and status["chunks"] > 0 and status["last_indexed"]


def test_cli_reports_user_mistakes_without_traceback(tmp_path):
    missing = run_cli("eval-retrieval", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.startswith("error:") and "Traceback" not in missing.stderr
    bad_k = run_cli("search", "x", "-k", "0", cwd=tmp_path)
    assert bad_k.returncode == 2 and "Traceback" not in bad_k.stderr


def test_hybrid_fuses_normalised_scores():
    from rag.retrieve import score_fusion

    dense = [(1, 0.9), (2, 0.5), (3, 0.1)]
    lexical = [(3, 12.0), (4, 6.0), (1, 0.0)]
    units = [(2, 0.8), (1, 0.4)]
    fused = dict(score_fusion([(dense, 0.5), (lexical, 0.5)], k=10))
    assert fused == pytest.approx({1: 0.5, 2: 0.25, 3: 0.5, 4: 0.25})
    assert [row for row, _ in score_fusion([(dense, 0.8), (lexical, 0.2)], k=2)] == [1, 2]
    # a chunk whose best sentence is nearest the query climbs: 2 is first once the unit score counts
    fused = dict(score_fusion([(dense, 0.3), (lexical, 0.4), (units, 0.3)], k=10))
    assert fused == pytest.approx({1: 0.3, 2: 0.15 + 0.3, 3: 0.4, 4: 0.2})
    assert max(fused, key=fused.get) == 2



@pytest.mark.parametrize(("query", "source"), [
    ("Does 2 ** 3 ** 2 mean (2 ** 3) ** 2?", "precedence.md"),
    ("With plain ints ~4 is -5, so what do I get from ~Perm.R?", "flags.md"),
    ("Why is p1 == p2 False although their x and y match?", "identity.md"),
    ("Why are my dicts unhashable?", "mutable.md"),
    ("My help text sits between ''' marks; must I escape a ' inside it?", "quoting.md"),
    ("Can I await inside f'{await fetch()}'?", "formatting.md"),
    ("Does backup = rows[:] duplicate the inner lists?", "sequences.md"),
    ("Does y = cached() if ok else fetch() run fetch?", "choices.md"),
])
def test_bm25_searches_the_words_for_the_operators_and_shorthand_a_query_writes(fresh_assistant, query, source):
    # BM25's tokenizer keeps words only: the operator or notation is searched by the name the pages give it, and
    # shorthand ("dicts") by the word the pages spell out.
    corpus = fresh_assistant.settings.corpus_dir
    (corpus / "precedence.md").write_text("# Precedence\n\nOperators in the same box group left to right, except "
                                          "for exponentiation, which groups from right to left.\n")
    (corpus / "flags.md").write_text("# Flags\n\nInverting a flag member returns the positive value that holds "
                                     "all the other flags.\n")
    (corpus / "identity.md").write_text("# Objects\n\nThe default equality comparison of objects is based on "
                                        "their identity.\n")
    (corpus / "mutable.md").write_text("# Keys\n\nDictionaries are mutable, so they cannot be keys of other "
                                       "dictionaries.\n")
    (corpus / "quoting.md").write_text("# Quoting\n\nIn triple-quoted literals, unescaped newlines are allowed.\n")
    (corpus / "formatting.md").write_text("# Formatting\n\nFormatted string literals may hold any expression.\n")
    (corpus / "sequences.md").write_text("# Sequences\n\nSlicing returns a new, shallow object.\n")
    (corpus / "choices.md").write_text("# Choices\n\nThe conditional expression evaluates its condition first.\n")
    (corpus / "averages.md").write_text("# Averages\n\nThe mean of 2, 3 and 4 is 3; with plain ints the "
                                        "mean of 4 and 5 is what you get from 9 / 2.\n")
    fresh_assistant.index()
    hits = fresh_assistant.search(query, k=5, mode="bm25")
    assert source in [hit.passage.source for hit in hits]
    usage = "usage: prog.py [-v | -q] x; from config import dir; def f(*args, **kwargs)"
    # an option list is no "|" between operands, nor is a module imported shorthand
    assert lexical_query(usage) == f"{usage} double star arguments"


def next_report(child: subprocess.Popen, seconds: float = 300) -> dict:
    """The next JSON report line ``rag index --watch --json`` prints (fails instead of hanging)."""
    ready, _, _ = select.select([child.stdout], [], [], seconds)
    assert ready and child.poll() is None, "the watching process printed no report"
    return json.loads(child.stdout.readline())


def test_index_watch_picks_up_files_that_appear_change_and_disappear(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("# Owls\n\nOwls hunt at night.\n")
    env = {**os.environ, "RAG_EMBED_RUNTIME": "torch", "RAG_WATCH_POLL_SECONDS": "0.2",
           "RAG_WATCH_SETTLE_SECONDS": "0.3"}
    child = subprocess.Popen([sys.executable, "-m", "rag.cli", "index", "--watch", "--json"], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert next_report(child)["added"] == ["a.md"]
        (corpus / "b.md").write_text("# Bats\n\nBats navigate by echolocation.\n")
        assert next_report(child)["added"] == ["b.md"]
        assistant = Assistant(make_settings(tmp_path), embedder=embedder)
        assert assistant.search("echolocation", 1)[0].passage.source == "b.md"

        (corpus / "b.md").write_text("# Bats\n\nBats roost in caves by day.\n")
        assert next_report(child)["updated"] == ["b.md"]
        assert assistant.search("roost in caves", 1, "bm25")[0].passage.source == "b.md"
        (corpus / "a.md").unlink()
        assert next_report(child)["removed"] == ["a.md"]
        assert all(hit.passage.source != "a.md" for hit in assistant.search("owls hunt at night", 5))
    finally:
        child.kill()
        child.wait()
