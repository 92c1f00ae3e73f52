"""The deployment of deploy/nginx/policyqa.conf, for real: PostgreSQL, two replicas of two
workers each (``policyqa serve --workers 2``) and Debian's nginx in front, every one a
real process on loopback. Only the addresses in the config are replaced.

Checked through nginx: a conversation whose turns land on both replicas; a 问答库
publish on one replica answered by the other; one replica killed (its whole process
group, SIGKILL) in the middle of a load that writes, with no lost write and no error
beyond the requests that replica held; the replica restarted and back in rotation; a
spoofed X-Forwarded-For buys no new rate-limit bucket; the widget in Chromium.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from live import REPO_ROOT, Server, free_port, start_server, stop_server
from pg import create_database, drop_database
from policyqa.faq.officers import add_officer
from policyqa.settings import Settings
from policyqa.store import Store

pytestmark = pytest.mark.slow
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONF = REPO_ROOT / "deploy" / "nginx" / "policyqa.conf"
if not Path(NGINX).exists():
    pytest.skip("nginx not installed (apt-get install nginx; .ci/run installs it)",
                allow_module_level=True)


@dataclass
class Front:
    base: str
    replicas: list[Server]
    ports: list[int]
    db_url: str
    settings: Settings
    tmp: Path
    env: dict[str, str]


def nginx_conf(tmp: Path, ports: list[int], listen: int) -> Path:
    """The repo's config with this test's addresses, inside a main config nginx can run
    as this user (its own pid file, logs and temp folders)."""
    site = CONF.read_text("utf-8")
    upstream = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n" for p in ports)
    site, n = re.subn(r"(upstream policyqa \{\n)(?:    server [^\n]*\n)+", r"\g<1>" + upstream,
                      site)
    site, m = re.subn(r"listen \d+;", f"listen 127.0.0.1:{listen};", site)
    assert n == 1 and m == 1, "deploy/nginx/policyqa.conf changed shape"
    (tmp / "site.conf").write_text(site, "utf-8")
    main = f"""daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
worker_processes 1;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$request $status $upstream_addr';
    access_log {tmp}/access.log upstream;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
"""
    (tmp / "nginx.conf").write_text(main, "utf-8")
    return tmp / "nginx.conf"


def request(base: str, method: str, path: str, body: Any = None, token: str = "",
            headers: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    h = {"Content-Type": "application/json", **(headers or {})}
    if token:
        h["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return int(r.status), json.load(r), dict(r.headers)
    except urllib.error.HTTPError as e:
        return int(e.code), e.read().decode("utf-8", "replace"), dict(e.headers)


def worker(h: dict[str, str]) -> int:
    return int(h.get("x-policyqa-worker") or h.get("X-Policyqa-Worker") or 0)


@pytest.fixture(scope="module")
def front(settings: Settings, pg_url: str, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Front]:
    tmp = tmp_path_factory.mktemp("front")
    name = f"front_{uuid.uuid4().hex[:8]}"
    db_url = create_database(pg_url, name)
    shutil.copytree(settings.index_dir, tmp / "index")  # its own: one test rebuilds it
    env = {"POLICYQA_DATABASE_URL": db_url, "POLICYQA_FAQ_POLL_S": "0.5",
           "POLICYQA_INDEX_DIR": str(tmp / "index"), "POLICYQA_INDEX_POLL_S": "1",
           "POLICYQA_RATE_LIMIT_PER_MINUTE": "100000"}
    Store.open(db_url).close()  # migrated once, before four workers race to do it
    ports = [free_port(), free_port()]
    replicas: list[Server] = []
    proc = None
    try:
        for i, port in enumerate(ports):
            (tmp / f"r{i}").mkdir()
            replicas.append(start_server(settings, tmp / f"r{i}", workers=2, port=port, **env))
        listen = free_port()
        conf = nginx_conf(tmp, ports, listen)
        proc = subprocess.Popen([NGINX, "-c", str(conf), "-e", str(tmp / "error.log")],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{listen}"
        deadline = time.monotonic() + 20
        while not _up(base):
            assert proc.poll() is None, (tmp / "error.log").read_text()
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.2)
        yield Front(base, replicas, ports, db_url, settings, tmp, env)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        for r in replicas:
            stop_server(r)
        drop_database(pg_url, name)


def _up(base: str) -> bool:
    try:
        urllib.request.urlopen(base + "/nginx-healthz", timeout=1).close()
        return True
    except OSError:
        return False


def replica_of(front: Front, pid: int) -> int:
    for i, r in enumerate(front.replicas):
        if pid in r.worker_pids():
            return i
    return -1


def ask(base: str, question: str, **kw: Any) -> tuple[dict[str, Any], int]:
    status, body, h = request(base, "POST", "/api/v1/chat", {"question": question, **kw})
    assert status == 200, body
    return dict(body), worker(h)


def test_readiness_and_headers_through_the_front(front: Front) -> None:
    status, body, _ = request(front.base, "GET", "/readyz")
    assert status == 200 and body["ready"] is True
    for r in front.replicas:  # each replica's own readiness, as a monitor sees it
        assert request(r.base, "GET", "/readyz")[0] == 200
        assert len(r.worker_pids()) == 2  # two workers each


def test_a_conversation_spread_over_replicas(front: Front) -> None:
    first, pid = ask(front.base, "失业保险金能领多长时间？")
    sid, seen = first["session_id"], {replica_of(front, pid)}
    for q in ["那在重庆呢？", "具体是哪一条？", "试用期最长多久？", "那在重庆呢？"]:
        turn, pid = ask(front.base, q, session_id=sid)
        assert turn["session_id"] == sid
        seen.add(replica_of(front, pid))
    assert seen == {0, 1}, "nginx sent every turn to one replica"
    engine = create_engine(front.db_url)
    with engine.connect() as c:
        n = c.execute(text("SELECT count(*) FROM turns WHERE session_id = :s"),
                      {"s": sid}).scalar_one()
    engine.dispose()
    assert n == 5


def test_a_publish_on_one_replica_is_answered_by_the_other(front: Front) -> None:
    a, b = front.replicas
    store = Store.open(front.db_url)
    editor, reviewer = add_officer(store, "ed-front", "editor"), add_officer(
        store, "rv-front", "reviewer")
    store.close()
    art = a.get_json("/api/v1/policies/labor-law-2018/articles/44")
    quote = next(s for s in art["sentences"] if "休息日" in s)
    question = "休息日加班工资怎么算"
    status, e, _ = request(a.base, "POST", "/api/v1/officer/faq", {
        "question": "休息日加班，加班费怎么算？", "paraphrases": [question],
        "answer_text": quote, "citations": [{"doc_id": "labor-law-2018", "article": 44,
                                             "quote": quote}]}, editor)
    assert status == 201, e
    for to, who in (("in_review", editor), ("published", reviewer)):
        status, e, _ = request(a.base, "POST", f"/api/v1/officer/faq/{e['id']}/transition",
                               {"version": e["version"], "to": to}, who)
        assert status == 200, e
    published = time.monotonic()
    pending = set(b.worker_pids())
    while pending:  # every worker of the other replica serves it within 2 s
        turn, pid = ask(b.base, question)
        if turn["source"] == "faq":
            pending.discard(pid)
        assert time.monotonic() - published < 2.0, f"workers {pending} not serving it in 2 s"


def test_a_new_index_build_is_picked_up_by_every_worker(front: Front) -> None:
    """`policyqa index --force` beside the running replicas: all four workers switch."""
    before = request(front.base, "GET", "/readyz")[1]["built_at"]
    time.sleep(1.1)  # built_at has a resolution of one second
    env = {**front.replicas[0].env}
    subprocess.run([sys.executable, "-m", "policyqa.cli", "index", "--force"], cwd=REPO_ROOT,
                   env=env, check=True, capture_output=True, timeout=600)
    workers = {p for r in front.replicas for p in r.worker_pids()}
    switched: set[int] = set()
    deadline = time.monotonic() + 30
    while switched != workers:
        for r in front.replicas:
            status, body, h = request(r.base, "GET", "/readyz")
            if status == 200 and body["built_at"] != before:
                switched.add(worker(h))
        assert time.monotonic() < deadline, f"workers {workers - switched} still on the old build"
        time.sleep(0.1)


def test_spoofed_forwarded_for_through_the_front(front: Front) -> None:
    """nginx replaces the client's X-Forwarded-For with the real address: a script that
    sends a new one on every request still spends the one budget (all replicas count it)."""
    store = Store.open(front.db_url)
    engine = store.engine
    with engine.begin() as c:
        c.execute(text("DELETE FROM rate_hits"))
    statuses = []
    for i in range(4):
        status, _body, _ = request(front.base, "POST", "/api/v1/handoff",
                                  {"session_id": "none"},
                                  headers={"X-Forwarded-For": f"203.0.113.{i}"})
        statuses.append(status)
    with engine.connect() as c:
        keys = [k for (k,) in c.execute(text("SELECT key FROM rate_hits"))]
    store.close()
    assert set(statuses) == {404}
    assert keys and not any("203.0.113" in k for k in keys), keys


def test_a_replica_killed_mid_load_then_back_in_rotation(front: Front) -> None:
    results: list[tuple[int, str]] = []  # (status, answer_id) of every request sent
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            status, body, _ = request(front.base, "POST", "/api/v1/chat",
                                      {"question": "试用期最长多久？"})
            results.append((status, body.get("answer_id", "") if isinstance(body, dict)
                            else ""))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(3)
    killed = front.replicas[1]
    killed.kill()
    at_kill = len(results)
    time.sleep(4)
    stop.set()
    for t in threads:
        t.join(60)
    failed = [s for s, _ in results if s != 200]
    assert len(results) > at_kill + 10, "the load stopped when one replica died"
    assert len(failed) <= len(threads), f"{len(failed)} errors: {failed}"  # in flight only
    written = {a for s, a in results if s == 200}
    engine = create_engine(front.db_url)
    with engine.connect() as c:
        ids = {i for (i,) in c.execute(text("SELECT id FROM turns"))}
    engine.dispose()
    assert written <= ids, f"{len(written - ids)} answered turns not in the database"

    port = front.ports[1]
    back = start_server(front.settings, front.tmp / "r1", workers=2, port=port, **front.env)
    front.replicas[1] = back
    deadline = time.monotonic() + 30
    while True:  # nginx puts it back once fail_timeout has passed
        _, pid = ask(front.base, "试用期最长多久？")
        if replica_of(front, pid) == 1:
            break
        assert time.monotonic() < deadline, "the restarted replica is not back in rotation"
        time.sleep(0.2)


def test_the_widget_through_the_front(front: Front) -> None:
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("/usr/bin/chromium not installed (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    from live import CHROMIUM_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="zh-CN")
            page.set_default_timeout(20_000)
            page.goto(front.base + "/")
            box = page.locator("#question-box textarea")
            expect(box).to_be_visible()
            for n, q in enumerate(["试用期最长多久？", "那在重庆呢？", "工伤认定申请时限是多久？"],
                                  start=1):
                box.fill(q)
                page.locator("#send-btn").click()
                expect(page.locator("#chat .pq-answer")).to_have_count(n)
            page.locator("#rating label", has_text="5 非常满意").click()
            expect(page.locator("#rating-msg")).to_contain_text("感谢")
        finally:
            browser.close()
    # One conversation (the page's session id), rated on its last answer (the page's
    # answer id), although its requests went to both replicas (round robin).
    engine = create_engine(front.db_url)
    with engine.connect() as c:
        rows = c.execute(text(
            "SELECT t.session_id, t.question, f.rating FROM turns t LEFT JOIN feedback f "
            "ON f.answer_id = t.id WHERE t.channel = 'widget' ORDER BY t.created_at")).all()
    engine.dispose()
    assert [r[1] for r in rows] == ["试用期最长多久？", "那在重庆呢？", "工伤认定申请时限是多久？"]
    assert len({r[0] for r in rows}) == 1 and rows[-1][2] == 5
    log = (front.tmp / "access.log").read_text("utf-8").splitlines()
    served = {line.rsplit(" ", 1)[-1] for line in log if "/gradio_api/run/" in line}
    assert {f"127.0.0.1:{p}" for p in front.ports} <= served, served
