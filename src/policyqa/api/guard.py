"""The outer layer of the app: what every request meets before any route runs.

A plain ASGI middleware (not Starlette's ``BaseHTTPMiddleware``) so that it sees the
raw byte stream:

- **Body size.** A body over its route's limit is refused with 413 before a byte of
  it is parsed: by its Content-Length at once, else while it is read (chunked
  uploads). Parsing and normalising a 10 MB "question" cost ~30 s of CPU before.
- **No uploads.** The widget takes no files, so Gradio's upload route is refused.
- **Headers.** nosniff, a referrer policy and a CSP whose ``frame-ancestors`` comes
  from the settings (where the widget may be embedded), on every response.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException

from policyqa.api import texts

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]



@dataclass(frozen=True)
class Limits:
    public: int  # /api/v1 citizen routes and anything not named below
    officer: int  # /api/v1/officer/* JSON, the widget's own calls (/ui), and the keyed
    # OpenAI route (/v1/…), whose body carries the whole conversation with its answers
    imports: int  # /api/v1/officer/faq/import
    documents: int = 10_485_760  # /api/v1/officer/documents (a policy file and its sidecar)

    def for_path(self, path: str) -> int:
        if path.startswith("/api/v1/officer/faq/import"):
            return self.imports
        if path.startswith("/api/v1/officer/documents"):
            return self.documents
        if path.startswith(("/api/v1/officer/", "/ui/", "/v1/")):
            return self.officer
        return self.public


def _size(n: int) -> str:
    return f"{n // 1_000_000} MB" if n >= 1_000_000 else f"{n // 1024} KB"


def security_headers(frame_ancestors: str) -> list[tuple[bytes, bytes]]:
    csp = f"frame-ancestors {frame_ancestors}; object-src 'none'; base-uri 'self'"
    return [(b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"content-security-policy", csp.encode("latin-1"))]


def is_upload(path: str, method: str) -> bool:
    return method == "POST" and path.startswith("/ui/") and (
        path.rstrip("/").endswith("/upload"))


class TooLarge(HTTPException):
    """Raised while a body without Content-Length is read past its limit. An
    HTTPException, so the framework's body reader passes it on as a 413 instead of
    wrapping it into its generic 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large(limit))


def too_large(limit: int) -> str:
    return texts.TOO_LARGE.format(size=_size(limit))


class Guard:
    def __init__(self, app: ASGIApp, limits: Limits, frame_ancestors: str) -> None:
        self.app = app
        self.limits = limits
        # Which worker process answered: for operators reading a proxy's log, and for the
        # tests that spread one conversation over workers and replicas.
        self.headers = [*security_headers(frame_ancestors),
                        (b"x-policyqa-worker", str(os.getpid()).encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(h for h in self.headers if h[0] not in names)]
            await send(message)

        path, method = str(scope.get("path", "")), str(scope.get("method", ""))
        if is_upload(path, method):
            await self._refuse(send_with_headers, 403, texts.NO_UPLOADS)
            return
        limit = self.limits.for_path(path)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(send_with_headers, 413, too_large(limit))
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise TooLarge(limit)
            return message

        try:
            await self.app(scope, counted, send_with_headers)
        except TooLarge as e:
            if not started:
                await self._refuse(send_with_headers, 413, str(e.detail))

    @staticmethod
    async def _refuse(send: Send, status: int, detail: str) -> None:
        body = json.dumps({"detail": detail}, ensure_ascii=False).encode("utf-8")
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for k, v in scope.get("headers", []):
        if k.lower() == b"content-length":
            text = v.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) < 19 else 1 << 62
    return None
