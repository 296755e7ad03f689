"""The whole pipeline on real files: one result per input, the stages wired in order."""
from __future__ import annotations

from pathlib import Path

import pytest

from extractors import ExtractOptions, ReadOptions, TooManyPagesError, extract
from extractors.pipeline import extract_document
from extractors.readers import read


def test_extract_equals_reader_then_stages(corpus: Path) -> None:
    data = (corpus / "html" / "003_a1ca134a5abe9455.html").read_bytes()
    a = extract(data, "003.html")
    b = extract_document(read(data, "003.html"))
    assert a.model_dump() == b.model_dump()
    assert a.document.template.value == "revised_2019"
    assert {i.id: i.value for i in a.indicators}["requests.new.total"] == 224
    assert [s.key for s in a.sections][:2] == ["overview", "active_disclosure"]


def test_options_reach_the_reader(corpus: Path) -> None:
    data = (corpus / "pdf" / "hongze_2024.pdf").read_bytes()
    with pytest.raises(TooManyPagesError):
        extract(data, "h.pdf", options=ExtractOptions(read=ReadOptions(max_pages=3)))
    assert extract(data, "h.pdf", options=ExtractOptions(read=ReadOptions(max_pages=5))).document.pages == 5


def test_unmatched_rows_become_warnings(corpus: Path) -> None:
    text = (corpus / "txt" / "000_32e6960542ba4ec5.txt").read_text(encoding="utf-8")
    extra = "\t（九）开展政务开放日活动场次\n\t场\n\t3\n\n"
    r = extract(text.replace("\t一、主动公开情况", extra + "\t一、主动公开情况", 1).encode(), "x.txt")
    assert any(w.code == "unmatched_row" and "政务开放日" in (w.label or "") for w in r.warnings)
    assert {i.id: i.value for i in r.indicators}["active.total"] == 1599


def test_extract_json_is_the_result_serialised_once(corpus: Path) -> None:
    from extractors import extract_json
    from extractors.result import ExtractionResult

    data = (corpus / "docx" / "003_a1ca134a5abe9455.docx").read_bytes()
    body = extract_json(data, "003.docx")
    result = extract(data, "003.docx")
    assert isinstance(body, bytes)
    assert body == result.to_json() == result.model_dump_json().encode()
    back = ExtractionResult.model_validate_json(body)
    assert {i.id: i.value for i in back.indicators}["requests.new.total"] == 224
    assert "年度报告".encode() in body  # UTF-8 as is, not \\u escapes


def test_per_row_warnings_are_capped_with_a_count_of_the_rest() -> None:
    """Thousands of stray rows give MAX_ROW_WARNINGS warnings and one count, not one warning each."""
    from extractors.gate import GateSettings
    from extractors.pipeline import MAX_ROW_WARNINGS, ExtractOptions

    labels = ["收到申请数", "予以公开", "部分公开", "不予公开", "总计"]
    text = "".join(f"{labels[i % len(labels)]}\t{i}\t{i + 1}\t{i + 2}\n" for i in range(2_000))
    result = extract(text.encode(), filename="r.txt", options=ExtractOptions(gate=GateSettings(threshold=0.0)))
    rows = [w for w in result.warnings if w.code in ("unmatched_row", "duplicate_value")]
    assert len(rows) == MAX_ROW_WARNINGS
    [rest] = [w for w in result.warnings if w.code == "row_warnings_truncated"]
    assert rest.message.split()[0].isdigit() and int(rest.message.split()[0]) > 0
