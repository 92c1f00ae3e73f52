"""Secrets sent by mistake in a query string never reach the access log.

Officers' tokens belong in the Authorization header, but a client may put one in
the URL (``?token=…``); uvicorn's access log writes the whole path. A filter on
that logger rewrites the query values of secret-looking names to ``***``.
"""

from __future__ import annotations

import logging
import re

SECRET_NAMES = ("token", "access_token", "api_key", "apikey", "key", "password", "secret",
                "authorization", "auth")
_SECRET = re.compile(rf"([?&](?:{'|'.join(SECRET_NAMES)})=)[^&#\s]*", re.IGNORECASE)


def redact(path: str) -> str:
    """``path`` with the values of secret query parameters replaced by ``***``."""
    return _SECRET.sub(r"\1***", path)


class RedactSecrets(logging.Filter):
    """uvicorn.access records: (client, method, path with query, http version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3:
            args = list(record.args)
            args[2] = redact(str(args[2]))
            record.args = tuple(args)
        return True


def redact_access_log(logger_name: str = "uvicorn.access") -> None:
    """Install the filter once (idempotent: every app factory call may ask)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())
