"""RFC 9457 problem responses: the ONE place where failures become HTTP statuses.

Routes never build error responses; they raise `extractors.errors` (or
`app.errors`) classes and the handlers here turn them into
`application/problem+json` with a stable `type` URI made from the class `code`.
The status comes from `STATUS_BY_ERROR`, looked up along the class hierarchy so
a new library subclass inherits its parent's status.
"""
from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from extractors import (
    ExtractionError,
    FileTooLargeError,
    InputError,
    UnreadableDocumentError,
    UnsupportedFormatError,
)
from extractors.errors import PROBLEM_TYPE_BASE

from .i18n import CONTENT_LANGUAGE, negotiate, problem_texts
from .errors import (
    CallbackNotAllowedError,
    DeadlineExceededError,
    HeaderFieldsTooLargeError,
    HttpVersionError,
    JobCancelledError,
    JobLostError,
    JobNotFoundError,
    UnauthorizedError,
    NotReadyError,
    PoolSaturatedError,
    RequestTimeoutError,
    ServiceError,
    SpoolFullError,
    UploadsSaturatedError,
    UriTooLongError,
    WorkerBugError,
    WorkerCrashedError,
)

log = logging.getLogger("app")

# `PROBLEM_TYPE_BASE` (from the library) is the default base of `type` URIs; a deployment sets its own
# (`Settings.problem_base_uri`).
PROBLEM_MEDIA_TYPE = "application/problem+json"
UNAUTHORIZED_CHALLENGE = 'ApiKey header="X-API-Key"'  # RFC 9110 WWW-Authenticate of a 401

# Error class → HTTP status. The most specific class in an exception's MRO wins.
STATUS_BY_ERROR: dict[type[ExtractionError], int] = {
    ExtractionError: 422,
    InputError: 400,
    FileTooLargeError: 413,
    UnsupportedFormatError: 415,
    UnreadableDocumentError: 422,
    ServiceError: 500,
    WorkerCrashedError: 500,
    WorkerBugError: 500,
    PoolSaturatedError: 503,
    NotReadyError: 503,
    DeadlineExceededError: 504,
    JobNotFoundError: 404,
    JobCancelledError: 409,
    JobLostError: 500,
    CallbackNotAllowedError: 400,
    UnauthorizedError: 401,
    UploadsSaturatedError: 503,
    SpoolFullError: 503,
    RequestTimeoutError: 408,
    HeaderFieldsTooLargeError: 431,
    UriTooLongError: 414,
    HttpVersionError: 505,
}

# Framework-level statuses (routing, methods) → stable codes.
CODE_BY_HTTP_STATUS: dict[int, str] = {
    400: "bad-request",
    404: "not-found",
    408: "request-timeout",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "file-too-large",
    414: "uri-too-long",
    415: "unsupported-media-type",
    431: "header-fields-too-large",
}

_RESERVED = {"type", "title", "status", "detail", "instance", "request_id"}


class InvalidParam(BaseModel):
    """One rejected request parameter."""

    loc: str = Field(description="Where: e.g. `query.min_confidence`.")
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem document; extension members carry facts a client can act on."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="Stable URI naming the kind of problem; its last segment is the error `code`.")
    title: str = Field(description="Short human summary of the problem type (Chinese for `Accept-Language: zh`).")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request (in Chinese for `Accept-Language: zh`).")
    detail_en: str | None = Field(None, description="The English detail, when `detail` is in Chinese.")
    instance: str | None = Field(None, description="The request path this occurrence belongs to.")
    request_id: str | None = Field(None, description="The `X-Request-ID` of the request, for support and logs.")
    max_bytes: int | None = Field(None, description="413: the upload limit in bytes.")
    pages: int | None = Field(None, description="422 too-many-pages: the pages found (to read, or to OCR).")
    max_pages: int | None = Field(None, description="422 too-many-pages: the page limit that applied.")
    retry_after: int | None = Field(None, description="503: seconds to wait before retrying (also `Retry-After`).")
    deadline_seconds: float | None = Field(None, description="504: the per-request deadline.")
    errors: list[InvalidParam] | None = Field(None, description="400: the rejected parameters.")


class InvalidParameterError(InputError):
    """A query parameter failed validation."""

    code = "invalid-parameter"
    title = "Invalid request parameter"


def problem_type(code: str, base: str = PROBLEM_TYPE_BASE) -> str:
    """The `type` URI of problem `code` under `base` (a deployment's `problem_base_uri`)."""
    return base + code


def problem_base(request: Request | None) -> str:
    """The problem `type` base of the app serving `request` (its settings), else the default."""
    app = request.scope.get("app") if request is not None else None
    settings = getattr(getattr(app, "state", None), "settings", None)
    base = getattr(settings, "problem_base_uri", None)
    return base if isinstance(base, str) else PROBLEM_TYPE_BASE


def status_for(exc: ExtractionError) -> int:
    """The status of `exc` from `STATUS_BY_ERROR`, most specific class first."""
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]  # type: ignore[index]
    return 500


def code_of(exc: BaseException) -> str:
    """The problem code an exception is reported under (metrics label)."""
    return exc.code if isinstance(exc, ExtractionError) else WorkerBugError.code


def _jsonable(value: object) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def english_title(code: str) -> str:
    """The English title of `code` (from the error classes, or the HTTP phrase)."""
    def walk(cls: type[ExtractionError]) -> dict[str, str]:
        found = {cls.code: cls.title}
        for sub in cls.__subclasses__():
            found.update(walk(sub))
        return found

    titles = walk(ExtractionError)
    titles[InvalidParameterError.code] = InvalidParameterError.title
    if code in titles:
        return titles[code]
    for status, c in CODE_BY_HTTP_STATUS.items():
        if c == code:
            return HTTPStatus(status).phrase
    return code


def localized_problem(
    request: Request | None,
    status: int,
    code: str,
    detail: str,
    *,
    instance: str | None,
    extra: dict[str, object] | None = None,
    title: str | None = None,
    base: str | None = None,
) -> dict[str, Any]:
    """The problem body in the language `request` asks for (Chinese title/detail for `Accept-Language: zh`).

    `type` is under `base`, else under the base of the app serving `request`.
    """
    lang = negotiate(request.headers.get("accept-language") if request is not None else None)
    title = title or english_title(code)
    body: dict[str, Any] = {
        "type": problem_type(code, base or problem_base(request)),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "request_id": _request_id(request) if request is not None else None,
    }
    for key, value in (extra or {}).items():
        if key not in _RESERVED and value is not None:
            body[key] = _jsonable(value)
    text = problem_texts().get(code)
    if lang == "zh" and text is not None:
        body["title"] = text.title_zh
        body["detail"] = text.detail_in_zh(body)
        body["detail_en"] = detail
    return body


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    instance: str | None,
    request_id: str | None,
    extra: dict[str, object] | None = None,
    request: Request | None = None,
    base: str | None = None,
) -> JSONResponse:
    """Build the `application/problem+json` response; `retry_after` also becomes a header.

    `base` is for responses written before there is a request (the server's own refusals).
    """
    body = localized_problem(request, status, code, detail, instance=instance, extra=extra, title=title, base=base)
    body["request_id"] = request_id
    lang = negotiate(request.headers.get("accept-language") if request is not None else None)
    headers = {"Content-Language": CONTENT_LANGUAGE[lang], "Vary": "Accept-Language"}
    if "retry_after" in body:
        headers["Retry-After"] = str(body["retry_after"])
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def error_response(exc: ExtractionError, request: Request) -> JSONResponse:
    """The problem response for a library or service error."""
    status = status_for(exc)
    if status >= 500 and not isinstance(exc, (PoolSaturatedError, NotReadyError, UploadsSaturatedError, SpoolFullError)):
        log.warning("request %s failed: %s (%s)", _request_id(request), exc.code, exc.detail)
    response = problem_response(
        status,
        exc.code,
        exc.title,
        exc.detail,
        instance=request.url.path,
        request_id=_request_id(request),
        extra=exc.extra,
        request=request,
    )
    if isinstance(exc, UnauthorizedError):
        response.headers["WWW-Authenticate"] = UNAUTHORIZED_CHALLENGE
    return response


def internal_error_response(path: str, request_id: str | None, base: str = PROBLEM_TYPE_BASE) -> JSONResponse:
    """The generic 500 for a real bug; internals stay in the log."""
    return problem_response(
        500,
        WorkerBugError.code,
        WorkerBugError.title,
        "An unexpected error occurred; it has been logged with this request id.",
        instance=path,
        request_id=request_id,
        base=base,
    )


async def _on_extraction_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ExtractionError)
    return error_response(exc, request)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": ".".join(str(p) for p in e.get("loc", ())),
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]
    detail = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors) or "Invalid request."
    return error_response(InvalidParameterError(detail, errors=errors), request)


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    phrase = HTTPStatus(exc.status_code).phrase if exc.status_code in HTTPStatus._value2member_map_ else "Error"
    code = CODE_BY_HTTP_STATUS.get(exc.status_code, f"http-{exc.status_code}")
    detail = exc.detail if isinstance(exc.detail, str) else phrase
    response = problem_response(
        exc.status_code, code, phrase, detail, instance=request.url.path, request_id=_request_id(request), request=request
    )
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(ExtractionError, _on_extraction_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)


_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed or empty request (no `file` field, empty body, invalid or unknown parameter).",
    401: "An API key is required (`X-API-Key`) and was missing or wrong.",
    404: "No such job (never created, expired after its TTL, or deleted).",
    413: "The upload is larger than the limit (`max_bytes`).",
    415: "The bytes are not a format any reader handles (decided from the content, not the name).",
    422: "The document cannot be read: corrupt, encrypted, no text layer, too many pages, or a safety limit.",
    500: "A worker crashed or an unexpected error occurred.",
    503: "The pool is saturated (or the service is not ready); retry after `Retry-After` seconds.",
    504: "The request exceeded its deadline; its work was stopped.",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting `statuses` with the Problem model."""
    return {s: {"model": Problem, "description": _DESCRIPTIONS[s]} for s in statuses}
