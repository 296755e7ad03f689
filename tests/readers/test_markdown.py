"""Markdown reader on converter output (dev07) and variants built from it."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from extractors.errors import CorruptFileError, ResourceLimitError
from extractors.model import Document, Paragraph, Table
from extractors.readers import html, markdown, read
from extractors.readers.options import ReadOptions

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
DEV07 = CORPUS / "variants" / "dev07.md"
OPTS = ReadOptions()
NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
ORGS = ("natural_person", "commercial", "research", "nonprofit", "legal_service", "other_org", "total")


@pytest.fixture(scope="module")
def source() -> str:
    return DEV07.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def doc(source: str) -> Document:
    return markdown.read(source.encode("utf-8"), OPTS)


@pytest.fixture(scope="module")
def gold() -> dict:
    return json.loads((CORPUS / "gold" / "dev07.json").read_text(encoding="utf-8"))["indicators"]


def _table_with(doc: Document, label: str) -> Table:
    return next(t for t in doc.tables if any(r and r[0].text == label for r in t.rows))


def _row(table: Table, label: str) -> tuple:
    return next(r for r in table.rows if r and r[0].text == label)


def _para(doc: Document, start: str) -> Paragraph:
    return next(p for p in doc.paragraphs if p.text.startswith(start))


def test_no_bare_page_numbers(doc: Document, source: str) -> None:
    assert re.search(r"^— \d —$", source, re.MULTILINE)  # the corpus file does carry page lines
    for p in doc.paragraphs:
        assert not markdown.is_page_number(p.text), p.text
        assert not re.search(r"— ?\d+ ?—", p.text), p.text
    for t in doc.tables:
        for row in t.rows:
            assert not any(re.fullmatch(r"— ?\d+ ?—", c.text) for c in row)


def test_table_three_rows_carry_numbers_in_cells(doc: Document, gold: dict) -> None:
    t3 = _table_with(doc, "一、本年新收政府信息公开申请数量")
    new = _row(t3, "一、本年新收政府信息公开申请数量")
    assert [int(c.text) for c in new[1:]] == [gold[f"requests.new.{k}"] for k in ORGS]
    assert [c.col for c in new] == list(range(8))
    carried = _row(t3, "二、上年结转政府信息公开申请数量")
    assert [int(c.text) for c in carried[1:]] == [gold[f"requests.carried_over.{k}"] for k in ORGS]
    numeric_rows = [r for r in t3.rows if sum(bool(NUMBER.match(c.text)) for c in r) >= 7]
    assert len(numeric_rows) >= 20
    for r in numeric_rows:
        assert all(NUMBER.match(c.text) for c in r[1:8])


def test_table_continued_after_page_break_is_one_table(doc: Document, gold: dict) -> None:
    assert len(doc.tables) == 3
    t2 = _table_with(doc, "行政许可")
    assert _row(t2, "行政处罚")[1].text == str(gold["active.penalty.decisions"])
    assert _row(t2, "行政事业性收费")[1].text == str(gold["active.fees.amount"])
    t3 = _table_with(doc, "一、本年新收政府信息公开申请数量")
    assert _row(t3, "（七）总计")[7].text == "95"
    assert _row(t3, "四、结转下年度继续办理")[0].row == len(t3.rows) - 1
    for t in doc.tables:
        assert [r[0].row for r in t.rows] == list(range(len(t.rows)))
        for row in t.rows:
            assert not any(re.fullmatch(r":?-+:?", c.text) for c in row)  # separator rows dropped


def test_wrapped_labels_kept_as_label_rows(doc: Document) -> None:
    t3 = _table_with(doc, "一、本年新收政府信息公开申请数量")
    labels = [r[0].text for r in t3.rows]
    i = labels.index("2.没有现成信息需要另行制作")
    assert len(t3.rows[i]) == 1 and t3.rows[i][0].col == 0
    assert labels[i - 1] == "" and [c.text for c in t3.rows[i - 1]][1] == "1"  # its numbers sit in the row above
    assert labels[i + 1] == "3.补正后申请内容仍不明确"
    j = labels.index("（二）部分公开（区分处理的，只计这一情")
    assert len(t3.rows[j]) == 1 and labels[j + 1] == "形，不计其他情形）"
    assert "4.无正当理由大量反复" in labels and "5.要求行政机关确认或重新出具已获取信息" in labels


def test_review_litigation_row_of_fifteen(doc: Document, gold: dict) -> None:
    t4 = _table_with(doc, "行政复议")
    order = [f"review.{k}" for k in ("upheld", "corrected", "other", "pending", "total")]
    for group in ("litigation_direct", "litigation_after_review"):
        order += [f"{group}.{k}" for k in ("upheld", "corrected", "other", "pending", "total")]
    assert [int(c.text) for c in t4.rows[-1]] == [gold[k] for k in order]


def test_hard_wrapped_paragraphs_rejoined(doc: Document) -> None:
    intro = _para(doc, "本报告由")
    assert "《中华人民共和国政府信息公开条例》" in intro.text
    assert intro.text.endswith("电话：0517-87290606）。")
    assert intro.source.line == 4
    glued = _para(doc, "针对存在问题")  # a page number sits inside this paragraph in the file
    assert "答复书模板，使各行政机关答复的方式" in glued.text
    assert glued.text.endswith("业务工作水平。")


def test_headings_are_own_paragraphs(doc: Document) -> None:
    texts = [p.text for p in doc.paragraphs]
    for heading in ("一、总体情况", "二、主动公开政府信息情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"):
        p = doc.paragraphs[texts.index(heading)]
        assert p.style == "heading"
    assert _para(doc, "（一）主动公开情况。").text.endswith("解读信息发布 7 条。")
    assert _para(doc, "（三）政府信息管理情况").text.endswith("一律不准发布。")
    assert doc.title == "淮安市洪泽区人民政府2024 年政府信息公开工作年度报告"
    assert [p.style for p in doc.paragraphs[:2]] == ["title", "title"]


def test_without_blank_lines_paragraphs_split_at_short_lines(doc: Document, source: str) -> None:
    packed = "\n".join(line for line in source.splitlines() if line.strip())
    packed_doc = markdown.read(packed.encode("utf-8"), OPTS)
    assert [p.text for p in packed_doc.paragraphs] == [p.text for p in doc.paragraphs]
    assert [t.rows[-1] for t in packed_doc.tables] != []
    assert [[c.text for r in t.rows for c in r] for t in packed_doc.tables] == [
        [c.text for r in t.rows for c in r] for t in doc.tables
    ]


def test_emphasis_links_and_escapes(source: str) -> None:
    edited = (
        source.replace("## 一、总体情况", "**一、总体情况**")
        .replace("| 行政处罚 | 2776 |", "| __行政处罚__ \\| 罚款 | **2776** |")
        .replace("政府门户网站主动公开政府", "[政府门户网站](http://example.gov.cn/a_(b))主动公开政府")
    )
    d = markdown.read(edited.encode("utf-8"), OPTS)
    assert any(p.text == "一、总体情况" and p.style == "heading" for p in d.paragraphs)
    row = _row(_table_with(d, "行政许可"), "行政处罚 | 罚款")
    assert [c.text for c in row] == ["行政处罚 | 罚款", "2776"]
    assert "主要通过政府门户网站主动公开政府文件" in d.text()
    assert "**" not in d.text() and "__" not in d.text() and "http" not in d.text()


def test_pipe_table_without_outer_pipes(doc: Document, source: str) -> None:
    lines = source.splitlines()
    i = lines.index("| 行政处罚 | 2776 |")
    block_start = max(k for k in range(i) if lines[k].startswith("| 第二十条第（六）项"))
    stripped = [ln.strip().strip("|") if ln.startswith("|") else ln for ln in lines[block_start : i + 6]]
    d = markdown.read("\n".join(["## 表", "", *stripped]).encode("utf-8"), OPTS)
    assert len(d.tables) == 1
    assert [c.text for c in _row(d.tables[0], "行政处罚")] == ["行政处罚", "2776"]
    assert d.tables[0].rows[0][0].text == "第二十条第（六）项"
    assert [c.text for c in _row(d.tables[0], "行政强制")] == ["行政强制", "84"]


def test_html_table_block_uses_html_grid() -> None:
    page = (CORPUS / "variants" / "dev04.html").read_text(encoding="utf-8")
    start = page.index("<table", page.index("三、收到和处理"))
    table = page[start : page.index("</table>", start) + 8]
    md = f"## 三、收到和处理政府信息公开申请情况\n\n{table}\n\n## 四、政府信息公开行政复议、行政诉讼情况\n"
    d = markdown.read(md.encode("utf-8"), OPTS)
    ref = html.read(page.encode("utf-8"), OPTS).tables[1]
    assert len(d.tables) == 1
    assert [[(c.text, c.col, c.rowspan, c.colspan) for c in r] for r in d.tables[0].rows] == [
        [(c.text, c.col, c.rowspan, c.colspan) for c in r] for r in ref.rows
    ]
    assert d.paragraphs[-1].text == "四、政府信息公开行政复议、行政诉讼情况"


@pytest.mark.parametrize("line", ["- 3 -", "—3—", "— 12 —", "3", "第 3 页", "第3页 共10页", "－ 7 －", "Page 4"])
def test_page_number_forms(line: str) -> None:
    assert markdown.is_page_number(line)


@pytest.mark.parametrize("line", ["2024", "95 件", "一、总体情况", "- 3 个", "3.补正后申请内容仍不明确"])
def test_not_page_numbers(line: str) -> None:
    assert not markdown.is_page_number(line)


def test_registry_reads_md(doc: Document) -> None:
    d = read(DEV07.read_bytes(), "dev07.md")
    assert d.format == "md" and d.blocks == doc.blocks


def test_text_limit() -> None:
    with pytest.raises(ResourceLimitError):
        markdown.read(DEV07.read_bytes(), ReadOptions(max_text_chars=1000))


def test_binary_junk_is_refused() -> None:
    with pytest.raises(CorruptFileError):
        markdown.read(b"\x01\x02\x03\x04\x05\x06" * 100, OPTS)


def test_gb18030_markdown(doc: Document, source: str) -> None:
    d = markdown.read(source.encode("gb18030"), OPTS)
    assert d.blocks == doc.blocks


def test_table_cells_past_the_document_cap_are_refused_while_reading() -> None:
    head = "|" + "|".join("列" for _ in range(10)) + "|\n|" + "|".join("-" for _ in range(10)) + "|\n"
    table = head + "".join("|" + "|".join(str(c) for c in range(10)) + "|\n" for _ in range(20))
    doc = markdown.read(table.encode(), ReadOptions(max_document_cells=210))  # 21 rows x 10 cells: at the cap
    assert sum(len(r) for b in doc.blocks if isinstance(b, Table) for r in b.rows) == 210
    with pytest.raises(ResourceLimitError) as e:
        markdown.read(table.encode(), ReadOptions(max_document_cells=209))
    assert e.value.extra["limit"] == "max_document_cells"


def test_plain_cells_read_like_marked_up_ones() -> None:
    # the fast path for cells without inline marks gives what the full rewrite gives
    for text in ["  予以公开\xa0 12 ", "a\n\n b  c\n", "", "收到申请数"]:
        assert markdown.clean_inline(text) == markdown.clean_inline(text + "**")
        assert markdown.clean_inline(text, keep_breaks=True) == markdown.clean_inline(text + "**", keep_breaks=True)
