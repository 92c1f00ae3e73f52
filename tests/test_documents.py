"""Documents in relation: a superseded version is never the first citation while the
document in force answers (real encoder; two invented versions of one notice)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import INVENTED_DIR
from policyqa.service import PolicyQA
from policyqa.settings import Settings

QUESTION = "技能测试的培训内容包括哪些？"


def _versions(tmp: Path, old_status: str | None) -> Path:
    corpus = tmp / "corpus"
    corpus.mkdir()
    text = (INVENTED_DIR / "nested.txt").read_text("utf-8")
    (corpus / "notice-old.txt").write_text(text, "utf-8")
    (corpus / "notice-new.txt").write_text(text.replace("〔2099〕2号", "〔2099〕9号"), "utf-8")
    if old_status:
        (corpus / "notice-old.meta.json").write_text(json.dumps(
            {"status": old_status, "superseded_by": "notice-new"}), "utf-8")
    return corpus


def test_the_version_in_force_is_cited(settings: Settings, tmp_path: Path) -> None:
    corpus = _versions(tmp_path, "superseded")
    s = settings.model_copy(update={"corpus_dir": corpus, "index_dir": tmp_path / "index"})
    qa = PolicyQA.open(s)
    ans = qa.ask(QUESTION)
    assert ans.status == "answered", ans.reason
    assert ans.citations[0].doc_id == "notice-new"
    assert ans.ranked[-1][0] == "notice-old"  # ranked last, still readable
    assert qa.index.policies["notice-old"].article(2).sentences


def test_without_a_status_both_versions_compete(settings: Settings, tmp_path: Path) -> None:
    corpus = _versions(tmp_path, None)
    s = settings.model_copy(update={"corpus_dir": corpus, "index_dir": tmp_path / "index"})
    ranked = PolicyQA.open(s).ask(QUESTION).ranked
    assert {d for d, _ in ranked[:2]} == {"notice-old", "notice-new"}  # identical text

