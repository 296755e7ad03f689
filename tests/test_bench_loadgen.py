"""The benchmark's load generator sends what httpx sends and reads what the service answers.

Against the real service: a pre-built multipart POST of a real corpus report gets the same
extraction as httpx's request for it, on one keep-alive connection. Against a scripted socket
server: the response framings the service could use (chunked, `Connection: close`, an interim
100, a body delimited by the end of the connection) and a malformed head.
"""
from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from bench import loadgen
from bench.http import running_service

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"
REPO = Path(__file__).resolve().parents[1]
DOCX = CORPUS / "docx" / "000_32e6960542ba4ec5.docx"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _indicators(body: dict[str, object]) -> dict[str, object]:
    return {i["id"]: (i["value"], i["confidence"]) for i in body["indicators"]}  # type: ignore[index, union-attr]


def test_a_prebuilt_request_gets_the_extraction_httpx_gets_on_one_kept_alive_connection() -> None:
    data = DOCX.read_bytes()
    with running_service("{python} -m app", REPO, ready_timeout=60) as base:
        with httpx.Client(base_url=base, timeout=60, trust_env=False) as client:
            expected = client.post("/v1/extract", files={"file": (DOCX.name, data, DOCX_TYPE)}).json()
        raw = loadgen.multipart_post(f"{base}/v1/extract", "file", DOCX.name, data, DOCX_TYPE)

        async def twice() -> list[loadgen.Response]:
            host, port = base.removeprefix("http://").split(":")
            conn = loadgen.Connection(host, int(port))
            try:
                first = await conn.request(raw, 60)
                writer = conn._writer
                second = await conn.request(raw, 60)
                assert conn._writer is writer is not None  # the connection was kept alive and reused
                return [first, second]
            finally:
                await conn.close()

        responses = asyncio.run(twice())
    for r in responses:
        assert r.status == 200 and r.headers["content-encoding"] == "gzip"  # asked for as httpx asks
        assert "extract;dur=" in r.headers["server-timing"]
        got = json.loads(gzip.decompress(r.body))
        assert got["document"]["agency"] == expected["document"]["agency"] and got["document"]["agency"]["value"]
        assert _indicators(got) == _indicators(expected) and len(got["indicators"]) > 50


def test_the_file_name_is_escaped_as_a_form_part_escapes_it() -> None:
    raw = loadgen.multipart_post("http://h:1/v1/extract?x=1", "file", '年报"\r\n.txt', b"abc", "text/plain")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /v1/extract?x=1 HTTP/1.1\r\nHost: h:1\r\n")
    assert f"Content-Length: {len(body)}".encode() in head
    assert 'filename="年报%22%0D%0A.txt"'.encode() in body and b"\r\n\r\nabc\r\n--" in body


@asynccontextmanager
async def scripted(answer: Callable[[int], bytes]) -> AsyncIterator[tuple[str, int, list[int]]]:
    """A socket server answering its n-th request (counted over all connections) with `answer(n)` and then
    closing when the answer says `Connection: close`; yields host, port and the connection count."""
    connections: list[int] = []
    served = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        connections.append(1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                await reader.readexactly(length)
                out = answer(served)
                served += 1
                writer.write(out)
                await writer.drain()
                if b"connection: close" in out.lower():
                    break
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield "127.0.0.1", server.sockets[0].getsockname()[1], connections
    finally:
        server.close()
        await server.wait_closed()


def test_chunked_close_interim_and_eof_delimited_responses_are_read_and_the_connection_reopened() -> None:
    answers = [
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
        b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n",
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nuntil the end",
    ]
    raw = loadgen.multipart_post("http://x/", "file", "a.txt", b"body", "text/plain")

    async def go() -> tuple[list[loadgen.Response], int]:
        async with scripted(lambda n: answers[n]) as (host, port, connections):
            conn = loadgen.Connection(host, port)
            got = [await conn.request(raw, 10) for _ in answers]
            await conn.close()
            return got, len(connections)

    got, opened = asyncio.run(go())
    assert [(r.status, r.body) for r in got] == [(200, b"abcde"), (503, b"busy"), (200, b"ok"), (200, b"until the end")]
    assert got[0].headers["x-a"] == "1"
    assert opened == 2  # a new connection after the 503's `Connection: close`, the next answer on it


@pytest.mark.parametrize("bad", [b"SSH-2.0-OpenSSH\r\n\r\n", b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
                                 b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"])
def test_a_malformed_response_is_an_error_and_drops_the_connection(bad: bytes) -> None:
    raw = loadgen.multipart_post("http://x/", "file", "a.txt", b"body", "text/plain")

    async def go() -> loadgen.Connection:
        async with scripted(lambda n: bad) as (host, port, _):
            conn = loadgen.Connection(host, port)
            with pytest.raises(loadgen.LoadgenError):
                await conn.request(raw, 10)
            return conn

    assert asyncio.run(go())._writer is None
