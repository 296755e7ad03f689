"""What gateways and browsers need around the routes: API keys, strict query parameters, JSON access logs.

API keys are checked in constant time (`hmac.compare_digest` against every
key, no early exit) on `/v1/*` and `/extract` only (a 401 problem with
`WWW-Authenticate` otherwise): health, metrics, docs, the
upload page and problem pages stay open so probes and people can reach them.
The access log writes one JSON line per request with the request id, route
template, status, duration, response bytes and the document format — never
file content or query values.
"""
from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Sequence

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import UnauthorizedError
from .middleware import route_label
from .problems import InvalidParameterError

access_log = logging.getLogger("app.access")

API_KEY_HEADER = "X-API-Key"
PROTECTED_PREFIXES = ("/v1/", "/extract")


async def reject_unknown_query(request: Request) -> None:
    """App-wide dependency: a query parameter the route does not declare is a 400, not silently ignored."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = {p.alias for p in route.dependant.query_params}
    for dep in route.dependant.dependencies:
        known |= {p.alias for p in dep.query_params}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        errors = [{"loc": f"query.{name}", "msg": "Unknown query parameter.", "type": "unknown_parameter"} for name in unknown]
        allowed = ", ".join(sorted(known)) or "none"
        raise InvalidParameterError(
            f"Unknown query parameter(s): {', '.join(unknown)} (this endpoint accepts: {allowed}).", errors=errors
        )


def keys_match(given: str, keys: Sequence[str]) -> bool:
    """Constant-time membership: every key is compared, whatever matches first."""
    found = False
    for key in keys:
        found |= hmac.compare_digest(given.encode(), key.encode())
    return found


async def require_api_key(request: Request) -> None:
    """App-wide dependency (before the others): protected paths need a valid `X-API-Key` when keys are set.

    A dependency rather than a middleware so a refused request is still logged and counted under its route
    template; CORS preflights never get here (the CORS middleware answers them).
    """
    keys: Sequence[str] = getattr(request.app.state, "api_keys", ())
    if keys and request.url.path.startswith(PROTECTED_PREFIXES):
        if not keys_match(request.headers.get(API_KEY_HEADER, ""), keys):
            raise UnauthorizedError(f"Send a valid API key in the `{API_KEY_HEADER}` header.")


class AccessLogMiddleware:
    """One JSON line per HTTP request on logger `app.access` (outermost, so it sees the final bytes)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        sent = 0
        headers: dict[str, str] = {}

        async def counting_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                h = Headers(raw=message.get("headers", []))
                headers.update({"request_id": h.get("x-request-id", ""), "encoding": h.get("content-encoding", "")})
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            state = scope.get("state", {})
            record = {
                "request_id": headers.get("request_id") or state.get("request_id"),
                "method": scope.get("method"),
                "route": route_label(scope),
                "status": status,
                "duration_ms": round((time.perf_counter() - start) * 1000, 1),
                "bytes": sent,
                "format": state.get("format"),
                "content_encoding": headers.get("encoding") or None,
            }
            access_log.info(json.dumps(record, ensure_ascii=False))
