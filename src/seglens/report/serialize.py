"""Snapshot <-> plain JSON-ready dict, so a review can be stored, shipped and re-rendered."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import date, datetime
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from seglens.errors import DataError
from seglens.report import snapshot as _snapshot
from seglens.report.snapshot import ReviewSnapshot

__all__ = ["read_snapshot", "snapshot_from_dict", "snapshot_to_dict", "write_snapshot"]

SCHEMA_VERSION = 1


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_to_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot_to_dict(snap: ReviewSnapshot) -> dict[str, Any]:
    """The snapshot as JSON-ready data (tuples become lists, dates ISO strings).

    Examples
    --------
    >>> from seglens.report.snapshot import Estimate, SegmentStat
    >>> snap = ReviewSnapshot("2011Q3", Estimate.from_counts(9, 10), (SegmentStat("A", 10),))
    >>> snapshot_from_dict(snapshot_to_dict(snap)) == snap
    True
    """
    data: dict[str, Any] = _to_plain(snap)
    data["schema_version"] = SCHEMA_VERSION
    return data


def _from_plain(tp: Any, value: Any, where: str) -> Any:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _from_plain(inner[0], value, where)
    if origin is typing.Literal:
        if value not in get_args(tp):
            raise DataError(f"{where}: {value!r} is not one of {get_args(tp)}")
        return value
    if origin is tuple:
        args = get_args(tp)
        if not isinstance(value, list):
            raise DataError(f"{where}: expected a list, got {type(value).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_from_plain(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        return tuple(
            _from_plain(a, v, f"{where}[{i}]")
            for i, (a, v) in enumerate(zip(args, value, strict=True))
        )
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, dict):
            raise DataError(f"{where}: expected an object, got {type(value).__name__}")
        hints = get_type_hints(tp, vars(_snapshot))
        names = {f.name for f in dataclasses.fields(tp)}
        unknown = set(value) - names - {"schema_version"}
        if unknown:
            raise DataError(f"{where}: unknown keys {sorted(unknown)}")
        kwargs = {
            k: _from_plain(hints[k], v, f"{where}.{k}") for k, v in value.items() if k in names
        }
        return tp(**kwargs)
    if tp is datetime:
        return datetime.fromisoformat(value)
    if tp is date:
        return date.fromisoformat(value)
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp in (int, str, bool) and type(value) is tp:
        return value
    raise DataError(f"{where}: expected {getattr(tp, '__name__', tp)}, got {value!r}")


def snapshot_from_dict(data: dict[str, Any]) -> ReviewSnapshot:
    """Rebuild a snapshot from :func:`snapshot_to_dict` output; bad input raises ``DataError``."""
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise DataError(f"snapshot schema version {version} is not supported (expected 1)")
    snap: ReviewSnapshot = _from_plain(ReviewSnapshot, data, "snapshot")
    return snap


def write_snapshot(snap: ReviewSnapshot, path: str | Path) -> Path:
    """Write the snapshot as indented JSON (UTF-8)."""
    out = Path(path)
    out.write_text(json.dumps(snapshot_to_dict(snap), indent=2, ensure_ascii=False) + "\n", "utf-8")
    return out


def read_snapshot(path: str | Path) -> ReviewSnapshot:
    """Read a snapshot JSON written by :func:`write_snapshot`."""
    src = Path(path)
    try:
        data = json.loads(src.read_text("utf-8"))
    except FileNotFoundError:
        raise DataError("snapshot file not found", source=str(src)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataError(f"not a JSON snapshot: {err}", source=str(src)) from None
    if not isinstance(data, dict):
        raise DataError("not a JSON snapshot object", source=str(src))
    try:
        return snapshot_from_dict(data)
    except DataError as err:
        raise DataError(err.message, source=str(src), hint=err.hint) from None
