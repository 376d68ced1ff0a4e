"""Cross-cutting protections: CSRF refusal, security headers, an access log without PII, and
login rate limiting.

CSRF. A state-changing request (POST, PUT, PATCH, DELETE) that is not authenticated by an
``Authorization`` header is accepted only when the browser says it comes from this site:
``Sec-Fetch-Site`` is ``same-origin`` (or ``none``: typed by the user), or, for browsers that
do not send it, ``Origin`` names this host. Requests carrying neither are refused. Bearer-token
calls are exempt: browsers cannot add that header to a cross-site request without a CORS
preflight, which this app never grants.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

__all__ = [
    "CSP",
    "AccessLogMiddleware",
    "CsrfMiddleware",
    "LoginLimiter",
    "SecurityHeadersMiddleware",
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
    >>> csrf_refusal(req({"host": "a.test", "origin": "https://a.test"})) is None
    True
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
    host = request.headers.get("host", "")
    if urlsplit(origin).netloc.lower() != host.lower():
        return "cross-origin request (Origin does not match this host)"
    return None


class CsrfMiddleware(BaseHTTPMiddleware):
    """Refuse cross-site state-changing requests with 403 (see :func:`csrf_refusal`)."""

    async def dispatch(self, request: Request, call_next: Next) -> Response:
        reason = csrf_refusal(request)
        if reason is not None:
            if request.url.path.startswith("/api/"):
                return JSONResponse({"detail": f"refused: {reason}"}, status_code=403)
            return PlainTextResponse(f"ForbiddenError: {reason}", status_code=403)
        return await call_next(request)


class SecurityHeadersMiddleware(BaseHTTPMiddleware):
    """Content-Security-Policy and the usual hardening headers on every response."""

    async def dispatch(self, request: Request, call_next: Next) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
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


class LoginLimiter:
    """Failed-login counting in a sliding window, per user name and per client address.

    Per process (a multi-worker deployment multiplies the allowance by the workers).

    Examples
    --------
    >>> lim = LoginLimiter(max_per_user=2, max_per_client=10, window_s=60)
    >>> lim.failed("ana", "1.2.3.4"); lim.failed("ana", "1.2.3.4")
    >>> lim.retry_after("ana", "1.2.3.4") > 0, lim.retry_after("ben", "1.2.3.4")
    (True, 0)
    """

    def __init__(
        self, *, max_per_user: int = 5, max_per_client: int = 20, window_s: float = 900.0
    ) -> None:
        self.max_per_user = max_per_user
        self.max_per_client = max_per_client
        self.window_s = window_s
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._events.setdefault(key, deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def retry_after(self, username: str, client: str) -> int:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = time.monotonic()
        waits = [0.0]
        with self._lock:
            for key, cap in (
                (f"u:{username.lower()}", self.max_per_user),
                (f"c:{client}", self.max_per_client),
            ):
                q = self._recent(key, now)
                if len(q) >= cap:
                    waits.append(self.window_s - (now - q[0]))
        return int(max(waits) + 0.999)

    def failed(self, username: str, client: str) -> None:
        """Count one failed attempt."""
        now = time.monotonic()
        with self._lock:
            self._recent(f"u:{username.lower()}", now).append(now)
            self._recent(f"c:{client}", now).append(now)

    def succeeded(self, username: str) -> None:
        """Forget the user's failures after a successful login."""
        with self._lock:
            self._events.pop(f"u:{username.lower()}", None)
