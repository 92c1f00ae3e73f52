"""The conversation store on both backends: an embedded SQLite file and a real PostgreSQL.

Every test gets an empty database (a new file, or a new PostgreSQL database on
the session's private server), so tests are independent and order-free.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text

import policyqa.store
from pg import create_database, drop_database, pg_url  # noqa: F401  (pg_url: fixture)
from policyqa.errors import ConfigError, NotFound
from policyqa.settings import Settings
from policyqa.store import (
    InvalidRating,
    Store,
    current_version,
    default_database_url,
    latest,
    make_engine,
    migrate,
)
from policyqa.store.models import Base, HandoffTicket

CITES = [{"doc_no": "渝人社规〔2025〕23号", "doc_title": "重庆市推动技能强企工作13条措施",
          "article": 3, "label": "第三条", "heading": "支持企业自主评价",
          "quote": "对……给予每人1000元补贴。", "url": "https://rlsbj.cq.gov.cn/x.html"}]
LATEST = latest()
NASTY = "<script>alert('补贴 😀')</script> & \"引号\" \\ 换行\n第二行 ✅ 𠀀"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield default_database_url(tmp_path / "data")
        return
    server = request.getfixturevalue("pg_url")  # starts PostgreSQL only when needed
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = create_database(server, name)
    try:
        yield url
    finally:
        drop_database(server, name)


@pytest.fixture()
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture()
def store(db_url: str) -> Iterator[Store]:
    st = Store.open(db_url)
    yield st
    st.close()


def _turn(store: Store, sid: str, question: str, status: str = "answered", **kw: object) -> str:
    return store.add_turn(session_id=sid, question=question, normalized=question.lower(),
                          status=status, source="policy" if status == "answered" else "none",
                          answer_text=f"答：{question}", citations=kw.pop("citations", CITES),
                          reason="" if status == "answered" else "no_match",
                          latency_ms=12.5, channel="web")


# ---- migrations ----------------------------------------------------------------------


def test_migrate_is_idempotent_and_recorded(engine: Engine) -> None:
    assert current_version(engine) == 0
    assert migrate(engine) == LATEST
    assert migrate(engine) == LATEST
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    assert [r.version_num for r in rows] == [f"{LATEST:04d}"]
    assert current_version(engine) == LATEST


def test_migrated_schema_matches_models(engine: Engine) -> None:
    """The frozen migration steps and the ORM models must describe the same tables:
    Alembic's autogenerate finds nothing to add, drop or change."""
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    insp = inspect(engine)
    for name, table in Base.metadata.tables.items():
        cols = {c["name"]: c["nullable"] for c in insp.get_columns(name)}
        assert cols == {c.name: c.nullable for c in table.columns}, name


def _legacy_step(name: str) -> Any:
    """A frozen pre-Alembic step (its function, from the revision file that keeps it)."""
    folder = Path(policyqa.store.__file__).parent / "alembic" / "versions"
    path = next(folder.glob(f"v{name}_*.py"))
    spec = importlib.util.spec_from_file_location(f"legacy_{name}", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_database_made_before_alembic_is_upgraded_and_keeps_its_rows(engine: Engine) -> None:
    """A v2 database of the old hand-written migrator (schema_version table, an officer,
    an open ticket) is stamped, then upgraded: the officer gets the reviewer role, the
    ticket stays open, and the legacy bookkeeping table is gone."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        _legacy_step("0001")._v1(conn)
        _legacy_step("0002")._v2(conn)
        conn.execute(text("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                          "applied_at TIMESTAMP NOT NULL)"))
        for v in (1, 2):
            conn.execute(text("INSERT INTO schema_version VALUES (:v, :t)"),
                         {"v": v, "t": now.replace(tzinfo=None)})
        conn.execute(text("INSERT INTO officers (name, token_hash, created_at) "
                          "VALUES ('wang', 'h', :t)"), {"t": now.replace(tzinfo=None)})
        conn.execute(text("INSERT INTO chat_sessions VALUES ('s1', 'web', :t, :t)"),
                     {"t": now.replace(tzinfo=None)})
        conn.execute(text("INSERT INTO handoff_tickets (id, session_id, reason, status, "
                          "transcript, created_at) VALUES ('HT-1', 's1', '', 'open', '[]', :t)"),
                     {"t": now.replace(tzinfo=None)})
    assert current_version(engine) == 2
    assert migrate(engine) == LATEST
    insp = inspect(engine)
    assert "schema_version" not in insp.get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT role FROM officers")).scalar() == "reviewer"
        assert conn.execute(text("SELECT status FROM handoff_tickets")).scalar() == "open"
    with pytest.raises(Exception, match=r"(?i)check|constraint"), engine.begin() as conn:
        conn.execute(text("UPDATE handoff_tickets SET status = 'lost'"))


def test_faq_keys_are_filled_in_for_entries_made_before_the_key_table(
        engine: Engine) -> None:
    from alembic import command

    from policyqa.faq.repo import FaqRepo
    from policyqa.store.migrations import _config
    from policyqa.store.models import FaqEntry

    with engine.begin() as conn:
        command.upgrade(_config(conn), "0005")
        now = datetime.now(UTC)
        conn.execute(FaqEntry.__table__.insert().values(  # type: ignore[attr-defined]
            id="e1", question="学徒补贴怎么领？", normalized="学徒补贴怎么领",
            paraphrases=["请问学徒补贴"], answer_text="", citations=[], status="draft",
            version=1, stale=False, stale_reason="", origin="manual", evidence={},
            created_by="li", updated_by="li", created_at=now, updated_at=now))
    assert migrate(engine) == LATEST
    store = Store(engine)
    assert FaqRepo(store).active_keys() == {"学徒补贴怎么领", "请问学徒补贴"}


def test_concurrent_migrations_apply_each_step_once(db_url: str) -> None:
    """Four 'processes' (own engine and pool each) start at the same moment."""
    engines = [make_engine(db_url) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    results: list[int] = []
    errors: list[BaseException] = []

    def run(eng: Engine) -> None:
        try:
            barrier.wait()
            results.append(migrate(eng))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert results == [LATEST] * 4
    with engines[0].connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [
            (f"{LATEST:04d}",)]
    for e in engines:
        e.dispose()


def test_concurrent_migrations_from_separate_processes(db_url: str) -> None:
    """Three real processes, released together once all are ready, migrate one new database."""
    code = ("import sys; from policyqa.store import make_engine, migrate; "
            "e = make_engine(sys.argv[1]); print('ready', flush=True); sys.stdin.readline(); "
            "print(migrate(e))")
    procs = [subprocess.Popen([sys.executable, "-c", code, db_url], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outs]
    assert [out.strip() for out, _ in outs] == [str(LATEST)] * 3
    eng = make_engine(db_url)
    with eng.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [
            (f"{LATEST:04d}",)]
    eng.dispose()


# ---- sessions, turns, transcript -----------------------------------------------------


def test_round_trip_stores_text_verbatim(store: Store) -> None:
    sid = store.new_session("wechat")
    assert store.session_exists(sid) and re.fullmatch(r"[0-9a-f]{32}", sid)
    cites = [dict(CITES[0], quote=NASTY)]
    a1 = _turn(store, sid, "我们公司招了应届生，有补贴吗？😀")
    a2 = store.add_turn(sid, NASTY, NASTY, "refused", "none", NASTY, cites, "no_match", 3.25,
                        None)
    turns = store.transcript(sid)
    assert [t["answer_id"] for t in turns] == [a1, a2]
    assert turns[0]["question"] == "我们公司招了应届生，有补贴吗？😀"
    assert turns[0]["citations"] == CITES
    assert turns[1]["question"] == NASTY and turns[1]["answer_text"] == NASTY
    assert turns[1]["citations"] == cites and turns[1]["status"] == "refused"
    assert turns[1]["source"] == "none"
    for t in turns:
        created = datetime.fromisoformat(t["created_at"])
        assert created.utcoffset() == timedelta(0)
        assert abs(datetime.now(UTC) - created) < timedelta(minutes=1)
    assert turns[0]["created_at"] <= turns[1]["created_at"]
    with store.engine.connect() as conn:  # JSON is stored readable, not \\u-escaped
        raw = conn.execute(text("SELECT CAST(citations AS TEXT), channel FROM turns "
                                "WHERE id = :i"), {"i": a1}).one()
    assert "渝人社规〔2025〕23号" in raw[0]
    assert raw[1] == "web"
    with store.engine.connect() as conn:  # channel None -> the session's channel
        assert conn.execute(text("SELECT channel FROM turns WHERE id = :i"),
                            {"i": a2}).scalar() == "wechat"


def test_transcript_limit_and_recent_questions(store: Store) -> None:
    sid = store.new_session("web")
    other = store.new_session("web")
    for i in range(5):
        _turn(store, sid, f"问题{i}")
    _turn(store, other, "别的会话")
    assert [t["question"] for t in store.transcript(sid, limit=3)] == ["问题2", "问题3", "问题4"]
    assert store.recent_questions(sid, 2) == ["问题3", "问题4"]
    assert store.recent_questions(other, 10) == ["别的会话"]
    assert store.recent_questions("nope", 3) == []
    assert store.transcript(store.new_session("web")) == []


def test_unknown_session_and_bad_values(store: Store) -> None:
    assert not store.session_exists("0" * 32)
    with pytest.raises(NotFound):
        _turn(store, "0" * 32, "问题")
    with pytest.raises(NotFound):
        store.transcript("0" * 32)
    with pytest.raises(NotFound):
        store.touch_session("0" * 32)
    sid = store.new_session("web")
    store.touch_session(sid)
    with pytest.raises(ValueError):
        _turn(store, sid, "问题", status="maybe")
    assert store.stats()["turns"] == 0


# ---- 好差评 ---------------------------------------------------------------------------


def test_feedback_validation_and_latest_rating_counts(store: Store) -> None:
    sid = store.new_session("web")
    a1, a2, a3 = (_turn(store, sid, q) for q in ("问一", "问二", "问三"))
    for bad in (0, 6, -1, True, 3.5, "5"):
        with pytest.raises(InvalidRating) as exc:
            store.add_feedback(a1, bad, None)  # type: ignore[arg-type]
        assert exc.value.http_status == 422
    with pytest.raises(NotFound):
        store.add_feedback("f" * 32, 3, None)
    fb = store.add_feedback(a1, 1, "看不懂<b>😠</b>")
    assert fb["rating"] == 1 and fb["is_bad"] and fb["comment"] == "看不懂<b>😠</b>"
    store.add_feedback(a1, 5, None)  # changed their mind: no longer 差评
    store.add_feedback(a2, 4, "")
    store.add_feedback(a2, 2, "其实不对")
    store.add_feedback(a3, 1, None)
    bad = store.bad_ratings(10)
    assert [b["answer_id"] for b in bad] == [a3, a2]  # newest first
    assert bad[1]["question"] == "问二" and bad[1]["answer_text"] == "答：问二"
    assert bad[1]["comment"] == "其实不对" and bad[1]["rating"] == 2
    assert store.bad_ratings(1) == bad[:1]
    stats = store.stats()
    assert stats["rated_answers"] == 3 and stats["bad_ratings"] == 2


# ---- 转人工 ---------------------------------------------------------------------------


def test_handoff_ticket_snapshots_the_transcript(store: Store) -> None:
    sid = store.new_session("web")
    _turn(store, sid, "灵活就业人员社保补贴怎么申请？")
    _turn(store, sid, NASTY, status="refused", citations=[])
    t = store.create_handoff(sid, "答非所问")
    assert re.fullmatch(r"HT-\d{8}-[0-9a-f]{16}", t["ticket_id"])  # 64 random bits
    assert t["ticket_id"][3:11] == datetime.now(UTC).strftime("%Y%m%d")
    assert t["status"] == "open" and t["reason"] == "答非所问"
    assert [x["question"] for x in t["transcript"]] == ["灵活就业人员社保补贴怎么申请？", NASTY]
    assert datetime.fromisoformat(t["created_at"]).utcoffset() == timedelta(0)
    _turn(store, sid, "后来又问的")
    with store._read() as s:  # the snapshot does not grow with the session
        ticket = s.get(HandoffTicket, t["ticket_id"])
        assert ticket is not None and ticket.transcript == t["transcript"]
    assert store.create_handoff(sid, None)["ticket_id"] != t["ticket_id"]
    with pytest.raises(NotFound):
        store.create_handoff("0" * 32, "x")
    assert store.stats()["handoffs_open"] == 2


# ---- 热点问题 -------------------------------------------------------------------------


def test_asked_clauses_counts_answers_by_their_first_clause(store: Store) -> None:
    """热点问题 are ranked by the clause citizens asked about, never by their wording."""
    from policyqa.store.insight import asked_clauses

    sid = store.new_session("web")
    cite = [{"doc_id": "d", "doc_no": "", "article": 10, "quote": "q"}]
    other = [{"doc_id": "d", "doc_no": "", "article": 4, "quote": "q"}]
    for q in ("技能补贴", "企业技能补贴有哪些", "技能补贴?"):
        _turn(store, sid, q, citations=cite)
    _turn(store, sid, "学徒", citations=other)
    for _ in range(5):
        _turn(store, sid, "天气怎么样", status="refused", citations=[])
    _turn(store, sid, "旧的回答", citations=[{"doc_no": "x", "article": 1}])  # no doc_id
    assert asked_clauses(store) == {("d", 10): 3, ("d", 4): 1}
    assert asked_clauses(store, limit=2) == {("d", 4): 1}  # only the latest answers


# ---- concurrency ----------------------------------------------------------------------


@pytest.mark.parametrize("stores", [1, 4], ids=["shared-store", "store-per-thread"])
def test_concurrent_writers_lose_nothing(db_url: str, stores: int) -> None:
    """4 threads x 25 turns (+ a rating each), into one shared and one own session."""
    opened = [Store.open(db_url) for _ in range(stores)]
    shared = opened[0].new_session("web")
    barrier = threading.Barrier(4)
    ids: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(k: int) -> None:
        st = opened[k % stores]
        try:
            own = st.new_session("app")
            barrier.wait()
            for i in range(25):
                aid = _turn(st, shared if i % 2 else own, f"线程{k}问题{i}")
                st.add_feedback(aid, 1 + i % 5, None)
                with lock:
                    ids.append(aid)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(ids) == len(set(ids)) == 100
    stats = opened[0].stats()
    assert stats["turns"] == 100 and stats["rated_answers"] == 100 and stats["sessions"] == 5
    assert len(opened[0].transcript(shared, limit=1000)) == 48
    for st in opened:
        st.close()


# ---- engine and settings --------------------------------------------------------------


def test_sqlite_engine_settings(tmp_path: Path) -> None:
    url = default_database_url(tmp_path / "deep" / "er")
    assert url == f"sqlite:///{(tmp_path / 'deep' / 'er' / 'policyqa.db').as_posix()}"
    eng = make_engine(url)
    try:
        assert (tmp_path / "deep" / "er").is_dir()
        with eng.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        eng.dispose()


def test_store_open_from_settings_uses_data_dir(tmp_path: Path) -> None:
    st = Store.open(Settings(data_dir=tmp_path / "data", database_url=""))
    try:
        assert (tmp_path / "data" / "policyqa.db").is_file()
        assert st.session_exists(st.new_session("web"))
    finally:
        st.close()


def test_postgres_urls_use_psycopg3() -> None:
    for url in ("postgresql://u:p@h/db", "postgres://u:p@h/db"):
        eng = make_engine(url)
        assert eng.dialect.driver == "psycopg"
        eng.dispose()


def test_postgres_utc_whatever_the_server_zone_and_utf8_required(
        request: pytest.FixtureRequest) -> None:
    server = request.getfixturevalue("pg_url")
    url = create_database(server, f"t_{uuid.uuid4().hex[:12]}")
    name = url.rsplit("/", 1)[1]
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"ALTER DATABASE {name} SET timezone TO 'Asia/Shanghai'")
        st = Store.open(url)
        sid = st.new_session("web")
        _turn(st, sid, "时区")
        created = st.transcript(sid)[0]["created_at"]
        assert created.endswith("+00:00")
        assert abs(datetime.now(UTC) - datetime.fromisoformat(created)) < timedelta(minutes=1)
        st.close()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}_a ENCODING 'SQL_ASCII' "
                                 "TEMPLATE template0")
        with pytest.raises(ConfigError, match="UTF8"):
            Store.open(f"{url}_a")
    finally:
        admin.dispose()
        drop_database(server, name)
        drop_database(server, f"{name}_a")
