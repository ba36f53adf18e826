"""The store kinds, registered in one place, and what ingest, retrieval and the Assistant need of any of them.

``local`` (the default) is SQLite + FAISS + tantivy in the index folder (rag/store.py); ``milvus`` keeps
documents, chunks, vectors and the index signature in a Milvus server or a milvus-lite file
(rag/milvus_store.py), so several machines can share one index. Both implement :class:`IndexStore`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.passage import Passage, Span
    from rag.store import DocumentContent, DocumentRecord

STORE_KINDS = ("local", "milvus")


class DenseSearch(Protocol):
    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(chunk id, inner product) of the ``k`` nearest chunks."""


class LexicalSearch(Protocol):
    def search(self, query: str, k: int, within: Collection[int] | None = None) -> list[tuple[int, float]]:
        """(chunk id, BM25 score) of the best ``k`` chunks holding a query term (only those ``within``)."""

    def document_frequency(self, term: str) -> int:
        """How many chunks hold the (stemmed) term."""


class SearchSnapshot(Protocol):
    """One committed generation as the retriever searches it."""

    generation: int
    dense: DenseSearch
    units: DenseSearch  # answer units (sentences, rows, items), each chunk scored by its best unit
    lexical: LexicalSearch | None
    lexical_behind: bool  # the lexical index had not yet applied this generation

    def __len__(self) -> int: ...

    def hybrid_search(self, vector: np.ndarray, query: str, k: int,
                      within: Collection[int] | None) -> list[tuple[int, float]] | None:
        """The engine's own fused ranking, or None where the retriever fuses dense and BM25 itself."""


class IndexWriter(Protocol):
    """One change to the index, committed whole by :meth:`commit` (or in :meth:`checkpoint` steps)."""

    changed: bool
    artifact_seconds: float  # what bringing the search structures up to date took at the last commit

    def commit(self) -> None: ...
    def checkpoint(self) -> None: ...
    def put(self, root: str, source: str, content_hash: str, size: int, mtime_ns: int, title: str, metadata: dict,
            text: str, chunks: Sequence[Span], vectors: np.ndarray,
            unit_vectors: Sequence[bytes | None] = ()) -> None: ...
    def remove(self, root: str, source: str) -> None: ...
    def remove_root(self, root: str) -> None: ...
    def touch(self, root: str, source: str, size: int, mtime_ns: int) -> None: ...
    def clear(self) -> None: ...
    def roots(self) -> dict[str, int]: ...
    def shared_documents(self, root: str, other_root: str) -> int: ...
    def content_keys(self) -> set[tuple[str, str]]: ...
    def find_content(self, content_hash: str, suffix: str) -> DocumentContent | None: ...
    def chunks_without_unit_vectors(self, limit: int) -> list[Passage]:
        """Chunks written by an older layout without answer-unit vectors; given them by set_unit_vectors."""
    def set_unit_vectors(self, blobs: Mapping[int, bytes]) -> None: ...


class IndexStore(Protocol):
    """Documents, chunks, vectors and the settings signature of one index."""

    @property
    def generation(self) -> int: ...
    def meta(self) -> dict[str, str]: ...
    def check_signature(self, signature: dict[str, str]) -> None: ...
    def documents(self, root: str | None = None) -> list[DocumentRecord]: ...
    def counts(self) -> tuple[int, int]: ...
    def document_text(self, source: str, root: str | None = None) -> str: ...
    def document_tags(self) -> dict[tuple[str, str], list[str]]: ...
    def chunk_ids_of(self, documents: Sequence[tuple[str, str]]) -> list[int]: ...
    def vectors_of(self, chunk_ids: Collection[int]) -> tuple[np.ndarray, np.ndarray]: ...
    def unit_vectors(self, chunk_ids: Collection[int]) -> dict[bytes, np.ndarray]:
        """The chunks' stored answer-unit vectors by text key (rag/units.py text_key); missing ones are embedded."""
    def unit_rows(self, chunk_ids: Collection[int]) -> tuple[np.ndarray, np.ndarray]:
        """(owning chunk id, vector) of every stored answer-unit vector of these chunks."""
    def chunk_root(self, chunk_id: int) -> str | None: ...
    def chunks(self, chunk_ids: Sequence[int]) -> dict[int, Passage]: ...
    def chunk_contexts(self) -> list[tuple[int, str, str, str, str]]: ...
    def size_on_disk(self) -> int: ...
    def load_artifacts(self, previous: SearchSnapshot | None = None) -> SearchSnapshot | None: ...
    def writer(self, signature: dict[str, str], exact_search_max_chunks: int,
               rebuild: bool = False) -> AbstractContextManager[IndexWriter]: ...
    def index_lock(self, wait: bool = True,
                   on_wait: Callable[[str], None] | None = None) -> AbstractContextManager[None]: ...
    def close(self) -> None: ...
    def drop(self) -> None:
        """Delete the index and close the store (its collection was removed)."""


def open_store(settings: Settings, kind: str | None = None) -> IndexStore:
    """The store ``settings.store`` names (or ``kind``); Milvus is imported only when asked for."""
    kind = kind or settings.store
    if kind == "local":
        from rag.store import Store

        return Store(settings.index_dir)
    if kind == "milvus":
        from rag.milvus_store import MilvusStore

        return MilvusStore(settings)
    raise ValueError(f"unknown store {kind!r}; choose one of {', '.join(STORE_KINDS)}")

