"""Which held documents a question names: 按劳动合同法…, 工伤条例里…, 13条措施….

People name a document by its title, its cited-as title, or a shortening of it that keeps
its first characters and its kind (工伤条例 for 工伤保险条例, 失业条例 for 失业保险条例). Read
from the titles themselves, so any document added to the corpus is recognised.
"""

from __future__ import annotations

from collections.abc import Iterable

from policyqa.ingest.model import Policy
from policyqa.text import normalize

# The kinds of document a title ends with; a shortening keeps its kind.
_KINDS = ("实施条例", "实施办法", "条例", "办法", "规定", "措施", "通知", "意见", "细则", "法")
_MIN_SHORT = 4  # a shortening of fewer characters (劳动法) must match a title exactly


def _is_shortening(name: str, title: str) -> bool:
    """``name`` keeps ``title``'s kind and reads as a subsequence of it that starts with
    two of its characters in a row (工伤条例 / 工伤保险条例; 13条措施 / …工作13条措施)."""
    if len(name) < _MIN_SHORT or not any(name.endswith(k) and title.endswith(k) for k in _KINDS):
        return False
    start = title.find(name[:2])
    if start < 0:
        return False
    pos = start
    for ch in name:
        pos = title.find(ch, pos)
        if pos < 0:
            return False
        pos += 1
    return True


class DocumentNames:
    def __init__(self, policies: Iterable[Policy]) -> None:
        self._titles: dict[str, tuple[str, ...]] = {}
        for p in policies:
            names = {normalize(p.title), normalize(p.short_title)}
            self._titles[p.doc_id] = tuple(sorted((n for n in names if n), key=len,
                                                  reverse=True))
        # For shortenings: per kind, the titles of that kind with the character pairs a
        # shortening may start with (工伤 for 工伤保险条例).
        self._by_kind: dict[str, list[tuple[str, str, frozenset[str]]]] = {}
        for d, titles in self._titles.items():
            for t in titles:
                pairs = frozenset(t[i:i + 2] for i in range(len(t) - 1))
                for kind in (k for k in _KINDS if t.endswith(k)):  # 实施条例 is a 条例 too
                    self._by_kind.setdefault(kind, []).append((d, t, pairs))

    def named_in(self, norm_question: str) -> set[str]:
        """Doc ids the question names: by whole titles (社会保险法…重庆市失业保险条例 names
        two; a title inside a longer one named at the same place does not count: 劳动合同法
        in 劳动合同法实施条例), else by a shortening of one."""
        q = norm_question
        spans = [(i, i + len(n), d) for d, names in self._titles.items() for n in names
                 for i in _occurrences(q, n)]
        if spans:
            return {self._qualified(q, s, e, d) for s, e, d in spans
                    if not any(s2 <= s and e <= e2 and e2 - s2 > e - s
                               for s2, e2, _ in spans)}
        return self._shortened(q)

    def _qualified(self, q: str, start: int, end: int, doc: str) -> str:
        """重庆的失业保险条例 / 重庆失业保险条例 name 重庆市失业保险条例, not the national
        失业保险条例: a held title that is the named one with a place before it (重庆市…),
        that place said just before the name, is the document meant."""
        name = q[start:end]
        for d, titles in self._titles.items():
            for t in titles:
                place = t[:-len(name)].rstrip("市省") if t.endswith(name) else ""
                if d != doc and place and place in q[max(0, start - len(place) - 2):start]:
                    return d
        return doc

    def _shortened(self, q: str) -> set[str]:
        found: set[str] = set()
        for kind, titles in self._by_kind.items():
            end = q.find(kind)
            while end >= 0:
                stop = end + len(kind)
                for d, t, pairs in titles:
                    if d not in found and any(
                            q[i:i + 2] in pairs and _is_shortening(q[i:stop], t)
                            for i in range(max(0, stop - 16), stop - _MIN_SHORT + 1)):
                        found.add(d)
                end = q.find(kind, end + 1)
        return found


def _occurrences(text: str, part: str) -> list[int]:
    out, i = [], text.find(part)
    while i >= 0:
        out.append(i)
        i = text.find(part, i + 1)
    return out
