"""Correctness of what makes large indexes fast: the approximate dense index, incremental updates, content reuse.

Speed itself is measured in bench/scale.py, never asserted here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import faiss
import numpy as np
import pytest

from conftest import CORPUS, make_settings
from rag.api import Assistant

QUESTIONS = [
    "What is specification gaming?",
    "Which organisations do alignment research and what are their agendas?",
    "What is inner alignment and mesa-optimization?",
    "Why is reward hacking a problem for reinforcement learning?",
    "How does the pointers problem relate to outer alignment?",
    "What is deceptive alignment?",
]


@pytest.fixture(scope="module")
def hnsw_assistant(tmp_path_factory, embedder):
    """A real index of corpus/ with a threshold so low that it must use the approximate index."""
    tmp = tmp_path_factory.mktemp("hnsw-index")
    shutil.copytree(CORPUS, tmp / "corpus")
    assistant = Assistant(make_settings(tmp, exact_search_max_chunks=5), embedder=embedder)
    assistant.index()
    return assistant


def test_index_past_the_threshold_records_and_loads_hnsw(hnsw_assistant):
    status = hnsw_assistant.status()
    assert status["chunks"] > 5
    assert status["dense_index"] == "hnsw"
    assert isinstance(hnsw_assistant.retriever.artifacts.dense.base.index, faiss.IndexHNSW)


def test_hnsw_agrees_with_exact_search(hnsw_assistant, corpus_assistant):
    dense = hnsw_assistant.retriever.artifacts.dense.base.index
    vectors = dense.reconstruct_n(0, dense.ntotal)
    found = total = 0
    for question in QUESTIONS:
        query = hnsw_assistant.embedder.encode_query(question)
        exact = np.argsort(-(vectors @ query), kind="stable")[:10]
        _, approximate = dense.search(query.reshape(1, -1), 10)
        found += len(set(exact.tolist()) & set(approximate[0].tolist()))
        total += len(exact)
        hnsw_top = hnsw_assistant.search(question, k=1, mode="dense")[0].passage
        flat_top = corpus_assistant.search(question, k=1, mode="dense")[0].passage
        assert (hnsw_top.source, hnsw_top.start, hnsw_top.end) == (flat_top.source, flat_top.start, flat_top.end)
    assert found / total >= 0.9
    assert corpus_assistant.status()["dense_index"] == "flat"


def test_hybrid_search_over_hnsw_finds_the_answer(hnsw_assistant):
    hits = hnsw_assistant.search("What is specification gaming?", k=5, mode="hybrid")
    assert hits[0].passage.source == "ai-alignment-overview.txt" and "Specification gaming" in hits[0].passage.text


NOTES = 60


def write_notes(corpus: Path, numbers) -> None:
    for number in numbers:
        (corpus / f"note-{number:03d}.md").write_text(
            f"# Field note {number}\n\nSurvey {number} counted {number % 7} okapis near river {number % 11}; "
            f"codeword zq{number:03d}x.\n"
        )


def top10(assistant: Assistant, mode: str) -> list[set[tuple[str, int, int]]]:
    queries = QUESTIONS + [f"okapis near river {n}" for n in range(11)] + ["codeword zq007x", "zq900x survey"]
    return [{(h.passage.source, h.passage.start, h.passage.end) for h in assistant.search(q, 10, mode)} for q in queries]


def test_incremental_changes_search_like_a_full_rebuild(tmp_path, embedder):
    """Adds, changes and removals applied in place (dense delta and tombstones, tantivy deletes and adds)
    answer as an index built from scratch over the same files does."""
    living = tmp_path / "living"
    shutil.copytree(CORPUS, living / "corpus")
    write_notes(living / "corpus", range(NOTES))
    assistant = Assistant(make_settings(living, exact_search_max_chunks=50), embedder=embedder)
    assistant.index()
    base_generation = assistant.store.meta()["dense_base"]

    corpus = living / "corpus"
    (corpus / "note-003.md").unlink()
    (corpus / "note-004.md").unlink()
    write_notes(corpus, [900, 901])  # added
    (corpus / "note-010.md").write_text("# Field note 10\n\nRewritten: the survey moved to the zebra plains.\n")
    report = assistant.index()
    assert sorted(report.removed) == ["note-003.md", "note-004.md"] and report.updated == ["note-010.md"]

    dense = assistant.retriever.artifacts.dense
    assert assistant.store.meta()["dense_base"] == base_generation  # no compaction: the change went in place
    assert len(dense.tombstones) > 0 and len(dense.delta_ids) > 0 and dense.kind == "hnsw"

    rebuilt_dir = tmp_path / "rebuilt"
    shutil.copytree(corpus, rebuilt_dir / "corpus")
    rebuilt = Assistant(make_settings(rebuilt_dir, exact_search_max_chunks=50), embedder=embedder)
    rebuilt.index()
    assert len(assistant.retriever.artifacts) == len(rebuilt.retriever.artifacts) == rebuilt.status()["chunks"]
    for mode in ("dense", "bm25", "hybrid"):
        ours, theirs = top10(assistant, mode), top10(rebuilt, mode)
        overlap = sum(len(a & b) for a, b in zip(ours, theirs)) / sum(len(b) for b in theirs)
        assert overlap >= 0.95, mode
    assert assistant.search("codeword zq900x", 1, "bm25")[0].passage.source == "note-900.md"
    assert all(hit.passage.source not in ("note-003.md", "note-004.md") for hit in assistant.search("zq003x zq004x", 10))
    assert assistant.search("zebra plains survey", 1)[0].passage.source == "note-010.md"


def test_copies_reuse_vectors_and_stay_separate_documents(fresh_assistant):
    corpus = Path(fresh_assistant.settings.corpus_dir)
    shutil.copy(CORPUS / "ai-alignment-overview.txt", corpus / "overview.txt")
    first = fresh_assistant.index()
    assert first.chunks_copied == 0

    (corpus / "archive").mkdir()
    shutil.copy(CORPUS / "ai-alignment-overview.txt", corpus / "archive" / "overview.txt")
    shutil.copy(CORPUS / "ai-alignment-overview.txt", corpus / "overview.md")  # other suffix: loaded as markdown
    second = fresh_assistant.index()
    assert sorted(second.added) == ["archive/overview.txt", "overview.md"]
    overview_chunks = {r.source: r.chunk_count for r in fresh_assistant.documents()}
    assert second.chunks_copied == overview_chunks["archive/overview.txt"] == overview_chunks["overview.txt"]
    assert second.chunks_embedded == overview_chunks["overview.md"]
    vectors = fresh_assistant.store.vectors_by_source()
    np.testing.assert_array_equal(vectors["archive/overview.txt"], vectors["overview.txt"])
    sources = {hit.passage.source for hit in fresh_assistant.search("specification gaming boat race CoastRunners", 10)}
    assert {"overview.txt", "archive/overview.txt"} <= sources
    assert fresh_assistant.document_text("archive/overview.txt") == fresh_assistant.document_text("overview.txt")


def test_swapped_and_moved_contents_are_indexed_correctly(fresh_assistant):
    corpus = Path(fresh_assistant.settings.corpus_dir)
    a, b = corpus / "a.md", corpus / "b.md"
    a.write_text("# Okapi\n\nThe okapi is a giraffid native to the Congo.\n")
    b.write_text("# Axolotl\n\nThe axolotl is a salamander that keeps its gills.\n")
    fresh_assistant.index()

    a_text, b_text = a.read_text(), b.read_text()
    a.write_text(b_text)
    b.write_text(a_text)
    swapped = fresh_assistant.index()
    assert sorted(swapped.updated) == ["a.md", "b.md"] and not swapped.skipped
    assert fresh_assistant.search("okapi giraffid", 1)[0].passage.source == "b.md"
    assert fresh_assistant.search("axolotl gills", 1)[0].passage.source == "a.md"
    assert {r.source: r.title for r in fresh_assistant.documents()} == {"a.md": "Axolotl", "b.md": "Okapi"}

    b.rename(corpus / "c.md")
    moved = fresh_assistant.index()
    assert moved.added == ["c.md"] and moved.removed == ["b.md"]
    moved_chunks = {r.source: r.chunk_count for r in fresh_assistant.documents()}["c.md"]
    assert moved.chunks_embedded == 0 and moved.chunks_copied == moved_chunks >= 1
    passage = fresh_assistant.search("okapi giraffid", 1)[0].passage
    assert passage.source == "c.md" and "okapi" in fresh_assistant.document_text("c.md")[passage.start : passage.end]
