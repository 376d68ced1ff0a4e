"""The FastAPI application: :func:`create_app` wires store, security, pages and the API."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from seglens.errors import SeglensError
from seglens.store import Store, current_revision, open_store
from seglens.tracking.config import TrackingConfig, load_tracking_config
from seglens.web import account, admin, api, pages
from seglens.web import format as web_format
from seglens.web.deps import (
    ForbiddenError,
    NotAuthenticatedError,
    PasswordChangeRequiredError,
    WebState,
    credential_is_valid,
    optional_principal,
    state_of,
)
from seglens.web.labels import IdempotencyConflictError
from seglens.web.limits import BodyLimitMiddleware, Limits
from seglens.web.security import AccessLogMiddleware, CsrfMiddleware, SecurityHeadersMiddleware
from seglens.web.service import Settings

__all__ = ["create_app"]

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _wants_page(request: Request) -> bool:
    """A browser asking for a page (not the API, and HTML accepted): gets a branded page."""
    return not _is_api(request) and "text/html" in request.headers.get("accept", "")


_HTTP_PAGES = {
    404: ("Page not found", "There is no page at this address."),
    405: ("Not possible here", "This address does not accept that kind of request."),
}


def _page_error(request: Request, status: int, title: str, message: str) -> Response:
    st = state_of(request)
    try:
        user = optional_principal(request)
    except Exception:  # the error page must render even when the store is what failed
        user = None
    return st.templates.TemplateResponse(
        request,
        "error.html",
        {
            "user": user,
            "settings": st.settings,
            "path": request.url.path,
            "status": status,
            "title": title,
            "message": message,
        },
        status_code=status,
    )


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticatedError)
    async def _unauth(request: Request, _exc: NotAuthenticatedError) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"detail": "not authenticated"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            return _page_error(request, 401, "Sign in", "Please sign in again.")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(PasswordChangeRequiredError)
    async def _must_change(request: Request, _exc: PasswordChangeRequiredError) -> Response:
        if _is_api(request):
            message = "this account must change its temporary password at /account/password"
            return JSONResponse({"detail": message}, status_code=403)
        return RedirectResponse("/account/password", status_code=303)

    @app.exception_handler(ForbiddenError)
    async def _forbidden(request: Request, exc: ForbiddenError) -> Response:
        message = f"this needs the {exc.required} role"
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=403)
        return _page_error(request, 403, "Not allowed", message.capitalize() + ".")

    @app.exception_handler(IdempotencyConflictError)
    async def _conflict(request: Request, exc: IdempotencyConflictError) -> Response:
        return JSONResponse({"detail": exc.message, "hint": exc.hint}, status_code=409)

    @app.exception_handler(SeglensError)
    async def _user_error(request: Request, exc: SeglensError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": exc.message, "hint": exc.hint}, status_code=422)
        return _page_error(request, 422, "Cannot do that", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        if _is_api(request):
            return JSONResponse({"detail": errors}, status_code=422)
        return _page_error(request, 422, "Invalid input", "; ".join(e["msg"] for e in errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_page(request) and exc.status_code >= 400:
            title, message = _HTTP_PAGES.get(exc.status_code, ("Error", str(exc.detail)))
            resp = _page_error(request, exc.status_code, title, message)
            resp.headers.update(exc.headers or {})
            return resp
        return await http_exception_handler(request, exc)  # JSON, as FastAPI answers

    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception) -> Response:
        # Starlette logs the traceback and re-raises after this answer is sent.
        if _wants_page(request):
            message = "The server failed to answer this request. Try again, or tell an admin."
            return _page_error(request, 500, "Something went wrong", message)
        return JSONResponse({"detail": "internal server error"}, status_code=500)


def create_app(
    db: str | Store | None = None,
    *,
    settings: Settings | None = None,
    tracking: TrackingConfig | None = None,
    limits: Limits | None = None,
    trusted_proxies: Sequence[str] = (),
) -> FastAPI:
    """Build the seglens web app over a store (a URL/path, an open :class:`Store`, or default).

    ``limits`` bounds request bodies (:class:`~seglens.web.limits.Limits`). ``trusted_proxies``
    lists the addresses (or networks) of reverse proxies whose ``X-Forwarded-For`` and
    ``X-Forwarded-Proto`` are believed; from anyone else those headers are ignored, so a client
    cannot pick the address the login throttle counts against.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     app = create_app(f"{d}/s.db")
    ...     sorted(p for p in app.openapi()["paths"] if p.startswith("/api/k"))
    ...     app.state.seglens.store.close()
    ['/api/kpi', '/api/kpi/history']
    """
    store = db if isinstance(db, Store) else open_store(db)
    app = FastAPI(
        title="seglens",
        summary="Customer Segmentation Accuracy: KPI, segments, customers, labels, scoring, runs.",
        version=_version(),
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.seglens = WebState(
        store=store,
        settings=settings or Settings(),
        tracking=tracking or load_tracking_config(),
        limits=limits or Limits(),
    )
    web_format.install(app.state.seglens.templates.env)
    # Outermost first: log every request, add headers to every answer, refuse forgeries early.
    app.add_middleware(CsrfMiddleware, page=_page_error)
    app.add_middleware(
        BodyLimitMiddleware, limits=app.state.seglens.limits, verify=credential_is_valid
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(AccessLogMiddleware)
    if trusted_proxies:  # outermost: the real client address and scheme for everything inside
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(trusted_proxies))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _install_handlers(app)
    app.include_router(api.router)
    app.include_router(account.router)
    app.include_router(pages.router)
    app.include_router(admin.router)

    @app.get("/api/docs", include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        resp: HTMLResponse = state_of(request).templates.TemplateResponse(
            request, "api_docs.html", {}
        )
        return resp

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        """The icon browsers ask for on pages without a ``<link rel="icon">`` (JSON answers,
        ``/healthz``); without it each such visit logs a failed load in the console."""
        icon = (STATIC_DIR / "favicon.svg").read_bytes()
        return Response(
            icon, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz(request: Request) -> JSONResponse:
        """Liveness for load balancers: the store answers and its schema revision (no auth)."""
        try:
            revision = current_revision(state_of(request).store.engine)
        except Exception as err:  # any failure of the database means "not healthy"
            log.warning("health check: the store does not answer (%s)", type(err).__name__)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok", "schema": revision})

    return app


def _version() -> str:
    from seglens import __version__

    v: Any = __version__
    return str(v)
