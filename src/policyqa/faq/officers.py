"""Officer accounts and their bearer tokens.

A token is shown once, when the CLI issues it; the database keeps only its
SHA-256, so a leaked database does not leak credentials. Tokens are long random
strings (not passwords), so an unsalted hash is enough and lookup stays one
indexed query.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from policyqa.errors import NotFound, PolicyQAError
from policyqa.roles import ROLES, Actor
from policyqa.store import Store
from policyqa.store.credentials import digest, new_secret, revoke
from policyqa.store.models import Officer, utcnow

TOKEN_PREFIX = "pqa_"


class Unauthorized(PolicyQAError):
    """No, a malformed, an unknown or a revoked bearer token."""

    http_status = 401


class OfficerError(PolicyQAError):
    """Officer management failed (duplicate or unknown name)."""

    http_status = 409


def token_hash(token: str) -> str:
    return digest(token)


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 64 or any(ch.isspace() for ch in name):
        raise OfficerError("officer name must be 1-64 characters without spaces")
    return name


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise OfficerError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def add_officer(store: Store, name: str, role: str = "editor") -> str:
    """Create an officer, or give a revoked one a new token (and the role given);
    returns the token (shown once). The default role is the least one."""
    name, role = _check_name(name), _check_role(role)
    token = new_secret(TOKEN_PREFIX)
    with store.writing() as s:
        row = s.scalars(select(Officer).where(Officer.name == name)).first()
        if row is not None and row.revoked_at is None:
            raise OfficerError(f"officer {name!r} already has an active token "
                               "(revoke it first to issue a new one)")
        if row is None:
            s.add(Officer(name=name, token_hash=token_hash(token), role=role,
                          created_at=utcnow()))
        else:
            row.token_hash, row.revoked_at, row.role = token_hash(token), None, role
    return token


def revoke_officer(store: Store, name: str) -> None:
    revoke(store, Officer, name, "officer")


def list_officers(store: Store) -> list[dict[str, Any]]:
    with store.reading() as s:
        return [{"name": o.name, "role": o.role, "created_at": o.created_at.isoformat(),
                 "revoked_at": o.revoked_at.isoformat() if o.revoked_at else None}
                for o in s.scalars(select(Officer).order_by(Officer.name))]


def set_role(store: Store, name: str, role: str) -> None:
    role = _check_role(role)
    with store.writing() as s:
        row = s.scalars(select(Officer).where(Officer.name == name.strip())).first()
        if row is None:
            raise NotFound(f"no officer named {name!r}")
        row.role = role


def authenticate(store: Store, token: str | None) -> Actor:
    """The officer (name and role) of a valid, unrevoked token; Unauthorized otherwise.

    The message never echoes the token (it would end up in logs).
    """
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise Unauthorized("需要有效的工作人员令牌（Authorization: Bearer …）")
    with store.reading() as s:
        row = s.scalars(select(Officer).where(Officer.token_hash == token_hash(token))).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("令牌无效或已被吊销")
    return Actor(row.name, row.role)
