"""The document model: merged cells on the grid, text views, immutability."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from extractors.model import Cell, Table
from extractors.readers import read


def test_grid_fills_every_position_a_merged_cell_covers(corpus: Path) -> None:
    doc = read((corpus / "docx" / "003_a1ca134a5abe9455.docx").read_bytes(), "003.docx")
    table = next(t for t in doc.tables if "申请人情况" in t.text())
    grid = table.grid()
    merged = next(c for r in table.rows for c in r if c.text == "三、本年度办理结果")
    assert merged.rowspan == 20
    # every row it spans sees the same cell in its column
    assert all(grid[merged.row + i][merged.col] is merged for i in range(merged.rowspan))
    assert table.n_cols == 10


def test_document_text_reads_tables_row_by_row(corpus: Path) -> None:
    doc = read((corpus / "txt" / "000_32e6960542ba4ec5.txt").read_bytes(), "000.txt")
    lines = list(doc.iter_lines())
    assert "一、概述" in lines
    assert "（一）收到申请数 件 6" in lines
    assert doc.text().count("\n") == len(lines) - 1


def test_records_are_frozen() -> None:
    t = Table(rows=((Cell("规章", 0, 0), Cell("0", 0, 1)),))
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.index = 3  # type: ignore[misc]
    assert t.text() == "规章 0"


def test_fast_factories_build_the_records_the_constructors_build() -> None:
    import pickle

    from extractors.model import Paragraph, Source, make_cell, make_paragraph, make_source

    src = make_source(2, (1.0, 2.0, 3.0, 4.0), 0, 1, 2, 7)
    assert type(src) is Source and src == Source(page=2, bbox=(1.0, 2.0, 3.0, 4.0), table=0, row=1, col=2, line=7)
    cell = make_cell("规章", 1, 2, 3, 1, src, 0.5)
    ref = Cell("规章", 1, 2, rowspan=3, colspan=1, source=Source(2, (1.0, 2.0, 3.0, 4.0), 0, 1, 2, 7), quality=0.5)
    assert type(cell) is Cell and cell == ref and hash(cell) == hash(ref) and repr(cell) == repr(ref)
    assert make_cell("x", 0, 0, 1, 1, make_source(None, None, None, None, None, None)) == Cell("x", 0, 0)
    para = make_paragraph("一、概述", make_source(None, None, None, None, None, 3), "heading")
    assert para == Paragraph("一、概述", Source(line=3), style="heading") and type(para) is Paragraph
    assert make_paragraph("a", Source()) == Paragraph("a")
    for rec in (src, cell, para):
        assert pickle.loads(pickle.dumps(rec)) == rec
        assert dataclasses.replace(rec) == rec
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(rec, dataclasses.fields(rec)[0].name, None)
