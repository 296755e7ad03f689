"""Section splitting on the real corpus reports, in every format, against the gold labels."""
from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from extractors.model import Cell, Document, Paragraph, Table
from extractors.sections import SectionSettings, classify_title, split
from tests.corpus_files import GOLD, gold_files, read_doc


def _norm(s: str) -> str:
    """The scorer's comparison: NFKC, no whitespace, no table cell separators."""
    return "".join(unicodedata.normalize("NFKC", s or "").replace("|", " ").split())


@pytest.mark.parametrize("rel", gold_files())
def test_gold_sections_found_with_their_bodies(rel: str) -> None:
    gold = json.loads((GOLD / f"{Path(rel).name.split('.')[0]}.json").read_text(encoding="utf-8"))
    secs = {}
    for s in split(read_doc(rel)):
        secs.setdefault(s.key, s)
    gsecs = gold["sections"]
    for i, g in enumerate(gsecs):
        assert g["key"] in secs, f"{g['key']} missing"
        body = _norm(secs[g["key"]].text)
        assert body.startswith(_norm(g["starts"])[:10]) or _norm(g["starts"]) in body[:60], (g["key"], body[:40])
        assert _norm(g["ends"]) in body, (g["key"], body[-40:])
        if i + 1 < len(gsecs):  # never runs into the next section: its heading is not in this body
            assert _norm(gsecs[i + 1]["heading"]) not in body[-200:], g["key"]


def test_stray_numbered_line_inside_overview_is_not_a_section() -> None:
    secs = split(read_doc("txt/003_a1ca134a5abe9455.txt"))
    assert [s.number for s in secs] == ["一", "二", "三", "四", "五", "六", "七"]
    assert [s.key for s in secs] == [
        "overview", "active_disclosure", "platforms", "requests", "review_litigation",
        "problems_improvements", "other_matters",
    ]
    assert "加强信息公开监督保障" in secs[0].text
    assert all("加强信息公开监督保障" not in s.heading for s in secs)


def test_tables_inside_a_section_are_its_body_and_table_rows_are_never_headings() -> None:
    secs = {s.key: s for s in split(read_doc("docx/003_a1ca134a5abe9455.docx"))}
    requests = secs["requests"].text.splitlines()
    assert requests[-1].startswith("四、结转下年度继续办理")
    assert any(ln.startswith("一、本年新收") for ln in requests)
    review = secs["review_litigation"].text.splitlines()
    assert review[0] == "表四"
    assert review[-1].split() == ["0", "0", "2", "0", "2"] + ["0"] * 10


@pytest.mark.parametrize("rel", ["txt/000_32e6960542ba4ec5.txt", "pdf/000_32e6960542ba4ec5.pdf", "variants/dev05.docx"])
def test_attached_statistics_table_is_not_part_of_the_last_section(rel: str) -> None:
    last = split(read_doc(rel))[-1]
    assert last.key == "other_matters"
    assert len(last.text.splitlines()) == 1
    assert "附件" not in last.text and "統計" not in last.text and "统计" not in last.text


def test_portal_footer_and_signature_are_not_part_of_the_last_section() -> None:
    last = split(read_doc("variants/dev04.html"))[-1]
    assert last.key == "other_matters"
    assert last.text.endswith("本年度无其他需要报告的事项。")
    assert "主办单位" not in last.text and "2025年1月20日" not in last.text


def test_traditional_report_keys_match_and_text_stays_as_printed() -> None:
    secs = split(read_doc("variants/dev05.docx"))
    assert [s.key for s in secs] == [s.key for s in split(read_doc("docx/000_32e6960542ba4ec5.docx"))]
    platforms = next(s for s in secs if s.key == "platforms")
    assert platforms.heading == "公開載體建設應用情況"
    assert platforms.text.startswith("堅持以政府網站爲主平臺")
    assert min(s.confidence for s in secs) >= 0.9


def test_unnumbered_headings_fall_back_to_known_titles() -> None:
    doc = read_doc("txt/000_32e6960542ba4ec5.txt")
    stripped = tuple(
        Paragraph(b.text.split("、", 1)[1], b.source) if isinstance(b, Paragraph) and b.text[:2] in {
            "一、", "二、", "三、", "四、", "五、", "六、", "七、", "八、"} else b
        for b in doc.blocks
    )
    secs = split(Document(blocks=stripped, format=doc.format))
    assert [s.key for s in secs] == [s.key for s in split(doc)]
    assert all(s.number is None and s.confidence < 0.9 for s in secs)
    assert secs[2].text == "2017年度收到依申请公开政务信息6件，通过书面或网络答复申请人。"


def test_heading_wrapped_onto_two_lines_is_joined() -> None:
    doc = read_doc("txt/001_3b9418f33333a698.txt")
    blocks = []
    for b in doc.blocks:
        if isinstance(b, Paragraph) and b.text.startswith("五、因政府信息公开"):
            blocks += [Paragraph(b.text[:-4], b.source), Paragraph(b.text[-4:], b.source)]
        else:
            blocks.append(b)
    review = next(s for s in split(Document(blocks=tuple(blocks), format="txt")) if s.number == "五")
    assert review.key == "review_litigation"
    assert review.heading.endswith("诉讼情况")
    assert review.text.startswith("2017年，县政府办公室未发生因政府信息公开引起投诉")


@pytest.mark.parametrize(
    ("title", "key"),
    [
        ("政府信息公开情况", "active_disclosure"),
        ("政府信息公开方式", "platforms"),
        ("存在的主要问题和下步打算", "problems_improvements"),
        ("因政府信息引起投诉和申请行政复议及提起行政诉讼情况", "review_litigation"),
        ("公開載體建設應用情況", "platforms"),
        ("其它需要报告的事项", "other_matters"),
    ],
)
def test_titles_map_to_canonical_keys(title: str, key: str) -> None:
    assert classify_title(title)[0] == key


def test_unknown_title_scores_low() -> None:
    _, score = classify_title("加强信息公开监督保障")
    assert score < SectionSettings().min_title_score


def test_report_typeset_inside_a_one_column_layout_table() -> None:
    doc = read_doc("txt/001_3b9418f33333a698.txt")
    rows = tuple((Cell(b.text, i, 0),) for i, b in enumerate(doc.paragraphs))
    framed = Document(blocks=(Table(rows=rows),), format="docx")
    assert [(s.key, s.text) for s in split(framed)] == [(s.key, s.text) for s in split(doc)]
    assert len(split(framed)) == 7


def _cells(*rows: tuple[str, ...]) -> "Table":
    from extractors.model import Cell, Table

    return Table(rows=tuple(tuple(Cell(t, r, c) for c, t in enumerate(row)) for r, row in enumerate(rows)))


def test_a_known_title_in_a_lone_cell_of_a_converter_table_is_a_heading() -> None:
    from extractors.model import Document, Paragraph

    doc = Document(blocks=(
        Paragraph("示例县2023年政府信息公开工作年度报告"),
        _cells(("本报告根据《条例》编制。", "", ""), ("一、概述", "", ""), ("2023 年，我县", "推进公开。", "")),
        Paragraph("二、主动公开政府信息情况"),
        Paragraph("本年度主动公开信息200条。"),
        # a form's group row in a lone cell is never a heading
        _cells(("统计指标", "单位", "统计数"), ("三、依申请公开情况", "", ""), ("（一）收到申请数", "件", "5"),
               ("（二）申请办结数", "件", "5")),
    ), format="md")
    secs = split(doc)
    assert [s.key for s in secs] == ["overview", "active_disclosure"]
    assert secs[0].text.startswith("2023 年，我县")


def test_a_known_title_run_into_its_body_is_cut_where_the_title_ends() -> None:
    from extractors.model import Document, Paragraph

    doc = Document(blocks=(
        Paragraph("一、概述"), Paragraph("正文。"),
        Paragraph("二、因政务信息公开申请行政复议和提起行政诉讼情况未发生。"),
        Paragraph("三、政府信息公开工作存在的主要问题和改进措施回顾过去一年，我县工作取得成绩，但仍存在差距：一是……"),
        Paragraph("四、因政府信息公开引起投诉、申请行政复议、提起行政"),
        Paragraph("诉讼情况2018年，我区未发生行政复议。"),
    ), format="md")
    secs = split(doc)
    assert [(s.key, s.text) for s in secs[1:]] == [
        ("review_litigation", "未发生。"),
        ("problems_improvements", "回顾过去一年，我县工作取得成绩，但仍存在差距：一是……"),
        ("review_litigation", "2018年，我区未发生行政复议。"),
    ]
    assert secs[3].heading == "因政府信息公开引起投诉、申请行政复议、提起行政诉讼情况"


def test_table_width_is_n_cols_up_to_two() -> None:
    """`_width` answers one column or more as `Table.n_cols` does, on every corpus table (and a frame)."""
    from extractors.model import Cell, Table
    from extractors.sections import _width
    from tests.corpus_files import gold_files, read_doc

    tables = [t for rel in gold_files(("docx", "pdf", "html")) for t in read_doc(rel).tables]
    tables.append(Table(rows=((Cell("前言", 0, 0),), (Cell("一、总体情况", 1, 0),))))
    assert len(tables) > 30 and {t.n_cols for t in tables} >= {1, 4}
    assert [_width(t) for t in tables] == [min(t.n_cols, 2) for t in tables]


def test_line_tests_without_a_full_scan_equal_the_patterns() -> None:
    """`_clean`, `_TRAIL_CHARS`, the `_NOT_TITLE_TAIL` pre-test and the two-character end searches give
    what the patterns give on every text (random mixes of what they look at)."""
    import random
    import re
    import sys

    from extractors import sections as S

    assert all(bool(re.match(r"\s", c)) == c.isspace() for c in map(chr, range(sys.maxunicode + 1)))
    rnd = random.Random(7)
    alphabet = [*"ab一、。．.:：;；，,—-－–件条次人个万元 \n\u3000\t*#>[]1２٣！？!?", "bookmark:x]", "[bookmark:", "\u200b"]
    for _ in range(20000):
        t = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 10)))
        assert S._clean(t) == S._STRIP_DECOR.sub("", t).strip()
        assert t.rstrip(S._TRAIL_CHARS) == S._TRAIL_PUNCT.sub("", t)
        s = t.strip()
        pre = s[-1:] in S._NOT_TITLE_LAST or s[-1:].isdecimal()
        assert bool(S._NOT_TITLE_TAIL.search(s)) == bool(pre and S._NOT_TITLE_TAIL.search(s))
        assert bool(S._SENTENCE_END.search(t)) == bool(S._SENTENCE_END.search(t[-2:]))
        assert bool(S._STOP_END.search(t)) == bool(S._STOP_END.search(t[-2:]))


def test_lines_cut_from_the_view_equal_the_blocks_read_one_by_one() -> None:
    """`_lines` takes the view's text cut at its breaks; the same lines and flags as reading each block
    (paragraph lines, filled rows joined), tables without a filled row included."""
    from extractors.model import Cell, Document, Paragraph, Table
    from extractors.sections import SectionSettings, _lines, _unit_cells_reach, _width
    from extractors.view import prepare

    def by_block(doc: Document) -> tuple[list[str], list[bool], list[bool]]:
        st, view, out = SectionSettings(), prepare(doc), []
        tables = iter(view.table_cells)
        for b in doc.blocks:
            if isinstance(b, Paragraph):
                out += [(x, True, False) for x in b.text.split("\n")]
            else:
                rows = next(tables)
                lone_ok = _width(b) > 1 and not _unit_cells_reach(rows, st)
                out += [(" ".join(r), _width(b) == 1, lone_ok and len(r) == 1) for r in rows if r]
        return [t for t, _, _ in out], [p for _, p, _ in out], [x for _, _, x in out]

    empty = Table(rows=((Cell(" ", 0, 0), Cell("", 0, 1)),))
    docs = [read_doc(rel) for rel in gold_files(("txt", "docx", "html", "pdf"))]
    docs.append(Document(blocks=(Paragraph("一、概况\n正文"), empty, Paragraph(""), empty,
                                 Table(rows=((Cell("一、概况", 0, 0), Cell("", 0, 1)), (Cell("a", 1, 0),))),
                                 Paragraph("二、其他\n\n")), format="md"))
    for doc in docs:
        st = SectionSettings()
        assert tuple(_lines(doc, st, prepare(doc))) == by_block(doc)
