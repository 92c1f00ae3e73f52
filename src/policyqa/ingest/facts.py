"""A document's facts (title as cited, dates, issuing body, level, status): read from its
own text where the text states them, else from its sidecar.

The rules are terms of the field, true of any law, regulation or notice printed in the
usual way: a header line that starts with a date says what happened on it (通过 / 公布 /
修正 / 施行), the body that did it is named before 第X次…会议 or 令第X号, and a closing
article says when the text takes effect (本法自1995年1月1日起施行 / 自发布之日起施行).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from policyqa.errors import CorpusError
from policyqa.ingest.model import Article, Policy, Sentence

DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
# What a dated header line says happened on that date (the last match wins: 通过 … 修正
# is an amendment).
_DATE_KINDS = (("adopted", ("通过",)), ("published", ("公布", "发布", "印发")),
               ("amended", ("修正", "修订", "修改")), ("effective", ("施行", "生效")))
_CN = "一二三四五六七八九十百零〇两"
_TERM = re.compile(rf"第[{_CN}\d]+届")  # 第十届 in …第十届全国人民代表大会常务委员会…
_BODY = re.compile(rf"^(?:经)?(.+?)(?:第[{_CN}\d]+次\S*?会议|令第[{_CN}\d]+号)")
_IN_FORCE = re.compile(r"^本(?:法|条例|规定|办法|细则|决定|通知|措施|意见|方案)"
                       r"自(?:(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日|(公布|发布|印发)之日)起施行")
SIDECAR_DATES = ("adopted", "published", "amended", "effective")
_REPEATABLE = ("amended", "effective")  # a law is adopted once, revised and in force anew often
STATUSES = ("in_force", "superseded")


def iso(m: re.Match[str], first: int = 1) -> str:
    y, mo, d = (int(m.group(first + k)) for k in range(3))
    return f"{y:04d}-{mo:02d}-{d:02d}"


def dated_lines(lines: list[str]) -> tuple[tuple[str, str], ...]:
    """(kind, ISO date) from every header line that starts with a date; each date is
    read with the words up to the next one (…公布 自2008年1月1日起施行: published, then
    effective). A bare date line is a publication date."""
    out = []
    for text in lines:
        if not DATE.match(text.lstrip("（(")):
            continue
        found = list(DATE.finditer(text))
        for m, nxt in zip(found, [*found[1:], None], strict=True):
            words = text[m.end(): nxt.start() if nxt else len(text)]
            kind = next((k for k, ws in reversed(_DATE_KINDS) if any(w in words for w in ws)),
                        "published" if not words.strip(" ）)") else "")
            if kind:
                out.append((kind, iso(m)))
    return tuple(out)


def header_bodies(lines: list[str]) -> tuple[str, ...]:
    """The bodies named on dated header lines (第十届全国人民代表大会常务委员会第二十八次
    会议通过 -> 全国人民代表大会常务委员会; 中华人民共和国国务院令第514号公布 -> 国务院),
    in order, once each: who adopted and issued the text."""
    out: list[str] = []
    for text in lines:
        m = DATE.match(text.lstrip("（("))
        if not m:
            continue
        words = _TERM.sub("", text.lstrip("（(")[m.end():].strip(" 　"))
        b = _BODY.match(words)
        body = b.group(1).removeprefix("中华人民共和国") if b else ""
        if 2 <= len(body) <= 30 and body not in out and "《" not in body:
            out.append(body)
    return tuple(out)


def in_force_dates(articles: tuple[Article, ...], published: str) -> tuple[tuple[str, str], ...]:
    """The effective date a closing article states (本法自1995年1月1日起施行), or the
    publication date for 自发布之日起施行; looked for in the last three articles."""
    for art in reversed([a for a in articles if a.ordinal][-3:]):
        for s in art.sentences:
            if m := _IN_FORCE.match(s.text):
                if m.group(1):
                    return (("effective", iso(m)),)
                return (("effective", published),) if published else ()
    return ()


def short_title(title: str) -> str:
    """How a national law is cited: 中华人民共和国劳动合同法 -> 劳动合同法."""
    return title.removeprefix("中华人民共和国") if len(title) > 9 else title


@dataclass
class Front:
    """What the text before article 1 says of the document."""

    title: str = ""
    notice_title: str = ""
    doc_no: str = ""
    date: str = ""
    issuers: tuple[str, ...] = ()
    preamble: str = ""
    sentences: tuple[Sentence, ...] = ()
    dates: tuple[tuple[str, str], ...] = ()


def _sidecar_dates(ov: dict[str, Any], stated: tuple[tuple[str, str], ...]
                   ) -> tuple[tuple[str, str], ...]:
    """The sidecar's dates the text lacks: a kind the text does not state, or one more
    revision / entry into force (a value may be one date or a list)."""
    kinds = {k for k, _ in stated}
    out: list[tuple[str, str]] = []
    for k in SIDECAR_DATES:
        values = ov.get(k) or []
        for v in [values] if isinstance(values, str) else values:
            if (k, str(v)) not in stated and (k in _REPEATABLE or k not in kinds):
                out.append((k, str(v)))
    return tuple(out)


def with_facts(doc_id: str, front: Front, articles: tuple[Article, ...],
               ov: dict[str, Any], **source: str) -> Policy:
    """The document's facts: from its own text, else its sidecar (``ov``); what neither
    gives is listed in ``missing`` (a sidecar value ``null`` says the document has none:
    a law has no 文号). Facts the text states win, except the sidecar's title / 文号 /
    date, which may correct a transcription."""
    title = str(ov.get("title") or front.title)
    dates = front.dates + _sidecar_dates(ov, front.dates)
    published = next((d for k, d in dates if k == "published"), "")
    dates += tuple(d for d in in_force_dates(articles, published) if d not in dates)
    dates = tuple(sorted(dates, key=lambda kd: (kd[1], SIDECAR_DATES.index(kd[0]))))
    doc_no = str(ov.get("doc_no") or front.doc_no)
    # The version's date: as printed, else its latest adoption / publication / revision.
    date = str(ov.get("date") or front.date or max(
        (d for k, d in dates if k != "effective"), default="") or max(
        (d for _, d in dates), default=""))
    issuers = tuple(ov["issuers"]) if ov.get("issuers") else front.issuers
    level, jurisdiction = str(ov.get("level") or ""), str(ov.get("jurisdiction") or "")
    status = str(ov.get("status") or "in_force")
    if status not in STATUSES:
        raise CorpusError(f"{doc_id}: sidecar status must be one of {', '.join(STATUSES)}, "
                          f"not {status!r}", file=f"{doc_id}.meta.json")
    found = {"title": title, "doc_no": doc_no, "date": date, "issuers": issuers,
             "level": level, "jurisdiction": jurisdiction}
    none = {k for k, v in ov.items() if v is None}
    return Policy(
        doc_id=doc_id, title=title or doc_id, doc_no=doc_no, issuers=issuers, date=date,
        preamble=front.preamble, articles=articles,
        missing=tuple(k for k, v in found.items() if not v and k not in none),
        short_title=str(ov.get("short_title") or short_title(title)), level=level,
        jurisdiction=jurisdiction, status=status,
        superseded_by=str(ov.get("superseded_by") or ""), dates=dates, **source)
