"""Policies -> retrieval chunks with stable ids.

Sentence chunks (``<doc>/a10/s3``; ``<doc>/a46/p1/i5/s7`` in an article with several
款 or with 项) carry their article heading as context: on a
48-question probe this lifted e5-small Recall@1 from 0.79 to 0.90. Ids depend
only on the document id and positions in the text, so they survive rebuilds.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from policyqa.ingest.model import Policy

_ID = re.compile(r"^(?P<doc>[^/]+)/a(?P<article>\d+)(?:/p(?P<paragraph>\d+))?"
                 r"(?:/i(?P<item>\d+))?(?:/s(?P<sentence>\d+))?$")


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    article: int
    sentence: int  # 0 for an article-level chunk
    text: str  # what is embedded and matched: "heading：sentence"


def chunk_id(doc_id: str, article: int, sentence: int = 0, paragraph: int = 0,
             item: int = 0) -> str:
    """``<doc>/a46/p1/i5/s7``: the 款 (p) and 项 (i) only where the article has them."""
    return (f"{doc_id}/a{article}" + (f"/p{paragraph}" if paragraph else "")
            + (f"/i{item}" if item else "") + (f"/s{sentence}" if sentence else ""))


@functools.lru_cache(maxsize=1 << 16)
def parse_chunk_id(cid: str) -> tuple[str, int, int]:
    """(doc id, article, sentence) of a chunk id (its 款/项 parts are for people). Cached:
    every question's fusion groups hundreds of ids, always of the same few thousand."""
    m = _ID.match(cid)
    if not m:
        raise ValueError(f"not a chunk id: {cid!r}")
    return m["doc"], int(m["article"]), int(m["sentence"] or 0)


_DATE_ONLY = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")


def _front_context(policy: Policy, text: str) -> str:
    """Front-matter sentences say what they are, so 谁发的 / 哪天 / 文号 questions find them."""
    if text == policy.doc_no:
        return f"{policy.title} 文号"
    if _DATE_ONLY.match(text):
        return f"{policy.title} 成文日期 印发日期"
    if policy.issuers and text.startswith(policy.issuers[0]) and "\n" in text:
        return f"{policy.title} 发文机关 印发部门"
    return policy.title


def make_chunks(policy: Policy) -> list[Chunk]:
    """One chunk per sentence, with the article heading (front matter: the title)
    prepended — a law's article has none, so it gets the law's cited-as title and its
    chapter; an item's sentence also carries its lead-in (有下列情形之一的，…：), which
    says what the item is a case of."""
    chunks: list[Chunk] = []
    for art in policy.articles:
        leads = {s.paragraph: s.text for s in art.sentences if not s.item}  # the last: a lead-in
        for s in art.sentences:
            context = art.heading if art.ordinal else _front_context(policy, s.text)
            if art.ordinal and not context:  # a law's article: which law, which chapter
                context = " ".join(x for x in (policy.short_title, art.chapter) if x)
            if s.item and leads.get(s.paragraph) and leads[s.paragraph] != context:
                context = " ".join(x for x in (context, leads[s.paragraph].rstrip("：:")) if x)
            body = s.text.replace("\n", "、")
            text = body if body.startswith(context) else f"{context}：{body}"
            where = (s.paragraph, s.item) if art.structured else (0, 0)
            chunks.append(Chunk(chunk_id(policy.doc_id, art.ordinal, s.index, *where),
                                policy.doc_id, art.ordinal, s.index, text))
    return chunks
