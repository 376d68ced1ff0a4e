"""Snapshot <-> plain JSON-ready dict, so a review can be stored, shipped and re-rendered.

Schema 3 (current) adds the optional ``"learning"`` object (:class:`LearningSummary`); schema 2
files, which have none, read unchanged. Schema 2: a period without labels has ``"accuracy":
null`` and ``"method": "unmeasured"``; label-free proxies appear only under ``"proxies"``.
Schema 1 files are still read: their label-free headline (``"method": "proxy"``) is moved to
``proxies`` and their proxy trend points are dropped (:func:`upgrade_v1`).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import date, datetime
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from seglens.errors import DataError
from seglens.io.atomic import write_text_atomic
from seglens.report import snapshot as _snapshot
from seglens.report.snapshot import ReviewSnapshot

__all__ = [
    "SCHEMA_VERSION",
    "read_snapshot",
    "snapshot_from_dict",
    "snapshot_to_dict",
    "upgrade_v1",
    "write_snapshot",
]

SCHEMA_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)


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


def upgrade_v1(data: dict[str, Any]) -> dict[str, Any]:
    """A schema-1 snapshot dict as schema 2 (and so 3): a label-free headline is no accuracy.

    Version 1 put a proxy (the out-of-time hold rate, else the bootstrap ARI, x100) in
    ``accuracy`` with ``method: "proxy"``. Here that figure becomes a monitoring proxy (unless the
    proxy list already holds it), ``accuracy`` becomes ``None`` and the method ``"unmeasured"``;
    proxy trend points and a change computed between proxies are dropped.
    """
    out = dict(data)
    out["schema_version"] = SCHEMA_VERSION
    history = out.get("history")
    if isinstance(history, list):
        out["history"] = [
            h for h in history if not (isinstance(h, dict) and h.get("method") == "proxy")
        ]
    if out.get("method") != "proxy":
        return out
    acc = out.get("accuracy")
    proxies = list(out.get("proxies") or [])
    # Version 1 took the headline from the hold rate or the ARI, both also listed as proxies,
    # except a stored segment_hold headline, which was listed nowhere else.
    listed = {p.get("name") for p in proxies if isinstance(p, dict)}
    if isinstance(acc, dict) and isinstance(acc.get("value_pct"), int | float):
        value = float(acc["value_pct"]) / 100
        if not listed & {"held", "bootstrap ARI", "held (out of time)"}:
            from seglens.accuracy import proxy_caveat
            from seglens.accuracy.caveats import PROXY_MEANINGS

            key = "out_of_time_held"
            proxies.append(
                {
                    "name": "held (out of time)",
                    "value": value,
                    "meaning": PROXY_MEANINGS[key],
                    "caveat": proxy_caveat(key),
                    "n": acc.get("n"),
                }
            )
    out.update(
        accuracy=None,
        method="unmeasured",
        proxies=proxies,
        current_change=None,
        segment_accuracy=None,
        segment_rule="",
    )
    return out


def snapshot_from_dict(data: dict[str, Any]) -> ReviewSnapshot:
    """Rebuild a snapshot from :func:`snapshot_to_dict` output; bad input raises ``DataError``.

    Schema-1 snapshots are read through :func:`upgrade_v1`.
    """
    version = data.get("schema_version", SCHEMA_VERSION)
    if version not in READABLE_VERSIONS:
        raise DataError(
            f"snapshot schema version {version} is not supported "
            f"(readable: {', '.join(map(str, READABLE_VERSIONS))})"
        )
    if version == 1:
        data = upgrade_v1(data)
    snap: ReviewSnapshot = _from_plain(ReviewSnapshot, data, "snapshot")
    return snap


def write_snapshot(snap: ReviewSnapshot, path: str | Path) -> Path:
    """Write the snapshot as indented JSON (UTF-8), atomically (an earlier file stays whole
    when the write fails)."""
    out = Path(path)
    write_text_atomic(out, json.dumps(snapshot_to_dict(snap), indent=2, ensure_ascii=False) + "\n")
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
