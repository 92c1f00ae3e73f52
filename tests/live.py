"""A real `policyqa serve` subprocess on a free loopback port, for the tests that need
one (the widget in Chromium, the schema fuzz, memory after a burst).

It uses the session's corpus, model and index folder (built by whoever comes first, the
server or the in-process `qa` fixture) and a private SQLite database.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from policyqa.settings import Settings

# Debian's Chromium, driven by Playwright (never a downloaded browser): the widget, the
# widget through nginx and the evaluation report are opened in it.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

REPO_ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT_S = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, base: str, data_dir: Path, proc: subprocess.Popen[bytes], log: Path,
                 env: dict[str, str]):
        self.base, self.data_dir, self.proc, self.log, self.env = base, data_dir, proc, log, env

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.data_dir / "policyqa.db")

    def get_json(self, path: str) -> Any:
        with urllib.request.urlopen(self.base + urllib.parse.quote(path), timeout=10) as r:
            return json.load(r)

    def rss_mb(self) -> float:
        """Resident memory of the server process, from /proc (Linux)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def worker_pids(self) -> set[int]:
        """The processes answering: the server itself, or its workers (``--workers N``)."""
        kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        return {int(k) for k in kids if _is_python(int(k))} or {self.proc.pid}

    def kill(self) -> None:
        """SIGKILL the whole replica (supervisor and workers), as a crash or OOM would."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def tail(self) -> str:
        return self.log.read_text("utf-8", errors="replace")[-3000:]


def _is_python(pid: int) -> bool:
    """A worker, not uvicorn's multiprocessing resource tracker (also a child)."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"resource_tracker" not in cmd


def server_env(settings: Settings, data_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ,
            "POLICYQA_CORPUS_DIR": str(settings.corpus_dir),
            "POLICYQA_INDEX_DIR": str(settings.index_dir),
            "POLICYQA_MODEL_DIR": str(settings.model_dir),
            "POLICYQA_DATA_DIR": str(data_dir),
            "POLICYQA_DATABASE_URL": "",
            "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "GRADIO_ANALYTICS_ENABLED": "False", **extra}


@contextmanager
def live_server(settings: Settings, tmp: Path, *, workers: int = 1, port: int = 0,
                **extra_env: str) -> Iterator[Server]:
    """Start the server (in a process group of its own, with its workers), wait for
    /readyz, yield it; terminate it afterwards."""
    srv = start_server(settings, tmp, workers=workers, port=port, **extra_env)
    try:
        yield srv
    finally:
        stop_server(srv)


def start_server(settings: Settings, tmp: Path, *, workers: int = 1, port: int = 0,
                 **extra_env: str) -> Server:
    data_dir, log = tmp / "data", tmp / "server.log"
    port = port or free_port()
    env = server_env(settings, data_dir, **extra_env)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "policyqa.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers)], cwd=REPO_ROOT, env=env,
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
    srv = Server(f"http://127.0.0.1:{port}", data_dir, proc, log, env)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{srv.tail()}")
            try:
                with urllib.request.urlopen(srv.base + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"/readyz not 200 after {READY_TIMEOUT_S}s:\n{srv.tail()}")
            time.sleep(0.5)
    except BaseException:
        stop_server(srv)
        raise
    return srv


def stop_server(srv: Server) -> None:
    if srv.proc.poll() is not None:
        return
    srv.proc.terminate()
    try:
        srv.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        srv.kill()


def call(srv: Server, method: str, path: str, body: Any = None, token: str = ""
         ) -> tuple[int, Any]:
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    req = urllib.request.Request(srv.base + path, data=data, method=method, headers={
        "Content-Type": "application/json", **({"Authorization": f"Bearer {token}"}
                                               if token else {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return int(r.status), json.load(r)
    except urllib.error.HTTPError as e:
        return int(e.code), e.read().decode("utf-8", "replace")
