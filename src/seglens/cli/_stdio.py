"""``-`` for stdin and stdout in file arguments (issue 21 item 2).

The readers in :mod:`seglens.io` take paths (format by suffix, size checks, encoding
detection), so stdin is copied to a file in a private temporary folder and that path is read.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["STDIN_NAME", "is_dash", "source_name", "stdin_path", "stdout_to_stderr", "write_stdout"]

STDIN_NAME = "<stdin>"
"""How a source read from stdin is named in messages and reports."""


def is_dash(path: object) -> bool:
    """Whether ``path`` is ``-`` (stdin or stdout)."""
    return path is not None and str(path) == "-"


def source_name(path: object) -> str:
    """``<stdin>`` for ``-``, else the path as text."""
    return STDIN_NAME if is_dash(path) else str(path)


@contextmanager
def stdin_path(path: Path | str, suffix: str = ".csv") -> Iterator[Path]:
    """``path`` itself, or for ``-`` a private temporary file holding the bytes of stdin
    (removed afterwards)."""
    if not is_dash(path):
        yield Path(path)
        return
    stream: Any = getattr(sys.stdin, "buffer", None)
    data = stream.read() if stream is not None else sys.stdin.read().encode("utf-8")
    with tempfile.TemporaryDirectory(prefix="seglens-stdin-") as folder:  # mode 0700
        target = Path(folder) / f"stdin{suffix}"
        target.write_bytes(data)
        yield target


def write_stdout(data: bytes) -> None:
    """Write ``data`` to stdout as bytes (after anything already printed there)."""
    sys.stdout.flush()
    buffer: Any = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(data.decode("utf-8"))
    else:
        buffer.write(data)
        buffer.flush()


@contextmanager
def stdout_to_stderr(console: Any) -> Iterator[None]:
    """Send what ``console`` prints to stderr while stdout carries data."""
    saved = console._file  # None means: whatever sys.stdout is at the time
    console.file = sys.stderr
    try:
        yield
    finally:
        console._file = saved
