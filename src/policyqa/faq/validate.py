"""Checking the rows of a 问答库 import: every problem of every row, with row numbers.

The caller imports only when there is none, so nothing is ever half-imported. Row
shapes come from :func:`policyqa.faq.io.parse_import`; the clause and quote checks are
:func:`policyqa.faq.model.check_citation`, the same as for entries edited by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policyqa.faq.model import (
    INACTIVE,
    MAX_ANSWER,
    MAX_CITATIONS,
    MAX_PARAPHRASES,
    MAX_QUESTION,
    ORIGINS,
    STATUSES,
    FaqCitation,
    InvalidEntry,
    check_citation,
    public_text_problem,
    question_key,
)
from policyqa.ingest.model import Policy


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str  # Chinese, shown to the officer as is


@dataclass
class ImportRow:
    row: int
    question: str
    paraphrases: list[str]
    answer_text: str
    citations: list[FaqCitation]
    status: str
    origin: str


_Err = Callable[[str, str], None]


def validate_rows(rows: Sequence[Mapping[str, Any]], policies: Mapping[str, Policy],
                  existing_questions: Collection[str]
                  ) -> tuple[list[ImportRow], list[RowError]]:
    """Check every row: the rows without problems, and *all* problems (none = importable).

    ``existing_questions`` are ``question_key``s of the active stored entries. A repeated
    question or paraphrase is reported on the later row; rows with an inactive status
    (retired/rejected) may repeat one, as the repository allows.
    """
    taken, first_row = set(existing_questions), dict[str, int]()
    good: list[ImportRow] = []
    errors: list[RowError] = []
    for i, raw in enumerate(rows, 1):
        n = raw.get("row")
        n = n if isinstance(n, int) and not isinstance(n, bool) else i
        errs: list[RowError] = []

        def err(field: str, message: str, n: int = n, errs: list[RowError] = errs) -> None:
            errs.append(RowError(n, field, message))

        q = _text(raw.get("question"), "question", "问题", err).strip()
        if not q and not errs:  # (a wrong type was reported already)
            err("question", "问题不能为空")
        elif len(q) > MAX_QUESTION:
            err("question", f"问题超过 {MAX_QUESTION} 字（{len(q)} 字）")
        paras = _paraphrases(raw.get("paraphrases"), err)
        answer = _text(raw.get("answer_text"), "answer_text", "答案", err).strip()
        if len(answer) > MAX_ANSWER:
            err("answer_text", f"答案超过 {MAX_ANSWER} 字（{len(answer)} 字）")
        status = _choice(raw.get("status"), STATUSES, "draft", "status", "状态", err)
        origin = _choice(raw.get("origin"), ORIGINS, "import", "origin", "来源", err)
        for field, label, text in [("question", "问题", q), ("answer_text", "答案", answer),
                                   *(("paraphrases", "相似问法", p) for p in paras)]:
            if problem := public_text_problem(text, label):
                err(field, problem)
        cites, given = _citations(raw.get("citations"), policies, err)
        if status == "published" and not given:
            err("citations", "已发布的问答必须至少引用一条政策原文")
        keys = [("question", "问题", q)] * bool(q) + [("paraphrases", "相似问法", p) for p in paras]
        for field, label, text in keys:
            key = question_key(text)
            if status not in INACTIVE and key and key in taken:
                where = f"第 {first_row[key]} 行" if key in first_row else "问答库中已有的条目"
                err(field, f"{label}「{text}」与{where}重复")
        for _, _, text in keys:
            taken.add(question_key(text))
            first_row.setdefault(question_key(text), n)
        errors += errs
        if not errs:
            good.append(ImportRow(n, q, paras, answer, cites, status, origin))
    return good, errors


def _text(v: Any, field: str, label: str, err: _Err) -> str:
    """A text cell; a number typed into a spreadsheet counts as text."""
    if v is None or isinstance(v, str):
        return v or ""
    if isinstance(v, int | float) and not isinstance(v, bool):
        return str(v)
    err(field, f"{label}必须是文字")
    return ""


def _paraphrases(v: Any, err: _Err) -> list[str]:
    items = v.splitlines() if isinstance(v, str) else [] if v is None else v
    if not isinstance(items, list):
        err("paraphrases", "相似问法必须是列表（表格中每行一个）")
        return []
    out = list(dict.fromkeys(
        p for p in (_text(p, "paraphrases", "相似问法", err).strip() for p in items) if p))
    if len(out) > MAX_PARAPHRASES:
        err("paraphrases", f"相似问法最多 {MAX_PARAPHRASES} 条（有 {len(out)} 条）")
    for p in out:
        if len(p) > MAX_QUESTION:
            err("paraphrases", f"相似问法超过 {MAX_QUESTION} 字：「{p[:20]}…」")
    return out


def _choice(v: Any, allowed: Sequence[str], default: str, field: str, label: str,
            err: _Err) -> str:
    if v is None or (isinstance(v, str) and not v.strip()):
        return default
    if isinstance(v, str) and v.strip().lower() in allowed:
        return v.strip().lower()
    err(field, f"{label}无效：{v!r}（可选：{'、'.join(allowed)}）")
    return default


def _citations(v: Any, policies: Mapping[str, Policy], err: _Err
               ) -> tuple[list[FaqCitation], int]:
    """The checked citations, and how many the row gave (valid or not)."""
    if isinstance(v, str) and v.strip():
        try:
            v = json.loads(v)
        except (ValueError, RecursionError):
            err("citations", "引用不是有效的 JSON 数组")
            return [], 0
    v = [] if v is None or v == "" else v
    if not isinstance(v, list):
        err("citations", "引用必须是列表（JSON 数组）")
        return [], 0
    if len(v) > MAX_CITATIONS:
        err("citations", f"引用最多 {MAX_CITATIONS} 条（有 {len(v)} 条）")
    out: list[FaqCitation] = []
    for k, c in enumerate(v, 1):
        art = c.get("article") if isinstance(c, Mapping) else None
        if not isinstance(c, Mapping):
            err("citations", f"第 {k} 条引用格式不对（应含 doc_id、article、quote）")
        elif isinstance(art, bool) or (isinstance(art, float) and not art.is_integer()):
            err("citations", f"第 {k} 条引用：条款编号无效：{art!r}")
        else:
            try:
                out.append(check_citation(policies, c))
            except InvalidEntry as e:
                err("citations", f"第 {k} 条引用：{e}")
    return out, len(v)
