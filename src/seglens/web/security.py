"""Cross-cutting protections: CSRF refusal, security headers, an access log without PII, and
login rate limiting.

CSRF. A state-changing request (POST, PUT, PATCH, DELETE) that is not authenticated by an
``Authorization`` header is accepted only when the browser says it comes from this site:
``Sec-Fetch-Site`` is ``same-origin`` (or ``none``: typed by the user), or, for browsers that
do not send it, ``Origin`` names this host. Requests carrying neither are refused. Bearer-token
calls are exempt: browsers cannot add that header to a cross-site request without a CORS
preflight, which this app never grants. ``Origin`` is compared with scheme, host and port: an
``https`` Origin on the ``http`` server is another origin.

Login throttling (:class:`LoginThrottle`) never locks an account's owner out for long: each
account backs off exponentially up to a stated cap, and each client address has a larger
window limit. The client address is the connection's peer, or, when that peer is one of the
configured trusted proxies, the address the proxy reports (see ``create_app``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp

__all__ = [
    "CSP",
    "PERMISSIONS_POLICY",
    "AccessLogMiddleware",
    "CsrfMiddleware",
    "LoginThrottle",
    "SecurityHeadersMiddleware",
    "Throttled",
    "csrf_refusal",
]

access_log = logging.getLogger("seglens.web.access")

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CSP = (
    "default-src 'self'; "
    # vega compiles chart expressions with Function(); no inline or third-party script.
    "script-src 'self' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
"""The browser features the app never uses, switched off for it and anything it embeds."""

Next = Callable[[Request], Awaitable[Response]]


def csrf_refusal(request: Request) -> str | None:
    """Why ``request`` must be refused as a possible cross-site forgery, or ``None``.

    Examples
    --------
    >>> from starlette.requests import Request
    >>> def req(headers):
    ...     scope = {"type": "http", "method": "POST", "path": "/", "query_string": b"",
    ...              "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
    ...     return Request(scope)
    >>> csrf_refusal(req({"host": "a.test", "sec-fetch-site": "cross-site"}))
    'cross-site request (Sec-Fetch-Site: cross-site)'
    >>> csrf_refusal(req({"host": "a.test", "origin": "http://a.test"})) is None
    True
    >>> csrf_refusal(req({"host": "a.test", "origin": "https://a.test"}))
    'cross-origin request (Origin https://a.test is not http://a.test)'
    """
    if request.method not in UNSAFE or "authorization" in request.headers:
        return None
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return (
            None
            if site in ("same-origin", "none")
            else f"cross-site request (Sec-Fetch-Site: {site})"
        )
    origin = request.headers.get("origin")
    if origin is None:
        return "no Origin or Sec-Fetch-Site header on a state-changing request"
    here = f"{request.url.scheme}://{request.headers.get('host', '')}".lower()
    parts = urlsplit(origin)
    if f"{parts.scheme}://{parts.netloc}".lower() != here:
        return f"cross-origin request (Origin {origin[:100]} is not {here})"
    return None


RefusalPage = Callable[[Request, int, str, str], Response]
"""Renders a branded error page: (request, status, title, message)."""


class CsrfMiddleware(BaseHTTPMiddleware):
    """Refuse cross-site state-changing requests with 403 (see :func:`csrf_refusal`): JSON on
    the API, ``page`` (the app's branded error page) for browsers, plain text without one."""

    def __init__(self, app: ASGIApp, page: RefusalPage | None = None) -> None:
        super().__init__(app)
        self.page = page

    async def dispatch(self, request: Request, call_next: Next) -> Response:
        reason = csrf_refusal(request)
        if reason is None:
            return await call_next(request)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": f"refused: {reason}"}, status_code=403)
        if self.page is not None and "text/html" in request.headers.get("accept", ""):
            message = f"This form was refused: {reason}. Reload the page and try again."
            return self.page(request, 403, "Request refused", message)
        return PlainTextResponse(f"ForbiddenError: {reason}", status_code=403)


class SecurityHeadersMiddleware(BaseHTTPMiddleware):
    """Content-Security-Policy and the usual hardening headers on every response."""

    async def dispatch(self, request: Request, call_next: Next) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = PERMISSIONS_POLICY
        if request.url.scheme == "https":
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


class AccessLogMiddleware(BaseHTTPMiddleware):
    """One log line per request: method, route *template*, status, milliseconds.

    The route template (``/customers/{customer_id}``) replaces the real path, and neither the
    query string, the client address nor the user name is logged, so no personal data reaches
    the log.
    """

    async def dispatch(self, request: Request, call_next: Next) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", None) or (
            "/static/..." if request.url.path.startswith("/static/") else "(unmatched)"
        )
        access_log.info(
            "%s %s %d %.1fms",
            request.method,
            template,
            response.status_code,
            1000 * (time.perf_counter() - start),
        )
        return response


@dataclass(frozen=True)
class Throttled:
    """A refused login attempt: how long to wait, whether the account or the address, and
    whether it is the first refusal of this wait (only that one is audited, so hammering the
    form during a wait does not write a row per attempt)."""

    wait_s: int
    scope: str  # "account" or "address"
    first: bool = True


class LoginThrottle:
    """Failed-login backoff per account (capped) and a window limit per client address.

    Per account: the first ``free`` failures cost nothing; after failure ``n > free`` the next
    attempt must wait ``base_s * 2 ** (n - free - 1)`` seconds, at most ``cap_s``. Attempts during
    the wait are refused without checking the password (and without counting), so someone
    guessing cannot keep the owner out for longer than ``cap_s`` at a time. A success, or
    ``window_s`` seconds without a failure, clears the account's count. Per address: at most
    ``max_per_address`` failures in ``window_s`` seconds. State is per process (a multi-worker
    server multiplies the allowance by its workers); entries older than ``window_s`` are dropped
    once more than ``max_tracked`` accounts or addresses are held, so made-up names cannot
    grow it without bound.

    Examples
    --------
    >>> t = LoginThrottle(free=2, base_s=1, cap_s=8)
    >>> [t.account_wait(n) for n in range(7)]
    [0.0, 0.0, 0.0, 1.0, 2.0, 4.0, 8.0]
    """

    def __init__(
        self,
        *,
        free: int = 5,
        base_s: float = 1.0,
        cap_s: float = 60.0,
        max_per_address: int = 100,
        window_s: float = 900.0,
        max_tracked: int = 10_000,
    ) -> None:
        self.free, self.base_s, self.cap_s = free, base_s, cap_s
        self.max_per_address, self.window_s = max_per_address, window_s
        self.max_tracked = max_tracked
        self._accounts: dict[str, tuple[int, float]] = {}  # key -> (failures, last failure)
        self._addresses: dict[str, deque[float]] = {}
        self._noted: dict[str, float] = {}  # wait already reported once: key -> its start
        self._lock = threading.Lock()

    def account_wait(self, failures: int) -> float:
        """Seconds an account waits after ``failures`` consecutive failures."""
        if failures <= self.free:
            return 0.0
        return float(min(self.cap_s, self.base_s * 2.0 ** (failures - self.free - 1)))

    def _recent(self, address: str, now: float) -> deque[float]:
        q = self._addresses.setdefault(address, deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def check(self, account: str, address: str) -> Throttled | None:
        """Whether an attempt for ``account`` from ``address`` must wait now."""
        now = time.monotonic()
        with self._lock:
            failures, last = self._count(account.casefold(), now)
            left = self.account_wait(failures) - (now - last)
            if left > 0:
                first = self._note(f"u:{account.casefold()}", last)
                return Throttled(int(left + 0.999), "account", first)
            q = self._recent(address, now)
            if len(q) >= self.max_per_address:
                first = self._note(f"a:{address}", q[0])
                return Throttled(int(self.window_s - (now - q[0]) + 0.999), "address", first)
        return None

    def _note(self, key: str, start: float) -> bool:
        """Whether this is the first refusal of the wait that began at ``start``."""
        first = self._noted.get(key) != start
        self._noted[key] = start
        return first

    def failed(self, account: str, address: str) -> float:
        """Count one failure; returns the account's wait that now starts (0: none)."""
        now = time.monotonic()
        key = account.casefold()
        with self._lock:
            failures = self._count(key, now)[0] + 1
            self._accounts[key] = (failures, now)
            self._recent(address, now).append(now)
            if max(len(self._accounts), len(self._addresses)) > self.max_tracked:
                self._prune(now)
        return self.account_wait(failures)

    def _count(self, key: str, now: float) -> tuple[int, float]:
        """An account's consecutive failures and the last one's time (forgotten after a window)."""
        failures, last = self._accounts.get(key, (0, now))
        return (0, now) if now - last > self.window_s else (failures, last)

    def _prune(self, now: float) -> None:
        old = [k for k, (_, last) in self._accounts.items() if now - last > self.window_s]
        for key in old:
            del self._accounts[key]
            self._noted.pop(f"u:{key}", None)
        for address in list(self._addresses):
            if not self._recent(address, now):
                del self._addresses[address]
                self._noted.pop(f"a:{address}", None)

    def succeeded(self, account: str) -> None:
        """Forget the account's failures after a successful login."""
        with self._lock:
            self._accounts.pop(account.casefold(), None)
            self._noted.pop(f"u:{account.casefold()}", None)
