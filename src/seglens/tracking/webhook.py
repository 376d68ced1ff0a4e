"""Deliver alerts to a chat webhook (Slack- and Microsoft Teams-compatible JSON).

Slack incoming webhooks and Teams incoming webhooks (Office 365 connector "MessageCard") both
accept a JSON POST with a ``text`` field; the Teams form adds the MessageCard envelope and a
theme colour. Only the standard library is used.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from seglens.errors import UsageError

if TYPE_CHECKING:
    from seglens.tracking.alerts import AlertEvent

__all__ = ["WebhookFormat", "WebhookResult", "alert_payload", "post_webhook"]

log = logging.getLogger(__name__)

WebhookFormat = Literal["slack", "teams"]
_COLOURS = {"critical": "D32F2F", "warning": "F9A825", "info": "1976D2"}


@dataclass(frozen=True)
class WebhookResult:
    """Outcome of one POST: HTTP status (0 when no response) and an error message, if any."""

    status: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the receiver accepted the message (2xx)."""
        return 200 <= self.status < 300


def _lines(events: Sequence[AlertEvent]) -> list[str]:
    return [f"[{e.severity.upper()}] {e.message}" for e in events]


def alert_payload(events: Sequence[AlertEvent], fmt: WebhookFormat = "slack") -> dict[str, Any]:
    """The JSON body announcing ``events``.

    Examples
    --------
    >>> from seglens.tracking.alerts import AlertEvent
    >>> e = AlertEvent("below_target", "critical", "accuracy 80.0 % is below 85 %", "2011Q3")
    >>> alert_payload([e])["text"]
    'seglens: 1 alert for 2011Q3\\n[CRITICAL] accuracy 80.0 % is below 85 %'
    >>> alert_payload([e], "teams")["@type"]
    'MessageCard'
    """
    periods = sorted({e.period for e in events if e.period})
    head = f"seglens: {len(events)} alert{'s' if len(events) != 1 else ''}"
    head += f" for {', '.join(periods)}" if periods else ""
    text = "\n".join([head, *_lines(events)])
    if fmt == "slack":
        return {"text": text}
    if fmt == "teams":
        worst = "critical" if any(e.severity == "critical" for e in events) else "warning"
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": head,
            "themeColor": _COLOURS[worst],
            "title": head,
            "text": "\n\n".join(_lines(events)),
        }
    raise UsageError(f"unknown webhook format {fmt!r}", hint="use slack or teams")


def post_webhook(url: str, payload: dict[str, Any], *, timeout: float = 10.0) -> WebhookResult:
    """POST ``payload`` as JSON to ``url``; never raises for network or HTTP failures."""
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"webhook URL must start with http:// or https://, got {url!r}")
    body = json.dumps(payload).encode()
    req = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status = int(resp.status)
    except urllib.error.HTTPError as err:
        log.warning("webhook %s answered %s", url, err.code)
        return WebhookResult(err.code, f"HTTP {err.code} {err.reason}")
    except (urllib.error.URLError, OSError) as err:
        log.warning("webhook %s unreachable: %s", url, err)
        return WebhookResult(0, str(err))
    return WebhookResult(status)
