"""The one passage type: flat JSON for hits and citations, and a lossless trip through the store."""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from rag.passage import Citation, Hit, Passage, Span
from rag.store import Store


def test_hits_and_citations_flatten_their_passage():
    passage = Passage(text="Okapis eat leaves.", start=10, end=28, section="Diet", page=None, id=7,
                      source="okapi.md", title="Okapi")
    flat = {"source": "okapi.md", "title": "Okapi", "text": "Okapis eat leaves.", "start": 10, "end": 28,
            "section": "Diet", "page": None, "code": []}
    assert passage.to_dict() == flat  # the store's row id stays internal
    assert set(flat) == {"source", "title"} | {f.name for f in fields(Span)}
    assert Hit(passage, 0.75).to_dict() == {"chunk_id": 7, **flat, "score": 0.75}
    assert Citation(2, passage, True, True, 12, 20).to_dict() == {
        "n": 2, **flat, "supported": True, "answers": True, "quote_start": 12, "quote_end": 20,
    }


def test_spans_come_back_from_the_store_as_written(tmp_path):
    spans = [Span("First part.", 0, 11, "", None), Span("Second part.", 13, 25, "Intro > More", 2)]
    vectors = np.eye(2, 4, dtype=np.float32)
    store = Store(tmp_path)
    with store.writer({"embed_dim": "4"}, exact_search_max_chunks=10) as writer:
        writer.put("/root", "a.pdf", "hash-a", 25, 1, "Doc A", {}, "First part.\n\nSecond part.", spans, vectors)
        copy = writer.find_content("hash-a", ".pdf")
    assert copy.chunks == spans and np.array_equal(copy.vectors, vectors)
    ids = [int(i) for i in store.load_artifacts().chunk_ids]
    passages = store.chunks(ids)
    assert [Span(p.text, p.start, p.end, p.section, p.page) for p in map(passages.get, ids)] == spans
    assert {(p.id, p.source, p.title) for p in passages.values()} == {(i, "a.pdf", "Doc A") for i in ids}
    store.close()
