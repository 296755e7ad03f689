"""Small, dependency-free statistics and RSS helpers shared by the sections."""
from __future__ import annotations

import gc
import math
import resource
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100), like numpy's default; NaN when empty."""
    if not values:
        return math.nan
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50.0)


def time_calls(fn: Callable[[], object], repetitions: int, warmup: int) -> list[float]:
    """Milliseconds of each of `repetitions` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    out: list[float] = []
    for _ in range(repetitions):
        t0 = time.perf_counter_ns()
        fn()
        out.append((time.perf_counter_ns() - t0) / 1e6)
    return out


def time_call(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall ms, CPU ms of this thread) of one call. On a shared machine the CPU time shows the
    work itself when the wall time also counts waiting for a core."""
    c0, t0 = time.thread_time_ns(), time.perf_counter_ns()
    fn()
    t1, c1 = time.perf_counter_ns(), time.thread_time_ns()
    return (t1 - t0) / 1e6, (c1 - c0) / 1e6


def rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB, after a GC so garbage is not counted."""
    gc.collect()
    status = Path("/proc/self/status")
    if status.exists():
        fields = dict(
            line.split(":", 1) for line in status.read_text().splitlines() if line.startswith(("VmRSS", "VmHWM"))
        )
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux; no /proc elsewhere
    return math.nan, peak
