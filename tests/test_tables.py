"""Tables → rows: label cells on the left, value cells on the right, merged parents inherited."""
from __future__ import annotations

from pathlib import Path

import pytest

from extractors.errors import ResourceLimitError
from extractors.model import Cell, Document, Paragraph, Table
from extractors.readers import read
from extractors.tables import LINE_SHAPES, TableLimits, interpret


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


def _flattened(doc: Document) -> Document:
    """The document as a PDF reader that saw no tables would give it: each row a line of text."""
    blocks = []
    for b in doc.blocks:
        if isinstance(b, Table):
            blocks += [Paragraph(" ".join(" ".join(c.text.split()) for c in r if c.text.strip()), b.source) for r in b.rows]
        else:
            blocks.append(b)
    return Document(blocks=tuple(x for x in blocks if not isinstance(x, Paragraph) or x.text), format=doc.format)


def test_tables_left_as_lines_of_text_still_give_their_values(corpus: Path) -> None:
    import json

    from extractors.pipeline import extract_document

    for name, rel in (("hongze_2024", "pdf/hongze_2024.pdf"), ("004_ea52101856a8af1f", "pdf/004_ea52101856a8af1f.pdf")):
        doc = read((corpus / rel).read_bytes(), rel)
        result = extract_document(_flattened(doc))
        gold = json.loads((corpus / "gold" / f"{name}.json").read_text(encoding="utf-8"))["indicators"]
        got = {i.id: i for i in result.indicators}
        right = [k for k, v in gold.items() if v is not None and k in got and got[k].value == v]
        wrong = [k for k in got if not k.startswith("ext.") and (k not in gold or got[k].value != gold[k])]
        assert wrong == [], name
        assert len(right) >= 0.85 * sum(v is not None for v in gold.values()), name


def test_short_lines_of_text_are_never_confident() -> None:
    """Blank cells vanish when a table becomes text: a short row's numbers cannot be placed for sure."""
    from extractors.pipeline import extract_document

    doc = Document(
        blocks=(
            Paragraph("申请人情况"),
            Paragraph("一、本年新收政府信息公开申请数量 50 0 0 0 0 50"),  # one blank cell lost
            Paragraph("行政复议 行政诉讼"),
            Paragraph("5 2 7 8 1 9"),  # 表四 with its blanks lost
        ),
        format="pdf",
    )
    r = extract_document(doc)
    assert all(i.confidence < 0.9 for i in r.indicators if i.id.startswith("requests.new."))
    assert not any(i.id.startswith(("review.", "litigation_")) for i in r.indicators)


def test_a_line_with_more_numbers_than_any_form_row_is_not_a_row() -> None:
    at_cap = Paragraph("（七）总计 " + " ".join(["1"] * LINE_SHAPES.max_numbers))
    past = Paragraph("（七）总计 " + " ".join(["1"] * (LINE_SHAPES.max_numbers + 1)))
    [row] = interpret(Document(blocks=(at_cap,), format="txt"))
    assert len(row.texts) == LINE_SHAPES.max_numbers + 1
    assert interpret(Document(blocks=(past,), format="txt")) == []
    # 400,000 numbers on one line: refused as a row before any cell is built
    assert interpret(Document(blocks=(Paragraph("收到申请数" + "\t1" * 400_000),), format="txt")) == []


def test_more_rows_than_max_rows_is_a_resource_limit_naming_it() -> None:
    limits = TableLimits(max_rows=50)
    rows = tuple((Cell(f"（{i}）收到申请数", i, 0), Cell(str(i), i, 1)) for i in range(50))
    assert len(interpret(Document(blocks=(Table(rows=rows),), format="docx"), limits)) == 50
    lines = tuple(Paragraph(f"第{i}项申请数 件 {i}") for i in range(51))
    with pytest.raises(ResourceLimitError) as e:
        interpret(Document(blocks=lines, format="txt"), limits)
    assert e.value.extra["limit"] == "max_rows" and "max_rows=50" in e.value.detail


def test_cell_facts_answer_what_each_question_answers(corpus: Path) -> None:
    from extractors import tables
    from extractors.normalize import label_key, nfkc, squash
    from extractors.values import is_value_like, parse_value

    doc = read((corpus / "docx" / "003_a1ca134a5abe9455.docx").read_bytes(), "003.docx")
    texts = {c.text for r in interpret(doc) for c in r.cells} | {"1" * 300 + " 件", "（一）" + "收到申请数" * 60}
    assert len(texts) > 100
    for t in texts:
        f = tables.facts(t)
        assert (f.blank, f.squashed, f.folded, f.nfkc) == (not t.strip(), squash(t), squash(nfkc(t)), nfkc(t))
        assert (f.value_like, f.parsed, f.key, f.note_key) == (is_value_like(t), parse_value(t), label_key(t), label_key(t, keep_notes=True))
        assert f.number == (bool(t.strip()) and is_value_like(t) and parse_value(t).value is not None)
    # labels with a bracketed note (the plain key drops it) and without one (the two keys are one text)
    assert sum(tables.facts(t).key != tables.facts(t).note_key for t in texts) >= 3
    assert sum(tables.facts(t).key == tables.facts(t).note_key and "（" in t for t in texts) >= 1


def test_cell_facts_memo_is_bounded(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from extractors import caching, tables

    monkeypatch.setattr(tables, "MAX_FACTS", 50)
    monkeypatch.setattr(tables, "_FACTS", {})
    for i in range(500):
        tables.facts(f"收到申请数{i}")
    assert 0 < len(tables._FACTS) <= 50
    long = "9" * (caching.MAX_CACHED_CHARS + 1)
    assert tables.facts(long).value_like and tables.facts(long).parsed.value is None  # too many digits: no number
    assert long not in tables._FACTS  # a long text is answered, never held in the short-text memo


def test_long_text_facts_are_kept_for_a_few_texts_bounded_in_characters(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from extractors import tables
    from extractors.normalize import label_key, nfkc, squash

    monkeypatch.setattr(tables, "MAX_LONG_CHARS", 10_000)
    monkeypatch.setattr(tables, "_LONG", {})
    monkeypatch.setattr(tables, "_long_chars", 0)
    label = "（" * 3_000 + "收到申请数" + "）" * 3_000
    f = tables.facts(label)
    assert (f.key, f.folded, f.value_like) == (label_key(label), squash(nfkc(label)), False)
    assert f.folded.startswith("(((") and f.number is False
    assert tables.facts(label) is f  # asked again by the next stage: the same answers, not a second pass
    tables.facts("（" * 4_500 + "件" + "）" * 4_500)  # would pass the bound: the memo starts over
    assert label not in tables._LONG and tables._long_chars <= 10_000
    huge = "9" * 20_000
    assert tables.facts(huge).value_like and huge not in tables._LONG  # past the bound on its own: never held


def test_fast_row_constructor_builds_the_dataclass_own_object() -> None:
    from extractors.model import Cell
    from extractors.tables import TableRow, _new_row

    cells = (Cell(text="申请数", row=2, col=0), Cell(text="5", row=2, col=1))
    fast, slow = _new_row(3, 2, cells, ("一、",)), TableRow(table=3, row=2, cells=cells, inherited=("一、",))
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)


def test_split_with_the_row_facts_is_the_row_own_split(corpus: Path) -> None:
    """`split_facts` (the indicator stage's split from facts it already has) answers as `TableRow.split`
    for every row of real reports, at every width; `row_facts` is one `facts` per cell."""
    from extractors.tables import facts, row_facts, split_facts

    checked = 0
    for name in ("docx/003_a1ca134a5abe9455.docx", "markitdown/002_a115e8637772b474.pdf.md", "txt/000_32e6960542ba4ec5.txt"):
        path = corpus / name
        for row in interpret(read(path.read_bytes(), path.name)):
            fs = row_facts(row.cells)
            assert fs == [facts(c.text) for c in row.cells]
            for k in range(len(row.cells) + 2):
                labels, values, _ = row.split(k)
                got_labels, got_values, value_facts = split_facts(row.cells, fs, k)
                assert got_labels == labels and got_values == values
                assert value_facts == [facts(c.text) for c in values]
                checked += 1
    assert checked > 500
    row = next(r for r in interpret(read((corpus / "docx" / "003_a1ca134a5abe9455.docx").read_bytes(), "003.docx"))
               if any("其他法律行政法规禁止公开" in c.text for c in r.cells))
    labels, values, value_facts = split_facts(row.cells, row_facts(row.cells), 7)
    assert [c.text for c in labels] == ["2.其他法律行政法规禁止公开"] and [f.parsed.value for f in value_facts] == [0] * 7


def test_rows_of_cells_out_of_column_order_or_reaching_into_other_rows() -> None:
    """A row whose cells are not laid left to right is sorted, and a cell whose row is another (or that
    spans rows) still covers the places left of later rows' first cells, as `Table.grid()` lays them."""
    a = Cell("一、收到申请", 0, 0, rowspan=2)
    rows = (
        (Cell("9", 0, 2), Cell("（一）当面", 0, 1), a),
        (Cell("（二）网络", 1, 1), Cell("4", 1, 2)),
        (Cell("二、上年结转", 2, 0), Cell("1", 2, 2)),
    )
    out = interpret(Document(blocks=(Table(rows=rows, index=3),), format="docx"))
    assert [[c.text for c in r.cells] for r in out] == [["一、收到申请", "（一）当面", "9"], ["（二）网络", "4"], ["二、上年结转", "1"]]
    assert [r.inherited for r in out] == [(), ("一、收到申请",), ()]
    assert [r.table for r in out] == [3, 3, 3]
