"""Sections run in worker processes: throughput with 1 and N processes, and RSS over many extractions.

Workers are started with `spawn` so each one pays its own imports, like a service worker,
and holds nothing inherited from the parent. The corpus is loaded once per worker in the
initializer, so the timed part is extraction only.
"""
from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from .corpus import CorpusFile, load
from .stats import rss_mb

_FILES: list[CorpusFile] = []


def _init_worker(root: str, max_per_format: int | None) -> None:
    """Load the corpus and extract each file once, so the timed tasks are warm."""
    global _FILES
    _FILES = load(Path(root), max_per_format)
    for i in range(len(_FILES)):
        _extract_index(i)


def _extract_index(i: int) -> bool:
    """Extract file `i`; False when the engine refused it (counted, not fatal)."""
    from extractors.pipeline import extract

    f = _FILES[i]
    try:
        extract(f.data, f.name, f.content_type)
    except Exception:  # noqa: BLE001 - failures are counted in the report
        return False
    return True


def _ready(_: int) -> int:
    """Hold the worker briefly so every worker, not just the first warm one, takes a task."""
    time.sleep(0.2)
    return os.getpid()


@dataclass(slots=True)
class Throughput:
    workers: int
    files: int
    seconds: float
    failures: int

    @property
    def files_per_second(self) -> float:
        return self.files / self.seconds if self.seconds else float("nan")

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "files_per_second": self.files_per_second}


def throughput(root: Path, files: list[CorpusFile], max_per_format: int | None, workers: int, rounds: int) -> Throughput:
    """Files per second through a warm pool of `workers` processes, `rounds` passes over the corpus."""
    ctx = multiprocessing.get_context("spawn")
    tasks = [i for _ in range(rounds) for i in range(len(files))]
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(str(root), max_per_format)) as pool:
        for _ in range(50):  # until every worker has started and warmed up (bounded)
            if len(set(pool.map(_ready, range(workers * 2)))) == workers:
                break
        t0 = time.perf_counter()
        ok = list(pool.map(_extract_index, tasks, chunksize=1))
        seconds = time.perf_counter() - t0
    return Throughput(workers, len(tasks), seconds, ok.count(False))


@dataclass(slots=True)
class Memory:
    extractions: int
    failures: int
    rss_after_warmup_mb: float
    rss_after_mb: float
    peak_rss_mb: float

    @property
    def growth_mb(self) -> float:
        return self.rss_after_mb - self.rss_after_warmup_mb

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "growth_mb": self.growth_mb}


def _memory_task(extractions: int) -> Memory:
    after_warmup, _ = rss_mb()
    failures = sum(not _extract_index(i % len(_FILES)) for i in range(extractions))
    after, peak = rss_mb()
    return Memory(extractions, failures, after_warmup, after, peak)


def memory(root: Path, max_per_format: int | None, extractions: int) -> Memory:
    """RSS of one fresh worker after a warm-up pass, and after `extractions` more over the corpus."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=ctx, initializer=_init_worker, initargs=(str(root), max_per_format)) as pool:
        return pool.submit(_memory_task, extractions).result()
