"""Tables → rows: label cells on the left, value cells on the right, merged parents inherited."""
from __future__ import annotations

from pathlib import Path

from extractors.model import Cell, Document, Paragraph, Table
from extractors.readers import read
from extractors.tables import interpret


def test_rows_of_a_docx_grid_inherit_vertical_merges(corpus: Path) -> None:
    doc = read((corpus / "docx" / "003_a1ca134a5abe9455.docx").read_bytes(), "003.docx")
    rows = interpret(doc)
    row = next(r for r in rows if any("其他法律行政法规禁止公开" in c.text for c in r.cells))
    # 三、本年度办理结果 and （三）不予公开 are merged cells from rows above
    assert row.inherited == ("三、本年度办理结果", "（三）不予公开")
    labels, values, unit = row.split(7)
    assert [c.text for c in labels] == ["2.其他法律行政法规禁止公开"]
    assert [c.text for c in values] == ["0"] * 7


def test_split_skips_units_and_serial_numbers() -> None:
    cells = tuple(Cell(t, 0, i) for i, t in enumerate(["12", "（一）收到申请数", "件", "6"]))
    doc = Document(blocks=(Table(rows=(cells,)),), format="docx")
    [row] = interpret(doc)
    labels, values, unit = row.split(1)
    assert [c.text for c in labels] == ["（一）收到申请数"]
    assert [c.text for c in values] == ["6"] and unit == "件"


def test_text_lines_shaped_like_rows_are_loose_rows() -> None:
    doc = Document(
        blocks=(
            Paragraph("2024 年，我区在政府网站平台主动发布各类政府信息 2428 条"),
            Paragraph("（七）总计 95 0 0 0 0 0 95"),
        ),
        format="pdf",
    )
    [row] = interpret(doc)
    assert row.loose and row.texts[0] == "（七）总计" and len(row.texts) == 8
