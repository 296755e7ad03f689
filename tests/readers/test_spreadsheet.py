"""Workbook reader: the corpus tables as .xlsx/.xls (and .et, .ods), merged ranges, integers, tables-only."""
from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from extractors import extract
from extractors.errors import CorruptFileError, ResourceLimitError
from extractors.readers import sniff
from extractors.readers.options import ReadOptions
from extractors.readers.spreadsheet import SpreadsheetSettings, read
from tests.readers import formats_build as fb

OPTIONS = ReadOptions()


@pytest.mark.parametrize("ext", ["xlsx", "xls"])
def test_one_table_per_sheet_with_merges(shared: Path, ext: str) -> None:
    data = (shared / "formats" / f"dev04.{ext}").read_bytes()
    assert sniff(data, "x.bin") == ext
    doc = read(data, OPTIONS)
    assert doc.format == ext and len(doc.tables) == 3 and not doc.paragraphs
    assert any(w.startswith("tables-only:") for w in doc.warnings)
    first = doc.tables[0]
    assert (first.rows[0][0].text, first.rows[0][0].colspan) == ("第二十条第（一）项", 4)
    assert [c.text for c in first.rows[2]] == ["规章", "1", "0", "11"]  # whole floats print as integers
    big = doc.tables[1]
    result = next(c for r in big.rows for c in r if c.text == "三、本年度办理结果")
    assert (result.col, result.rowspan) == (0, 22)


def test_kingsoft_et_is_read_as_xls(shared: Path) -> None:
    """Kingsoft .et is BIFF8 in OLE2: sniffed from the bytes, whatever the name."""
    data = (shared / "formats" / "dev04.xls").read_bytes()
    assert sniff(data, "report.et") == "xls"


def test_ods_from_the_same_workbook(shared: Path) -> None:
    data = fb.ods_from_xlsx((shared / "formats" / "dev04.xlsx").read_bytes())
    assert sniff(data, "x") == "ods"
    doc = read(data, OPTIONS)
    assert doc.format == "ods"
    assert [c.text for c in doc.tables[0].rows[2]] == ["规章", "1", "0", "11"]
    assert doc.tables[0].rows[0][0].colspan == 4


def test_workbook_result_has_indicators_and_template_but_no_sections(shared: Path) -> None:
    r = extract((shared / "formats" / "dev04.xlsx").read_bytes(), filename="dev04.xlsx")
    assert r.document.format == "xlsx"
    assert r.document.template.value == "revised_2019"
    assert not r.sections
    assert any(w.code == "tables-only" for w in r.warnings)
    values = {i.id: i.value for i in r.indicators}
    assert values["requests.new.total"] == 3119


def test_sheet_size_bound(shared: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "x"
    ws["ZZ3000"] = 1
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(ResourceLimitError):
        read(buf.getvalue(), OPTIONS, SpreadsheetSettings(max_cells=100_000))


def test_damaged_workbook_is_corrupt(shared: Path) -> None:
    data = (shared / "formats" / "dev04.xls").read_bytes()
    with pytest.raises(CorruptFileError):
        read(data[: len(data) // 2], OPTIONS)
