"""Delimited text files: compression, size and content checks, encoding and delimiter sniffing,
line-ending and end-of-file fix-ups, lazy scan."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import logging
import lzma
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Final, Literal

import polars as pl

from seglens.errors import DataError, UsageError
from seglens.io.encodings import (
    Sniffed,
    check_encoding,
    decode_lines,
    sniff_encoding,
    wide_encoding,
)
from seglens.io.sources_base import ROW, RawSource
from seglens.io.whitespace import WHITESPACE, read_whitespace

__all__ = ["DELIMITERS", "WHITESPACE", "read_text_file", "sniff_delimiter", "sniff_whitespace"]

log = logging.getLogger(__name__)

DELIMITERS: Final = (",", ";", "\t", "|")
HEAD_BYTES: Final = 256 * 1024
GZIP_MAGIC: Final = b"\x1f\x8b"
_DELIM_NAMES: Final = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_UTF8: Final = frozenset({"utf-8", "utf-8-sig"})
_WIDE: Final = frozenset({"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})
_EOF_MARK: Final = b"\x1a"
"""DOS end-of-file mark (^Z) some old tools append."""
_LONE_CR: Final = re.compile(rb"\r(?!\n)")

Compression = Literal["gzip", "bz2", "xz"]
_UNSUPPORTED: Final = (
    (b"\x28\xb5\x2f\xfd", "zstd", "zstd -d FILE"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip", "7z x FILE"),
    (b"Rar!\x1a\x07", "RAR", "unrar x FILE"),
    (b"\x04\x22\x4d\x18", "LZ4", "lz4 -d FILE"),
)


def _compression(magic: bytes, path: Path) -> Compression | None:
    """The compression the first bytes show (gzip, bzip2, xz); others are refused by name."""
    if magic.startswith(GZIP_MAGIC):
        return "gzip"
    if magic.startswith(b"BZh") and magic[3:4].isdigit():
        return "bz2"
    if magic.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    for prefix, name, command in _UNSUPPORTED:
        if magic.startswith(prefix):
            raise DataError(
                f"the file is {name}-compressed, which seglens does not read",
                source=str(path),
                hint=f"decompress it first ({command.replace('FILE', path.name)}), or "
                "recompress it with gzip, bzip2 or xz",
            )
    return None


@contextmanager
def _opened(path: Path, kind: Compression | None) -> Iterator[IO[bytes]]:
    """The file's (decompressed) bytes as a stream; damaged archives become a DataError."""
    try:
        if kind == "gzip":
            with gzip.open(path, "rb") as gz:
                yield gz  # type: ignore[misc]
        elif kind == "bz2":
            with bz2.open(path, "rb") as bz:
                yield bz
        elif kind == "xz":
            with lzma.open(path, "rb") as xz:
                yield xz
        else:
            with path.open("rb") as fh:
                yield fh
    except (OSError, EOFError, zlib.error, lzma.LZMAError) as err:
        if kind is None:
            raise
        name = {"gzip": "gzip", "bz2": "bzip2", "xz": "xz"}[kind]
        raise DataError(
            f"the file looks {name}-compressed but cannot be decompressed ({err})",
            source=str(path),
            hint="check that the download completed, or decompress it yourself and retry",
        ) from None


def _read_head(path: Path, kind: Compression | None) -> bytes:
    """The first bytes of the (decompressed) file."""
    with _opened(path, kind) as fh:
        return fh.read(HEAD_BYTES)


def _read_all(path: Path, kind: Compression | None, max_bytes: int | None) -> bytes:
    """The whole (decompressed) file, refused once it passes ``max_bytes``."""
    with _opened(path, kind) as fh:
        data = fh.read() if max_bytes is None else fh.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:
        raise DataError(
            f"the file decompresses to more than the size limit of {max_bytes:,} bytes",
            source=str(path),
            hint="raise the limit (--max-size / max_bytes=) if the file is genuine",
        )
    return data


def _gzip_size(path: Path) -> int:
    """Uncompressed size recorded in a gzip trailer (modulo 4 GiB; a lower bound)."""
    with path.open("rb") as fh:
        fh.seek(-4, 2)
        return int.from_bytes(fh.read(4), "little")


def _ends_with_eof_mark(path: Path) -> bool:
    """Whether an uncompressed file ends with the DOS end-of-file mark (^Z)."""
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - 64))
        return fh.read().rstrip(b"\r\n").endswith(_EOF_MARK)


def _check_not_binary(head: bytes, path: Path) -> None:
    """Refuse files that are clearly not text (NUL bytes, many control characters)."""
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise DataError(
            "this is a spreadsheet or ZIP file, not a delimited text file",
            source=str(path),
            hint="give it a .xlsx extension (Excel 2007+), or export the sheet as CSV",
        )
    if head.startswith(b"PAR1"):
        raise DataError(
            "this is a Parquet file with a text-file extension",
            source=str(path),
            hint="rename it to .parquet",
        )
    sample = head[:65536]
    if len(head) <= 65536:
        sample = sample.rstrip(b"\r\n").rstrip(_EOF_MARK)  # a DOS end-of-file mark is fine
    nul = sample.count(b"\x00")
    control = sum(sample.count(bytes([c])) for c in (*range(1, 9), 11, 12, *range(14, 27), 28))
    if nul or (sample and control / len(sample) > 0.01):
        offset = (
            sample.find(b"\x00")
            if nul
            else next(i for i, b in enumerate(sample) if b < 32 and b not in (9, 10, 13, 27))
        )
        line = sample[:offset].count(b"\n") + 1
        raise DataError(
            "the file contains binary data, not delimited text",
            source=str(path),
            lines=(line,),
            values=(sample[max(0, offset - 8) : offset + 8],),
            hint="check that this is the CSV export you meant (not a database, archive or image)",
        )


def sniff_delimiter(text: str) -> str | None:
    """The delimiter among ``, ; tab |`` giving the most consistent field count > 1, or None.

    >>> sniff_delimiter("a;b;c\\n1;2,5;3\\n4;5;6\\n")
    ';'
    """
    lines = [ln for ln in text.splitlines()[:200] if ln.strip()]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a truncated sample may be partial
    best: tuple[float, int, str] | None = None
    for delim in DELIMITERS:
        counts = [len(row) for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=delim)]
        if not counts:
            continue
        mode, freq = Counter(counts).most_common(1)[0]
        if mode < 2:
            continue
        score = (freq / len(counts), mode, delim)
        if best is None or score[:2] > best[:2]:
            best = score
    return best[2] if best else None


def sniff_whitespace(text: str) -> bool:
    """Whether the lines are fields separated by runs of spaces or tabs, more consistently than
    by any delimiter (the classic BTYD / CDNOW log: ``00001 19970101 1 11.77``).

    >>> sniff_whitespace("00001 19970101 1 11.77\\n00001  19970118 1 9.99\\n")
    True
    >>> sniff_whitespace("id,when,amount\\n1,2024-01-01 10:00,5\\n")
    False
    """
    lines = [ln for ln in text.splitlines()[:200] if ln.strip()]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]
    if not lines or any('"' in ln for ln in lines):
        return False
    counts = [len(ln.split()) for ln in lines]
    mode, freq = Counter(counts).most_common(1)[0]
    if mode < 2 or freq < 0.9 * len(counts):  # a few short lines are reported by the loader
        return False
    delim = sniff_delimiter(text)
    if delim is None:
        return True
    other = [len(r) for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=delim)]
    o_mode, o_freq = Counter(other).most_common(1)[0]
    return (freq / len(counts), mode) > (o_freq / len(other), o_mode)


def _transcode(raw: bytes, chosen: Sniffed, sniffed: bool, warnings: list[str]) -> bytes:
    """``raw`` as UTF-8 bytes (with a warning saying how it was read)."""
    enc = chosen.encoding
    label = chosen.label + (f"; {chosen.evidence}" if sniffed else "")
    if enc in _UTF8:
        return raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    if enc in _WIDE or not sniffed:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            text = raw.decode(enc, errors="replace")
            bad = [i + 1 for i, ln in enumerate(text.splitlines()) if "\ufffd" in ln]
            warnings.append(
                f"{len(bad):,} line(s) have bytes that are not valid {enc} (first: line "
                f"{', '.join(map(str, bad[:5]))}); they were replaced with U+FFFD"
            )
        warnings.append(f"the file is not UTF-8; it was read as {label}")
        return text.lstrip("\ufeff").encode("utf-8")
    data, n_utf8, bad = decode_lines(raw, enc)
    if n_utf8:
        warnings.append(
            f"mixed encodings: {n_utf8:,} line(s) with UTF-8 characters read as UTF-8, "
            f"the others as {label}"
        )
    else:
        warnings.append(f"the file is not UTF-8; it was read as {label}")
    if bad:
        warnings.append(
            f"{len(bad):,} line(s) have bytes that are not valid {enc} (first: line "
            f"{', '.join(map(str, bad[:5]))}); they were replaced with U+FFFD"
        )
    return data


def _fix_bytes(data: bytes, warnings: list[str]) -> bytes:
    """UTF-8 bytes without a trailing DOS end-of-file mark, lone CR line ends made LF."""
    body = data.rstrip(b"\r\n")
    if body.endswith(_EOF_MARK):
        data = body.rstrip(_EOF_MARK).rstrip(b"\r\n") + b"\n"
        warnings.append("the DOS end-of-file mark (^Z) at the end of the file was ignored")
    lone = len(_LONE_CR.findall(data))
    if lone:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        warnings.append(
            f"the file mixes line endings: {lone:,} line(s) end with a carriage return alone "
            "(old Mac style); they were read as line breaks"
        )
    return data


def _check_size(path: Path, size: int, kind: Compression | None, max_bytes: int | None) -> None:
    name = str(path)
    if max_bytes is not None and size > max_bytes:
        raise DataError(
            f"the file is {size:,} bytes, over the size limit of {max_bytes:,} bytes",
            source=name,
            hint="raise the limit (--max-size / max_bytes=) if the file is genuine, "
            "or convert it to Parquet",
        )
    if kind != "gzip" or max_bytes is None or size < 18:
        return
    # the gzip trailer holds the uncompressed size (mod 4 GiB); trust it only when plausible
    # (deflate cannot compress better than ~1032:1), a truncated file has junk there
    isize = _gzip_size(path)
    if size <= isize <= size * 1032 and isize > max_bytes:
        raise DataError(
            f"the file decompresses to {isize:,} bytes, over the size limit of {max_bytes:,} bytes",
            source=name,
            hint="raise the limit (--max-size / max_bytes=) if the file is genuine",
        )


def _choose_encoding(head: bytes, path: Path, encoding: str | None) -> Sniffed:
    """The user's encoding (checked), else the sniffed one; binary data is refused first."""
    if encoding is not None:
        enc = check_encoding(encoding)
        if enc not in _WIDE:
            _check_not_binary(head, path)
        return Sniffed(enc, "given")
    if wide_encoding(head) is None:
        _check_not_binary(head, path)
    return sniff_encoding(head, truncated=len(head) == HEAD_BYTES, source=str(path))


def _given_delimiter(delimiter: str) -> str:
    """The delimiter the user gave; a space (or the word ``whitespace``) means runs of blanks."""
    if delimiter in (" ", WHITESPACE):
        return WHITESPACE
    if len(delimiter) != 1:
        raise UsageError(
            f"the delimiter must be one character, got {delimiter!r}",
            hint="use e.g. --delimiter ';' (or '\\t' for tab, ' ' for runs of spaces)",
        )
    return delimiter


def read_text_file(
    path: Path,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    max_bytes: int | None,
) -> RawSource:
    """Check, sniff and lazily scan a delimited text file (optionally gzip/bzip2/xz-compressed)."""
    size = path.stat().st_size
    name = str(path)
    with path.open("rb") as fh:
        magic = fh.read(8)
    kind = _compression(magic, path)
    _check_size(path, size, kind, max_bytes)
    head = _read_head(path, kind) if size else b""
    if not head.strip(b" \t\r\n\x00\x1a"):
        raise DataError(
            "the file is empty",
            source=name,
            hint="export the data again; a transactions file needs a header and data rows",
        )
    sniffed = _choose_encoding(head, path, encoding)
    enc = sniffed.encoding
    text_head = head.decode(enc, errors="replace").lstrip("\ufeff")
    details: dict[str, object] = {"encoding": enc, "compression": kind}
    if delimiter is not None:
        delim = _given_delimiter(delimiter)
    elif sniff_whitespace(text_head):
        delim = WHITESPACE
    else:
        delim = sniff_delimiter(text_head) or ","
    if delim == WHITESPACE:
        notes: list[str] = []
        utf8 = _transcode(_read_all(path, kind, max_bytes), sniffed, encoding is None, notes)
        return read_whitespace(_fix_bytes(utf8, notes), name=name, details=details, warnings=notes)
    details["delimiter"] = _DELIM_NAMES.get(delim, delim)
    warnings: list[str] = []
    lossy: Callable[[], pl.LazyFrame] | None = None
    fixups = _LONE_CR.search(head[:-1]) is not None or (kind is None and _ends_with_eof_mark(path))
    data: bytes | None = None
    if enc in _UTF8 and kind in (None, "gzip") and not fixups:

        def scan(encoding: Literal["utf8", "utf8-lossy"]) -> pl.LazyFrame:
            return pl.scan_csv(
                path,
                separator=delim,
                infer_schema=False,
                encoding=encoding,
                row_index_name=ROW,
                raise_if_empty=False,
                glob=False,  # a file name such as 'orders[1].csv' is a name, not a pattern
            )

        # strict UTF-8 is twice as fast to scan; on an invalid byte further down the file the
        # loader rescans with replacement characters (and counts the rows affected)
        frame = scan("utf8")
        lossy = lambda: scan("utf8-lossy")  # noqa: E731
    else:
        log.info("reading %s (%s, %s) into memory", name, kind or "uncompressed", enc)
        raw = _read_all(path, kind, max_bytes)
        data = _fix_bytes(_transcode(raw, sniffed, encoding is None, warnings), warnings)
        frame = pl.read_csv(
            io.BytesIO(data),
            separator=delim,
            infer_schema=False,
            row_index_name=ROW,
            raise_if_empty=False,
            encoding="utf8-lossy",
        ).lazy()
    dupes = [c for c in frame.collect_schema().names() if "_duplicated_" in c]
    if dupes:
        warnings.append(
            f"the header repeats column names; the repeats were renamed {', '.join(dupes)}"
        )
    memory = data
    return RawSource(
        frame=frame,
        name=name,
        format="csv",
        first_line=2,
        text=True,
        details=details,
        warnings=warnings,
        locate_bad_structure=lambda: _locate_ragged(path, enc, delim, kind, memory),
        lossy_frame=lossy,
    )


def _text_stream(path: Path, enc: str, kind: Compression | None, data: bytes | None) -> IO[str]:
    """The file as text, for :func:`_locate_ragged` (from memory when it was read there)."""
    if data is not None:
        return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace", newline="")
    if kind == "gzip":
        return gzip.open(path, "rt", encoding=enc, errors="replace", newline="")
    if kind == "bz2":
        return bz2.open(path, "rt", encoding=enc, errors="replace", newline="")
    if kind == "xz":
        return lzma.open(path, "rt", encoding=enc, errors="replace", newline="")
    return path.open(encoding=enc, errors="replace", newline="")


def _locate_ragged(
    path: Path, enc: str, delim: str, kind: Compression | None, data: bytes | None
) -> DataError:
    """Find the first lines whose field count differs from the header's (for a clear error)."""
    with _text_stream(path, enc, kind, data) as fh:
        reader = csv.reader(fh, delimiter=delim)
        header = next(reader, [])
        bad: list[int] = []
        values: list[str] = []
        for row in reader:
            if len(row) != len(header) and any(row):
                bad.append(reader.line_num)
                values.append(delim.join(row)[:80])
                if len(bad) >= 5:
                    break
    if any("\n" in v for v in values):
        return DataError(
            "a quoted field is never closed: the quote runs to the end of the file",
            source=str(path),
            lines=tuple(bad[-1:]),
            values=tuple(values[-1:]),
            hint='close the quote ("...") in that line, or remove the stray quote character',
        )
    if not bad and data is None:
        with _text_stream(path, enc, kind, None) as fh:
            for number, line in enumerate(fh, start=1):  # newline="": ends kept as written
                if line.endswith("\r"):
                    return DataError(
                        "the file mixes line endings: some lines end with a carriage return "
                        "alone (old Mac style)",
                        source=str(path),
                        lines=(number,),
                        values=(line[:80],),
                        hint="convert the line endings (save it again as CSV, or run "
                        "mac2unix on it) and retry",
                    )
    return DataError(
        f"some lines do not have the header's {len(header)} fields "
        f"(delimiter {_DELIM_NAMES.get(delim, delim)!r})",
        source=str(path),
        lines=tuple(bad),
        values=tuple(values),
        hint="quote fields that contain the delimiter, or give the right one with --delimiter",
    )
