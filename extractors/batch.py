"""Run the extractor over many report files: locally in worker processes or against a running service.

A batch is a list of `Job`s (one per input file, content-hashed so a re-run can
skip what is already done), an *engine* that turns one job into an `Outcome`
(the exact response JSON, or an RFC 9457 problem object when the file failed),
and a *sink* that stores outcomes as they arrive (one JSON file per input, or one
JSONL line per input). One bad file never stops a batch: it becomes a problem
record and the run goes on.
"""
from __future__ import annotations

import glob
import hashlib
import mimetypes
import os
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Protocol, TextIO

import orjson
from tenacity import Future as RetryFuture
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    stop_when_event_set,
)

from .errors import (
    PROBLEM_TYPE_BASE,
    ExtractionError,
    FileTooLargeError,
    InputError,
    UnreadableDocumentError,
    UnsupportedFormatError,
)

# --------------------------------------------------------------------------- settings


def _read_extensions() -> tuple[str, ...]:
    """Extensions of the formats the extractor reads (`extractors/data/formats.toml`, status `read`)."""
    from .readers.formats import load_formats

    return tuple(sorted({e.lower() for f in load_formats() if f.status == "read" for e in f.extensions}))


def available_cores() -> int:
    """Cores this process may run on (a container or taskset may allow fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class BatchSettings:
    """Knobs of a local batch run."""

    workers: int = field(default_factory=available_cores)
    min_confidence: float = 0.9  # values below this are counted in the summary and listed for review
    extensions: tuple[str, ...] = field(default_factory=lambda: _read_extensions())  # from data/formats.toml
    inflight_per_worker: int = 2  # jobs queued per worker: enough to keep them busy, few to redo after a crash
    sniff_max_bytes: int = 512 * 1024 * 1024  # larger files are not sniffed in discovery (extraction refuses them)
    task_timeout: float = 600.0  # seconds one file may take in a worker before it is killed and recorded as timed out
    problem_base: str = PROBLEM_TYPE_BASE  # base of every problem `type` URI, as the service's GOVREPORT_PROBLEM_BASE_URI


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Knobs of a run against a running service (`POST {url}/v1/extract`)."""

    url: str
    concurrency: int = 4
    max_attempts: int = 5  # per file, counting the first; 503/429 and connection errors are retried
    retry_after_cap: float = 30.0  # never sleep longer than this on one Retry-After
    backoff: float = 0.5  # first wait when the service gives no Retry-After; doubles per attempt
    timeout: float = 300.0  # seconds for one request (large PDFs take a while)
    endpoint: str = "/v1/extract"
    problem_base: str = PROBLEM_TYPE_BASE  # base of the problems this client writes itself (the service's are kept)


# --------------------------------------------------------------------------- problems

# The same type URIs and statuses as the HTTP service (app/problems.py), so a batch
# run locally and one through the service record the same problem for the same file;
# `PROBLEM_TYPE_BASE` (extractors.errors) is the default base, the settings carry a run's own.

# First matching class wins: subclasses before their bases.
_STATUS_BY_CLASS: tuple[tuple[type[ExtractionError], int], ...] = (
    (FileTooLargeError, 413),
    (UnsupportedFormatError, 415),
    (InputError, 400),
    (UnreadableDocumentError, 422),
    (ExtractionError, 422),
)
_RESERVED = frozenset({"type", "title", "status", "detail", "file", "instance"})
_RETRYABLE_STATUS = frozenset({429, 502, 503})  # not 504: a file past its deadline would pass it again


def problem(code: str, title: str, status: int, detail: str, file: str, base: str = PROBLEM_TYPE_BASE) -> dict[str, object]:
    """An RFC 9457 problem object (`type` under `base`), plus the `file` it is about."""
    return {"type": base + code, "title": title, "status": status, "detail": detail, "file": file}


def problem_for(error: BaseException, file: str, base: str = PROBLEM_TYPE_BASE) -> dict[str, object]:
    """The problem object for an exception raised while extracting `file`."""
    if isinstance(error, ExtractionError):
        status = next(s for cls, s in _STATUS_BY_CLASS if isinstance(error, cls))
        extra = {k: v for k, v in error.extra.items() if isinstance(v, (str, int, float, bool)) and k not in _RESERVED}
        return {**problem(error.code, error.title, status, error.detail, file, base), **extra}
    if isinstance(error, OSError):
        detail = f"{type(error).__name__}: {error.strerror or error}"
        return problem(InputError.code, "The file cannot be opened", 400, detail, file, base)
    return problem("internal-error", "Internal extraction error", 500, f"{type(error).__name__}: {str(error)[:300]}", file, base)


# --------------------------------------------------------------------------- jobs


@dataclass(frozen=True, slots=True)
class Job:
    """One input file. `sha256` is None when the file cannot be read (it then fails without extraction)."""

    file: str
    sha256: str | None
    error: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one input produced: `body` is the exact response JSON (ok) or a problem object's JSON."""

    file: str
    sha256: str | None
    ok: bool
    body: bytes

    def parsed(self) -> dict:
        return orjson.loads(self.body)


def sha256_of(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _has_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def _walk(folder: Path, extensions: tuple[str, ...]) -> Iterator[Path]:
    """Every file under `folder`, recursively, sorted, hidden files and folders skipped.

    Files of a type the extractor does not read are yielded too: `discover` lists
    them with their reason instead of skipping them without a word.
    """
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name


def _not_read(p: Path, settings: BatchSettings) -> dict[str, object] | None:
    """The `not-read` problem for a file no reader handles, decided from its bytes (readers/sniff), else None.

    Content, not the name, decides (as in the service): a report saved as `.dat` is read, a binary
    under `.txt` is not. A file the sniffer finds damaged or encrypted goes on to extraction, which
    names the precise problem; a readable file that is no report gets the pipeline's `not-a-report`.
    """
    from .readers.sniff import sniff

    try:
        if p.stat().st_size > settings.sniff_max_bytes or sniff(p.read_bytes()) is not None:
            return None
    except ExtractionError:
        return None
    return problem("not-read", "File type not read", 415,
                   f"No reader handles this kind of file ({p.suffix.lower() or 'no extension'}; decided from its "
                   "content, not its name).", str(p), settings.problem_base)


def discover(paths: Iterable[str], settings: BatchSettings = BatchSettings()) -> list[Job]:
    """Expand files, folders (recursive) and globs into jobs, in order, without duplicates.

    Every file found is a job; one that no reader handles (decided from its bytes) carries its
    `not-read` problem, so it is listed with its reason. A path that does not exist, or a glob that matches nothing, becomes a failed job
    rather than an abort, so the rest of the batch still runs.
    """
    jobs: list[Job] = []
    seen: set[Path] = set()

    def add(p: Path, found: bool = False) -> None:
        key = p.resolve()
        if key in seen:
            return
        seen.add(key)
        try:
            reason = _not_read(p, settings) if found else None
            jobs.append(Job(str(p), None if reason else sha256_of(p), reason))
        except OSError as e:
            jobs.append(Job(str(p), None, problem_for(e, str(p), settings.problem_base)))

    for arg in paths:
        p = Path(arg)
        if p.is_dir():
            for f in _walk(p, settings.extensions):
                add(f, found=True)
        elif p.is_file():
            add(p)  # named explicitly: read whatever the extension
        elif _has_glob(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            files = [Path(m) for m in matches if Path(m).is_file()]
            for d in (Path(m) for m in matches if Path(m).is_dir()):
                files.extend(_walk(d, settings.extensions))
            if not files:
                jobs.append(Job(arg, None, problem(InputError.code, "No file matches", 400, "The pattern matches no report file.", arg,
                                            settings.problem_base)))
            for f in files:
                add(f, found=True)
        else:
            jobs.append(Job(arg, None, problem(InputError.code, "The file cannot be opened", 400, "No such file or directory.", arg,
                                        settings.problem_base)))
    return jobs


# --------------------------------------------------------------------------- engines


def extract_file(path: str, base: str = PROBLEM_TYPE_BASE) -> tuple[bool, bytes]:
    """Extract one file in this process: (True, response JSON) or (False, problem JSON).

    Top-level so worker processes can run it; every exception becomes a problem so a
    bug triggered by one odd file is recorded against that file, not raised.
    """
    from .pipeline import (
        extract,  # imported here: workers pay the import once, the CLI stays light
    )

    try:
        data = Path(path).read_bytes()
        result = extract(data, filename=Path(path).name)
    except Exception as e:  # noqa: BLE001 — any failure is this file's failure
        return False, orjson.dumps(problem_for(e, path, base))
    return True, result.model_dump_json().encode()


Report = Callable[[Outcome], None]


class Engine(Protocol):
    def run(self, jobs: list[Job], report: Report) -> str | None:
        """Report an outcome per job; or stop early, returning why (the jobs not reported were not tried)."""
        ...


def _failed(job: Job, body: dict[str, object]) -> Outcome:
    return Outcome(job.file, job.sha256, False, orjson.dumps(body))


def _worker_init() -> None:
    """Workers leave Ctrl-C to the parent, which stops them (a terminal sends SIGINT to the whole group)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


@dataclass
class LocalEngine:
    """Extract in worker processes (pebble's pool; inline for one worker / one file).

    pebble gives each file its own timeout and survives a worker that dies (a crash
    in a native PDF library, out of memory): only that file is recorded as failed
    and the pool replaces the worker. On an interrupt (SIGINT, or SIGTERM which the
    CLI turns into one) the pool is stopped, its workers terminated, before the
    interrupt goes on.
    """

    settings: BatchSettings = field(default_factory=BatchSettings)
    # a top-level function of (path, problem base), so workers can unpickle it
    task: Callable[[str, str], tuple[bool, bytes]] = extract_file

    def run(self, jobs: list[Job], report: Report) -> str | None:
        if self.settings.workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                ok, body = self.task(job.file, self.settings.problem_base)
                report(Outcome(job.file, job.sha256, ok, body))
            return None
        from concurrent.futures import TimeoutError as FutureTimeout

        from pebble import ProcessExpired, ProcessPool

        base = self.settings.problem_base
        queue: deque[Job] = deque(jobs)
        limit = self.settings.workers * self.settings.inflight_per_worker
        pool = ProcessPool(max_workers=self.settings.workers, initializer=_worker_init)
        try:
            inflight: dict[Future, Job] = {}
            while queue or inflight:
                while queue and len(inflight) < limit:
                    job = queue.popleft()
                    inflight[pool.schedule(self.task, args=(job.file, base), timeout=self.settings.task_timeout)] = job
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in done:
                    job = inflight.pop(fut)
                    try:
                        ok, body = fut.result()
                    except FutureTimeout:
                        report(_failed(job, problem("timeout", "The extraction took too long", 504,
                                                    f"Stopped after {self.settings.task_timeout:g} s.", job.file, base)))
                        continue
                    except ProcessExpired as e:
                        report(_failed(job, problem("worker-crashed", "The extractor process crashed", 500,
                                                    f"The worker process died while reading this file ({e}).", job.file,
                                                    base)))
                        continue
                    except Exception as e:  # noqa: BLE001 — the task itself never raises; pickling may
                        report(_failed(job, problem_for(e, job.file, base)))
                        continue
                    report(Outcome(job.file, job.sha256, ok, body))
        except BaseException:
            pool.stop()  # terminate the workers now, not after their files
            pool.join(timeout=10)
            raise
        pool.close()
        pool.join()


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class ServerEngine:
    """Send each file to a running service with bounded concurrency, retrying 503/429 as the service asks.

    A file whose every attempt met a connection error means the service is gone:
    the run stops there (files in flight stop retrying, files not yet sent are not
    sent, and not recorded, so the next run sends them) instead of retrying every
    remaining file `max_attempts` times.
    """

    settings: ServerSettings
    sleep: Callable[[float], None] = time.sleep

    def run(self, jobs: list[Job], report: Report) -> str | None:
        import httpx

        lock = threading.Lock()
        down = threading.Event()
        limits = httpx.Limits(max_connections=self.settings.concurrency, max_keepalive_connections=self.settings.concurrency)
        # A proxy from the environment must not swallow requests to a service on this machine.
        host = httpx.URL(self.settings.url).host
        trust_env = host not in ("localhost", "::1") and not host.startswith("127.")
        with httpx.Client(timeout=self.settings.timeout, limits=limits, trust_env=trust_env) as client:

            def one(job: Job) -> None:
                if down.is_set():
                    return
                outcome = self.post(client, job, down)
                if not outcome.ok and outcome.parsed().get("type") == self.settings.problem_base + "service-unreachable":
                    down.set()
                with lock:
                    report(outcome)

            with ThreadPoolExecutor(max_workers=self.settings.concurrency) as pool:
                for fut in [pool.submit(one, job) for job in jobs]:
                    fut.result()
        if down.is_set():
            return f"the service at {self.settings.url} stopped answering"
        return None

    def post(self, client: httpx.Client, job: Job, down: threading.Event | None = None) -> Outcome:  # noqa: F821
        """POST one file, retrying while the service is saturated or unreachable (bounded attempts; no more
        once `down` is set)."""
        import httpx

        path = Path(job.file)
        try:
            data = path.read_bytes()
        except OSError as e:
            return _failed(job, problem_for(e, job.file, self.settings.problem_base))
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        url = self.settings.url.rstrip("/") + self.settings.endpoint
        cfg = self.settings

        def wait(state: RetryCallState) -> float:
            """Retry-After when the service sends one (capped), else a doubling back-off."""
            backoff = cfg.backoff * 2 ** (state.attempt_number - 1)
            if state.outcome is not None and not state.outcome.failed:
                asked = retry_after_seconds(state.outcome.result().headers.get("retry-after"))
                return min(cfg.retry_after_cap, asked if asked is not None else backoff)
            return backoff

        retrying = Retrying(
            stop=stop_after_attempt(cfg.max_attempts) | stop_when_event_set(down or threading.Event()),
            wait=wait, sleep=self.sleep,
            retry=retry_if_exception_type(httpx.HTTPError) | retry_if_result(lambda r: r.status_code in _RETRYABLE_STATUS),
            retry_error_callback=lambda state: state.outcome,  # out of attempts: the last outcome, handled below
        )
        resp = retrying(client.post, url, files={"file": (path.name, data, ctype)})
        if isinstance(resp, RetryFuture):
            if resp.failed:
                return _failed(job, problem("service-unreachable", "The extraction service cannot be reached", 503,
                                            f"{type(resp.exception()).__name__} after "
                                            f"{resp.attempt_number} attempts.",
                                            job.file, cfg.problem_base))
            resp = resp.result()
        if resp.is_success:
            try:
                ok = isinstance(orjson.loads(resp.content), dict)
            except orjson.JSONDecodeError:
                ok = False
            if ok:
                return Outcome(job.file, job.sha256, True, resp.content)
            return _failed(job, problem("bad-response", "The service answered with something other than JSON",
                                        502, f"HTTP {resp.status_code}, {len(resp.content)} bytes.", job.file, cfg.problem_base))
        return _failed(job, self._problem_from(resp, job.file, cfg.problem_base))

    @staticmethod
    def _problem_from(resp: httpx.Response, file: str, base: str = PROBLEM_TYPE_BASE) -> dict[str, object]:  # noqa: F821
        """The service's own problem object (with `file` added), or one made from the status line."""
        try:
            body = resp.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and "status" in body:
            return {**body, "file": file}
        return problem(f"http-{resp.status_code}", resp.reason_phrase or "HTTP error", resp.status_code,
                       resp.text[:300] if resp.text else "The service returned an error without a problem body.", file, base)


# --------------------------------------------------------------------------- sinks


class DirSink:
    """One `<input file name>.json` per input in a folder (the layout `eval/score.py` reads)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        out.mkdir(parents=True, exist_ok=True)

    def write(self, outcome: Outcome) -> None:
        target = self.out / (Path(outcome.file).name + ".json")
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(outcome.body)
        tmp.replace(target)

    def close(self) -> None:
        pass


def jsonl_line(outcome: Outcome) -> bytes:
    """One JSONL line: {"file", "sha256", "result" | "error"}, the body embedded byte for byte."""
    key = "result" if outcome.ok else "error"
    body = outcome.body.strip()
    if b"\n" in body or b"\r" in body:  # pretty-printed by some server: one line per record all the same
        body = orjson.dumps(orjson.loads(body))
    return orjson.dumps({"file": outcome.file, "sha256": outcome.sha256, key: orjson.Fragment(body)}) + b"\n"


class JsonlSink:
    """Append one line per input and flush it at once, so an interrupted run loses at most the line being written."""

    def __init__(self, out: Path) -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        needs_newline = out.exists() and out.stat().st_size > 0 and not _ends_with_newline(out)
        self.f = out.open("ab")
        if needs_newline:  # a previous run died mid-line: start clean
            self.f.write(b"\n")

    def write(self, outcome: Outcome) -> None:
        self.f.write(jsonl_line(outcome))
        self.f.flush()

    def close(self) -> None:
        self.f.close()


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def read_jsonl(path: Path) -> Iterator[dict]:
    """The records of a results file; a line cut short by an interrupted run is skipped."""
    if not path.exists():
        return
    with path.open("rb") as f:
        for raw in f:
            raw = raw.strip()
            if not raw:
                continue
            try:
                rec = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if isinstance(rec, dict) and "file" in rec:
                yield rec


_BULKY_PARTS = ("sections", "warnings")


def slim(record: dict) -> dict:
    """A record without the bulky parts (section texts, warnings) that summaries and panels never read.

    Keeps a large results file's records affordable in memory.
    """
    result = record.get("result")
    if not isinstance(result, dict):
        return record
    return {**record, "result": {k: v for k, v in result.items() if k not in _BULKY_PARTS}}


def latest_records(records: Iterable[dict]) -> list[dict]:
    """One record per report, the latest line winning; keyed by content hash (by file name when unreadable)."""
    latest: dict[str, dict] = {}
    for rec in records:
        key = rec.get("sha256") or f"file:{rec['file']}"
        latest.pop(key, None)  # re-insert so the order is that of the latest line
        latest[key] = rec
    return list(latest.values())


# --------------------------------------------------------------------------- progress and summary


_BAR_FORMAT = "[{bar:24}] {n_fmt}/{total_fmt} {percentage:3.0f}% {rate_fmt} ETA {remaining}{postfix}"


class Progress:
    """tqdm's progress bar with rate and ETA on stderr; off a terminal, one line per file instead (for logs)."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True) -> None:
        from tqdm import tqdm

        self.total, self.done, self.failed = total, 0, 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and total > 0
        self.tty = self.enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self.bar = tqdm(total=total, file=self.stream, disable=not self.tty, unit="files", dynamic_ncols=True,
                        bar_format=_BAR_FORMAT)

    def advance(self, outcome: Outcome) -> None:
        from tqdm import tqdm

        self.done += 1
        self.failed += not outcome.ok
        if not self.enabled:
            return
        postfix = f" ({self.failed} not extracted)" if self.failed else ""
        if self.tty:
            if self.failed:
                self.bar.set_postfix_str(postfix.strip(), refresh=False)
            self.bar.update(1)
            if self.done == self.total:
                self.bar.close()
            return
        meter = tqdm.format_meter(self.done, self.total, time.monotonic() - self.start, unit="files",
                                  bar_format=_BAR_FORMAT, postfix=postfix.strip() or None)
        self.stream.write(f"{meter} {'ok  ' if outcome.ok else 'FAIL'} {outcome.file}\n")
        self.stream.flush()


@dataclass
class Summary:
    """What a batch produced, over every input of the run (including those skipped as already done)."""

    min_confidence: float
    files: int = 0
    extracted: int = 0
    skipped: int = 0
    by_format: Counter = field(default_factory=Counter)
    by_template: Counter = field(default_factory=Counter)
    failures: list[dict] = field(default_factory=list)
    low_confidence_values: int = 0
    low_confidence_reports: int = 0
    stopped: str | None = None  # why the run stopped before every file was tried
    not_tried: int = 0

    def add(self, file: str, result: dict | None, error: dict | None, skipped: bool = False) -> None:
        self.files += 1
        self.skipped += skipped
        if result is None:
            self.failures.append({"file": file, **(error or {})})
            return
        self.extracted += not skipped
        doc = result.get("document") or {}
        fmt = doc.get("format") or Path(file).suffix.lstrip(".").lower() or "?"
        self.by_format[fmt] += 1
        self.by_template[((doc.get("template") or {}).get("value")) or "unknown"] += 1
        low = sum(1 for ind in result.get("indicators") or [] if (ind.get("confidence") or 0.0) < self.min_confidence)
        self.low_confidence_values += low
        self.low_confidence_reports += low > 0

    def render(self) -> str:
        def counts(c: Counter) -> str:
            return " · ".join(f"{k} {v}" for k, v in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) or "—"

        ok = self.files - len(self.failures)
        lines = [
            f"Summary: {self.files} files, {ok} ok"
            + (f" ({self.extracted} extracted now, {self.skipped} already done)" if self.skipped else "")
            + f", {len(self.failures)} failed",
            f"  by format:      {counts(self.by_format)}",
            f"  by template:    {counts(self.by_template)}",
            f"  low confidence: {self.low_confidence_values} values below {self.min_confidence:g} "
            f"in {self.low_confidence_reports} reports",
        ]
        kinds = Counter(str(f.get("type", "")).rsplit("/", 1)[-1] for f in self.failures)
        if kinds.get("not-a-report") or kinds.get("not-read"):
            lines.append(f"  not reports:    {kinds.get('not-a-report', 0)} · file types not read: {kinds.get('not-read', 0)}")
        if self.stopped:
            lines.append(f"Stopped early: {self.stopped}; {self.not_tried} files not tried "
                         "(run the same command again to resume)")
        if self.failures:
            lines.append("Failures:")
            lines += [f"  {f['file']}: {f.get('title', 'failed')} ({f.get('status', '?')}) {f.get('detail', '')}".rstrip()
                      for f in self.failures]
        return "\n".join(lines)


# --------------------------------------------------------------------------- runs


class Sink(Protocol):
    def write(self, outcome: Outcome) -> None: ...
    def close(self) -> None: ...


def run(jobs: list[Job], engine: Engine, sink: Sink, summary: Summary, progress: Progress) -> None:
    """Run `jobs` through `engine`, storing and counting each outcome as it arrives."""
    runnable = [j for j in jobs if j.error is None]
    reported = [0]

    def report(outcome: Outcome) -> None:
        reported[0] += 1
        sink.write(outcome)
        body = outcome.parsed()
        summary.add(outcome.file, body if outcome.ok else None, None if outcome.ok else body)
        progress.advance(outcome)

    try:
        for job in jobs:
            if job.error is not None:
                report(_failed(job, job.error))
        reported[0] = 0
        summary.stopped = engine.run(runnable, report)
        summary.not_tried = len(runnable) - reported[0] if summary.stopped else 0
    finally:
        sink.close()


def run_to_dir(paths: list[str], out: Path, engine: Engine, settings: BatchSettings = BatchSettings(),
               stream: TextIO | None = None, quiet: bool = False) -> Summary:
    """`python -m extractors FILE... --out DIR`: one JSON per input, failures as problem JSON."""
    jobs = discover(paths, settings)
    if not jobs:
        raise InputError("No input files: the paths hold no file.")
    names = Counter(Path(j.file).name for j in jobs if j.error is None)
    clashes = sorted(n for n, c in names.items() if c > 1)
    if clashes:
        raise InputError(f"Several inputs share a file name, their outputs would overwrite each other: {', '.join(clashes)}. "
                         "Use `batch` (JSONL output) for such inputs.")
    summary = Summary(settings.min_confidence)
    run(jobs, engine, DirSink(out), summary, Progress(len(jobs), stream, enabled=not quiet))
    return summary


def run_to_jsonl(paths: list[str], out: Path, engine: Engine, settings: BatchSettings = BatchSettings(),
                 stream: TextIO | None = None, quiet: bool = False) -> Summary:
    """`python -m extractors batch PATH... --out results.jsonl`: resumable, keyed by content hash.

    A file whose sha256 already has a result line is skipped; a file that failed
    before is tried again (the failure may have been transient), its new line
    superseding the old one.
    """
    jobs = discover(paths, settings)
    if not jobs:
        raise InputError("No input files: the paths hold no file.")
    done = {rec["sha256"]: slim(rec) for rec in read_jsonl(out) if rec.get("sha256") and "result" in rec}
    summary = Summary(settings.min_confidence)
    todo: list[Job] = []
    for job in jobs:
        prior = done.get(job.sha256) if job.sha256 else None
        if prior is not None:
            summary.add(job.file, prior["result"], None, skipped=True)
        else:
            todo.append(job)
    first_of: dict[str, Job] = {}  # identical content under several names: extract once, record each name
    unique: list[Job] = []
    copies: list[Job] = []
    for job in todo:
        if job.sha256 and job.sha256 in first_of:
            copies.append(job)
        else:
            if job.sha256:
                first_of[job.sha256] = job
            unique.append(job)
    out_stream = stream if stream is not None else sys.stderr
    if summary.skipped and not quiet:
        out_stream.write(f"Resuming: {summary.skipped} files already in {out}, {len(todo)} to do\n")
    sink = JsonlSink(out)
    copied = {job.sha256 for job in copies}
    bodies: dict[str, Outcome] = {}  # only for content that appears under several names
    progress = Progress(len(todo), stream, enabled=not quiet)

    class _Remember:
        def write(self, outcome: Outcome) -> None:
            if outcome.sha256 in copied:
                bodies[outcome.sha256] = outcome  # type: ignore[index]
            sink.write(outcome)

        def close(self) -> None:
            pass

    try:
        run(unique, engine, _Remember(), summary, progress)
        for job in copies:
            src = bodies.get(job.sha256)  # type: ignore[arg-type]
            if src is None:  # the run stopped before its content was tried
                summary.not_tried += 1
                continue
            body_bytes = src.body if src.ok else orjson.dumps({**src.parsed(), "file": job.file})
            outcome = Outcome(job.file, job.sha256, src.ok, body_bytes)
            sink.write(outcome)
            body = outcome.parsed()
            summary.add(job.file, body if outcome.ok else None, None if outcome.ok else body)
            progress.advance(outcome)
    finally:
        sink.close()
    return summary


class MemorySink:
    """Keeps the records in memory (for `series` and `compare` over report files, without a results file)."""

    def __init__(self) -> None:
        self.records: list[dict] = []

    def write(self, outcome: Outcome) -> None:
        self.records.append(orjson.loads(jsonl_line(outcome)))

    def close(self) -> None:
        pass


def records_for(paths: list[str], engine: Engine, settings: BatchSettings = BatchSettings(),
                stream: TextIO | None = None, quiet: bool = False) -> list[dict]:
    """Batch records for `paths`: a `.jsonl` path is read as a results file, the other paths are extracted."""
    records = [rec for p in paths if p.endswith(".jsonl") and Path(p).is_file() for rec in read_jsonl(Path(p))]
    others = [p for p in paths if not (p.endswith(".jsonl") and Path(p).is_file())]
    if others:
        jobs = discover(others, settings)
        sink = MemorySink()
        summary = Summary(settings.min_confidence)
        run(jobs, engine, sink, summary, Progress(len(jobs), stream, enabled=not quiet))
        if summary.stopped:  # what follows is built from fewer reports than asked for: say so
            (stream if stream is not None else sys.stderr).write(
                f"Stopped early: {summary.stopped}; {summary.not_tried} files not tried\n")
        records += sink.records
    if not records:
        raise InputError("No input files: the paths hold no file.")
    return records
