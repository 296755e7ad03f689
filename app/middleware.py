"""Per-request context and admission: request id, timing headers, metrics, last-resort 500, body gate.

Plain ASGI middlewares (not BaseHTTPMiddleware) so streaming bodies pass
through untouched. `RequestContextMiddleware` (outermost) adds the headers to
every response, including problem responses and the generic 500 it produces
itself for unhandled bugs, labels metrics from fixed sets only, and makes every
redirect's `Location` relative (an absolute one is built from the client's
`Host` header, so it would send other users wherever that header points).
`AdmissionMiddleware` (inside it) decides before a body is read whether it may
be read at all, times out a silent body, and cancels the request's work when
the client goes away.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from extractors import InputError

from .errors import RequestTimeoutError, UploadsSaturatedError
from .metrics import Metrics
from .problems import error_response, internal_error_response, problem_base
from .upload import ClientGone, Spool

log = logging.getLogger("app")

REQUEST_ID_HEADER = "X-Request-ID"
PROCESSING_TIME_HEADER = "X-Processing-Time-Ms"
MAX_REQUEST_ID_CHARS = 128
_NOT_ID = re.compile(r"[^A-Za-z0-9._-]")
# Metric label values come from fixed sets: a client must not be able to mint new time series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
CLIENT_GONE_STATUS = 499  # nginx's "client closed request": nobody received an answer


def method_label(method: str | None) -> str:
    """The method as a metric label: one of `KNOWN_METHODS`, else `other`."""
    return method if method in KNOWN_METHODS else "other"


def status_label(status: int) -> str:
    return str(status) if 100 <= status <= 599 else "other"


def relative_location(location: str) -> str:
    """`location` without scheme and authority: the service only ever redirects to itself."""
    parts = urlsplit(location)
    if not parts.scheme and not parts.netloc:
        return location
    return urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))


def sanitize_request_id(raw: str | None) -> str | None:
    """Keep only [A-Za-z0-9._-], at most 128 characters; None when nothing usable is left."""
    if not raw:
        return None
    cleaned = _NOT_ID.sub("", raw)[:MAX_REQUEST_ID_CHARS]
    return cleaned or None


def route_label(scope: Scope) -> str:
    """The route template of a request (`/v1/jobs/{job_id}`); for mounted assets `<mount>/{path}`."""
    route = scope.get("route")
    if getattr(route, "path", None):
        return str(route.path)  # type: ignore[union-attr]
    endpoint = scope.get("endpoint")
    if endpoint is not None:  # a plain Starlette route (e.g. /openapi.json) sets no `route`: find it by endpoint
        for candidate in getattr(scope.get("app"), "routes", ()):
            if getattr(candidate, "endpoint", None) is endpoint and getattr(candidate, "path", None):
                return str(candidate.path)
    if scope.get("endpoint") is not None and "app_root_path" in scope:
        mount = str(scope.get("root_path", ""))[len(str(scope["app_root_path"])) :]
        if mount:
            return f"{mount}/{{path}}"
    return "unmatched"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = sanitize_request_id(Headers(scope=scope).get(REQUEST_ID_HEADER)) or uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        timings: dict[str, float] = {}
        state["timings"] = timings
        start = time.perf_counter()
        status = 500
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                elapsed_ms = (time.perf_counter() - start) * 1000
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                headers[PROCESSING_TIME_HEADER] = f"{elapsed_ms:.1f}"
                parts = [f"total;dur={elapsed_ms:.1f}"] + [f"{k};dur={v:.1f}" for k, v in timings.items()]
                headers["Server-Timing"] = ", ".join(parts)
                if "location" in headers:
                    headers["Location"] = relative_location(headers["location"])
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_with_headers)
            if not started and state.get("client_gone"):
                status = CLIENT_GONE_STATUS
        except ClientGone:
            status = CLIENT_GONE_STATUS
            log.info("request %s: the client went away", request_id)
        except Exception:
            log.exception("unhandled error in request %s", request_id)
            if started:
                raise
            base = problem_base(Request(scope))  # type: ignore[arg-type]
            await internal_error_response(scope.get("path", ""), request_id, base)(scope, receive, send_with_headers)
        finally:
            label = route_label(scope)
            self.metrics.in_flight.dec()
            self.metrics.requests.labels(label, method_label(scope.get("method")), status_label(status)).inc()
            self.metrics.latency.labels(label).observe(time.perf_counter() - start)


class ConflictingFramingError(InputError):
    """Content-Length and Transfer-Encoding together: the body's length is ambiguous (request smuggling)."""

    code = "bad-request"
    title = "Ambiguous message framing"


def _has_body(headers: Headers) -> bool:
    if "transfer-encoding" in headers:
        return True
    try:
        return int(headers.get("content-length") or 0) > 0
    except ValueError:
        return True


class AdmissionMiddleware:
    """Refuse a body before reading it when too many are in flight; time out a silent body; cancel on disconnect.

    A request with a body takes one of `spool.max_uploads` slots for its whole life (upload, queue,
    extraction), since its spooled file lives that long; without a free slot the answer is 503 with
    `Retry-After` and `Connection: close`, and not one body byte is read. Once the app has read the whole
    body, a watcher waits for the client's disconnect and cancels the app (the pool then kills the job's
    worker), so a vanished client frees its worker instead of holding it to the deadline.
    """

    def __init__(
        self, app: ASGIApp, spool: Spool, body_timeout_seconds: float, retry_after: Callable[[], int]
    ) -> None:
        self.app = app
        self.spool = spool
        self.body_timeout = body_timeout_seconds
        self.retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if "transfer-encoding" in headers and "content-length" in headers:
            err = ConflictingFramingError("The request has both Content-Length and Transfer-Encoding; send one.")
            await self._refuse(err, scope, receive, send)
            return
        if not _has_body(headers):
            await self._guarded(scope, receive, send, has_body=False)
            return
        if not self.spool.admit():
            err = UploadsSaturatedError(
                f"{self.spool.max_uploads} uploads are in flight; this one was not read.",
                retry_after=self.retry_after(),
            )
            await self._refuse(err, scope, receive, send)
            return
        try:
            await self._guarded(scope, receive, send, has_body=True)
        finally:
            self.spool.leave()

    async def _refuse(self, err: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(err, Request(scope))  # type: ignore[arg-type]
        response.headers["Connection"] = "close"  # the unread body must not be parsed as the next request
        await response(scope, receive, send)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, *, has_body: bool) -> None:
        body_done = asyncio.Event()
        gone: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        responded = False

        async def timed_receive() -> Message:
            if body_done.is_set():  # after the body only the disconnect is left: the watcher reads it
                return await asyncio.shield(gone)
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout)
            except TimeoutError:
                raise RequestTimeoutError(
                    f"No part of the request body arrived for {self.body_timeout:g} s.",
                ) from None
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                body_done.set()
                if message["type"] == "http.disconnect" and not gone.done():
                    gone.set_result(message)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal responded
            if message["type"] == "http.response.start":
                responded = True
                if has_body and not body_done.is_set():  # answered before the body was read (413, 408, …):
                    MutableHeaders(scope=message)["connection"] = "close"  # its rest must not be read as a request
            await send(message)

        app_task = asyncio.ensure_future(self.app(scope, timed_receive, tracked_send))

        async def watch() -> None:
            await body_done.wait()
            if not gone.done():
                message = await receive()
                if not gone.done():
                    gone.set_result(message)
            if not app_task.done() and not responded:
                app_task.cancel()

        watcher = asyncio.ensure_future(watch())
        try:
            await app_task
        except asyncio.CancelledError:
            if not gone.done():
                raise  # the server itself is cancelling us
            scope.setdefault("state", {})["client_gone"] = True
            log.info("request %s: the client went away; its work was cancelled", scope["state"].get("request_id"))
        finally:
            watcher.cancel()
