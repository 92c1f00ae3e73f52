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

    def named_in(self, norm_question: str) -> set[str]:
        """Doc ids the question names: by a whole title (the longest wins: 劳动合同法实施条例
        over 劳动合同法), else by a shortening of one."""
        exact = {d: max(len(n) for n in names if n in norm_question)
                 for d, names in self._titles.items() if any(n in norm_question for n in names)}
        if exact:
            best = max(exact.values())
            return {d for d, n in exact.items() if n == best}
        found = set()
        for d, names in self._titles.items():
            for end in range(len(norm_question), 0, -1):
                if any(norm_question[:end].endswith(k) for k in _KINDS):
                    spans = (norm_question[i:end] for i in range(max(0, end - 16), end - 3))
                    if any(_is_shortening(s, t) for s in spans for t in names):
                        found.add(d)
                        break
        return found
