"""Alert rules at their thresholds, and delivery to a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest

from seglens.tracking import (
    AlertEvent,
    AlertRules,
    KpiPoint,
    compare_measurements,
    deliver_alerts,
    evaluate_alerts,
    labels_needed,
)


def rules_fired(*args: Any, **kwargs: Any) -> list[str]:
    return [a.rule for a in evaluate_alerts(*args, **kwargs)]


def test_below_target_fires_only_below_and_only_for_the_accuracy_kpi() -> None:
    assert rules_fired(KpiPoint("q", "accuracy", 84.9, 1000, 849)) == ["below_target"]
    assert rules_fired(KpiPoint("q", "accuracy", 85.0, 1000, 850)) == []
    assert rules_fired(KpiPoint("q", "segment_hold", 40.0, 1000, 400), accuracy_metric=False) == []
    custom = AlertRules(target_pct=90.0)
    assert rules_fired(KpiPoint("q", "accuracy", 88.0, 10, 9), rules=custom) == ["below_target"]


def _se(p: float, n: int) -> float:
    return 100 * (p * (1 - p) / n) ** 0.5


def test_drop_needs_both_size_and_significance() -> None:
    """The stored comparison decides: a fall of >= drop_points with p < alpha."""
    big_sig = compare_measurements((95.0, _se(0.95, 1000)), (89.0, _se(0.89, 1000)))
    small_sig = compare_measurements((95.0, _se(0.95, 1000)), (92.0, _se(0.92, 1000)))
    big_noise = compare_measurements((95.0, _se(0.95, 1000)), (88.9, _se(0.889, 9)))
    assert big_sig.significant_drop and big_sig.p_value < 1e-5
    assert small_sig.p_value < 0.05 and not small_sig.significant_drop  # < 5 points
    assert big_noise.diff_pts < -5 and not big_noise.significant_drop  # n too small
    point = KpiPoint(
        "2011Q3",
        "accuracy",
        89.0,
        1000,
        890,
        change_pts=big_sig.diff_pts,
        change_p_value=big_sig.p_value,
        significant_drop=big_sig.significant_drop,
        compared_period="2011Q2",
    )
    events = evaluate_alerts(point)
    assert [e.rule for e in events] == ["significant_drop"]
    assert "fell 6.0 points from 2011Q2 to 2011Q3 (p < 0.001)" in events[0].message


def test_unstable_segment_threshold_is_strict_and_small_segments_are_skipped() -> None:
    kpi = KpiPoint("q", "accuracy", 90.0, 1000, 900)
    sizes = {"A": 100, "B": 100, "C": 100, "tiny": 29}
    events = evaluate_alerts(
        kpi, stability={"A": 0.4996, "B": 0.5, "C": 0.3, "tiny": 0.0}, segment_sizes=sizes
    )
    assert [e.segment for e in events] == ["A", "C"]  # B kept exactly 50 %: not below
    assert "kept only 49.96 % of its customers" in events[0].message


def test_unstable_segments_and_too_few_labels() -> None:
    kpi = KpiPoint("q", "accuracy", 90.0, 100, 90)
    events = evaluate_alerts(kpi, stability={"A": 0.49, "B": 0.5}, n_labels=100)
    assert [(e.rule, e.segment) for e in events] == [
        ("unstable_segment", "A"),
        ("too_few_labels", None),
    ]
    assert events[1].details == {"n_labels": 100, "needed": labels_needed(5.0, expected_pct=90)}
    assert rules_fired(kpi, n_labels=labels_needed(5.0, expected_pct=90)) == []


def test_labels_needed_known_answer() -> None:
    assert labels_needed(5.0) == 385  # the textbook 1.96^2 * 0.25 / 0.05^2
    assert labels_needed(3.0) == 1068


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, dict[str, Any]]]] = []
    status: ClassVar[int] = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.headers["Content-Type"], json.loads(body)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"received": [], "status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


EVENTS = [
    AlertEvent("below_target", "critical", "accuracy 80.0 % is below 85 %", "2011Q3", "accuracy"),
    AlertEvent(
        "unstable_segment", "warning", "segment 'Loyal' kept 40 %", "2011Q3", segment="Loyal"
    ),
]


def test_slack_webhook_delivered_to_a_real_server(receiver: tuple[str, Any]) -> None:
    url, handler = receiver
    result = deliver_alerts(EVENTS, webhook_url=url, webhook_format="slack")
    assert result is not None and result.ok
    ((ctype, body),) = handler.received
    assert ctype == "application/json"
    assert body["text"].splitlines() == [
        "seglens: 2 alerts for 2011Q3",
        "[CRITICAL] accuracy 80.0 % is below 85 %",
        "[WARNING] segment 'Loyal' kept 40 %",
    ]


def test_teams_webhook_is_a_message_card(receiver: tuple[str, Any]) -> None:
    url, handler = receiver
    assert deliver_alerts(EVENTS, webhook_url=url, webhook_format="teams").ok  # type: ignore[union-attr]
    body = handler.received[0][1]
    assert body["@type"] == "MessageCard"
    assert body["themeColor"] == "D32F2F"  # a critical alert among them
    assert "accuracy 80.0 % is below 85 %" in body["text"]


def test_receiver_errors_and_unreachable_hosts_are_reported_not_raised(
    receiver: tuple[str, Any],
) -> None:
    url, handler = receiver
    handler.status = 500
    failed = deliver_alerts(EVENTS, webhook_url=url)
    assert failed is not None and (failed.ok, failed.status) == (False, 500)
    gone = deliver_alerts(EVENTS, webhook_url="http://127.0.0.1:9/none")
    assert gone is not None and gone.status == 0 and gone.error


def test_nothing_is_sent_without_alerts(receiver: tuple[str, Any]) -> None:
    url, handler = receiver
    assert deliver_alerts([], webhook_url=url) is None
    assert handler.received == []
