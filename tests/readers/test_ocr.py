"""OCR of scans: the issue's bars on the shared scans, generated scans of other reports, the fallbacks.

The full scoring of the four shared scans (34 pages, ~5 CPU-s each) runs over
two processes; everything else OCRs one or two pages.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from extractors import OcrUnavailableError, TooManyPagesError, extract
from extractors.readers import ReadOptions, ocr, pdf, read
from tests.conftest import CORPUS, SHARED
from tests.readers import scans  # needs the [ocr] extra, which scripts/test.sh installs

FORMATS = SHARED / "formats"
# the issue's bars: indicator F1 per kind of scan, and for both precision at confidence >= 0.9 and metadata
F1_MIN = {"scan.pdf": 0.98, "scanbad.pdf": 0.95}


def _extract_to(args: tuple[str, str]) -> str:
    src, out = args
    p = Path(src)
    result = extract(p.read_bytes(), filename=p.name)
    (Path(out) / f"{p.name}.json").write_text(result.model_dump_json(), encoding="utf-8")
    return p.name


def _pages(data: bytes, pages: list[int]) -> bytes:
    src, dst = pdfium.PdfDocument(data), pdfium.PdfDocument.new()
    dst.import_pages(src, pages)
    out = io.BytesIO()
    dst.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("ocr-pred")
    files = sorted(str(p) for p in FORMATS.iterdir() if p.name.endswith((".scan.pdf", ".scanbad.pdf")))
    assert len(files) >= 4
    with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as ex:
        done = list(ex.map(_extract_to, [(f, str(out)) for f in files]))
    assert len(done) == len(files)
    args = [sys.executable, str(SHARED / "eval" / "score.py"), "--gold", str(CORPUS / "gold"), "--pred", str(out)]
    summary = json.loads(subprocess.run(args + ["--json"], capture_output=True, text=True, check=True).stdout)
    verbose = subprocess.run(args + ["--verbose"], capture_output=True, text=True, check=True).stdout
    return summary, verbose


@pytest.mark.parametrize("fmt", sorted(F1_MIN))
def test_shared_scans_meet_the_issue_bars(scored: tuple[dict, str], fmt: str) -> None:
    summary, verbose = scored
    s = summary["by_format"][fmt]
    assert s["indicator_f1"] >= F1_MIN[fmt], f"{fmt}: {s}\n{verbose}"
    assert s["precision_at_conf_0.9"] is not None and s["precision_at_conf_0.9"] >= 0.995, verbose
    assert s["metadata_accuracy"] >= 0.9, verbose


def _gold(doc: str) -> dict[str, object]:
    return json.loads((CORPUS / "gold" / f"{doc}.json").read_text(encoding="utf-8"))["indicators"]


def _page_values(pdf_bytes: bytes, page: int) -> dict[str, object]:
    """The indicators the text layer yields from one page (what OCR of that page must give back)."""
    result = extract(_pages(pdf_bytes, [page]), filename="page.pdf")
    return {i.id: i.value for i in result.indicators if not i.id.startswith("ext.")}


# (report, degradation, least share of the page's values read right): the harsh `bad` page (noise σ 12 and
# speckle on a dense 表三/表四 page) loses some faint zeros (measured 93 of 99), never to a sure wrong value
@pytest.mark.parametrize("doc, kind, min_right", [("huaian_2024", scans.BAD, 0.9), ("dev05", scans.BAD_LEFT, 0.95)])
def test_generated_scan_of_another_report(doc: str, kind: scans.Degradation, min_right: float) -> None:
    """A report the OCR was not developed on, its densest table page turned and spoiled: its values come back."""
    folder = "pdf" if (CORPUS / "pdf" / f"{doc}.pdf").exists() else "variants"
    src = (CORPUS / folder / f"{doc}.pdf").read_bytes()
    by_page = {p: _page_values(src, p) for p in scans.table_pages(src)}  # text layer: fast
    page = max(by_page, key=lambda p: len(by_page[p]))  # the table page with the most values
    expected = by_page[page]
    gold = _gold(doc)
    assert len(expected) >= 10 and all(gold.get(k) == v for k, v in expected.items())
    data = scans.to_pdf([scans.degrade(scans.render(src, [page])[0], kind, seed=3)])
    got = {i.id: i for i in extract(data, filename="scan.pdf").indicators}
    right = [k for k, v in expected.items() if k in got and got[k].value == v]
    wrong_sure = [k for k, i in got.items() if k in gold and i.value != gold[k] and i.confidence >= 0.9]
    assert len(right) >= min_right * len(expected), (sorted(set(expected) - set(right)), got)
    assert wrong_sure == []
    assert all(i.confidence <= ocr_cap_ceiling() for i in got.values())


def ocr_cap_ceiling() -> float:
    from extractors.confidence import OCR_CAP

    return max(OCR_CAP.sure_and_sums, OCR_CAP.sure_unconfirmed)


def test_jpeg_photo_of_a_table_page_returns_its_values() -> None:
    src = (CORPUS / "pdf" / "hongze_2023.pdf").read_bytes()
    page = scans.table_pages(src)[0]
    expected = _page_values(src, page)
    photo = scans.to_jpeg(scans.degrade(scans.render(src, [page])[0], scans.PHOTO, seed=7), quality=70)
    assert read(photo, "IMG_0001.JPG").format == "image"
    result = extract(photo, filename="IMG_0001.JPG")
    got = {i.id: i for i in result.indicators}
    right = [k for k, v in expected.items() if k in got and got[k].value == v]
    assert len(right) >= 0.9 * len(expected), (sorted(set(expected) - set(right)), got)
    gold = _gold("hongze_2023")
    assert [k for k, i in got.items() if k in gold and i.value != gold[k] and i.confidence >= 0.9] == []
    assert result.document.format == "image"


def test_partly_scanned_pdf_uses_the_text_layer_where_it_has_one() -> None:
    text = (CORPUS / "pdf" / "hongze_2024.pdf").read_bytes()
    scan = (FORMATS / "hongze_2024.scan.pdf").read_bytes()
    src, dst = pdfium.PdfDocument(text), pdfium.PdfDocument.new()
    dst.import_pages(src, [0])
    dst.import_pages(pdfium.PdfDocument(scan), [2])
    out = io.BytesIO()
    dst.save(out)
    doc = pdf.read(out.getvalue(), ReadOptions())
    by_page = {1: [], 2: []}  # type: dict[int, list[float | None]]
    for b in doc.blocks:
        cells = [c for r in b.rows for c in r] if hasattr(b, "rows") else [b]
        for c in cells:
            if c.source.page in by_page and c.text.strip():
                by_page[c.source.page].append(c.quality)
    assert by_page[1] and all(q is None for q in by_page[1])  # text layer: exact
    assert by_page[2] and all(q is not None and 0 < q <= 1 for q in by_page[2])  # OCR: scored
    assert any("2776" in c.text for t in doc.tables for r in t.rows for c in r)  # a value of the scanned page


def test_without_the_extra_a_scan_gets_the_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> None:
        raise ImportError("No module named 'rapidocr'")

    monkeypatch.setattr(ocr, "_import", missing)
    assert not ocr.available()
    scan = (FORMATS / "hongze_2024.scan.pdf").read_bytes()
    with pytest.raises(OcrUnavailableError) as e:
        extract(scan, filename="r.pdf")
    assert e.value.code == "ocr-unavailable" and "[ocr]" in e.value.detail and e.value.extra["extra"] == "ocr"
    with pytest.raises(OcrUnavailableError):
        extract(scans.to_jpeg(scans.render(scan, [0], dpi=72)[0]), filename="p.jpg")
    from app.problems import status_for

    assert status_for(e.value) == 422


def test_page_cap_refuses_before_any_ocr() -> None:
    scan = (FORMATS / "hongze_2024.scan.pdf").read_bytes()
    before = ocr.USAGE.pages
    with pytest.raises(TooManyPagesError):
        pdf.read(scan, ReadOptions(max_ocr_pages=2))
    assert ocr.USAGE.pages == before


def test_deskew_finds_the_turn() -> None:
    page = scans.render((CORPUS / "pdf" / "hongze_2024.pdf").read_bytes(), [2], dpi=100)[0]
    turned = scans.degrade(page, scans.Degradation("t", angle=1.1))
    _, angle = ocr.deskew(turned)
    assert abs(angle + 1.1) <= 0.2  # turned back by the angle it was turned


def test_blank_pdf_is_still_no_text_layer() -> None:
    from extractors import NoTextLayerError

    dst = pdfium.PdfDocument.new()
    dst.new_page(595, 842)
    out = io.BytesIO()
    dst.save(out)
    with pytest.raises(NoTextLayerError) as e:
        pdf.read(out.getvalue(), ReadOptions())
    assert e.value.code == "no-text-layer"


def test_pages_in_parallel_are_read_and_kept_in_page_order() -> None:
    two = _pages((FORMATS / "hongze_2024.scanbad.pdf").read_bytes(), [1, 2])
    doc = pdf.read(two, ReadOptions(ocr_page_workers=2))
    pages = [b.source.page for b in doc.blocks]
    assert pages == sorted(pages) and set(pages) == {1, 2}  # both pages, in reading order
    cells = {c.text for t in doc.tables for r in t.rows for c in r}
    assert {"2776", "84"} <= cells  # 行政处罚 / 行政强制 of the second page, each in its own cell
