"""Raw policy text (as published on a web page) -> :class:`Policy`.

The parser is deliberately general: page chrome is dropped by a small list of
patterns, articles are found by whichever numbering style (第X条 / 一、 / （一） /
1. / （1）) forms a consecutive run at the start of paragraphs, and a marker that
breaks the run (a nested sub-list, a cross-reference such as 按第七条规定…) stays
body text. Every sentence is an exact substring of the source file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from policyqa.errors import CorpusError
from policyqa.ingest.facts import DATE, Front, dated_lines, header_bodies, iso, with_facts
from policyqa.ingest.model import Article, Policy, Sentence
from policyqa.text import cn_to_int, split_sentences

_CN_NUM = "一二三四五六七八九十百零〇两"
# Numbering styles, outermost first. Group 1 is the number as written.
STYLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("第X条", re.compile(rf"^第([{_CN_NUM}\d]+)条(?![规所的中至、和及与之款项第])[\s　]*")),
    ("一、", re.compile(rf"^([{_CN_NUM}]+)(?:[、．][\s　]*|$)")),  # a bare "三" heading too
    ("（一）", re.compile(rf"^[（(]([{_CN_NUM}]+)[）)][\s　]*")),
    ("1.", re.compile(r"^(\d{1,3})(?:[、．]|\.(?!\d))[\s　]*")),
    ("（1）", re.compile(r"^[（(](\d{1,3})[）)][\s　]*")),
)
_CHAPTER = re.compile(rf"^第([{_CN_NUM}\d]+)[章编节](?![规所的中])[\s　]*(.*)$")

# Web-page chrome, matched against whole lines so that body text is never lost:
# a FOOTER line ends the document; a line made only of CHROME labels, or a page
# META line, is dropped. Extend these when a new site is added.
_FOOTER = re.compile(r"^(扫一扫在手机打开当前页.*|【?打印本页】?|【?关闭窗口】?|相关链接[:：]?"
                     r"|上一篇[:：].*|下一篇[:：].*)$")
_CHROME = frozenset("下载文字版 下载图片版 政策解读 图片解读 视频解读 打印本页 【打印本页】 "
                    "关闭窗口 【关闭窗口】 分享到 收藏 打印 关闭".split())
_META_LINE = re.compile(r"^((字号|来源|发布时间|浏览次数|索引号|分享到)[:：].*|【字体.*"
                        r"|.{0,30}行政规范性文件|[(（]此件(主动|依申请)?公开[)）])$")
_DOC_NO = re.compile(r"[\u4e00-\u9fa5]{1,12}[〔［\[﹝【(（]\d{4}[〕］\]﹞】)）]\d+号")
_AGENCY = re.compile(
    r"^[\u4e00-\u9fa5（）()]{2,40}(局|委员会|委|厅|部|办公室|办|总工会|工会|中心|人民政府|政府|院|署|联合会|协会)$"
)
_SENT_PUNCT = "。！？；：:，,"
_HEADING_MAX = 30


@dataclass(frozen=True)
class _Para:
    text: str  # stripped line, an exact substring of the source
    start: int  # offset of ``text`` in the source
    line: int
    level: int = 0  # markdown heading level (# = 1, ## = 2); 0 for a plain line


# Markdown transcriptions (`# title`, `## 第一章 总则`, `<!-- … -->`): the heading marks
# are markup, not text, so a heading's text starts after them.
_MD_HEADING = re.compile(r"^(#{1,6})[ \t　]+")
_MD_COMMENT = re.compile(r"^<!--.*-->$")


def _paragraphs(raw: str) -> list[_Para]:
    """Non-empty, non-chrome lines up to the page footer, with source offsets."""
    paras: list[_Para] = []
    pos = 0
    for lineno, line in enumerate(raw.splitlines(keepends=True)):
        body = line.strip(" \t\r\n\u3000\xa0\ufeff")
        start = pos + line.find(body) if body else pos
        pos += len(line)
        if not body or _MD_COMMENT.match(body):
            continue
        level = 0
        if m := _MD_HEADING.match(body):
            level, start, body = len(m.group(1)), start + m.end(), body[m.end():]
            if not body:
                continue
        if _FOOTER.match(body):
            break
        if _META_LINE.match(body) or all(tok in _CHROME for tok in body.split()):
            continue
        if paras and paras[-1].text == body:  # a header printed twice in a row
            continue
        paras.append(_Para(body, start, lineno, level))
    return paras


def _find_articles(paras: list[_Para]) -> tuple[str, list[tuple[int, str]]]:
    """Pick the outermost numbering style that forms a run 1, 2, 3 …; return its hits.

    A chapter line (第X章) lets the count restart at 1, so documents that
    number articles per chapter still parse.
    """
    for name, pat in STYLES:
        hits: list[tuple[int, str]] = []
        expected = 1
        after_chapter = False
        for i, p in enumerate(paras):
            if _CHAPTER.match(p.text):
                after_chapter = True
                continue
            m = pat.match(p.text)
            if not m:
                continue
            n = cn_to_int(m.group(1))
            if n == expected or (after_chapter and n == 1 and hits):
                hits.append((i, m.group(1)))
                expected = (n or 0) + 1
                after_chapter = False
        if len(hits) >= 2 or (hits and name == "第X条"):
            return name, hits
    return "", []


def _heading(first: str, n_sentences: int) -> str:
    """The first sentence is the heading when it is short (一、打造产教评技能生态链。)."""
    h = first.rstrip("。！？；;.!?：: ")
    if len(h) <= _HEADING_MAX and (n_sentences > 1 or not first.endswith("。")):
        return h
    return h[:18] + "…" if len(h) > 20 else h


_ITEM = re.compile(rf"^[（(]([{_CN_NUM}]+)[）)]")


def _article(ordinal: int, label: str, paras: list[_Para], marker: re.Pattern[str],
             chapter: str) -> Article:
    """Its sentences, each with the 款 and 项 it is in: every line is a new 款, except an
    item line （一）… (when items are not the document's own article numbering), which
    belongs to the 款 that introduces it."""
    sentences: list[tuple[str, int, int]] = []
    paragraph = 0
    items = marker.pattern != STYLES[2][1].pattern
    for j, p in enumerate(paras):
        text = p.text
        if j == 0:
            m = marker.match(text)
            text = text[m.end():] if m else text
        item_m = _ITEM.match(text) if items and j > 0 and paragraph else None
        item = cn_to_int(item_m.group(1)) or 0 if item_m else 0
        if not item:
            paragraph += 1
        sentences.extend((s, paragraph, item) for s in split_sentences(text))
    if marker.pattern == STYLES[0][1].pattern:  # 第X条: a law's articles have no headings,
        first = paras[0].text[m.end():] if paras and (m := marker.match(paras[0].text)) else ""
        heading = first if first and len(first) <= _HEADING_MAX and not any(  # …but for
            ch in first for ch in _SENT_PUNCT + "。") else ""  # a heading-only line 第四条 补贴
    else:
        heading = _heading(sentences[0][0], len(sentences)) if sentences else ""
    return Article(ordinal, label, heading,
                   tuple(Sentence(k + 1, s, para, item)
                         for k, (s, para, item) in enumerate(sentences)), chapter)


def _front_matter(raw: str, paras: list[_Para]) -> Front:
    """Metadata and the article-0 sentences from everything before article 1."""
    f = Front()
    skip: set[int] = set()
    no_idx = next((i for i, p in enumerate(paras) if _DOC_NO.fullmatch(p.text)), None)
    if no_idx is not None:
        f.doc_no = paras[no_idx].text
        # The notice title is the run of short, unpunctuated lines just above the 文号.
        k = no_idx
        while k > 0 and len(paras[k - 1].text) <= 40 and paras[k - 1].text[-1] not in _SENT_PUNCT:
            k -= 1
        f.notice_title = "".join(p.text for p in paras[k:no_idx])
        skip.update(range(k, no_idx))
    else:
        m = next((_DOC_NO.search(p.text) for p in paras if _DOC_NO.search(p.text)), None)
        f.doc_no = m.group(0) if m else ""
    enclosed = re.search(r"(?:印发|转发|颁布)《(.+?)》", f.notice_title)
    f.title = enclosed.group(1) if enclosed else f.notice_title
    h1 = next((i for i, p in enumerate(paras) if p.level == 1), None)
    if h1 is not None and not f.title:  # a transcription's `# title`
        f.title = paras[h1].text
        skip.add(h1)
    if not f.title:  # no 文号 block: a short unpunctuated line that reads like a title
        for i, p in enumerate(paras):
            if len(p.text) <= 60 and p.text[-1] not in _SENT_PUNCT and re.search(
                    r"(办法|措施|通知|规定|意见|方案|细则|决定|条例|公告)$", p.text):
                f.title = p.text
                skip.add(i)
                break
    f.dates = dated_lines([p.text for p in paras])
    date_idx = next((i for i, p in enumerate(paras) if DATE.fullmatch(p.text)), None)
    if date_idx is not None:
        f.date = iso(DATE.fullmatch(paras[date_idx].text))  # type: ignore[arg-type]
        k = date_idx
        while k > 0 and _AGENCY.match(paras[k - 1].text):
            k -= 1
        f.issuers = tuple(p.text for p in paras[k:date_idx])
    f.issuers = f.issuers or header_bodies([p.text for p in paras])
    # Article-0 sentences: verbatim, issuer lines kept together as one block.
    out: list[str] = []
    last_meta = max([i for i in (no_idx, date_idx) if i is not None], default=-1)
    preamble: list[str] = []
    i = 0
    while i < len(paras):
        p = paras[i]
        if i in skip or p.text == f.title:
            last_meta = max(last_meta, i) if p.text == f.title else last_meta
            i += 1
            continue
        if f.issuers and p.text == f.issuers[0] and date_idx is not None:
            end = paras[date_idx - 1]
            out.append(raw[p.start : end.start + len(end.text)])
            i = date_idx
            continue
        out.extend(split_sentences(p.text))
        i += 1
    for p in paras[last_meta + 1 :]:
        if p.text not in f.issuers and p.text != f.title:
            preamble.append(p.text)
    f.preamble = "".join(preamble)
    f.sentences = tuple(Sentence(k + 1, s) for k, s in enumerate(out))
    return f


def parse_policy(raw: str, *, doc_id: str, source_name: str, source_url: str = "",
                 source_sha256: str = "", overrides: dict[str, Any] | None = None) -> Policy:
    """Parse one document. Raises :class:`CorpusError` naming ``source_name`` and the reason."""
    if "\x00" in raw:
        raise CorpusError(f"{source_name}: binary content (NUL bytes), not a text document",
                          file=source_name)
    paras = _paragraphs(raw)
    if not paras:
        raise CorpusError(f"{source_name}: the file is empty (no text after removing page chrome)",
                          file=source_name)
    style, hits = _find_articles(paras)
    if not hits:
        raise CorpusError(f"{source_name}: no numbered articles found "
                          "(expected paragraphs starting 第X条 / 一、 / （一） / 1.)",
                          file=source_name)
    marker = dict(STYLES)[style]
    front = _front_matter(raw, [p for p in paras[: hits[0][0]] if not _CHAPTER.match(p.text)])
    articles = [Article(0, "", "", front.sentences)] if front.sentences else []
    chapter = ""
    bounds = [h[0] for h in hits] + [len(paras)]
    for n, (start, label) in enumerate(hits, start=1):
        # The last chapter line since the previous article opens this article's chapter.
        for p in paras[bounds[n - 2] if n > 1 else 0 : start]:
            chapter = _within(chapter, p.text)
        body = [p for p in paras[start : bounds[n]] if not _CHAPTER.match(p.text)]
        articles.append(_article(n, label, body, marker, chapter))
    return with_facts(doc_id, front, tuple(articles), overrides or {}, source_url=source_url,
                       source_sha256=source_sha256, numbering=style)


def _within(context: str, line: str) -> str:
    """The 章 (and 节) an article is in after ``line``: a 节 adds to its 章
    (第二章 劳动合同的订立 第一节 一般规定), a new 章 or 编 starts afresh."""
    m = _CHAPTER.match(line)
    if not m:
        return context
    if "节" not in line[: m.end(1) + 1]:
        return line
    chapter = context.split(" 第", 1)[0] if "节" in context else context
    return f"{chapter} {line}".strip() if chapter else line
