"""Fixtures for the segmenter tests (Spark: the suite-wide session in tests/conftest.py)."""
