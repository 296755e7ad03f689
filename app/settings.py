"""Every knob of the HTTP service in one place, read from the environment.

Each field is an environment variable `GOVREPORT_<FIELD>` (upper case); `HOST`
and `PORT` are honoured too, so platforms that inject them just work. The field
descriptions are the documentation: they are rendered into the OpenAPI
description and the README table.
"""
from __future__ import annotations

import os
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from extractors.errors import PROBLEM_TYPE_BASE

ENV_PREFIX = "GOVREPORT_"
MiB = 1024 * 1024


def _cpu_count() -> int:
    return os.cpu_count() or 1


class Settings(BaseSettings):
    """Service settings; construct with keyword arguments in tests, from the environment in production."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="ignore", populate_by_name=True
    )

    host: str = Field(
        "0.0.0.0",
        validation_alias=AliasChoices("GOVREPORT_HOST", "HOST", "host"),
        description="Interface `python -m app` binds to (also read from `HOST`).",
    )
    port: int = Field(
        8000,
        ge=0,
        le=65535,
        validation_alias=AliasChoices("GOVREPORT_PORT", "PORT", "port"),
        description="TCP port `python -m app` listens on (also read from `PORT`).",
    )
    max_upload_bytes: int = Field(
        50 * MiB,
        gt=0,
        description="Largest accepted report in bytes; larger uploads get 413, checked while the body streams in.",
    )
    request_deadline_seconds: float = Field(
        60.0,
        gt=0,
        description="Per-request deadline (queue wait + extraction); past it the worker is killed and the answer is 504.",
    )
    workers: int = Field(
        default_factory=_cpu_count,
        ge=1,
        description="Extraction worker processes (default: the number of CPUs, `os.cpu_count()`).",
    )
    max_queue: int = Field(
        16,
        ge=0,
        description="Requests allowed to wait for a busy pool; one more gets 503 with `Retry-After`.",
    )
    max_tasks_per_child: int = Field(
        100,
        ge=1,
        description="Extractions a worker process runs before it is replaced by a fresh one.",
    )
    worker_memory_limit_mb: int = Field(
        2048,
        ge=0,
        description="Address-space limit of each worker process in MiB (RLIMIT_AS); 0 disables it.",
    )
    worker_cpu_seconds: float = Field(
        40.0,
        ge=0,
        description="CPU time (user + system) one extraction may use in its worker (RLIMIT_CPU, whole seconds); past "
        "it the worker is ended and the answer is 422 `resource-limit` naming `worker_cpu_seconds`. 0 disables it. "
        "500 real report pages take ~20 s; any hostile input under 1 MB is answered within 5 s.",
    )
    max_pages: int = Field(
        500,
        ge=1,
        description="PDFs with more pages are refused with 422 too-many-pages.",
    )
    # OCR (scanned PDF pages and images; needs the [ocr] extra)
    max_ocr_pages: int = Field(
        50,
        ge=0,
        description="Files with more pages to OCR are refused with 422 too-many-pages (a page costs ~5 CPU-s).",
    )
    ocr_threads: int = Field(
        1,
        ge=1,
        description="onnxruntime threads per OCR'd page in a worker; raise it only when workers < cores.",
    )
    start_method: Literal["forkserver", "spawn"] = Field(
        "forkserver",
        description="How worker processes are started (multiprocessing start method).",
    )
    ready_min_memory_mb: int = Field(
        256,
        ge=0,
        description="`/readyz` fails when less memory than this (MiB) is available to the host or container.",
    )
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        "info", description="Log level of the server."
    )

    # ---- service: async jobs, callbacks, browser/gateway fit (issue #13) ----------------------
    job_store: Literal["sqlite", "redis"] = Field(
        "sqlite",
        description="Where async jobs live: `sqlite` (embedded, one replica) or `redis` (shared by every replica).",
    )
    job_dir: str = Field(
        "",
        description="Directory of the SQLite job store file `govreport-jobs.sqlite3` (a volume, or the pod's temp dir); "
        "empty: `govreport-jobs/` in the system temp dir. Created on the first job, not at start-up.",
    )
    redis_url: str = Field(
        "redis://localhost:6379/0", description="Redis URL of the `redis` job store (redis-py `from_url` syntax)."
    )
    job_ttl_seconds: int = Field(
        3600, ge=1, description="Seconds a finished job (its result or problem) is kept before it expires (404)."
    )
    job_deadline_seconds: float = Field(
        600.0, gt=0, description="Deadline of one async job (queue wait + extraction); past it the job fails."
    )
    max_job_workers: int = Field(
        0,
        ge=0,
        description="Workers async jobs may hold at once (at most `workers`); 0: all but one when there are two or "
        "more, so a synchronous `POST /v1/extract` always finds a worker (with one worker, jobs may use it). "
        "A job beyond it stays `queued` until a job slot frees.",
    )
    max_jobs_pending: int = Field(
        64, ge=1, description="Jobs one replica accepts while earlier ones are still queued or running; more get 503."
    )
    job_stale_seconds: float = Field(
        30.0,
        gt=0,
        description="A queued/running job whose replica stopped refreshing it for this long is reported failed (job-lost).",
    )
    callback_hosts: str = Field(
        "",
        description="Comma-separated host names a job's `callback_url` may point to; empty disables callbacks.",
    )
    callback_attempts: int = Field(5, ge=1, description="Attempts to deliver a job's callback (exponential back-off).")
    cors_origins: str = Field(
        "", description="Comma-separated origins allowed by CORS (`*` for any); empty: CORS off."
    )
    api_keys: str = Field(
        "", description="Comma-separated API keys; when set (or `api_keys_file`), `/v1/*` requires `X-API-Key`."
    )
    api_keys_file: str = Field(
        "",
        description="File with one API key per line (blank lines and `#` comments ignored); missing or empty "
        "stops the service at start-up.",
    )
    gzip_min_bytes: int = Field(1024, ge=0, description="Responses at least this large are gzip-compressed when asked.")
    access_log: bool = Field(True, description="Write one JSON access-log line per request (logger `app.access`).")
    # ---- server hardening (admission before the body, timeouts, connections): harden-server ----
    max_uploads: int = Field(
        32,
        ge=1,
        description="Requests with a body served at once (upload, queue and extraction; keep it at least "
        "`workers` + `max_queue`); one more gets 503 `too-many-uploads` with `Retry-After` before its body is read.",
    )
    spool_quota_mb: int = Field(
        256,
        ge=1,
        description="Disk (MiB, under TMPDIR) that in-flight uploads may occupy together; a body that would pass it "
        "gets 503 `spool-full` (before reading when Content-Length says so).",
    )
    header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="A connection must deliver a complete request head within this time, else 408 and close.",
    )
    body_timeout_seconds: float = Field(
        15.0,
        gt=0,
        description="Longest silence while a request body streams in; past it 408 `request-timeout`.",
    )
    max_connections: int = Field(
        256,
        ge=1,
        description="Open client connections; one more is answered 503 and closed at once. Also kept below the "
        "process's file-descriptor limit.",
    )
    max_header_bytes: int = Field(
        16 * 1024,
        ge=1024,
        le=1024 * 1024,
        description="Largest request head (request line and header fields) in bytes; a longer one gets 431 "
        "`header-fields-too-large` (414 `uri-too-long` when the request line alone is longer) and the connection "
        "is closed.",
    )
    max_header_fields: int = Field(
        100,
        ge=8,
        le=10_000,
        description="Most header fields in one request; one more gets 431 `header-fields-too-large`.",
    )
    max_url_bytes: int = Field(
        8 * 1024,
        ge=256,
        le=1024 * 1024,
        description="Longest request target (path and query) in bytes; a longer one gets 414 `uri-too-long`.",
    )

    # ---- problem documents (http-hdr) ----
    problem_base_uri: str = Field(
        PROBLEM_TYPE_BASE,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?/$",
        description="Base of every problem `type` URI (`<base><code>`): an absolute http(s) URI ending in `/`, e.g. "
        "the deployment's own docs. The service serves each code's page at `/problems/<code>` whatever the base.",
    )

    @property
    def worker_memory_limit_bytes(self) -> int:
        return self.worker_memory_limit_mb * MiB

    @property
    def callback_host_list(self) -> frozenset[str]:
        return frozenset(h.strip().lower() for h in self.callback_hosts.split(",") if h.strip())

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    def api_key_list(self) -> list[str]:
        """Keys from `api_keys` and `api_keys_file` (read at startup)."""
        keys = [k.strip() for k in self.api_keys.split(",") if k.strip()]
        if self.api_keys_file:  # fail closed: a keys file that is missing or empty must not leave the API open
            try:
                with open(self.api_keys_file, encoding="utf-8") as f:
                    from_file = [ln.strip() for ln in f if ln.strip() and not ln.lstrip().startswith("#")]
            except OSError as e:
                raise ValueError(f"{env_name('api_keys_file')}={self.api_keys_file}: {e.strerror}") from None
            if not from_file:
                raise ValueError(f"{env_name('api_keys_file')}={self.api_keys_file} holds no key")
            keys += from_file
        return keys


def env_name(field: str) -> str:
    """The environment variable that sets `field`."""
    return f"{ENV_PREFIX}{field.upper()}"


def settings_table() -> str:
    """A Markdown table of every setting with its variable, default and meaning (for docs)."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for name, info in Settings.model_fields.items():
        default = "`os.cpu_count()`" if info.default_factory is not None else f"`{info.default}`"
        extra = " (or `HOST`)" if name == "host" else " (or `PORT`)" if name == "port" else ""
        rows.append(f"| `{env_name(name)}`{extra} | {default} | {info.description} |")
    return "\n".join(rows)
