"""``policyqa officer`` / ``policyqa faq`` and the stale check of ``policyqa index``,
in process through click's CliRunner, on a private copy of the real corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import warm
from policyqa.cli import main
from policyqa.faq.officers import authenticate
from policyqa.faq.repo import FaqRepo
from policyqa.roles import Actor
from policyqa.service import PolicyQA
from policyqa.settings import Settings
from policyqa.store import Store


def run(args: list[str], corpus: Path, index: Path, data: Path, model: Path) -> Result:
    env = {"POLICYQA_CORPUS_DIR": str(corpus), "POLICYQA_INDEX_DIR": str(index),
           "POLICYQA_MODEL_DIR": str(model), "POLICYQA_DATA_DIR": str(data)}
    return CliRunner().invoke(main, args, env=env, catch_exceptions=True)


def test_officer_tokens_from_the_cli(settings: Settings, tmp_path: Path) -> None:
    def cli(*args: str) -> Result:
        return run(list(args), settings.corpus_dir, settings.index_dir, tmp_path,
                   settings.model_dir)

    r = cli("officer", "add", "li", "--role", "reviewer")
    assert r.exit_code == 0, r.output
    token = r.stdout.strip()
    assert token.startswith("pqa_") and "not stored" in r.stderr
    store = Store.open(Settings(data_dir=tmp_path))
    assert authenticate(store, token) == Actor("li", "reviewer")
    assert cli("officer", "add", "zhao", "--role", "boss").exit_code == 2
    assert cli("officer", "role", "li", "admin").exit_code == 0
    assert authenticate(store, token).role == "admin"
    again = cli("officer", "add", "li")
    assert again.exit_code == 2 and again.stderr.startswith("错误 / error:")
    assert "admin\tactive" in cli("officer", "list").stdout
    assert cli("officer", "revoke", "li").exit_code == 0
    assert "revoked" in cli("officer", "list").stdout
    assert cli("officer", "revoke", "nobody").exit_code == 2


def test_platform_keys_from_the_cli(settings: Settings, tmp_path: Path) -> None:
    """A key is printed once, stored hashed, works until revoked; an officer's token is
    not a platform key and a platform key is not an officer's token."""
    from policyqa.errors import ApiKeyError
    from policyqa.faq.officers import Unauthorized
    from policyqa.platforms.keys import check_key
    from policyqa.store.models import ApiKey

    def cli(*args: str) -> Result:
        return run(list(args), settings.corpus_dir, settings.index_dir, tmp_path,
                   settings.model_dir)

    r = cli("apikey", "add", "dify")
    assert r.exit_code == 0, r.output
    key = r.stdout.strip()
    store = Store.open(Settings(data_dir=tmp_path))
    assert key.startswith("pqk_") and check_key(store, f"Bearer {key}") == "dify"
    with store.reading() as s:
        assert key not in {k.key_hash for k in s.query(ApiKey)}
    assert cli("apikey", "add", "dify").exit_code == 2
    assert "dify\tactive" in cli("apikey", "list").stdout
    with pytest.raises(Unauthorized):
        authenticate(store, key)
    assert cli("apikey", "revoke", "dify").exit_code == 0
    with pytest.raises(ApiKeyError):
        check_key(store, f"Bearer {key}")
    assert cli("apikey", "revoke", "nobody").exit_code == 2


def test_index_rebuild_flags_changed_quotes_and_faq_round_trip(
        settings: Settings, qa: PolicyQA, corpus_copy: Path, tmp_path: Path) -> None:
    index, data = warm(tmp_path / "index", settings.index_dir), tmp_path / "data"
    model = settings.model_dir
    assert run(["index"], corpus_copy, index, data, model).exit_code == 0
    # any clause of any document: its second sentence, which the edit below amends
    policy, art = next((p, a) for p in qa.index.policies.values() for a in p.articles
                       if a.ordinal and len(a.sentences) >= 2)
    quote = art.sentence(2).text
    repo = FaqRepo(Store.open(Settings(data_dir=data)))
    e = repo.create({"question": "招应届生有补助吗", "citations": [
        {"doc_id": policy.doc_id, "article": art.ordinal, "quote": quote}]}, officer="li",
        policies=qa.index.policies)
    repo.transition(e["id"], 1, "in_review", officer="li", policies=qa.index.policies)
    repo.transition(e["id"], 2, "published", officer="wang", policies=qa.index.policies)

    out = tmp_path / "faq.json"
    r = run(["faq", "export", "--format", "json", "--out", str(out)], corpus_copy, index, data,
            model)
    assert r.exit_code == 0, r.output
    exported = json.loads(out.read_text("utf-8"))["entries"]
    assert [x["question"] for x in exported] == ["招应届生有补助吗"]
    other = tmp_path / "other"
    r = run(["faq", "import", str(out), "--officer", "wang"], corpus_copy, index, other, model)
    assert r.exit_code == 0 and "imported 1" in r.stdout, r.output
    got = FaqRepo(Store.open(Settings(data_dir=other))).all()
    assert [(x["question"], x["status"], x["created_by"]) for x in got] == [
        ("招应届生有补助吗", "in_review", "cli:wang")]  # an import never publishes

    # A revision of the document amends the quoted sentence; the rebuild flags the entry.
    src = next(corpus_copy.glob(f"{policy.doc_id}.*[dt]"))
    text = src.read_text("utf-8")
    assert text.count(quote) == 1
    src.write_text(text.replace(quote, quote[:-1] + "（已修订）" + quote[-1]), "utf-8")
    r = run(["index"], corpus_copy, index, data, model)
    assert r.exit_code == 0, r.output
    assert "1 entries flagged stale" in r.stderr and e["id"] in r.stderr
    flagged = repo.get(e["id"])
    assert flagged["stale"] and flagged["status"] == "published" and repo.servable() == []
    # nothing else changed: checking again flags nothing
    r = run(["faq", "check"], corpus_copy, index, data, model)
    assert r.exit_code == 0 and json.loads(r.stdout.strip().splitlines()[-1]) == {
        "flagged_stale": []}
