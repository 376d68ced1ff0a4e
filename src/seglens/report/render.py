"""Render a :class:`ReviewSnapshot` to one self-contained HTML file and to PDF.

The HTML carries its styles and charts (inline SVG) and a Content-Security-Policy that forbids
every network request and every script; the machine-readable snapshot rides along as a JSON
data block. The PDF is WeasyPrint's rendering of the same HTML with fetching restricted to
``data:`` URLs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jinja2

from seglens.errors import UsageError
from seglens.report.attributes import compute_attributes
from seglens.report.charts import make_charts
from seglens.report.diagnose import risks
from seglens.report.serialize import snapshot_to_dict
from seglens.report.snapshot import ReviewSnapshot
from seglens.report.text import fmt_p

__all__ = ["PdfEngine", "ReportFiles", "render_html", "render_pdf", "write_report"]

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
    "precision": ("Precision per segment", "no labelled customers in any segment"),
    "confusion": ("Confusion matrix", "no labelled customers to cross-tabulate"),
    "migration": ("Segment migration", "needs two segmentation runs"),
    "profiles": ("Segment profiles", "no profiling features in the snapshot"),
}


def _version() -> str:
    from seglens import __version__

    return __version__


def render_html(snap: ReviewSnapshot) -> str:
    """The review as one self-contained HTML document (a string).

    Everything taken from the snapshot is escaped by the template (autoescaping is on); charts
    are inline SVG checked by :func:`seglens.report.charts.safe_svg`.

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
    context: dict[str, Any] = {
        "s": snap,
        "change": change,
        "p_text": fmt_p(change.p_value) if change else "",
        "charts": charts,
        "missing_charts": missing,
        "attributes": compute_attributes(snap),
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

    Raises
    ------
    UsageError
        If the document tried to load an external resource (the report never does; a
        hand-edited template might), or the engine is unknown or unavailable.
    """
    from seglens.report.pdf_chromium import chromium_pdf, find_chromium

    if engine == "chromium":
        return chromium_pdf(html, path)
    if engine == "auto" and find_chromium() is not None:
        try:
            return chromium_pdf(html, path)
        except UsageError as err:
            log.warning("Chromium PDF failed, using WeasyPrint instead: %s", err.message)
    elif engine not in ("auto", "weasyprint"):
        raise UsageError(f"unknown PDF engine {engine!r}", hint="use weasyprint or chromium")
    import weasyprint  # type: ignore[import-untyped]

    out = Path(path)
    guard = _RefusingFetcher()
    doc = weasyprint.HTML(string=html, base_url=None, url_fetcher=guard.fetcher())
    doc.write_pdf(out)
    if guard.refused:
        out.unlink(missing_ok=True)
        raise UsageError(
            "the report tried to load external resources while rendering the PDF",
            values=tuple(guard.refused[:5]),
            hint="keep every style, image and chart inline",
        )
    log.info("wrote PDF %s", out)
    return out


@dataclass(frozen=True)
class ReportFiles:
    """Paths written by :func:`write_report`."""

    html: Path
    pdf: Path | None = None


def write_report(
    snap: ReviewSnapshot,
    html_path: str | Path,
    *,
    pdf_path: str | Path | None = None,
    pdf_engine: PdfEngine = "auto",
) -> ReportFiles:
    """Render ``snap`` to ``html_path`` (UTF-8) and, if given, to ``pdf_path``."""
    out = Path(html_path)
    for path in (out, None if pdf_path is None else Path(pdf_path)):
        if path is not None and not path.parent.exists():
            raise UsageError(
                f"folder {path.parent} does not exist", hint="create it or pick another path"
            )
    html = render_html(snap)
    out.write_text(html, encoding="utf-8", errors="replace")
    log.info("wrote HTML %s", out)
    pdf = render_pdf(html, pdf_path, engine=pdf_engine) if pdf_path is not None else None
    return ReportFiles(out, pdf)
