"""CLI for the officer side: ``policyqa officer add|revoke|list``, ``policyqa apikey
add|revoke|list`` (platform keys) and ``policyqa faq ...``.

Tokens are issued only here (on the server, by whoever runs it) and printed once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from policyqa.cli_common import read_settings, say
from policyqa.roles import ROLES, Actor
from policyqa.settings import Settings

if TYPE_CHECKING:
    from policyqa.faq.service import FaqService
    from policyqa.store import Store


def _settings() -> Settings:
    return read_settings()


def _store(s: Settings) -> Store:
    from policyqa.store import Store

    return Store.open(s)


@click.group()
def officer() -> None:
    """Officer accounts and their bearer tokens (stored only as hashes)."""


@officer.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="editor", show_default=True,
              help="editor: draft, edit, submit; reviewer: also publish, reject, retire "
                   "(never their own entries); admin: also officers and documents.")
def officer_add(name: str, role: str) -> None:
    """Create an officer (or re-issue a revoked one) and print the token once."""
    from policyqa.faq.officers import add_officer

    token = add_officer(_store(_settings()), name, role)
    click.echo(token)
    click.echo(f"officer {name!r} added as {role}; keep this token, it is not stored and cannot be "
               "shown again (Authorization: Bearer <token>)", err=True)


@officer.command("revoke")
@click.argument("name")
def officer_revoke(name: str) -> None:
    """Revoke an officer's token at once."""
    from policyqa.faq.officers import revoke_officer

    revoke_officer(_store(_settings()), name)
    click.echo(f"officer {name!r} revoked")


@officer.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
def officer_role(name: str, role: str) -> None:
    """Give an officer another role (their token stays valid)."""
    from policyqa.faq.officers import set_role

    set_role(_store(_settings()), name, role)
    click.echo(f"officer {name!r} is now {role}")


@officer.command("list")
def officer_list() -> None:
    from policyqa.faq.officers import list_officers

    for o in list_officers(_store(_settings())):
        state = f"revoked {o['revoked_at']}" if o["revoked_at"] else "active"
        click.echo(f"{o['name']}\t{o['role']}\t{state}\tcreated {o['created_at']}")


@click.group()
def apikey() -> None:
    """Platform API keys (Dify's /retrieval, OpenAI's /v1/…): apart from officers' tokens,
    stored only as hashes."""


@apikey.command("add")
@click.argument("name")
def apikey_add(name: str) -> None:
    """Issue a key for a platform (or a new one for a revoked name); printed once."""
    from policyqa.platforms.keys import add_key

    click.echo(add_key(_store(_settings()), name))
    click.echo(f"API key {name!r} added; keep it, it is not stored and cannot be shown again "
               "(Authorization: Bearer <key>)", err=True)


@apikey.command("revoke")
@click.argument("name")
def apikey_revoke(name: str) -> None:
    """Revoke a platform's key at once."""
    from policyqa.platforms.keys import revoke_key

    revoke_key(_store(_settings()), name)
    click.echo(f"API key {name!r} revoked")


@apikey.command("list")
def apikey_list() -> None:
    from policyqa.platforms.keys import list_keys

    for k in list_keys(_store(_settings())):
        state = f"revoked {k['revoked_at']}" if k["revoked_at"] else "active"
        click.echo(f"{k['name']}\t{state}\tcreated {k['created_at']}")


@click.group()
def faq() -> None:
    """The 问答库: export, import, and the stale check against the corpus."""


def _faq_service(s: Settings) -> FaqService:
    from policyqa.faq.service import FaqService
    from policyqa.service import PolicyQA

    return FaqService(PolicyQA.open(s, progress=say), _store(s))


@faq.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx"]), default="json")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def faq_export(fmt: str, out: Path) -> None:
    from policyqa.faq.io import export_entries
    from policyqa.faq.repo import FaqRepo

    entries = FaqRepo(_store(_settings())).all()
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(export_entries(entries, fmt))
    tmp.replace(out)
    click.echo(f"exported {len(entries)} entries to {out}")


@faq.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx"]))
@click.option("--officer", "who", required=True, help="Officer name recorded in the audit.")
def faq_import(path: Path, fmt: str | None, who: str) -> None:
    """Validate every row, then import all of them or none."""
    from policyqa.faq.service import ImportRejected

    fmt = fmt or path.suffix.lstrip(".").lower()
    svc = _faq_service(_settings())
    try:
        res = svc.import_(path.read_bytes(), fmt, Actor(f"cli:{who}", "editor"), path.name)
    except ImportRejected as e:
        for err in e.errors:
            click.echo(f"  row {err['row']} {err['field']}: {err['message']}", err=True)
        raise
    click.echo(f"imported {res['imported']} entries, waiting in review (a reviewer publishes them)")


@faq.command("check")
def faq_check() -> None:
    """Flag entries whose quotes no longer hold in the current corpus (done at start-up too)."""
    svc = _faq_service(_settings())
    flagged = svc.repo.flag_stale(svc.policies)
    click.echo(json.dumps({"flagged_stale": flagged}, ensure_ascii=False))
