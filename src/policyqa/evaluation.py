"""Offline evaluation on a gold question set, through the same service the users get.

Gold format (JSON lines): ``{"id", "question", "expected": [{"doc_id", "article"}],
"answerable"}``; articles are ordinals (0 = front matter). A document is named by its
stable doc id (the corpus file name), or by its 文号 (``"doc_no"``, the older form) where
it has one; never by row numbers. Results name documents by doc id (with the 文号).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from policyqa import messages as msg
from policyqa.errors import PolicyQAError
from policyqa.service import PolicyQA
from policyqa.text import doc_no_key

RANKED_K = 5
PER_QUESTION_KEYS = ("id", "question", "kind", "answerable", "expected", "status", "reason",
                     "citations", "ranked", "hit_rank", "not_fixed", "features", "latency_ms")


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    expected: frozenset[tuple[str, int]]  # (doc_id or 文号 as written, article)
    answerable: bool
    kind: str = ""  # the question's form: colloquial, situational, cross-document, …


def doc_aliases(policies: Any) -> dict[str, str]:
    """doc id -> itself and 文号 -> doc id, for every loaded document."""
    out = {d: d for d in policies}
    out.update({doc_no_key(p.doc_no): d for d, p in policies.items() if p.doc_no})
    return out


def expected_ids(g: GoldQuestion, aliases: dict[str, str]) -> frozenset[tuple[str, int]]:
    """The gold references as (doc_id, article); a document not in the corpus is an error
    in the gold set, said as such."""
    try:
        return frozenset((aliases.get(d) or aliases[doc_no_key(d)], a) for d, a in g.expected)
    except KeyError as e:
        raise PolicyQAError(f"gold {g.id}: no document {e.args[0]!r} in the corpus") from None


def load_gold(path: Path) -> list[GoldQuestion]:
    out = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            if not isinstance(d, dict):
                raise TypeError("expected a JSON object")
            exp = frozenset((str(e.get("doc_id") or e["doc_no"]), int(e["article"]))
                            for e in d.get("expected", []))
            out.append(GoldQuestion(str(d["id"]), d["question"], exp,
                                    bool(d.get("answerable", bool(exp))),
                                    str(d.get("kind") or d.get("style") or "")))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise PolicyQAError(f"{path.name}:{n}: bad gold line ({e})") from e
    return out


def evaluate(qa: PolicyQA, gold: Iterable[GoldQuestion], sources: dict[str, str],
             progress: Callable[[int], None] | None = None
             ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run every question; returns (report, diagnostic rows with refusal reasons and features).

    ``sources`` maps doc_id -> raw file text, for the verbatim-quote check.
    """
    policies = qa.index.policies
    aliases = doc_aliases(policies)
    rows, lat = [], []
    n_quotes = n_exact = 0
    for i, g in enumerate(gold):
        expected = expected_ids(g, aliases)
        t0 = time.perf_counter()
        ans = qa.ask(g.question)
        lat.append(round((time.perf_counter() - t0) * 1000, 2))
        ranked = list(ans.ranked[:RANKED_K])
        hit_rank = next((k + 1 for k, ref in enumerate(ranked) if ref in expected), None)
        cites = [c.to_dict() for c in ans.citations]
        for c in ans.citations:
            n_quotes += 1
            n_exact += c.quote in sources.get(c.doc_id, "")
        rows.append({
            "id": g.id, "question": g.question, "answerable": g.answerable, "kind": g.kind,
            "status": ans.status, "reason": ans.reason, "citations": cites,
            "ranked": [{"doc_id": d, "doc_no": policies[d].doc_no, "article": a}
                       for d, a in ranked], "hit_rank": hit_rank,
            "expected": [{"doc_id": d, "article": a} for d, a in sorted(expected)],
            "features": {k: round(v, 4) for k, v in ans.features.items()},
            # answered with the note that the document leaves the figure to someone else
            "not_fixed": msg.AMOUNT_NOT_FIXED in ans.notes, "latency_ms": lat[-1],
        })
        if progress:
            progress(i + 1)
    p = qa.answerer.params  # the gate's thresholds, drawn on its scores in the report
    gate = {"dense_min": p.dense_min, "dense_sure": p.dense_sure, "coverage_min": p.coverage_min}
    return {**summarize(rows, lat, n_quotes, n_exact), "gate": gate}, rows


def summarize(rows: list[dict[str, Any]], lat: list[float], n_quotes: int, n_exact: int
              ) -> dict[str, Any]:
    """The metrics of the issue, from per-question rows (pure; unit-tested on fixtures)."""
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]

    def share(xs: list[bool]) -> float:
        return round(sum(xs) / len(xs), 4) if xs else 0.0

    ranks = [r["hit_rank"] for r in ans]
    return {
        "n": len(rows), "n_answerable": len(ans), "n_unanswerable": len(una),
        "recall_at_1": share([k == 1 for k in ranks]),
        "recall_at_3": share([k is not None and k <= 3 for k in ranks]),
        "mrr": round(sum(1 / k for k in ranks if k) / len(ans), 4) if ans else 0.0,
        "answer_accuracy": share([cites_expected(r) for r in ans]),
        "refusal_recall": share([r["status"] == "refused" for r in una]),
        # what the issue also accepts for a figure no document states: refused, or
        # answered by a clause that defers it, with the note that the figure is not fixed
        "refused_or_not_fixed": share([r["status"] == "refused" or bool(r.get("not_fixed"))
                                       for r in una]),
        "false_refusal_rate": share([r["status"] == "refused" for r in ans]),
        "quote_exact_rate": round(n_exact / n_quotes, 4) if n_quotes else 1.0,
        "latency_ms_p50": round(float(np.percentile(lat, 50)), 2) if lat else 0.0,
        "latency_ms_p95": round(float(np.percentile(lat, 95)), 2) if lat else 0.0,
        "by_kind": breakdown(rows, lambda r: r.get("kind") or "(none)"),
        "by_document": breakdown(rows, lambda r: r["expected"][0]["doc_id"] if r["answerable"]
                                 and r["expected"] else "(unanswerable)"),
        "per_question": [{k: r[k] for k in PER_QUESTION_KEYS} for r in rows],
    }


def correct(r: dict[str, Any]) -> bool:
    """Answered from an expected clause, or refused when nothing answers."""
    return cites_expected(r) if r["answerable"] else r["status"] == "refused"


def breakdown(rows: list[dict[str, Any]], group: Callable[[dict[str, Any]], str]
              ) -> dict[str, dict[str, float | None]]:
    """Per group (kind of question, or the document the answer is in): how many, the share
    handled correctly, and answer accuracy / refusal recall within it."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(group(r), []).append(r)

    def share(xs: list[bool]) -> float | None:
        return round(sum(xs) / len(xs), 4) if xs else None

    return {g: {"n": len(rs), "correct": share([correct(r) for r in rs]),
                "answer_accuracy": share([cites_expected(r) for r in rs if r["answerable"]]),
                "refusal_recall": share([r["status"] == "refused" for r in rs
                                         if not r["answerable"]])}
            for g, rs in sorted(groups.items())}


def cites_expected(r: dict[str, Any]) -> bool:
    """Whether a row's first citation is one of its expected clauses (by doc id)."""
    if r["status"] != "answered" or not r["citations"]:
        return False
    c = r["citations"][0]
    return {"doc_id": c["doc_id"], "article": c["article"]} in r["expected"]


METRIC_ROWS = [
    ("n", "questions"), ("n_answerable", "answerable"), ("n_unanswerable", "unanswerable"),
    ("recall_at_1", "Recall@1"), ("recall_at_3", "Recall@3"), ("mrr", "MRR"),
    ("answer_accuracy", "answer accuracy"), ("refusal_recall", "refusal recall"),
    ("refused_or_not_fixed", "refused or figure not fixed"),
    ("false_refusal_rate", "false refusal rate"), ("quote_exact_rate", "quote exact rate"),
    ("latency_ms_p50", "latency p50 (ms)"), ("latency_ms_p95", "latency p95 (ms)"),
]


def format_table(report: dict[str, Any]) -> str:
    width = max(len(label) for _, label in METRIC_ROWS)
    lines = [f"{label:<{width}}  {report[key]}" for key, label in METRIC_ROWS]
    for title, key in (("by kind", "by_kind"), ("by document (answerable: first expected)",
                                                 "by_document")):
        lines += ["", f"{title} | n | correct | answer acc. | refusal"]
        lines += [f"{g} | {v['n']} | {v['correct']} | {_dash(v['answer_accuracy'])} | "
                  f"{_dash(v['refusal_recall'])}" for g, v in report.get(key, {}).items()]
    return "\n".join(lines)


def _dash(x: float | None) -> str:
    return "–" if x is None else f"{x}"
