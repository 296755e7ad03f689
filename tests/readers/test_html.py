"""HTML reader on the portal-style corpus pages (and variants built from them)."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from extractors.errors import (
    CorruptFileError,
    ResourceLimitError,
    UnreadableDocumentError,
)
from extractors.model import Document
from extractors.readers import html, read
from extractors.readers.options import ReadOptions

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
PAGES = sorted((CORPUS / "html").glob("*.html"))
DEV04 = CORPUS / "variants" / "dev04.html"
OPTS = ReadOptions()
NUM = re.compile(r"^-?[\d.]*$")
CHROME = ("当前位置", "索引号", "主题分类", "字号：", "打印本页", "关闭窗口", "主办单位", "网站标识码", "ICP备")


def _norm(s: str) -> str:
    return "".join(s.split())


def _txt_rows(path: Path) -> list[list[str]]:
    """Rows of the Word text export: TAB-led lines are cells, other lines continue the cell, blank lines end a row."""
    rows = []
    for group in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [ln for ln in group.split("\n") if ln]
        if not lines or not lines[0].startswith("\t"):
            continue
        cells: list[str] = []
        for ln in lines:
            if ln.startswith("\t"):
                cells.append(ln[1:])
            else:
                cells[-1] += "\n" + ln
        rows.append(cells)
    return rows


def _label_value_pairs(rows: list[list[str]]) -> list[tuple[str, str]]:
    """(first non-empty cell, last cell) of rows whose last cell is a number or blank."""
    pairs = []
    for row in rows:
        r = [_norm(c) for c in row]
        label = next((c for c in r if c), None)
        if len(r) >= 2 and label and NUM.match(r[-1]) and not NUM.match(label) and (r[0] or r[-1]):
            pairs.append((label, r[-1]))
    return pairs


def _table_pairs(doc: Document) -> set[tuple[str, str]]:
    return set(_label_value_pairs([[c.text for c in row] for t in doc.tables for row in t.rows]))


def _row(doc: Document, label: str) -> tuple:
    for t in doc.tables:
        for row in t.rows:
            if row and _norm(row[0].text) == label:
                return row
    raise AssertionError(f"no table row labelled {label}")


def _gold(stem: str) -> dict:
    return json.loads((CORPUS / "gold" / f"{stem}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def docs() -> dict[str, Document]:
    return {p.stem: html.read(p.read_bytes(), OPTS) for p in [*PAGES, DEV04]}


def test_corpus_present() -> None:
    assert len(PAGES) == 5 and DEV04.exists()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem[:3])
def test_statistics_rows_match_txt_export(page: Path, docs: dict[str, Document]) -> None:
    expected = _label_value_pairs(_txt_rows(CORPUS / "txt" / f"{page.stem}.txt"))
    assert len(expected) > 40
    got = _table_pairs(docs[page.stem])
    missing = [p for p in expected if p not in got]
    assert not missing


def test_000_values_and_empty_cells_kept(docs: dict[str, Document]) -> None:
    doc = docs[PAGES[0].stem]
    row = _row(doc, "（一）收到申请数")
    assert [c.text for c in row] == ["（一）收到申请数", "件", "6"]
    blank = _row(doc, "制发规范性文件总数")
    assert [c.text for c in blank] == ["制发规范性文件总数", "件", ""]
    assert [c.col for c in blank] == [0, 1, 2]
    assert blank[2].source.table == 0 and blank[2].source.col == 2 and blank[2].source.row == blank[2].row


def test_br_inside_cell_is_newline(docs: dict[str, Document]) -> None:
    row = _row(docs[PAGES[0].stem], "（一）主动公开政府信息数（不同渠道和方式公开相同信息计1条）")
    assert row[0].text == "（一）主动公开政府信息数\n（不同渠道和方式公开相同信息计1条）"
    assert row[2].text == "1599"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem[:3])
def test_body_has_headings_and_no_portal_chrome(page: Path, docs: dict[str, Document]) -> None:
    doc = docs[page.stem]
    paragraphs = [_norm(p.text) for p in doc.paragraphs]
    for section in _gold(page.stem)["sections"]:
        assert any(_norm(section["heading"]) in p and len(p) < len(section["heading"]) + 12 for p in paragraphs), section
        assert any(p.startswith(_norm(section["starts"])) for p in paragraphs) or _norm(section["starts"]) in _norm(doc.text())
    text = doc.text()
    for chrome in CHROME:
        assert chrome not in text
    source = page.read_text(encoding="utf-8")
    nav = re.findall(r"<li><a [^>]*>([^<]+)</a></li>", source[: source.index("</ul>")])
    assert len(nav) >= 3
    assert not {p.text for p in doc.paragraphs} & set(nav)


def test_page_title(docs: dict[str, Document]) -> None:
    for page in PAGES:
        meta = re.search(r'name="ArticleTitle" content="([^"]+)"', page.read_text(encoding="utf-8")).group(1)
        assert docs[page.stem].title is not None and docs[page.stem].title.startswith(meta)


def test_headings_are_own_paragraphs(docs: dict[str, Document]) -> None:
    doc = docs["dev04"]
    heads = [p.text for p in doc.paragraphs if p.style == "heading"]
    assert heads[0] == "一、总体情况" and "（一）主动公开" in heads and "六、其他需要报告的事项" in heads


def test_dev04_subtotal_column_and_spans(docs: dict[str, Document]) -> None:
    doc = docs["dev04"]
    assert len(doc.tables) == 3
    t3 = doc.tables[1]
    header = {c.text: c for row in t3.rows[:3] for c in row}
    assert header["小计"].col == 9 and header["总计"].col == 10 and header["总计"].rowspan == 2
    assert header["申请人情况"].colspan == 8 and header["法人或其他组织"].colspan == 6
    assert header["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"].rowspan == 3
    gold = _gold("dev04")["indicators"]
    grid = t3.grid()
    new_row = next(r for r in grid if r[0] is not None and r[0].text == "一、本年新收政府信息公开申请数量")
    values = {c: new_row[c].text for c in range(3, 11)}
    assert int(values[3]) == gold["requests.new.natural_person"]
    assert int(values[10]) == gold["requests.new.total"]
    orgs = ("commercial", "research", "nonprofit", "legal_service", "other_org")
    assert [int(values[c]) for c in range(4, 9)] == [gold[f"requests.new.{k}"] for k in orgs]
    assert int(values[9]) == sum(gold[f"requests.new.{k}"] for k in orgs)  # 小计 in its own column
    # the 22-row 三、本年度办理结果 label spans its block; the rows below start at column 1 or 2
    outcome = next(c for row in t3.rows for c in row if c.text == "三、本年度办理结果")
    assert outcome.rowspan == 22 and outcome.col == 0


def test_dev04_review_litigation_row(docs: dict[str, Document]) -> None:
    t4 = docs["dev04"].tables[2]
    assert [(c.text, c.colspan) for c in t4.rows[0]] == [("行政复议", 5), ("行政诉讼", 10)]
    gold = _gold("dev04")["indicators"]
    order = [f"review.{k}" for k in ("upheld", "corrected", "other", "pending", "total")]
    for group in ("litigation_direct", "litigation_after_review"):
        order += [f"{group}.{k}" for k in ("upheld", "corrected", "other", "pending", "total")]
    assert [int(c.text) for c in t4.rows[-1]] == [gold[k] for k in order]


def _gbk_page(src: Path, head: str | None) -> bytes:
    text = src.read_text(encoding="utf-8")
    meta = '<meta charset="utf-8">'
    assert meta in text
    return text.replace(meta, head or "").encode("gbk")


@pytest.mark.parametrize(
    "head",
    ['<meta charset="gbk">', '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', None],
    ids=["meta-charset", "http-equiv", "undeclared"],
)
def test_gbk_page_reads_like_utf8(head: str | None, docs: dict[str, Document]) -> None:
    data = _gbk_page(PAGES[0], head)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    doc = html.read(data, OPTS)
    ref = docs[PAGES[0].stem]
    assert doc.title == ref.title
    assert doc.paragraphs == ref.paragraphs
    assert doc.tables == ref.tables


def test_utf8_page_declaring_gb2312_is_utf8(docs: dict[str, Document]) -> None:
    text = PAGES[1].read_text(encoding="utf-8").replace('<meta charset="utf-8">', '<meta charset="gb2312">')
    doc = html.read(text.encode("utf-8"), OPTS)
    assert doc.title == docs[PAGES[1].stem].title


def test_bom_wins(docs: dict[str, Document]) -> None:
    text = PAGES[2].read_text(encoding="utf-8").replace('<meta charset="utf-8">', '<meta charset="gbk">')
    doc = html.read("\ufeff".encode("utf-16-le") + text.encode("utf-16-le"), OPTS)
    assert _table_pairs(doc) == _table_pairs(docs[PAGES[2].stem])


def _cms_page(src: Path) -> str:
    """The same report inside a different portal layout: layout table, sidebar, TRS_Editor, share bar."""
    text = src.read_text(encoding="utf-8")
    body = text[text.index('<div class="article-content">') : text.index('<div class="article-tools">')]
    inner = body[len('<div class="article-content">') : body.rindex("</div>")]
    sidebar = "".join(f'<li><a href="/col{i}/">政策文件栏目{i}</a></li>' for i in range(12))
    return (
        "<html><head><meta charset='utf-8'><title>年报</title><script>var nav='首页';</script></head><body>"
        "<form id='form1'><table width='100%'><tr>"
        f"<td class='left'><ul class='menu'>{sidebar}</ul></td>"
        "<td><div class='position'>您的位置：<a href='/'>首页</a> &gt; <a href='/zwgk/'>政务公开</a></div>"
        "<table class='xxgk_table'><tr><td>索引号：</td><td>001/2018-00001</td><td>发布机构：</td><td>某区</td></tr>"
        "<tr><td>文号：</td><td></td><td>发布日期：</td><td>2018-03-31</td></tr></table>"
        f"<div id='zoom'><div class='TRS_Editor'>{inner}</div></div>"
        "<div class='bdshare'><a href='#'>分享到微信</a> <a href='#'>微博</a></div>"
        "</td></tr></table></form><div class='footer'>网站标识码 0000</div></body></html>"
    )


@pytest.mark.parametrize("page", [PAGES[0], PAGES[3]], ids=lambda p: p.stem[:3])
def test_other_portal_layout(page: Path, docs: dict[str, Document]) -> None:
    doc = html.read(_cms_page(page).encode("utf-8"), OPTS)
    assert _table_pairs(doc) == _table_pairs(docs[page.stem])
    text = doc.text()
    for chrome in ("您的位置", "政策文件栏目", "索引号", "分享到微信", "网站标识码", "var nav"):
        assert chrome not in text
    assert [p.text for p in doc.paragraphs][:3] == [p.text for p in docs[page.stem].paragraphs][:3]


def test_statistics_table_outside_body_container_is_kept(docs: dict[str, Document]) -> None:
    text = PAGES[4].read_text(encoding="utf-8")
    start, end = text.index('<table border="1"'), text.index("</table>", text.index('<table border="1"')) + 8
    table = text[start:end]
    moved = text[:start] + text[end:]
    moved = moved.replace('<div class="article-tools">', f'<div class="attachment">{table}</div><div class="article-tools">')
    doc = html.read(moved.encode("utf-8"), OPTS)
    assert _table_pairs(doc) == _table_pairs(docs[PAGES[4].stem])
    assert "索引号" not in doc.text()


def test_malformed_html_recovers(docs: dict[str, Document]) -> None:
    text = PAGES[0].read_text(encoding="utf-8")
    cut = text[: text.index("（一）收到申请数") + 200]  # truncated inside the statistics table
    doc = html.read(cut.replace("</p>", "").encode("utf-8"), OPTS)
    assert _row(doc, "（一）收到申请数")[2].text == "6"
    assert any(p.text == "一、概述" for p in doc.paragraphs)


def test_registry_sniffs_html() -> None:
    doc = read(DEV04.read_bytes(), "dev04.html")
    assert doc.format == "html" and len(doc.tables) == 3


def test_entities_are_not_resolved_beyond_html() -> None:
    page = (
        '<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/hostname"><!ENTITY big "AAAA">]>'
        '<html><head><meta charset="utf-8"><title>t</title></head><body><div class="content">'
        "<p>一、总体情况</p><p>报告正文&nbsp;&amp;&xxe;&big;结束，共计十二个字符以上。</p></div></body></html>"
    )
    doc = html.read(page.encode("utf-8"), OPTS)
    text = doc.text()
    assert "报告正文 &" in text and "AAAA" not in text
    hostname = Path("/etc/hostname")
    if hostname.exists() and hostname.read_text().strip():
        assert hostname.read_text().strip() not in text


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(ResourceLimitError):
        html.read(b"<html><body>" + b"<div>" * 100_000 + b"x" + b"</div>" * 100_000, OPTS)


@pytest.mark.parametrize("depth", [248, 249, 250, 251, 252, 253])
def test_read_refuses_what_parse_html_refuses(depth: int) -> None:
    """read() measures depth and size in its own walk; it draws the line where parse_html() does."""
    page = "<html><body><p>" + "正文内容，" * 4 + "</p>" + "<div>" * depth + "深处" + "</div>" * depth + "</body></html>"
    try:
        html.parse_html(page)
    except ResourceLimitError as e:
        with pytest.raises(ResourceLimitError) as got:
            html.read(page.encode("utf-8"), OPTS)
        assert got.value.detail == e.detail and got.value.extra == e.extra
        assert depth + 2 > html.DEFAULT_SETTINGS.max_depth  # html > body > divs
    else:
        assert "深处" in html.read(page.encode("utf-8"), OPTS).text()
        assert depth + 2 <= html.DEFAULT_SETTINGS.max_depth


def test_outside_title_is_the_last_h1_before_the_body_outside_chrome() -> None:
    body = "".join(f"<p>本机关依法公开政府信息，第{i}项工作已完成。</p>" for i in range(8))
    page = (
        "<html><body><h1>某某市人民政府办公室年度报告</h1>"
        '<div class="nav"><h1>网站导航栏目标题文字</h1></div>'
        f'<div class="article-content">{body}<h1>正文里的一级标题文字</h1></div></body></html>'
    )
    doc = html.read(page.encode("utf-8"), OPTS)
    assert doc.paragraphs[0].text == "某某市人民政府办公室年度报告" and doc.paragraphs[0].style == "title"
    assert "网站导航栏目标题文字" not in doc.text()


def test_text_limit() -> None:
    data = PAGES[0].read_bytes()
    with pytest.raises(ResourceLimitError):
        html.read(data, ReadOptions(max_text_chars=len(data) // 8))


def test_huge_table_is_refused() -> None:
    rows = "<tr><td colspan='900'>a</td><td colspan='900'>b</td></tr>" * 2000
    with pytest.raises(ResourceLimitError):
        html.read(f"<table>{rows}</table>".encode(), OPTS)


def test_rowspan_zero_and_overlong_spans_are_clipped() -> None:
    page = "<table><tr><td rowspan='0'>标签</td><td>1</td></tr><tr><td>2</td></tr><tr><td rowspan='99'>3</td></tr></table>"
    t = html.read(page.encode("utf-8"), OPTS).tables[0]
    assert t.rows[0][0].rowspan == 3
    assert [(c.text, c.col) for c in t.rows[1]] == [("2", 1)]
    assert t.rows[2][0].rowspan == 1 and t.rows[2][0].col == 1


@pytest.mark.parametrize(
    "data, error",
    [(b"\x81\x30\x81\x30" * 50, CorruptFileError), (b"<html><body><script>x</script></body></html>", UnreadableDocumentError)],
    ids=["junk-bytes", "no-text"],
)
def test_unreadable_input(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        html.read(data, OPTS)


def test_warm_speed() -> None:
    """Target is ≤ 5 ms per corpus page warm; the bound here leaves room for a busy shared machine."""
    for page in [*PAGES, DEV04]:
        data = page.read_bytes()
        html.read(data, OPTS)
        best = min(_timed(data) for _ in range(5))
        assert best < 0.025, (page.name, best)


def _timed(data: bytes) -> float:
    t = time.perf_counter()
    html.read(data, OPTS)
    return time.perf_counter() - t


def test_nbsp_cells_stay_empty_cells(docs: dict[str, Document]) -> None:
    text = PAGES[0].read_text(encoding="utf-8")
    assert "<td></td>" in text
    doc = html.read(text.replace("<td></td>", "<td>&nbsp;</td>").encode("utf-8"), OPTS)
    assert doc.tables == docs[PAGES[0].stem].tables


def test_br_separated_body_box_is_found(docs: dict[str, Document]) -> None:
    """Old CMS pages: the report is one <div id="zoom"> of <br>-separated lines next to page chrome."""
    src = PAGES[0].read_text(encoding="utf-8")
    start, tools = src.index('<div class="article-content">'), src.index('<div class="article-tools">')
    inner = src[start + len('<div class="article-content">') : src.rindex("</div>", start, tools)]
    first_table = inner.index("<table")
    lines = re.findall(r"<p[^>]*>(.*?)</p>", inner[:first_table], re.DOTALL)
    zoom = '<div id="zoom">' + "<br>\n".join(lines) + "</div>"
    page = src[:start] + f'<div class="con">{zoom}<div>{inner[first_table:]}</div></div>' + src[tools:]
    doc = html.read(page.encode("utf-8"), OPTS)
    ref = docs[PAGES[0].stem]
    assert [p.text for p in doc.paragraphs] == [p.text for p in ref.paragraphs]
    assert _table_pairs(doc) == _table_pairs(ref)
    for chrome in CHROME:
        assert chrome not in doc.text()


def test_punct_count_is_the_regex_count() -> None:
    """The str.count path (long texts) and the regex path (short ones) count the same marks."""
    unit = "收到申请，办结。其中：依申请公开；不予公开、部分公开:1,2;3"
    for text in ["", "无标点", unit, unit * 3, unit * 40, "，" * 300, "ab" * 200 + "：:"]:
        assert html._punct_count(text) == len(html._PUNCT.findall(text)), text[:20]


def test_childless_text_is_the_serialised_text() -> None:
    root = html._parse("<html><body><p>甲 乙</p><p></p><td>丙<br>丁</td><script>x=1</script><p>戊<b>己</b>庚</p></body></html>")
    for el in root.iter():
        want = html.etree.tostring(el, method="text", encoding=str, with_tail=False)
        assert html._text(el) == want, html.etree.tostring(el)


@pytest.mark.parametrize("key", ["索引号：", "索 引 号：", "索引号\u3000", "\xa0发布机构:", "发布机构"])
def test_metadata_key_cells_with_and_without_whitespace(key: str) -> None:
    table = html._parse(f"<table><tr><td>{key}</td><td>000001</td><td>发文日期</td><td>2024-01-01</td></tr></table>").find(".//table")
    assert html._is_metadata_table(table, html.DEFAULT_SETTINGS)
    plain = html._parse("<table><tr><td>索引号码</td><td>发布 机关</td></tr></table>").find(".//table")
    assert not html._is_metadata_table(plain, html.DEFAULT_SETTINGS)


def test_grid_positions_with_spans_between_one_by_one_cells() -> None:
    """1x1 cells skip the rowspan bookkeeping: the cells after, beside and below spans still land right."""
    page = (
        "<table>"
        "<tr><td rowspan='2'>a</td><td>b</td><td colspan='2'>c</td><td>d</td></tr>"
        "<tr><td>e</td><td>f</td><td rowspan='3'>g</td><td>h</td></tr>"
        "<tr><td>i</td><td colspan='2' rowspan='2'>j</td><td>k</td></tr>"
        "<tr><td>l</td><td>m</td></tr>"
        "<tr><td>n</td><td>o</td><td>p</td><td>q</td><td>r</td></tr>"
        "</table>"
    )
    t = html.table_from_element(html._parse(page).find(".//table"), 0)
    assert t is not None
    got = [[(c.text, c.col, c.rowspan, c.colspan) for c in row] for row in t.rows]
    assert got == [
        [("a", 0, 2, 1), ("b", 1, 1, 1), ("c", 2, 1, 2), ("d", 4, 1, 1)],
        [("e", 1, 1, 1), ("f", 2, 1, 1), ("g", 3, 3, 1), ("h", 4, 1, 1)],
        [("i", 0, 1, 1), ("j", 1, 2, 2), ("k", 4, 1, 1)],
        [("l", 0, 1, 1), ("m", 4, 1, 1)],
        [("n", 0, 1, 1), ("o", 1, 1, 1), ("p", 2, 1, 1), ("q", 3, 1, 1), ("r", 4, 1, 1)],
    ]
    assert all(c.source.row == r and c.source.col == c.col for r, row in enumerate(t.rows) for c in row)
