"""Bounded requests: body-size limits before any parsing (413), stalled bodies (408), batch limits
in the OpenAPI schema, and a real uvicorn server that stays small under a 200 MB anonymous POST."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from seglens.web.limits import MIB, BodyLimitMiddleware, Limits
from tests.web.conftest import ORIGIN, Client, Users

Message = dict[str, Any]


def _scope(path: str, headers: dict[str, str], method: str = "POST") -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "scheme": "http",
        "http_version": "1.1",
        "root_path": "",
    }


async def _parser(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An inner app that reads the whole body first, as FastAPI does before auth."""
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(size).encode()})


def _call(
    scope: dict[str, Any], chunks: list[bytes], limits: Limits, stall: bool = False
) -> tuple[int, bytes, int]:
    """Drive the middleware with a body in ``chunks``; returns status, body and chunks read."""
    sent: list[Message] = []
    reads = 0

    async def receive() -> Message:
        nonlocal reads
        if stall and reads == len(chunks):
            await asyncio.sleep(3600)  # the client promised more and went quiet
        reads += 1
        if reads > len(chunks):
            await asyncio.sleep(3600)
        last = reads == len(chunks) and not stall
        return {"type": "http.request", "body": chunks[reads - 1], "more_body": not last}

    async def send(message: Message) -> None:
        sent.append(message)

    mw = BodyLimitMiddleware(_parser, limits)
    asyncio.run(asyncio.wait_for(mw(scope, receive, send), 10))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, reads


def test_a_declared_oversized_body_is_refused_unread_json_for_the_api() -> None:
    scope = _scope("/api/labels/batch", {"content-length": str(200 * MIB)})
    status, body, reads = _call(scope, [b"x"], Limits())
    assert (status, reads) == (413, 0)
    assert json.loads(body) == {
        "detail": "the request body is larger than this route accepts: at most 65,536 bytes "
        "(209,715,200 bytes sent)"
    }


def test_a_browser_gets_a_branded_413_page() -> None:
    scope = _scope("/login", {"content-length": "70000"})
    status, body, reads = _call(scope, [b"x"], Limits())
    page = body.decode()
    assert (status, reads) == (413, 0)
    assert "<h1>Request too large</h1>" in page and 'class="brand">seglens<' in page
    assert "at most 65,536 bytes (70,000 bytes sent)" in page


def test_a_streamed_body_without_length_is_counted_and_cut_at_the_limit() -> None:
    chunks = [b"x" * 16384] * 100  # 1.6 MB, sent chunked
    status, body, reads = _call(_scope("/api/labels", {}), chunks, Limits())
    assert status == 413 and reads == 5  # 4 x 16 KiB = the 64 KiB limit; the 5th is over
    assert json.loads(body)["detail"].endswith("at most 65,536 bytes")


def test_a_body_that_stops_arriving_is_timed_out() -> None:
    scope = _scope("/api/labels", {"content-length": "1000"})
    t = time.perf_counter()
    status, body, _ = _call(scope, [b"{"], Limits(body_timeout_s=0.3), stall=True)
    assert status == 408 and json.loads(body) == {"detail": "no body data for 0.3 s"}
    assert time.perf_counter() - t < 5


def test_a_content_length_that_is_not_a_number_is_refused() -> None:
    status, body, _ = _call(_scope("/api/labels", {"content-length": "12abc"}), [], Limits())
    assert status == 400
    assert json.loads(body) == {"detail": "Content-Length '12abc' is not a number of bytes"}


def test_a_body_within_the_limit_reaches_the_app_whole() -> None:
    chunks = [b"x" * 1000] * 60
    status, body, reads = _call(
        _scope("/api/labels", {"content-length": "60000"}), chunks, Limits()
    )
    assert (status, body, reads) == (200, b"60000", 60)


def test_signed_in_requests_get_the_route_limits(app: FastAPI, users: Users) -> None:
    c = Client(app)
    auth = {"Authorization": f"Bearer {users.tokens['reviewer']}", "Content-Type": "text/plain"}
    big = b"x" * (2 * MIB)
    one = c.post("/api/labels", content=big, headers=auth)
    assert one.status_code == 413 and "at most 1,048,576 bytes" in one.json()["detail"]
    batch = c.post("/api/labels/batch", content=big, headers=auth)
    assert batch.status_code == 422  # within the batch limit: parsed, and refused as not JSON
    anonymous = c.post("/api/labels/batch", content=big, headers={"Content-Type": "text/plain"})
    assert anonymous.status_code == 413 and "at most 65,536 bytes" in anonymous.json()["detail"]
    # A made-up credential is checked before the larger limit applies.
    for fake in ({"Authorization": "Bearer slt_made_up"}, {"Cookie": "seglens_session=made-up"}):
        resp = c.post("/api/labels/batch", content=big, headers={**fake, "Origin": ORIGIN})
        assert resp.status_code == 413 and "at most 65,536 bytes" in resp.json()["detail"]
    c.close()


def test_batch_limits_are_stated_in_the_openapi_schema(app: FastAPI) -> None:
    schemas = app.openapi()["components"]["schemas"]
    assert schemas["BatchIn"]["properties"]["labels"]["maxItems"] == 5000
    assert schemas["ScoreIn"]["properties"]["customers"]["maxItems"] == 100_000


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def real_server(tmp_path: Path) -> Iterator[tuple[str, int, int]]:
    """``seglens serve``'s app in its own uvicorn process: (host, port, pid)."""
    port = _free_port()
    code = (
        "import uvicorn; from seglens.web import create_app; from seglens.web.limits import Limits;"
        " from seglens.web.server import header_timeout_protocol as h;"
        f" uvicorn.run(create_app({str(tmp_path / 's.db')!r}, limits=Limits(body_timeout_s=1)),"
        f" host='127.0.0.1', port={port}, log_level='warning', access_log=False, http=h(1.5))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("the server did not start")
            time.sleep(0.2)
        yield "127.0.0.1", port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _post_200_mb(host: str, port: int, *, chunked: bool) -> bytes:
    """POST 200 MB anonymously, as fast as the server takes it; returns the raw answer."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {200 * MIB}"
    head = (
        f"POST /api/labels/batch HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Origin: http://{host}:{port}\r\n"  # as a script would: no CSRF refusal to hide behind
        f"Content-Type: application/json\r\n{framing}\r\n\r\n"
    ).encode()
    piece = b"x" * MIB
    if chunked:
        piece = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    answer = b""
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(head)
        try:
            for _ in range(200):
                sock.sendall(piece)
                sock.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    answer += sock.recv(65536)
                sock.setblocking(True)
                if answer:
                    break
        except OSError:
            pass  # the server closed the connection after answering
        sock.settimeout(10)
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:
            pass
    return answer


def test_a_200_mb_anonymous_post_to_a_real_server_gets_413_and_rss_stays_flat(
    real_server: tuple[str, int, int],
) -> None:
    host, port, pid = real_server
    before = _rss_kib(pid)
    peak = [before]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _rss_kib(pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        declared = _post_200_mb(host, port, chunked=False)
        streamed = _post_200_mb(host, port, chunked=True)
    finally:
        stop.set()
        sampler.join()
    for answer in (declared, streamed):
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
        assert b"at most 65,536 bytes" in answer
    grew_mb = (peak[0] - before) / 1024
    assert grew_mb < 50, f"server RSS grew {grew_mb:.1f} MB"
    assert httpx.get(f"http://{host}:{port}/healthz").json()["status"] == "ok"


def test_a_real_server_times_out_a_promised_body_that_never_comes(
    real_server: tuple[str, int, int],
) -> None:
    host, port, _ = real_server
    head = (
        f"POST /login HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: 100\r\n"
        f"Origin: http://{host}:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n\r\n"
    ).encode()
    t = time.perf_counter()
    with socket.create_connection((host, port), timeout=20) as sock:
        sock.sendall(head)  # and nothing more
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert 0.9 < time.perf_counter() - t < 10


def _closed_after(sock: socket.socket) -> float:
    """Seconds until the server closes ``sock`` (it sends nothing before closing)."""
    t = time.perf_counter()
    assert sock.recv(65536) == b""
    return time.perf_counter() - t


def test_a_real_server_closes_connections_whose_headers_dawdle(
    real_server: tuple[str, int, int],
) -> None:
    host, port, _ = real_server
    with socket.create_connection((host, port), timeout=20) as silent:
        assert 1.0 < _closed_after(silent) < 10  # connected, sent nothing
    with socket.create_connection((host, port), timeout=20) as slow:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        assert 1.0 < _closed_after(slow) < 10
    # A keep-alive client that asks in time is answered, twice on one connection.
    with httpx.Client(base_url=f"http://{host}:{port}") as client:
        assert [client.get("/healthz").status_code for _ in range(2)] == [200, 200]
