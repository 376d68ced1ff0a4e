"""RFM segment maps: score patterns -> named segments, loaded from TOML and validated.

A map is only accepted when every (R, F, M) score combination falls in exactly one segment;
otherwise :class:`~seglens.errors.DataError` lists the combinations with no segment and those
claimed by several.
"""

from __future__ import annotations

import functools
import itertools
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from seglens.errors import DataError

__all__ = ["Segment", "SegmentMap", "fm_score"]

_DIMS = ("r", "f", "m", "fm")
_MAX_LISTED = 25


def fm_score(f: Any, m: Any) -> Any:
    """Combined frequency-monetary score: round-half-up of ``(f + m) / 2``."""
    return (np.asarray(f) + np.asarray(m) + 1) // 2


@dataclass(frozen=True)
class Segment:
    """One named segment: the score boxes it covers, and what it means for a marketer."""

    name: str
    when: tuple[tuple[tuple[str, int, int], ...], ...]
    """Boxes (OR); each box is a tuple of (dimension, low, high) conditions (AND)."""
    description: str = ""
    action: str = ""

    def matches(self, r: int, f: int, m: int) -> bool:
        """Whether the score combination falls in one of this segment's boxes."""
        vals = {"r": r, "f": f, "m": m, "fm": (f + m + 1) // 2}
        return any(all(lo <= vals[d] <= hi for d, lo, hi in box) for box in self.when)

    def describe_when(self) -> str:
        """The boxes as readable text, e.g. ``R 3-4 and FM 4-5``."""
        parts = []
        for box in self.when:
            conds = [
                f"{d.upper()} {lo}" if lo == hi else f"{d.upper()} {lo}-{hi}" for d, lo, hi in box
            ]
            parts.append(" and ".join(conds) if conds else "any scores")
        return " or ".join(parts)


@dataclass(frozen=True)
class SegmentMap:
    """A validated mapping from R/F/M scores (1..``scale``) to named segments.

    Examples
    --------
    >>> smap = SegmentMap.default()
    >>> smap.scale, len(smap.segments)
    (5, 11)
    >>> smap.segment_of(5, 5, 4)
    'Champions'
    >>> smap.segment_of(1, 1, 1)
    'Lost'
    """

    scale: int
    segments: tuple[Segment, ...]
    source: str = "default"

    def __post_init__(self) -> None:
        self.validate()

    @property
    def names(self) -> list[str]:
        """Segment names in map order (a segment's label is its index here)."""
        return [s.name for s in self.segments]

    def combinations(self) -> list[tuple[int, int, int]]:
        """Every (R, F, M) score combination on this map's scale."""
        rng = range(1, self.scale + 1)
        return list(itertools.product(rng, rng, rng))

    def _dims_used(self) -> list[str]:
        used = {d for s in self.segments for box in s.when for d, _, _ in box}
        return [d for d in _DIMS if d in used] or ["r"]

    def validate(self) -> None:
        """Raise :class:`DataError` unless each score combination maps to exactly one segment."""
        names = [s.name for s in self.segments]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise DataError(
                f"segment map has duplicate segment names: {', '.join(dupes)}", source=self.source
            )
        dims = self._dims_used()
        gaps: dict[str, None] = {}
        overlaps: dict[str, list[str]] = {}
        for r, f, m in self.combinations():
            hits = [s.name for s in self.segments if s.matches(r, f, m)]
            vals = {"r": r, "f": f, "m": m, "fm": int(fm_score(f, m))}
            key = " ".join(f"{d.upper()}={vals[d]}" for d in dims)
            if not hits:
                gaps[key] = None
            elif len(hits) > 1:
                overlaps[key] = hits
        if not gaps and not overlaps:
            return
        lines = []
        if gaps:
            lines.append(f"{len(gaps)} score combination(s) map to no segment:")
            lines += [f"  {k}" for k in list(gaps)[:_MAX_LISTED]]
            if len(gaps) > _MAX_LISTED:
                lines.append(f"  ... and {len(gaps) - _MAX_LISTED} more")
        if overlaps:
            lines.append(f"{len(overlaps)} score combination(s) map to more than one segment:")
            lines += [f"  {k} -> {', '.join(v)}" for k, v in list(overlaps.items())[:_MAX_LISTED]]
            if len(overlaps) > _MAX_LISTED:
                lines.append(f"  ... and {len(overlaps) - _MAX_LISTED} more")
        raise DataError(
            "segment map is invalid: every score combination must map to exactly one segment\n"
            + "\n".join(lines),
            source=self.source,
            values=tuple(gaps) + tuple(overlaps),
            hint="edit the `when` boxes so that they cover the grid without overlapping "
            "(start from `seglens segment --show-map` output of the default map)",
        )

    def lookup_table(self) -> np.ndarray[Any, np.dtype[np.int16]]:
        """Segment index for every (R-1, F-1, M-1) cell: a ``scale**3`` array (a copy)."""
        return self._table.copy()

    @functools.cached_property
    def _table(self) -> np.ndarray[Any, np.dtype[np.int16]]:
        table = np.empty((self.scale,) * 3, dtype=np.int16)
        for r, f, m in self.combinations():
            table[r - 1, f - 1, m - 1] = next(
                i for i, s in enumerate(self.segments) if s.matches(r, f, m)
            )
        return table

    def segment_of(self, r: int, f: int, m: int) -> str:
        """Name of the segment for one score combination."""
        return self.segments[int(self._table[r - 1, f - 1, m - 1])].name

    # -- loading -------------------------------------------------------------------------------
    @classmethod
    def default(cls) -> SegmentMap:
        """The built-in 11-segment map (Champions ... Lost) on a 1-5 scale."""
        return _default_map()

    @classmethod
    def _load_default(cls) -> SegmentMap:
        text = resources.files("seglens.segmenters").joinpath("default_rfm_map.toml").read_text()
        return cls.from_dict(tomllib.loads(text), source="default_rfm_map.toml")

    @classmethod
    def from_toml(cls, path: str | Path) -> SegmentMap:
        """Load and validate a map from a TOML file (format: see ``default_rfm_map.toml``)."""
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError("segment map file not found", source=str(p)) from None
        except tomllib.TOMLDecodeError as err:
            raise DataError(f"segment map is not valid TOML: {err}", source=str(p)) from None
        return cls.from_dict(data, source=str(p))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<dict>") -> SegmentMap:
        """Build and validate a map from parsed TOML (``scale`` and ``segments``)."""
        scale = data.get("scale", 5)
        if not isinstance(scale, int) or not 2 <= scale <= 10:
            raise DataError(
                f"`scale` must be an integer from 2 to 10, not {scale!r}", source=source
            )
        raw_segments = data.get("segments")
        if not isinstance(raw_segments, list) or not raw_segments:
            raise DataError(
                "segment map has no [[segments]] tables",
                source=source,
                hint="see the default map (default_rfm_map.toml) for the format",
            )
        segs = tuple(_parse_segment(s, i, scale, source) for i, s in enumerate(raw_segments))
        return cls(scale=scale, segments=segs, source=source)

    def to_toml(self) -> str:
        """The map as TOML text that :meth:`from_toml` reads back."""
        out = [f"scale = {self.scale}", ""]
        for s in self.segments:
            boxes = []
            for box in s.when:
                conds = [f"{d} = {lo}" if lo == hi else f"{d} = [{lo}, {hi}]" for d, lo, hi in box]
                boxes.append("{ " + ", ".join(conds) + " }")
            out += [
                "[[segments]]",
                f"name = {_q(s.name)}",
                f"description = {_q(s.description)}",
                f"action = {_q(s.action)}",
                f"when = [{', '.join(boxes)}]",
                "",
            ]
        return "\n".join(out)


@functools.lru_cache(maxsize=1)
def _default_map() -> SegmentMap:
    return SegmentMap._load_default()


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _parse_segment(raw: Any, i: int, scale: int, source: str) -> Segment:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise DataError(f"segment #{i + 1} needs a non-empty `name`", source=source)
    name = raw["name"]
    when = raw.get("when")
    if isinstance(when, Mapping):
        when = [when]
    if not isinstance(when, list) or not when:
        raise DataError(f"segment {name!r} needs `when`: a list of score boxes", source=source)
    boxes = []
    for box in when:
        if not isinstance(box, Mapping):
            raise DataError(f"segment {name!r}: each `when` entry must be a table", source=source)
        unknown = sorted(set(box) - set(_DIMS))
        if unknown:
            raise DataError(
                f"segment {name!r}: unknown score(s) {', '.join(unknown)}",
                source=source,
                hint="conditions may use r, f, m and fm",
            )
        boxes.append(tuple(_parse_range(name, d, box[d], scale, source) for d in _DIMS if d in box))
    return Segment(
        name=name,
        when=tuple(boxes),
        description=str(raw.get("description", "")),
        action=str(raw.get("action", "")),
    )


def _parse_range(name: str, dim: str, value: Any, scale: int, source: str) -> tuple[str, int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        lo = hi = value
    elif (
        isinstance(value, Sequence)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        lo, hi = int(value[0]), int(value[1])
    else:
        raise DataError(
            f"segment {name!r}: {dim} must be a score or a [low, high] range, not {value!r}",
            source=source,
        )
    if not 1 <= lo <= hi <= scale:
        raise DataError(
            f"segment {name!r}: {dim} range {lo}-{hi} is outside 1-{scale} or reversed",
            source=source,
        )
    return (dim, lo, hi)
