"""The onnxruntime backend: exported from the same folder, same vectors as sentence-transformers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from policyqa.encoder.onnx import ONNX_FILE, OnnxEncoder, export_onnx
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
