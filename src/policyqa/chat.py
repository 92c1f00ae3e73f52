"""The citizen channel: one chat turn = understand in context, answer, suggest, record.

Every surface (HTTP API, Gradio widget) goes through :class:`ChatService`, so there
is one code path for answers. It adds what a conversation needs on top of
:class:`~policyqa.service.PolicyQA`: sessions, follow-ups, 猜你想问 (related questions
that are known to be answerable), 热点问题 and the 转人工 offer.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from policyqa import messages as msg
from policyqa.answer import Answer
from policyqa.dialog import is_followup, is_reference, with_context
from policyqa.errors import InvalidQuestion
from policyqa.faq.match import FaqMatch, FaqMatcher, faq_answer
from policyqa.lexicon import resource_lines
from policyqa.service import PolicyQA, check_question
from policyqa.store import Store
from policyqa.store.insight import asked_clauses
from policyqa.text import normalize

MAX_RELATED = 4
MAX_REPLAY = 6  # earlier questions of a client-kept conversation replayed for context
HOT_DAYS = 30  # 热点问题 rank by what was asked in this window
HOT_TTL_S = 60.0  # and re-count at most this often (one read of recent answers)
# Refusals a 问答库 hit may override: the pipeline was merely unsure. Every other reason
# (place, other document, HR topic, sum, list of items, date) is about what is asked.
FAQ_MAY_OVERRIDE = frozenset({"low_confidence", "no_match"})
FAQ_STRONG = 0.97  # cosine at which a 问答库 hit wins even against a confident clause


def faq_wins(m: FaqMatch, policy: Answer) -> bool:
    """Whether a 问答库 hit answers instead of the policy pipeline (pure, see faq_eval).

    It wins where the pipeline was unsure or agrees with it (same clause first); when
    the pipeline confidently cites another clause, only a near-identical wording wins.
    Measured by bench/faq_eval.py: without the agreement rule, auto-drafted entries took
    6 dev and 2 held-out questions to a wrong clause.
    """
    if policy.status == "refused":
        return policy.reason in FAQ_MAY_OVERRIDE
    cited = m.entry["citations"][0] if m.entry["citations"] else None
    own = (cited["doc_id"], int(cited["article"])) if cited else None
    first = policy.citations[0]
    return own == (first.doc_id, first.article) or m.exact or m.score >= FAQ_STRONG


@dataclass(frozen=True)
class ChatTurn:
    answer_id: str
    session_id: str
    status: str
    source: str  # faq | policy | none
    answer_text: str
    citations: list[dict[str, Any]]
    related_questions: list[str]
    handoff: dict[str, Any]
    latency_ms: float
    reason: str = ""
    notes: list[str] = field(default_factory=list)


def _curated_hot() -> list[str]:
    return resource_lines("hot_questions.txt")


class ChatService:
    def __init__(self, qa: PolicyQA, store: Store, faq: FaqMatcher | None = None, *,
                 hot_ttl_s: float = HOT_TTL_S) -> None:
        self.qa = qa
        self.store = store
        self.hot_ttl_s = hot_ttl_s
        self.faq = faq  # published 问答库 entries, matched before the policy retrieval
        # Suggestions are only ever questions this service answers (checked once here).
        self.hot_curated: list[tuple[str, tuple[str, int]]] = []  # (question, its clause)
        self._by_article: dict[tuple[str, int], list[str]] = {}
        self._asked: tuple[float, dict[tuple[str, int], int]] | None = None
        for q in _curated_hot():
            ans = qa.ask(q)
            if ans.status == "answered":
                key = (ans.citations[0].doc_id, ans.citations[0].article)
                self.hot_curated.append((q, key))
                self._by_article.setdefault(key, []).append(q)
        for p in qa.index.policies.values():
            for a in p.articles:
                if not a.ordinal or not a.heading:
                    continue
                q = msg.RELATED_FROM_HEADING.format(heading=a.heading)
                ans = qa.ask(q)
                if ans.status == "answered" and ans.citations[0].article == a.ordinal:
                    self._by_article.setdefault((p.doc_id, a.ordinal), []).append(q)

    # ---- one turn --------------------------------------------------------------

    def chat(self, question: str, session_id: str | None = None,
             channel: str | None = None, history: Sequence[str] = ()) -> ChatTurn:
        """One turn. ``history``: the earlier questions of a conversation the client keeps
        (an OpenAI client sends them all each time), for a turn without a session."""
        t0 = time.perf_counter()
        check_question(question)
        new = session_id is None
        session_id = self.store.new_session_id() if session_id is None else session_id
        previous = self.context_of(history) if new else self.store.last_answered(session_id)
        ans, source = self.understand(question, previous)
        cites = [c.to_dict() for c in ans.citations]
        text = ans.text
        if previous and is_reference(question) and ans.status == "answered":
            text = msg.REFERENCE_LEAD + "\n" + ans.text
        latency = round((time.perf_counter() - t0) * 1000, 1)
        answer_id = self.store.add_turn(
            session_id=session_id, question=question, normalized=normalize(question),
            status=ans.status, source=source, answer_text=text, citations=cites,
            reason=ans.reason, latency_ms=latency, channel=channel or "web", create=new)
        refused = ans.status == "refused"
        return ChatTurn(
            answer_id=answer_id, session_id=session_id, status=ans.status, source=source,
            answer_text=text, citations=cites, related_questions=self.related(ans, question),
            handoff={"suggested": refused, "hotline": msg.HOTLINE,
                     "text": msg.HANDOFF_REFUSED if refused else msg.HANDOFF_AVAILABLE},
            latency_ms=latency, reason=ans.reason, notes=list(ans.notes))

    def context_of(self, history: Sequence[str]) -> dict[str, Any] | None:
        """The previous answered turn of a conversation kept by the client: its last
        questions replayed as a session would have taken them (a follow-up of a
        follow-up is understood the same way), nothing recorded."""
        previous: dict[str, Any] | None = None
        for q in list(history)[-MAX_REPLAY:]:
            try:
                check_question(q)
            except InvalidQuestion:
                continue
            ans, _ = self.understand(q, previous)
            if ans.status == "answered":
                previous = {"question": q}
        return previous

    def understand(self, question: str, previous: dict[str, Any] | None = None
                   ) -> tuple[Answer, str]:
        """The 问答库 first; else answer alone, or in the context of the previous question."""
        if previous and is_reference(question):
            return self.qa.ask(previous["question"]), "policy"
        policy: Answer | None = None  # the question asked alone, once
        if self.faq is not None and len(self.faq):
            _, _, qvec = self.qa.retriever.embed_query(question)
            m = self.faq.match(question, qvec)
            if m is not None:
                policy = self.qa.ask(question)
                if faq_wins(m, policy):
                    ans = faq_answer(m, question, self.qa.index.policies)
                    # 猜你想问 comes from the policy ranking of the neighbouring clauses.
                    ranked = tuple(dict.fromkeys(ans.ranked + policy.ranked))
                    return replace(ans, ranked=ranked), "faq"
        if previous and is_followup(question):
            in_context = self.qa.ask(with_context(question, previous["question"]))
            if in_context.status == "answered":
                return in_context, "policy"
        alone = policy or self.qa.ask(question)
        return alone, "policy" if alone.status == "answered" else "none"

    # ---- suggestions --------------------------------------------------------------

    def related(self, ans: Answer, question: str) -> list[str]:
        """猜你想问: answerable questions about the neighbouring clauses of this answer."""
        out: list[str] = []
        own = (ans.citations[0].doc_id, ans.citations[0].article) if ans.citations else None
        keys = [k for k in ans.ranked if k != own]
        if not ans.citations:  # refused: offer what we can answer, nearest first
            keys = list(ans.ranked)
        for key in keys:
            faq = self.faq.questions_for(key) if self.faq is not None else []
            for q in [*faq, *self._by_article.get(key, [])]:
                if q != question and q not in out:
                    out.append(q)
                    break
            if len(out) >= MAX_RELATED:
                break
        return out

    def hot_questions(self, limit: int = 8) -> list[str]:
        """热点问题: approved wordings only — the curated list and published 问答库
        questions — those whose clause citizens asked about most in the last 30 days
        first (one per clause), then the rest in curated order.

        Never what a citizen typed: a question carrying a phone number or an advert,
        asked three times, would otherwise be shown to every visitor."""
        wordings = [*(self.faq.published() if self.faq is not None else []),
                    *self.hot_curated]
        asked = self._asked_counts()
        order = sorted(range(len(wordings)), key=lambda i: -asked.get(wordings[i][1], 0))
        out: list[str] = []
        seen: set[str] = set()
        clauses: set[tuple[str, int]] = set()
        for i in order:  # a stable sort: equal counts keep 问答库, then curated order
            q, key = wordings[i]
            if normalize(q) in seen or (asked.get(key, 0) and key in clauses):
                continue
            seen.add(normalize(q))
            clauses.add(key)
            out.append(q)
        return out[:limit]

    def _asked_counts(self) -> dict[tuple[str, int], int]:
        """Answers per clause over the last 30 days, re-read at most every ``hot_ttl_s``."""
        if self._asked is None or time.monotonic() - self._asked[0] >= self.hot_ttl_s:
            self._asked = (time.monotonic(), asked_clauses(self.store, days=HOT_DAYS))
        return self._asked[1]
