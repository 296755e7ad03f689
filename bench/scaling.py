"""Section: cost growth. Does the per-page cost stay flat from 10 to 100 to 300 pages?

The big PDFs are real corpus pages concatenated with pypdfium2 (`PdfDocument.new()` +
`import_pages`), so they have the same text density as the 10-page files they are compared with.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from .corpus import CorpusFile
from .inprocess import engine_call
from .stats import median, time_calls


@dataclass(slots=True)
class ScalingPoint:
    pages: int
    file_median_ms: float
    page_median_ms: float
    error: str | None = None
    # a fresh spawned worker's VmHWM after warming on a 10-page file, and after extracting this PDF once
    peak_rss_before_mb: float | None = None
    peak_rss_mb: float | None = None


def build_pdf(sources: list[CorpusFile], pages: int, out: Path) -> Path:
    """A `pages`-page PDF made of the sources' pages in turn, written to `out`."""
    import pypdfium2 as pdfium

    if not sources:
        raise ValueError("no corpus PDF to build from")
    docs = [pdfium.PdfDocument(s.data) for s in sources]
    new = pdfium.PdfDocument.new()
    try:
        i = 0
        while len(new) < pages:
            src = docs[i % len(docs)]
            take = min(len(src), pages - len(new))
            new.import_pages(src, list(range(take)), len(new))
            i += 1
        new.save(out)
    finally:
        new.close()
        for d in docs:
            d.close()
    return out


def _point(f: CorpusFile, repetitions: int, warmup: int) -> ScalingPoint:
    try:
        samples = time_calls(lambda: engine_call(f), repetitions, warmup)
    except Exception as exc:  # noqa: BLE001 - reported in the table
        return ScalingPoint(f.pages, float("nan"), float("nan"), f"{type(exc).__name__}: {exc}"[:200])
    return ScalingPoint(f.pages, median(samples), median([s / f.pages for s in samples]))


def run(pdfs: list[CorpusFile], sizes: tuple[int, ...], repetitions: int) -> list[ScalingPoint]:
    """Per-page cost of the 10-page corpus PDFs (the reference), then of each synthetic size."""
    ten = [f for f in pdfs if f.pages == 10] or pdfs
    points: list[ScalingPoint] = []
    ref = [_point(f, repetitions, 1) for f in ten]
    good = [p for p in ref if p.error is None]
    if good:
        points.append(
            ScalingPoint(
                ten[0].pages if len({f.pages for f in ten}) == 1 else 0,
                median([p.file_median_ms for p in good]),
                median([p.page_median_ms for p in good]),
            )
        )
    else:
        points.append(ref[0] if ref else ScalingPoint(10, float("nan"), float("nan"), "no corpus PDF"))
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
        for n in sizes:
            path = build_pdf(ten, n, Path(tmp) / f"synthetic_{n}p.pdf")
            big = CorpusFile(path, "pdf", path.read_bytes(), n)
            point = _point(big, repetitions, 1 if n <= 100 else 0)
            try:
                point.peak_rss_before_mb, point.peak_rss_mb = peak_rss(ten[0], big)
            except Exception as exc:  # noqa: BLE001 - reported in the table
                point.error = point.error or f"peak RSS: {type(exc).__name__}: {exc}"[:200]
            points.append(point)
    return points


def _peak_task(warm: CorpusFile, big: CorpusFile) -> tuple[float, float]:
    from .stats import rss_mb

    engine_call(warm)
    _, before = rss_mb()
    engine_call(big)
    _, after = rss_mb()
    return before, after


def peak_rss(warm: CorpusFile, big: CorpusFile) -> tuple[float, float]:
    """(peak RSS after a warm-up extraction, peak RSS after extracting `big`) of a fresh spawned process, MiB."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_peak_task, warm, big).result()
