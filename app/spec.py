"""OpenAPI post-processing: problem media type on errors, request-id/timing headers on every response.

FastAPI documents every error model as `application/json`; here error responses
become `application/problem+json` and each response lists the headers the
middleware adds, so generated clients and schema tests see the real contract.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi.openapi.utils import get_openapi

from .problems import PROBLEM_MEDIA_TYPE
from .routes import EXTRACT_UPLOAD_SCHEMA

if TYPE_CHECKING:
    from fastapi import FastAPI

HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request id: the client's `X-Request-ID` sanitized to [A-Za-z0-9._-] (≤128 chars), or generated.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$"},
    },
    "X-Processing-Time-Ms": {
        "description": "Milliseconds the server spent before starting the response.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Server-Timing": {
        "description": "`total`, and for extractions `upload`, `extract` and `worker-cpu` (the worker's CPU time for the file), durations in ms.",
        "required": True,
        "schema": {"type": "string"},
    },
}
RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before retrying.",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
}
_HEADER_REF = "#/components/headers/"


def _decorate(spec: dict[str, Any]) -> dict[str, Any]:
    components = spec.setdefault("components", {})
    components.setdefault("schemas", {})["ExtractUpload"] = EXTRACT_UPLOAD_SCHEMA
    components["schemas"] = dict(sorted(components["schemas"].items()))
    components["headers"] = {**HEADERS, "Retry-After": RETRY_AFTER_HEADER}
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            auto = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if auto.get("$ref", "").endswith("/HTTPValidationError"):  # validation errors are 400 problems here
                del responses["422"]
            for status, response in responses.items():
                declared = response.get("headers", {})  # a route's own (Location, Retry-After on 202) are kept
                headers = {**declared, **{name: {"$ref": _HEADER_REF + name} for name in HEADERS}}
                if status == "503":
                    headers["Retry-After"] = {"$ref": _HEADER_REF + "Retry-After"}
                response["headers"] = headers
                content = response.get("content", {})
                if status.isdigit() and int(status) >= 400 and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
    return spec


def build_spec(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document (cached on the app like FastAPI's own)."""
    if app.openapi_schema is None:
        spec = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            description=app.description,
            routes=app.routes,
            license_info=app.license_info,
        )
        app.openapi_schema = _decorate(spec)
    return app.openapi_schema
