"""The web pages' formatting filters: known answers for the values the issue found printed raw."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from jinja2 import Environment

from seglens.web import format as fmt


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (584.9100000000001, None, "584.91"),
        (3.0, None, "3"),
        (1234567, None, "1,234,567"),
        (0.1 + 0.2, None, "0.3"),
        (-0.001, None, "0"),
        (1000.10, None, "1,000.1"),
        (2.5, 2, "2.50"),
        (None, None, "–"),
        (float("nan"), None, "–"),
        (float("inf"), 1, "–"),
    ],
)
def test_num(value: float | None, places: int | None, expected: str) -> None:
    assert fmt.num(value, places) == expected


def test_money_pct_ci_points_p() -> None:
    assert fmt.money(584.9100000000001) == "584.91"
    assert fmt.money(1234.5) == "1,234.50"
    assert fmt.money(None) == "–"
    assert fmt.pct(84.567) == "84.6 %"
    assert fmt.pct(0.256, 0, ratio=True) == "26 %"
    assert fmt.pct(None) == "–"
    assert fmt.ci(80.06, 90.24) == "80.1–90.2"
    assert fmt.ci(None, 90.0) == "–"
    assert fmt.points(-3.14) == "−3.1 points"
    assert fmt.points(2.0) == "+2.0 points"
    assert fmt.p_text(0.0) == "p < 0.001"
    assert fmt.p_text(0.0004) == "p < 0.001"
    assert fmt.p_text(0.001) == "p = 0.001"
    assert fmt.p_text(0.0234) == "p = 0.023"
    assert fmt.p_text(None) == ""


def test_when_is_utc_to_the_minute_with_the_zone() -> None:
    naive = datetime(2026, 12, 5, 16, 40, 59, 987654)  # the store keeps naive UTC
    assert fmt.when(naive) == "2026-12-05 16:40 UTC"
    berlin = datetime(2026, 12, 5, 17, 40, tzinfo=timezone(timedelta(hours=1)))
    assert fmt.when(berlin) == "2026-12-05 16:40 UTC"
    assert fmt.when("2026-12-05T16:40:12.5+00:00") == "2026-12-05 16:40 UTC"
    assert fmt.when(date(2011, 9, 30)) == "2011-09-30"
    assert fmt.when(None) == "–"
    assert fmt.when_date(datetime(2011, 9, 30, 0, 0)) == "2011-09-30"


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=59), "just now"),
        (timedelta(minutes=5, seconds=30), "5 min ago"),
        (timedelta(hours=3, minutes=59), "3 h ago"),
        (timedelta(days=1), "1 day ago"),
        (timedelta(days=400), "400 days ago"),
        (timedelta(days=800), "2 years ago"),
        (-timedelta(hours=1), "just now"),  # a clock a little ahead is not "in the future"
    ],
)
def test_age(delta: timedelta, expected: str) -> None:
    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    assert fmt.age((now - delta).replace(tzinfo=None), now) == expected


def test_install_registers_the_filters_for_templates() -> None:
    env = Environment(autoescape=True)
    fmt.install(env)
    out = env.from_string(
        "{{ x|num }} {{ y|pct }} {{ t|when }} {{ p|p_text }} {{ ci(1, 2) }} {{ none|money }}"
    ).render(x=584.9100000000001, y=12.34, t=datetime(2026, 1, 2, 3, 4, 5, 6), p=0.0, none=None)
    # "<" is escaped, as in a page
    assert out == "584.91 12.3 % 2026-01-02 03:04 UTC p &lt; 0.001 1.0–2.0 –"
