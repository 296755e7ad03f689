"""DOCX reader: real corpus reports (tables, merged cells, headings) and hostile containers."""
from __future__ import annotations

import io
import random
import re
import struct
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from extractors import readers
from extractors.errors import (
    CorruptFileError,
    EncryptedFileError,
    ExtractionError,
    ResourceLimitError,
)
from extractors.model import Cell, Document, Paragraph, Table
from extractors.readers.docx import read
from extractors.readers.options import ReadOptions

# only for collecting the parametrized report list; tests themselves use the `corpus` fixture
_CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
OPTIONS = ReadOptions()
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
REPORT_STEMS = sorted(p.stem for p in (_CORPUS / "docx").glob("*.docx"))


def _read(path: Path) -> Document:
    return read(path.read_bytes(), OPTIONS)


def _table_with(doc: Document, text: str) -> Table:
    return next(t for t in doc.tables if any(c.text == text for r in t.rows for c in r))


def _cell(table: Table, text: str) -> Cell:
    return next(c for r in table.rows for c in r if c.text == text)


# ---------------------------------------------------------------------------
# Real reports
# ---------------------------------------------------------------------------


def test_corpus_is_present() -> None:
    assert len(REPORT_STEMS) == 5


def test_003_applications_row_has_label_span_and_seven_value_columns(corpus: Path) -> None:
    doc = _read(corpus / "docx" / "003_a1ca134a5abe9455.docx")
    table = _table_with(doc, "一、本年新收政府信息公开申请数量")
    label = _cell(table, "一、本年新收政府信息公开申请数量")
    assert label.colspan == 3 and label.col == 0
    row = table.rows[label.row]
    values = [c for c in row if c is not label]
    assert [c.text for c in values] == ["208", "1", "10", "1", "3", "1", "224"]
    assert [c.col for c in values] == list(range(3, 10))
    assert all(c.source.table == table.index and c.source.row == c.row and c.source.col == c.col for c in row)


def test_003_vertical_merge_is_one_cell_with_rowspan(corpus: Path) -> None:
    doc = _read(corpus / "docx" / "003_a1ca134a5abe9455.docx")
    table = _table_with(doc, "三、本年度办理结果")
    merged = [c for r in table.rows for c in r if c.text == "三、本年度办理结果"]
    assert len(merged) == 1
    cell = merged[0]
    assert cell.rowspan == 20 and cell.col == 0
    grid = table.grid()
    total = _cell(table, "（七）总计")
    carry = _cell(table, "四、结转下年度继续办理")
    assert grid[total.row][0] is cell  # the last result row is still under the merged label
    assert carry.row == cell.row + cell.rowspan and grid[carry.row][0] is carry
    # continuation cells produce no Cell of their own: column 0 starts only twice below the header
    starts_in_col0 = [c.text for r in table.rows[cell.row :] for c in r if c.col == 0]
    assert starts_in_col0 == ["三、本年度办理结果", "四、结转下年度继续办理"]
    # the header's 3x3 corner and 2-row header cells are resolved too
    assert _cell(table, "自然人").rowspan == 2
    assert _cell(table, "申请人情况").colspan == 7


def test_000_legacy_table_keeps_empty_value_cell(corpus: Path) -> None:
    doc = _read(corpus / "docx" / "000_32e6960542ba4ec5.docx")
    table = _table_with(doc, "制发规范性文件总数")
    label = _cell(table, "制发规范性文件总数")
    assert [c.text for c in table.rows[label.row]] == ["制发规范性文件总数", "件", ""]
    assert table.n_cols == 3
    # multi-paragraph cell keeps its lines
    assert "（一）主动公开政府信息数\n（不同渠道和方式公开相同信息计1条）" in {c.text for r in table.rows for c in r}


def test_000_headings_in_order_and_hinted(corpus: Path) -> None:
    doc = _read(corpus / "docx" / "000_32e6960542ba4ec5.docx")
    texts = [p.text for p in doc.paragraphs]
    wanted = ["一、概述", "二、公开载体建设应用情况", "三、依申请公开政府信息情况", "八、其它需要报告的事项"]
    positions = [texts.index(h) for h in wanted]
    assert positions == sorted(positions)
    heads = {p.text for p in doc.paragraphs if p.style == "heading"}
    assert set(wanted) <= heads
    assert not any(p.style == "heading" and len(p.text) > 60 for p in doc.paragraphs)


def test_titles_from_core_properties(corpus: Path) -> None:
    assert _read(corpus / "docx" / "003_a1ca134a5abe9455.docx").title == "余姚市人民政府2019年政府信息公开工作年度报告"
    assert _read(corpus / "templates" / "official_form_2021_blank.docx").title is None


def _word_export(doc: Document) -> list[str]:
    """The document the way Word's text export prints it: a TAB-led line per cell, vMerge gaps empty."""
    lines: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            lines.extend(block.text.split("\n"))
            continue
        grid = block.grid()
        for r, _row in enumerate(block.rows):
            for c, cell in enumerate(grid[r]):
                if cell is None or cell.col != c:
                    continue
                text = cell.text if cell.row == r else ""
                first, *rest = text.split("\n")
                lines.append("\t" + first)
                lines.extend(rest)
    return [line.strip() for line in lines if line.strip()]


@pytest.mark.parametrize("stem", REPORT_STEMS)
def test_same_text_as_word_export(stem: str, corpus: Path) -> None:
    txt = (corpus / "txt" / f"{stem}.txt").read_text(encoding="utf-8")
    expected = [re.sub(r"\[bookmark: [^\]]*\]", "", line).strip() for line in txt.split("\n")]
    assert _word_export(_read(corpus / "docx" / f"{stem}.docx")) == [line for line in expected if line]


def test_dev04_2021_form_merged_headers(corpus: Path) -> None:
    doc = _read(corpus / "variants" / "dev04.docx")
    assert doc.title == "淮安市清江浦区人民政府2024年政府信息公开工作年度报告"
    review = _table_with(doc, "行政复议")
    assert (_cell(review, "行政复议").colspan, _cell(review, "行政诉讼").colspan) == (5, 10)
    assert review.n_cols == 15
    assert [c.text for c in review.rows[-1]] == ["72", "64", "178", "37", "351", "13", "4", "8", "1", "26", "12", "1", "1", "6", "20"]
    apps = _table_with(doc, "三、本年度办理结果")
    assert _cell(apps, "三、本年度办理结果").rowspan == 22
    assert _cell(apps, "（五）不予处理").rowspan == 5
    row = apps.rows[_cell(apps, "一、本年新收政府信息公开申请数量").row]
    assert [c.text for c in row[1:]] == ["3001", "53", "0", "0", "61", "4", "3119"]


def test_blank_official_template_has_grid_but_no_values(corpus: Path) -> None:
    doc = _read(corpus / "templates" / "official_form_2021_blank.docx")
    apps = _table_with(doc, "三、本年度办理结果")
    assert (apps.n_rows, apps.n_cols) == (28, 10)
    row = apps.rows[_cell(apps, "（七）总计").row]
    assert [c.text for c in row[1:]] == [""] * 7
    assert [p.text for p in doc.paragraphs if p.style == "heading"][1:3] == ["一、总体情况", "二、主动公开政府信息情况"]


def test_registry_routes_docx_bytes(corpus: Path) -> None:
    path = corpus / "docx" / "001_3b9418f33333a698.docx"
    doc = readers.read(path.read_bytes(), filename="report.pdf")
    assert doc.format == "docx" and doc.title == "象山县人民政府办公室2017年度信息公开工作年度报告"


def test_warm_read_is_fast(corpus: Path) -> None:
    """The reason for the raw-lxml walk: several times cheaper than python-docx's object model.

    Measured interleaved against python-docx so load on a shared machine hits both alike; the
    absolute bound is loose (target ~10 ms warm on an idle core).
    """
    import docx as python_docx

    data = (corpus / "templates" / "official_form_2021_blank.docx").read_bytes()  # largest document.xml

    def with_python_docx() -> None:
        d = python_docx.Document(io.BytesIO(data))
        for t in d.tables:
            for row in t.rows:
                for cell in row.cells:
                    _ = cell.text

    read(data, OPTIONS)
    ours, theirs = [], []
    for _ in range(5):
        ours.append(_timed(lambda: read(data, OPTIONS)))
        theirs.append(_timed(with_python_docx))
    assert min(ours) * 2.5 < min(theirs)
    assert min(ours) < 0.060


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


# ---------------------------------------------------------------------------
# WordprocessingML features, on documents built here
# ---------------------------------------------------------------------------

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="{target}"/></Relationships>'
)


def _docx(body: str, *, ns: str = W, parts: dict[str, bytes] | None = None, target: str = "word/document.xml") -> bytes:
    xml = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{ns}" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
        f"<w:body>{body}</w:body></w:document>"
    )
    return _zip({"[Content_Types].xml": _CONTENT_TYPES.encode(), "_rels/.rels": _RELS.format(target=target).encode(),
                 target: xml.encode("utf-8"), **(parts or {})})


def _zip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return buf.getvalue()


def _p(text: str, ppr: str = "") -> str:
    return f"<w:p>{ppr}<w:r><w:t>{text}</w:t></w:r></w:p>"


def _tc(inner: str, tcpr: str = "") -> str:
    return f"<w:tc><w:tcPr>{tcpr}</w:tcPr>{inner}</w:tc>"


def test_inline_markup_rules() -> None:
    body = (
        "<w:p><w:r><w:t>A</w:t><w:tab/><w:t>B</w:t><w:br/><w:t>C</w:t><w:sym w:char=\"F0FC\"/></w:r>"
        "<w:del><w:r><w:delText>gone</w:delText></w:r></w:del>"
        "<w:ins><w:r><w:t>+ins</w:t></w:r></w:ins>"
        "<w:hyperlink><w:r><w:t>+link</w:t></w:r></w:hyperlink>"
        "<w:fldSimple w:instr=\"PAGE\"><w:r><w:t>+7</w:t></w:r></w:fldSimple>"
        "<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r>"
        "<w:r><w:fldChar w:fldCharType=\"separate\"/></w:r><w:r><w:t>+8</w:t></w:r>"
        "<w:r><w:fldChar w:fldCharType=\"end\"/></w:r>"
        "<w:r><w:rPr><w:vanish/></w:rPr><w:t>hidden</w:t></w:r>"
        "<w:moveFrom><w:r><w:t>moved-away</w:t></w:r></w:moveFrom>"
        "<w:sdt><w:sdtPr><w:alias w:val=\"x\"/></w:sdtPr><w:sdtContent><w:r><w:t>+sdt</w:t></w:r></w:sdtContent></w:sdt>"
        "<w:customXml><w:r><w:t>+cx</w:t></w:r></w:customXml>"
        "<w:r><mc:AlternateContent><mc:Choice Requires=\"wps\"><w:t>+choice</w:t></mc:Choice>"
        "<mc:Fallback><w:t>+fallback</w:t></mc:Fallback></mc:AlternateContent></w:r>"
        "</w:p>"
        "<w:p><w:r><w:t xml:space=\"preserve\">   </w:t></w:r></w:p>"  # whitespace only: no paragraph
        "<w:sdt><w:sdtContent>" + _p("in block sdt") + "</w:sdtContent></w:sdt>"
        "<w:customXml>" + _p("in block customXml") + "</w:customXml>"
    )
    doc = read(_docx(body), OPTIONS)
    assert [p.text for p in doc.paragraphs] == ["A B\nC+ins+link+7+8+sdt+cx+choice", "in block sdt", "in block customXml"]
    assert [p.source.line for p in doc.paragraphs] == [0, 1, 2]


def test_table_grid_rules() -> None:
    nested = "<w:tbl><w:tr>" + _tc(_p("n1")) + _tc(_p("n2")) + "</w:tr><w:tr>" + _tc(_p("n3")) + "</w:tr></w:tbl>"
    rows = [
        # row 0: three plain cells, the first starts a vertical merge
        _tc(_p("V"), '<w:vMerge w:val="restart"/>') + _tc(_p("a")) + _tc(_p("b")),
        # row 1: merge continues; a two-paragraph cell; a cell holding a nested table
        _tc("<w:p/>", "<w:vMerge/>") + _tc(_p("line1") + _p("line2")) + _tc(_p("outer") + nested),
        # row 2: gridBefore skips column 0 (ends the merge), a cell spanning two columns
        '<w:trPr><w:gridBefore w:val="1"/></w:trPr>' + _tc(_p("wide"), '<w:gridSpan w:val="2"/>'),
        # row 3: deleted row
        '<w:trPr><w:del w:id="1" w:author="x"/></w:trPr>' + _tc(_p("deleted")) + _tc(_p("x")) + _tc(_p("y")),
        # row 4: legacy horizontal merge, gridAfter
        '<w:trPr><w:gridAfter w:val="1"/></w:trPr>' + _tc(_p("H"), '<w:hMerge w:val="restart"/>') + _tc("<w:p/>", "<w:hMerge/>"),
    ]
    body = "<w:tbl><w:tblGrid/>" + "".join(f"<w:tr>{r}</w:tr>" for r in rows) + "</w:tbl>"
    doc = read(_docx(body), OPTIONS)
    (table,) = doc.tables
    got = [[(c.text, c.row, c.col, c.rowspan, c.colspan) for c in r] for r in table.rows]
    assert got == [
        [("V", 0, 0, 2, 1), ("a", 0, 1, 1, 1), ("b", 0, 2, 1, 1)],
        [("line1\nline2", 1, 1, 1, 1), ("outer\nn1\nn2\nn3", 1, 2, 1, 1)],
        [("wide", 2, 1, 1, 2)],
        [("H", 3, 0, 1, 2)],
    ]
    assert table.n_cols == 3 and table.index == 0 and table.source.table == 0


def test_text_outside_cells_and_marks_between_cells() -> None:
    """The one-pass table read gives each cell its own text only: bookmarks between cells, a stray
    paragraph in a row (not inside any cell) and after the last row are not cell text; a cell
    whose tcPr comes after its paragraphs still spans; a bullet in a merged-away cell does not
    advance the list counter."""
    mark = '<w:bookmarkStart w:id="0" w:name="b"/><w:bookmarkEnd w:id="0"/>'
    rows = [
        _tc(_p("a")) + mark + _tc(_p("b")) + _p("stray-in-row") + _tc(_p("c")),
        f"<w:tc>{_p('late')}<w:tcPr><w:gridSpan w:val=\"2\"/></w:tcPr></w:tc>" + _tc(_p("d")) + mark,
    ]
    body = "<w:tbl>" + "".join(f"<w:tr>{r}</w:tr>" for r in rows) + _p("stray-in-table") + "</w:tbl>"
    (table,) = read(_docx(body), OPTIONS).tables
    got = [[(c.text, c.col, c.colspan) for c in r] for r in table.rows]
    assert got == [[("a", 0, 1), ("b", 1, 1), ("c", 2, 1)], [("late", 0, 2), ("d", 2, 1)]]


def test_table_pass_agrees_with_a_pass_per_cell(corpus: Path) -> None:
    """Every corpus table read by the one-pass stream gives what reading each cell alone gives."""
    from lxml import etree

    from extractors.readers import docx as reader

    paths = sorted([*corpus.glob("docx/*.docx"), *corpus.glob("variants/*.docx"), *corpus.glob("templates/*.docx")])
    checked = 0
    for path in paths:
        with zipfile.ZipFile(path) as z:
            root = etree.fromstring(z.read("word/document.xml"))
        walker = reader._Walker(W, reader._Styles({}, {}), None, reader.SETTINGS)
        per_cell = walker._cell
        fallbacks: list[object] = []
        walker._cell = lambda tc: fallbacks.append(tc) or per_cell(tc)  # type: ignore[method-assign]
        for tbl in root.iter(f"{{{W}}}tbl"):
            grid = [walker._cells(tr) for tr in walker._rows(tbl)]
            streamed = walker._gather(tbl, grid)
            alone = {tc: list(per_cell(tc)) for cells in grid for tc in cells}
            assert streamed == alone, path.name
            checked += len(alone)
        assert not fallbacks, path.name  # the stream, not the per-cell fallback, read every corpus cell
    assert checked > 2000


def test_single_cell_frame_table_is_unwrapped() -> None:
    inner = "<w:tbl><w:tr>" + _tc(_p("k")) + _tc(_p("9")) + "</w:tr></w:tbl>"
    body = "<w:tbl><w:tr>" + _tc(_p("一、总体情况") + inner) + "</w:tr></w:tbl>" + _p("after")
    doc = read(_docx(body), OPTIONS)
    assert [type(b).__name__ for b in doc.blocks] == ["Paragraph", "Table", "Paragraph"]
    assert [c.text for c in doc.tables[0].rows[0]] == ["k", "9"]


def test_heading_style_from_styles_part_with_numeric_id() -> None:
    styles = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:styles xmlns:w="{W}">'
        '<w:style w:type="paragraph" w:styleId="2"><w:name w:val="heading 1"/></w:style>'
        '<w:style w:type="paragraph" w:styleId="7"><w:name w:val="My Head"/><w:basedOn w:val="2"/></w:style>'
        '<w:style w:type="paragraph" w:styleId="9"><w:name w:val="Body"/></w:style></w:styles>'
    )
    body = (
        _p("一、概述", '<w:pPr><w:pStyle w:val="2"/></w:pPr>')
        + _p("二、派生", '<w:pPr><w:pStyle w:val="7"/></w:pPr>')
        + _p("正文", '<w:pPr><w:pStyle w:val="9"/></w:pPr>')
        + _p("大纲", '<w:pPr><w:outlineLvl w:val="1"/></w:pPr>')
    )
    doc = read(_docx(body, parts={"word/styles.xml": styles.encode()}), OPTIONS)
    assert [p.style for p in doc.paragraphs] == ["heading", "heading", None, "heading"]


def test_automatic_list_numbers_are_printed() -> None:
    numbering = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:numbering xmlns:w="{W}">'
        '<w:abstractNum w:abstractNumId="0">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1、"/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%2）"/></w:lvl>'
        "</w:abstractNum>"
        '<w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
        '<w:lvlText w:val="%1."/></w:lvl></w:abstractNum>'
        '<w:abstractNum w:abstractNumId="2"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/><w:lvlText w:val="•"/></w:lvl>'
        "</w:abstractNum>"
        '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>'
        '<w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>'
        '<w:num w:numId="3"><w:abstractNumId w:val="2"/></w:num>'
        '<w:num w:numId="4"><w:abstractNumId w:val="1"/><w:lvlOverride w:ilvl="0"><w:startOverride w:val="9"/>'
        "</w:lvlOverride></w:num></w:numbering>"
    )
    styles = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:styles xmlns:w="{W}">'
        '<w:style w:type="paragraph" w:styleId="H1"><w:name w:val="heading 1"/>'
        '<w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr></w:style></w:styles>'
    )

    def num(text: str, num_id: int, ilvl: int = 0) -> str:
        return _p(text, f'<w:pPr><w:numPr><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr></w:pPr>')

    cells = "<w:tbl><w:tr>" + _tc(num("属于国家秘密", 2) + num("其他", 2)) + _tc(_p("0")) + "</w:tr></w:tbl>"
    body = (
        _p("总体情况", '<w:pPr><w:pStyle w:val="H1"/></w:pPr>')
        + num("主动公开", 1, 1)
        + num("依申请公开", 1, 1)
        + num("主动公开政府信息情况", 1)
        + num("规章", 1, 1)
        + num("要点", 3)
        + cells
        + num("续", 4)
    )
    parts = {"word/numbering.xml": numbering.encode(), "word/styles.xml": styles.encode()}
    doc = read(_docx(body, parts=parts), OPTIONS)
    assert [p.text for p in doc.paragraphs] == [
        "一、总体情况", "（一）主动公开", "（二）依申请公开", "二、主动公开政府信息情况", "（一）规章", "要点", "9.续",
    ]
    assert doc.paragraphs[0].style == "heading" and doc.paragraphs[1].style == "list"
    assert doc.tables[0].rows[0][0].text == "1.属于国家秘密\n2.其他"


def test_strict_namespace_and_relationship_target() -> None:
    strict = "http://purl.oclc.org/ooxml/wordprocessingml/main"
    doc = read(_docx(_p("严格"), ns=strict, target="word/document2.xml"), OPTIONS)
    assert [p.text for p in doc.paragraphs] == ["严格"]


# ---------------------------------------------------------------------------
# Hostile and broken inputs
# ---------------------------------------------------------------------------


def _zero_bomb(mib: int) -> bytes:
    """A DOCX whose document.xml is `mib` MiB of zeros, written in chunks so the test stays small."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS.format(target="word/document.xml"))
        with z.open("word/document.xml", "w", force_zip64=True) as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(mib):
                fh.write(chunk)
    return buf.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _zero_bomb(200)


def _bounded(fn) -> None:  # type: ignore[no-untyped-def]
    """Run `fn` under a time and memory budget: refusing must cost little."""
    tracemalloc.start()
    t = time.perf_counter()
    try:
        fn()
    finally:
        elapsed = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert elapsed < 2.0 and peak < 32 * 1024 * 1024


def test_zip_bomb_refused(bomb: bytes) -> None:
    assert len(bomb) < 2 * 1024 * 1024
    with pytest.raises(ResourceLimitError):
        _bounded(lambda: read(bomb, OPTIONS))


def test_zip_bomb_refused_by_ratio_alone(bomb: bytes) -> None:
    opts = ReadOptions(max_uncompressed_bytes=10 * 1024**3)
    with pytest.raises(ResourceLimitError, match="expands"):
        _bounded(lambda: read(bomb, opts))


def test_zip_bomb_refused_by_total_size_alone(bomb: bytes) -> None:
    opts = ReadOptions(max_compression_ratio=1e9)
    with pytest.raises(ResourceLimitError, match="add up"):
        _bounded(lambda: read(bomb, opts))


def test_lying_size_header_does_not_inflate() -> None:
    """Declared sizes patched to look tiny: the read stops at the declared size and fails the CRC."""
    rels = _RELS.format(target="word/document.xml").encode()
    real = _zip({"_rels/.rels": rels, "word/document.xml": b"\0" * (8 << 20)})  # last entry written
    data = bytearray(real)
    info = zipfile.ZipFile(io.BytesIO(real)).getinfo("word/document.xml")
    central = data.rfind(b"PK\x01\x02")  # the central header of the last entry
    assert data[central + 46 : central + 46 + len(info.filename)] == info.filename.encode()
    struct.pack_into("<I", data, central + 24, 1000)  # uncompressed size, central directory
    struct.pack_into("<I", data, info.header_offset + 22, 1000)  # and local header
    assert zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/document.xml").file_size == 1000
    with pytest.raises(CorruptFileError):
        _bounded(lambda: read(bytes(data), OPTIONS))


def test_too_many_entries_refused() -> None:
    parts = {f"customXml/item{i}.xml": b"<a/>" for i in range(5000)}
    data = _docx(_p("x"), parts=parts)
    with pytest.raises(ResourceLimitError, match="5003 ZIP entries"):
        _bounded(lambda: read(data, OPTIONS))


_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + f']><w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>'
)


def test_billion_laughs_refused() -> None:
    data = _zip({"_rels/.rels": _RELS.format(target="word/document.xml").encode(), "word/document.xml": _LAUGHS.encode()})
    with pytest.raises(ResourceLimitError):
        _bounded(lambda: read(data, OPTIONS))


def test_external_entity_not_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET", encoding="utf-8")
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>'
    )
    data = _zip({"word/document.xml": xml.encode()})
    with pytest.raises(ResourceLimitError) as err:
        read(data, OPTIONS)
    assert "TOPSECRET" not in str(err.value)


def test_truncated_file_is_corrupt(corpus: Path) -> None:
    data = (corpus / "docx" / "003_a1ca134a5abe9455.docx").read_bytes()
    with pytest.raises(CorruptFileError):
        _bounded(lambda: read(data[: len(data) // 2], OPTIONS))


def test_damaged_document_part_is_corrupt(corpus: Path) -> None:
    data = bytearray((corpus / "docx" / "003_a1ca134a5abe9455.docx").read_bytes())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 100, start + 400):
        data[i] ^= 0x5A
    with pytest.raises(CorruptFileError):
        read(bytes(data), OPTIONS)


@pytest.mark.parametrize(
    "data",
    [
        b"not a zip at all",
        _zip({"word/other.xml": b"<a/>"}),  # no main document part
        _zip({"word/document.xml": b"<w:document><w:body>"}),  # malformed XML
        _zip({"word/document.xml": b'<html xmlns="http://www.w3.org/1999/xhtml"/>'}),  # not WordprocessingML
    ],
    ids=["not-zip", "no-document", "malformed", "wrong-root"],
)
def test_broken_containers_are_corrupt(data: bytes) -> None:
    with pytest.raises(CorruptFileError):
        read(data, OPTIONS)


def test_damaged_bytes_raise_only_library_errors(corpus: Path) -> None:
    """Truncations and byte flips anywhere: a Document or an ExtractionError, never a stray exception."""
    data = (corpus / "docx" / "003_a1ca134a5abe9455.docx").read_bytes()
    rnd = random.Random(20240)
    outcomes = set()
    for i in range(150):
        damaged = bytearray(data[: rnd.randrange(len(data))] if i % 3 == 0 else data)
        if i % 3:
            for _ in range(rnd.randint(1, 20)):
                damaged[rnd.randrange(len(damaged))] = rnd.randrange(256)
        try:
            read(bytes(damaged), OPTIONS)
            outcomes.add("ok")
        except ExtractionError as e:
            outcomes.add(type(e).__name__)
    assert "CorruptFileError" in outcomes


def _ole(stream_name: str) -> bytes:
    """Enough of an OLE2 compound file for detection: magic, padding, a UTF-16 directory entry name."""
    head = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
    return head + stream_name.encode("utf-16-le").ljust(64, b"\0") + b"\0" * 448


def test_password_protected_docx_is_encrypted() -> None:
    data = _ole("EncryptionInfo")
    with pytest.raises(EncryptedFileError):
        read(data, OPTIONS)
    with pytest.raises(EncryptedFileError):
        readers.read(data, filename="report.docx")


def test_legacy_ole_doc_is_not_called_encrypted() -> None:
    data = _ole("WordDocument")
    with pytest.raises(CorruptFileError):
        read(data, OPTIONS)
    assert readers.sniff(data, "report.doc") is None
