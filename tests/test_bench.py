"""Smoke tests of the benchmark harness: it runs on a couple of real corpus files and prints a table.

Not timed: the assertions are about the harness measuring what it says, never about speed.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
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
    assert "| Format | Files | Pages | Engine CPU/file |" in text
    assert "| DOCX | 1 | 1 |" in text and "| TXT | 1 | 1 |" in text
    assert "| DOCX engine ÷ parse+text floor (paired CPU) |" in text and "### Targets" in text
    assert "at the end:" in text  # the load average is stated before and after

    raw = json.loads(out.read_text())
    assert raw["machine"]["load_average"] and raw["machine"]["load_average_end"]
    inproc = {r["format"]: r for r in raw["inprocess"]}
    assert set(inproc) == {"docx", "txt"}
    docx = inproc["docx"]
    # --quick: 3 rounds of every candidate, the naive baseline in the first round only, all in one run
    for key in ("engine", "reader", "post_reader", "floor"):
        assert docx[key]["errors"] == {} and len(docx[key]["per_file"]) == len(docx[key]["cpu_per_file"]) == 3
    assert len(docx["naive"]["per_file"]) == 1
    assert docx["charbox_floor"] is None  # a PDF-only yardstick
    # ratios are paired per (file, round), so they exist exactly where both candidates ran
    assert set(docx["ratios"]) == {"engine/floor", "reader/floor", "naive/engine"}
    assert set(inproc["txt"]["ratios"]) == {"engine/floor", "reader/floor"}
    # python-docx building its object tree costs more than one lxml parse of document.xml
    assert docx["naive"]["cpu_median_ms"] > docx["floor"]["cpu_median_ms"] > 0
    assert inproc["txt"]["naive"] is None  # no naive baseline defined for text
    assert [t["workers"] for t in raw["throughput"]] == [1, 2]
    assert all(t["files"] == 2 and t["failures"] == 0 for t in raw["throughput"])
    assert raw["memory"]["extractions"] == 6 and raw["memory"]["peak_rss_mb"] > 10
    assert raw["http"] is None and raw["scaling"] is None and raw["cold_worker"] is None
    targets = {t["label"]: t for t in raw["targets"]}
    assert targets["post-reader stages, median CPU per report"]["measured"] > 0


def test_pdf_round_robin_times_the_char_box_floor_beside_the_text_floor() -> None:
    from bench import inprocess
    from bench.settings import QUICK

    pdf = [f for f in load(CORPUS, max_per_format=1) if f.fmt == "pdf"]
    (r,) = inprocess.run(pdf, replace(QUICK, repetitions=2, baseline_repetitions=1))
    assert r.fmt == "pdf" and r.pages == 10
    assert len(r.charbox_floor.per_page) == len(r.floor.per_page) == len(r.engine.per_page) == 2
    assert set(r.ratios) == {"engine/floor", "engine/charbox_floor", "reader/floor", "naive/engine"}
    # the char-box floor reads the same text as the text floor, and a box for each of its characters
    from bench.references import pdf_charbox_floor, pdf_floor

    assert pdf_charbox_floor(pdf[0].data) == pdf_floor(pdf[0].data) > 1000


def test_cold_worker_section_times_fresh_workers_against_a_warm_workers_unseen_file(
    small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    assert main(["--quick", "--corpus", str(small_corpus), "--sections", "cold", "--json", str(out)]) == 0
    assert "### Cold worker" in capsys.readouterr().out
    cold = json.loads(out.read_text())["cold_worker"]
    assert cold["errors"] == {} and cold["start_method"] == "forkserver"
    assert {s["format"] for s in cold["samples"]} == {"docx", "txt"}
    assert all(s["first_cpu_ms"] > 0 and s["warm_cpu_ms"] > 0 for s in cold["samples"])


def test_http_section_compares_the_service_with_the_bare_pool(
    small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    assert main(["--quick", "--corpus", str(small_corpus), "--sections", "http", "--http-requests", "16",
                 "--json", str(out)]) == 0
    assert "### Service vs bare worker pool at 16 clients" in capsys.readouterr().out
    raw = json.loads(out.read_text())
    assert [lv["concurrency"] for lv in raw["http"]] == [1, 4, 16] and all(lv["errors"] == 0 for lv in raw["http"])
    cmp = raw["http_vs_pool"]
    assert len(cmp["http"]) == len(cmp["pool"]) == len(cmp["ratios"]) == 2  # --quick: 2 alternating slices
    assert all(lv["requests"] == 16 and lv["errors"] == 0 for lv in cmp["http"] + cmp["pool"])


def test_peak_rss_of_a_big_pdf_is_measured_in_a_fresh_process(tmp_path: Path) -> None:
    from bench.corpus import CorpusFile
    from bench.scaling import peak_rss

    pdfs = [f for f in load(CORPUS) if f.fmt == "pdf" and f.pages == 10][:2]
    path = build_pdf(pdfs, 30, tmp_path / "big.pdf")
    before, after = peak_rss(pdfs[0], CorpusFile(path, "pdf", path.read_bytes(), 30))
    assert 20 < before <= after  # VmHWM only grows; a 30-page extraction needs at least what a 10-page one did


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
    """The OCR section OCRs one scanned page (--quick) and reports it beside the in-process table."""
    out = tmp_path / "bench.json"
    assert main(["--quick", "--corpus", str(CORPUS), "--sections", "ocr", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "OCR (`[ocr]` extra, scanned pages, timed alone: seconds a page): 1 files, 1 pages" in text
    raw = json.loads(out.read_text())["ocr"]
    assert raw["engine"]["errors"] == {} and len(raw["engine"]["per_page"]) == 1
    assert raw["engine"]["cpu_page_median_ms"] > 100  # OCR costs CPU-seconds, not the text layer's milliseconds
    assert raw["peak_rss_mb"] > 100
