"""Section: end-to-end HTTP latency of the running service at 1, 4 and 16 concurrent clients, and its
throughput against the bare worker pool (the same `app.pool.WorkerPool` driven in-process, no HTTP) in
alternating slices at 16 clients.

The service is started as a subprocess on a free 127.0.0.1 port, polled on /readyz, driven
by `bench.loadgen` (pre-built requests on keep-alive connections) over loopback only, bounded in request
count and wall time, and stopped at the end.
"""
from __future__ import annotations

import asyncio
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from . import loadgen
from .corpus import CorpusFile
from .stats import percentile

HOST = "127.0.0.1"
DEFAULT_APP_CMD = "{python} -m app"  # the service reads its bind address from the environment


@dataclass(slots=True)
class Level:
    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    error_kinds: dict[str, int] = field(default_factory=dict)
    by_format_ms: dict[str, list[float]] = field(default_factory=dict)
    # the service's own `Server-Timing` parts (total, upload, extract …): where the latency is spent
    server_ms: dict[str, list[float]] = field(default_factory=dict)
    client_cpu_seconds: float = 0.0  # this process's CPU: a busy client inflates latencies too

    def summary(self) -> dict[str, float]:
        return {
            "p50_ms": percentile(self.latencies_ms, 50),
            "p95_ms": percentile(self.latencies_ms, 95),
            "p99_ms": percentile(self.latencies_ms, 99),
            "requests_per_second": self.requests / self.seconds if self.seconds else float("nan"),
            "client_cpu_share": self.client_cpu_seconds / self.seconds if self.seconds else float("nan"),
        }

    def server_medians(self) -> dict[str, float]:
        return {k: percentile(v, 50) for k, v in self.server_ms.items()}

    def format_medians(self) -> dict[str, float]:
        return {k: percentile(v, 50) for k, v in self.by_format_ms.items()}

    def to_json(self) -> dict[str, object]:
        return {
            "concurrency": self.concurrency,
            "requests": self.requests,
            "errors": self.errors,
            "error_kinds": self.error_kinds,
            "seconds": self.seconds,
            **self.summary(),
            "server_timing_median_ms": self.server_medians(),
            "format_median_ms": self.format_medians(),
            "latencies_ms": self.latencies_ms,
        }


class ServiceError(RuntimeError):
    """The service did not start or never became ready; the section reports it instead of numbers."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@contextmanager
def running_service(app_cmd: str, cwd: Path, ready_timeout: float) -> Iterator[str]:
    """Start the service, wait for /readyz, yield its base URL, always stop it (its own process group)."""

    port = free_port()
    argv = [a.format(python=sys.executable, host=HOST, port=port) for a in shlex.split(app_cmd)]
    address = {"HOST": HOST, "PORT": str(port), "GOVREPORT_HOST": HOST, "GOVREPORT_PORT": str(port)}
    env = {**os.environ, **address}
    base = f"http://{HOST}:{port}"
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            _wait_ready(proc, base, log, ready_timeout)
            yield base
        finally:
            _stop(proc)


def _wait_ready(proc: subprocess.Popen[bytes], base: str, log: IO[bytes], ready_timeout: float) -> None:
    """Poll /readyz until 200; fail fast when the process exits, fail after `ready_timeout` seconds."""
    import httpx

    deadline = time.monotonic() + ready_timeout
    with httpx.Client(base_url=base, timeout=2.0, trust_env=False) as client:
        while True:
            if proc.poll() is not None:
                raise ServiceError(f"service exited with code {proc.returncode}: {_tail(log)}")
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise ServiceError(f"/readyz not 200 within {ready_timeout:.0f}s: {_tail(log)}")
            time.sleep(0.2)


def _tail(log: IO[bytes], n: int = 600) -> str:
    log.flush()
    log.seek(0)
    return log.read().decode("utf-8", "replace")[-n:].strip()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the service's process group, then SIGKILL if it does not exit in time."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def server_timing(header: str) -> dict[str, float]:
    """`total;dur=12.3, extract;dur=10.1` → {"total": 12.3, "extract": 10.1}; malformed parts are skipped."""
    out: dict[str, float] = {}
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "dur" and name:
                try:
                    out[name.strip()] = float(value)
                except ValueError:
                    pass
    return out


async def _drive(base: str, files: list[CorpusFile], concurrency: int, max_requests: int, max_seconds: float, timeout: float) -> Level:
    """A closed loop of `concurrency` clients, each on its own keep-alive connection (`bench.loadgen`)."""
    level = Level(concurrency, 0, 0, 0.0)
    counter = iter(range(max_requests))
    deadline = time.monotonic() + max_seconds
    url = f"{base}/v1/extract"
    requests = [loadgen.multipart_post(url, "file", f.name, f.data, f.content_type) for f in files]
    address = urlsplit(base)
    connections = [loadgen.Connection(address.hostname or HOST, address.port or 80) for _ in range(concurrency)]

    async def client_loop(conn: loadgen.Connection) -> None:
        for i in counter:
            if time.monotonic() > deadline:
                return
            f = files[i % len(files)]
            t0 = time.perf_counter()
            try:
                r = await conn.request(requests[i % len(files)], timeout)
                kind = None if r.status == 200 else f"HTTP {r.status}"
                for name, ms in server_timing(r.headers.get("server-timing", "")).items():
                    level.server_ms.setdefault(name, []).append(ms)
            except (OSError, EOFError, TimeoutError, asyncio.LimitOverrunError, loadgen.LoadgenError) as exc:
                kind = type(exc).__name__
            ms = (time.perf_counter() - t0) * 1000
            level.latencies_ms.append(ms)
            level.by_format_ms.setdefault(f.fmt, []).append(ms)
            level.requests += 1
            if kind:
                level.errors += 1
                level.error_kinds[kind] = level.error_kinds.get(kind, 0) + 1

    try:
        t0, cpu0 = time.perf_counter(), time.process_time()
        await asyncio.gather(*(client_loop(c) for c in connections))
        level.seconds = time.perf_counter() - t0
        level.client_cpu_seconds = time.process_time() - cpu0
    finally:
        await asyncio.gather(*(c.close() for c in connections))
    return level


@dataclass(slots=True)
class PoolComparison:
    """Service vs bare worker pool at one concurrency, in alternating slices (paired per slice)."""

    concurrency: int
    workers: int
    http: list[Level] = field(default_factory=list)
    pool: list[Level] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        return [h.requests / h.seconds / (p.requests / p.seconds)
                for h, p in zip(self.http, self.pool, strict=False) if h.seconds and p.seconds and p.requests]

    @property
    def ratio(self) -> float:
        return percentile(self.ratios, 50)

    @property
    def errors(self) -> int:
        return sum(lv.errors for lv in self.http)

    def to_json(self) -> dict[str, object]:
        return {
            "concurrency": self.concurrency, "workers": self.workers, "ratio": self.ratio, "ratios": self.ratios,
            "http": [lv.to_json() for lv in self.http], "pool": [lv.to_json() for lv in self.pool],
        }


async def _drive_pool(pool: object, files: list[CorpusFile], concurrency: int, max_requests: int, max_seconds: float,
                      timeout: float) -> Level:
    """The same closed loop as `_drive`, straight into an `app.pool.WorkerPool` (no HTTP, no spooling)."""
    from app.settings import Settings
    from app.worker import ExtractJob

    s = Settings()
    level = Level(concurrency, 0, 0, 0.0)
    counter = iter(range(max_requests))
    deadline = time.monotonic() + max_seconds
    loop = asyncio.get_running_loop()
    jobs = [ExtractJob(f.data, f.name, f.content_type, s.max_pages, max_ocr_pages=s.max_ocr_pages,
                       ocr_threads=s.ocr_threads) for f in files]

    async def client_loop() -> None:
        for i in counter:
            if time.monotonic() > deadline:
                return
            t0 = time.perf_counter()
            try:
                await pool.run(jobs[i % len(jobs)], loop.time() + timeout, timeout)  # type: ignore[attr-defined]
                kind = None
            except Exception as exc:  # noqa: BLE001 - counted like an HTTP error
                kind = type(exc).__name__
            ms = (time.perf_counter() - t0) * 1000
            level.latencies_ms.append(ms)
            level.by_format_ms.setdefault(files[i % len(files)].fmt, []).append(ms)
            level.requests += 1
            if kind:
                level.errors += 1
                level.error_kinds[kind] = level.error_kinds.get(kind, 0) + 1

    t0, cpu0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    level.seconds = time.perf_counter() - t0
    level.client_cpu_seconds = time.process_time() - cpu0
    return level


async def _compare(base: str, files: list[CorpusFile], concurrency: int, slices: int, max_requests: int,
                   max_seconds: float, timeout: float) -> PoolComparison:
    """Alternate service and bare-pool slices of `max_requests` each, both pools configured as the service is."""
    from app.pool import PoolConfig, WorkerPool
    from app.settings import Settings

    s = Settings()
    pool = WorkerPool(PoolConfig(size=s.workers, max_queue=s.max_queue, max_tasks_per_child=s.max_tasks_per_child,
                                 memory_limit_bytes=s.worker_memory_limit_bytes, start_method=s.start_method))
    await pool.start()
    out = PoolComparison(concurrency, s.workers)
    try:
        await _drive_pool(pool, files, 1, len(files), max_seconds, timeout)  # warm the pool's workers too
        for i in range(slices):
            pair = [lambda: _drive(base, files, concurrency, max_requests, max_seconds, timeout),
                    lambda: _drive_pool(pool, files, concurrency, max_requests, max_seconds, timeout)]
            for which in (pair if i % 2 == 0 else pair[::-1]):  # ABBA: neither side always goes first
                lv = await which()
                (out.http if which is pair[0] else out.pool).append(lv)
    finally:
        await pool.close()
    return out


def run(
    files: list[CorpusFile],
    app_cmd: str,
    cwd: Path,
    concurrency: tuple[int, ...],
    max_requests: int,
    max_seconds: float,
    ready_timeout: float,
    request_timeout: float,
    pool_slices: int = 0,
    pool_concurrency: int = 16,
) -> tuple[list[Level], PoolComparison | None]:
    """One warm-up pass over the files, then each concurrency level in turn against one service; then, when
    `pool_slices` > 0, the service against a bare worker pool at `pool_concurrency` clients."""
    with running_service(app_cmd, cwd, ready_timeout) as base:
        asyncio.run(_drive(base, files, 1, len(files), max_seconds, request_timeout))  # warm the workers
        levels = [
            asyncio.run(_drive(base, files, c, max(max_requests, c), max_seconds, request_timeout)) for c in concurrency
        ]
        comparison = None
        if pool_slices > 0:
            comparison = asyncio.run(_compare(base, files, pool_concurrency, pool_slices, max(max_requests, pool_concurrency),
                                              max_seconds, request_timeout))
        return levels, comparison
