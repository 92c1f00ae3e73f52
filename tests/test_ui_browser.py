"""The citizen widget (/ui) in a real headless Chromium against the real server.

The server runs as a subprocess (`python -m policyqa.cli serve`) on a free localhost
port with the real model and corpus, a private index folder and a private SQLite
database; the browser is Debian's /usr/bin/chromium driven by Playwright (never a
downloaded browser). Ratings and 转人工 tickets are checked in the database itself.
"""

from __future__ import annotations

import os
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from live import CHROMIUM, CHROMIUM_ARGS, Server, call, live_server
from policyqa.faq.officers import add_officer
from policyqa.settings import Settings
from policyqa.store import Store

QUESTION = "我们公司招了应届生，有补贴吗？"
DOC_NO = "渝人社规〔2025〕23号"
T = 20_000  # ms: one answer, at most

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)
try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:
    pytest.skip("the playwright package is not installed (pip install -e '.[dev]')",
                allow_module_level=True)

pytestmark = pytest.mark.slow


def wait_until(check: Callable[[], Any], timeout_s: float = T / 1000) -> None:
    """Poll a check from Python. Playwright's wait_for_function evaluates a string predicate
    with eval() inside the page, which the desk's CSP (script-src 'self', no 'unsafe-eval')
    rightly forbids in newer Chromium builds; an element's evaluate() goes through the
    DevTools protocol and is not subject to the page's CSP."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`policyqa serve` on the session's index folder (built by whoever comes first, the
    server or the in-process `qa` fixture) and a fresh SQLite database."""
    with live_server(settings, tmp_path_factory.mktemp("ui_server"),
                     POLICYQA_TICKET_POLL_S="1") as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    ctx = browser.new_context(viewport={"width": 1000, "height": 900}, locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(T)
    yield pg
    ctx.close()


def open_ui(page: Page, server: Server) -> None:
    page.goto(server.base + "/")  # / redirects to /ui/
    expect(page.locator("#question-box textarea")).to_be_visible(timeout=T)


def ask(page: Page, question: str) -> None:
    before = page.locator("#chat .pq-answer").count()
    page.locator("#question-box textarea").fill(question)
    page.locator("#send-btn").click()
    expect(page.locator("#chat .pq-answer")).to_have_count(before + 1, timeout=T)


def officer_token(server: Server, name: str, role: str = "editor") -> str:
    """An officer in the server's own database (the CLI would do the same)."""
    store = Store.open(f"sqlite:///{server.data_dir / 'policyqa.db'}")
    try:
        return add_officer(store, name, role)
    finally:
        store.close()


def latest_rating(server: Server) -> tuple[Any, ...] | None:
    with server.db() as db:
        return db.execute(
            "SELECT f.rating, t.question, t.channel FROM feedback f "
            "JOIN turns t ON t.id = f.answer_id ORDER BY f.id DESC LIMIT 1").fetchone()


def test_ask_cite_related_and_rate(page: Page, server: Server) -> None:
    open_ui(page, server)
    expect(page.locator("#hot-questions button").first).to_be_visible(timeout=T)

    ask(page, QUESTION)
    answer = page.locator("#chat .pq-answer").last
    expect(answer.locator(".cite-src").first).to_contain_text("第十条")
    # 查看原文: the card expands to the full clause.
    clause = answer.locator(".cite-clause").first
    expect(clause).to_be_hidden()
    answer.locator("summary", has_text="查看原文").first.click()
    expect(clause).to_be_visible()
    article = server.get_json(f"/api/v1/policies/{DOC_NO}/articles/10")["text"]
    assert article in clause.inner_text().replace("\n", "")

    # 猜你想问: a chip asks its question and a new (answered) turn appears.
    chip = page.locator("#related button").first
    expect(chip).to_be_visible()
    related_q = chip.inner_text().strip()
    assert related_q
    chip.click()
    expect(page.locator("#chat .pq-answer")).to_have_count(2, timeout=T)
    expect(page.locator("#chat .pq-q").last).to_have_text(related_q)
    expect(page.locator("#chat .pq-answer").last.locator(".cite-card").first).to_be_visible()

    # 好差评 for the latest answer reaches the database.
    page.locator("#rating label", has_text="5 非常满意").click()
    expect(page.locator("#rating-msg")).to_contain_text("感谢")
    deadline = time.monotonic() + 5
    while (row := latest_rating(server)) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert row == (5, related_q, "widget")


def test_a_law_article_reads_as_printed(page: Page, server: Server) -> None:
    """A law: the citation names the 款 quoted, and 查看原文 shows the article one 款 per
    line, as printed (not run together)."""
    law = "labor-contract-law-2012"
    if law not in {d["doc_id"] for d in server.get_json("/api/v1/policies")}:
        pytest.skip(f"{law} is not in this corpus")
    open_ui(page, server)
    ask(page, "劳务派遣工同工同酬吗")
    answer = page.locator("#chat .pq-answer").last
    expect(answer.locator(".cite-src").first).to_contain_text(
        "《中华人民共和国劳动合同法》第六十三条第一款")
    answer.locator("summary", has_text="查看原文").first.click()
    clause = answer.locator(".cite-clause").first
    expect(clause).to_be_visible()
    art = server.get_json(f"/api/v1/policies/{law}/articles/63")
    lines = [ln.strip() for ln in clause.inner_text().splitlines() if ln.strip()]
    paras = [p["text"] for p in art["paragraphs"]]
    assert len(paras) == 2 and all(any(p in ln for ln in lines) for p in paras), lines
    assert not any(paras[0] in ln and paras[1] in ln for ln in lines)  # not one run


def test_markup_in_question_is_text_and_handoff(page: Page, server: Server) -> None:
    open_ui(page, server)
    evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>失业金领多久？'
    ask(page, evil)
    expect(page.locator("#chat .pq-q").last).to_have_text(evil)
    assert page.locator("#chat img[src='x'], #chat script").count() == 0
    assert page.evaluate("window.__xss") is None

    page.locator("#handoff-btn").click()
    info = page.locator("#handoff-info")
    expect(info).to_contain_text("12333")
    expect(info).to_contain_text("HT-")
    ticket = info.inner_text().split("工单号：")[-1].strip()
    with server.db() as db:
        row = db.execute("SELECT status, transcript FROM handoff_tickets WHERE id = ?",
                         (ticket,)).fetchone()
    assert row is not None and row[0] == "open" and "失业金" in row[1]


def test_officer_reply_reaches_the_widget(page: Page, server: Server) -> None:
    """转人工, an officer claims and answers over the API, and the reply appears in the
    citizen's conversation while the page is open — and again after a reload (the
    ticket id is kept in the browser); closing the ticket is said once."""
    open_ui(page, server)
    ask(page, "公司不跟我签合同，能要双倍工资吗？")
    page.locator("#handoff-btn").click()
    expect(page.locator("#handoff-info")).to_contain_text("HT-")
    ticket = page.locator("#handoff-info").inner_text().split("工单号：")[-1].strip()
    token = officer_token(server, "desk-ui")
    art = server.get_json("/api/v1/policies/labor-contract-law-2012/articles/82")
    status, _ = call(server, "POST", f"/api/v1/officer/tickets/{ticket}/claim", {}, token)
    assert status == 200
    status, body = call(server, "POST", f"/api/v1/officer/tickets/{ticket}/replies", {
        "body": "您好，可以主张二倍工资。<b>不是标记</b>",
        "citations": [{"doc_id": "labor-contract-law-2012", "article": 82,
                       "quote": art["sentences"][0]}]}, token)
    assert status == 201, body
    reply = page.locator("#chat .pq-reply")
    expect(reply).to_have_count(1, timeout=T)
    expect(reply).to_contain_text("可以主张二倍工资")
    expect(reply).to_contain_text("<b>不是标记</b>")  # an officer's text is text too
    expect(reply.locator(".cite-src")).to_contain_text("第八十二条")

    page.reload()  # coming back: the conversation is new, the ticket's reply is shown
    expect(page.locator("#chat .pq-reply")).to_have_count(1, timeout=T)
    expect(page.locator("#handoff-info")).to_contain_text(ticket)
    assert call(server, "POST", f"/api/v1/officer/tickets/{ticket}/close", {}, token)[0] == 200
    expect(page.locator("#chat")).to_contain_text("工单已办结", timeout=T)


def test_officer_desk_page(browser: Browser, server: Server) -> None:
    """The officer's page: log in with a token, find the citizen's ticket, claim and
    answer it, and the citizen sees the reply in the widget; 命中测试 and the role
    check work from the page; a citizen's markup stays text on the officer's screen."""
    citizen = browser.new_context(locale="zh-CN").new_page()
    citizen.set_default_timeout(T)
    open_ui(citizen, server)
    evil = '<img src=x onerror="window.__xss=1">加班费怎么算？'
    ask(citizen, evil)
    citizen.locator("#handoff-btn").click()
    expect(citizen.locator("#handoff-info")).to_contain_text("HT-")
    ticket = citizen.locator("#handoff-info").inner_text().split("工单号：")[-1].strip()

    token = officer_token(server, "desk-page")
    officer = browser.new_context(locale="zh-CN").new_page()
    officer.set_default_timeout(T)
    officer.goto(server.base + "/desk")
    officer.locator("#token").fill("pqa_wrong")
    officer.locator("#login-form button").click()
    expect(officer.locator("#login-error")).to_contain_text("令牌")
    officer.locator("#token").fill(token)
    officer.locator("#login-form button").click()
    expect(officer.locator("#me")).to_contain_text("desk-page（editor）")
    row = officer.locator("#ticket-list tbody tr", has_text=ticket)
    expect(row).to_contain_text(evil)  # shown as text
    assert officer.evaluate("window.__xss") is None
    row.click()
    expect(officer.locator("#ticket-title")).to_contain_text(ticket)
    officer.locator("#ticket-claim").click()
    expect(officer.locator("#ticket-title")).to_contain_text("claimed")
    officer.locator("#reply-body").fill("您好，加班费按劳动法第四十四条的标准支付。")
    officer.locator("#reply-form button[type=submit]").click()
    expect(officer.locator("#flash")).to_contain_text("回复已发送")
    expect(officer.locator("#ticket-replies")).to_contain_text("第四十四条的标准")

    expect(citizen.locator("#chat .pq-reply")).to_contain_text("第四十四条的标准", timeout=T)

    officer.locator("nav button[data-tab=probe]").click()
    officer.locator("#probe-question").fill("试用期最长多久？")
    officer.locator("#probe-form button").click()
    expect(officer.locator("#probe-result")).to_contain_text("回答：answered")
    expect(officer.locator("#probe-result .card").first).to_be_visible()
    officer.locator("nav button[data-tab=documents]").click()  # admins only
    expect(officer.locator("#flash")).to_contain_text("权限不足")
    officer.locator("nav button[data-tab=review]").click()
    expect(officer.locator("#tab-review")).to_be_visible()


def test_admin_adds_an_officer_from_the_desk_page(browser: Browser, server: Server) -> None:
    """An admin adds an officer on the page; the token shown once logs the new officer in."""
    page = browser.new_context(locale="zh-CN").new_page()
    page.set_default_timeout(T)
    page.goto(server.base + "/desk/")
    page.locator("#token").fill(officer_token(server, "desk-admin", "admin"))
    page.locator("#login-form button").click()
    expect(page.locator("#me")).to_contain_text("desk-admin（admin）")
    page.locator("nav button[data-tab=officers]").click()
    page.locator("#officer-name").fill("desk-new")
    page.locator("#officer-role").select_option("reviewer")
    page.locator("#officer-form button").click()
    expect(page.locator("#officer-token")).to_contain_text("只显示这一次")
    token = page.locator("#officer-token").inner_text().rsplit("：", 1)[-1].strip()
    expect(page.locator("#officer-list tbody tr", has_text="desk-new")).to_contain_text(
        "reviewer")
    status, me = call(server, "GET", "/api/v1/officer/me", None, token)
    assert status == 200 and me == {"name": "desk-new", "role": "reviewer"}


def test_officer_stats_charts_on_the_desk_page(browser: Browser, server: Server) -> None:
    """统计图: the three server-drawn SVGs load in the page (fetched with the token), and a
    citizen's refused question is in the unanswered chart as text, never as markup."""
    evil = '<script>window.__xss=1</script>今天重庆的天气怎么样？'
    for _ in range(2):
        assert call(server, "POST", "/api/v1/chat", {"question": evil})[0] == 200
    page = browser.new_context(locale="zh-CN").new_page()
    page.set_default_timeout(T)
    page.goto(server.base + "/desk/")
    page.locator("#token").fill(officer_token(server, "desk-charts"))
    page.locator("#login-form button").click()
    expect(page.locator("#me")).to_contain_text("desk-charts")
    page.locator("nav button[data-tab=charts]").click()
    for name in ("questions", "rates", "unanswered"):
        img = page.locator(f"#chart-{name}")
        expect(img).to_have_attribute("src", re.compile("^blob:"), timeout=T)
        wait_until(lambda img=img: img.evaluate("el => el.naturalWidth") > 200)
    page.locator("#chart-days").select_option("7")
    wait_until(lambda: page.locator("#chart-questions").evaluate("el => el.complete"))
    assert page.evaluate("window.__xss") is None


def test_phone_width_and_embedding(browser: Browser, server: Server) -> None:
    ctx = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True,
                              has_touch=True, device_scale_factor=2, locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(T)
    try:
        open_ui(pg, server)
        for sel in ("#question-box textarea", "#send-btn"):
            el = pg.locator(sel)
            expect(el).to_be_visible()
            box = el.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, sel
        ask(pg, QUESTION)
        assert pg.evaluate("document.documentElement.scrollWidth") <= 376  # no sideways scroll
        pg.screenshot(path=os.environ.get("POLICYQA_UI_SCREENSHOT")
                      or str(server.data_dir.parent / "ui-375.png"), full_page=True)
    finally:
        ctx.close()
    # Embeddable in an iframe (no X-Frame-Options: DENY) and / leads to the widget.
    with urllib.request.urlopen(server.base + "/", timeout=10) as r:
        assert r.url.rstrip("/").endswith("/ui")
        assert (r.headers.get("X-Frame-Options") or "").upper() not in ("DENY", "SAMEORIGIN")
