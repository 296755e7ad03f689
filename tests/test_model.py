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
