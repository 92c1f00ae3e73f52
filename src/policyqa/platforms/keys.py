"""API keys of the platforms that call policyqa, apart from officers' tokens.

Shown once when the CLI issues it; the database keeps only its SHA-256 (a key is a long
random string, not a password, so an unsalted hash is enough and a lookup is one indexed
query). A key grants the public answers (/retrieval, /v1/…) and nothing of the desk.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from policyqa.errors import ApiKeyError, Conflict, InvalidQuestion
from policyqa.store import Store
from policyqa.store.credentials import digest, new_secret, revoke
from policyqa.store.models import ApiKey, utcnow

KEY_PREFIX = "pqk_"


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 64 or any(ch.isspace() for ch in name):
        raise InvalidQuestion("key name must be 1-64 characters without spaces")
    return name


def add_key(store: Store, name: str) -> str:
    """A new key for ``name`` (or a new one for a revoked name); returned once."""
    name, key = _name(name), new_secret(KEY_PREFIX)
    with store.writing() as s:
        row = s.scalars(select(ApiKey).where(ApiKey.name == name)).first()
        if row is not None and row.revoked_at is None:
            raise Conflict(f"key {name!r} is active (revoke it first to issue a new one)")
        if row is None:
            s.add(ApiKey(name=name, key_hash=digest(key), created_at=utcnow()))
        else:
            row.key_hash, row.revoked_at, row.created_at = digest(key), None, utcnow()
    return key


def revoke_key(store: Store, name: str) -> None:
    revoke(store, ApiKey, name, "API key")


def list_keys(store: Store) -> list[dict[str, Any]]:
    with store.reading() as s:
        return [{"name": k.name, "created_at": k.created_at.isoformat(),
                 "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None}
                for k in s.scalars(select(ApiKey).order_by(ApiKey.name))]


def check_key(store: Store, authorization: str | None) -> str:
    """The name of the key in an ``Authorization: Bearer <key>`` header; ApiKeyError
    (never echoing the key, which would end up in logs) otherwise."""
    scheme, _, key = (authorization or "").strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise ApiKeyError("Invalid Authorization header format. Expected 'Bearer <api-key>' "
                          "format.", malformed=True)
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        raise ApiKeyError("Authorization failed: unknown or revoked API key.")
    with store.reading() as s:
        row = s.scalars(select(ApiKey).where(ApiKey.key_hash == digest(key))).first()
    if row is None or row.revoked_at is not None:
        raise ApiKeyError("Authorization failed: unknown or revoked API key.")
    return row.name
