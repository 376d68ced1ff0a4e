"""PDF through headless Chromium's print-to-PDF (the alternative to WeasyPrint).

Chromium must be installed (Debian: ``apt-get install -y chromium``); it is run once per PDF as a
subprocess with a throw-away profile. Fetching stays impossible three ways: the page's
Content-Security-Policy forbids every request, all hosts resolve to nothing, and every HTTP(S)
request is sent to a proxy that does not exist.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from seglens.errors import UsageError
from seglens.io.atomic import atomic_path

__all__ = ["CHROMIUM_CANDIDATES", "chromium_pdf", "find_chromium"]

log = logging.getLogger(__name__)

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Executables looked up on ``PATH`` (after ``$SEGLENS_CHROMIUM``)."""

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-extensions",
    "--no-first-run",
    "--no-pdf-header-footer",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
)


def find_chromium() -> str | None:
    """``$SEGLENS_CHROMIUM`` if set, else the first Chromium/Chrome on ``PATH`` (or ``None``)."""
    env = os.environ.get("SEGLENS_CHROMIUM")
    if env:
        return env
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _print(exe: str, html: str, out: Path, timeout_s: float) -> None:
    """Run headless Chromium to print ``html`` into ``out`` (which exists, empty)."""
    with tempfile.TemporaryDirectory(prefix="seglens-pdf-") as tmp:
        src = Path(tmp) / "review.html"
        src.write_text(html, encoding="utf-8", errors="replace")
        env = {**os.environ, "XDG_CONFIG_HOME": tmp, "XDG_CACHE_HOME": tmp, "HOME": tmp}
        cmd = [
            exe,
            *_FLAGS,
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--print-to-pdf={out}",
            src.as_uri(),
        ]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout_s, env=env, check=False
            )
        except subprocess.TimeoutExpired:
            raise UsageError(f"Chromium did not finish the PDF within {timeout_s:g} s") from None
    if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        raise UsageError(
            f"Chromium could not print the PDF (exit {proc.returncode})",
            values=tuple(tail),
            hint="try --pdf-engine weasyprint",
        )


def chromium_pdf(html: str, path: str | Path, *, timeout_s: float = 120.0) -> Path:
    """Print ``html`` to ``path`` with headless Chromium.

    Raises
    ------
    UsageError
        If no Chromium is installed, or it fails or produces no PDF.
    """
    exe = find_chromium()
    if exe is None:
        raise UsageError(
            "no Chromium found for --pdf-engine chromium",
            hint="install it (apt-get install -y chromium), set SEGLENS_CHROMIUM, or use "
            "--pdf-engine weasyprint",
        )
    out = Path(path).resolve()
    with atomic_path(out) as printed:  # a failed print leaves an earlier PDF as it was
        _print(exe, html, printed, timeout_s)
    log.info("wrote PDF %s with %s", out, exe)
    return out
