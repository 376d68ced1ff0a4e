"""Benchmark the quarterly review's rendering against its peers, in the same run.

Run from the repository root:

    .venv/bin/python -m benchmarks.bench_report            # 4- and 12-segment reviews
    .venv/bin/python -m benchmarks.bench_report --quick    # 4 segments, 2 repetitions

Jobs, each the median of several repetitions, with CPU time (the machine is shared: wall time
swings with other jobs, CPU time much less) and peak traced Python memory:

1. charts: our five plain Vega-Lite specs -> SVG (vl-convert) vs the same charts built with Altair
   (schema-validated) -> SVG (peer; skipped when Altair is not installed);
2. HTML: ``render_html`` (charts + twelve attributes + template);
3. PDF: ``render_pdf`` (WeasyPrint) vs Chromium's print-to-PDF of the same HTML through
   Playwright (peer; the browser is started once, outside the timing; skipped without
   ``/usr/bin/chromium``).

The demo budget is the whole pipeline + report in < 60 s, so the report should take seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "report"))

from report_builders import CHROMIUM, LAUNCH_ARGS, build_planted

from seglens.report import ReviewSnapshot, render_html, render_pdf
from seglens.report.charts import make_charts, spec_to_svg


def measure(fn: Callable[[], Any], reps: int) -> tuple[float, float, float]:
    """(median wall s, median CPU s, peak traced MiB) over ``reps`` runs after one warm-up."""
    fn()
    walls, cpus = [], []
    peak = 0
    for _ in range(reps):
        tracemalloc.start()
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return statistics.median(walls), statistics.median(cpus), peak / 2**20


def altair_charts(snap: ReviewSnapshot) -> Callable[[], None] | None:
    """The same five charts built through Altair (validated), or ``None`` without Altair."""
    try:
        import altair as alt
    except ImportError:
        return None

    def build() -> None:
        for chart in make_charts_specs(snap):
            spec = alt.LayerChart.from_dict(chart, validate=True).to_dict()
            spec_to_svg(spec)

    return build


def make_charts_specs(snap: ReviewSnapshot) -> list[dict[str, Any]]:
    return [c.spec for c in make_charts(snap)]


def chromium_pdf(html: str, out: Path) -> tuple[Callable[[], None], Callable[[], None]] | None:
    """Print-to-PDF through Playwright + Debian Chromium; returns (job, close)."""
    if not Path(CHROMIUM).exists():
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    home = tempfile.mkdtemp()
    pw = sync_playwright().start()
    env = {**os.environ, "XDG_CONFIG_HOME": home, "XDG_CACHE_HOME": home}
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS, env=env)
    src = out.with_suffix(".html")
    src.write_text(html, "utf-8")

    def job() -> None:
        page = browser.new_page()
        page.goto(src.as_uri())
        page.pdf(path=str(out), format="A4", print_background=True)
        page.close()

    def close() -> None:
        browser.close()
        pw.stop()

    return job, close


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 segments, 2 repetitions")
    args = parser.parse_args()
    reps = 2 if args.quick else 5
    sizes = (4,) if args.quick else (4, 12)
    tmp = Path(tempfile.mkdtemp())
    rows: list[tuple[str, str, float, float, float, str]] = []
    print(f"{'input':<12} {'job':<32} {'median s':>9} {'CPU s':>7} {'peak MiB':>9}  ratio")

    def show(row: tuple[str, str, float, float, float, str]) -> None:
        rows.append(row)
        inp, job_name, wall, cpu, mem, ratio = row
        print(f"{inp:<12} {job_name:<32} {wall:>9.3f} {cpu:>7.3f} {mem:>9.1f}  {ratio}", flush=True)

    for k in sizes:
        names = tuple(f"Segment {i + 1}" for i in range(k))
        snap = build_planted(names, n=3000 * max(1, k // 4)).snapshot
        ours = measure(lambda s=snap: make_charts(s), reps)
        show((f"{k} segments", "charts: plain Vega-Lite -> SVG", *ours, "1.00"))
        peer = altair_charts(snap)
        if peer is not None:
            theirs = measure(peer, reps)
            show((f"{k} segments", "charts: Altair (peer)", *theirs, f"{theirs[1] / ours[1]:.2f}"))
        html = render_html(snap)
        show((f"{k} segments", "render_html", *measure(lambda s=snap: render_html(s), reps), ""))
        pdf_ours = measure(lambda h=html: render_pdf(h, tmp / "w.pdf", engine="weasyprint"), reps)
        show((f"{k} segments", "PDF: WeasyPrint", *pdf_ours, "1.00"))
        chrome = chromium_pdf(html, tmp / "c.pdf")
        if chrome is not None:
            job, close = chrome
            try:
                theirs = measure(job, reps)
            finally:
                close()
            show(
                (
                    f"{k} segments",
                    "PDF: Chromium print (peer)*",
                    *theirs,
                    f"{theirs[0] / pdf_ours[0]:.2f} (wall)",
                )
            )
    print("ratio: peer / ours on CPU time (charts) or wall time (PDF).")
    print("* Chromium renders in its own processes: its CPU and memory are not counted here.")


if __name__ == "__main__":
    main()
