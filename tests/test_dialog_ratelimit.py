"""Pure rules of the chat channel: follow-up detection and the per-client rate limiter."""

from __future__ import annotations

import pytest

from policyqa.api.ratelimit import RateLimiter
from policyqa.dialog import is_followup, is_reference, with_context


@pytest.mark.parametrize("q", ["那小微企业呢？", "如果是技工院校毕业生", "还有别的补贴吗", "那个呢",
                               "小微企业呢"])
def test_followups(q: str) -> None:
    assert is_followup(q)


@pytest.mark.parametrize("q", ["我们公司招了应届生，有补贴吗？", "企业新型学徒制培训有补贴吗？",
                               "职工教育经费有多少要用于一线职工"])
def test_standalone_questions_are_not_followups(q: str) -> None:
    assert not is_followup(q)


@pytest.mark.parametrize(("q", "ref"), [("具体是哪一条？", True), ("出处在哪", True),
                                        ("政策依据是什么", True), ("小微企业有社保补贴吗", False)])
def test_reference_questions(q: str, ref: bool) -> None:
    assert is_reference(q) is ref


def test_with_context_keeps_both() -> None:
    out = with_context("那小微企业呢？", "招用应届毕业生有补贴吗？")
    assert out.startswith("招用应届毕业生有补贴吗") and out.endswith("那小微企业呢？")


def test_rate_limiter_burst_then_retry_after() -> None:
    rl = RateLimiter(per_minute=60, burst=3)
    assert [rl.check("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = rl.check("a")
    assert 0 < wait <= 15  # the burst window (15 s) must end first
    assert rl.check("b") == 0.0  # clients are limited independently


def test_rate_limiter_disabled() -> None:
    rl = RateLimiter(per_minute=0)
    assert all(rl.check("x") == 0.0 for _ in range(100))
