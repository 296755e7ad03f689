"""HTTP routes. They only translate HTTP to service calls; failures are raised, never built here."""
from __future__ import annotations

import asyncio
import functools
import csv
import enum
import hashlib
import inspect
import io
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from extractors import SCHEMA_VERSION, ExtractionResult, __version__

from .catalogue import IndicatorCatalogue, catalogue_names, load_catalogue
from .errors import NotReadyError
from .health import available_memory_bytes
from .metrics import Metrics
from .pool import WorkerPool
from .problems import code_of, problem_responses
from .settings import Settings
from .upload import ClientGone, Spool, spooled_upload
from .worker import ExtractJob

API_VERSION = "v1"
SERVICE_NAME = "govreport-extract"

router = APIRouter()


class Part(str, enum.Enum):
    """Parts of an extraction result that `include` can select."""

    document = "document"
    indicators = "indicators"
    sections = "sections"
    validation = "validation"
    warnings = "warnings"


class Health(BaseModel):
    status: str = Field("ok", description="Always `ok` when the process answers.")


class Readiness(BaseModel):
    status: str = Field(description="`ready`.")
    workers: int = Field(description="Configured worker processes.")
    workers_alive: int
    busy: int = Field(description="Workers running an extraction now.")
    queued: int = Field(description="Requests waiting for a worker.")
    memory_available_bytes: int | None = Field(description="Memory left to the host/container; null if unknown.")


class VersionInfo(BaseModel):
    service: str
    extractor_version: str = Field(description="Version of the extraction engine.")
    schema_version: str = Field(description="Semantic version of the extraction JSON shape.")
    api_version: str = Field(description="Major version of the HTTP API (path prefix).")


_BODY_DOC = (
    "The report, either as the multipart field `file` or as the raw request body. The format is decided from the "
    "bytes (PDF, DOCX, HTML, Markdown, plain text in UTF-8/GB18030/…); the name and declared type only break ties "
    "between text formats. A raw body may carry any Content-Type (application/pdf, text/html, …)."
)
EXTRACT_UPLOAD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "ExtractUpload",
    "description": "Multipart form with the report in the `file` field.",
    "properties": {"file": {"type": "string", "format": "binary", "description": "The report file."}},
    "required": ["file"],
}
EXTRACT_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": _BODY_DOC,
        "content": {
            "multipart/form-data": {"schema": {"$ref": "#/components/schemas/ExtractUpload"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}

IncludeParam = Annotated[
    list[Part],
    Query(description="Return only these parts (repeat the parameter for several); default: all parts."),
]
MinConfidenceParam = Annotated[
    float, Query(ge=0.0, le=1.0, description="Drop indicators whose confidence is below this value.")
]
FilenameParam = Annotated[
    str | None,
    Query(
        max_length=255,
        description="File name hint for a raw body (overrides Content-Disposition and the multipart file name).",
    ),
]


def response_body(result_json: bytes, include: list[Part] | None, min_confidence: float) -> bytes:
    """The worker's JSON bytes, passed through untouched unless a part selection or confidence filter asks for less.

    Re-parsing and re-serialising a whole result in the main process costs the event loop more than the HTTP
    handling itself; only a filtered response pays it.
    """
    if min_confidence <= 0 and (not include or set(include) >= set(Part)):
        return result_json
    return shape(ExtractionResult.model_validate_json(result_json), include, min_confidence)


def shape(result: ExtractionResult, include: list[Part] | None, min_confidence: float) -> bytes:
    """The response JSON: only the selected parts, indicators at or above `min_confidence`."""
    if min_confidence > 0:
        result.indicators = [i for i in result.indicators if i.confidence >= min_confidence]
    wanted = {p.value for p in include} if include else {p.value for p in Part}
    exclude = {p.value for p in Part} - wanted
    return result.model_dump_json(exclude=exclude).encode()


_Q_VALUE = re.compile(r"q\s*=\s*([0-9.]+)")  # an Accept entry's quality

CSV_COLUMNS = ("id", "name", "label", "value", "unit", "confidence", "raw", "page", "table", "row", "col")


def wants_csv(request: Request) -> bool:
    """`Accept: text/csv` preferred over JSON (q-values honoured; ties go to JSON)."""
    best_csv = best_json = -1.0
    for part in request.headers.get("accept", "").split(","):
        media, _, params = part.strip().partition(";")
        match = _Q_VALUE.search(params)
        q = float(match.group(1)) if match else 1.0
        media = media.strip().lower()
        if media == "text/csv":
            best_csv = max(best_csv, q)
        elif media in ("application/json", "application/*", "*/*"):
            best_json = max(best_json, q)
    return best_csv > 0 and best_csv > best_json


def indicators_csv(result: ExtractionResult, min_confidence: float = 0.0) -> bytes:
    """The indicator rows as UTF-8 CSV with a BOM (so spreadsheet programs read the Chinese labels).

    `name` is the form's official row label from the catalogue (for the report's template); `label` is the
    label as printed in this report.
    """
    names = catalogue_names(result.document.template.value)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for i in result.indicators:
        if i.confidence < min_confidence:
            continue
        s = i.source
        writer.writerow([
            i.id, names.get(i.id, ""), i.label or "", "" if i.value is None else i.value, i.unit or "",
            f"{i.confidence:.3f}", i.raw or "", "" if s.page is None else s.page, "" if s.table is None else s.table,
            "" if s.row is None else s.row, "" if s.col is None else s.col,
        ])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


async def _extract(request: Request, include: list[Part] | None, min_confidence: float, filename: str | None) -> Response:
    settings: Settings = request.app.state.settings
    pool: WorkerPool = request.app.state.pool
    metrics: Metrics = request.app.state.metrics
    timings: dict[str, float] = getattr(request.state, "timings", {})
    loop = asyncio.get_running_loop()
    deadline_s = settings.request_deadline_seconds
    deadline = loop.time() + deadline_s
    spool: Spool = request.app.state.spool
    try:
        t0 = time.perf_counter()
        async with spooled_upload(
            request, spool, settings.max_upload_bytes, filename, deadline=deadline, deadline_seconds=deadline_s
        ) as upload:
            t1 = time.perf_counter()
            timings["upload"] = (t1 - t0) * 1000
            job = ExtractJob(
                b"", upload.filename, upload.content_type, settings.max_pages,
                max_ocr_pages=settings.max_ocr_pages, ocr_threads=settings.ocr_threads, path=str(upload.path),
            )
            output = await pool.run(job, deadline, deadline_s)
        timings["extract"] = (time.perf_counter() - t1) * 1000
        timings["worker-cpu"] = output.cpu_seconds * 1000
        if output.ocr_pages:
            timings["ocr"] = output.ocr_seconds * 1000
            metrics.ocr_pages.inc(output.ocr_pages)
            metrics.ocr_seconds.inc(output.ocr_seconds)
        request.state.format = output.format
        if wants_csv(request):
            result = ExtractionResult.model_validate_json(output.result_json)
            return Response(indicators_csv(result, min_confidence), media_type="text/csv; charset=utf-8")
        body = response_body(output.result_json, include, min_confidence)
    except ClientGone:
        raise  # not a failure of ours, and nobody to answer
    except Exception as e:
        if getattr(e, "worker_cpu_seconds", None) is not None:
            timings["worker-cpu"] = e.worker_cpu_seconds * 1000  # type: ignore[attr-defined]
        metrics.failures.labels(code_of(e)).inc()
        raise
    metrics.files.labels(output.format, output.template).inc()
    return Response(body, media_type="application/json")


_EXTRACT_DOC = dict(
    response_model=ExtractionResult,
    responses={
        200: {
            "description": "The extraction JSON; with `Accept: text/csv`, the indicator rows as CSV.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **problem_responses(400, 401, 413, 415, 422, 500, 503, 504),
    },
    openapi_extra=EXTRACT_REQUEST_BODY,
    tags=["extraction"],
)


def _request_only(depends: Any) -> Callable[[Request], Awaitable[None]] | None:
    """The dependency's function if it is `async def f(request: Request) -> None`-shaped, else None."""
    call = getattr(depends, "dependency", None)
    try:
        return _takes_only_request(call)
    except TypeError:  # unhashable: not a plain function
        return None


@functools.lru_cache(maxsize=64)
def _takes_only_request(call: Any) -> Callable[[Request], Awaitable[None]] | None:
    if not inspect.iscoroutinefunction(call):
        return None
    params = list(inspect.signature(call).parameters.values())
    if len(params) != 1 or params[0].annotation not in (Request, "Request"):
        return None
    return call  # type: ignore[no-any-return]


class LeanExtractRoute(APIRoute):
    """The extract route, answering a request without query parameters without FastAPI's dependency solving.

    Solving three query parameters and the app's dependencies costs the event loop ~0.2 ms a request, for
    nothing when there is no query string: the parameters are their defaults. Such a request runs the
    app's and the route's dependencies itself (only when each takes just the request; otherwise, or with
    dependency overrides, or with any query string, FastAPI's own handler runs), then the route's endpoint with
    only the request (so its parameters take their declared defaults).
    Errors are raised exactly as before, so the problem handlers answer them; the OpenAPI document is the
    route's as declared.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        full = super().get_route_handler()
        endpoint = self.endpoint
        own = [_request_only(d) for d in self.dependencies]
        lean: list[Callable[[Request], Awaitable[None]]] | None = None if None in own else own  # type: ignore[assignment]

        async def handler(request: Request) -> Response:
            app = request.scope.get("app")
            if lean is None or request.scope.get("query_string") or getattr(app, "dependency_overrides", True):
                return await full(request)
            app_wide = [_request_only(d) for d in getattr(getattr(app, "router", None), "dependencies", [None])]
            if None in app_wide:
                return await full(request)
            for check in (*app_wide, *lean):
                await check(request)  # type: ignore[misc]
            return await endpoint(request)  # every query parameter at its declared default

        return handler


async def extract_v1(
    request: Request,
    include: IncludeParam = [],  # noqa: B006 - FastAPI copies defaults
    min_confidence: MinConfidenceParam = 0.0,
    filename: FilenameParam = None,
) -> Response:
    """Upload one report; get the versioned extraction JSON (see the contract)."""
    return await _extract(request, include, min_confidence, filename)


router.add_api_route(
    f"/{API_VERSION}/extract",
    extract_v1,
    methods=["POST"],
    operation_id="extract_v1",
    summary="Extract indicators, sections and metadata from one report",
    route_class_override=LeanExtractRoute,
    **_EXTRACT_DOC,  # type: ignore[arg-type]
)
# The current major version answers at /extract too: the same handler, its own operation id.
router.add_api_route(
    "/extract",
    extract_v1,
    methods=["POST"],
    operation_id="extract",
    summary="Same as /v1/extract (the current major version)",
    description="Alias of the current major version's extract endpoint.",
    route_class_override=LeanExtractRoute,
    **_EXTRACT_DOC,  # type: ignore[arg-type]
)


@router.get(
    f"/{API_VERSION}/indicators",
    operation_id="list_indicators",
    response_model=IndicatorCatalogue,
    responses={
        200: {"description": "The catalogue (with `ETag`; `If-None-Match` gives 304)."},
        304: {"description": "Not modified since the `ETag` sent in `If-None-Match`."},
        **problem_responses(500),
    },
    tags=["catalogue"],
    summary="The indicator catalogue: ids, labels, units and sum rules",
)
async def list_indicators(request: Request) -> Response:
    body, etag = _catalogue_body()
    headers = {"ETag": etag, "Cache-Control": "public, max-age=3600"}
    if _etag_matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison for `If-None-Match`: `*` or any listed tag, `W/` prefix ignored."""
    tags = [t.strip() for t in if_none_match.split(",")]
    return "*" in tags or etag in [t.removeprefix("W/") for t in tags]


@functools.lru_cache(maxsize=1)
def _catalogue_body() -> tuple[bytes, str]:
    body = load_catalogue().model_dump_json().encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@router.get(
    "/healthz",
    operation_id="healthz",
    response_model=Health,
    responses=problem_responses(500),
    tags=["operations"],
    summary="Liveness: the process answers",
)
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    operation_id="readyz",
    response_model=Readiness,
    responses=problem_responses(500, 503),
    tags=["operations"],
    summary="Readiness: workers are up and memory is left",
)
async def readyz(request: Request) -> Readiness:
    settings: Settings = request.app.state.settings
    pool: WorkerPool = request.app.state.pool
    stats = pool.stats()
    memory = available_memory_bytes()
    min_memory = settings.ready_min_memory_mb * 1024 * 1024
    facts = dict(workers=stats.size, workers_alive=stats.alive, busy=stats.busy, queued=stats.waiting)
    if not pool.started or stats.alive == 0:
        raise NotReadyError("No extraction worker is running.", retry_after=1, **facts)
    if memory is not None and memory < min_memory:
        raise NotReadyError(
            f"Only {memory} bytes of memory are available (minimum {min_memory}).",
            retry_after=5,
            memory_available_bytes=memory,
            **facts,
        )
    return Readiness(status="ready", memory_available_bytes=memory, **facts)


# HEAD answers like GET without a body (load balancers probe with it); one documented operation each.
router.add_api_route("/healthz", healthz, methods=["HEAD"], include_in_schema=False)
router.add_api_route("/readyz", readyz, methods=["HEAD"], include_in_schema=False)


@router.get(
    "/metrics",
    operation_id="metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        **problem_responses(500),
    },
    tags=["operations"],
    summary="Prometheus metrics",
)
async def metrics(request: Request) -> Response:
    body, content_type = request.app.state.metrics.render()
    return Response(body, media_type=content_type)


@router.get(
    "/version",
    operation_id="version",
    response_model=VersionInfo,
    responses=problem_responses(500),
    tags=["operations"],
    summary="Service, engine and schema versions",
)
async def version() -> VersionInfo:
    return VersionInfo(
        service=SERVICE_NAME, extractor_version=__version__, schema_version=SCHEMA_VERSION, api_version=API_VERSION
    )
