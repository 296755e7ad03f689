"""Per-request context: request id, processing time headers, HTTP metrics, last-resort 500.

A plain ASGI middleware (not BaseHTTPMiddleware) so streaming bodies pass
through untouched and the headers are added to every response, including
problem responses and the generic 500 it produces itself for unhandled bugs.
"""
from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .metrics import Metrics
from .problems import internal_error_response

log = logging.getLogger("app")

REQUEST_ID_HEADER = "X-Request-ID"
PROCESSING_TIME_HEADER = "X-Processing-Time-Ms"
MAX_REQUEST_ID_CHARS = 128
_NOT_ID = re.compile(r"[^A-Za-z0-9._-]")


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
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unhandled error in request %s", request_id)
            if started:
                raise
            await internal_error_response(scope.get("path", ""), request_id)(scope, receive, send_with_headers)
        finally:
            label = route_label(scope)
            self.metrics.in_flight.dec()
            self.metrics.requests.labels(label, scope.get("method", ""), str(status)).inc()
            self.metrics.latency.labels(label).observe(time.perf_counter() - start)
