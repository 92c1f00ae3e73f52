"""The officer desk over HTTP, on SQLite and PostgreSQL: 转人工 tickets from the citizen's
handoff to the officer's reply the citizen reads, 差评 回访 with working-day due dates,
命中测试, the role × action matrix with four eyes, and bad input (4xx, never 500)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from conftest import auth, chat
from pg import create_database, drop_database
from policyqa.desk.tickets import TicketRepo
from policyqa.errors import Conflict
from policyqa.faq.officers import add_officer
from policyqa.roles import Actor
from policyqa.service import PolicyQA
from policyqa.settings import Settings
from policyqa.store.models import Followup, HandoffTicket
from policyqa.workdays import WorkCalendar, beijing_date
from test_officer_api import make_client

OFFICER = "/api/v1/officer"
HOLIDAY = date(2027, 1, 1)  # a Friday
QUESTION = "公司不跟我签合同，能要双倍工资吗？"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def desk(request: pytest.FixtureRequest, settings: Settings, qa: PolicyQA,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A client and one token per role (plus a second editor), per database."""
    extra = {"holidays": [HOLIDAY], "ticket_overdue_hours": 24.0}
    if request.param == "sqlite":
        ctx = make_client(settings, qa, data_dir=tmp_path_factory.mktemp("desk"), **extra)
        name = url = server = None
    else:
        server = request.getfixturevalue("pg_url")
        name = f"desk_{uuid.uuid4().hex[:8]}"
        url = create_database(server, name)
        ctx = make_client(settings, qa, database_url=url, **extra)
    with ctx as c:
        store = c.app.state.policyqa.chat.store  # type: ignore[attr-defined]
        tokens = {who: add_officer(store, who, role) for who, role in (
            ("ed", "editor"), ("ed2", "editor"), ("rev", "reviewer"), ("rev2", "reviewer"),
            ("adm", "admin"))}
        yield c, tokens
    if server and name:
        drop_database(server, name)


def store_of(c: TestClient) -> Any:
    return c.app.state.policyqa.chat.store  # type: ignore[attr-defined]


def handoff(c: TestClient, question: str = QUESTION) -> tuple[str, dict[str, Any]]:
    turn = chat(c, question)
    r = c.post("/api/v1/handoff", json={"session_id": turn["session_id"], "reason": "想问清楚"})
    assert r.status_code == 200, r.text
    return str(r.json()["ticket_id"]), turn


# ---- 转人工 ---------------------------------------------------------------------------


def test_ticket_from_handoff_to_the_reply_the_citizen_reads(
        desk: tuple[TestClient, dict[str, str]]) -> None:
    c, tok = desk
    tid, turn = handoff(c)
    assert len(tid.rsplit("-", 1)[1]) == 16  # 64 random bits: not guessable
    public = c.get(f"/api/v1/handoff/{tid}").json()
    assert public["status"] == "open" and public["replies"] == []
    assert "transcript" not in public and "reason" not in public

    listed = c.get(f"{OFFICER}/tickets", params={"status": "open"}, headers=auth(tok["ed"]))
    assert tid in [t["ticket_id"] for t in listed.json()["items"]]
    full = c.get(f"{OFFICER}/tickets/{tid}", headers=auth(tok["ed"])).json()
    assert full["transcript"][-1]["question"] == QUESTION
    assert full["transcript"][-1]["citations"] == turn["citations"]  # what the bot cited

    assert c.post(f"{OFFICER}/tickets/{tid}/claim", headers=auth(tok["ed"])).json()[
        "claimed_by"] == "ed"
    assert c.post(f"{OFFICER}/tickets/{tid}/claim", headers=auth(tok["ed"])).status_code == 200
    taken = c.post(f"{OFFICER}/tickets/{tid}/claim", headers=auth(tok["rev"]))
    assert taken.status_code == 409 and "ed" in taken.json()["detail"]
    assert c.post(f"{OFFICER}/tickets/{tid}/replies", headers=auth(tok["rev"]),
                  json={"body": "抢答"}).status_code == 409

    art = c.get("/api/v1/policies/labor-contract-law-2012/articles/82").json()
    quote = art["sentences"][0]
    bad = c.post(f"{OFFICER}/tickets/{tid}/replies", headers=auth(tok["ed"]), json={
        "body": "可以。", "citations": [{"doc_id": "labor-contract-law-2012", "article": 82,
                                        "quote": quote + "（并赔礼道歉）"}]})
    assert bad.status_code == 422 and "原文" in bad.json()["detail"]
    r = c.post(f"{OFFICER}/tickets/{tid}/replies", headers=auth(tok["ed"]), json={
        "body": "可以主张二倍工资，详见下列条文。",
        "citations": [{"doc_id": "labor-contract-law-2012", "article": 82, "quote": quote}]})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "answered" and r.json()["first_reply_at"]

    public = c.get(f"/api/v1/handoff/{tid}").json()
    assert public["status"] == "answered"
    assert public["replies"][0]["body"].startswith("可以主张二倍工资")
    assert public["replies"][0]["citations"][0]["quote"] == quote
    assert "officer" not in public["replies"][0]  # the citizen sees 工作人员, not a name

    draft = c.post(f"{OFFICER}/tickets/{tid}/faq-draft", headers=auth(tok["ed"]))
    assert draft.status_code == 201, draft.text
    d = draft.json()
    assert (d["status"], d["origin"], d["question"]) == ("draft", "ticket", QUESTION)
    assert d["citations"][0]["article"] == 82 and d["evidence"]["ticket_id"] == tid

    assert c.post(f"{OFFICER}/tickets/{tid}/close", headers=auth(tok["ed"])).json()[
        "status"] == "closed"
    assert c.post(f"{OFFICER}/tickets/{tid}/replies", headers=auth(tok["ed"]),
                  json={"body": "补充"}).status_code == 409
    assert c.get(f"/api/v1/handoff/{tid}").json()["status"] == "closed"
    stats = c.get(f"{OFFICER}/desk/stats", headers=auth(tok["ed"])).json()["tickets"]
    assert stats["by_status"]["closed"] >= 1
    assert stats["median_minutes_to_first_reply"] is not None


def test_a_guessable_old_ticket_id_is_not_served_publicly(
        desk: tuple[TestClient, dict[str, str]]) -> None:
    c, tok = desk
    tid, _ = handoff(c, "工伤保险待遇有哪些？")
    old = tid[:-10]  # HT-YYYYMMDD-<6 hex>, the form of tickets made before this release
    with store_of(c).writing() as s:
        s.execute(update(HandoffTicket).where(HandoffTicket.id == tid).values(id=old))
    assert c.get(f"/api/v1/handoff/{old}").status_code == 404
    assert c.get(f"{OFFICER}/tickets/{old}", headers=auth(tok["ed"])).status_code == 200


def test_two_officers_claiming_at_once_one_wins(desk: tuple[TestClient, dict[str, str]]
                                               ) -> None:
    c, _ = desk
    tid, _ = handoff(c, "失业保险金能领多久？")
    repo = TicketRepo(store_of(c))
    barrier = threading.Barrier(4)
    won: list[str] = []
    lost: list[str] = []

    def claim(name: str) -> None:
        barrier.wait()
        try:
            repo.claim(tid, Actor(name, "editor"))
            won.append(name)
        except Conflict:
            lost.append(name)

    threads = [threading.Thread(target=claim, args=(f"o{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(won) == 1 and len(lost) == 3
    assert repo.get(tid)["claimed_by"] == won[0]


def test_overdue_tickets_and_the_age_filter(desk: tuple[TestClient, dict[str, str]]) -> None:
    c, tok = desk
    old, _ = handoff(c, "工伤认定申请的时限是多久？")
    with store_of(c).writing() as s:
        s.execute(update(HandoffTicket).where(HandoffTicket.id == old).values(
            created_at=datetime.now(UTC) - timedelta(hours=30)))
    aged = c.get(f"{OFFICER}/tickets", params={"older_than_hours": 24},
                 headers=auth(tok["ed"])).json()["items"]
    assert [t["ticket_id"] for t in aged if t["ticket_id"] == old] == [old]
    assert all(t["age_hours"] >= 24 for t in aged) and aged[0]["overdue"] is True
    everything = c.get(f"{OFFICER}/tickets", headers=auth(tok["ed"])).json()["items"]
    created = [t["created_at"] for t in everything]
    assert created == sorted(created)  # oldest first
    assert c.get(f"{OFFICER}/desk/stats", headers=auth(tok["ed"])).json()[
        "tickets"]["overdue"] >= 1


# ---- 差评 回访 -------------------------------------------------------------------------


def test_working_days_skip_weekends_and_holidays() -> None:
    cal = WorkCalendar([HOLIDAY])
    assert cal.add(date(2026, 12, 1), 15) == date(2026, 12, 22)  # Tuesday + 3 weeks
    assert cal.add(date(2026, 12, 5), 1) == date(2026, 12, 8)  # Saturday: from Monday
    assert cal.add(date(2026, 12, 24), 15) == date(2027, 1, 15)  # 1 January is a holiday
    assert not cal.is_workday(HOLIDAY) and cal.is_workday(date(2027, 1, 4))


def test_bad_rating_opens_a_followup_due_in_15_working_days(
        desk: tuple[TestClient, dict[str, str]]) -> None:
    c, tok = desk
    turn = chat(c, "年休假有几天？")
    r = c.post("/api/v1/feedback", json={"answer_id": turn["answer_id"], "rating": 2,
                                         "comment": "没说清楚工龄怎么算"})
    assert r.status_code == 200, r.text
    items = c.get(f"{OFFICER}/followups", headers=auth(tok["ed"])).json()["items"]
    mine = next(f for f in items if f["answer_id"] == turn["answer_id"])
    due = WorkCalendar([HOLIDAY]).add(beijing_date(), 15)
    assert mine["due_on"] == due.isoformat() and mine["status"] == "open"
    assert mine["question"] == "年休假有几天？" and mine["comment"] == "没说清楚工龄怎么算"
    good = chat(c, "产假有多少天？")
    c.post("/api/v1/feedback", json={"answer_id": good["answer_id"], "rating": 5})
    items = c.get(f"{OFFICER}/followups", headers=auth(tok["ed"])).json()["items"]
    assert good["answer_id"] not in [f["answer_id"] for f in items]  # a 好评 needs none

    # an older one is overdue: it comes first
    late = chat(c, "离职了社保怎么办？")
    c.post("/api/v1/feedback", json={"answer_id": late["answer_id"], "rating": 1})
    with store_of(c).writing() as s:
        s.execute(update(Followup).where(Followup.answer_id == late["answer_id"])
                  .values(due_on=date(2026, 1, 5)))
    items = c.get(f"{OFFICER}/followups", headers=auth(tok["ed"])).json()["items"]
    assert items[0]["answer_id"] == late["answer_id"] and items[0]["overdue"] is True

    fid = mine["id"]
    no_outcome = c.patch(f"{OFFICER}/followups/{fid}", headers=auth(tok["ed"]),
                         json={"close": True})
    assert no_outcome.status_code == 422
    done = c.patch(f"{OFFICER}/followups/{fid}", headers=auth(tok["ed"]), json={
        "contacted": True, "outcome": "已电话回访，解释了工龄计算", "fixed": "faq:新增条目",
        "close": True}).json()
    assert done["status"] == "closed" and done["contacted"] is True and done["officer"] == "ed"
    assert c.patch(f"{OFFICER}/followups/{fid}", headers=auth(tok["ed"]),
                   json={"outcome": "改"}).status_code == 409
    stats = c.get(f"{OFFICER}/desk/stats", headers=auth(tok["ed"])).json()["followups"]
    assert stats["bad_ratings"] >= 2 and stats["overdue"] >= 1
    assert 0 < stats["followed_up_in_time"] < 1  # one closed in time, one overdue
    closed = c.get(f"{OFFICER}/followups", params={"status": "closed"},
                   headers=auth(tok["ed"])).json()["items"]
    assert fid in [f["id"] for f in closed]


# ---- 命中测试 --------------------------------------------------------------------------


def test_probe_lays_the_pipeline_open_and_logs_nothing(
        desk: tuple[TestClient, dict[str, str]]) -> None:
    c, tok = desk
    before = store_of(c).stats()["turns"]
    r = c.post(f"{OFFICER}/probe", headers=auth(tok["ed"]), json={"question": QUESTION})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["articles"] and out["articles"][0]["sentences"]
    top = out["articles"][0]
    assert {"dense", "lexical", "score", "chunk_id", "text"} <= set(top["sentences"][0])
    assert out["answer"]["status"] == out["gate"]["status"] == "answered"
    assert out["answer"]["citations"][0]["article"] == 82
    refused = c.post(f"{OFFICER}/probe", headers=auth(tok["ed"]),
                     json={"question": "离婚后孩子的抚养权归谁？"}).json()
    assert refused["answer"]["status"] == "refused" and refused["gate"]["rule"]
    assert store_of(c).stats()["turns"] == before  # nothing logged as a citizen turn


# ---- roles × actions, four eyes -------------------------------------------------------


def _entry(c: TestClient, token: str, question: str) -> dict[str, Any]:
    art = c.get("/api/v1/policies/labor-law-2018/articles/44").json()
    r = c.post(f"{OFFICER}/faq", headers=auth(token), json={
        "question": question, "answer_text": art["sentences"][0],
        "citations": [{"doc_id": "labor-law-2018", "article": 44,
                       "quote": art["sentences"][0]}]})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _move(c: TestClient, token: str, e: dict[str, Any], to: str) -> Any:
    return c.post(f"{OFFICER}/faq/{e['id']}/transition", headers=auth(token),
                  json={"version": e["version"], "to": to})


@pytest.mark.parametrize("role", ["editor", "reviewer", "admin"])
@pytest.mark.parametrize("whose", ["own", "other"])
def test_role_matrix(desk: tuple[TestClient, dict[str, str]], role: str, whose: str) -> None:
    """Each role × each 问答库 action (create, edit, submit, publish, reject, retire) × its
    own entry or another officer's, plus the desk routes every officer works."""
    c, tok = desk
    me = {"editor": "ed", "reviewer": "rev", "admin": "adm"}[role]
    editor = role == "editor"
    q = f"加班费怎么算（{role}-{whose}-{uuid.uuid4().hex[:6]}）"
    if whose == "own":
        e = _entry(c, tok[me], q)
        e = c.patch(f"{OFFICER}/faq/{e['id']}", headers=auth(tok[me]),
                    json={"version": e["version"], "paraphrases": [q + "？"]}).json()
        e = _move(c, tok[me], e, "in_review").json()
        own = _move(c, tok[me], e, "published")  # never one's own entry
        assert own.status_code == 403
        assert ("权限" if editor else "四眼") in own.json()["detail"]
        rejected = _move(c, tok[me], e, "rejected")
        assert rejected.status_code == (403 if editor else 200)
    else:
        e = _move(c, tok["ed2"], _entry(c, tok["ed2"], q), "in_review").json()
        other = _move(c, tok[me], e, "published")
        assert other.status_code == (403 if editor else 200), other.text
        if not editor:  # whoever edits it after that may not publish it again
            e = other.json()
            e = c.patch(f"{OFFICER}/faq/{e['id']}", headers=auth(tok[me]),
                        json={"version": e["version"], "answer_text": "改写后的答复"}).json()
            assert e["status"] == "in_review"
            again = _move(c, tok[me], e, "published")
            assert again.status_code == 403 and "四眼" in again.json()["detail"]
            assert _move(c, tok["rev2" if me != "rev2" else "rev"], e, "published"
                         ).status_code == 200
    # retire: a published entry of someone else's
    f = _move(c, tok["ed2"], _entry(c, tok["ed2"], q + "之二"), "in_review").json()
    f = _move(c, tok["rev2"], f, "published").json()
    retired = _move(c, tok[me], f, "retired")
    assert retired.status_code == (403 if editor else 200)
    trail = c.get(f"{OFFICER}/faq/{f['id']}/audit", headers=auth(tok[me])).json()
    expected = ["editor", "editor", "reviewer"] + ([] if editor else [role])
    assert [a["role"] for a in trail] == expected  # the trail records each role
    # the desk is every officer's work
    assert c.get(f"{OFFICER}/tickets", headers=auth(tok[me])).status_code == 200
    assert c.get(f"{OFFICER}/followups", headers=auth(tok[me])).status_code == 200
    assert c.post(f"{OFFICER}/probe", headers=auth(tok[me]),
                  json={"question": "试用期最长多久"}).status_code == 200


# ---- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize("method,path,body", [
    ("GET", "/tickets?status=lost", None),
    ("GET", "/tickets?older_than_hours=-1", None),
    ("GET", "/tickets/HT-nope", None),
    ("GET", "/tickets/" + "x" * 100, None),
    ("POST", "/tickets/HT-nope/claim", None),
    ("POST", "/tickets/HT-nope/replies", {"body": "你好"}),
    ("POST", "/tickets/HT-nope/replies", {"body": ""}),
    ("POST", "/tickets/HT-nope/replies", {"body": "x" * 5000}),
    ("POST", "/tickets/HT-nope/replies", {"body": "好", "citations": [{"article": 1}]}),
    ("GET", "/followups?status=maybe", None),
    ("GET", "/followups/abc", None),
    ("GET", "/followups/999999", None),
    ("PATCH", "/followups/999999", {"outcome": "x"}),
    ("PATCH", "/followups/1", {"contacted": "perhaps"}),
    ("PATCH", "/followups/1", {"outcome": "x" * 3000}),
    ("POST", "/probe", {"question": ""}),
    ("POST", "/probe", {"question": "x" * 600}),
    ("POST", "/probe", {}),
])
def test_bad_input_is_a_clear_4xx(desk: tuple[TestClient, dict[str, str]], method: str,
                                  path: str, body: dict[str, Any] | None) -> None:
    c, tok = desk
    r = c.request(method, OFFICER + path, headers=auth(tok["ed"]), json=body)
    assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
    assert r.json()["detail"]
    assert c.get("/api/v1/handoff/HT-nope").status_code == 404


# ---- officer accounts (admins) -----------------------------------------------------------


def test_admins_manage_officers(desk: tuple[TestClient, dict[str, str]]) -> None:
    c, tok = desk
    for who in ("ed", "rev"):
        assert c.get(f"{OFFICER}/officers", headers=auth(tok[who])).status_code == 403
    name = f"new{uuid.uuid4().hex[:6]}"
    r = c.post(f"{OFFICER}/officers", headers=auth(tok["adm"]), json={"name": name})
    assert r.status_code == 201, r.text
    new = r.json()["token"]
    assert r.json()["role"] == "editor"  # the least role by default
    assert c.get(f"{OFFICER}/me", headers=auth(new)).json() == {"name": name, "role": "editor"}
    assert c.post(f"{OFFICER}/officers", headers=auth(tok["adm"]),
                  json={"name": name}).status_code == 409  # already active
    assert c.patch(f"{OFFICER}/officers/{name}", headers=auth(tok["adm"]),
                   json={"role": "reviewer"}).json()["role"] == "reviewer"
    assert c.get(f"{OFFICER}/me", headers=auth(new)).json()["role"] == "reviewer"
    listed = {o["name"]: o for o in c.get(f"{OFFICER}/officers", headers=auth(tok["adm"])).json()}
    assert listed[name]["role"] == "reviewer" and listed[name]["revoked_at"] is None
    assert "token" not in listed[name] and "token_hash" not in listed[name]
    assert c.post(f"{OFFICER}/officers/{name}/revoke", headers=auth(tok["adm"])).status_code == 200
    assert c.get(f"{OFFICER}/me", headers=auth(new)).status_code == 401
    # an admin cannot lock themselves out; bad input is a clear 4xx
    assert c.post(f"{OFFICER}/officers/adm/revoke", headers=auth(tok["adm"])).status_code == 409
    assert c.patch(f"{OFFICER}/officers/adm", headers=auth(tok["adm"]),
                   json={"role": "editor"}).status_code == 409
    for body in ({"name": "有 空格"}, {"name": "x", "role": "boss"}, {"name": ""}, {}):
        assert c.post(f"{OFFICER}/officers", headers=auth(tok["adm"]),
                      json=body).status_code == 422, body
    assert c.post(f"{OFFICER}/officers/nobody/revoke",
                  headers=auth(tok["adm"])).status_code == 404


# ---- statistics as pictures -------------------------------------------------------------

def test_stats_over_time_and_their_charts(desk: tuple[TestClient, dict[str, str]]) -> None:
    """Per Beijing day, zeros included: questions, refusals, ratings and 差评; the three
    charts are SVG with the citizens' words as text; only officers see them."""
    c, tokens = desk
    h = {"Authorization": f"Bearer {tokens['ed']}"}
    uncovered = "今天重庆的天气怎么样？"
    turns = [chat(c, uncovered) for _ in range(3)]
    assert all(t["status"] == "refused" for t in turns)
    assert c.post("/api/v1/feedback", json={"answer_id": turns[0]["answer_id"],
                                            "rating": 1}).status_code == 200
    stats = c.get(f"{OFFICER}/stats?days=7", headers=h).json()
    daily = stats["daily"]
    assert [d["day"] for d in daily][-1] == beijing_date().isoformat() and len(daily) == 7
    assert sum(d["questions"] for d in daily) == stats["totals"]["turns"]
    assert sum(d["refused"] for d in daily) == stats["totals"]["refused"]
    assert daily[-1]["bad"] >= 1 and daily[-1]["rated"] >= daily[-1]["bad"]
    for name in ("questions", "rates", "unanswered"):
        r = c.get(f"{OFFICER}/stats/charts/{name}?days=7", headers=h)
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
        assert b"<svg" in r.content and b"<script" not in r.content
    assert uncovered[:10] in c.get(f"{OFFICER}/stats/charts/unanswered", headers=h).text
    assert c.get(f"{OFFICER}/stats/charts/pie", headers=h).status_code == 404
    assert c.get(f"{OFFICER}/stats/charts/questions").status_code == 401
    assert c.get(f"{OFFICER}/stats/charts/questions?days=0", headers=h).status_code == 422
