"""Dense, lexical (BM25) and hybrid retrieval over a stored index."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Hit:
    chunk_id: int
    source: str
    title: str
    section: str
    text: str
    score: float
    start: int
    end: int
    page: int | None

    def to_dict(self) -> dict:
        return asdict(self)
