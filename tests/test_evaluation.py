"""Metrics on hand-built rows (expected values worked out by hand) and the gold-file loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import CORPUS_DIR, DOC_ID, DOC_NO, REPO_ROOT
from policyqa.errors import PolicyQAError
from policyqa.evaluation import (
    PER_QUESTION_KEYS,
    doc_aliases,
    expected_ids,
    load_gold,
    summarize,
)
from policyqa.ingest.corpus import load_corpus

OTHER = "其他〔2024〕1号"


def _row(qid: str, answerable: bool, status: str, cited: list[tuple[str, int]],
         expected: list[tuple[str, int]], hit_rank: int | None) -> dict[str, Any]:
    return {
        "id": qid, "question": f"问题{qid}", "kind": "", "answerable": answerable,
        "status": status,
        "reason": "" if status == "answered" else "topic",
        "citations": [{"doc_id": d, "doc_no": d, "article": a, "quote": "……"}
                      for d, a in cited],
        "ranked": [{"doc_id": d, "doc_no": d, "article": a} for d, a in cited],
        "hit_rank": hit_rank,
        "expected": [{"doc_id": d, "article": a} for d, a in expected],
        "features": {"dense": 0.9}, "not_fixed": False, "latency_ms": 10.0,
    }


ROWS = [
    # answerable
    _row("r1", True, "answered", [(DOC_NO, 10)], [(DOC_NO, 10)], 1),  # right first citation
    _row("r2", True, "answered", [(OTHER, 7)], [(DOC_NO, 7)], 2),  # right article, wrong doc
    _row("r3", True, "refused", [], [(DOC_NO, 13)], 3),  # false refusal, found at rank 3
    _row("r4", True, "refused", [], [(DOC_NO, 5)], None),  # false refusal, never found
    _row("r5", True, "answered", [(DOC_NO, 2), (DOC_NO, 4)], [(DOC_NO, 4), (DOC_NO, 2)], 2),
    # unanswerable
    _row("u1", False, "refused", [], [], None),
    {**_row("u2", False, "answered", [(DOC_NO, 1)], [], None), "not_fixed": True},
    _row("u3", False, "refused", [], [], None),
]
LATENCIES = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0]


def test_summarize_hand_computed() -> None:
    rep = summarize(ROWS, LATENCIES, n_quotes=5, n_exact=4)
    assert (rep["n"], rep["n_answerable"], rep["n_unanswerable"]) == (8, 5, 3)
    # hit ranks of the answerable rows: 1, 2, 3, None, 2
    assert rep["recall_at_1"] == 0.2  # 1 of 5
    assert rep["recall_at_3"] == 0.8  # 4 of 5
    assert rep["mrr"] == 0.4667  # (1 + 1/2 + 1/3 + 0 + 1/2) / 5 = 2.3333 / 5
    assert rep["answer_accuracy"] == 0.4  # r1 and r5 (any expected article counts)
    assert rep["refusal_recall"] == 0.6667  # u1 and u3 of 3
    assert rep["refused_or_not_fixed"] == 1.0  # u2 answered with the figure-not-fixed note
    assert rep["false_refusal_rate"] == 0.4  # r3 and r4 of 5
    assert rep["quote_exact_rate"] == 0.8  # 4 of 5
    assert rep["latency_ms_p50"] == 45.0
    assert rep["latency_ms_p95"] == 76.5  # linear: 70 + 0.65 * 10
    assert [set(q) for q in rep["per_question"]] == [set(PER_QUESTION_KEYS)] * 8
    assert [q["hit_rank"] for q in rep["per_question"]] == [1, 2, 3, None, 2, None, None, None]
    assert rep["per_question"][4]["citations"] == ROWS[4]["citations"]


def test_summarize_is_order_independent_and_handles_empty() -> None:
    a = summarize(ROWS, LATENCIES, 5, 4)
    b = summarize(list(reversed(ROWS)), list(reversed(LATENCIES)), 5, 4)
    assert {k: v for k, v in a.items() if k != "per_question"} == \
        {k: v for k, v in b.items() if k != "per_question"}
    empty = summarize([], [], 0, 0)
    assert empty["n"] == 0 and empty["mrr"] == 0.0 and empty["recall_at_1"] == 0.0
    assert empty["quote_exact_rate"] == 1.0  # no quotes, none inexact
    assert empty["latency_ms_p50"] == 0.0 and empty["per_question"] == []
    only_unanswerable = summarize([ROWS[5], ROWS[6]], [5.0, 7.0], 1, 1)
    assert only_unanswerable["refusal_recall"] == 0.5
    assert only_unanswerable["false_refusal_rate"] == 0.0 and only_unanswerable["mrr"] == 0.0


def test_load_gold(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text(
        '{"id": 1, "question": "学徒补贴", "expected": [{"doc_no": "%s", "article": "4"}]}\n'
        "\n"
        '{"id": "x", "question": "天气", "expected": []}\n'
        '{"id": "y", "question": "文号", "expected": [{"doc_no": "%s", "article": 0}], '
        '"answerable": false}\n'.replace("%s", DOC_NO), "utf-8")
    gold = load_gold(path)
    assert [g.id for g in gold] == ["1", "x", "y"]
    assert gold[0].expected == frozenset({(DOC_NO, 4)}) and gold[0].answerable
    assert gold[1].expected == frozenset() and not gold[1].answerable
    assert not gold[2].answerable  # explicit flag wins over the expected list


@pytest.mark.parametrize(("bad", "lineno"), [
    ('{"id": "b", "question": "少了括号"', 2),
    ('{"id": "b"}', 2),
    ('{"id": "b", "question": "q", "expected": [{"doc_no": "x", "article": "十"}]}', 2),
    ('{"id": "b", "question": "q", "expected": [{"article": 3}]}', 2),
])
def test_load_gold_names_file_and_line(tmp_path: Path, bad: str, lineno: int) -> None:
    path = tmp_path / "my_gold.jsonl"
    path.write_text('{"id": "a", "question": "好的", "expected": []}\n' + bad + "\n", "utf-8")
    with pytest.raises(PolicyQAError, match=rf"my_gold\.jsonl:{lineno}:"):
        load_gold(path)


@pytest.mark.parametrize("bad", ["[]", "42", '"question"'])
def test_load_gold_non_object_line(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "g.jsonl"
    path.write_text(bad + "\n", "utf-8")
    with pytest.raises(PolicyQAError, match=r"g\.jsonl:1:"):
        load_gold(path)


def test_gold_names_documents_by_doc_id_or_doc_no(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text(
        f'{{"id": "a", "question": "q", "expected": [{{"doc_id": "{DOC_ID}", "article": 4}}]}}\n'
        f'{{"id": "b", "question": "q", "expected": [{{"doc_no": "{DOC_NO}", "article": 4}}]}}\n'
        '{"id": "c", "question": "q", "expected": [{"doc_id": "nope", "article": 1}]}\n',
        "utf-8")
    a, b, c = load_gold(path)
    policies = {p.doc_id: p for p in load_corpus(CORPUS_DIR)}
    aliases = doc_aliases(policies)
    assert expected_ids(a, aliases) == expected_ids(b, aliases) == frozenset({(DOC_ID, 4)})
    with pytest.raises(PolicyQAError, match="gold c: no document 'nope'"):
        expected_ids(c, aliases)


@pytest.mark.parametrize("name", ["questions.jsonl", "holdout.jsonl", "holdout2.jsonl",
                                  "holdout3.jsonl", "holdout4.jsonl", "holdout5.jsonl",
                                  "holdout6.jsonl", "holdout7.jsonl", "holdout8.jsonl"])
def test_repo_gold_sets_reference_real_articles(name: str) -> None:
    policies = {p.doc_id: p for p in load_corpus(CORPUS_DIR)}
    aliases = doc_aliases(policies)
    gold = load_gold(REPO_ROOT / "eval" / name)
    assert len({g.id for g in gold}) == len(gold)
    for g in gold:
        assert g.answerable == bool(g.expected), g.id
        for doc_id, article in expected_ids(g, aliases):
            assert article in {a.ordinal for a in policies[doc_id].articles}, (g.id, article)


def test_breakdown_by_kind_and_document() -> None:
    from policyqa.evaluation import breakdown

    rows = [dict(r, kind=k) for r, k in zip(ROWS, "ab" * 4, strict=True)]
    by_kind = breakdown(rows, lambda r: r["kind"])
    assert {k: v["n"] for k, v in by_kind.items()} == {"a": 4, "b": 4}
    whole = summarize(rows, [1.0], 0, 0)
    assert sum(v["n"] for v in whole["by_document"].values()) == len(rows)
    acc = [v["answer_accuracy"] for v in by_kind.values() if v["answer_accuracy"] is not None]
    assert all(0.0 <= a <= 1.0 for a in acc)
