"""Shared checks for the loader tests: chunk a loaded Document with the real chunker and tokenizer."""

from __future__ import annotations

import pytest

from rag.chunk import chunk_document, embedding_text
from rag.passage import Span
from rag.loaders import SkipFile
from rag.loaders.common import Document, tidy
from test_load import load

MAX_TOKENS, OVERLAP = 200, 32


def chunks_of(doc: Document, embedder) -> list[Span]:
    chunks = chunk_document(doc, embedder.count_tokens, MAX_TOKENS, OVERLAP)
    assert chunks
    for chunk in chunks:
        assert embedder.count_tokens(embedding_text(doc.title, chunk)) <= MAX_TOKENS
    return chunks


def assert_exact_spans(doc: Document, chunks: list[Span]) -> None:
    """Every chunk's offsets point at exactly its text in ``Document.text`` (the extracted text): the same text,
    tidied as prose is (code keeps its spacing in the chunk, but not other characters)."""
    assert doc.text == doc.body
    for chunk in chunks:
        assert tidy(doc.text[chunk.start : chunk.end]) == tidy(chunk.text)


def find(chunks: list[Span], needle: str) -> Span:
    return next(chunk for chunk in chunks if needle in chunk.text)


def assert_skipped(tmp_path, name: str, data: bytes, reason: str) -> None:
    """Loading the file raises SkipFile whose message contains ``reason``."""
    with pytest.raises(SkipFile) as caught:
        load(tmp_path, name, data)
    assert reason in str(caught.value)
