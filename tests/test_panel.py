"""The panel export: rows, columns in catalogue order, review list, dictionary, CSV and XLSX faithfulness.

The records here are built with the real response models so each panel rule
(first occurrence wins, latest record wins, low-confidence cells listed, formula
text never executed) is checked against a known answer; the corpus-wide check
that the panel equals the JSONL is in tests/test_batch.py.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from extractors.__main__ import main
from extractors.batch import problem_for
from extractors.errors import EmptyFileError
from extractors.panel import FIXED_COLUMNS, PanelSettings, build_panel, load_catalogue, write_csv, write_xlsx
from extractors.result import DocumentInfo, ExtractionResult, Finding, Indicator, IntField, SourceRef, StrField, TemplateField

CATALOGUE = load_catalogue()
CATALOGUE_IDS = [r["id"] for r in CATALOGUE]
FORMULA = '=HYPERLINK("http://example.invalid","x")'


def result(agency: str, received: int, active_conf: float) -> dict:
    """A response as the service would return it, parsed from its JSON."""
    res = ExtractionResult(
        extractor_version="test",
        document=DocumentInfo(
            template=TemplateField(value="legacy", confidence=0.95), agency=StrField(value=agency, confidence=0.85),
            report_year=IntField(value=2017, confidence=0.95), format="docx"),
        indicators=[
            Indicator(id="request.received.total", value=received, unit="件", confidence=0.97, label="（一）收到申请数",
                      source=SourceRef(kind="table", page=3, table=1, row=5, col=2, text=str(received))),
            Indicator(id="active.total", value=1599, unit="条", confidence=active_conf, label="主动公开政府信息数"),
            Indicator(id="request.received.total", value=8, unit="件", confidence=0.99, label="收到申请数（正文）"),
            Indicator(id="active.channels.website", value=None, unit="条", confidence=0.95),
            Indicator(id="ext.requests.by_mail", value=-2, unit="件", confidence=0.8, label="信函申请数",
                      source=SourceRef(kind="text", line=40, text="信函申请-2件")),
        ],
        validation=[Finding(rule="sum", target="request.received.total", expected=8, actual=received)],
    )
    return json.loads(res.model_dump_json())


@pytest.fixture()
def records() -> list[dict]:
    sha = "a" * 64
    return [
        {"file": "reports/a.docx", "sha256": sha, "result": result("旧名称", 1, 0.99)},  # superseded below
        {"file": "reports/b.pdf", "sha256": "b" * 64, "error": problem_for(EmptyFileError("The file has no bytes."), "reports/b.pdf")},
        {"file": "reports/a.docx", "sha256": sha, "result": result(FORMULA, 6, 0.5)},
    ]


def test_one_row_per_report_latest_record_wins_columns_in_catalogue_order(records: list[dict]) -> None:
    panel = build_panel(records)
    assert panel.columns == [c for c, _, _ in FIXED_COLUMNS] + CATALOGUE_IDS + ["ext.requests.by_mail"]
    a, b = panel.rows
    assert (a["file"], b["file"]) == ("reports/a.docx", "reports/b.pdf")
    assert (a["agency"], a["year"], a["template"], a["format"], a["findings"]) == (FORMULA, 2017, "legacy", "docx", 1)
    assert a["request.received.total"] == 6  # the table value, not the later duplicate id
    assert a["active.total"] == 1599 and a["active.channels.website"] is None
    assert a["ext.requests.by_mail"] == -2
    assert a["min_confidence"] == 0.5
    assert b["error"] == "The file is empty The file has no bytes."
    assert all(b.get(i) is None for i in CATALOGUE_IDS)


def test_review_lists_every_cell_below_the_threshold(records: list[dict]) -> None:
    review = build_panel(records, PanelSettings(min_confidence=0.9)).review
    assert [(r["column"], r["confidence"]) for r in review] == [
        ("agency", 0.85), ("active.total", 0.5), ("ext.requests.by_mail", 0.8)]
    ext = review[2]
    assert (ext["label_printed"], ext["value"], ext["source"], ext["raw"]) == ("信函申请数", -2, "line 41", "信函申请-2件")
    strict = {r["column"]: r for r in build_panel(records, PanelSettings(min_confidence=0.98)).review}
    assert strict["request.received.total"]["source"] == "p3 table 2 row 6 col 3"  # counted from 1 for people
    assert review[1]["label_zh"] == next(r["label_zh"] for r in CATALOGUE if r["id"] == "active.total")
    assert build_panel(records, PanelSettings(min_confidence=0.4)).review == []


def test_dictionary_explains_every_column(records: list[dict]) -> None:
    panel = build_panel(records)
    assert [d["column"] for d in panel.dictionary] == panel.columns
    by_col = {d["column"]: d for d in panel.dictionary}
    for row in CATALOGUE:
        assert (by_col[row["id"]]["label_zh"], by_col[row["id"]]["unit"]) == (row["label_zh"], row["unit"])
    assert (by_col["ext.requests.by_mail"]["label_zh"], by_col["ext.requests.by_mail"]["unit"]) == ("信函申请数", "件")
    assert by_col["agency"]["label_zh"] == "机关名称"


def test_csv_files_round_trip_and_neutralise_formulas(records: list[dict], tmp_path: Path) -> None:
    panel = build_panel(records)
    paths = write_csv(panel, tmp_path / "panel.csv")
    assert [p.name for p in paths] == ["panel.csv", "panel_review.csv", "panel_dictionary.csv"]
    assert (tmp_path / "panel.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel shows Chinese right
    with (tmp_path / "panel.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == panel.columns
    assert rows[0]["agency"] == "'" + FORMULA
    assert (rows[0]["request.received.total"], rows[0]["active.channels.website"], rows[0]["ext.requests.by_mail"]) == ("6", "", "-2")
    with (tmp_path / "panel_review.csv").open(encoding="utf-8-sig", newline="") as f:
        assert [r["column"] for r in csv.DictReader(f)] == ["agency", "active.total", "ext.requests.by_mail"]
    with (tmp_path / "panel_dictionary.csv").open(encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.DictReader(f))) == len(panel.columns)


def test_xlsx_has_three_sheets_typed_values_shaded_review_cells(records: list[dict], tmp_path: Path) -> None:
    panel = build_panel(records)
    write_xlsx(panel, tmp_path / "panel.xlsx")
    wb = load_workbook(tmp_path / "panel.xlsx")
    assert wb.sheetnames == ["panel", "review", "dictionary"]
    ws = wb["panel"]
    header = [c.value for c in ws[1]]
    assert header == panel.columns
    col = {name: i + 1 for i, name in enumerate(header)}
    assert ws.cell(2, col["agency"]).value == FORMULA and ws.cell(2, col["agency"]).data_type == "s"
    assert ws.cell(2, col["request.received.total"]).value == 6
    assert ws.cell(2, col["min_confidence"]).value == 0.5
    assert ws.cell(2, col["active.total"]).fill.start_color.rgb.endswith("FFF2CC")
    assert not str(ws.cell(2, col["request.received.total"]).fill.start_color.rgb).endswith("FFF2CC")
    assert ws.cell(3, col["error"]).value.startswith("The file is empty")
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}{len(panel.rows) + 1}"
    assert [c.value for c in wb["review"]["B"]][1:] == ["agency", "active.total", "ext.requests.by_mail"]
    assert wb["dictionary"].max_row == len(panel.columns) + 1


def test_panel_command_builds_the_same_files_from_a_jsonl(records: list[dict], tmp_path: Path) -> None:
    jsonl = tmp_path / "results.jsonl"
    jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    assert main(["panel", str(jsonl), "--csv", str(tmp_path / "cli.csv"), "--xlsx", str(tmp_path / "cli.xlsx")]) == 0
    write_csv(build_panel(records), tmp_path / "lib.csv")
    assert (tmp_path / "cli.csv").read_bytes() == (tmp_path / "lib.csv").read_bytes()
    assert (tmp_path / "cli_review.csv").read_bytes() == (tmp_path / "lib_review.csv").read_bytes()
    assert load_workbook(tmp_path / "cli.xlsx").sheetnames == ["panel", "review", "dictionary"]
