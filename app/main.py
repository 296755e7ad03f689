"""The FastAPI application: wiring of settings, worker pool, metrics, routes and problem handlers."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware

from extractors import SCHEMA_VERSION, __version__

from . import problems, ui
from .gateway import AccessLogMiddleware, reject_unknown_query, require_api_key
from .jobs import JobRunner
from .jobs import router as jobs_router
from .jobstore import open_store
from . import formats
from .metrics import Metrics
from .middleware import AdmissionMiddleware, RequestContextMiddleware
from .pool import PoolConfig, WorkerPool
from .compare import router as compare_router
from .routes import SERVICE_NAME, router
from .settings import Settings, settings_table
from .spec import build_spec
from .upload import Spool
from .worker import Task, run_extract

DESCRIPTION = f"""\
Extraction service for Chinese government information-disclosure annual reports (政府信息公开工作年度报告).

Send one report (PDF with a text layer, DOCX, DOC/WPS, XLSX/XLS/ET/ODS, ODT, RTF, HTML, MHT, OFD, Markdown or
plain text; `GET /v1/formats` lists what is read and what is refused) to `POST /v1/extract`, as the
multipart field `file` or as the raw request body, and get the versioned extraction JSON (schema
{SCHEMA_VERSION}): metadata, indicator values mapped to canonical ids (`GET /v1/indicators`), narrative
sections and validation findings, each with a calibrated confidence.

**Errors** are RFC 9457 `application/problem+json` documents whose `type` is
`{problems.PROBLEM_TYPE_BASE}<code>` (a deployment sets its own base, `GOVREPORT_PROBLEM_BASE_URI`): 400 bad-request / empty-file / invalid-parameter, 413 file-too-large,
415 unsupported-media-type, 422 unreadable-document (corrupt-file, encrypted-file, no-text-layer,
too-many-pages, resource-limit), 500 worker-crashed / internal-error, 503 pool-saturated / not-ready (with
`Retry-After`), 504 deadline-exceeded.

Every response carries `X-Request-ID` (echoed when sent, sanitized to `[A-Za-z0-9._-]`, at most 128
characters; generated otherwise), `X-Processing-Time-Ms` and `Server-Timing`.

**Settings** (environment variables; defaults shown):

{settings_table()}
"""


# zlib level 1 (nginx's default) rather than Starlette's 9: an extraction result's JSON comes out ~10% larger
# but is compressed 3-6x faster (0.1-0.2 ms instead of 0.3-1.2 ms of the event loop per response).
GZIP_LEVEL = 1


def create_app(settings: Settings | None = None, *, task: Task | None = None) -> FastAPI:
    """Build an app instance. `task` replaces the worker's extraction function (fault tests)."""
    settings = settings or Settings()
    pool = WorkerPool(
        PoolConfig(
            size=settings.workers,
            max_queue=settings.max_queue,
            max_tasks_per_child=settings.max_tasks_per_child,
            memory_limit_bytes=settings.worker_memory_limit_bytes,
            start_method=settings.start_method,
            cpu_limit_seconds=settings.worker_cpu_seconds,
        ),
        task or run_extract,
    )
    spool = Spool(settings.spool_quota_mb * 1024 * 1024, settings.max_uploads)
    metrics = Metrics(lambda: pool.stats() if pool.started else None, lambda: spool)

    store = open_store(settings.job_store, directory=settings.job_dir, redis_url=settings.redis_url)
    jobs = JobRunner(store, pool, settings, metrics)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await pool.start()
        jobs.start()
        try:
            yield
        finally:
            await jobs.close()
            await pool.close()
            spool.close()

    app = FastAPI(
        title=SERVICE_NAME,
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        license_info={"name": "MIT"},
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(require_api_key), Depends(reject_unknown_query)],
        redirect_slashes=False,  # a redirect would echo the Host header into Location; a trailing slash is a 404
    )
    app.state.settings = settings
    app.state.pool = pool
    app.state.metrics = metrics
    app.state.jobs = jobs
    problems.install(app)
    app.include_router(router)
    app.include_router(jobs_router)
    ui.install(app)
    app.state.spool = spool
    app.include_router(formats.router)
    app.include_router(compare_router)
    _add_gateway(app, settings)
    app.add_middleware(
        AdmissionMiddleware, spool=spool, body_timeout_seconds=settings.body_timeout_seconds, retry_after=pool.retry_after
    )
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    if settings.access_log:
        _log_access()
        app.add_middleware(AccessLogMiddleware)
    app.openapi = lambda: build_spec(app)  # type: ignore[method-assign]
    return app


def _add_gateway(app: FastAPI, settings: Settings) -> None:
    """Inner to outer: gzip, CORS (outside the routes, so preflights and 401s carry CORS headers)."""
    app.state.api_keys = tuple(settings.api_key_list())  # checked by the `require_api_key` dependency
    app.add_middleware(GZipMiddleware, minimum_size=settings.gzip_min_bytes, compresslevel=GZIP_LEVEL)
    origins = settings.cors_origin_list
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "DELETE", "HEAD", "OPTIONS"],
            allow_headers=["Content-Type", "Accept", "Accept-Language", "X-API-Key", "X-Request-ID"],
            expose_headers=["Location", "Retry-After", "X-Request-ID", "Content-Language", "ETag"],
            max_age=600,
        )


def _log_access() -> None:
    """JSON lines of `app.access` go to stderr as they are (one handler, however many apps are built)."""
    logger = logging.getLogger("app.access")
    logger.setLevel(logging.INFO)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
