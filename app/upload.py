"""Getting the report out of a request onto disk, never holding more than one chunk in memory.

The body is read from the ASGI stream chunk by chunk, counted, and written to a
file in the service's spool directory; the worker reads that file, so the
server's memory does not grow with the size or the number of uploads. Two
bounds apply while the bytes arrive:

- the size limit (`FileTooLargeError`, 413): a declared `Content-Length` over
  it is refused before anything is read, a streamed body the moment it passes;
- the spool quota (`SpoolFullError`, 503): every in-flight upload reserves its
  declared length up front and its real size as it grows, so the bodies on
  disk together never pass `spool_quota_mb`.

Multipart bodies are parsed from the same counted stream by python-multipart's
streaming parser: only the `file` part is written, straight to the spool file.
A client that goes away mid-body raises `ClientGone` (not an error response).
The admission of the request itself (how many bodies at once) is
`app.middleware.AdmissionMiddleware`'s job; `Spool` keeps both counts.
"""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

from python_multipart.multipart import (
    MultipartParseError,
    MultipartParser,
    parse_options_header,
)
from starlette.requests import Request
from starlette.types import Message as AsgiMessage
from starlette.types import Receive

from extractors import EmptyFileError, FileTooLargeError, InputError

from .errors import DeadlineExceededError, SpoolFullError

# Room for multipart boundaries and part headers on top of the file limit.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
MAX_FILENAME_CHARS = 255
MAX_MULTIPART_PARTS = 32
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PATH_SEP = re.compile(r"[\\/]")  # a client's path, Windows or POSIX


class ClientGone(Exception):
    """The client disconnected before its request was complete; nobody is left to answer."""


@dataclass(frozen=True, slots=True)
class Upload:
    """The report as received: a spooled file plus the client's name and declared type (hints only)."""

    path: Path
    size: int
    filename: str | None
    content_type: str | None


class Spool:
    """The directory in-flight bodies are written to, its byte quota, and the count of admitted bodies."""

    PREFIX = "govreport-spool-"

    def __init__(self, quota_bytes: int, max_uploads: int, parent: str | None = None) -> None:
        self.quota_bytes = quota_bytes
        self.max_uploads = max_uploads
        root = Path(parent or tempfile.gettempdir())
        self.removed_stale = self._remove_stale(root)
        self.directory = Path(tempfile.mkdtemp(prefix=f"{self.PREFIX}{os.getpid()}-", dir=root))
        _OURS.add(self.directory)
        self.used_bytes = 0
        self.peak_bytes = 0
        self.active = 0

    @classmethod
    def _remove_stale(cls, root: Path) -> int:
        """Delete spool directories of servers that died without cleaning up (SIGKILL, OOM kill).

        A restarted container keeps its emptyDir, so their bodies would eat the disk. A directory
        is stale when its pid is gone, or is ours but not made by this process (a previous life
        with the same pid, e.g. pid 1 in a container).
        """
        removed = 0
        for path in root.glob(f"{cls.PREFIX}*-*"):
            pid_text = path.name[len(cls.PREFIX):].split("-", 1)[0]
            if not pid_text.isascii() or not pid_text.isdigit():
                continue
            pid = int(pid_text)
            if (pid == os.getpid() and path not in _OURS) or (pid != os.getpid() and not _pid_alive(pid)):
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
        return removed

    def admit(self) -> bool:
        """Take an upload slot if one is free (event-loop thread only, so no lock)."""
        if self.active >= self.max_uploads:
            return False
        self.active += 1
        return True

    def leave(self) -> None:
        self.active -= 1

    def reserve(self, n: int) -> None:
        """Count `n` more bytes against the quota or refuse them."""
        if self.used_bytes + n > self.quota_bytes:
            raise SpoolFullError(
                f"The uploads in flight already use {self.used_bytes} of the {self.quota_bytes}-byte spool; "
                "retry shortly.",
                retry_after=5,
            )
        self.used_bytes += n
        self.peak_bytes = max(self.peak_bytes, self.used_bytes)

    def release(self, n: int) -> None:
        self.used_bytes -= n

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
        _OURS.discard(self.directory)


_OURS: set[Path] = set()  # spool directories made by this process (several apps may share one, as in tests)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


class _SpoolFile:
    """One body on disk: written chunk by chunk against the size limit and the spool quota."""

    def __init__(self, spool: Spool, max_bytes: int, reserved: int) -> None:
        self.spool = spool
        self.max_bytes = max_bytes
        self.size = 0
        self.reserved = 0
        spool.reserve(reserved)
        self.reserved = reserved
        fd, name = tempfile.mkstemp(dir=spool.directory, prefix="upload-")
        self.fd: int | None = fd
        self.path = Path(name)

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self.size + len(data) > self.max_bytes:
            raise too_large(self.max_bytes)
        grow = self.size + len(data) - self.reserved
        if grow > 0:
            self.spool.reserve(grow)
            self.reserved += grow
        assert self.fd is not None
        os.write(self.fd, data)
        self.size += len(data)

    def finish(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def discard(self) -> None:
        self.finish()
        self.path.unlink(missing_ok=True)
        self.spool.release(self.reserved)
        self.reserved = 0


def too_large(max_bytes: int) -> FileTooLargeError:
    return FileTooLargeError(f"The upload is larger than the {max_bytes}-byte limit.", max_bytes=max_bytes)


def clean_filename(name: str | None) -> str | None:
    """The last path segment without control characters, capped; None when nothing is left."""
    if not name:
        return None
    base = _CONTROL.sub("", _PATH_SEP.split(name)[-1]).strip()
    return base[:MAX_FILENAME_CHARS] or None


def filename_from_disposition(header: str | None) -> str | None:
    """`filename`/`filename*` of a Content-Disposition header (RFC 6266/2231)."""
    if not header:
        return None
    msg = Message()
    msg["content-disposition"] = header
    try:
        return msg.get_filename()
    except (ValueError, LookupError):
        return None


def limited_receive(receive: Receive, limit: int, max_bytes: int) -> Receive:
    """Wrap `receive` so the body stops being read once more than `limit` bytes arrived."""
    seen = 0

    async def wrapped() -> AsgiMessage:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large(max_bytes)
        return message

    return wrapped


async def body_chunks(receive: Receive) -> AsyncIterator[bytes]:
    """The request body chunk by chunk; `ClientGone` when the client disconnects first."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        body = message.get("body", b"")
        if body:
            yield body
        if not message.get("more_body", False):
            return


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@asynccontextmanager
async def spooled_upload(
    request: Request, spool: Spool, max_bytes: int, filename: str | None = None, *, deadline: float | None = None,
    deadline_seconds: float | None = None,
) -> AsyncIterator[Upload]:
    """The uploaded report (multipart `file` field or raw body) on disk; the file is deleted on exit.

    `deadline` (event-loop time) bounds the whole upload: a body trickling in slower than that is a 504.
    """
    content_type = request.headers.get("content-type")
    is_multipart = (content_type or "").lower().startswith("multipart/form-data")
    limit = max_bytes + (MULTIPART_OVERHEAD_BYTES if is_multipart else 0)
    declared = _declared_length(request)
    if declared is not None and declared > limit:
        raise too_large(max_bytes)
    out = _SpoolFile(spool, max_bytes, min(declared or 0, max_bytes))
    try:
        receive = limited_receive(request.receive, limit, max_bytes)
        try:
            async with asyncio.timeout_at(deadline):
                if is_multipart:
                    name, part_type = await _read_multipart(receive, content_type or "", out)
                else:
                    name, part_type = await _read_raw(receive, request, content_type, out)
        except TimeoutError:
            raise DeadlineExceededError(
                f"The upload did not arrive within the {deadline_seconds or 0:g} s deadline.",
                deadline_seconds=deadline_seconds,
            ) from None
        out.finish()
        yield Upload(out.path, out.size, clean_filename(filename) or clean_filename(name), part_type)
    finally:
        out.discard()


async def _read_raw(
    receive: Receive, request: Request, content_type: str | None, out: _SpoolFile
) -> tuple[str | None, str | None]:
    async for chunk in body_chunks(receive):
        out.write(chunk)
    if not out.size:
        raise EmptyFileError("The request body is empty; send the report as the body or as a multipart `file` field.")
    return filename_from_disposition(request.headers.get("content-disposition")), content_type


async def _read_multipart(receive: Receive, content_type: str, out: _SpoolFile) -> tuple[str | None, str | None]:
    """Stream a multipart body; the first `file` part with a file name goes to `out`. (name, type) of it."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise InputError("Malformed multipart body: the Content-Type has no boundary.")
    state: dict[str, object] = {"parts": 0, "found": False, "active": False}
    headers: dict[bytes, bytes] = {}
    field: list[bytes] = []
    value: list[bytes] = []
    meta: dict[str, str | None] = {"filename": None, "type": None}

    def on_part_begin() -> None:
        state["parts"] = int(state["parts"]) + 1  # type: ignore[call-overload]
        if int(state["parts"]) > MAX_MULTIPART_PARTS:  # type: ignore[call-overload]
            raise InputError(f"Malformed multipart body: more than {MAX_MULTIPART_PARTS} parts.")
        headers.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        field.append(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        value.append(data[start:end])

    def on_header_end() -> None:
        headers[b"".join(field).lower()] = b"".join(value)
        field.clear()
        value.clear()

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(headers.get(b"content-disposition"))
        is_file = disposition.get(b"name") == b"file" and b"filename" in disposition and not state["found"]
        state["active"] = is_file
        if is_file:
            state["found"] = True
            meta["filename"] = disposition[b"filename"].decode("utf-8", "replace")
            raw_type = headers.get(b"content-type")
            meta["type"] = raw_type.decode("latin-1") if raw_type else None

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["active"]:
            out.write(data[start:end])

    def on_part_end() -> None:
        state["active"] = False

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for chunk in body_chunks(receive):
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as e:
        raise InputError(f"Malformed multipart body: {e}") from None
    if not state["found"]:
        raise InputError("The multipart body has no `file` part with a file in it.")
    if not out.size:
        raise EmptyFileError("The uploaded `file` part is empty.")
    return meta["filename"], meta["type"]


@asynccontextmanager
async def spooled_uploads(
    request: Request, spool: Spool, max_bytes: int, *, field: str = "files", max_files: int,
    deadline: float | None = None, deadline_seconds: float | None = None,
) -> AsyncIterator[list[Upload]]:
    """Every multipart `field` part with a file in it, each on disk under the same size limit and spool quota.

    For requests that carry several reports (POST /v1/compare): at most `max_files`
    files, the body at most `max_files` × `max_bytes` plus the multipart overhead; the
    files are deleted on exit. A part that breaks a rule (one file too many, a file over
    the limit, an empty file) stops the writing at once, but the rest of the body, within
    the same bound, is read and dropped before the problem is raised: a server that
    answers and closes with unread bytes resets the connection, and the client would get
    no problem at all.
    """
    content_type = request.headers.get("content-type") or ""
    if not content_type.lower().startswith("multipart/form-data"):
        raise InputError(f"Send the reports as multipart/form-data, one `{field}` part per report.")
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise InputError("Malformed multipart body: the Content-Type has no boundary.")
    limit = max_files * max_bytes + MULTIPART_OVERHEAD_BYTES
    declared = _declared_length(request)
    if declared is not None and declared > limit:
        raise FileTooLargeError(
            f"The body is larger than {max_files} files of the {max_bytes}-byte limit.", max_bytes=max_bytes)
    files: list[tuple[_SpoolFile, str | None, str | None]] = []
    state: dict[str, object] = {"parts": 0, "current": None}
    refused: list[Exception] = []  # the first rule a part broke
    headers: dict[bytes, bytes] = {}
    field_name: list[bytes] = []
    value: list[bytes] = []

    def on_part_begin() -> None:
        state["parts"] = int(state["parts"]) + 1  # type: ignore[call-overload]
        if int(state["parts"]) > max(MAX_MULTIPART_PARTS, 2 * max_files):  # type: ignore[call-overload]
            raise InputError(f"Malformed multipart body: more than {max(MAX_MULTIPART_PARTS, 2 * max_files)} parts.")
        headers.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        field_name.append(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        value.append(data[start:end])

    def on_header_end() -> None:
        headers[b"".join(field_name).lower()] = b"".join(value)
        field_name.clear()
        value.clear()

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(headers.get(b"content-disposition"))
        if disposition.get(b"name") != field.encode() or b"filename" not in disposition:
            state["current"] = None
            return
        if len(files) >= max_files:
            state["current"] = None
            raise InputError(f"More than {max_files} files in `{field}`; send at most {max_files}.")
        raw_type = headers.get(b"content-type")
        out = _SpoolFile(spool, max_bytes, 0)
        files.append((out, disposition[b"filename"].decode("utf-8", "replace"),
                      raw_type.decode("latin-1") if raw_type else None))
        state["current"] = out

    def on_part_data(data: bytes, start: int, end: int) -> None:
        out = state["current"]
        if isinstance(out, _SpoolFile):
            out.write(data[start:end])

    def on_part_end() -> None:
        out = state["current"]
        if isinstance(out, _SpoolFile):
            out.finish()
            if not out.size:
                raise EmptyFileError(f"The {len(files)}. `{field}` part ({files[-1][1] or 'no name'}) is empty.")
        state["current"] = None

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data, "on_part_end": on_part_end,
    })
    try:
        receive = limited_receive(request.receive, limit, max_bytes)
        try:
            async with asyncio.timeout_at(deadline):
                async for chunk in body_chunks(receive):
                    if refused:
                        continue  # drained, not parsed or written
                    try:
                        parser.write(chunk)
                    except (InputError, FileTooLargeError, SpoolFullError) as e:
                        refused.append(e)
                        for out, _, _ in files:
                            out.discard()
                if refused:
                    raise refused[0]
                parser.finalize()
        except MultipartParseError as e:
            raise InputError(f"Malformed multipart body: {e}") from None
        except TimeoutError:
            raise DeadlineExceededError(
                f"The upload did not arrive within the {deadline_seconds or 0:g} s deadline.",
                deadline_seconds=deadline_seconds,
            ) from None
        for out, _, _ in files:
            out.finish()
        yield [Upload(out.path, out.size, clean_filename(name), ctype) for out, name, ctype in files]
    finally:
        for out, _, _ in files:
            out.discard()
