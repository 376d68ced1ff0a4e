"""Write every output file atomically, and refuse an output folder that does not exist.

Each writer in seglens (``ingest -o``, ``features -o``, ``segment -o``, ``audit-sample --out``,
exports, reports, the demo) writes into a temporary file in the destination folder, flushes it to
disk, then renames it over the destination (``os.replace``, atomic on one file system). A write
that fails part-way (disk full, a file size limit, an exception in the writer, an interrupt)
removes the temporary file and leaves the earlier output byte for byte as it was.

A missing output folder is an error that names the folder, not a folder created silently: a typo
in ``-o`` or ``--db`` would otherwise scatter results in unexpected places.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from seglens.errors import DataError, SeglensError, UsageError

__all__ = ["atomic_path", "check_folder", "write_bytes_atomic", "write_text_atomic"]

_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
_OS_ERROR = re.compile(r"\(os error (\d+)\)")


def check_folder(path: str | os.PathLike[str], *, option: str | None = None) -> Path:
    """Refuse ``path`` when its folder does not exist (or is not a folder); ``path`` as a Path.

    ``option`` (e.g. ``"-o/--out"``, ``"--db"``) is named in the message so the user knows which
    argument to fix.

    Examples
    --------
    >>> check_folder("/tmp/x.csv")
    PosixPath('/tmp/x.csv')
    """
    target = Path(path).expanduser()
    folder = target.parent
    given = f" (given with {option})" if option else ""
    if not folder.exists():
        raise UsageError(
            f"the folder {folder} does not exist{given}",
            source=str(target),
            hint=f"create it first (mkdir -p {folder}) or choose another path",
        )
    if not folder.is_dir():
        raise UsageError(
            f"{folder} is a file, not a folder{given}",
            source=str(target),
            hint="choose a path inside an existing folder",
        )
    if target.is_dir():
        raise UsageError(
            f"this is a folder; a file name is needed{given}",
            source=str(target),
            hint=f"name a file inside it, e.g. {target / 'out.csv'}",
        )
    return target


def _create_temp(target: Path) -> Path:
    """An empty new file next to ``target``, with ``target``'s permissions when it exists (a
    file the user made private stays private), else those of a new file (0666 less umask)."""
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as err:
            raise _write_error(target, err) from None
        os.close(fd)
        with suppress(FileNotFoundError):
            tmp.chmod(stat.S_IMODE(target.stat().st_mode))
        return tmp
    raise DataError("cannot create a temporary file", source=str(target))  # pragma: no cover


def _fsync(path: Path, *, folder: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if folder else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_error(target: Path, err: OSError) -> DataError:
    """The message for a failed write: what happened, and that the earlier file was kept."""
    kept = (
        f"the earlier {target.name} was kept unchanged"
        if target.exists()
        else f"no {target.name} was written"
    )
    if err.errno == errno.EFBIG:
        return DataError(
            f"writing stopped: a file size limit was reached ({err.strerror}); {kept}",
            source=str(target),
            hint="raise the limit (ulimit -f) or write to a file system that allows larger "
            "files, then run the command again",
        )
    if err.errno in _FULL:
        return DataError(
            f"writing stopped: the disk is full ({err.strerror}); {kept}",
            source=str(target),
            hint="free disk space (or write to another disk) and run the command again",
        )
    return DataError(
        f"the file cannot be written ({err.strerror or err}); {kept}",
        source=str(target),
        hint="check that the folder exists and that you may write to it",
    )


def _os_error(err: BaseException) -> OSError | None:
    """The OSError behind ``err``: itself, its cause, or one a library wrapped into its text
    (Polars reports ``No space left on device (os error 28)``, with no ``errno``)."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno is not None:
            return seen
        found = _OS_ERROR.search(str(seen))
        if found:
            code = int(found.group(1))
            return OSError(code, os.strerror(code))
        seen = seen.__cause__
    return None


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, option: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; when the block ends without error, the file
    written there is flushed to disk and renamed to ``path``. On any error the temporary file
    is removed and ``path`` keeps its earlier content; write errors (disk full, permissions)
    become a :class:`~seglens.errors.DataError` naming the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     out = pathlib.Path(d) / "a.txt"
    ...     with atomic_path(out) as tmp:
    ...         _ = tmp.write_text("hello")
    ...     out.read_text(), sorted(p.name for p in pathlib.Path(d).iterdir())
    ('hello', ['a.txt'])
    """
    target = check_folder(path, option=option)
    tmp = _create_temp(target)
    try:
        yield tmp
        _fsync(tmp)
        tmp.replace(target)
    except BaseException as err:
        with suppress(OSError):
            tmp.unlink()
        cause = _os_error(err) if isinstance(err, Exception) else None
        if cause is not None and not isinstance(err, SeglensError):
            raise _write_error(target, cause) from None
        raise
    with suppress(OSError):  # the rename itself reaches the disk (not possible everywhere)
        _fsync(target.parent, folder=True)


def write_bytes_atomic(
    path: str | os.PathLike[str], data: bytes, *, option: str | None = None
) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path, option=option) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(
    path: str | os.PathLike[str], text: str, *, option: str | None = None, errors: str = "strict"
) -> None:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`atomic_path`)."""
    write_bytes_atomic(path, text.encode("utf-8", errors=errors), option=option)
