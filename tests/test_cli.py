"""The command line, in process (click's CliRunner), on the real corpus and model."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import CORPUS_DIR, DOC_NO, INVENTED_DIR, REPO_ROOT, TITLE, corpus_text, warm
from policyqa.cli import main
from policyqa.evaluation import load_gold
from policyqa.ingest.corpus import corpus_files
from policyqa.service import PolicyQA
from policyqa.settings import Settings

GOLD = REPO_ROOT / "tests" / "fixtures" / "gold_small.jsonl"
REPORT_KEYS = {"n", "n_answerable", "n_unanswerable", "recall_at_1", "recall_at_3", "mrr",
               "answer_accuracy", "refusal_recall", "refused_or_not_fixed", "false_refusal_rate",
               "quote_exact_rate",
               "latency_ms_p50", "latency_ms_p95", "by_kind", "by_document", "per_question", "gate"}
PER_QUESTION_KEYS = {"id", "question", "kind", "answerable", "expected", "status", "reason",
                     "citations", "ranked", "hit_rank", "not_fixed", "features", "latency_ms"}


def _run(args: list[str], corpus: Path, index: Path, model: Path) -> Result:
    env = {"POLICYQA_CORPUS_DIR": str(corpus), "POLICYQA_INDEX_DIR": str(index),
           "POLICYQA_MODEL_DIR": str(model)}
    return CliRunner().invoke(main, args, env=env, catch_exceptions=True)


def _error_lines(result: Result) -> list[str]:
    return [ln for ln in result.stderr.splitlines() if ln.startswith("错误 / error:")]


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory: pytest.TempPathFactory, settings: Settings
              ) -> tuple[Path, Result]:
    """A fresh index folder built once through `policyqa index` (the first run's result)."""
    index = warm(tmp_path_factory.mktemp("cli-index"), settings.index_dir)
    return index, _run(["index"], CORPUS_DIR, index, settings.model_dir)


def test_ingest_check(settings: Settings, tmp_path: Path) -> None:
    r = _run(["ingest", "--check"], CORPUS_DIR, tmp_path / "index", settings.model_dir)
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "✓ yrsg-2025-23.txt" in out
    for pattern in (rf"title\s+{TITLE}\s", rf"文号\s+{re.escape(DOC_NO)}$",
                    r"date\s+2025-11-19\s",
                    r"level\s+规范性文件; jurisdiction 重庆市; status in_force$",
                    r"issuers\s+8: 重庆市人力资源和社会保障局、", r"articles\s+14\b"):
        assert re.search(rf"^\s*{pattern}", out, re.M), pattern
    assert any(ln.split()[:1] == ["第十条"] and "支持企业吸纳技能人才" in ln
               for ln in out.splitlines())
    assert not (tmp_path / "index").exists()  # ingest never writes an index
    # the table: every document, every field, and what could not be found (nothing here)
    head = next(i for i, ln in enumerate(out.splitlines()) if ln.startswith("doc_id | "))
    lines = out.splitlines()[head:]
    columns = lines[0].split(" | ")
    assert {"title", "cited as", "文号", "level", "issuer", "jurisdiction", "adopted",
            "published", "amended", "effective", "status", "missing"} <= set(columns)
    rows = [dict(zip(columns, ln.split(" | "), strict=True)) for ln in lines[1:] if ln]
    assert [r["doc_id"] for r in rows] == [f.doc_id for f in corpus_files(CORPUS_DIR)]
    assert all(r["missing"] == "" and r["level"] and r["issuer"] for r in rows), rows


@pytest.mark.parametrize("command", ["ingest", "index"])
def test_bad_corpus_is_one_clean_error_line(settings: Settings, corpus_copy: Path,
                                            tmp_path: Path, command: str) -> None:
    shutil.copy(INVENTED_DIR / "bad_utf8.txt", corpus_copy / "bad_utf8.txt")
    r = _run([command], corpus_copy, tmp_path / "index", settings.model_dir)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert "bad_utf8.txt" in r.output
    errors = _error_lines(r)
    assert len(errors) == 1
    if command == "index":
        assert "bad_utf8.txt" in errors[0]
        assert not (tmp_path / "index" / "CURRENT").exists()
    else:
        assert "✗ bad_utf8.txt" in r.stdout and "✓ yrsg-2025-23.txt" in r.stdout


def test_missing_corpus_folder(settings: Settings, tmp_path: Path) -> None:
    r = _run(["ingest"], tmp_path / "no-such-corpus", tmp_path / "index", settings.model_dir)
    assert r.exit_code == 2
    assert len(_error_lines(r)) == 1 and "no-such-corpus" in _error_lines(r)[0]
    assert "Traceback" not in r.output


def test_index_twice_is_up_to_date(cli_index: tuple[Path, Result], settings: Settings) -> None:
    index, first = cli_index
    assert first.exit_code == 0, first.output
    assert "index built" in first.stdout
    assert (index / "CURRENT").is_file()
    current = (index / "CURRENT").read_text("utf-8")
    again = _run(["index"], CORPUS_DIR, index, settings.model_dir)
    assert again.exit_code == 0, again.output
    assert "index up to date" in again.stdout
    assert (index / "CURRENT").read_text("utf-8") == current


def test_ask_json(cli_index: tuple[Path, Result], settings: Settings) -> None:
    index, _ = cli_index
    r = _run(["ask", "小微企业招毕业生能给社保补贴吗", "--json"], CORPUS_DIR, index,
             settings.model_dir)
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["status"] == "answered" and data["reason"] is None
    first = data["citations"][0]
    assert (first["doc_no"], first["article"], first["label"]) == (DOC_NO, 10, "第十条")
    assert first["citation"] == f"《{TITLE}》（{DOC_NO}）第十条「支持企业吸纳技能人才」"
    assert all(c["quote"] in corpus_text(c["doc_id"]) for c in data["citations"])
    assert data["ranked"][0] == {"doc_id": "yrsg-2025-23", "article": 10}

    refused = json.loads(_run(["ask", "住房公积金怎么提取", "--json"], CORPUS_DIR, index,
                              settings.model_dir).stdout)
    assert refused["status"] == "refused" and refused["citations"] == []
    assert "12333" in refused["answer_text"]


def test_ask_empty_question_is_a_clean_error(cli_index: tuple[Path, Result],
                                             settings: Settings) -> None:
    r = _run(["ask", "   "], CORPUS_DIR, cli_index[0], settings.model_dir)
    assert r.exit_code == 2 and len(_error_lines(r)) == 1
    assert "Traceback" not in r.output


def test_eval_json(cli_index: tuple[Path, Result], settings: Settings, qa: PolicyQA,
                   tmp_path: Path) -> None:
    out = tmp_path / "out" / "report.json"
    r = _run(["eval", "--gold", str(GOLD), "--json", str(out)], CORPUS_DIR, cli_index[0],
             settings.model_dir)
    assert r.exit_code == 0, r.output
    assert "Recall@1" in r.stdout and f"wrote {out}" in r.stdout
    report = json.loads(out.read_text("utf-8"))
    assert set(report) == REPORT_KEYS
    gold = load_gold(GOLD)
    assert sum(v["n"] for v in report["by_kind"].values()) == len(gold)
    assert sum(v["n"] for v in report["by_document"].values()) == len(gold)
    assert "by kind | n | correct" in r.stdout
    assert (report["n"], report["n_answerable"], report["n_unanswerable"]) == (
        len(gold), sum(g.answerable for g in gold), sum(not g.answerable for g in gold))
    for key in REPORT_KEYS - {"n", "n_answerable", "n_unanswerable", "per_question", "by_kind",
                              "by_document", "gate",
                              "latency_ms_p50", "latency_ms_p95"}:
        assert 0.0 <= report[key] <= 1.0, key
    assert 0 < report["latency_ms_p50"] <= report["latency_ms_p95"]
    assert report["quote_exact_rate"] == 1.0
    assert [q["id"] for q in report["per_question"]] == [g.id for g in gold]
    for row, g in zip(report["per_question"], gold, strict=True):
        assert set(row) == PER_QUESTION_KEYS
        ans = qa.ask(g.question)  # the CLI and the service must agree
        assert row["status"] == ans.status, g.question
        assert [c["article"] for c in row["citations"]] == [c.article for c in ans.citations]
        ranked = [(x["doc_no"], x["article"]) for x in row["ranked"]]
        expect_rank = next((k + 1 for k, ref in enumerate(ranked) if ref in g.expected), None)
        assert row["hit_rank"] == expect_rank
