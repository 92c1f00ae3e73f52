"""The evaluation report as pictures: ``policyqa eval --report DIR`` on a real gold set
writes report.json, index.html and its PNGs; the page, opened in headless Chromium,
shows every figure (each image decoded, with a size)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import CORPUS_DIR, REPO_ROOT
from live import CHROMIUM, CHROMIUM_ARGS
from policyqa.cli import main
from policyqa.report import FIGURES, latency_percentiles, write_report
from policyqa.settings import Settings

GOLD = REPO_ROOT / "tests" / "fixtures" / "gold_small.jsonl"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report_dir(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    env = {"POLICYQA_CORPUS_DIR": str(CORPUS_DIR), "POLICYQA_INDEX_DIR": str(settings.index_dir),
           "POLICYQA_MODEL_DIR": str(settings.model_dir)}
    r = CliRunner().invoke(main, ["eval", "--gold", str(GOLD), "--report", str(out)], env=env)
    assert r.exit_code == 0, r.output
    assert f"wrote {out / 'index.html'}" in r.stdout
    return out


def test_report_files(report_dir: Path) -> None:
    report = json.loads((report_dir / "report.json").read_text("utf-8"))
    assert set(report["gate"]) == {"dense_min", "dense_sure", "coverage_min"}
    assert all(q["latency_ms"] > 0 for q in report["per_question"])
    for name in FIGURES:
        assert (report_dir / f"{name}.png").read_bytes().startswith(PNG), name
    page = (report_dir / "index.html").read_text("utf-8")
    assert page.count("data:image/png;base64,") == len(FIGURES)
    assert "answer accuracy" in page and f"{report['answer_accuracy']}" in page
    p = latency_percentiles(report)
    assert list(p) == ["p50", "p90", "p95", "p99"] and p["p50"] <= p["p99"]


def test_report_of_an_empty_breakdown_still_draws(tmp_path: Path) -> None:
    """A set with no unanswerable questions and no gate scores: every figure still there."""
    report = {"n": 1, "by_document": {"law": {"n": 1, "correct": 1.0, "answer_accuracy": 1.0,
                                              "refusal_recall": None}},
              "by_kind": {"keyword": {"n": 1, "correct": 1.0, "answer_accuracy": 1.0,
                                      "refusal_recall": None}},
              "per_question": [{"answerable": True, "expected": [{"doc_id": "law", "article": 1}],
                                "status": "answered", "citations": [{"doc_id": "law"}],
                                "features": {}, "latency_ms": 5.0}]}
    page = write_report(report, tmp_path)
    assert all((tmp_path / f"{n}.png").stat().st_size > 1000 for n in FIGURES)
    assert page.read_text("utf-8").count("<img") == len(FIGURES)


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed "
                    "(apt-get install chromium)")
def test_every_figure_renders_in_chromium(report_dir: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto((report_dir / "index.html").as_uri())
            sizes = page.eval_on_selector_all(
                "figure img", "imgs => imgs.map(i => [i.alt, i.complete, i.naturalWidth, "
                "i.naturalHeight, i.getBoundingClientRect().width])")
        finally:
            browser.close()
    assert [s[0] for s in sizes] == list(FIGURES)
    for alt, complete, w, h, shown in sizes:
        assert complete and w > 300 and h > 150 and shown > 100, (alt, w, h, shown)
