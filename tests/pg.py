"""A throwaway PostgreSQL server for tests: initdb in a temp folder, pg_ctl on a free port.

Nothing of the machine's own PostgreSQL set-up is used (no cluster, no service):
only the server binaries. initdb refuses to run as root, so under root the server
commands run as the ``postgres`` system user (Debian's package creates it; we
create it when missing) and the temp folder is handed to that user.

Use: ``from pg import pg_url`` in a test module (the fixture is session-scoped).
Without PostgreSQL binaries the fixture skips, naming the package to install.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_USER = "postgres"
DB_NAME = "policyqa_test"
INSTALL_HINT = "apt-get install -y postgresql"


def find_bindir() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres (newest version wins)."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 check=True, timeout=10).stdout.strip()
            candidates.append(Path(out))
        except (subprocess.SubprocessError, OSError):
            pass
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                      key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit()
                      else 0, reverse=True)
    candidates += [Path(p) for p in versions]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for c in candidates:
        if all((c / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return c
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ensure_user() -> None:
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", PG_USER], check=True, timeout=30)


class PgServer:
    """One server in ``root``; ``start()`` then ``url``; ``stop()`` removes everything."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        if self.as_root:
            _ensure_user()
        # Not under pytest's tmp_path: its parents are 0700 root, unreachable for postgres.
        self.root = Path(tempfile.mkdtemp(prefix="policyqa-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        if self.as_root:
            pw = pwd.getpwnam(PG_USER)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", PG_USER, "--", *cmd]
        return subprocess.run(cmd, cwd=self.root, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def _check(self, proc: subprocess.CompletedProcess[str], what: str) -> None:
        if proc.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{what} failed ({proc.returncode}):\n{proc.stdout}\n"
                               f"{proc.stderr}\n{log}")

    def start(self) -> None:
        self._check(self._run("initdb", "-D", str(self.data), "-U", PG_USER, "-A", "trust",
                              "-E", "UTF8", "--no-locale", "--no-sync"), "initdb")
        last: Exception | None = None
        for _ in range(3):  # the free port can be taken between probe and bind
            self.port = _free_port()
            opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            proc = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", opts,
                             "-w", "-t", "60", "start")
            try:
                self._check(proc, "pg_ctl start")
                break
            except RuntimeError as e:
                last = e
                time.sleep(0.5)
        else:
            raise RuntimeError(str(last))
        import psycopg  # the app's driver; creating the database needs no client binary

        with psycopg.connect(host="127.0.0.1", port=self.port, user=PG_USER,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DB_NAME} ENCODING 'UTF8' TEMPLATE template0")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{DB_NAME}"

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty UTF-8 database on a private server."""
    bindir = find_bindir()
    if bindir is None:
        pytest.skip(f"PostgreSQL server binaries not found (initdb/pg_ctl); {INSTALL_HINT}")
    server = PgServer(bindir)
    try:
        server.start()
        yield server.url
    finally:
        server.stop()


def create_database(server_url: str, name: str) -> str:
    """A new empty UTF-8 database on the same server; returns its URL (per-test isolation)."""
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
    finally:
        engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()
