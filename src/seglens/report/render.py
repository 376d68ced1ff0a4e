"""Render a :class:`ReviewSnapshot` to one self-contained HTML file and to PDF.

The HTML carries its styles and charts (inline SVG) and a Content-Security-Policy that forbids
every network request and every script; the machine-readable snapshot rides along as a JSON
data block. The PDF is headless Chromium's or WeasyPrint's rendering of the same HTML, with
fetching refused; the document names the engine that actually rendered it.

A period without labels shows no accuracy, no traffic light and no target: its headline says
"not measured (n = 0)" and carries the audit plan (:mod:`seglens.report.plan`); label-free
proxies are shown only in the Monitoring panel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jinja2

from seglens.errors import UsageError
from seglens.io.atomic import atomic_path, check_folder, write_text_atomic
from seglens.report.attributes import compute_attributes
from seglens.report.charts import make_charts
from seglens.report.diagnose import risks
from seglens.report.plan import audit_plans, audit_rows
from seglens.report.serialize import snapshot_to_dict
from seglens.report.snapshot import ReviewSnapshot
from seglens.report.text import fmt_p
from seglens.settings import DEFAULT_SETTINGS

__all__ = [
    "PdfEngine",
    "ReportFiles",
    "planned_engine",
    "render_html",
    "render_pdf",
    "weasyprint_pdf",
    "write_report",
]

log = logging.getLogger(__name__)

PdfEngine = Literal["auto", "weasyprint", "chromium"]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("seglens.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=False,
    lstrip_blocks=False,
)

_CHART_TITLES = {
    "trend": ("Accuracy trend", "no measured period yet"),
    "precision": ("Precision per segment", "no labelled customers in any segment"),
    "confusion": ("Confusion matrix", "no labelled customers to cross-tabulate"),
    "migration": ("Segment migration", "needs two segmentation runs"),
    "profiles": ("Segment profiles", "no profiling features in the snapshot"),
}


def _version() -> str:
    from seglens import __version__

    return __version__


def render_html(snap: ReviewSnapshot, *, pdf_engine: str | None = None) -> str:
    """The review as one self-contained HTML document (a string).

    Everything taken from the snapshot is escaped by the template (autoescaping is on); charts
    are inline SVG checked by :func:`seglens.report.charts.safe_svg`. ``pdf_engine`` names the
    engine this document will be printed with (``"chromium"``/``"weasyprint"``; ``None``: none).

    Examples
    --------
    >>> from seglens.report.snapshot import Estimate, SegmentStat
    >>> snap = ReviewSnapshot("2011Q3", Estimate.from_counts(90, 100), (SegmentStat("<b>", 100),))
    >>> html = render_html(snap)
    >>> "&lt;b&gt;" in html and "<b>" not in html
    True
    """
    charts = make_charts(snap)
    present = {c.key for c in charts}
    missing = [v for k, v in _CHART_TITLES.items() if k not in present]
    change = snap.change
    plans = audit_plans(snap) if not snap.measured else {}
    context: dict[str, Any] = {
        "s": snap,
        "change": change,
        "p_text": fmt_p(change.p_value) if change else "",
        "charts": charts,
        "missing_charts": missing,
        "plan_margins": list(plans),
        "plan_rows": audit_rows(plans),
        "plans": plans,
        "min_per_segment": DEFAULT_SETTINGS.min_per_segment,
        "attributes": compute_attributes(snap, pdf_engine=pdf_engine),
        "top_risks": [r for r in risks(snap) if r.severity != "info"][:5],
        "has_revenue": any(s.revenue is not None for s in snap.segments),
        "data": snapshot_to_dict(snap),
        "seglens_version": _version(),
    }
    return _ENV.get_template("review.html.j2").render(context)


@dataclass
class _RefusingFetcher:
    """Collects the URLs WeasyPrint asked for; only ``data:`` URLs are served."""

    refused: list[str] = field(default_factory=list)

    def fetcher(self) -> Any:
        from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]

        refused = self.refused

        class Fetcher(URLFetcher):  # type: ignore[misc]
            def fetch(self, url: str, headers: Any = None) -> Any:
                if not url.startswith("data:"):
                    refused.append(url)
                    raise ValueError(f"external resources are disabled: {url}")
                return super().fetch(url, headers)

        return Fetcher(allowed_protocols={"data"})


def render_pdf(html: str, path: str | Path, *, engine: PdfEngine = "auto") -> Path:
    """Write ``html`` (from :func:`render_html`) to ``path`` as PDF; nothing is fetched.

    ``engine="chromium"``: headless Chromium's print-to-PDF (:mod:`seglens.report.pdf_chromium`;
    several times faster, needs the browser). ``"weasyprint"``: pure Python, no browser.
    ``"auto"`` (default): Chromium when one is installed, else (or if it fails) WeasyPrint.
    :func:`write_report` also reports which engine was used and has the document name it.

    Raises
    ------
    UsageError
        If the document tried to load an external resource (the report never does; a
        hand-edited template might), or the engine is unknown or unavailable.
    """
    from seglens.report.pdf_chromium import chromium_pdf

    if engine == "chromium":
        return chromium_pdf(html, path)
    if planned_engine(engine) == "chromium":
        try:
            return chromium_pdf(html, path)
        except UsageError as err:
            log.warning("Chromium PDF failed, using WeasyPrint instead: %s", err.message)
    return weasyprint_pdf(html, path)


def planned_engine(engine: PdfEngine) -> Literal["chromium", "weasyprint"]:
    """The engine ``engine`` resolves to before trying: ``auto`` is Chromium when installed."""
    from seglens.report.pdf_chromium import find_chromium

    if engine not in ("auto", "weasyprint", "chromium"):
        raise UsageError(f"unknown PDF engine {engine!r}", hint="use weasyprint or chromium")
    if engine == "chromium" or (engine == "auto" and find_chromium() is not None):
        return "chromium"
    return "weasyprint"


def weasyprint_pdf(html: str, path: str | Path) -> Path:
    """Write ``html`` to ``path`` with WeasyPrint, serving ``data:`` URLs only."""
    import weasyprint  # type: ignore[import-untyped]

    out = Path(path)
    guard = _RefusingFetcher()
    doc = weasyprint.HTML(string=html, base_url=None, url_fetcher=guard.fetcher())
    with atomic_path(out) as tmp:  # a refused or failed PDF leaves the earlier file as it was
        doc.write_pdf(tmp)
        if guard.refused:
            raise UsageError(
                "the report tried to load external resources while rendering the PDF",
                values=tuple(guard.refused[:5]),
                hint="keep every style, image and chart inline",
            )
    log.info("wrote PDF %s", out)
    return out


@dataclass(frozen=True)
class ReportFiles:
    """Paths written by :func:`write_report`, and the PDF engine actually used."""

    html: Path
    pdf: Path | None = None
    pdf_engine: Literal["chromium", "weasyprint"] | None = None
    pdf_fallback: str | None = None
    """Why ``auto`` fell back from Chromium to WeasyPrint, if it did."""


def write_report(
    snap: ReviewSnapshot,
    html_path: str | Path,
    *,
    pdf_path: str | Path | None = None,
    pdf_engine: PdfEngine = "auto",
) -> ReportFiles:
    """Render ``snap`` to ``html_path`` (UTF-8) and, if given, to ``pdf_path``.

    The document names the PDF engine that rendered it; when ``auto`` falls back from Chromium
    to WeasyPrint, the HTML is rendered again so both files say WeasyPrint.
    """
    from seglens.report.pdf_chromium import chromium_pdf

    out = check_folder(html_path)
    if pdf_path is not None:
        check_folder(pdf_path)
    if pdf_path is None:
        _write_html(out, render_html(snap))
        return ReportFiles(out)
    engine = planned_engine(pdf_engine)
    html = render_html(snap, pdf_engine=engine)
    _write_html(out, html)
    if engine == "chromium":
        try:
            return ReportFiles(out, chromium_pdf(html, pdf_path), "chromium")
        except UsageError as err:
            if pdf_engine == "chromium":
                raise
            log.warning("Chromium PDF failed, using WeasyPrint instead: %s", err.message)
            fallback = err.message
        html = render_html(snap, pdf_engine="weasyprint")
        _write_html(out, html)
        return ReportFiles(out, weasyprint_pdf(html, pdf_path), "weasyprint", fallback)
    return ReportFiles(out, weasyprint_pdf(html, pdf_path), "weasyprint")


def _write_html(out: Path, html: str) -> None:
    write_text_atomic(out, html, errors="replace")
    log.info("wrote HTML %s", out)
