"""What officers' tokens and platforms' API keys have in common: a long random secret
shown once, of which the database keeps only a SHA-256 (a secret of 32 random bytes is not
a password, so an unsalted hash is enough and a lookup is one indexed query), and a row
per name that can be revoked at once."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import select

from policyqa.errors import NotFound
from policyqa.store import Store
from policyqa.store.models import utcnow


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def revoke(store: Store, model: Any, name: str, what: str) -> None:
    """Revoke the ``model`` row (Officer, ApiKey) named ``name``; NotFound if none."""
    with store.writing() as s:
        row = s.scalars(select(model).where(model.name == name.strip())).first()
        if row is None:
            raise NotFound(f"no {what} named {name!r}")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
