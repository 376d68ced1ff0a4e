"""`seglens ingest`: load a file and print its cleaning report (registered on import)."""

from __future__ import annotations
