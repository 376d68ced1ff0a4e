"""Bounded requests: a body-size limit and a body read timeout, enforced before any parsing.

FastAPI reads and parses a JSON body before a route's authentication dependency runs, so a
limit inside a route comes too late (an anonymous 200 MB POST once cost the server 600 MB).
:class:`BodyLimitMiddleware` is plain ASGI and sits outside everything else: it refuses a
declared ``Content-Length`` above the limit without reading a byte of the body, counts the bytes
of a body sent without one (chunked) and stops at the limit, and answers 408 when a client that
promised a body stops sending it. The limit is smaller for a request without a valid
credential: nothing anonymous needs more than a login form. A request whose body may exceed
that smaller limit has its bearer token or session cookie checked first (``verify``, one store
lookup), so a made-up cookie does not buy the larger limit.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimitMiddleware", "Limits"]

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class Limits:
    """Request limits of the web app (the defaults are stated in docs/web.md).

    Examples
    --------
    >>> lim = Limits()
    >>> lim.body_limit("/api/labels/batch", authenticated=True) // MIB
    8
    >>> lim.body_limit("/api/labels/batch", authenticated=False) // KIB
    64
    """

    max_body: int = 1 * MIB
    """Largest body of a signed-in request to a route without its own limit."""
    max_body_anonymous: int = 64 * KIB
    """Largest body of a request without ``Authorization`` header or session cookie."""
    route_max_body: Mapping[str, int] = field(
        default_factory=lambda: {"/api/labels/batch": 8 * MIB, "/api/score": 32 * MIB}
    )
    """Routes that take more (up to 5,000 labels; up to 100,000 feature rows)."""
    body_timeout_s: float = 30.0
    """Longest wait for the next piece of a declared body before answering 408."""

    def body_limit(self, path: str, *, authenticated: bool) -> int:
        """The largest body accepted for ``path``."""
        if not authenticated:
            return self.max_body_anonymous
        return self.route_max_body.get(path.rstrip("/") or "/", self.max_body)


class _RefusedError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


_TITLES = {400: "Bad request", 408: "Request timeout", 413: "Request too large"}

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · seglens</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/app.css"></head>
<body><header class="top"><strong class="brand">seglens</strong></header>
<main><h1>{title}</h1><p>{reason}</p><p><a href="/">Back to the overview</a></p></main>
</body></html>
"""


async def _answer(scope: Scope, send: Send, status: int, reason: str) -> None:
    """413/408/400: JSON for the API, a small branded page for browsers; the connection closes."""
    if scope["path"].startswith("/api/"):
        body = json.dumps({"detail": reason}).encode()
        ctype = b"application/json"
    else:
        body = _PAGE.format(title=_TITLES[status], reason=reason).encode()
        ctype = b"text/html; charset=utf-8"
    headers = [
        (b"content-type", ctype),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _has_credential(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return True
        if name == b"cookie" and b"seglens_session=" in value:
            return True
    return False


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            if not text.isdigit():
                raise _RefusedError(400, f"Content-Length {text[:40]!r} is not a number of bytes")
            return int(text)
    return None


Verify = Callable[[Scope], Awaitable[bool]]
"""Whether a request's credential (bearer token or session cookie) is valid."""


class BodyLimitMiddleware:
    """Refuse bodies over :class:`Limits` (413) and bodies that stall (408), before parsing."""

    def __init__(
        self, app: ASGIApp, limits: Limits | None = None, verify: Verify | None = None
    ) -> None:
        self.app = app
        self.limits = limits or Limits()
        self.verify = verify

    async def _limit(self, scope: Scope, declared: int | None) -> int:
        anonymous = self.limits.body_limit(scope["path"], authenticated=False)
        if not _has_credential(scope):
            return anonymous
        if declared is not None and declared <= anonymous:
            return anonymous  # small enough for anyone: no lookup needed
        if self.verify is not None and not await self.verify(scope):
            return anonymous
        return self.limits.body_limit(scope["path"], authenticated=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            declared = _declared_length(scope)
            bodiless = declared == 0 or scope["method"] in ("GET", "HEAD", "OPTIONS")
            anonymous = self.limits.body_limit(scope["path"], authenticated=False)
            limit = anonymous if bodiless else await self._limit(scope, declared)
            if declared is not None and declared > limit:
                raise _RefusedError(413, _too_large(limit, declared))
        except _RefusedError as refused:
            await _answer(scope, send, refused.status, refused.reason)
            return
        await _Guard(self.app, scope, receive, send, limit, self.limits.body_timeout_s).run()


def _too_large(limit: int, size: int | None) -> str:
    got = "" if size is None else f" ({size:,} bytes sent)"
    return f"the request body is larger than this route accepts: at most {limit:,} bytes{got}"


class _Guard:
    """One request's body, counted and timed; answers itself once the body breaks a limit."""

    def __init__(
        self, app: ASGIApp, scope: Scope, receive: Receive, send: Send, limit: int, timeout: float
    ) -> None:
        self.app, self.scope, self._receive, self._send = app, scope, receive, send
        self.limit, self.timeout = limit, timeout
        self.seen = 0
        self.body_done = scope["method"] in ("GET", "HEAD", "OPTIONS")
        self.started = False
        self.refused = False

    async def run(self) -> None:
        await self.app(self.scope, self.receive, self.send)

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        if self.body_done:
            return await self._receive()
        try:
            message = await asyncio.wait_for(self._receive(), self.timeout)
        except TimeoutError:
            return await self._refuse(408, f"no body data for {self.timeout:g} s")
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                return await self._refuse(413, _too_large(self.limit, None))
            self.body_done = not message.get("more_body", False)
        return message

    async def _refuse(self, status: int, reason: str) -> Message:
        self.refused = True
        if not self.started:
            self.started = True
            await _answer(self.scope, self._send, status, reason)
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self.refused:
            return  # the refusal was answered; the app's own answer is dropped
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)
