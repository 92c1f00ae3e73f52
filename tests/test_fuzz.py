"""A bounded schema fuzz of the running service (schemathesis, from its own OpenAPI
document): schema examples, boundary values (the coverage phase: huge numbers, empty
and over-long strings, wrong types) and random valid and invalid requests to every
operation, officer routes with a valid token. No response may be a server error, an
undocumented status code or content type, or a body outside the documented schema.

Bounded and repeatable: a fixed seed and a cap on examples per operation; the
red-team's 35,000 cases are not rerun here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from live import Server, live_server
from policyqa.faq.officers import add_officer
from policyqa.settings import Settings
from policyqa.store import Store

MAX_EXAMPLES = 50  # per operation and phase
TIMEOUT_S = 420  # the whole run (about 2 minutes here)
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(settings: Settings, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[Server, str]]:
    tmp = tmp_path_factory.mktemp("fuzz")
    store = Store.open(Settings(data_dir=tmp / "data"))
    token = add_officer(store, "fuzzer")
    store.close()
    with live_server(settings, tmp, POLICYQA_RATE_LIMIT_PER_MINUTE="0") as srv:
        yield srv, token


def schemathesis_cli() -> list[str]:
    exe = Path(sys.executable).with_name("schemathesis")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("schemathesis")
    if found is None:
        pytest.skip("schemathesis not installed (pip install -e '.[dev]')")
    return [found]


def test_schema_fuzz_finds_no_server_error(served: tuple[Server, str], tmp_path: Path) -> None:
    srv, token = served
    cmd = [*schemathesis_cli(), "run", f"{srv.base}/openapi.json",
           "--phases", "examples,coverage,fuzzing", "--checks", CHECKS,
           "--max-examples", str(MAX_EXAMPLES), "--generation-deterministic",
           "--seed", "12333", "--workers", "1",
           "--request-timeout", "30", "-H", f"Authorization: Bearer {token}",
           "--suppress-health-check", "all", "--no-color"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S,
                         stdin=subprocess.DEVNULL, cwd=tmp_path)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-6000:] + "\n--- server log ---\n" + srv.tail()
    assert "passed" in out.lower() or "no issues found" in out.lower(), out[-3000:]
    assert srv.proc.poll() is None  # the server is still up
    print(out[-1500:])  # the run's summary (pytest -s shows it)
