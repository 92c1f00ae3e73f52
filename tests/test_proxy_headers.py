"""Rate limits key on the client's address as seen through trusted proxies only: from a
trusted peer (nginx on loopback) X-Forwarded-For names the citizen; from any other peer
the header is ignored — a client cannot choose its own address and with it a fresh
rate-limit bucket. Against the real server (uvicorn's proxy-headers handling)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from live import Server, call, live_server
from policyqa.settings import Settings

pytestmark = pytest.mark.slow
LIMIT = {"POLICYQA_RATE_LIMIT_PER_MINUTE": "8"}  # a burst of 2, then 429


def statuses(srv: Server, forwarded: list[str]) -> list[int]:
    """The status of one rate-limited POST per X-Forwarded-For value (404: allowed — the
    session does not exist; 429: limited)."""
    out = []
    for ip in forwarded:
        req = urllib.request.Request(srv.base + "/api/v1/handoff", method="POST",
                                     data=json.dumps({"session_id": "none"}).encode(),
                                     headers={"Content-Type": "application/json",
                                              "X-Forwarded-For": ip})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                out.append(int(r.status))
        except urllib.error.HTTPError as e:
            out.append(int(e.code))
    return out


@pytest.fixture(scope="module")
def trusted(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with live_server(settings, tmp_path_factory.mktemp("trusted"), **LIMIT) as srv:
        yield srv  # the default: loopback (the proxy in front) is trusted


@pytest.fixture(scope="module")
def untrusted(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with live_server(settings, tmp_path_factory.mktemp("untrusted"),
                     POLICYQA_TRUSTED_PROXIES="[]", **LIMIT) as srv:
        yield srv


def test_through_a_trusted_proxy_each_citizen_has_a_bucket(trusted: Server) -> None:
    assert statuses(trusted, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) == [404] * 3
    assert statuses(trusted, ["198.51.100.7"] * 3) == [404, 404, 429]


def test_a_forwarded_header_from_an_untrusted_peer_is_ignored(untrusted: Server) -> None:
    """The spoof: a new X-Forwarded-For on every request does not buy a new bucket."""
    assert statuses(untrusted, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) == [404, 404, 429]
    assert call(untrusted, "GET", "/healthz")[0] == 200
