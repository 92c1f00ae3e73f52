"""The parsed form of a policy document.

Sentences keep their exact original text (quotes are shown verbatim); any
matching works on normalised copies computed elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policyqa.text import int_to_cn

FRONT_MATTER_LABEL = "前言"


@dataclass(frozen=True)
class Sentence:
    index: int  # 1-based position within its article; stable across rebuilds
    text: str  # verbatim substring of the source file
    paragraph: int = 1  # the 款 it belongs to (1-based; an item belongs to its lead's 款)
    item: int = 0  # the 项 （一）（二）… it is part of; 0 for none


@dataclass(frozen=True)
class Article:
    ordinal: int  # 0 = front matter, then 1..N in document order
    label: str  # the numeral as written: 十 / 3 / 十二; "" for front matter
    heading: str  # short title: the first sentence when it is a heading
    sentences: tuple[Sentence, ...]
    chapter: str = ""  # enclosing 第X章 title, if the document has chapters

    @property
    def cite_label(self) -> str:
        """How citizens cite it: 第十条, or 前言 for the front matter."""
        return f"第{int_to_cn(self.ordinal)}条" if self.ordinal else FRONT_MATTER_LABEL

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.sentences)

    def sentence(self, index: int) -> Sentence:
        return self.sentences[index - 1]

    @property
    def n_paragraphs(self) -> int:
        return max((s.paragraph for s in self.sentences), default=1)

    @property
    def structured(self) -> bool:
        """Whether it has more than one 款 or any 项 (then ids and citations say which)."""
        return self.n_paragraphs > 1 or any(s.item for s in self.sentences)

    def parts(self) -> list[tuple[int, int, str]]:
        """(款, 项, text) of each run of sentences in one 款 and 项, in order: the article
        as printed, one line per 款 and per 项 (项 0 = the 款's own text)."""
        out: list[tuple[int, int, str]] = []
        for s in self.sentences:
            if out and out[-1][:2] == (s.paragraph, s.item):
                out[-1] = (s.paragraph, s.item, out[-1][2] + s.text)
            else:
                out.append((s.paragraph, s.item, s.text))
        return out

    def cite_label_for(self, sentences: tuple[int, ...]) -> str:
        """第十七条第二款 / 第四十六条第（五）项 / 第十七条第二款第（一）项 for quoted
        sentences within one 款 (and one 项); the article alone when they span more."""
        picked = [self.sentence(i) for i in sentences]
        if not self.ordinal or not picked:
            return self.cite_label
        paras, items = {s.paragraph for s in picked}, {s.item for s in picked}
        label = self.cite_label
        if len(paras) == 1 and self.n_paragraphs > 1:
            label += f"第{int_to_cn(picked[0].paragraph)}款"
        if len(paras) == 1 and len(items) == 1 and picked[0].item:
            label += f"第（{int_to_cn(picked[0].item)}）项"
        return label


@dataclass(frozen=True)
class Policy:
    doc_id: str  # ASCII slug from the corpus file name; the stable id in chunk ids
    title: str
    doc_no: str  # 文号, e.g. 渝人社规〔2025〕23号 ("" when the document has none)
    issuers: tuple[str, ...]
    date: str  # ISO yyyy-mm-dd ("" when unknown)
    preamble: str
    articles: tuple[Article, ...]
    source_url: str = ""
    source_sha256: str = ""
    numbering: str = ""  # the numbering style the articles were found in
    missing: tuple[str, ...] = field(default=())  # metadata fields not found
    # The document as people cite and rank it (from its text, else its sidecar):
    short_title: str = ""  # 劳动合同法 for 中华人民共和国劳动合同法
    level: str = ""  # 法律 / 行政法规 / 部门规章 / 地方性法规 / 规范性文件
    jurisdiction: str = ""  # 全国 / 重庆市 …
    status: str = "in_force"  # in_force | superseded
    superseded_by: str = ""  # doc id of the document that replaces it
    dates: tuple[tuple[str, str], ...] = ()  # (adopted|amended|published|effective, ISO)

    def dates_of(self, kind: str) -> list[str]:
        return [d for k, d in self.dates if k == kind]

    def article(self, ordinal: int) -> Article:
        for a in self.articles:
            if a.ordinal == ordinal:
                return a
        raise KeyError(ordinal)

    def citation(self, ordinal: int) -> str:
        """《标题》（文号）第十条「heading」 — the form shown next to every quote."""
        art = self.article(ordinal)
        doc_no = f"（{self.doc_no}）" if self.doc_no else ""
        heading = f"「{art.heading}」" if art.heading else ""
        return f"《{self.title}》{doc_no}{art.cite_label}{heading}"


def policy_to_dict(p: Policy) -> dict[str, object]:
    """Plain JSON form (stored inside the index so answers and vectors always agree)."""
    return {
        "doc_id": p.doc_id, "title": p.title, "doc_no": p.doc_no, "issuers": list(p.issuers),
        "date": p.date, "preamble": p.preamble, "source_url": p.source_url,
        "source_sha256": p.source_sha256, "numbering": p.numbering, "missing": list(p.missing),
        "short_title": p.short_title, "level": p.level, "jurisdiction": p.jurisdiction,
        "status": p.status, "superseded_by": p.superseded_by,
        "dates": [list(d) for d in p.dates],
        "articles": [
            {"ordinal": a.ordinal, "label": a.label, "heading": a.heading, "chapter": a.chapter,
             "sentences": [s.text for s in a.sentences],
             "paragraphs": [s.paragraph for s in a.sentences],
             "items": [s.item for s in a.sentences]}
            for a in p.articles
        ],
    }


def policy_from_dict(d: dict[str, Any]) -> Policy:
    arts = tuple(
        Article(a["ordinal"], a["label"], a["heading"],
                tuple(Sentence(i + 1, t, p, it) for i, (t, p, it) in enumerate(zip(
                    a["sentences"], a.get("paragraphs") or [1] * len(a["sentences"]),
                    a.get("items") or [0] * len(a["sentences"]), strict=True))),
                a["chapter"])
        for a in d["articles"]
    )
    return Policy(
        doc_id=d["doc_id"], title=d["title"], doc_no=d["doc_no"], issuers=tuple(d["issuers"]),
        date=d["date"], preamble=d["preamble"], articles=arts, source_url=d["source_url"],
        source_sha256=d["source_sha256"], numbering=d["numbering"], missing=tuple(d["missing"]),
        short_title=d.get("short_title", ""), level=d.get("level", ""),
        jurisdiction=d.get("jurisdiction", ""), status=d.get("status", "in_force"),
        superseded_by=d.get("superseded_by", ""),
        dates=tuple((str(k), str(v)) for k, v in d.get("dates", [])),
    )
