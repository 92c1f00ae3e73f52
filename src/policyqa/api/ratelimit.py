"""Per-citizen request budget: a citizen typing is never limited, a script hammering is (429).

The limiting is the ``limits`` library's fixed windows, two at once: a burst (a quarter of
the minute's budget in any 15 s window) and the minute's budget itself. Its counters
live where ``storage`` says: in memory (one process: tests, the CLI) or in the
channel's database (:class:`policyqa.store.ratecount.SqlCounterStorage`), which every
worker and replica shares, so a citizen has one budget however many processes serve
them. The key is the client address as uvicorn reports it: the peer, or the
X-Forwarded-For of a trusted proxy only (``POLICYQA_TRUSTED_PROXIES``).
"""

from __future__ import annotations

import time

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage, Storage
from limits.strategies import FixedWindowRateLimiter

BURST_WINDOW_S = 15


class RateLimiter:
    def __init__(self, per_minute: int, burst: int | None = None,
                 storage: Storage | None = None) -> None:
        self.per_minute = per_minute
        self.items: list[RateLimitItem] = []
        if per_minute > 0:
            burst = burst if burst is not None else max(1, per_minute // 4)
            self.items = [RateLimitItemPerSecond(burst, BURST_WINDOW_S),
                          RateLimitItemPerMinute(per_minute)]
        self.storage = storage or MemoryStorage()
        self._limiter = FixedWindowRateLimiter(self.storage)

    def shared(self, storage: Storage) -> RateLimiter:
        """The same budget counted in ``storage`` (the database, once it is open)."""
        limiter = RateLimiter(self.per_minute, storage=storage)
        limiter.items = self.items
        return limiter

    def check(self, key: str) -> float:
        """0 when allowed (the hit is counted), else the seconds to wait before retrying."""
        for item in self.items:
            if not self._limiter.hit(item, "policyqa", key):
                reset = self._limiter.get_window_stats(item, "policyqa", key).reset_time
                return max(0.001, reset - time.time())
        return 0.0
