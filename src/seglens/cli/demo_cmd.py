"""`seglens demo`: the main job on the embedded data (registered on import)."""

from __future__ import annotations
