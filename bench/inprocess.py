"""Section 1: warm in-process `extract()` per file and per PDF page, beside the floor and naive baseline."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from .corpus import CorpusFile, by_format
from .references import FLOORS, NAIVE
from .settings import BenchSettings
from .stats import median, percentile, time_call, time_calls


@dataclass(slots=True)
class Timing:
    """Samples in ms: one per call, and the same divided by the file's page count."""

    per_file: list[float] = field(default_factory=list)
    per_page: list[float] = field(default_factory=list)
    cpu_per_page: list[float] = field(default_factory=list)  # thread CPU time, same calls
    file_medians: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def add(self, f: CorpusFile, samples: list[float], cpu: list[float]) -> None:
        self.per_file += samples
        self.per_page += [s / f.pages for s in samples]
        self.cpu_per_page += [c / f.pages for c in cpu]
        self.file_medians[f.name] = median(samples)

    def summary(self) -> dict[str, float]:
        return {
            "median_ms": median(self.per_file),
            "p95_ms": percentile(self.per_file, 95),
            "page_median_ms": median(self.per_page),
            "page_p95_ms": percentile(self.per_page, 95),
            "cpu_page_median_ms": median(self.cpu_per_page),
            "max_file_median_ms": max(self.file_medians.values(), default=float("nan")),
        }


@dataclass(slots=True)
class FormatResult:
    fmt: str
    files: int
    pages: int
    engine: Timing
    reader: Timing  # the format's reader alone: what is left is the format-independent pipeline
    floor: Timing | None
    naive: Timing | None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"format": self.fmt, "files": self.files, "pages": self.pages}
        for key in ("engine", "reader", "floor", "naive"):
            timing = getattr(self, key)
            out[key] = None if timing is None else {**timing.summary(), **asdict(timing)}
        return out


def _measure(
    files: list[CorpusFile], call: Callable[[CorpusFile], object], repetitions: int, warmup: int
) -> Timing:
    """Time `call` round-robin over the files (a file is never repeated back to back, so its own
    data is not what keeps caches hot); a file whose warm-up call raises is reported, not timed."""
    timing = Timing()
    ok: list[CorpusFile] = []
    for f in files:
        try:
            time_calls(lambda f=f: call(f), 0, warmup)
        except Exception as exc:  # noqa: BLE001 - the benchmark reports engine failures, it does not stop
            timing.errors[f.name] = f"{type(exc).__name__}: {exc}"[:200]
        else:
            ok.append(f)
    wall: dict[str, list[float]] = {f.name: [] for f in ok}
    cpu: dict[str, list[float]] = {f.name: [] for f in ok}
    for _ in range(repetitions):
        for f in ok:
            w, c = time_call(lambda f=f: call(f))
            wall[f.name].append(w)
            cpu[f.name].append(c)
    for f in ok:
        timing.add(f, wall[f.name], cpu[f.name])
    return timing


def engine_call(f: CorpusFile) -> object:
    from extractors.pipeline import extract

    return extract(f.data, f.name, f.content_type)


def reader_call(f: CorpusFile) -> object:
    from extractors.readers import read

    return read(f.data, f.name, f.content_type)


def run(files: list[CorpusFile], settings: BenchSettings) -> list[FormatResult]:
    results: list[FormatResult] = []
    warmup = max(1, settings.warmup)  # "warm": the first call (imports, caches) is never timed
    for fmt, group in by_format(files).items():
        engine = _measure(group, engine_call, settings.repetitions, warmup)
        reader = _measure(group, reader_call, settings.repetitions, warmup)
        floor_fn, naive_fn = FLOORS.get(fmt), NAIVE.get(fmt)
        floor = _measure(group, lambda f, fn=floor_fn: fn(f.data), settings.repetitions, warmup) if floor_fn else None
        naive = (
            _measure(group, lambda f, fn=naive_fn: fn(f.data), settings.baseline_repetitions, warmup)
            if naive_fn
            else None
        )
        results.append(FormatResult(fmt, len(group), sum(f.pages for f in group), engine, reader, floor, naive))
    return results
