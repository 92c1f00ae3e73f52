"""What the app serves, assembled from one pipeline: shared by the start-up loader and
the switch to a new index build (policyqa.api.reload), so both wire it the same way."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("policyqa.api")


@dataclass(frozen=True)
class Loaded:
    """What a loader hands the app: the chat, the officer side, and the problems
    found while loading that did not stop it (a broken corpus file: the last good
    index is served, the problem reported on /readyz and to officers)."""

    chat: Any
    faq: Any = None
    problems: tuple[dict[str, str], ...] = ()


def services(qa: Any, store: Any, problems: tuple[dict[str, str], ...] = (), *,
             faq: Any = True, hot_ttl_s: float | None = None) -> Loaded:
    """The chat and officer services on one pipeline: the 问答库 checked against its index
    (entries whose quotes no longer hold are flagged stale and not served) and matched
    before the policy retrieval. ``faq``: True for a new 问答库 view, a previous
    FaqService whose encoded wordings are reused (none is encoded twice), or None for
    an app without the officer side."""
    from policyqa.chat import HOT_TTL_S, ChatService
    from policyqa.faq.service import FaqService

    officer = None
    if faq is not None:
        officer = FaqService(qa, store)
        if faq is not True:
            officer.matcher.take_vectors(faq.matcher)
        stale = officer.start()
        if stale:
            log.warning("问答库: %d entries flagged stale by the index", len(stale))
    chat = ChatService(qa, store, officer.matcher if officer else None,
                       hot_ttl_s=HOT_TTL_S if hot_ttl_s is None else hot_ttl_s)
    return Loaded(chat, officer, problems)
