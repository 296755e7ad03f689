"""Async jobs: `POST /v1/jobs` → 202 + Location, `GET /v1/jobs/{id}` to poll, `DELETE` to cancel.

The replica that accepts a job runs it on its own worker pool (the bytes never
leave it); the job's state lives in the job store (`app.jobstore`) so any
replica can answer for it. The upload is spooled to disk like a `/v1/extract`
body (same size limit, same spool quota); the job keeps that file (a hard link
in the spool directory, still counted against the quota) until it finishes, and
the worker reads it from there, so queued jobs cost disk, not server memory.
While a PDF is read, the worker's page progress reaches the store with the
heartbeat. The runner keeps a heartbeat on its active jobs;
a reader that finds a queued/running job whose heartbeat went stale reports it
failed (`job-lost`): its replica died. A DELETE on any replica marks the job
cancelled in the store; the owning replica notices on its next beat and kills
the worker, so the slot is freed for other work. A finished job may POST its
final status to an allow-listed `callback_url` (retried with tenacity).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path as FilePath
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from extractors import ExtractionError, ExtractionResult

from .errors import (
    CallbackNotAllowedError,
    DeadlineExceededError,
    JobCancelledError,
    JobLostError,
    JobNotFoundError,
    PoolSaturatedError,
    WorkerBugError,
)
from .jobstore import FINAL, JobRecord, JobStatus, JobStore
from .metrics import Metrics
from .pool import WorkerPool
from .problems import Problem, localized_problem, problem_responses, status_for
from .routes import API_VERSION, EXTRACT_REQUEST_BODY, FilenameParam, IncludeParam, MinConfidenceParam, Part, shape
from .settings import Settings
from .upload import Spool, spooled_upload
from .worker import ExtractJob, JobOutput

log = logging.getLogger("app.jobs")

router = APIRouter(tags=["jobs"])

POLL_SECONDS = 1
SATURATED_RETRY_SECONDS = 1.0  # a job that finds the pool's queue full tries again this much later


class JobProgress(BaseModel):
    pages_done: int | None = Field(None, description="Pages read so far (PDF: updated while it runs; null until known).")
    pages_total: int | None = Field(None, description="Pages of the document (PDF: known once reading starts).")


class Job(BaseModel):
    """The state of one async job; `result` once it succeeded, `problem` once it failed."""

    id: str
    status: JobStatus = Field(description="queued → running → succeeded | failed.")
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    expires_at: datetime = Field(description="When the job and its result are forgotten (then 404).")
    filename: str | None = None
    progress: JobProgress
    result: ExtractionResult | None = Field(None, description="The extraction (as `POST /v1/extract` returns it).")
    problem: Problem | None = Field(None, description="Why the job failed (RFC 9457 problem).")


def _ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def job_slots(max_job_workers: int, workers: int) -> int:
    """Workers jobs may hold at once: `max_job_workers` (at most all), or by default all but one of two or more.

    A long job must not take the worker a synchronous request needs: with the default, a replica of
    `workers` ≥ 2 always keeps one for `/v1/extract`, however many jobs are queued.
    """
    if max_job_workers:
        return max(1, min(max_job_workers, workers))
    return workers - 1 if workers >= 2 else 1


def _problem_of(exc: ExtractionError) -> dict[str, Any]:
    extra = {k: v for k, v in exc.extra.items() if isinstance(v, (str, int, float, bool)) or v is None}
    return {"code": exc.code, "status": status_for(exc), "detail": exc.detail, "extra": extra}


class JobRunner:
    """Runs this replica's jobs and keeps their records fresh in the shared store."""

    def __init__(self, store: JobStore, pool: WorkerPool, settings: Settings, metrics: Metrics) -> None:
        self.store = store
        self.pool = pool
        self.settings = settings
        self.metrics = metrics
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._pids: dict[str, int] = {}
        self._progress: dict[str, tuple[int, int]] = {}
        self._cancelled: set[str] = set()
        self.slots = job_slots(settings.max_job_workers, pool.config.size)
        self._slots = asyncio.Semaphore(self.slots)
        metrics.watch_jobs(self.counts)
        self._beat: asyncio.Task[None] | None = None
        self._callbacks: set[asyncio.Task[None]] = set()

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._beat = asyncio.create_task(self._heartbeat())

    async def close(self) -> None:
        tasks = [t for t in (self._beat, *self._tasks.values(), *self._callbacks) if t is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.to_thread(self.store.close)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def counts(self) -> dict[str, int]:
        """This replica's unfinished jobs by state: `running` holds a worker, `queued` waits for a job slot."""
        running = len(self._pids)
        return {"queued": max(0, len(self._tasks) - running), "running": running}

    # ---- submitting ------------------------------------------------------------------------
    def check_callback(self, url: str | None) -> None:
        if url is None:
            return
        allowed = self.settings.callback_host_list
        parts = urlsplit(url)
        if not allowed:
            raise CallbackNotAllowedError("Callbacks are disabled on this service (no allow-listed hosts).")
        if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() not in allowed:
            raise CallbackNotAllowedError(
                f"callback_url must be an http(s) URL on one of the allowed hosts: {', '.join(sorted(allowed))}."
            )

    def check_room(self) -> None:
        """503 before the body is read when this replica already holds `max_jobs_pending` unfinished jobs."""
        if self.pending >= self.settings.max_jobs_pending:
            raise PoolSaturatedError(
                f"This replica already holds {self.pending} unfinished jobs.", retry_after=self.pool.retry_after()
            )

    async def submit(
        self,
        job_id: str,
        job: ExtractJob,
        options: dict[str, Any],
        callback_url: str | None,
        cleanup: Callable[[], None] = lambda: None,
    ) -> JobRecord:
        """Record the job as queued and start it; `cleanup` runs once it is over (frees its spooled file)."""
        try:
            self.check_room()
            now = time.time()
            record = JobRecord(
                id=job_id,
                status="queued",
                created_at=now,
                expires_at=now + self.settings.job_deadline_seconds + self.settings.job_ttl_seconds,
                heartbeat_at=now,
                filename=job.filename,
                callback_url=callback_url,
                options=options,
            )
            await asyncio.to_thread(self.store.put, record)
        except BaseException:
            cleanup()
            raise
        task = asyncio.create_task(self._run(record, job, cleanup))
        self._tasks[record.id] = task
        task.add_done_callback(lambda _t, job_id=record.id: self._forget(job_id, cleanup))
        return record

    def _forget(self, job_id: str, cleanup: Callable[[], None]) -> None:
        """The job's task is over, even one cancelled before it ever ran: drop its state, free its file."""
        self._tasks.pop(job_id, None)
        self._pids.pop(job_id, None)
        self._progress.pop(job_id, None)
        self._cancelled.discard(job_id)
        cleanup()

    async def _run(self, record: JobRecord, job: ExtractJob, cleanup: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        deadline_s = self.settings.job_deadline_seconds
        deadline = loop.time() + deadline_s
        problem: dict[str, Any] | None = None
        result_json: str | None = None
        pages: int | None = None
        try:
            async with self._slots:
                output = await self._run_on_pool(record, job, deadline, deadline_s)
            result = ExtractionResult.model_validate_json(output.result_json)
            pages = result.document.pages
            include = [Part(p) for p in record.options.get("include", [])]
            result_json = shape(result, include, float(record.options.get("min_confidence", 0.0))).decode()
            self.metrics.files.labels(output.format, output.template).inc()
        except asyncio.CancelledError:
            if record.id not in self._cancelled:
                raise
            problem = _problem_of(JobCancelledError("The job was cancelled before it finished."))
        except ExtractionError as e:
            cancelled = record.id in self._cancelled
            problem = _problem_of(JobCancelledError("The job was cancelled; its worker was stopped.") if cancelled else e)
        except Exception:  # noqa: BLE001 - a bug fails this job only
            log.exception("job %s failed unexpectedly", record.id)
            problem = _problem_of(WorkerBugError("An unexpected error occurred; it has been logged with the job id."))
        finally:
            self._pids.pop(record.id, None)
            self._progress.pop(record.id, None)
            cleanup()
        if problem is not None:
            self.metrics.failures.labels(problem["code"]).inc()
        outcome = "succeeded" if problem is None else "cancelled" if problem["code"] == JobCancelledError.code else "failed"
        self.metrics.job_duration.labels(outcome).observe(max(0.0, time.time() - record.created_at))
        await self._finish(record.id, result_json, problem, pages)

    async def _run_on_pool(self, record: JobRecord, job: ExtractJob, deadline: float, deadline_s: float) -> JobOutput:
        """The pool's answer; a pool saturated by synchronous requests makes the job wait its turn, not fail."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                return await self.pool.run(
                    job,
                    deadline,
                    deadline_s,
                    on_worker=lambda pid: self._started(record, pid),
                    on_progress=lambda done, total: self._progress.__setitem__(record.id, (done, total)),
                )
            except PoolSaturatedError:
                if loop.time() + SATURATED_RETRY_SECONDS >= deadline:
                    raise DeadlineExceededError(
                        f"No worker became free within the {deadline_s:g} s job deadline.", deadline_seconds=deadline_s
                    ) from None
                await asyncio.sleep(SATURATED_RETRY_SECONDS)

    def _started(self, record: JobRecord, pid: int) -> None:
        self._pids[record.id] = pid
        task = asyncio.get_running_loop().create_task(self._mark_running(record.id))
        self._callbacks.add(task)
        task.add_done_callback(self._callbacks.discard)

    async def _mark_running(self, job_id: str) -> None:
        def running(current: JobRecord) -> JobRecord | None:
            if current.status != "queued":
                return None
            now = time.time()
            return current.evolve(status="running", started_at=now, heartbeat_at=now)

        await asyncio.to_thread(self.store.update, job_id, running)

    async def _finish(
        self, job_id: str, result_json: str | None, problem: dict[str, Any] | None, pages: int | None
    ) -> None:
        now = time.time()
        finished: list[JobRecord] = []

        def finish(current: JobRecord) -> JobRecord | None:
            if current.status in FINAL:  # cancelled (maybe from another replica): its record stays as it is
                return None
            done = pages if pages is not None else current.pages_total if problem is None else current.pages_done
            final = current.evolve(
                status="failed" if problem else "succeeded",
                started_at=current.started_at or now,
                finished_at=now,
                heartbeat_at=now,
                expires_at=now + self.settings.job_ttl_seconds,
                pages_done=done,
                pages_total=pages if pages is not None else current.pages_total,
                problem=problem,
                result_json=result_json,
            )
            finished.append(final)
            return final

        await asyncio.to_thread(self.store.update, job_id, finish)
        self._cancelled.discard(job_id)
        if not finished:
            return
        final = finished[-1]
        if final.callback_url:
            task = asyncio.create_task(self._deliver(final))
            self._callbacks.add(task)
            task.add_done_callback(self._callbacks.discard)

    # ---- cancelling ------------------------------------------------------------------------
    async def cancel(self, job_id: str) -> JobRecord:
        """Cancel an unfinished job (any replica), or forget a finished one; returns its last state."""
        problem = _problem_of(JobCancelledError("The job was cancelled with DELETE before it finished."))
        seen: list[JobRecord] = []

        def cancelled(current: JobRecord) -> JobRecord | None:
            seen.append(current)
            if current.status in FINAL:
                return None
            now = time.time()
            return current.evolve(
                status="failed",
                cancel_requested=True,
                finished_at=now,
                heartbeat_at=now,
                expires_at=now + self.settings.job_ttl_seconds,
                problem=problem,
            )

        record = await asyncio.to_thread(self.store.update, job_id, cancelled)
        if record is None:
            raise JobNotFoundError(f"There is no job {job_id!r} (never created, expired, or deleted).")
        if seen and seen[-1].status in FINAL:  # already over: DELETE forgets it
            await asyncio.to_thread(self.store.delete, job_id)
            return seen[-1]
        self._stop_local(job_id)
        return record

    def _stop_local(self, job_id: str) -> None:
        """Stop a job this replica runs: kill its worker, or drop it from the queue."""
        task = self._tasks.get(job_id)
        if task is None:
            return
        self._cancelled.add(job_id)
        pid = self._pids.get(job_id)
        if pid is not None:
            self.pool.kill(pid)
        else:
            task.cancel()

    # ---- heartbeat -------------------------------------------------------------------------
    async def _heartbeat(self) -> None:
        interval = min(2.0, self.settings.job_stale_seconds / 3)
        while True:
            await asyncio.sleep(interval)
            for job_id in list(self._tasks):
                with contextlib.suppress(Exception):  # a store hiccup must not stop the beat
                    await self._beat_one(job_id)

    async def _beat_one(self, job_id: str) -> None:
        """Refresh one job's heartbeat and progress; stop it here when it was cancelled or deleted elsewhere."""
        progress = self._progress.get(job_id)

        def beat(current: JobRecord) -> JobRecord | None:
            if current.status in FINAL:
                return None
            changes: dict[str, Any] = {"heartbeat_at": time.time()}
            if progress is not None:
                changes["pages_done"], changes["pages_total"] = progress
            return current.evolve(**changes)

        current = await asyncio.to_thread(self.store.update, job_id, beat)
        if current is None or current.cancel_requested:
            self._stop_local(job_id)

    def lost(self, record: JobRecord) -> JobRecord:
        """`record` as readers must see it: failed when its replica stopped beating for it (blocking)."""
        if record.status in FINAL or record.id in self._tasks:
            return record
        if time.time() - record.heartbeat_at <= self.settings.job_stale_seconds:
            return record

        def failed(current: JobRecord) -> JobRecord | None:
            now = time.time()
            if current.status in FINAL or now - current.heartbeat_at <= self.settings.job_stale_seconds:
                return None
            problem = _problem_of(
                JobLostError(
                    f"The replica running this job stopped refreshing it {now - current.heartbeat_at:.0f} s ago "
                    "(crashed, restarted or scaled down); submit the file again."
                )
            )
            return current.evolve(
                status="failed", finished_at=now, problem=problem, expires_at=now + self.settings.job_ttl_seconds
            )

        return self.store.update(record.id, failed) or record

    # ---- callbacks -------------------------------------------------------------------------
    async def _deliver(self, record: JobRecord) -> None:
        """POST the final status (not the result) to `callback_url`; retried on network errors, 5xx and 429."""
        import httpx  # only a service with callbacks on pays for the HTTP client (and its optional imports)

        assert record.callback_url is not None
        body = orjson.dumps({k: v for k, v in public_view(record, None, base=self.settings.problem_base_uri).items() if k != "result"})
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.settings.callback_attempts),
                wait=wait_exponential(multiplier=0.2, max=10),
                retry=retry_if_exception(_retryable),
                reraise=True,
            ):
                with attempt:
                    async with httpx.AsyncClient(timeout=10, follow_redirects=False) as client:
                        response = await client.post(
                            record.callback_url, content=body, headers={"Content-Type": "application/json"}
                        )
                        response.raise_for_status()
        except httpx.HTTPError as e:
            log.warning("callback for job %s failed after retries: %s", record.id, e)
        except Exception:  # noqa: BLE001 - a callback bug must not pass silently, nor touch the job
            log.exception("callback for job %s failed", record.id)


def _retryable(exc: BaseException) -> bool:
    """Network trouble and server-side failures are worth another attempt; a 4xx answer is final."""
    import httpx

    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500 or exc.response.status_code == 429
    return isinstance(exc, httpx.TransportError)


def public_view(record: JobRecord, request: Request | None, base: str | None = None) -> dict[str, Any]:
    """The JSON body of `Job` for `record`, problem in the request's language (`type` under `base` without one)."""
    problem = None
    if record.problem is not None:
        p = record.problem
        problem = localized_problem(
            request, p["status"], p["code"], p["detail"], instance=f"/{API_VERSION}/jobs/{record.id}", extra=p["extra"],
            base=base,
        )
    body: dict[str, Any] = {
        "id": record.id,
        "status": record.status,
        "created_at": _ts(record.created_at),
        "started_at": _ts(record.started_at),
        "finished_at": _ts(record.finished_at),
        "expires_at": _ts(record.expires_at),
        "filename": record.filename,
        "progress": {"pages_done": record.pages_done, "pages_total": record.pages_total},
        "result": None,
        "problem": problem,
    }
    return body


def _job_response(record: JobRecord, request: Request, status_code: int = 200) -> Response:
    body = public_view(record, request)
    if record.result_json is not None:
        body["result"] = orjson.Fragment(record.result_json)
    headers = {}
    if record.status not in FINAL:
        headers["Retry-After"] = str(POLL_SECONDS)
    if status_code == 202:
        headers["Location"] = f"/{API_VERSION}/jobs/{record.id}"
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json", headers=headers)


def _runner(request: Request) -> JobRunner:
    return request.app.state.jobs  # type: ignore[no-any-return]


CallbackParam = Annotated[
    str | None,
    Query(
        max_length=2048,
        description="Optional URL that receives a POST of the job's final status (allow-listed hosts only).",
    ),
]
JobId = Annotated[str, Path(pattern="^[0-9a-f]{32}$", description="The job id from `POST /v1/jobs`.")]
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before polling.", "schema": {"type": "string"}}}
_LOCATION = {"Location": {"description": "Where to poll: `/v1/jobs/{id}`.", "schema": {"type": "string"}}}


@router.post(
    f"/{API_VERSION}/jobs",
    operation_id="create_job",
    status_code=202,
    response_model=Job,
    responses={
        202: {"description": "Accepted: poll `Location`.", "headers": {**_LOCATION, **_RETRY_AFTER}},
        **problem_responses(400, 401, 413, 500, 503),
    },
    openapi_extra=EXTRACT_REQUEST_BODY,
    summary="Start an extraction in the background (same inputs as /v1/extract)",
)
async def create_job(
    request: Request,
    include: IncludeParam = [],  # noqa: B006 - FastAPI copies defaults
    min_confidence: MinConfidenceParam = 0.0,
    filename: FilenameParam = None,
    callback_url: CallbackParam = None,
) -> Response:
    """Upload one report; get 202 with `Location: /v1/jobs/{id}` and `Retry-After`, then poll it."""
    runner = _runner(request)
    try:
        runner.check_callback(callback_url)
        runner.check_room()
        settings: Settings = request.app.state.settings
        spool: Spool = request.app.state.spool
        job_id = uuid.uuid4().hex
        deadline_s = settings.request_deadline_seconds
        deadline = asyncio.get_running_loop().time() + deadline_s
        async with spooled_upload(
            request, spool, settings.max_upload_bytes, filename, deadline=deadline, deadline_seconds=deadline_s
        ) as upload:
            # the request's spool file goes when this block ends; the job keeps a second name for it
            kept = upload.path.with_name(f"job-{job_id}")
            os.link(upload.path, kept)
            size, name, content_type = upload.size, upload.filename, upload.content_type
        try:
            spool.reserve(size)  # the job's file counts against the spool quota until the job is over
        except BaseException:
            kept.unlink(missing_ok=True)
            raise
        job = ExtractJob(
            b"", name, content_type, settings.max_pages,
            max_ocr_pages=settings.max_ocr_pages, ocr_threads=settings.ocr_threads, path=str(kept), progress=True,
        )
        options = {"include": [p.value for p in include], "min_confidence": min_confidence}
        record = await runner.submit(job_id, job, options, callback_url, cleanup=_release_once(spool, kept, size))
    except ExtractionError as e:  # refused (no room, callback, upload limits): counted by its problem code
        runner.metrics.job_submissions.labels(e.code).inc()
        raise
    runner.metrics.job_submissions.labels("accepted").inc()
    return _job_response(record, request, 202)


def _release_once(spool: Spool, path: FilePath, size: int) -> Callable[[], None]:
    """Delete a job's spooled file and give its bytes back to the quota (idempotent)."""
    done = False

    def release() -> None:
        nonlocal done
        if not done:
            done = True
            path.unlink(missing_ok=True)
            spool.release(size)

    return release


@router.get(
    f"/{API_VERSION}/jobs/{{job_id}}",
    operation_id="get_job",
    response_model=Job,
    responses={200: {"description": "The job.", "headers": _RETRY_AFTER}, **problem_responses(400, 401, 404, 500)},
    summary="Poll a job: its status, progress, then its result or problem",
)
async def get_job(request: Request, job_id: JobId) -> Response:
    runner = _runner(request)
    record = await asyncio.to_thread(runner.store.get, job_id)
    if record is None:
        raise JobNotFoundError(f"There is no job {job_id!r} (never created, expired after its TTL, or deleted).")
    record = await asyncio.to_thread(runner.lost, record)
    return _job_response(record, request)


@router.delete(
    f"/{API_VERSION}/jobs/{{job_id}}",
    operation_id="delete_job",
    response_model=Job,
    responses=problem_responses(400, 401, 404, 500),
    summary="Cancel an unfinished job (its worker is stopped) or forget a finished one",
)
async def delete_job(request: Request, job_id: JobId) -> Response:
    record = await _runner(request).cancel(job_id)
    return _job_response(record, request)
