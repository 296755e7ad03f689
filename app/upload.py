"""Getting the report bytes out of a request without ever holding more than the limit.

The body is read from the ASGI stream chunk by chunk and counted; the moment
it passes the limit the read stops with `FileTooLargeError` (a declared
`Content-Length` over the limit is refused before reading anything). Multipart
bodies are parsed from that same counted stream, so an oversized part is cut
off mid-upload too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import Message as AsgiMessage
from starlette.types import Receive

from extractors import EmptyFileError, FileTooLargeError, InputError

# Room for multipart boundaries and part headers on top of the file limit.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
MAX_FILENAME_CHARS = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Upload:
    """The report as received: bytes plus the client's name and declared type (hints only)."""

    data: bytes
    filename: str | None
    content_type: str | None


def too_large(max_bytes: int) -> FileTooLargeError:
    return FileTooLargeError(f"The upload is larger than the {max_bytes}-byte limit.", max_bytes=max_bytes)


def clean_filename(name: str | None) -> str | None:
    """The last path segment without control characters, capped; None when nothing is left."""
    if not name:
        return None
    base = _CONTROL.sub("", re.split(r"[\\/]", name)[-1]).strip()
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


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


async def read_upload(request: Request, max_bytes: int, filename: str | None = None) -> Upload:
    """The uploaded report from a multipart `file` field or from the raw body."""
    content_type = request.headers.get("content-type")
    is_multipart = (content_type or "").lower().startswith("multipart/form-data")
    limit = max_bytes + (MULTIPART_OVERHEAD_BYTES if is_multipart else 0)
    declared = _declared_length(request)
    if declared is not None and declared > limit:
        raise too_large(max_bytes)
    counted = Request(request.scope, limited_receive(request.receive, limit, max_bytes))
    if is_multipart:
        upload = await _read_multipart(counted, max_bytes)
    else:
        upload = await _read_raw(counted, content_type)
    name = clean_filename(filename) or clean_filename(upload.filename)
    return Upload(upload.data, name, upload.content_type)


async def _read_raw(request: Request, content_type: str | None) -> Upload:
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
    if not chunks:
        raise EmptyFileError("The request body is empty; send the report as the body or as a multipart `file` field.")
    name = filename_from_disposition(request.headers.get("content-disposition"))
    return Upload(bytes(chunks), name, content_type)


async def _read_multipart(request: Request, max_bytes: int) -> Upload:
    try:
        form = await request.form(max_files=1, max_fields=32)
    except HTTPException as e:  # Starlette reports a malformed multipart body this way
        raise InputError(f"Malformed multipart body: {e.detail}") from None
    try:
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise InputError("The multipart body has no `file` part with a file in it.")
        data = await part.read()
        if len(data) > max_bytes:
            raise too_large(max_bytes)
        if not data:
            raise EmptyFileError("The uploaded `file` part is empty.")
        return Upload(data, part.filename, part.content_type)
    finally:
        await form.close()
