"""The onnxruntime backend: exported from the same folder, same vectors as sentence-transformers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from policyqa.encoder.onnx import INT8_FILE, ONNX_FILE, OnnxEncoder, export_onnx, quantize_int8
from policyqa.encoder.st import SentenceTransformerEncoder
from policyqa.errors import ModelError

TEXTS = ["我们公司招了应届生，有补贴吗？", "企業自主評價職業技能等級",
         "Does the company get a subsidy?",
         "支持企业吸纳高校毕业生、技工院校毕业生,对新招用毕业年度或登记失业离校2年内高校毕业生、"
         "登记失业16—24岁青年的企业,按规定给予一次性扩岗补助;", "补", "😀 12333"]


@pytest.fixture(scope="module")
def onnx_encoder(model_dir: Path) -> OnnxEncoder:
    export_onnx(model_dir)
    return OnnxEncoder(model_dir, model_id="ignored-when-manifest", threads=1)


def test_matches_sentence_transformers(onnx_encoder: OnnxEncoder, model_dir: Path) -> None:
    st = SentenceTransformerEncoder(model_dir, model_id="ignored-when-manifest", threads=1)
    assert onnx_encoder.model_id == st.model_id == "intfloat/multilingual-e5-small"
    for side in ("encode_queries", "encode_passages"):
        a = getattr(onnx_encoder, side)(TEXTS)
        b = getattr(st, side)(TEXTS)
        assert a.shape == b.shape == (len(TEXTS), 384) and a.dtype == np.float32
        assert float((a * b).sum(axis=1).min()) > 0.9999
    # batched and single encodes agree (padding must not leak into the mean)
    single = np.vstack([onnx_encoder.encode_queries([t]) for t in TEXTS])
    assert float((single * onnx_encoder.encode_queries(TEXTS)).sum(axis=1).min()) > 0.99999


def test_query_and_passage_prompts_differ(onnx_encoder: OnnxEncoder) -> None:
    q, p = onnx_encoder.encode_queries(["学徒"]), onnx_encoder.encode_passages(["学徒"])
    assert float((q * p).sum()) < 0.9999


def test_empty_input_and_missing_export(onnx_encoder: OnnxEncoder, tmp_path: Path) -> None:
    assert onnx_encoder.encode_queries([]).shape == (0, 384)
    with pytest.raises(ModelError, match="policyqa model build"):
        OnnxEncoder(tmp_path, model_id="x")
    assert ONNX_FILE.endswith(".onnx")


def test_int8_is_close_to_fp32_and_kept_apart(onnx_encoder: OnnxEncoder, model_dir: Path) -> None:
    quantize_int8(model_dir)
    assert (model_dir / INT8_FILE).stat().st_size < (model_dir / ONNX_FILE).stat().st_size / 3
    int8 = OnnxEncoder(model_dir, model_id="ignored-when-manifest", int8=True)
    # A different engine for the same weights: its index must never be reused for fp32.
    assert int8.backend != onnx_encoder.backend and int8.backend.startswith("onnx-int8")
    assert int8.model_id == onnx_encoder.model_id and int8.dim == 384
    for side in ("encode_queries", "encode_passages"):
        a, b = getattr(int8, side)(TEXTS), getattr(onnx_encoder, side)(TEXTS)
        np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
        cos = (a * b).sum(axis=1)
        assert float(cos.min()) > 0.98, cos  # measured >= 0.99 on the eval questions
    # It still ranks like the reference: the clause sentence beats an unrelated one.
    q = int8.encode_queries(["招用应届高校毕业生有什么补助？"])
    p = int8.encode_passages([TEXTS[3], "职业技能等级认定结果在全市范围内互认。"])
    assert float((q @ p[0])[0]) > float((q @ p[1])[0])
