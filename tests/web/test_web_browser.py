"""The web app in a real browser: a uvicorn server on 127.0.0.1 driven by headless Chromium."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from seglens.store import run_assignments
from seglens.tracking import kpi_history
from seglens.web import Settings, create_app
from tests.web.conftest import PASSWORD, Seeded, Users

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """A real uvicorn server for ``app`` on a free port of 127.0.0.1; yields its base URL."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    assert httpx.get(f"{base}/login").status_code == 200
    try:
        yield base
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def launch_chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never ``playwright install``), for a fixture to
    ``yield from``; skipped without Chromium, failed in CI."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must run the browser tests")
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    home = tmp_path_factory.mktemp("chromium-home")
    env = {**os.environ, "XDG_CONFIG_HOME": str(home), "XDG_CACHE_HOME": str(home)}
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS, env=env)
        yield b
        b.close()


@pytest.fixture
def server(seeded: Seeded, users: Users) -> Iterator[str]:
    """A real uvicorn server over the seeded store, on a free port of 127.0.0.1."""
    with serve(
        create_app(seeded.store, settings=Settings(margin_pts=10.0, min_per_segment=3))
    ) as b:
        yield b


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never ``playwright install``)."""
    yield from launch_chromium(tmp_path_factory)


class Watch:
    """Console errors, page errors and failed or off-site requests of one page."""

    def __init__(self, page: Any, base: str) -> None:
        self.problems: list[str] = []
        page.on(
            "console",
            lambda m: self.problems.append(f"console: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        page.on(
            "requestfailed",
            lambda r: self.problems.append(f"failed: {r.method} {r.url} {r.failure}"),
        )
        page.on(
            "request",
            lambda r: (
                None
                if r.url.startswith((base, "data:"))
                else self.problems.append(f"off-site: {r.url}")
            ),
        )


def _login(page: Any, base: str, user: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _charts_drawn(page: Any, count: int) -> None:
    page.wait_for_function(
        f"document.querySelectorAll('.chart svg').length >= {count}", timeout=20_000
    )


@pytest.mark.browser
def test_reviewer_corrects_a_segment_and_the_kpi_moves(
    browser: Any, server: str, seeded: Seeded
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page, server)
    _login(page, server, "reviewer")
    _charts_drawn(page, 4)  # bullet, trend, precision, confusion
    n_before = int(page.inner_text("[data-testid=kpi-n]"))
    value_before = page.inner_text("[data-testid=kpi-value]")
    expected_value, expected_n = seeded.expected_accuracy()
    assert n_before == expected_n and value_before == f"{expected_value:.1f} %"
    _shot(page, "overview-before")

    page.click("nav >> text=Review queue")
    page.wait_for_url(f"{server}/review")
    page.wait_for_function("window.htmx !== undefined")
    row = page.locator("table.queue tbody tr").first
    customer = row.get_attribute("data-customer")
    assigned = dict(
        run_assignments(seeded.store, seeded.runs[1]).select("customer_id", "segment").rows()
    )[customer]
    options = row.locator("select[name=segment] option").all_inner_texts()
    new_segment = next(o for o in options if o != assigned)
    row.locator("select[name=segment]").select_option(new_segment)
    row.locator("input[name=note]").fill("moved to another region")
    _shot(page, "review-queue")
    row.locator("form.correct button").click()
    page.wait_for_selector(f"tr[data-customer='{customer}'] [data-testid=reviewed]")
    assert new_segment in page.inner_text(f"tr[data-customer='{customer}']")
    # The KPI panel on the review page refreshed itself (HTMX) with the new n.
    page.wait_for_function(
        f"document.querySelector('[data-testid=kpi-n]').textContent == '{n_before + 1}'"
    )

    page.click("nav >> text=Overview")
    _charts_drawn(page, 4)
    value_after, n_after = seeded.expected_accuracy()
    assert int(page.inner_text("[data-testid=kpi-n]")) == n_after == n_before + 1
    assert page.inner_text("[data-testid=kpi-value]") == f"{value_after:.1f} %"
    # The figure is the measurement stored after the correction, as `seglens history` shows it.
    stored = kpi_history(seeded.store, "accuracy").row(-1, named=True)
    assert (stored["period"], stored["n"]) == ("2011Q3", n_after)
    assert page.inner_text("[data-testid=kpi-value]") == f"{stored['value']:.1f} %"
    assert value_after < expected_value  # a correction is a miss for the run
    _shot(page, "overview-after")

    for path, name in (("/segments", "segments"), (f"/customers/{customer}", "customer")):
        page.goto(f"{server}{path}")
        _shot(page, name)
    assert page.inner_text("[data-testid=current-label]") == new_segment
    assert watch.problems == []
    page.close()


@pytest.mark.browser
def test_viewer_sees_no_correction_form_and_posting_anyway_is_refused(
    browser: Any, server: str, seeded: Seeded
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page, server)
    _login(page, server, "viewer")
    page.goto(f"{server}/review")
    assert page.locator("table.queue tbody tr").count() > 0
    assert page.locator("form[action='/review/label']").count() == 0
    assert (
        page.locator("text=cannot submit labels").count() == 1
        or page.locator("text=not submit labels").count() == 1
    )
    _shot(page, "review-viewer")
    # Posting anyway, from this page (same origin, the viewer's session cookie): 403.
    cid, seg = run_assignments(seeded.store, seeded.runs[1]).row(0)[:2]
    status = page.evaluate(
        """async ([cid, seg]) => {
            const body = new URLSearchParams({customer_id: cid, segment: seg});
            const r = await fetch('/review/label', {method: 'POST', body});
            await r.text();
            return r.status;
        }""",
        [cid, seg],
    )
    assert status == 403
    page.goto(f"{server}/admin")
    assert "Not allowed" in page.inner_text("h1")
    assert [p for p in watch.problems if "403" not in p] == []
    page.close()


@pytest.mark.browser
def test_admin_page_and_api_docs_render_offline(browser: Any, server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page, server)
    _login(page, server, "admin")
    page.goto(f"{server}/admin")
    assert page.locator("text=API tokens").count() >= 1
    _shot(page, "admin")
    page.goto(f"{server}/api/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    assert "/api/kpi" in page.inner_text("#swagger-ui")
    _shot(page, "api-docs")
    page.goto(f"{server}/login")
    assert watch.problems == []
    page.close()
