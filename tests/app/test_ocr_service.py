"""OCR inside the service: the worker task reports OCR pages and time (for Server-Timing and metrics)."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pypdfium2 as pdfium

from app.metrics import Metrics
from app.settings import Settings
from app.worker import ExtractJob, run_extract

SCAN = Path(__file__).resolve().parents[2].parent / "shared" / "formats" / "hongze_2024.scan.pdf"


def _one_page(data: bytes, page: int) -> bytes:
    src, dst = pdfium.PdfDocument(data), pdfium.PdfDocument.new()
    dst.import_pages(src, [page])
    out = io.BytesIO()
    dst.save(out)
    return out.getvalue()


def test_worker_task_reports_ocr_pages_and_time() -> None:
    s = Settings()
    job = ExtractJob(_one_page(SCAN.read_bytes(), 2), "scan.pdf", "application/pdf", s.max_pages, s.max_ocr_pages, s.ocr_threads)
    out = run_extract(job)
    assert out.format == "pdf" and out.ocr_pages == 1 and out.ocr_seconds > 0.1
    values = {i["id"]: i["value"] for i in json.loads(out.result_json)["indicators"]}
    assert values["active.penalty.decisions"] == 2776  # printed on that scanned page


def test_text_layer_jobs_report_no_ocr() -> None:
    pdf = SCAN.parents[1] / "corpus" / "pdf" / "hongze_2024.pdf"
    out = run_extract(ExtractJob(pdf.read_bytes(), "r.pdf", "application/pdf"))
    assert out.ocr_pages == 0 and out.ocr_seconds == 0.0


def test_metrics_expose_ocr_counters() -> None:
    m = Metrics()
    m.ocr_pages.inc(3)
    m.ocr_seconds.inc(12.5)
    text = m.render()[0].decode()
    assert "govreport_ocr_pages_total 3.0" in text and "govreport_ocr_seconds_total 12.5" in text
