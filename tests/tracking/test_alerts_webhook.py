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


def test_drop_needs_both_size_and_significance() -> None:
    before = KpiPoint("2011Q2", "accuracy", 95.0, 1000, 950)
    big_sig = KpiPoint("2011Q3", "accuracy", 89.0, 1000, 890)
    small_sig = KpiPoint("2011Q3", "accuracy", 92.0, 1000, 920)  # significant but < 5 points
    big_noise = KpiPoint("2011Q3", "accuracy", 88.9, 9, 8)  # 6 points, n too small
    assert rules_fired(big_sig, before) == ["significant_drop"]
    assert rules_fired(small_sig, before) == []
    assert rules_fired(big_noise, before) == []


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
