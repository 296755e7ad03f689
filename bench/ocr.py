"""Section "ocr": in-process `extract()` of scanned (image-only) PDF pages, the row beside the text layer.

OCR costs seconds a page where the text layer costs milliseconds, so the section
times a few pages only: the scanned files in `<corpus>/../formats/*.scan.pdf`
(or, without them, the corpus PDFs' first pages rendered to an image-only PDF),
cut to `BenchSettings.ocr_pages` pages, one warm call plus `ocr_repetitions`
timed ones. Peak RSS of the process is reported with it (the recogniser's
models and buffers dominate it).
"""
from __future__ import annotations

import io
import resource
from pathlib import Path

from .corpus import CorpusFile
from .inprocess import FormatResult, Timing, _measure
from .settings import BenchSettings

LABEL = "pdf-scan (OCR)"


def ocr_call(f: CorpusFile) -> object:
    """`extract()` with the not-a-report gate open: a few pages cut from a report need not read as one."""
    from extractors.gate import GateSettings
    from extractors.pipeline import ExtractOptions, extract

    return extract(f.data, f.name, f.content_type, ExtractOptions(gate=GateSettings(threshold=float("-inf"))))


def _cut(data: bytes, pages: int) -> bytes:
    import pypdfium2 as pdfium

    src, dst = pdfium.PdfDocument(data), pdfium.PdfDocument.new()
    dst.import_pages(src, list(range(min(pages, len(src)))))
    out = io.BytesIO()
    dst.save(out)
    return out.getvalue()


def _render_scan(data: bytes, pages: int, dpi: int = 200) -> bytes:
    """A text-layer PDF's first pages as an image-only PDF (JPEG pages, as a scanner writes them)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    images = [doc[i].render(scale=dpi / 72, grayscale=True).to_pil() for i in range(min(pages, len(doc)))]
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=float(dpi), quality=85)
    return out.getvalue()


def inputs(root: Path, pdfs: list[CorpusFile], pages: int) -> list[CorpusFile]:
    """One scanned file of `pages` pages (shared scans when present, else a rendered corpus PDF)."""
    scans = sorted((root.parent / "formats").glob("*.scan.pdf"))
    if scans:
        data = _cut(scans[0].read_bytes(), pages)
        return [CorpusFile(scans[0], "pdf", data, min(pages, _count(data)))]
    if not pdfs:
        return []
    data = _render_scan(pdfs[0].data, pages)
    return [CorpusFile(pdfs[0].path.with_suffix(".scan.pdf"), "pdf", data, _count(data))]


def _count(data: bytes) -> int:
    from .corpus import pdf_pages

    return pdf_pages(data)


def run(root: Path, pdfs: list[CorpusFile], settings: BenchSettings) -> tuple[FormatResult, float]:
    """The OCR row (engine timings per file and page) and the process's peak RSS in MiB after it."""
    files = inputs(root, pdfs, settings.ocr_pages)
    engine = _measure(files, ocr_call, settings.ocr_repetitions, 1)
    result = FormatResult(LABEL, len(files), sum(f.pages for f in files), engine, Timing(), None, None)
    return result, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
