"""Multi-turn understanding: follow-ups and references to the previous answer.

Kept as small pure functions over normalised text, so the rules are testable
without a model. A follow-up (那小微企业呢？) is asked again together with the
previous question; a reference (具体是哪一条？) is answered from the previous
answer's citations.
"""

from __future__ import annotations

import re

from policyqa.text import normalize

_FOLLOWUP_START = re.compile(r"^(那|那么|那如果|如果是|要是|还有|另外|再问|同样|也|这个|那个|"
                             r"and |what about |how about )")
_ELLIPTICAL_END = re.compile(r"(呢|咧|嘞)[?？!！。.]*$")
_REFERENCE = re.compile(r"(哪一条|哪条|第几条|哪个条款|出处|依据是什么|政策依据|原文|哪个文件|"
                        r"哪份文件|which article|source)")
_SHORT = 8  # characters: shorter questions rarely stand on their own


def is_reference(question: str) -> bool:
    """Asks where the previous answer came from (具体是哪一条？ / 原文在哪)."""
    q = normalize(question)
    return bool(_REFERENCE.search(q)) and len(q) <= 16


def is_followup(question: str) -> bool:
    """Elliptical: 那小微企业呢？ / 还有别的补贴吗 / 如果是技工院校毕业生."""
    q = normalize(question)
    return bool(_FOLLOWUP_START.search(q) or _ELLIPTICAL_END.search(q)) or len(q) <= _SHORT


def with_context(question: str, previous: str) -> str:
    """The follow-up asked together with the question it follows."""
    return f"{previous.rstrip('？?。 ')}；{question}"
