"""The red-team findings outside the chat routes: a broken corpus file, the database
file's mode, abandoned index builds, the widget's uploads and redirect, /docs offline,
response headers, secrets in the access log, retention."""

from __future__ import annotations

import logging
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import INVENTED_DIR
from policyqa.api import create_app
from policyqa.api.app import default_loader, open_store
from policyqa.api.logredact import RedactSecrets, redact
from policyqa.chat import ChatService
from policyqa.errors import CorpusError, IndexMissing
from policyqa.faq.officers import add_officer
from policyqa.service import PolicyQA, build_index, make_tokenizer
from policyqa.settings import Settings
from policyqa.store import Store

SMALL_DOCS = ("nested.txt", "webpage.txt")  # invented documents (see fixtures/invented)


@pytest.fixture()
def small(tmp_path: Path, settings: Settings, qa: PolicyQA) -> Settings:
    """A small invented corpus with a good index built, and its own database."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in SMALL_DOCS:
        shutil.copy(INVENTED_DIR / name, corpus / name)
    s = settings.model_copy(update={"corpus_dir": corpus, "index_dir": tmp_path / "index",
                                    "data_dir": tmp_path / "data", "rate_limit_per_minute": 0})
    tokenizer, sig = make_tokenizer()
    build_index(s, qa.encoder, tokenizer, sig)
    return s


def test_a_broken_file_degrades_instead_of_stopping(small: Settings) -> None:
    shutil.copy(INVENTED_DIR / "no_articles.txt", small.corpus_dir / "broken.txt")
    with TestClient(create_app(small, background=False, mount_ui=False)) as c:
        ready = c.get("/readyz")
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["ready"] and body["status"] == "degraded"
        assert body["problems"][0]["file"] == "broken.txt"
        assert "no numbered articles" in body["problems"][0]["reason"]
        assert c.post("/api/v1/chat", json={"question": "补贴怎么申请？"}).status_code == 200
        token = add_officer(c.app.state.policyqa.chat.store, "li")  # type: ignore[attr-defined]
        seen = c.get("/api/v1/officer/status", headers={"Authorization": f"Bearer {token}"})
        assert seen.json()["problems"][0]["file"] == "broken.txt"
    tokenizer, sig = make_tokenizer()
    encoder = c.app.state.policyqa.chat.qa.encoder  # type: ignore[attr-defined]
    with pytest.raises(CorpusError, match=r"broken\.txt"):  # no new build until it is fixed
        build_index(small, encoder, tokenizer, sig)
    (small.corpus_dir / "broken.txt").unlink()
    loaded = default_loader(small)
    assert loaded.problems == ()


def test_public_503_bodies_hide_internals(settings: Settings) -> None:
    def fail(_: Settings) -> Any:
        raise IndexMissing("no index in /srv/policyqa/index; run `policyqa index`")

    with TestClient(create_app(settings, loader=fail, background=False, mount_ui=False)) as c:
        for r in (c.post("/api/v1/chat", json={"question": "补贴？"}), c.get("/readyz"),
                  c.get("/api/v1/hot-questions")):
            assert r.status_code == 503
            assert "policyqa index" not in r.text and "/srv" not in r.text, r.text
            assert "12333" in r.json()["detail"]


def test_sqlite_file_is_private(tmp_path: Path) -> None:
    data = tmp_path / "new-data"
    store = Store.open(Settings(data_dir=data))
    store.new_session("web")
    store.close()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for f in data.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "policyqa.db").touch(mode=0o644)
    Store.open(Settings(data_dir=loose)).close()  # an existing file is tightened
    assert stat.S_IMODE((loose / "policyqa.db").stat().st_mode) == 0o600


def test_abandoned_partial_builds_are_removed(small: Settings, qa: PolicyQA) -> None:
    builds = small.index_dir / "builds"
    dead = builds / ".20260101T000000-99999999-deadbeef.partial"  # no such process
    alive = builds / f".20260101T000000-{os.getppid()}-cafe0000.partial"  # still running
    for p in (dead, alive):
        p.mkdir()
        (p / "dense.faiss").write_bytes(b"half")
    tokenizer, sig = make_tokenizer()
    build_index(small, qa.encoder, tokenizer, sig, force=True)
    assert not dead.exists() and alive.exists()


@pytest.fixture(scope="module")
def web(settings: Settings, qa: PolicyQA, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[TestClient]:
    """The whole app with the widget, embedding allowed from one named site."""
    s = settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("web"),
                                    "frame_ancestors": "'self' https://12333.example.gov.cn"})
    app = create_app(s, loader=lambda st: ChatService(qa, open_store(st)), background=False)
    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/hot-questions", "/ui/", "/docs",
                                  "/api/v1/nope"])
def test_security_headers(web: TestClient, path: str) -> None:
    r = web.get(path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "frame-ancestors 'self' https://12333.example.gov.cn" in r.headers[
        "content-security-policy"]


def test_widget_redirect_is_relative(web: TestClient) -> None:
    for path in ("/ui", "/"):
        r = web.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
        assert r.status_code in (302, 307) and r.headers["location"] == "/ui/", r.headers


def test_widget_refuses_uploads(web: TestClient, tmp_path: Path) -> None:
    import tempfile

    cache = Path(os.environ.get("GRADIO_TEMP_DIR", Path(tempfile.gettempdir()) / "gradio"))
    before = set(cache.rglob("*")) if cache.exists() else set()
    for path in ("/ui/gradio_api/upload", "/ui/upload"):
        r = web.post(path, files={"files": ("x.bin", b"\0" * 100_000)})
        assert r.status_code in (403, 413), (path, r.status_code)
    after = set(cache.rglob("*")) if cache.exists() else set()
    assert not [p for p in after - before if p.name == "x.bin"]


def test_docs_are_served_offline(web: TestClient) -> None:
    page = web.get("/docs").text
    assert "cdn" not in page.lower() and "/docs/static/swagger-ui-bundle.js" in page
    js = web.get("/docs/static/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000


def test_openapi_lists_the_real_errors(web: TestClient) -> None:
    doc = web.get("/openapi.json").json()
    chat = doc["paths"]["/api/v1/chat"]["post"]["responses"]
    assert {"404", "413", "422", "429", "503"} <= set(chat)
    (body,) = chat["422"]["content"].values()
    assert body["schema"]["$ref"].endswith("/ErrorOut")
    for path, ops in doc["paths"].items():
        if path.startswith("/api/v1/officer"):
            for op in ops.values():
                assert "401" in op["responses"], path


def test_secrets_in_query_strings_are_redacted() -> None:
    assert redact("/api/v1/officer/faq?token=pqa_abc&limit=5") == \
        "/api/v1/officer/faq?token=***&limit=5"
    assert redact("/x?a=1&API_KEY=s3cr3t#f") == "/x?a=1&API_KEY=***#f"
    assert redact("/x?tokens=1") == "/x?tokens=1"
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0,
                               '%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5", "GET",
                                                          "/faq?token=pqa_secret", "1.1", 200),
                               None)
    assert RedactSecrets().filter(record) and "pqa_secret" not in record.getMessage()
    assert any(isinstance(f, RedactSecrets)
               for f in logging.getLogger("uvicorn.access").filters)  # installed by the app


def test_purge_command(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from policyqa.cli import main

    store = Store.open(Settings(data_dir=tmp_path))
    sid = store.new_session("web")
    store.add_turn(sid, "问题", "问题", "refused", "none", "答")
    store.close()
    env = {"POLICYQA_DATA_DIR": str(tmp_path), "POLICYQA_RETENTION_DAYS": "30"}
    r = CliRunner().invoke(main, ["purge"], env=env)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {"retention_days": 30, "deleted": {
        "feedback": 0, "followups": 0, "turns": 0, "ticket_replies": 0, "handoffs": 0,
        "sessions": 0}}  # nothing is that old yet
    assert CliRunner().invoke(main, ["purge", "--days", "0"], env=env).exit_code == 2
