"""Section 1: warm in-process `extract()` beside its yardsticks, every candidate timed in ONE run.

Candidates per file: the engine (`extract()`), its reader alone (`readers.read()`), the post-reader
stages alone (`extract_document()` on a freshly read document), the format's floor, the PDF character-box
floor and the naive baseline (`bench.references`). They are timed round-robin: in every round, for every
file, each candidate runs once, in an order that rotates with the round, so slow drift of the machine
(other engineers' jobs, CPU frequency) hits them alike. Every call records wall time and this thread's
CPU time. Ratios are *paired*: engine ÷ floor of the same file in the same round, then the median of
those pairs, so they are not the ratio of two medians taken minutes apart.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from .corpus import CorpusFile, by_format
from .references import CHARBOX_FLOORS, FLOORS, NAIVE
from .settings import BenchSettings
from .stats import median, percentile, time_call, time_calls

# A candidate: given a file, an untimed set-up that returns the timed call.
Setup = Callable[[CorpusFile], Callable[[], object]]

ENGINE, READER, POST, FLOOR, CHARBOX, NAIVE_KEY = "engine", "reader", "post_reader", "floor", "charbox_floor", "naive"


@dataclass(slots=True)
class Timing:
    """Samples in ms: one per call, and the same divided by the file's page count."""

    per_file: list[float] = field(default_factory=list)
    per_page: list[float] = field(default_factory=list)
    cpu_per_file: list[float] = field(default_factory=list)  # thread CPU time, same calls
    cpu_per_page: list[float] = field(default_factory=list)
    file_medians: dict[str, float] = field(default_factory=dict)  # CPU ms per file
    errors: dict[str, str] = field(default_factory=dict)

    def add(self, f: CorpusFile, wall: list[float], cpu: list[float]) -> None:
        self.per_file += wall
        self.per_page += [s / f.pages for s in wall]
        self.cpu_per_file += cpu
        self.cpu_per_page += [c / f.pages for c in cpu]
        self.file_medians[f.name] = median(cpu)

    def summary(self) -> dict[str, float]:
        return {
            "median_ms": median(self.per_file),
            "p95_ms": percentile(self.per_file, 95),
            "page_median_ms": median(self.per_page),
            "page_p95_ms": percentile(self.per_page, 95),
            "cpu_median_ms": median(self.cpu_per_file),
            "cpu_page_median_ms": median(self.cpu_per_page),
            "max_file_median_ms": max(self.file_medians.values(), default=float("nan")),
        }


@dataclass(slots=True)
class FormatResult:
    fmt: str
    files: int
    pages: int
    engine: Timing
    reader: Timing  # the format's reader alone
    floor: Timing | None
    naive: Timing | None
    post_reader: Timing | None = None  # the stages after the reader, on a freshly read document
    charbox_floor: Timing | None = None
    # paired ratios (median over (file, round) pairs of CPU time): "engine/floor", "naive/engine" …
    ratios: dict[str, float] = field(default_factory=dict)

    def timing(self, key: str) -> Timing | None:
        return getattr(self, key)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"format": self.fmt, "files": self.files, "pages": self.pages, "ratios": self.ratios}
        for key in (ENGINE, READER, POST, FLOOR, CHARBOX, NAIVE_KEY):
            timing = self.timing(key)
            out[key] = None if timing is None else {**timing.summary(), **asdict(timing)}
        return out


def engine_call(f: CorpusFile) -> object:
    from extractors.pipeline import extract

    return extract(f.data, f.name, f.content_type)


def reader_call(f: CorpusFile) -> object:
    from extractors.readers import read

    return read(f.data, f.name, f.content_type)


def _post_reader(f: CorpusFile) -> Callable[[], object]:
    """Read the file untimed (a fresh document each call: nothing cached on it), time the rest."""
    from extractors.pipeline import extract_document

    doc = reader_call(f)
    return lambda: extract_document(doc)  # type: ignore[arg-type]


def candidates(fmt: str, naive: bool) -> dict[str, Setup]:
    """The candidates timed for one format; `naive` adds the (slow) naive baseline."""
    out: dict[str, Setup] = {
        ENGINE: lambda f: lambda: engine_call(f),
        READER: lambda f: lambda: reader_call(f),
        POST: _post_reader,
    }
    for key, table in ((FLOOR, FLOORS), (CHARBOX, CHARBOX_FLOORS), *(((NAIVE_KEY, NAIVE),) if naive else ())):
        fn = table.get(fmt)
        if fn is not None:
            out[key] = lambda f, fn=fn: lambda: fn(f.data)
    return out


def _pairs(a: dict[tuple[str, int], float], b: dict[tuple[str, int], float]) -> list[float]:
    return [a[k] / b[k] for k in a if k in b and b[k] > 0]


def _measure(
    files: list[CorpusFile], call: Callable[[CorpusFile], object], repetitions: int, warmup: int
) -> Timing:
    """Time one candidate alone, round-robin over the files (the OCR row: seconds per page, no pairs)."""
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


def run(files: list[CorpusFile], settings: BenchSettings) -> list[FormatResult]:
    """Every candidate of every file, round-robin in one run; one untimed warm-up call of each first."""
    groups = by_format(files)
    rounds = settings.repetitions
    naive_rounds = min(settings.baseline_repetitions, rounds)
    plan = {fmt: candidates(fmt, naive=True) for fmt in groups}
    timings = {fmt: {key: Timing() for key in plan[fmt]} for fmt in groups}
    ok: dict[str, dict[str, list[CorpusFile]]] = {fmt: {key: [] for key in plan[fmt]} for fmt in groups}
    for fmt, group in groups.items():
        for f in group:
            for key, setup in plan[fmt].items():
                try:
                    for _ in range(max(1, settings.warmup)):  # "warm": imports and first-call caches are never timed
                        setup(f)()
                except Exception as exc:  # noqa: BLE001 - the benchmark reports failures, it does not stop
                    timings[fmt][key].errors[f.name] = f"{type(exc).__name__}: {exc}"[:200]
                else:
                    ok[fmt][key].append(f)
    wall: dict[tuple[str, str], dict[tuple[str, int], float]] = {}
    cpu: dict[tuple[str, str], dict[tuple[str, int], float]] = {}
    order = [(fmt, f) for fmt, group in groups.items() for f in group]
    for r in range(rounds):
        for fmt, f in order:
            keys = [k for k in plan[fmt] if f in ok[fmt][k] and (k != NAIVE_KEY or r < naive_rounds)]
            shift = r % len(keys) if keys else 0
            for key in keys[shift:] + keys[:shift]:
                call = plan[fmt][key](f)
                w, c = time_call(call)
                wall.setdefault((fmt, key), {})[(f.name, r)] = w
                cpu.setdefault((fmt, key), {})[(f.name, r)] = c
    results: list[FormatResult] = []
    for fmt, group in groups.items():
        for key in plan[fmt]:
            for f in ok[fmt][key]:
                samples = [(wall[(fmt, key)][(f.name, r)], cpu[(fmt, key)][(f.name, r)])
                           for r in range(rounds) if (f.name, r) in wall.get((fmt, key), {})]
                timings[fmt][key].add(f, [w for w, _ in samples], [c for _, c in samples])
        t = timings[fmt]
        c = {key: cpu.get((fmt, key), {}) for key in plan[fmt]}
        ratios: dict[str, float] = {}
        for label, num, den in (("engine/floor", ENGINE, FLOOR), ("engine/charbox_floor", ENGINE, CHARBOX),
                                ("reader/floor", READER, FLOOR), ("naive/engine", NAIVE_KEY, ENGINE)):
            if num in c and den in c:
                pairs = _pairs(c[num], c[den])
                if pairs:
                    ratios[label] = median(pairs)
        results.append(FormatResult(
            fmt, len(group), sum(f.pages for f in group), t[ENGINE], t[READER], t.get(FLOOR), t.get(NAIVE_KEY),
            t.get(POST), t.get(CHARBOX), ratios,
        ))
    return results


def post_reader_median(results: list[FormatResult]) -> float | None:
    """Median CPU ms of the post-reader stages over every report and round of every format."""
    samples = [x for r in results if r.post_reader is not None for x in r.post_reader.cpu_per_file]
    return median(samples) if samples else None
