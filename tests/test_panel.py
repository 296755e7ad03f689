"""The panel files: CSV (review list, dictionary) and XLSX (Chinese header row, frozen panes, filter, colouring).

The records here are built with the real response models so each panel rule
(first occurrence wins, latest record wins, low-confidence cells listed and
coloured, formula text never executed, ids outside the fixed column set left to
the long table) is checked against a known answer; the corpus-wide check that
the panel equals the JSONL is in tests/test_batch.py.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from extractors.__main__ import main
from extractors.batch import problem_for
from extractors.dataset import (
    REPORT_COLUMNS,
    DatasetSettings,
    conf_name,
    indicator_columns,
    wide_table,
)
from extractors.errors import EmptyFileError
from extractors.panel import write_csv, write_xlsx
from extractors.result import (
    DocumentInfo,
    ExtractionResult,
    Finding,
    Indicator,
    IntField,
    SourceRef,
    StrField,
    TemplateField,
)

FORMULA = '=HYPERLINK("http://example.invalid","x")'
CUM = "ext.request.received.total.cumulative"  # a documented extension id (a legacy table's 累计 column)
NAMES = [n for n, _, _ in REPORT_COLUMNS] + [c.name for c in indicator_columns()]
NAME = {c.id: c.name for c in indicator_columns()}
RECEIVED, ACTIVE, WEBSITE, CUM_NAME = (NAME[i] for i in ("request.received.total", "active.total", "active.channels.website", CUM))


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
            Indicator(id=CUM, value=40, unit="件", confidence=0.8, label="收到申请数",
                      source=SourceRef(kind="text", line=40, text="收到申请数 6 40")),
            Indicator(id="ext.requests.by_mail", value=-2, unit="件", confidence=0.8, label="信函申请数"),
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


def test_one_row_per_report_latest_record_wins_fixed_columns(records: list[dict]) -> None:
    wide = wide_table(records)
    assert wide.names == NAMES  # the catalogue's columns whatever the batch saw; nothing added for ext.requests.by_mail
    assert wide.outside == 1
    a, b = wide.rows
    assert (a["file"], b["file"]) == ("reports/a.docx", "reports/b.pdf")
    assert (a["agency"], a["year"], a["template"], a["format"], a["findings"]) == (FORMULA, 2017, "legacy", "docx", 1)
    assert a[RECEIVED] == 6  # the table value, not the later duplicate id
    assert a[ACTIVE] == 1599 and a.get(WEBSITE) is None
    assert a[CUM_NAME] == 40
    assert a["min_confidence"] == 0.5
    assert b["error"] == "The file is empty The file has no bytes."
    assert all(b.get(c.name) is None for c in indicator_columns())


def test_review_lists_every_cell_below_the_threshold_with_its_source(records: list[dict]) -> None:
    review = wide_table(records, DatasetSettings(min_confidence=0.9)).review
    assert [(r["variable"], r["confidence"]) for r in review] == [("agency", 0.85), (ACTIVE, 0.5), (CUM_NAME, 0.8)]
    cum = review[2]
    assert (cum["indicator"], cum["value"], cum["source"], cum["raw"]) == (CUM, 40, "line 41", "收到申请数 6 40")
    strict = {r["variable"]: r for r in wide_table(records, DatasetSettings(min_confidence=0.98)).review}
    assert strict[RECEIVED]["source"] == "p3 table 2 row 6 col 3"  # counted from 1 for people
    assert wide_table(records, DatasetSettings(min_confidence=0.4)).review == []


def test_conf_columns_follow_their_value(records: list[dict]) -> None:
    wide = wide_table(records, conf=True)
    names = wide.names
    assert names[names.index(RECEIVED) + 1] == conf_name(RECEIVED) == RECEIVED + "_conf"
    assert all(len(n) <= 32 for n in names) and len(set(names)) == len(names)
    assert wide.rows[0][conf_name(ACTIVE)] == 0.5


def test_csv_files_use_the_variable_names_and_neutralise_formulas(records: list[dict], tmp_path: Path) -> None:
    wide = wide_table(records)
    paths = write_csv(wide, tmp_path / "panel.csv")
    assert [p.name for p in paths] == ["panel.csv", "panel_review.csv", "panel_dictionary.csv"]
    assert (tmp_path / "panel.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel shows Chinese right
    with (tmp_path / "panel.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == NAMES
    assert rows[0]["agency"] == "'" + FORMULA
    assert (rows[0][RECEIVED], rows[0][WEBSITE], rows[0][CUM_NAME]) == ("6", "", "40")
    with (tmp_path / "panel_review.csv").open(encoding="utf-8-sig", newline="") as f:
        assert [r["variable"] for r in csv.DictReader(f)] == ["agency", ACTIVE, CUM_NAME]
    with (tmp_path / "panel_dictionary.csv").open(encoding="utf-8-sig", newline="") as f:
        dictionary = {r["variable"]: r for r in csv.DictReader(f)}
    assert list(dictionary) == NAMES
    assert (dictionary[RECEIVED]["indicator"], dictionary[RECEIVED]["label_zh"], dictionary[RECEIVED]["unit"]) == (
        "request.received.total", "收到申请数", "件")
    assert dictionary[RECEIVED]["sum_of"].startswith("request.received.in_person+")
    assert dictionary[CUM_NAME]["kind"] == "extension"


def test_xlsx_has_a_chinese_header_row_frozen_panes_filters_and_review_colours(records: list[dict], tmp_path: Path) -> None:
    wide = wide_table(records)
    write_xlsx(wide, tmp_path / "panel.xlsx")
    wb = load_workbook(tmp_path / "panel.xlsx")
    assert wb.sheetnames == ["panel", "review", "dictionary"]
    ws = wb["panel"]
    names = [c.value for c in ws[2]]
    assert names == NAMES
    col = {name: i + 1 for i, name in enumerate(names)}
    assert ws.cell(1, col[RECEIVED]).value == "收到申请数"  # the catalogue's Chinese label above the name
    assert ws.cell(1, col["agency"]).value == "机关名称（原文）"
    assert ws.cell(3, col["agency"]).value == FORMULA and ws.cell(3, col["agency"]).data_type == "s"
    assert ws.cell(3, col[RECEIVED]).value == 6
    assert ws.cell(3, col["min_confidence"]).value == 0.5
    assert ws.cell(3, col[ACTIVE]).fill.start_color.rgb.endswith("FFF2CC")  # below 0.9: to review
    assert ws.cell(3, col["agency"]).fill.start_color.rgb.endswith("FFF2CC")
    assert not str(ws.cell(3, col[RECEIVED]).fill.start_color.rgb).endswith("FFF2CC")
    assert ws.cell(4, col["error"]).value.startswith("The file is empty")
    assert ws.cell(4, col["file"]).fill.start_color.rgb.endswith("F4CCCC")  # the failed report stands out
    assert ws.freeze_panes == "D3"  # both header rows and file, agency, year stay in view
    assert ws.auto_filter.ref == f"A2:{ws.cell(2, len(names)).column_letter}{len(wide.rows) + 2}"
    assert [c.value for c in wb["review"]["B"]][1:] == ["agency", ACTIVE, CUM_NAME]
    assert wb["dictionary"].max_row == len(NAMES) + 1
    frame = pd.read_excel(tmp_path / "panel.xlsx", sheet_name="panel", header=1, engine="openpyxl")
    assert list(frame.columns) == NAMES and frame.loc[0, RECEIVED] == 6


def test_panel_command_builds_the_same_files_from_a_jsonl(records: list[dict], tmp_path: Path) -> None:
    jsonl = tmp_path / "results.jsonl"
    jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    assert main(["panel", str(jsonl), "--csv", str(tmp_path / "cli.csv"), "--xlsx", str(tmp_path / "cli.xlsx")]) == 0
    write_csv(wide_table(records), tmp_path / "lib.csv")
    assert (tmp_path / "cli.csv").read_bytes() == (tmp_path / "lib.csv").read_bytes()
    assert (tmp_path / "cli_review.csv").read_bytes() == (tmp_path / "lib_review.csv").read_bytes()
    assert load_workbook(tmp_path / "cli.xlsx").sheetnames == ["panel", "review", "dictionary"]
