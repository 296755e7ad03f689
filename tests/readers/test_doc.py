"""Word 97–2003 `.doc` / Kingsoft `.wps` reader: real converted reports, merged cells, refused variants."""
from __future__ import annotations

from pathlib import Path

import pytest

from extractors.errors import (
    CorruptFileError,
    EncryptedFileError,
    LegacyWordFormatError,
    UnsupportedFormatError,
    WorksDocumentError,
)
from extractors.model import Document, Table
from extractors.readers import read as read_any
from extractors.readers import sniff
from extractors.readers.doc import read
from extractors.readers.options import ReadOptions
from tests.readers import formats_build as fb

OPTIONS = ReadOptions()


@pytest.fixture(scope="module")
def dev04(shared: Path) -> bytes:
    return (shared / "formats" / "dev04.doc").read_bytes()


def _table_with(doc: Document, text: str) -> Table:
    return next(t for t in doc.tables if any(c.text.startswith(text) for r in t.rows for c in r))


def test_text_title_and_tables(dev04: bytes) -> None:
    doc = read(dev04, OPTIONS)
    assert doc.format == "doc"
    assert doc.title and "2024年政府信息公开工作年度报告" in doc.title
    assert [p.text for p in doc.paragraphs[:2]] == ["淮安市清江浦区人民政府", "2024年政府信息公开工作年度报告"]
    assert len(doc.tables) == 3


def test_merged_cells_keep_their_grid(dev04: bytes) -> None:
    """Vertical merges (TC80 vertMerge) become rowspans, wide cells (cell edges) colspans."""
    t = _table_with(read(dev04, OPTIONS), "三、本年度办理结果")
    grid = t.grid()
    result = next(c for r in t.rows for c in r if c.text == "三、本年度办理结果")
    assert (result.col, result.rowspan) == (0, 22)
    withheld = next(c for r in t.rows for c in r if c.text == "（三）不予公开")
    assert (withheld.col, withheld.rowspan) == (1, 8)
    header = next(c for r in t.rows for c in r if c.text == "申请人情况")
    assert header.colspan == 7
    new = next(r for r in t.rows if r and r[0].text == "一、本年新收政府信息公开申请数量")
    assert new[0].colspan == 3 and [c.text for c in new[1:]] == ["3001", "53", "0", "0", "61", "4", "3119"]
    assert all(len(row) == t.n_cols for row in grid)


def test_first_table_colspans(dev04: bytes) -> None:
    t = read(dev04, OPTIONS).tables[0]
    assert (t.rows[0][0].text, t.rows[0][0].colspan) == ("第二十条第（一）项", 4)
    assert [c.text for c in t.rows[2]] == ["规章", "1", "0", "11"]


def test_kingsoft_wps_reads_like_doc(dev04: bytes) -> None:
    wps = fb.wps_from_doc(dev04)
    assert wps != dev04
    assert sniff(wps, "report.wps") == "doc"
    assert read(wps, OPTIONS).tables[1].text() == read(dev04, OPTIONS).tables[1].text()


def test_word6_encrypted_and_works_get_precise_errors(dev04: bytes) -> None:
    with pytest.raises(LegacyWordFormatError) as e:
        read(fb.word6_from_doc(dev04), OPTIONS)
    assert isinstance(e.value, UnsupportedFormatError) and e.value.extra["hint"] == "save as .docx"
    with pytest.raises(EncryptedFileError):
        read(fb.encrypted_doc(dev04), OPTIONS)
    works = fb.works_from_doc(dev04)
    assert sniff(works, "x.wps") == "doc"
    with pytest.raises(WorksDocumentError):
        read_any(works, "x.wps")


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, 0.99])
def test_truncated_doc_is_corrupt(dev04: bytes, cut: float) -> None:
    with pytest.raises(CorruptFileError):
        read(dev04[: int(len(dev04) * cut)], OPTIONS)
