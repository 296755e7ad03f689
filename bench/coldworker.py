"""Section "cold worker": a new or recycled service worker's first request against its tenth.

Uses the service's own `app.pool.WorkerPool` with its configured start method (forkserver with the warm
preload by default), one worker, and `max_tasks_per_child` = `warm_index`, so the pool replaces each
worker after `warm_index` jobs exactly as in production. Each worker's first request is file A (cold),
then other corpus files (of other reports), and its `warm_index`-th request is file B, a report that
worker has not seen in any format: a
warm worker's cost on a new file, not a memo-cache replay of the same one. Cold and warm samples of the
same file (from different workers) are paired per trial. The ratio is judged on the worker's own CPU time
(`/proc/PID/schedstat`, ns resolution), which a busy machine's queueing does not inflate; the pool round
trip (send, extract, reply) is reported beside it.
"""
from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field

from .corpus import CorpusFile
from .stats import median


def worker_cpu_ns(pid: int) -> int:
    """CPU time the process's main thread has run, in ns (`/proc/PID/schedstat`): the worker's own work,
    without the time it waited for a core on a busy machine."""
    with open(f"/proc/{pid}/schedstat", encoding="ascii") as fh:
        return int(fh.read().split()[0])


@dataclass(slots=True)
class ColdSample:
    file: str
    fmt: str
    first_ms: float  # worker CPU of its first request
    warm_ms: float  # worker CPU of a warm worker's `warm_index`-th request
    first_wall_ms: float = float("nan")  # the same requests' pool round trip
    warm_wall_ms: float = float("nan")

    @property
    def ratio(self) -> float:
        return self.first_ms / self.warm_ms if self.warm_ms else float("nan")


@dataclass(slots=True)
class ColdWorker:
    start_method: str
    warm_index: int
    pool_start_ms: float  # starting the pool (forkserver start + preload + first fork)
    samples: list[ColdSample] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def by_format(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for fmt in dict.fromkeys(s.fmt for s in self.samples):
            mine = [s for s in self.samples if s.fmt == fmt]
            out[fmt] = {
                "first_ms": median([s.first_ms for s in mine]),
                "warm_ms": median([s.warm_ms for s in mine]),
                "first_wall_ms": median([s.first_wall_ms for s in mine]),
                "warm_wall_ms": median([s.warm_wall_ms for s in mine]),
                "ratio": median([s.ratio for s in mine]),
                "trials": float(len(mine)),
            }
        return out

    @property
    def ratio(self) -> float:
        """Median over every (file, trial) pair of first ÷ warm."""
        return median([s.ratio for s in self.samples])

    def to_json(self) -> dict[str, object]:
        return {
            "start_method": self.start_method, "warm_index": self.warm_index, "pool_start_ms": self.pool_start_ms,
            "ratio": self.ratio, "by_format": self.by_format(), "errors": self.errors,
            "samples": [{"file": s.file, "format": s.fmt, "first_cpu_ms": s.first_ms, "warm_cpu_ms": s.warm_ms,
                         "first_wall_ms": s.first_wall_ms, "warm_wall_ms": s.warm_wall_ms} for s in self.samples],
        }


async def _idle(pool: object, timeout: float = 30.0) -> None:
    """Until the pool has its one worker alive and idle (a replacement has been adopted)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = pool.stats()  # type: ignore[attr-defined]
        if st.alive == 1 and st.busy == 0 and pool._idle.qsize() == 1:  # type: ignore[attr-defined]  # noqa: SLF001
            return
        await asyncio.sleep(0.02)
    raise TimeoutError("no idle replacement worker")


async def _run(targets: list[CorpusFile], fillers: list[CorpusFile], trials: int, warm_index: int) -> ColdWorker:
    from app.pool import PoolConfig, WorkerPool
    from app.settings import Settings
    from app.worker import ExtractJob

    s = Settings()
    # one job more than measured: the pool retires a worker right after its last job, so the timed tenth
    # is followed by an untimed one (the retiring process must still be there to read its CPU time)
    pool = WorkerPool(PoolConfig(size=1, max_queue=4, max_tasks_per_child=warm_index + 1,
                                 memory_limit_bytes=s.worker_memory_limit_bytes, start_method=s.start_method))
    t0 = time.perf_counter()
    await pool.start()
    await _idle(pool)
    out = ColdWorker(s.start_method, warm_index, (time.perf_counter() - t0) * 1000)
    loop = asyncio.get_running_loop()

    async def timed(f: CorpusFile, measure: bool = True) -> tuple[float, float]:
        job = ExtractJob(f.data, f.name, f.content_type, s.max_pages, max_ocr_pages=s.max_ocr_pages)
        if not measure:  # a worker's last job: the pool stops the process right after it
            await pool.run(job, loop.time() + 60, 60)
            return math.nan, math.nan
        (pid,) = pool.worker_pids()
        c, t = worker_cpu_ns(pid), time.perf_counter()
        await pool.run(job, loop.time() + 60, 60)
        wall = (time.perf_counter() - t) * 1000
        return wall, (worker_cpu_ns(pid) - c) / 1e6

    first: dict[str, list[tuple[float, float]]] = {}
    warm: dict[str, list[tuple[float, float]]] = {}
    k = len(targets)
    try:
        for i in range(k * trials):
            head, tail = targets[i % k], targets[(i + 1) % k]
            others = [f for f in fillers if report_of(f) not in (report_of(head), report_of(tail))] or fillers
            await _idle(pool)  # a fresh worker (the previous one was retired after `warm_index` jobs)
            try:
                first.setdefault(head.name, []).append(await timed(head))
                for j in range(warm_index - 2):
                    await timed(others[(i * warm_index + j) % len(others)])
                warm.setdefault(tail.name, []).append(await timed(tail))
                await timed(others[i % len(others)], measure=False)  # the worker's last job: replaced after it
            except Exception as exc:  # noqa: BLE001 - reported in the table
                out.errors[f"worker {i}"] = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        await pool.close()
    for f in targets:
        for (aw, ac), (bw, bc) in zip(first.get(f.name, []), warm.get(f.name, []), strict=False):
            out.samples.append(ColdSample(f.name, f.fmt, ac, bc, aw, bw))
    return out


def report_of(f: CorpusFile) -> str:
    """The report a file renders: the corpus names one report's formats `<stem>.<ext>` (`<stem>.docx.md` …)."""
    return f.name.split(".", 1)[0]


def pick(files: list[CorpusFile]) -> list[CorpusFile]:
    """One file per format, each of a different report where the corpus allows: a worker's warm reference
    must be a report it has not seen in another format (its memo caches would replay it)."""
    out: dict[str, CorpusFile] = {}
    used: set[str] = set()
    for fmt in dict.fromkeys(f.fmt for f in files):
        mine = [f for f in files if f.fmt == fmt]
        choice = next((f for f in mine if report_of(f) not in used), mine[0])
        out[fmt] = choice
        used.add(report_of(choice))
    return list(out.values())


def run(files: list[CorpusFile], trials: int, warm_index: int = 10) -> ColdWorker:
    """`trials` fresh workers per format; each is timed on its first request and, as the warm reference,
    on its `warm_index`-th, which is a file it has not seen (the requests between are other corpus files)."""
    return asyncio.run(_run(pick(files), files, trials, warm_index))
