"""Match a segmentation's segments (names or cluster ids) to reference labels.

Three rules, chosen with ``match=``:

``"names"``
    Segments and labels that share a name are the same segment; a segment whose name is not a
    label matches nothing (all its customers count as wrong).
``"hungarian"``
    Optimal one-to-one assignment maximising correctly segmented customers
    (:func:`scipy.optimize.linear_sum_assignment`); surplus segments match nothing.
``"majority"``
    Many-to-one: each segment takes the label most of its customers carry. Never lower than
    Hungarian, and optimistic when there are many small segments.
``"auto"`` (default)
    ``"names"`` when every segment name is also a label name and the names are not bare integers,
    else ``"hungarian"``. Integer segments (``0, 1, 2``) are taken to be cluster ids even when
    the labels are integers too; pass ``match="names"`` when integer codes mean the same thing
    on both sides.

``"hungarian"`` and ``"majority"`` *learn* the mapping from the labels they are then scored
against (:data:`FITTED_METHODS`); the accuracy report cross-fits them
(:mod:`seglens.accuracy.crossfit`). ``"names"`` is declared by the user and needs no fitting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from seglens.accuracy._inputs import Codes
from seglens.errors import UsageError

__all__ = [
    "FITTED_METHODS",
    "MATCH_METHODS",
    "MatchMethod",
    "Matching",
    "learn_mapping",
    "match_segments",
]

MatchMethod = Literal["auto", "names", "hungarian", "majority"]
MATCH_METHODS: tuple[str, ...] = ("auto", "names", "hungarian", "majority")
FITTED_METHODS: tuple[str, ...] = ("hungarian", "majority")
"""Rules that learn the mapping from the labels (so the labels score a mapping they chose)."""


@dataclass(frozen=True)
class Matching:
    """The segment-to-label mapping used to count correct customers.

    Attributes
    ----------
    method
        The rule actually applied (``"auto"`` resolved to ``"names"`` or ``"hungarian"``).
    segment_to_label
        For each segment code, the label code it stands for, or ``-1`` when it matches none.
    """

    method: str
    segment_to_label: npt.NDArray[np.int64]

    @property
    def fitted(self) -> bool:
        """Whether the mapping was learnt from the labels (``hungarian``, ``majority``)."""
        return self.method in FITTED_METHODS

    def as_dict(self, segments: tuple[Any, ...], labels: tuple[Any, ...]) -> dict[str, str | None]:
        """``{segment: label or None}`` with values as strings, for display and JSON."""
        return {
            str(s): (None if j < 0 else str(labels[j]))
            for s, j in zip(segments, self.segment_to_label.tolist(), strict=True)
        }


def _check_method(match: str) -> None:
    if match not in MATCH_METHODS:
        raise UsageError(
            f"unknown match method {match!r}",
            hint=f"use one of: {', '.join(MATCH_METHODS)}",
        )


def _looks_like_id(value: object) -> bool:
    """A bare integer (``3``, ``"3"``): a cluster id rather than a segment name."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.strip().lstrip("-").isdigit()


def _by_names(labels: Codes, segments: Codes) -> npt.NDArray[np.int64]:
    index = {str(v): i for i, v in enumerate(labels.values)}
    return np.array([index.get(str(s), -1) for s in segments.values], dtype=np.int64)


def match_segments(
    confusion: npt.NDArray[np.int64], labels: Codes, segments: Codes, match: str = "auto"
) -> Matching:
    """Choose the segment -> label mapping from a ``labels x segments`` count table.

    Examples
    --------
    >>> import numpy as np
    >>> from seglens.accuracy._inputs import encode
    >>> t, p = encode(["a", "a", "b"]), encode([1, 1, 0])
    >>> c = np.array([[0, 2], [1, 0]])
    >>> match_segments(c, t, p, "hungarian").as_dict(p.values, t.values)
    {'0': 'b', '1': 'a'}
    """
    _check_method(match)
    if match == "auto":
        names = _by_names(labels, segments)
        if np.all(names >= 0) and not all(_looks_like_id(s) for s in segments.values):
            return Matching("names", names)
        match = "hungarian"
    if match == "names":
        return Matching("names", _by_names(labels, segments))
    return Matching(match, learn_mapping(confusion, match))


def learn_mapping(confusion: npt.NDArray[np.int64], method: str) -> npt.NDArray[np.int64]:
    """Segment -> label codes learnt from a ``labels x segments`` table (``-1``: no label).

    ``"majority"``: each segment's most frequent label; ``"hungarian"``: the one-to-one
    assignment with the most customers on the diagonal. A segment with no customer in the table
    gets no label (nothing was learnt about it).

    Examples
    --------
    >>> import numpy as np
    >>> c = np.array([[5, 4, 0], [1, 3, 0]])
    >>> learn_mapping(c, "majority").tolist(), learn_mapping(c, "hungarian").tolist()
    ([0, 0, -1], [0, 1, -1])
    """
    out = np.full(confusion.shape[1], -1, dtype=np.int64)
    seen = np.flatnonzero(confusion.sum(axis=0) > 0)
    if seen.size == 0:
        return out
    if method == "majority":
        out[seen] = np.argmax(confusion[:, seen], axis=0)
    elif method == "hungarian":
        rows, cols = linear_sum_assignment(confusion[:, seen].T, maximize=True)
        out[seen[rows]] = cols
    else:
        raise UsageError(f"{method!r} does not learn a mapping", hint="use hungarian or majority")
    return out


def correct_count(confusion: npt.NDArray[np.int64], matching: Matching) -> int:
    """Customers whose segment maps to their own label."""
    seg = np.flatnonzero(matching.segment_to_label >= 0)
    return int(confusion[matching.segment_to_label[seg], seg].sum())
