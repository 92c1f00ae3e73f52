"""The rate-limit counters in the database: one budget per citizen, whichever worker or
replica counts it (two Store engines stand for two processes), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pg import create_database, drop_database
from policyqa.api.ratelimit import RateLimiter
from policyqa.store import Store
from policyqa.store.ratecount import SqlCounterStorage


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rl.db'}"
        return
    server = request.getfixturevalue("pg_url")
    name = f"rl_{uuid.uuid4().hex[:8]}"
    url = create_database(server, name)
    yield url
    drop_database(server, name)


@pytest.fixture()
def two_processes(db_url: str) -> Iterator[tuple[Store, Store]]:
    a, b = Store.open(db_url), Store.open(db_url)
    yield a, b
    a.close()
    b.close()


def test_a_window_counts_then_starts_again(two_processes: tuple[Store, Store]) -> None:
    clock = Clock()
    s = SqlCounterStorage(two_processes[0].engine, clock)
    assert [s.incr("k", 10) for _ in range(3)] == [1, 2, 3]
    assert s.get("k") == 3 and s.get_expiry("k") == clock.now + 10
    assert s.get("other") == 0
    clock.now += 10  # the window has ended: the next hit opens a new one
    assert s.get("k") == 0
    assert s.incr("k", 10) == 1 and s.get_expiry("k") == clock.now + 10
    s.clear("k")
    assert s.get("k") == 0 and s.check()


def test_concurrent_hits_from_two_processes_are_all_counted(
        two_processes: tuple[Store, Store]) -> None:
    """Hits at once from two engines on one database: none lost, none counted twice."""
    a, b = (SqlCounterStorage(st.engine) for st in two_processes)
    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda i: (a if i % 2 else b).incr("citizen", 60), range(200)))
    assert sorted(counts) == list(range(1, 201))
    assert a.get("citizen") == b.get("citizen") == 200


def test_two_workers_share_one_budget(two_processes: tuple[Store, Store]) -> None:
    """A citizen who alternates between workers gets the budget once, not once per worker."""
    base = RateLimiter(per_minute=8)  # a burst of 2 per 15 s
    w1, w2 = (base.shared(SqlCounterStorage(st.engine)) for st in two_processes)
    assert w1.check("198.51.100.7") == 0.0
    assert w2.check("198.51.100.7") == 0.0
    wait = w1.check("198.51.100.7")
    assert 0 < wait <= 15
    assert w2.check("198.51.100.7") > 0
    assert w2.check("203.0.113.1") == 0.0  # another citizen, another budget
