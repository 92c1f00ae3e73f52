"""Shapes of the 问答库 shared by drafting, import/export, storage and serving.

A citation names a clause by stable ids (``doc_id`` + article ordinal, with the
文号 for people) and carries the quoted text, which must be a verbatim substring
of that clause in the current corpus. ``check_citation`` is the one place that
decides it, so import, publishing and the stale check after a rebuild agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from policyqa.errors import PolicyQAError
from policyqa.ingest.model import Article, Policy
from policyqa.privacy import pii_kinds
from policyqa.text import doc_no_key, is_well_formed, normalize

STATUSES = ("draft", "in_review", "published", "retired", "rejected")
INACTIVE = ("retired", "rejected")  # out of the base: may repeat an active question
ORIGINS = ("clause", "logs", "topic", "manual", "import", "ticket")
MAX_QUESTION = 200  # characters, per question or paraphrase
MAX_PARAPHRASES = 10
MAX_ANSWER = 4000
MAX_CITATIONS = 10


class InvalidEntry(PolicyQAError):
    """An FAQ entry (or a row of an import) is not acceptable; the message says why."""

    http_status = 422


@dataclass(frozen=True)
class FaqCitation:
    doc_id: str  # corpus id (stable); doc_no alone also resolves on input
    doc_no: str  # 文号, for people
    article: int  # ordinal, 0 = front matter
    quote: str  # verbatim text from the clause (one or more whole sentences)


@dataclass
class FaqDraft:
    """A proposed entry, before it is stored (origin says where it came from)."""

    question: str
    paraphrases: list[str]
    answer_text: str
    citations: list[FaqCitation]
    origin: str
    evidence: dict[str, Any] = field(default_factory=dict)  # e.g. asked counts, examples

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def question_key(q: str) -> str:
    """What makes two questions duplicates: equal after normalisation, ends trimmed."""
    return normalize(q).strip().rstrip("?？!！。. ")


def find_policy(policies: Mapping[str, Policy], doc: str) -> Policy | None:
    """A document by corpus id or by 文号 (in any brackets: 〔2008〕 / [2008])."""
    if doc in policies:
        return policies[doc]
    for p in policies.values():
        if p.doc_no and doc_no_key(p.doc_no) == doc_no_key(doc):
            return p
    return None


def find_article(policies: Mapping[str, Policy], doc: str, article: int
                 ) -> tuple[Policy, Article]:
    """Resolve a clause reference or raise InvalidEntry naming what is unknown."""
    p = find_policy(policies, doc)
    if p is None:
        raise InvalidEntry(f"没有这份文件：{doc}")
    try:
        return p, p.article(int(article))
    except (KeyError, ValueError, TypeError):
        raise InvalidEntry(f"《{p.title}》没有第{article}条") from None


def check_citation(policies: Mapping[str, Policy], raw: Mapping[str, Any]) -> FaqCitation:
    """Validate one citation against the corpus; returns it with ids filled in.

    The quote must occur verbatim in the clause (whitespace at its ends ignored).
    """
    doc = str(raw.get("doc_id") or raw.get("doc_no") or "").strip()
    quote = str(raw.get("quote") or "").strip()
    if not doc:
        raise InvalidEntry("引用缺少文件（doc_id 或 doc_no）")
    try:
        ordinal = int(raw.get("article"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidEntry(f"引用的条款编号无效：{raw.get('article')!r}") from None
    p, a = find_article(policies, doc, ordinal)
    if not quote:
        raise InvalidEntry(f"引用{a.cite_label}缺少原文")
    if quote not in a.text:
        raise InvalidEntry(f"引文不是{p.doc_no or p.title}{a.cite_label}的原文：「{quote[:40]}」")
    return FaqCitation(p.doc_id, p.doc_no, a.ordinal, quote)


def stale_reason(policies: Mapping[str, Policy], citations: Sequence[Mapping[str, Any]]) -> str:
    """Why an entry's citations no longer hold in this corpus ("" when they all do)."""
    for c in citations:
        try:
            check_citation(policies, c)
        except InvalidEntry as e:
            return str(e)
    return ""


def cite_dict(c: FaqCitation) -> dict[str, Any]:
    return {"doc_id": c.doc_id, "doc_no": c.doc_no, "article": c.article, "quote": c.quote}


def public_text_problem(text: str, what: str) -> str | None:
    """Why ``text`` may not be shown to every citizen, or None: it must be well-formed and
    hold no personal data (a question drafted from the logs is masked already; one typed
    in or imported must be too). The message names the kind of data, never the data."""
    if not is_well_formed(text):
        return f"{what}含有无效字符"
    kinds = pii_kinds(text)
    if kinds:
        return f"{what}含有个人信息（{'、'.join(kinds)}），问答库只收录通用的问答，请删除后再保存"
    return None


def _public_text(text: str, what: str) -> str:
    problem = public_text_problem(text, what)
    if problem:
        raise InvalidEntry(problem)
    return text


def clean_fields(fields: Mapping[str, Any], policies: Mapping[str, Policy]) -> dict[str, Any]:
    """Validate the editable fields present in ``fields``; InvalidEntry (422) says why."""
    out: dict[str, Any] = {}
    if "question" in fields:
        q = _public_text(str(fields["question"] or "").strip(), "问题")
        if not q:
            raise InvalidEntry("问题不能为空")
        if len(q) > MAX_QUESTION:
            raise InvalidEntry(f"问题过长（超过{MAX_QUESTION}字）")
        out["question"] = q
    if "paraphrases" in fields:
        raw = fields["paraphrases"] or []
        if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
            raise InvalidEntry("相似问法须为字符串列表")
        paras = list(dict.fromkeys(_public_text(p.strip(), "相似问法") for p in raw
                                   if p.strip()))
        if len(paras) > MAX_PARAPHRASES or any(len(p) > MAX_QUESTION for p in paras):
            raise InvalidEntry(f"相似问法最多{MAX_PARAPHRASES}条，每条不超过{MAX_QUESTION}字")
        out["paraphrases"] = paras
    if "answer_text" in fields:
        a = _public_text(str(fields["answer_text"] or "").strip(), "答案")
        if len(a) > MAX_ANSWER:
            raise InvalidEntry(f"答案过长（超过{MAX_ANSWER}字）")
        out["answer_text"] = a
    if "citations" in fields:
        raw_c = fields["citations"] or []
        if not isinstance(raw_c, list) or len(raw_c) > MAX_CITATIONS:
            raise InvalidEntry(f"引用须为列表，最多{MAX_CITATIONS}条")
        out["citations"] = [cite_dict(check_citation(policies, c)) for c in raw_c]
    return out


def new_entries(items: Sequence[Mapping[str, Any]], policies: Mapping[str, Policy],
                statuses: Sequence[str], origins: Sequence[str]
                ) -> list[tuple[dict[str, Any], str, str]]:
    """Validate new entries with their status and origin: (fields, status, origin) each,
    every field present; InvalidEntry on the first that is wrong (a batch is all or none)."""
    out = []
    for fields, st, og in zip(items, statuses, origins, strict=True):
        if og not in ORIGINS:
            raise InvalidEntry(f"未知来源：{og}")
        f = clean_fields({"paraphrases": [], "answer_text": "", "citations": [], **fields},
                         policies)
        if "question" not in f:
            raise InvalidEntry("问题不能为空")
        if st not in STATUSES:
            raise InvalidEntry(f"未知状态：{st}")
        if st == "published" and not f["citations"]:
            raise InvalidEntry("发布的条目必须引用政策原文")
        out.append((f, st, og))
    return out
