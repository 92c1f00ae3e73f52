"""Text primitives shared by ingestion, indexing and querying.

Normalise once, the same way on both sides: quotes shown to users always come
from the original text, while matching works on the normalised form
(NFKC width folding, traditional -> simplified, lower case, collapsed spaces).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

# Sentence ends: 。！？ and ； (a ；-clause is a self-contained provision in
# policy text, and finer units retrieve better), plus their ASCII forms.
_SENT_END = "。！？；!?;"
_CLOSERS = "”’」』）)】"
_SENT_RE = re.compile(rf"[^{_SENT_END}]*(?:[{_SENT_END}]+[{_CLOSERS}]*|$)")
_SPACE_RE = re.compile(r"\s+")
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_WORD_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[a-z0-9]+(?:\.[0-9]+)?%?")

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}


def cn_to_int(s: str) -> int | None:
    """Parse a Chinese numeral such as 十三 / 二十一 / 一百零五 (or plain digits)."""
    if s.isdigit():
        return int(s)
    total, cur = 0, 0
    for ch in s:
        if ch in CN_DIGITS:
            cur = CN_DIGITS[ch]
        elif ch in CN_UNITS:
            total += (cur or 1) * CN_UNITS[ch]
            cur = 0
        else:
            return None
    return total + cur


def int_to_cn(n: int) -> str:
    """Inverse of :func:`cn_to_int` for 0..999, as used in 第十三条 style labels."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    rest = n % 100
    tail = "" if rest == 0 else ("零" + int_to_cn(rest) if rest < 10 else
                                 ("一" + int_to_cn(rest) if rest < 20 else int_to_cn(rest)))
    return digits[n // 100] + "百" + tail


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc  # pure-Python converter with bundled dictionaries (no network)

    return opencc.OpenCC("t2s")


def is_well_formed(text: str) -> bool:
    """False for text holding a lone UTF-16 surrogate (JSON allows "\\ud800"; no
    encoder, database or page can store it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


CACHED_CHARS = 512  # texts up to this length share a cache; longer ones are not kept


def normalize(text: str) -> str:
    """Matching form: NFKC width folding, traditional->simplified, lower case, one space.

    Only short texts (questions) go through the cache: a cache keyed by unbounded
    text held gigabytes after a fuzzing run.
    """
    return _normalize_cached(text) if len(text) <= CACHED_CHARS else _normalize(text)


@lru_cache(maxsize=4096)
def _normalize_cached(text: str) -> str:
    return _normalize(text)


def _normalize(text: str) -> str:
    t = unicodedata.normalize("NFKC", text)
    t = "".join(ch for ch in t if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    t = _t2s().convert(t)
    return _SPACE_RE.sub(" ", t).strip().lower()


_DOC_NO_BRACKETS = str.maketrans("[［﹝【(（]］﹞】)）", "〔〔〔〔〔〔〕〕〕〕〕〕")


def doc_no_key(doc_no: str) -> str:
    """A 文号 as compared: 劳社部发[2008]3号, 劳社部发（2008）3号 and 劳社部发〔2008〕3号 are
    one number, printed with whichever brackets the source used."""
    return doc_no.strip().translate(_DOC_NO_BRACKETS)


def split_sentences(paragraph: str) -> list[str]:
    """Split a paragraph into sentences, each an exact substring (delimiters kept)."""
    out = []
    for m in _SENT_RE.finditer(paragraph):
        s = m.group(0)
        if s.strip():
            out.append(s.strip())
    return out


def cjk_bigrams(text: str) -> list[str]:
    """Character bigrams of each CJK run (single chars for runs of length one)."""
    grams: list[str] = []
    for run in _CJK_RE.findall(text):
        if len(run) == 1:
            grams.append(run)
        grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def load_terms(path: Path | None = None) -> list[str]:
    """Policy-term dictionary: one term per line (``term [freq] [tag]``, # comments)."""
    text = (path.read_text("utf-8") if path else
            resources.files("policyqa").joinpath("resources/policy_terms.txt").read_text("utf-8"))
    terms = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            terms.append(line.split()[0])
    return terms


class Tokenizer:
    """jieba word tokens (with the policy-term dictionary) plus optional CJK bigrams.

    A private ``jieba.Tokenizer`` instance keeps the global jieba state untouched.
    Stopwords and punctuation are dropped; output is never empty for
    non-empty CJK/alnum input.
    """

    def __init__(self, terms: Iterable[str], *, bigrams: bool = True,
                 stopwords: Iterable[str] = ()) -> None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        for term in terms:
            self._jieba.add_word(term, freq=20000)
        self.bigrams = bigrams
        self.stopwords = frozenset(stopwords)

    def words(self, text: str) -> list[str]:
        """jieba search-mode words of the normalised text, filtered."""
        norm = normalize(text)
        out = []
        for w in self._jieba.cut_for_search(norm):
            w = w.strip()
            if w and w not in self.stopwords and _WORD_RE.fullmatch(w):
                out.append(w)
        return out

    def tokenize(self, text: str) -> list[str]:
        toks = self.words(text)
        if self.bigrams:
            toks += ["#" + g for g in cjk_bigrams(normalize(text)) if g not in self.stopwords]
        return toks
