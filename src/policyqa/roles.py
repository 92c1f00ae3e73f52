"""Officer roles and what each may do: one table, checked by every surface.

``editor`` drafts, edits and submits 问答库 entries; ``reviewer`` also approves
(publishes), rejects and retires; ``admin`` also manages officers and documents.
Each role has every right of the ones before it. Tickets, 回访 and 命中测试 are
the daily work of every officer. Four eyes (nobody publishes what they wrote
themselves) is a rule of the entry, kept by the 问答库 repository.
"""

from __future__ import annotations

from dataclasses import dataclass

from policyqa.errors import Forbidden

ROLES = ("editor", "reviewer", "admin")

# action -> the least role that may do it
NEEDS: dict[str, str] = {
    "faq.read": "editor",
    "faq.write": "editor",  # create, draft, edit, import (imports land in review)
    "faq.submit": "editor",  # -> in_review, or back to draft
    "faq.publish": "reviewer",
    "faq.reject": "reviewer",
    "faq.retire": "reviewer",
    "desk.tickets": "editor",
    "desk.followups": "editor",
    "desk.probe": "editor",
    "officers": "admin",
    "documents": "admin",
}

# a 问答库 transition's target status -> the action it is
TRANSITION_ACTION = {"in_review": "faq.submit", "draft": "faq.submit",
                     "published": "faq.publish", "rejected": "faq.reject",
                     "retired": "faq.retire"}

ROLE_NAMES = {"editor": "编辑", "reviewer": "审核", "admin": "管理员"}


@dataclass(frozen=True)
class Actor:
    """Who does something: an officer and their role (``system`` for the service itself)."""

    name: str
    role: str

    def may(self, action: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(NEEDS[action])

    def require(self, action: str) -> Actor:
        if not self.may(action):
            need = ROLE_NAMES[NEEDS[action]]
            raise Forbidden(f"权限不足：此操作需要{need}（{NEEDS[action]}）及以上角色，"
                            f"你的角色是{ROLE_NAMES[self.role]}（{self.role}）")
        return self


SYSTEM = Actor("system", "admin")

