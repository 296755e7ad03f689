"""A lean HTTP/1.1 load generator for the HTTP section: pre-built requests over keep-alive connections.

The benchmark's client shares the machine's cores with the service it measures. httpx spends
~3 ms of CPU a request (building the multipart body, its own h11 parsing, decoding gzip), more
than twice what the bare-pool driver spends submitting the same job (~1.2 ms), so on a 2-core
machine the client itself took a tenth of the CPU from the service's workers and the
"HTTP ÷ bare pool" ratio measured the client as much as the service. Load generators are
written to cost nothing for this reason (wrk, h2load); this one builds each file's request
bytes once (the same multipart form and `Accept-Encoding` httpx sends) and per request only
writes them and reads the response's head and its framed body, without decoding it.

Only what the service's responses use is supported: `Content-Length` or chunked bodies,
`Connection: close` (the next request opens a new connection), no TLS, no redirects.
"""
from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

# What httpx sends by default (`Accept-Encoding: gzip, deflate`, plus `br`/`zstd` when those
# packages are installed; neither is, and the service compresses with gzip only).
ACCEPT_ENCODING = b"gzip, deflate"
MAX_HEAD_BYTES = 64 * 1024


class LoadgenError(Exception):
    """A response that is not well-formed HTTP/1.1 (counted as an error by the benchmark)."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-cased names; a repeated field keeps its last value
    body: bytes  # as sent (still compressed when the service compressed it)


def _quote_filename(name: str) -> bytes:
    """The file name as browsers and httpx put it in a form part (HTML's multipart/form-data escapes)."""
    return name.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A").encode("utf-8")


def multipart_post(url: str, field: str, filename: str, data: bytes, content_type: str) -> bytes:
    """The whole request (head and body) of a `multipart/form-data` POST of one file to `url`."""
    parts = urlsplit(url)
    boundary = os.urandom(16).hex().encode("ascii")
    body = b"".join((
        b"--", boundary, b"\r\n",
        b'Content-Disposition: form-data; name="', field.encode("ascii"), b'"; filename="', _quote_filename(filename),
        b'"\r\n', b"Content-Type: ", content_type.encode("ascii"), b"\r\n\r\n",
        data, b"\r\n--", boundary, b"--\r\n",
    ))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    head = b"".join((
        b"POST ", target.encode("ascii"), b" HTTP/1.1\r\n",
        b"Host: ", parts.netloc.encode("ascii"), b"\r\n",
        b"Accept: */*\r\n",
        b"Accept-Encoding: ", ACCEPT_ENCODING, b"\r\n",
        b"Connection: keep-alive\r\n",
        b"Content-Type: multipart/form-data; boundary=", boundary, b"\r\n",
        b"Content-Length: ", str(len(body)).encode("ascii"), b"\r\n\r\n",
    ))
    return head + body


class Connection:
    """One keep-alive connection to `host:port`, reopened after `Connection: close` or a failure."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes, timeout: float) -> Response:
        """Send one pre-built request and read its response; on any failure the connection is dropped."""
        try:
            async with asyncio.timeout(timeout):
                if self._writer is None:
                    self._reader, self._writer = await asyncio.open_connection(self.host, self.port, limit=MAX_HEAD_BYTES)
                assert self._reader is not None
                self._writer.write(raw)
                response = await _read_response(self._reader)
        except BaseException:
            await self.close()
            raise
        if response.headers.get("connection", "").lower() == "close":
            await self.close()
        return response

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass


async def _read_response(reader: asyncio.StreamReader) -> Response:
    """Status, fields and the framed body of one response (1xx interim responses are skipped)."""
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError as exc:
            raise LoadgenError(f"response head longer than {MAX_HEAD_BYTES} bytes") from exc
        lines = head[:-4].decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise LoadgenError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
        status = int(code)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise LoadgenError(f"malformed header line: {line[:80]!r}")
            headers[name.strip().lower()] = value.strip()
        if 100 <= status < 200:
            continue
        if status in (204, 304):
            return Response(status, headers, b"")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return Response(status, headers, await _read_chunked(reader))
        length = headers.get("content-length")
        if length is None:  # delimited by the end of the connection
            return Response(status, headers, await reader.read())
        if not length.isdigit():
            raise LoadgenError(f"bad Content-Length {length!r}")
        return Response(status, headers, await reader.readexactly(int(length)))


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise LoadgenError(f"bad chunk size line {size_line[:40]!r}") from exc
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailer fields, if any
                pass
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise LoadgenError("chunk not followed by CRLF")
