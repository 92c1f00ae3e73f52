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
        """Doc ids the question names: by a whole title (the longest wins: 劳动合同法实施条例
        over 劳动合同法), else by a shortening of one."""
        q = norm_question
        exact = {d: max(len(n) for n in names if n in q)
                 for d, names in self._titles.items() if any(n in q for n in names)}
        if exact:
            best = max(exact.values())
            return {d for d, n in exact.items() if n == best}
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
