"""A running server switches to a new index build without a restart (a real server).

While four clients keep asking, a document is added to the corpus and another edited,
and `policyqa index` runs in its own process. The server must answer every request,
cite the new document once it has switched, and stop serving the 问答库 entry whose
quote the edit removed (the stale check runs on the switch). The added document is invented
(tests/fixtures/invented/nested.txt); the edit is made to a private copy of the corpus.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import CORPUS_DIR, INVENTED_DIR, warm
from live import REPO_ROOT, Server, call, live_server
from policyqa.faq.officers import add_officer
from policyqa.settings import Settings
from policyqa.store import Store

pytestmark = pytest.mark.slow
NEW_QUESTION = "技能测试的培训内容包括哪些？"  # answered by the invented document only
STREAM = ["我们公司招了应届生，有补贴吗？", "企业新型学徒制培训有补贴吗？",
          "职工教育经费有多少要用于一线职工？", "什么是“一试双证”？"]
QUOTE = "按规定给予一次性扩岗补助"
FAQ_QUESTION = "扩岗补助是按规定给吗？"


def ask(srv: Server, question: str) -> dict[str, Any]:
    status, body = call(srv, "POST", "/api/v1/chat", {"question": question})
    assert status == 200, body
    return dict(body)


def cited(srv: Server, question: str) -> set[str]:
    return {c["doc_id"] for c in ask(srv, question)["citations"]}


def publish(srv: Server, token: str, reviewer: str) -> str:
    """``token`` writes and submits the entry, ``reviewer`` publishes it (four eyes)."""
    status, e = call(srv, "POST", "/api/v1/officer/faq", {
        "question": FAQ_QUESTION, "answer_text": "是的。",
        "citations": [{"doc_id": "yrsg-2025-23", "article": 10, "quote": QUOTE}]}, token)
    assert status == 201, e
    for to, who in (("in_review", token), ("published", reviewer)):
        status, e = call(srv, "POST", f"/api/v1/officer/faq/{e['id']}/transition",
                         {"version": e["version"], "to": to}, who)
        assert status == 200, e
    return str(e["id"])


def test_a_new_build_is_served_without_restart(settings: Settings, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    s = settings.model_copy(update={"corpus_dir": corpus,
                                    "index_dir": warm(tmp_path / "index", settings.index_dir)})
    store = Store.open(Settings(data_dir=tmp_path / "data"))
    token, reviewer = add_officer(store, "li"), add_officer(store, "wang", "reviewer")
    store.close()
    with live_server(s, tmp_path, POLICYQA_RATE_LIMIT_PER_MINUTE="0",
                     POLICYQA_INDEX_POLL_S="0.5") as srv:
        assert "nested" not in cited(srv, NEW_QUESTION)
        entry = publish(srv, token, reviewer)
        assert ask(srv, FAQ_QUESTION)["source"] == "faq"
        results: list[tuple[int, float]] = []
        stop = threading.Event()

        def ask_forever(i: int) -> None:
            while not stop.is_set():
                t0 = time.perf_counter()
                status, _ = call(srv, "POST", "/api/v1/chat", {"question": STREAM[i]})
                results.append((status, time.perf_counter() - t0))

        clients = [threading.Thread(target=ask_forever, args=(i,)) for i in range(4)]
        for t in clients:
            t.start()
        try:
            shutil.copy(INVENTED_DIR / "nested.txt", corpus / "nested.txt")
            seed = next(corpus.glob("yrsg-*.txt"))
            seed.write_text(seed.read_text("utf-8").replace(QUOTE, "给予一次性吸纳就业补贴"),
                            "utf-8")
            build = subprocess.run([sys.executable, "-m", "policyqa.cli", "index"],
                                   env=srv.env, cwd=REPO_ROOT, capture_output=True,
                                   text=True, timeout=300, stdin=subprocess.DEVNULL)
            assert build.returncode == 0, build.stderr[-2000:]
            deadline = time.monotonic() + 60
            while "nested" not in cited(srv, NEW_QUESTION):
                assert time.monotonic() < deadline, srv.tail()
                time.sleep(0.5)
            time.sleep(1.0)  # and keep asking on the new build for a moment
        finally:
            stop.set()
            for t in clients:
                t.join(timeout=60)
        statuses = [st for st, _ in results]
        assert len(statuses) > 20 and set(statuses) == {200}, sorted(set(statuses))
        slowest = max(dt for _, dt in results)
        assert slowest < 10, slowest  # nothing hung while the build was loaded and swapped
        status, got = call(srv, "GET", f"/api/v1/officer/faq/{entry}", token=token)
        assert status == 200 and got["stale"] is True, got
        assert ask(srv, FAQ_QUESTION)["source"] != "faq"  # the switch took it out of serving
        print(f"{len(statuses)} answers during the rebuild and switch, all 200; "
              f"slowest {slowest * 1000:.0f} ms")
