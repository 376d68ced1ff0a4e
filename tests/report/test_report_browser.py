"""The review in a real browser (headless Chromium) and as PDF pages (pdftoppm)."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from seglens.audit import plan_audit
from seglens.errors import UsageError
from seglens.report import (
    ATTRIBUTE_KEYS,
    Finding,
    SourceFile,
    render_html,
    render_pdf,
    write_report,
)
from seglens.report.pdf_chromium import find_chromium
from tests.report.label_free_checks import check_label_free_review
from tests.report.report_builders import Built, build_label_free, build_planted, need_pdftoppm

XSS = "<script>alert(1)</script>"


def _open(browser: Any, path: Path, shot: Path | None = None) -> tuple[Any, dict[str, list[str]]]:
    """Load ``path`` and record every request, failure, console error, page error and dialog."""
    seen: dict[str, list[str]] = {"requests": [], "failed": [], "console": [], "errors": []}
    seen["dialogs"] = []
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("requestfailed", lambda r: seen["failed"].append(r.url))
    page.on(
        "console", lambda m: seen["console"].append(m.text) if m.type in ("error", "warning") else 0
    )
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))

    def on_dialog(d: Any) -> None:
        seen["dialogs"].append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    page.goto(path.as_uri(), wait_until="load")
    if shot is not None:
        page.screenshot(path=str(shot), full_page=True)
    return page, seen


@pytest.mark.browser
def test_html_in_chromium_shows_the_library_value_with_no_errors(
    browser: Any, automobile: Built, tmp_path: Path, artifacts: Path
) -> None:
    out = write_report(automobile.snapshot, tmp_path / "review.html").html
    shot = artifacts / "review-automobile.png"
    page, seen = _open(browser, out, shot)
    # Only the file itself is requested; nothing fails, nothing complains.
    assert seen["requests"] == [out.as_uri()]
    assert seen["failed"] == []
    assert seen["console"] == []
    assert seen["errors"] == []
    headline = page.locator("[data-testid=headline-accuracy]")
    assert headline.inner_text() == f"{automobile.accuracy_pct:.1f} %"
    assert float(headline.get_attribute("data-value")) == pytest.approx(
        automobile.accuracy_pct, abs=1e-9
    )
    assert page.locator("[data-testid=headline-n]").inner_text() == "400"
    # Twelve attributes, five charts, each chart drawn as SVG.
    keys = page.locator("[data-attribute]").evaluate_all("els => els.map(e => e.id)")
    assert keys == list(ATTRIBUTE_KEYS)
    charts = page.locator("figure.chart").evaluate_all("els => els.map(e => e.dataset.chart)")
    assert charts == ["trend", "precision", "confusion", "migration", "profiles"]
    assert page.locator("figure.chart svg").count() == 5
    box = page.locator("#chart-trend svg").bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 150
    page.close()
    # The screenshot is a real picture, not a blank page.
    img = np.asarray(Image.open(shot).convert("L"))
    assert img.shape[0] > 2000 and (img < 200).mean() > 0.02


@pytest.mark.browser
def test_user_text_is_escaped_in_the_browser(browser: Any, tmp_path: Path) -> None:
    built = build_planted((XSS, "Loyal & <b>bold</b>", "Lapsed"))
    note = '<img src="x" onerror="alert(2)"> call back'
    file_name = "<svg onload=alert(3)>.csv"
    snap = replace(
        built.snapshot,
        notes=(note,),
        sources=(SourceFile(file_name, 3000),),
        findings=(Finding("warning", "odd value <i>x</i>", file_name),),
        title="Review </title><script>alert(4)</script>",
    )
    out = tmp_path / "xss.html"
    write_report(snap, out)
    page, seen = _open(browser, out)
    assert seen["dialogs"] == [] and seen["errors"] == [] and seen["console"] == []
    assert seen["requests"] == [out.as_uri()]
    # Only the inert JSON data block is a <script>; the names show as literal text.
    assert page.locator("script").count() == 1
    assert page.locator("script").get_attribute("type") == "application/json"
    assert page.locator("img").count() == 0
    names = page.locator("td.segment-name").all_inner_texts()
    assert XSS in names and "Loyal & <b>bold</b>" in names
    assert page.locator("[data-testid=notes] li").inner_text() == note
    assert page.locator("td.source-name").inner_text() == file_name
    assert XSS in page.locator("#chart-precision svg").inner_html().replace("&lt;", "<").replace(
        "&gt;", ">"
    )
    page.close()


@pytest.mark.browser
def test_label_free_review_in_chromium(browser: Any, tmp_path: Path, artifacts: Path) -> None:
    """No labels: "not measured (n = 0)", the audit plan, proxies only under Monitoring."""
    snap = build_label_free()
    out = write_report(snap, tmp_path / "label-free.html").html
    shot = artifacts / "review-label-free.png"
    page, seen = _open(browser, out, shot)
    assert seen["requests"] == [out.as_uri()]
    assert seen["failed"] == seen["console"] == seen["errors"] == []
    card = page.locator("[data-testid=headline-card]")
    assert card.get_attribute("data-measured") == "false"
    assert " ".join(card.inner_text().split()).startswith(
        "SEGMENTATION ACCURACY not measured (n = 0)"
    )
    assert (
        page.locator("[data-testid=status], .light, [data-testid=headline-accuracy]").count() == 0
    )
    sizes = {s.name: s.customers for s in snap.segments}
    for margin in (5, 3):
        plan = plan_audit(dict(sorted(sizes.items())), margin_pct=margin)
        total = page.locator(f"[data-testid=audit-plan-total] td[data-margin='{margin}']")
        assert total.inner_text() == f"{plan.total:,}"
    panel = page.locator("[data-testid=monitoring]")
    assert panel.locator("h2").inner_text() == "Monitoring (label-free signals, not the KPI)"
    rows = panel.locator("[data-testid=monitoring-signal]")
    assert rows.count() == 2 and rows.first.is_visible()
    # Laid out apart: the monitoring panel starts below the headline card and the trend chart.
    head, mon = card.bounding_box(), panel.bounding_box()
    trend = page.locator("#chart-trend").bounding_box()
    assert head and mon and trend and mon["y"] > head["y"] + head["height"]
    assert mon["y"] > trend["y"] + trend["height"]
    check_label_free_review(page.content(), segment_sizes=sizes)
    page.close()
    img = np.asarray(Image.open(shot).convert("L"))
    assert img.shape[0] > 1500 and (img < 200).mean() > 0.02


def test_pdf_pages_all_have_content(automobile: Built, tmp_path: Path, artifacts: Path) -> None:
    exe = need_pdftoppm()
    files = write_report(
        automobile.snapshot,
        tmp_path / "review.html",
        pdf_path=tmp_path / "review.pdf",
        pdf_engine="weasyprint",
    )
    assert files.pdf is not None and files.pdf.read_bytes().startswith(b"%PDF")
    prefix = artifacts / "review-automobile-page"
    for old in artifacts.glob("review-automobile-page*.png"):
        old.unlink()
    subprocess.run([exe, "-r", "50", "-png", str(files.pdf), str(prefix)], check=True)
    pages = sorted(artifacts.glob("review-automobile-page*.png"))
    assert len(pages) >= 3
    for png in pages:
        img = np.asarray(Image.open(png).convert("L"))
        assert (img < 230).mean() > 0.005, f"{png.name} is blank"


def test_pdf_keeps_each_chart_on_one_page(planted: Built, tmp_path: Path) -> None:
    """Every chart's SVG lands on exactly one page (WeasyPrint layout boxes)."""
    import weasyprint

    html = render_html(planted.snapshot)
    doc = weasyprint.HTML(string=html).render()
    pages_of: dict[str, set[int]] = {}

    def walk(box: Any, page_no: int) -> None:
        el = getattr(box, "element", None)
        if el is not None and el.get("data-chart"):
            pages_of.setdefault(el.get("data-chart"), set()).add(page_no)
        for child in getattr(box, "children", []) or []:
            walk(child, page_no)

    for i, page in enumerate(doc.pages):
        walk(page._page_box, i)
    assert set(pages_of) == {"trend", "precision", "confusion", "migration", "profiles"}
    assert all(len(p) == 1 for p in pages_of.values()), pages_of


@pytest.mark.browser
def test_chromium_pdf_engine_pages_all_have_content(planted: Built, tmp_path: Path) -> None:
    exe = need_pdftoppm()
    if find_chromium() is None:
        pytest.skip("no Chromium installed")
    files = write_report(
        planted.snapshot, tmp_path / "r.html", pdf_path=tmp_path / "r.pdf", pdf_engine="chromium"
    )
    assert files.pdf is not None and files.pdf.read_bytes().startswith(b"%PDF")
    subprocess.run([exe, "-r", "40", "-png", str(files.pdf), str(tmp_path / "c")], check=True)
    pages = sorted(tmp_path.glob("c-*.png"))
    assert len(pages) >= 3
    for png in pages:
        img = np.asarray(Image.open(png).convert("L"))
        assert (img < 230).mean() > 0.005, f"{png.name} is blank"


def test_unknown_pdf_engine_is_a_usage_error(planted: Built, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown PDF engine"):
        render_pdf("<p>x</p>", tmp_path / "x.pdf", engine="prince")  # type: ignore[arg-type]
