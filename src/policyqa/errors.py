"""One error hierarchy for the whole package.

Every error a user can cause or meet carries a short message meant to be shown
as-is (CLI prints it, the API maps the class to an HTTP status in one table).
"""

from __future__ import annotations


class PolicyQAError(Exception):
    """Base class: a clean, user-facing failure (never a traceback)."""

    http_status: int = 500


class ConfigError(PolicyQAError):
    """Settings are inconsistent or point at something that does not exist."""

    http_status = 500


class CorpusError(PolicyQAError):
    """A corpus file cannot be read or parsed; the message names the file and the reason
    (``file``: the file's name, where one file is at fault)."""

    http_status = 500

    def __init__(self, message: str, *, file: str = "") -> None:
        super().__init__(message)
        self.file = file


class ModelError(PolicyQAError):
    """The embedding model cannot be built or loaded."""

    http_status = 503


class IndexStoreError(PolicyQAError):
    """The on-disk index is missing, corrupt, or was built by another encoder/corpus."""

    http_status = 503


class IndexMismatch(IndexStoreError):
    """The index on disk does not match the configured encoder (refuse to mix vectors)."""


class IndexMissing(IndexStoreError):
    """No index has been built yet."""


class InvalidQuestion(PolicyQAError):
    """The question is empty or unusable."""

    http_status = 422


class NotFound(PolicyQAError):
    """A document, article or id does not exist."""

    http_status = 404


class Conflict(PolicyQAError):
    """The resource changed since the client read it (stale version) or already exists."""

    http_status = 409


class Forbidden(PolicyQAError):
    """The officer is known, but their role may not do this (or four eyes forbid it)."""

    http_status = 403


class InvalidDocument(PolicyQAError):
    """An uploaded policy document cannot go into the corpus (format, encoding, no
    articles, bad sidecar); nothing was changed."""

    http_status = 422


class DocumentTooLarge(PolicyQAError):
    http_status = 413


class ApiKeyError(PolicyQAError):
    """A platform's request (Dify, an OpenAI client) without a well-formed bearer key
    (``malformed``) or with an unknown or revoked one. Each surface answers it in its own
    protocol's shape and status (Dify: 403 with error_code 1001/1002; OpenAI: 401)."""

    http_status = 401

    def __init__(self, message: str, *, malformed: bool = False) -> None:
        super().__init__(message)
        self.malformed = malformed


class UnknownKnowledge(NotFound):
    """A Dify ``knowledge_id`` that names no part of the corpus (Dify's error_code 2001)."""
