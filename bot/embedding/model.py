"""Loading the sentence-transformers model and turning texts into normalised vectors."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np


class Embedder:
    """A sentence-transformers model on CPU in float32, with the model's query prefix applied."""

    def __init__(self, name_or_path: str, prefix: str = "query: ") -> None:
        if Path(name_or_path).exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder never needs the hub
        from sentence_transformers import SentenceTransformer

        self.name = name_or_path
        self.prefix = prefix
        self._model = SentenceTransformer(name_or_path, device="cpu")
        self.dimensions = int(self._model.get_embedding_dimension())

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        vectors = self._model.encode(
            [self.prefix + t for t in texts],
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.asarray(vectors, dtype=np.float32)


@lru_cache(maxsize=2)
def load_embedder(name_or_path: str, prefix: str = "query: ") -> Embedder:
    return Embedder(name_or_path, prefix)
