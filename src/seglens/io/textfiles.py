"""Delimited text files: size and content checks, encoding and delimiter sniffing, lazy scan."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import logging
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Final, Literal

import polars as pl

from seglens.errors import DataError, UsageError
from seglens.io.sources_base import ROW, RawSource

__all__ = ["DELIMITERS", "read_text_file", "sniff_delimiter"]

log = logging.getLogger(__name__)

DELIMITERS: Final = (",", ";", "\t", "|")
HEAD_BYTES: Final = 256 * 1024
GZIP_MAGIC: Final = b"\x1f\x8b"
_DELIM_NAMES: Final = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def _read_head(path: Path, compressed: bool) -> bytes:
    """The first bytes of the (decompressed) file."""
    if not compressed:
        with path.open("rb") as fh:
            return fh.read(HEAD_BYTES)
    try:
        with gzip.open(path, "rb") as gz:
            return gz.read(HEAD_BYTES)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(
            f"the file looks gzip-compressed but cannot be decompressed ({err})",
            source=str(path),
            hint="check that the download completed, or decompress it yourself and retry",
        ) from None


def _gzip_size(path: Path) -> int:
    """Uncompressed size recorded in a gzip trailer (modulo 4 GiB; a lower bound)."""
    with path.open("rb") as fh:
        fh.seek(-4, 2)
        return int.from_bytes(fh.read(4), "little")


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


def _sniff_encoding(head: bytes, truncated: bool) -> str:
    """``utf-8``, ``utf-8-sig``, ``utf-16`` or the best single-byte guess (``cp1252``/latin-1)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=not truncated)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(head[:65536]).best()
    guess = (best.encoding if best is not None else "cp1252").lower()
    # Single-byte Western encodings are by far the most common non-UTF-8 exports, and short
    # samples do not tell the single-byte code pages apart: read them as cp1252 (a superset of
    # the printable part of Latin-1). Trust the detector only for other families (cp1251,
    # Shift-JIS, GB18030, ...).
    if guess.startswith(("cp125", "iso8859", "latin", "mac", "ascii", "windows-125")):
        return "cp1252"
    return guess


def _decode_mixed(raw: bytes) -> tuple[bytes, int, int]:
    """Decode line by line: UTF-8 where a line is valid UTF-8, else cp1252 (Latin-1 for the five
    bytes cp1252 leaves undefined). Returns UTF-8 bytes and the counts of non-ASCII lines read
    each way."""
    out: list[bytes] = []
    n_utf8 = n_single = 0
    for line in raw.splitlines(keepends=True):
        if line.isascii():
            out.append(line)
            continue
        try:
            line.decode("utf-8")
            out.append(line)
            n_utf8 += 1
        except UnicodeDecodeError:
            try:
                text = line.decode("cp1252")
            except UnicodeDecodeError:
                text = line.decode("latin-1")
            out.append(text.encode("utf-8"))
            n_single += 1
    return b"".join(out), n_utf8, n_single


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


def read_text_file(
    path: Path,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    max_bytes: int | None,
) -> RawSource:
    """Check, sniff and lazily scan a delimited text file (optionally gzip-compressed)."""
    size = path.stat().st_size
    name = str(path)
    if max_bytes is not None and size > max_bytes:
        raise DataError(
            f"the file is {size:,} bytes, over the size limit of {max_bytes:,} bytes",
            source=name,
            hint="raise the limit (--max-size / max_bytes=) if the file is genuine, "
            "or convert it to Parquet",
        )
    with path.open("rb") as fh:
        magic = fh.read(4)
    compressed = magic.startswith(GZIP_MAGIC)
    # the gzip trailer holds the uncompressed size (mod 4 GiB); trust it only when plausible
    # (deflate cannot compress better than ~1032:1), a truncated file has junk there
    isize = _gzip_size(path) if compressed and size >= 18 else 0
    plausible = size <= isize <= size * 1032
    if compressed and max_bytes is not None and plausible and isize > max_bytes:
        raise DataError(
            f"the file decompresses to {isize:,} bytes, over the size limit of {max_bytes:,} bytes",
            source=name,
            hint="raise the limit (--max-size / max_bytes=) if the file is genuine",
        )
    head = _read_head(path, compressed) if size else b""
    if not head.strip(b" \t\r\n\x00") or not head.strip():
        raise DataError(
            "the file is empty",
            source=name,
            hint="export the data again; a transactions file needs a header and data rows",
        )
    enc = encoding or _sniff_encoding(head, truncated=len(head) == HEAD_BYTES)
    if enc.replace("-", "").lower() not in {"utf16", "utf16le", "utf16be"}:
        _check_not_binary(head, path)
    text_head = head.decode(enc, errors="replace")
    if text_head.startswith("\ufeff"):
        text_head = text_head[1:]
    details: dict[str, object] = {"encoding": enc, "compression": "gzip" if compressed else None}
    if delimiter is not None:
        if len(delimiter) != 1:
            raise UsageError(
                f"the delimiter must be one character, got {delimiter!r}",
                hint="use e.g. --delimiter ';' (or '\\t' for tab)",
            )
        delim = delimiter
    else:
        delim = sniff_delimiter(text_head) or ","
    details["delimiter"] = _DELIM_NAMES.get(delim, delim)
    warnings: list[str] = []
    lossy: Callable[[], pl.LazyFrame] | None = None
    if enc in {"utf-8", "utf-8-sig"}:

        def scan(encoding: Literal["utf8", "utf8-lossy"]) -> pl.LazyFrame:
            return pl.scan_csv(
                path,
                separator=delim,
                infer_schema=False,
                encoding=encoding,
                row_index_name=ROW,
                raise_if_empty=False,
            )

        # strict UTF-8 is twice as fast to scan; on an invalid byte further down the file the
        # loader rescans with replacement characters (and counts the rows affected)
        frame = scan("utf8")
        lossy = lambda: scan("utf8-lossy")  # noqa: E731
    else:
        log.info("transcoding %s from %s to UTF-8 in memory", name, enc)
        if compressed:
            with gzip.open(path, "rb") as gz:
                raw = gz.read()
        else:
            raw = path.read_bytes()
        if enc == "cp1252":
            data, n_utf8, n_single = _decode_mixed(raw)
            if n_utf8:
                warnings.append(
                    f"mixed encodings: {n_single:,} line(s) read as cp1252 (Latin-1), "
                    f"{n_utf8:,} line(s) with UTF-8 characters read as UTF-8"
                )
            else:
                warnings.append("the file is not UTF-8; it was read as cp1252 (Latin-1)")
        else:
            data = raw.decode(enc, errors="replace").encode("utf-8")
            warnings.append(f"the file is not UTF-8; it was read as {enc}")
        frame = pl.read_csv(
            io.BytesIO(data),
            separator=delim,
            infer_schema=False,
            row_index_name=ROW,
            raise_if_empty=False,
        ).lazy()
    dupes = [c for c in frame.collect_schema().names() if "_duplicated_" in c]
    if dupes:
        warnings.append(
            f"the header repeats column names; the repeats were renamed {', '.join(dupes)}"
        )
    return RawSource(
        frame=frame,
        name=name,
        format="csv",
        first_line=2,
        text=True,
        details=details,
        warnings=warnings,
        locate_bad_structure=lambda: _locate_ragged(path, enc, delim, compressed),
        lossy_frame=lossy,
    )


def _locate_ragged(path: Path, enc: str, delim: str, compressed: bool) -> DataError:
    """Find the first lines whose field count differs from the header's (for a clear error)."""
    opener = gzip.open if compressed else open
    with opener(path, "rt", encoding=enc, errors="replace", newline="") as fh:
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
    return DataError(
        f"some lines do not have the header's {len(header)} fields "
        f"(delimiter {_DELIM_NAMES.get(delim, delim)!r})",
        source=str(path),
        lines=tuple(bad),
        values=tuple(values),
        hint="quote fields that contain the delimiter, or give the right one with --delimiter",
    )
