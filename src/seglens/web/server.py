"""How ``seglens serve`` runs uvicorn: connection limits and a request-header read timeout.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but sets no deadline for a
request's headers: a client that opens a connection and sends a header line now and then holds
it forever (slowloris). :func:`header_timeout_protocol` makes uvicorn's h11 protocol close a
connection whose request headers are not complete within the deadline, whether on a fresh
connection or between keep-alive requests. Body read timeouts and size limits are the app's
(:mod:`seglens.web.limits`).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = [
    "HEADER_TIMEOUT_S",
    "KEEP_ALIVE_S",
    "MAX_CONNECTIONS",
    "MAX_HEADER_BYTES",
    "header_timeout_protocol",
]

HEADER_TIMEOUT_S = 10.0
"""Longest time from a connection (or the end of the previous answer) to complete headers."""
KEEP_ALIVE_S = 5
"""An idle keep-alive connection is closed after this many seconds."""
MAX_HEADER_BYTES = 16 * 1024
"""Request line and headers: at most this many bytes (h11 refuses more)."""
MAX_CONNECTIONS = 200
"""Beyond this many concurrent connections uvicorn answers 503."""


class _HeaderTimeoutH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's headers."""

    header_timeout_s: float = HEADER_TIMEOUT_S
    _header_timer: asyncio.TimerHandle | None = None

    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if self._between_requests() and not self.transport.is_closing():
            self.logger.info(
                "closing a connection: request headers took over %ss", self.header_timeout_s
            )
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._between_requests():
            self._arm()
        super().data_received(data)
        if not self._between_requests():  # a request's headers are complete
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def header_timeout_protocol(seconds: float = HEADER_TIMEOUT_S) -> type[H11Protocol]:
    """The h11 protocol class to pass as uvicorn's ``http=``, with a ``seconds`` header deadline.

    Examples
    --------
    >>> header_timeout_protocol(3.0).header_timeout_s
    3.0
    """
    return type("HeaderTimeoutH11", (_HeaderTimeoutH11,), {"header_timeout_s": float(seconds)})
