"""`seglens` store commands (registered on import)."""

from __future__ import annotations
