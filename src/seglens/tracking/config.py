"""Tracking settings from a TOML file: alert thresholds, period kind, label policy, webhook.

Looked up at ``--config FILE``, else ``$XDG_CONFIG_HOME/seglens/tracking.toml`` when it exists.
Command-line options win over ``$SEGLENS_WEBHOOK_URL``, which wins over the file::

    [tracking]
    period = "quarter"          # or "month"
    policy = "latest"           # or "majority"
    target = 85.0               # percent
    drop_points = 5.0
    alpha = 0.05
    min_stability = 0.5
    margin = 5.0                # wanted CI half-width, points
    confidence = 0.95
    min_segment_customers = 30  # smaller segments raise no unstable_segment alert
    carry = "unchanged"         # or "none": labels of earlier runs never count
    carry_max_age_days = 183    # oldest a carried label may be (about two quarters)
    webhook_url = "https://hooks.slack.com/services/..."
    webhook_format = "slack"    # or "teams"
    model = "models/segmenter.zip"  # optional: a saved segmenter, refitted each period
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from seglens.errors import UsageError
from seglens.tracking.alerts import AlertRules
from seglens.tracking.labels import CarryPolicy

__all__ = ["TrackingConfig", "default_config_path", "load_tracking_config"]

_RULE_KEYS = {
    "target": "target_pct",
    "drop_points": "drop_points",
    "alpha": "alpha",
    "min_stability": "min_stability",
    "margin": "margin_pts",
    "confidence": "confidence",
    "min_segment_customers": "min_segment_customers",
}
_CARRY_KEYS = {"carry": "mode", "carry_max_age_days": "max_age_days"}
_OTHER_KEYS = {"period", "policy", "webhook_url", "webhook_format", "model"}


@dataclass(frozen=True)
class TrackingConfig:
    """Everything ``seglens track`` can be configured with."""

    rules: AlertRules = field(default_factory=AlertRules)
    carry: CarryPolicy = field(default_factory=CarryPolicy)
    period: str = "quarter"
    policy: str = "latest"
    webhook_url: str | None = None
    webhook_format: str = "slack"
    model: str | None = None
    """A segmenter saved with :func:`seglens.segmenters.persistence.save_model`."""

    def override(self, **values: Any) -> TrackingConfig:
        """A copy with the given (non-``None``) settings replaced; rule names as in the file.

        Examples
        --------
        >>> TrackingConfig().override(target=90.0, period=None).rules.target_pct
        90.0
        """
        given = {k: v for k, v in values.items() if v is not None}
        rules: dict[str, Any] = {
            _RULE_KEYS[k]: int(v) if k == "min_segment_customers" else float(v)
            for k, v in given.items()
            if k in _RULE_KEYS
        }
        carry: dict[str, Any] = {
            _CARRY_KEYS[k]: int(v) if k == "carry_max_age_days" else str(v)
            for k, v in given.items()
            if k in _CARRY_KEYS
        }
        other = {k: v for k, v in given.items() if k in _OTHER_KEYS}
        unknown = set(given) - set(_RULE_KEYS) - set(_CARRY_KEYS) - _OTHER_KEYS
        if unknown:
            raise UsageError(f"unknown tracking setting(s) {sorted(unknown)}")
        out = replace(
            self,
            rules=replace(self.rules, **rules),
            carry=replace(self.carry, **carry),
            **other,
        )
        out._check()
        return out

    def _check(self) -> None:
        for name, value, allowed in (
            ("period", self.period, ("quarter", "month")),
            ("policy", self.policy, ("latest", "majority")),
            ("webhook_format", self.webhook_format, ("slack", "teams")),
        ):
            if value not in allowed:
                raise UsageError(f"{name} must be one of {allowed}, got {value!r}")


def default_config_path() -> Path:
    """``$XDG_CONFIG_HOME/seglens/tracking.toml``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "seglens" / "tracking.toml"


def load_tracking_config(path: Path | None = None) -> TrackingConfig:
    """Read the settings (defaults when no file), then apply ``$SEGLENS_WEBHOOK_URL``."""
    file = path or default_config_path()
    config = TrackingConfig()
    if path is not None or file.exists():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UsageError("no such config file", source=str(file)) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise UsageError(f"not valid TOML ({err})", source=str(file)) from None
        section = data.get("tracking", {})
        if not isinstance(section, dict):
            raise UsageError("[tracking] must be a table", source=str(file))
        config = config.override(**section)
    env = os.environ.get("SEGLENS_WEBHOOK_URL")
    return config.override(webhook_url=env) if env else config
