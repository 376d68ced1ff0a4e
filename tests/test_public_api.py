"""The public surface is deliberate: this test pins ``seglens.__all__``."""

from __future__ import annotations

import seglens


def test_public_api_is_pinned() -> None:
    expected = {"DataError", "SeglensError", "UsageError", "__version__"}
    assert set(seglens.__all__) == expected
    for name in seglens.__all__:
        assert hasattr(seglens, name), name
