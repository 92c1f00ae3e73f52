"""A running server picks up a new index build, and 问答库 changes made by other
processes, without a restart.

`policyqa index` (in another process) writes a new build and then flips the CURRENT
pointer. Every server polls that pointer; on a change it loads the new build beside the
one in service — the chat keeps answering from the old one meanwhile — runs the 问答库
stale check against it, and swaps the app's chat and officer services in one step. A
request in flight keeps the objects it started with and finishes on the old build,
which is released when the last such request is done. A build that fails to load is
logged and the old one kept. The 问答库 is checked the same way, more often (one cheap
read of its fingerprint): a publish on one replica is served by every replica.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from policyqa.errors import PolicyQAError

log = logging.getLogger("policyqa.reload")


def swap_if_new(state: Any) -> bool:
    """Load and switch to a new CURRENT build if there is one; True when switched."""
    with state.swap_lock:  # the watcher and a document change may both ask at once
        return _swap(state)


def _swap(state: Any) -> bool:
    from policyqa.api.wiring import services
    from policyqa.ingest.corpus import corpus_problems

    chat = state.chat
    if chat is None:
        return False
    try:
        qa = chat.qa.reopened()
    except PolicyQAError as e:
        log.error("new index build not loaded, still serving %s: %s",
                  chat.qa.index.build_name, e)
        return False
    if qa is None:
        return False
    new = services(qa, chat.store, tuple(corpus_problems(state.settings.corpus_dir)),
                   faq=state.faq, hot_ttl_s=chat.hot_ttl_s)
    state.chat, state.faq, state.problems = new.chat, new.faq, new.problems
    log.info("switched to index build %s (%s chunks)", qa.index.build_name,
             qa.index.manifest["counts"]["chunks"])
    return True


def faq_if_changed(state: Any) -> bool:
    """Reload the 问答库 view if another process changed it (a publish on another replica)."""
    faq = state.faq
    return bool(faq is not None and faq.refresh_if_changed())


class Poller:
    """Runs ``check(state)`` every ``interval_s`` seconds in a daemon thread, once the app
    is ready; an error is logged and the next tick tries again."""

    def __init__(self, state: Any, interval_s: float, check: Callable[[Any], bool],
                 name: str) -> None:
        self.state = state
        self.interval_s = interval_s
        self.check = check
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        if self.interval_s > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        self.state.ready.wait()
        while not self._stop.wait(self.interval_s):
            try:
                self.check(self.state)
            except Exception:  # never let the poller die: the next tick tries again
                log.exception("%s failed", self._thread.name)


def faq_vectors_due(state: Any) -> bool:
    """Take the 问答库's vector job if it is due (an import, a crashed holder)."""
    faq = state.faq
    return bool(faq is not None and faq.encode_pending())


def watchers(state: Any) -> list[Poller]:
    """What every server process polls: the index folder's CURRENT pointer (a new build),
    the 问答库's fingerprint (a change made by another process) and its vector job (its
    own thread: a run takes minutes and must not hold up the other two)."""
    s = state.settings
    return [Poller(state, s.index_poll_s, swap_if_new, "index-watcher"),
            Poller(state, s.faq_poll_s, faq_if_changed, "faq-watcher"),
            Poller(state, max(s.faq_poll_s, 2.0) if s.faq_poll_s else 0, faq_vectors_due,
                   "faq-vectors")]
