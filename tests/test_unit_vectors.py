"""Answer-unit vectors computed at index time: answering embeds only the question (issue 10 item 9)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from rag.answer import final_answer
from rag.api import Assistant
from rag.store import DB_NAME, SCHEMA_VERSION
from rag.units import embedded_texts, text_key

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


class CountingEmbedder:
    """The real embedder, recording every text it is asked to encode."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.encoded: list[str] = []
        self.queries: list[str] = []

    def __getattr__(self, name):
        return getattr(self.embedder, name)

    def encode(self, texts, progress=False):
        self.encoded.extend(texts)
        return self.embedder.encode(texts, progress)

    def encode_query(self, text):
        self.queries.append(text)
        return self.embedder.encode_query(text)


def ask(assistant: Assistant, question: str):
    return final_answer(assistant.ask(question, backend="extractive"))


def test_answering_reads_stored_unit_vectors_and_embeds_only_the_question(corpus_assistant, embedder, monkeypatch):
    counting = CountingEmbedder(embedder)
    assistant = Assistant(corpus_assistant.settings, embedder=counting)
    question = "Which organisation works on causal scrubbing?"
    answer = ask(assistant, question)

    assert answer.grounded and "Redwood Research" in answer.answer
    retrieved = [citation.passage for citation in answer.citations] + [hit.passage for hit in answer.uncited]
    unit_texts = {text for passage in retrieved for text in embedded_texts(passage)}
    assert len(unit_texts) > 20
    assert not unit_texts & set(counting.encoded)  # no unit was embedded while answering
    assert set(counting.queries) == {question}
    # The same answer as from a store that keeps no unit vectors (every unit embedded at answer time).
    monkeypatch.setattr(corpus_assistant.store, "unit_vectors", lambda chunk_ids: {})
    assert ask(corpus_assistant, question).answer == answer.answer


def chunk_ids(assistant: Assistant, source: str) -> list[int]:
    return assistant.store.chunk_ids_of([(r.root, r.source) for r in assistant.documents() if r.source == source])


def test_layout_4_index_answers_the_same_and_the_next_run_adds_unit_vectors_without_re_embedding_chunks(fresh_assistant):
    corpus = Path(fresh_assistant.settings.corpus_dir)
    shutil.copy(CORPUS / "ai-alignment-overview.txt", corpus)
    fresh_assistant.index()
    questions = ["Which organisation works on causal scrubbing?", "What is specification gaming?",
                 "In what year was the overview written?"]
    before = [ask(fresh_assistant, q).answer for q in questions]

    index_dir = Path(fresh_assistant.settings.index_dir)
    db = sqlite3.connect(index_dir / DB_NAME)
    with db:  # the layout version 4 had no unit vectors
        db.execute("UPDATE meta SET value = '4' WHERE key = 'schema'")
        db.execute("DROP INDEX chunks_without_unit_vectors")
        db.execute("ALTER TABLE chunks DROP COLUMN unit_vectors")
    db.close()

    reopened = Assistant(fresh_assistant.settings, embedder=fresh_assistant.embedder)
    assert [ask(reopened, q).answer for q in questions] == before  # units embedded while answering
    assert reopened.store.meta()["schema"] == str(SCHEMA_VERSION)
    ids = chunk_ids(reopened, "ai-alignment-overview.txt")
    assert ids and reopened.store.unit_vectors(ids) == {}

    report = reopened.index()
    assert report.chunks_embedded == 0 and report.units_embedded > 0
    assert len(reopened.store.unit_vectors(ids)) == report.units_embedded
    assert [ask(reopened, q).answer for q in questions] == before
    assert reopened.index().units_embedded == 0  # done once


def test_changed_document_gets_new_unit_vectors_removed_one_leaves_none_and_a_copy_reuses_them(fresh_assistant):
    corpus = Path(fresh_assistant.settings.corpus_dir)
    (corpus / "a.md").write_text("# Owls\n\nOwls hunt small mammals at night.\n")
    fresh_assistant.index()
    old_ids = chunk_ids(fresh_assistant, "a.md")
    assert text_key("Owls hunt small mammals at night.") in fresh_assistant.store.unit_vectors(old_ids)

    (corpus / "a.md").write_text("# Owls\n\nBarn owls nest in old barns and church towers.\n")
    report = fresh_assistant.index()
    assert report.updated == ["a.md"] and report.units_embedded > 0
    stored = fresh_assistant.store.unit_vectors(chunk_ids(fresh_assistant, "a.md"))
    assert text_key("Barn owls nest in old barns and church towers.") in stored
    assert text_key("Owls hunt small mammals at night.") not in stored
    assert fresh_assistant.store.unit_vectors(old_ids) == {}  # the old chunks and their unit vectors are gone

    shutil.copy(corpus / "a.md", corpus / "b.md")
    report = fresh_assistant.index()
    assert report.added == ["b.md"] and report.chunks_embedded == 0 and report.units_embedded == 0
    copied = fresh_assistant.store.unit_vectors(chunk_ids(fresh_assistant, "b.md"))
    assert copied.keys() == stored.keys()
    assert all((copied[key] == stored[key]).all() for key in stored)

    current = chunk_ids(fresh_assistant, "a.md") + chunk_ids(fresh_assistant, "b.md")
    (corpus / "a.md").unlink()
    (corpus / "b.md").unlink()
    fresh_assistant.index()
    assert fresh_assistant.store.unit_vectors(current) == {}
    db = sqlite3.connect(Path(fresh_assistant.settings.index_dir) / DB_NAME)
    assert db.execute("SELECT COUNT(*) FROM chunks WHERE unit_vectors IS NOT NULL").fetchone()[0] == 0
    db.close()


def test_the_question_is_embedded_once_for_retrieval_and_answer(corpus_assistant, monkeypatch):
    embedder = corpus_assistant.embedder
    encoded: list[str] = []
    real = embedder.encode
    monkeypatch.setattr(embedder, "encode", lambda texts, progress=False: encoded.extend(texts) or real(texts, progress))
    embedder.forget_queries()
    question = "Which organisation works on causal scrubbing?"
    assert ask(corpus_assistant, question).grounded
    assert encoded.count(question) == 1



def test_a_chunk_without_answer_units_packs_to_none():
    """A chunk can have no answer unit to embed (SciFact's record 19332616 ends in a heading run into its cut-off
    text: "### Mature Plaques: … mature …"); packing its unit vectors crashed the whole index run."""
    import numpy as np

    from rag.store import pack_unit_vectors, unpack_unit_vectors

    assert unpack_unit_vectors(pack_unit_vectors([], np.zeros((0, 384), dtype=np.float32))) == {}
    vector = np.full(384, 0.05, dtype=np.float32)
    unpacked = unpack_unit_vectors(pack_unit_vectors([text_key("A sentence.")], vector[None, :]))
    assert list(unpacked) == [text_key("A sentence.")] and np.allclose(unpacked[text_key("A sentence.")], vector, atol=1e-3)
