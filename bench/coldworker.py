"""Section "cold worker": a new or recycled service worker's first request against its tenth.

Uses the service's own `app.pool.WorkerPool` with its configured start method (forkserver with the warm
preload by default), one worker, and `max_tasks_per_child` = `warm_index`, so the pool replaces each
worker after `warm_index` jobs exactly as in production. Each worker's first request is file A (cold),
then other corpus files, and its `warm_index`-th request is file B, which that worker has not seen: a
warm worker's cost on a new file, not a memo-cache replay of the same one. Cold and warm samples of the
same file (from different workers) are paired per trial. Times are the pool round trip seen by the caller
(send, extract, reply).
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from .corpus import CorpusFile
from .stats import median


@dataclass(slots=True)
class ColdSample:
    file: str
    fmt: str
    first_ms: float
    warm_ms: float  # the `warm_index`-th request of the same worker

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
            "samples": [{"file": s.file, "format": s.fmt, "first_ms": s.first_ms, "warm_ms": s.warm_ms} for s in self.samples],
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
    pool = WorkerPool(PoolConfig(size=1, max_queue=4, max_tasks_per_child=warm_index,
                                 memory_limit_bytes=s.worker_memory_limit_bytes, start_method=s.start_method))
    t0 = time.perf_counter()
    await pool.start()
    await _idle(pool)
    out = ColdWorker(s.start_method, warm_index, (time.perf_counter() - t0) * 1000)
    loop = asyncio.get_running_loop()

    async def timed(f: CorpusFile) -> float:
        job = ExtractJob(f.data, f.name, f.content_type, s.max_pages, max_ocr_pages=s.max_ocr_pages)
        t = time.perf_counter()
        await pool.run(job, loop.time() + 60, 60)
        return (time.perf_counter() - t) * 1000

    first: dict[str, list[float]] = {}
    warm: dict[str, list[float]] = {}
    k = len(targets)
    try:
        for i in range(k * trials):
            head, tail = targets[i % k], targets[(i + 1) % k]
            others = [f for f in fillers if f.name not in (head.name, tail.name)] or fillers
            await _idle(pool)  # a fresh worker (the previous one was retired after `warm_index` jobs)
            try:
                first.setdefault(head.name, []).append(await timed(head))
                for j in range(warm_index - 2):
                    await timed(others[(i * warm_index + j) % len(others)])
                warm.setdefault(tail.name, []).append(await timed(tail))
            except Exception as exc:  # noqa: BLE001 - reported in the table
                out.errors[f"worker {i}"] = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        await pool.close()
    for f in targets:
        for a, b in zip(first.get(f.name, []), warm.get(f.name, []), strict=False):
            out.samples.append(ColdSample(f.name, f.fmt, a, b))
    return out


def pick(files: list[CorpusFile]) -> list[CorpusFile]:
    """The first file of each format."""
    seen: dict[str, CorpusFile] = {}
    for f in files:
        seen.setdefault(f.fmt, f)
    return list(seen.values())


def run(files: list[CorpusFile], trials: int, warm_index: int = 10) -> ColdWorker:
    """`trials` fresh workers per format; each is timed on its first request and, as the warm reference,
    on its `warm_index`-th, which is a file it has not seen (the requests between are other corpus files)."""
    return asyncio.run(_run(pick(files), files, trials, warm_index))
