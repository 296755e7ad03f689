"""Smoke tests of the benchmark harness: it runs on a couple of real corpus files and prints a table.

Not timed: the assertions are about the harness measuring what it says, never about speed.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench.__main__ import main
from bench.corpus import load
from bench.http import ServiceError, running_service
from bench.report import Check
from bench.scaling import build_pdf
from bench.stats import percentile

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"
DOC = "000_32e6960542ba4ec5"


@pytest.fixture()
def small_corpus(tmp_path: Path) -> Path:
    """One DOCX and one TXT report from the real corpus, laid out like the corpus."""
    root = tmp_path / "corpus"
    for fmt in ("docx", "txt"):
        (root / fmt).mkdir(parents=True)
        shutil.copy(CORPUS / fmt / f"{DOC}.{fmt}", root / fmt)
    (root / "README.md").write_text("not a report\n")  # root-level files are ignored
    return root


def test_quick_run_prints_markdown_table_and_json(small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    argv = ["--quick", "--corpus", str(small_corpus), "--sections", "inprocess,throughput,memory",
            "--workers", "2", "--rss-extractions", "6", "--json", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "| Format | Files | Pages | Median/file |" in text
    assert "| DOCX | 1 | 1 |" in text and "| TXT | 1 | 1 |" in text
    assert "| DOCX median per file |" in text and "### Targets" in text

    raw = json.loads(out.read_text())
    inproc = {r["format"]: r for r in raw["inprocess"]}
    assert set(inproc) == {"docx", "txt"}
    docx = inproc["docx"]
    assert docx["engine"]["errors"] == {} and len(docx["engine"]["per_file"]) == 3  # --quick: 3 repetitions
    assert docx["reader"]["errors"] == {} and len(docx["reader"]["per_file"]) == 3
    # python-docx building its object tree costs more than one lxml parse of document.xml
    assert docx["naive"]["median_ms"] > docx["floor"]["median_ms"] > 0
    assert inproc["txt"]["naive"] is None  # no naive baseline defined for text
    assert [t["workers"] for t in raw["throughput"]] == [1, 2]
    assert all(t["files"] == 2 and t["failures"] == 0 for t in raw["throughput"])
    assert raw["memory"]["extractions"] == 6 and raw["memory"]["peak_rss_mb"] > 10
    assert raw["http"] is None and raw["scaling"] is None


def test_corpus_loader_groups_real_files_and_counts_pdf_pages() -> None:
    files = load(CORPUS, max_per_format=1)
    assert [f.fmt for f in files] == ["pdf", "docx", "html", "txt", "md"]
    pdf = files[0]
    assert pdf.name == f"{DOC}.pdf" and pdf.pages == 10


def test_build_pdf_concatenates_corpus_pages(tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    pdfs = [f for f in load(CORPUS) if f.fmt == "pdf" and f.pages == 10][:2]
    path = build_pdf(pdfs, 25, tmp_path / "big.pdf")
    doc = pdfium.PdfDocument(path)
    try:
        assert len(doc) == 25
        first = doc[0].get_textpage().get_text_range()
        eleventh = doc[10].get_textpage().get_text_range()
    finally:
        doc.close()
    src = pdfium.PdfDocument(pdfs[1].data)
    try:
        assert eleventh == src[0].get_textpage().get_text_range() and first
    finally:
        src.close()


def test_percentile_interpolates_like_numpy() -> None:
    xs = [float(x) for x in range(1, 101)]
    assert percentile(xs, 50) == 50.5
    assert percentile(xs, 95) == pytest.approx(95.05)
    assert percentile([3.0], 99) == 3.0


def test_check_direction_and_unmeasured() -> None:
    assert Check("speed-up", 4.5, 4.0, at_least=True).met is True
    assert Check("latency", 1200.0, 1000.0).met is False
    assert Check("latency", None, 1000.0).met is None


def test_service_that_exits_is_reported_not_waited_for(tmp_path: Path) -> None:
    with (
        pytest.raises(ServiceError, match="code 3"),
        running_service("{python} -c 'raise SystemExit(3)'", tmp_path, ready_timeout=20),
    ):
        pass


def test_server_timing_header_is_parsed_into_named_durations() -> None:
    from bench.http import server_timing

    assert server_timing("total;dur=12.5, upload;dur=0.4, extract;dur=11.9") == {
        "total": 12.5, "upload": 0.4, "extract": 11.9}
    assert server_timing("cache;desc=hit, total;dur=x") == {}


def test_ocr_row_times_scanned_pages_beside_the_text_layer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The OCR section OCRs one scanned page (--quick) and reports it as a row of the in-process table."""
    out = tmp_path / "bench.json"
    assert main(["--quick", "--corpus", str(CORPUS), "--sections", "ocr", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| PDF-SCAN (OCR) | 1 | 1 |" in text
    raw = json.loads(out.read_text())["ocr"]
    assert raw["engine"]["errors"] == {} and len(raw["engine"]["per_page"]) == 1
    assert raw["engine"]["cpu_page_median_ms"] > 100  # OCR costs CPU-seconds, not the text layer's milliseconds
    assert raw["peak_rss_mb"] > 100
