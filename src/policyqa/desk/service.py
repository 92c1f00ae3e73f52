"""The officer desk, wired: 转人工 tickets, 差评 回访 and 命中测试 over one store.

Every surface (officer API, officer page) goes through :class:`DeskService`, which
checks the officer's role for each action and the citations of a reply against
the corpus (verbatim, like 问答库 quotes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from policyqa.chat import ChatService
from policyqa.desk.followups import MAX_TEXT, FollowupRepo
from policyqa.desk.probe import probe
from policyqa.desk.tickets import MAX_REPLY, TicketRepo
from policyqa.faq.model import InvalidEntry, check_citation, cite_dict, public_text_problem
from policyqa.roles import Actor


class DeskService:
    def __init__(self, chat: ChatService, faq: Any = None, overdue_hours: float = 24.0) -> None:
        self.chat = chat
        self.faq = faq  # FaqService: a ticket's answer becomes a 问答库 draft
        self.tickets = TicketRepo(chat.store, overdue_hours)
        self.followups = FollowupRepo(chat.store)

    # ---- 转人工 -------------------------------------------------------------------

    def reply(self, ticket_id: str, actor: Actor, body: str,
              citations: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
        actor.require("desk.tickets")
        body = (body or "").strip()
        if not body:
            raise InvalidEntry("回复内容不能为空")
        if len(body) > MAX_REPLY:
            raise InvalidEntry(f"回复不能超过{MAX_REPLY}字")
        policies = self.chat.qa.index.policies
        cites = []
        for raw in citations:  # verbatim, and with the citation the citizen will read
            c = check_citation(policies, raw)
            cites.append({**cite_dict(c), "citation": policies[c.doc_id].citation(c.article)})
        return self.tickets.reply(ticket_id, actor, body, cites)

    def ticket_to_draft(self, ticket_id: str, actor: Actor) -> dict[str, Any]:
        """The citizen's last question and the officer's last reply as a 问答库 draft: a
        question that needed a person once is likely to come again."""
        actor.require("faq.write")
        if self.faq is None:
            raise InvalidEntry("问答库未启用")
        t = self.tickets.get(ticket_id)
        if not t["replies"]:
            raise InvalidEntry("工单还没有回复，不能转为问答库草稿")
        question = t["last_question"] or t["reason"]
        problem = public_text_problem(question, "问题") if question else "工单没有问题"
        if problem:
            raise InvalidEntry(f"{problem}（请在问答库中手工新建条目）")
        last = t["replies"][-1]
        return dict(self.faq.repo.create(
            {"question": question, "answer_text": last["body"], "citations": last["citations"]},
            officer=actor.name, role=actor.role, policies=self.chat.qa.index.policies,
            origin="ticket", evidence={"ticket_id": ticket_id}))

    # ---- 差评 回访 -----------------------------------------------------------------

    def record_followup(self, fid: int, actor: Actor, fields: Mapping[str, Any]
                        ) -> dict[str, Any]:
        actor.require("desk.followups")
        for name in ("outcome", "fixed"):
            if len(fields.get(name) or "") > MAX_TEXT:
                raise InvalidEntry(f"{name} 不能超过{MAX_TEXT}字")
        if fields.get("close") and not (fields.get("outcome") or "").strip():
            current = self.followups.get(fid)
            if not current["outcome"].strip():
                raise InvalidEntry("关闭回访前请填写回访结果（outcome）")
        return self.followups.record(fid, actor, contacted=fields.get("contacted"),
                                     outcome=fields.get("outcome"), fixed=fields.get("fixed"),
                                     close=bool(fields.get("close")))

    # ---- 命中测试 and the dashboard ------------------------------------------------

    def probe(self, question: str, actor: Actor) -> dict[str, Any]:
        actor.require("desk.probe")
        return probe(self.chat, question)

    def stats(self) -> dict[str, Any]:
        return {"tickets": self.tickets.stats(), "followups": self.followups.stats()}
