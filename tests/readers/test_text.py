"""The plain-text reader: Word's TAB-cell export and the text encodings."""
from __future__ import annotations

from pathlib import Path

from extractors.model import Paragraph, Table
from extractors.readers import ReadOptions, read
from extractors.readers import text as text_reader


def _row(table: Table, first: str) -> list[str]:
    for r in table.rows:
        if r and any(c.text.strip().startswith(first) for c in r):
            return [c.text for c in r]
    raise AssertionError(first)


def test_tab_cells_become_table_rows(corpus: Path) -> None:
    doc = read((corpus / "txt" / "000_32e6960542ba4ec5.txt").read_bytes(), "000.txt")
    assert doc.format == "txt"
    [table] = doc.tables
    assert [c.strip() for c in _row(table, "（一）收到申请数")] == ["（一）收到申请数", "件", "6"]
    # a blank value cell stays an (empty) cell
    assert _row(table, "制发规范性文件总数")[-1] == ""
    # a label wrapped onto a second line is one cell
    cell = _row(table, "（一）主动公开政府信息数")[0]
    assert "\n" in cell and "不同渠道和方式公开相同信息计1条" in cell


def test_paragraphs_keep_order_and_headings(corpus: Path) -> None:
    doc = read((corpus / "txt" / "003_a1ca134a5abe9455.txt").read_bytes(), "003.txt")
    texts = [b.text for b in doc.blocks if isinstance(b, Paragraph)]
    assert texts[0] == "余姚市人民政府"
    assert texts.index("一、总体情况") < texts.index("二、主动公开政府信息情况")
    # Word's bookmark markers are not text
    assert not any("[bookmark" in t for t in texts)
    # 表三 is read with its merged-cell blanks: the 予以公开 row carries the group label and 7 values
    row = next(r for t in doc.tables for r in t.rows if any("予以公开" in c.text for c in r))
    assert [c.text for c in row][-7:] == ["171", "1", "10", "1", "3", "1", "187"]


def test_gb18030_and_utf16_decode_the_same(corpus: Path) -> None:
    raw = (corpus / "txt" / "001_3b9418f33333a698.txt").read_bytes()
    utf8 = read(raw, "a.txt")
    gbk = read(raw.decode("utf-8").encode("gb18030"), "a.txt")
    utf16 = read(raw.decode("utf-8").encode("utf-16"), "a.txt")
    assert utf8.text() == gbk.text() == utf16.text()
    assert "象山县人民政府办公室" in gbk.text()


def test_limit_on_decoded_size() -> None:
    import pytest

    from extractors.errors import ResourceLimitError

    with pytest.raises(ResourceLimitError):
        text_reader.read("字".encode() * 1000, ReadOptions(max_text_chars=100))


def test_utf16_without_bom_is_recognised(corpus: Path) -> None:
    from extractors.readers.encoding import utf16_without_bom

    raw = (corpus / "txt" / "000_32e6960542ba4ec5.txt").read_text(encoding="utf-8")
    for enc in ("utf-16-le", "utf-16-be"):
        assert utf16_without_bom(raw.encode(enc)) == enc
        assert read(raw.encode(enc), "a.txt").text() == read(raw.encode("utf-8"), "a.txt").text()
    assert utf16_without_bom(raw.encode("utf-8")) is None
    assert utf16_without_bom(raw.encode("gb18030")) is None
