"""HTML/PDF rendering: escaping of everything user-provided, no fetching, JSON round-trip."""

from __future__ import annotations

import html as htmllib
import json
import re
import threading
from dataclasses import replace
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from seglens.errors import DataError, UsageError
from seglens.report import (
    Estimate,
    Export,
    Finding,
    ProxyValue,
    ReviewSnapshot,
    RunInfo,
    SegmentStat,
    SourceFile,
    read_snapshot,
    render_html,
    render_pdf,
    snapshot_from_dict,
    snapshot_to_dict,
    write_report,
    write_snapshot,
)
from seglens.report.charts import safe_svg
from tests.report.report_builders import Built, build_planted

XSS = "<script>alert(1)</script>"
EVIL = '"><img src=x onerror=alert(9)>'


class _Tags(HTMLParser):
    """Every element and every ``on*`` attribute of a document (SVG included)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()
        self.scripts: list[dict[str, str | None]] = []
        self.handlers: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.add(tag)
        if tag == "script":
            self.scripts.append(dict(attrs))
        self.handlers += [(tag, k) for k, _ in attrs if k.lower().startswith("on")]


def _json_block(page: str) -> dict[str, Any]:
    m = re.search(
        r'<script type="application/json" id="seglens-snapshot">(.*?)</script>', page, re.S
    )
    assert m is not None
    data: dict[str, Any] = json.loads(m.group(1))
    return data


def test_every_user_field_is_escaped() -> None:
    built = build_planted((XSS, EVIL, "Lapsed"))
    snap = replace(
        built.snapshot,
        title=f"Q3 {XSS}",
        notes=(f"note {XSS}", EVIL),
        sources=(SourceFile(f"{XSS}.csv", 10, "ab" * 32),),
        findings=(Finding("warning", f"bad {XSS}", f"{EVIL}.xlsx"),),
        run=RunInfo(f"seg{XSS}", ((f"k{XSS}", EVIL),), run_id=XSS),
        proxies=(ProxyValue(XSS, 0.5, EVIL, XSS, 10),),
        exports=(Export(XSS, "CSV", EVIL),),
        extra=((XSS, EVIL),),
        currency=XSS,
    )
    page = render_html(snap)
    assert "<script>alert" not in page
    tags = _Tags()
    tags.feed(page)
    # Parsed as a browser would: no injected element, no event handler anywhere.
    assert tags.scripts == [{"type": "application/json", "id": "seglens-snapshot"}]
    assert "img" not in tags.seen and "iframe" not in tags.seen
    assert tags.handlers == []
    assert htmllib.escape(XSS, quote=False) in page
    # The embedded JSON is inert (no "</script>" inside) and round-trips exactly.
    assert snapshot_from_dict(_json_block(page)) == snap


def test_charts_refuse_active_svg() -> None:
    with pytest.raises(RuntimeError):
        safe_svg("<svg><script>alert(1)</script></svg>")
    with pytest.raises(RuntimeError):
        safe_svg('<svg><image href="http://example.org/x.png"/></svg>')
    with pytest.raises(RuntimeError):
        safe_svg('<svg onload="alert(1)"></svg>')


names = st.text(min_size=1, max_size=12).filter(lambda s: s.strip() == s and s.strip())


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(names, min_size=2, max_size=4, unique=True), st.integers(0, 50))
def test_any_segment_name_is_shown_escaped(seg_names: list[str], k: int) -> None:
    segs = tuple(
        SegmentStat(n, 10 + i, precision=Estimate.from_counts(min(k, 50), 50))
        for i, n in enumerate(seg_names)
    )
    snap = ReviewSnapshot("2011Q3", Estimate.from_counts(k, 50), segs)
    page = render_html(snap)
    for n in seg_names:
        assert str(escape(n)) in page
    assert snapshot_from_dict(_json_block(page)) == snap


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.text(max_size=20),
)
def test_snapshot_json_round_trip(kn: tuple[int, int], note: str) -> None:
    snap = ReviewSnapshot(
        "2011Q3", Estimate.from_counts(*kn), (SegmentStat("A", 1),), notes=(note,)
    )
    assert snapshot_from_dict(json.loads(json.dumps(snapshot_to_dict(snap)))) == snap


def test_snapshot_files(tmp_path: Path, planted: Built) -> None:
    path = write_snapshot(planted.snapshot, tmp_path / "s.json")
    assert read_snapshot(path) == planted.snapshot
    (tmp_path / "bad.json").write_text("{not json", "utf-8")
    with pytest.raises(DataError, match="not a JSON snapshot"):
        read_snapshot(tmp_path / "bad.json")
    data = snapshot_to_dict(planted.snapshot)
    data["accuracy"]["value_pct"] = "high"
    with pytest.raises(DataError, match=r"accuracy\.value_pct"):
        snapshot_from_dict(data)
    with pytest.raises(DataError, match="not found"):
        read_snapshot(tmp_path / "missing.json")


class _Counter(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args: object) -> None:
        pass


def test_pdf_rendering_fetches_nothing(tmp_path: Path) -> None:
    snap = ReviewSnapshot(
        "2011Q3",
        Estimate.from_counts(88, 100),
        (SegmentStat("A", 60, precision=Estimate.from_counts(50, 55)),),
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/x.css"
        html = render_html(snap)
        page = html.replace("</head>", f'<link rel="stylesheet" href="{url}"></head>')
        with pytest.raises(UsageError, match="external resources"):
            render_pdf(page, tmp_path / "x.pdf", engine="weasyprint")
        assert _Counter.hits == []
        assert not (tmp_path / "x.pdf").exists()
        # The report as rendered needs nothing external.
        out = render_pdf(html, tmp_path / "ok.pdf", engine="weasyprint")
        assert out.read_bytes().startswith(b"%PDF") and _Counter.hits == []
    finally:
        server.shutdown()
        server.server_close()


def test_write_report_into_a_missing_folder_is_a_usage_error(
    tmp_path: Path, planted: Built
) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        write_report(planted.snapshot, tmp_path / "nope" / "r.html")
    with pytest.raises(UsageError, match="does not exist"):
        write_report(planted.snapshot, tmp_path / "r.html", pdf_path=tmp_path / "no" / "r.pdf")
    assert not (tmp_path / "r.html").exists()  # checked before anything is written


def test_headline_shows_the_snapshot_value(planted: Built) -> None:
    page = render_html(planted.snapshot)
    m = re.search(r'data-testid="headline-accuracy" data-value="([^"]+)">([^<]+)<', page)
    assert m is not None
    assert float(m.group(1)) == pytest.approx(planted.accuracy_pct, abs=1e-9)
    assert m.group(2) == f"{planted.accuracy_pct:.1f} %"


def test_the_pdf_engine_named_is_the_one_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``auto`` falling back from a failing Chromium to WeasyPrint says WeasyPrint everywhere."""
    from typer.testing import CliRunner

    import seglens.cli.report_cmd  # noqa: F401  (registers `seglens report`)
    from seglens.cli._app import app

    snap = ReviewSnapshot(
        "2011Q3",
        Estimate.from_counts(88, 100),
        (SegmentStat("A", 60, precision=Estimate.from_counts(50, 55)),),
    )
    js = write_snapshot(snap, tmp_path / "s.json")
    monkeypatch.setenv("SEGLENS_CHROMIUM", "/bin/false")  # a "browser" that always fails
    out, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    res = CliRunner().invoke(
        app, ["report", "--snapshot", str(js), "-o", str(out), "--pdf", str(pdf)]
    )
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())
    assert f"pdf: {pdf} (WeasyPrint; Chromium failed:" in flat
    assert pdf.read_bytes().startswith(b"%PDF")
    page = out.read_text("utf-8")
    assert "PDF: WeasyPrint" in page and "Chromium" not in page
    # Without a PDF the document claims no engine.
    files = write_report(snap, tmp_path / "only.html")
    assert files.pdf is None and files.pdf_engine is None
    assert "no PDF rendered with this file" in files.html.read_text("utf-8")
