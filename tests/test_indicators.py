"""Label matching in context: ambiguous labels, reworded labels, columns and zones."""
from __future__ import annotations

from pathlib import Path

from extractors import extract
from extractors.indicators import map_rows
from extractors.model import Cell, Document, Table
from extractors.readers import read
from extractors.tables import interpret


def _values(path: Path) -> dict[str, object]:
    r = extract(path.read_bytes(), path.name)
    return {i.id: i.value for i in r.indicators}


def _table(rows: list[list[str]]) -> Document:
    cells = tuple(tuple(Cell(text=t, row=r, col=c) for c, t in enumerate(row)) for r, row in enumerate(rows))
    return Document(blocks=(Table(rows=cells),), format="txt")


def test_same_label_resolved_by_its_group(corpus: Path) -> None:
    v = _values(corpus / "txt" / "002_a115e8637772b474.txt")
    # 市政府及其部门 appears under 查阅点 and under 接待人数: the group decides
    assert v["reading_points.township"] == 1
    assert v["reading_visitors.township"] == 6200
    assert v["response.total"] == 4  # label with a parenthesised note


def test_reworded_labels_and_serial_column(corpus: Path) -> None:
    v = _values(corpus / "variants" / "dev01.docx")
    assert v["request.received.total"] == 150  # 受理政府信息公开申请数
    assert v["request.received.fax"] == 0  # 传真方式申请数
    assert v["request.answered.already_public"] == 10  # 已主动公开, under 答复
    assert v["litigation.total"] == 12  # 行政诉讼案件数
    assert v["litigation.upheld"] == 12 and v["review.upheld"] == 7


def test_cumulative_column_is_not_the_current_value(corpus: Path) -> None:
    r = extract((corpus / "variants" / "dev02.docx").read_bytes(), "dev02.docx")
    v = {i.id: i.value for i in r.indicators}
    assert v["active.total"] == 5
    assert any(i.id.startswith("ext.") and i.id.endswith(".cumulative") for i in r.indicators)


def test_messy_values_and_split_table(corpus: Path) -> None:
    v = _values(corpus / "variants" / "dev03.docx")
    assert v["active.total"] == 37888  # printed 37,888
    assert v["active.channels.website"] == 26911  # printed ２６，９１１


def test_requests_table_with_subtotal_column(corpus: Path) -> None:
    r = extract((corpus / "variants" / "dev04.html").read_bytes(), "dev04.html")
    v = {i.id: i.value for i in r.indicators}
    assert v["requests.new.natural_person"] == 3001
    assert v["requests.new.total"] == 3119
    assert v["ext.requests.new.subtotal"] == 118
    assert v["requests.other.other.natural_person"] == 108  # 2021+ form: 3.其他 under （六）其他处理


def test_2019_transitional_active_table(corpus: Path) -> None:
    v = _values(corpus / "docx" / "003_a1ca134a5abe9455.docx")
    assert v["active.normative_docs.total_published"] == 295
    assert v["active.fees.items_change"] == -11
    assert v["active.procurement.amount"] == 78359318.3
    assert v["review.other"] == 2 and v["review.total"] == 2


def test_unknown_row_is_reported_not_forced() -> None:
    doc = _table([["统计指标", "单位", "统计数"], ["（一）收到申请数", "件", "6"], ["（九）开展政务开放日活动场次", "场", "3"]])
    matches, unmatched = map_rows(interpret(doc))
    assert [m.id for m in matches] == ["request.received.total"]
    assert [u.label for u in unmatched] == ["（九）开展政务开放日活动场次"]


def test_blank_cell_is_null_not_zero(corpus: Path) -> None:
    r = extract((corpus / "pdf" / "000_32e6960542ba4ec5.pdf").read_bytes(), "000.pdf")
    ind = {i.id: i for i in r.indicators}
    assert ind["active.normative_docs_issued"].value is None
    assert ind["response.press_conferences"].value == 0


def test_table_rows_left_as_text_lines_are_still_read() -> None:
    from extractors.model import Paragraph

    doc = Document(
        blocks=(
            Paragraph("申请人情况"),
            Paragraph("一、本年新收政府信息公开申请数量 95 0 0 0 0 0 95"),
            Paragraph("（七）总计 95 0 0 0 0 0 95"),
        ),
        format="pdf",
    )
    matches, _ = map_rows(interpret(doc))
    v = {m.id: m.value for m in matches}
    assert v["requests.new.natural_person"] == 95 and v["requests.total.total"] == 95
    assert all(m.loose for m in matches)


def test_docx_reader_output_maps_like_text(corpus: Path) -> None:
    a = _values(corpus / "txt" / "004_ea52101856a8af1f.txt")
    b = _values(corpus / "docx" / "004_ea52101856a8af1f.docx")
    assert a == b
    assert read((corpus / "docx" / "004_ea52101856a8af1f.docx").read_bytes(), "x.docx").tables


def test_active_table_whose_rows_merge_other_columns_than_the_header() -> None:
    """Portal tables merge cells differently in header and rows (本年增/减 spans two columns in
    the header, 上一年项目数量 in the rows): values are then read from the right, not by position."""

    def row(r: int, *cells: tuple[str, int]) -> tuple[Cell, ...]:
        out, col = [], 0
        for text, span in cells:
            out.append(Cell(text=text, row=r, col=col, colspan=span))
            col += span
        return tuple(out)

    table = Table(rows=(
        row(0, ("第二十条第（五）项", 5)),
        row(1, ("信息内容", 1), ("上一年项目数量", 1), ("本年增/减", 2), ("处理决定数量", 1)),
        row(2, ("行政许可", 1), ("619", 2), ("246", 1), ("482066", 1)),
        row(3, ("第二十条第（九）项", 5)),
        row(4, ("信息内容", 1), ("采购项目数量", 2), ("采购总金额", 2)),
        row(5, ("政府集中采购", 1), ("6", 2), ("251000元", 2)),
    ))
    matches, _ = map_rows(interpret(Document(blocks=(table,), format="html")))
    v = {m.id: m.value for m in matches}
    assert v["active.licensing.items_prev"] == 619
    assert v["active.licensing.items_change"] == 246
    assert v["active.licensing.decisions"] == 482066
    assert v["active.procurement.items"] == 6 and v["active.procurement.amount"] == 251000


def test_provincial_legacy_layout_and_combined_row(corpus: Path) -> None:
    """指标名称 | 计量单位 | 本年度 | 历年累计, 其中：1、… sub-rows, and 信函、传真申请数 on an extension id.

    The values are report 001's (its gold), laid out as provinces print the legacy table.
    """
    import json

    g = json.loads((corpus / "gold" / "001_3b9418f33333a698.json").read_text(encoding="utf-8"))["indicators"]
    combined = g["request.received.letter"] + g["request.received.fax"]
    doc = _table([
        ["指标名称", "计量单位", "本年度", "历年累计"],
        ["一、主动公开政府信息数", "条", str(g["active.total"]), "9999"],
        ["其中：1、政府网站公开数", "条", str(g["active.channels.website"]), ""],
        ["2、政府公报公开数", "条", str(g["active.channels.gazette"]), ""],
        ["收到申请数", "件", str(g["request.received.total"]), ""],
        ["其中：1、当面申请数", "件", str(g["request.received.in_person"]), ""],
        ["2、网络申请数", "件", str(g["request.received.online"]), ""],
        ["3、信函、传真申请数", "件", str(combined), ""],
    ])
    ms, _ = map_rows(interpret(doc))
    v = {m.id: m.value for m in ms}
    assert v["active.total"] == g["active.total"] and v["ext.active.total.cumulative"] == 9999
    assert v["active.channels.website"] == g["active.channels.website"]
    assert v["active.channels.gazette"] == g["active.channels.gazette"]
    assert v["ext.request.received.letter_fax"] == combined
    assert "request.received.fax" not in v and "request.received.letter" not in v


def test_a_label_too_long_for_the_memos_is_judged_as_a_short_one_would_be() -> None:
    """A huge key is cored once and skips ratios its length rules out; the scan's answer is unchanged."""
    import time

    from extractors.indicators import SETTINGS, _best_fuzzy, _core, _score_cored, rules

    aliases = rules().requests_rows
    real = aliases[0].key
    floor = SETTINGS.min_score - SETTINGS.context_bonus
    for key in [real + "的" * 400, "的" * 400 + real, "收到申请数" * 50_000, real * 60]:
        ref = [(a, _score_cored(key, _core(key), a.key)) for a in aliases]
        hits = {a.target for a, s in ref if s >= floor}
        alias, score, _ = _best_fuzzy(key, aliases, "", None)
        assert (alias.target if alias else None) in (hits | {None}) and (alias is None) == (not any(s >= SETTINGS.min_score for _, s in ref))
        if alias is not None:
            assert score == max(s for _, s in ref if s >= floor)
    t0 = time.process_time()
    _best_fuzzy("收到申请数" * 50_000, aliases, "", None)
    assert time.process_time() - t0 < 0.5  # was ~4 s: the key cored and ratio-scanned once per alias


def test_zone_guess_memo_is_bounded(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from extractors import indicators

    monkeypatch.setattr(indicators, "_ZONE_MEMO_SIZE", 20)
    monkeypatch.setattr(indicators, "_ZONE_MEMO", {})
    for i in range(200):
        cells = [Cell(f"第{i}项自定义指标名称", 0, 0)]
        assert indicators._guess_zone(cells) is None
    assert 0 < len(indicators._ZONE_MEMO) <= 20
    # a label the form has, and the memo answers as the scan does
    assert indicators._guess_zone([Cell("收到申请数", 0, 0)]) == indicators._zone_named("收到申请数", "收到申请数") == "legacy"


def test_the_prefiltered_alias_scan_answers_as_the_full_scan(corpus: Path) -> None:
    """`_best_fuzzy` scores only the aliases rapidfuzz's C scans (and the containment lengths) let through;
    on every label of the corpus and on reworded, cut and padded aliases its answer is the full scan's."""
    import dataclasses
    import random

    from extractors.indicators import _best_fuzzy, rules
    from extractors.normalize import label_key

    sets = [getattr(rules(), f.name) for f in dataclasses.fields(rules()) if len(getattr(rules(), f.name)) >= 32]
    assert sets
    keys: set[str] = set()
    for path in sorted((corpus / "docx").glob("*.docx"))[:4] + sorted((corpus / "txt").glob("*.txt"))[:3]:
        for row in interpret(read(path.read_bytes(), path.name)):
            keys.update(label_key(c.text) for c in row.cells if c.text.strip())
    rnd = random.Random(7)
    for aliases in sets:
        for a in rnd.sample(aliases, min(60, len(aliases))):
            k = a.key
            keys.update({k + "的情况", "本年" + k, k[1:], k[:-1], k[: len(k) // 2] + "其他" + k[len(k) // 2 :], k + "通过" * 5, k[:3], k[2:] + k[:2]})
            pad = "".join(rnd.choice("含其中依申请公开转办理年度合计") for _ in range(9))
            for n in range(4, 10):  # containment decides these: the ratios are far below the floor
                keys.update({k + pad[:n], pad[:n] + k, k[: max(0, len(k) - n)], k[n // 2 : len(k) - (n - n // 2)]})
    assert len(keys) > 500
    for aliases in sets:
        for key in sorted(keys):
            for context, last in (("", None), ("申请", aliases[0].target)):
                assert _best_fuzzy(key, aliases, context, last) == _best_fuzzy(key, aliases, context, last, prefilter=False), key



def test_the_length_scan_picks_what_a_scan_of_every_alias_picks(corpus: Path) -> None:
    """`_scan_lengths` scans only the aliases whose length lets the ratio reach the cut; on every label of
    real reports and on cut and padded aliases it picks what rapidfuzz's scan of the whole set picks, and
    the zone test's `_best_strong` answers as `_best` wherever that reaches the zone floor."""
    from rapidfuzz import fuzz, process

    from extractors.indicators import _ZONE_FLOOR, _best, _best_strong, _by_length, _core, _scan_lengths, rules
    from extractors.normalize import label_key

    R = rules()
    keys: set[str] = set()
    for path in sorted((corpus / "docx").glob("*.docx"))[:3] + sorted((corpus / "pdf").glob("*.pdf"))[:2]:
        for row in interpret(read(path.read_bytes(), path.name)):
            keys.update(label_key(c.text) for c in row.cells if c.text.strip())
    for a in R.legacy[::3] + R.requests_rows:
        keys.update({a.key, a.key[1:], a.key[:-1], a.key + "数", "本年" + a.key, a.key[:2], "", a.key * 40})
    assert len(keys) > 300
    hits = 0
    for aliases in (R.requests_rows, R.active_rows, R.legacy):
        for texts in ([a.key for a in aliases], [_core(a.key) for a in aliases]):
            index = _by_length(texts)
            for key in keys:
                for cut in (94.0, 97.0, 73.5, 50.0, 100.0, 0.0):
                    picked: set[int] = set()
                    _scan_lengths(key, index, cut, picked)
                    full = {i for _, _, i in process.extract(key, texts, scorer=fuzz.ratio, processor=None, score_cutoff=cut, limit=None)}
                    assert picked == full, (key, cut)
        for key in keys:
            if len(key) >= 4:
                want = _best(key, aliases, key)
                if want[1] >= _ZONE_FLOOR:
                    hits += 1
                    assert _best_strong(key, aliases, key, _ZONE_FLOOR) == want, key
    assert hits > 50

def test_fast_match_constructor_builds_the_dataclass_own_object() -> None:
    from extractors.indicators import Match, _value_match
    from extractors.model import Cell, Source
    from extractors.tables import facts

    src = Source(page=2, table=1, row=3, col=4)
    cell = Cell(text=" 12 ", row=3, col=4, source=src, quality=0.9)
    args = ("requests.received.total", cell, "申请数", 0.97, "requests", True, ("fuzzy",))
    slow = Match(id=args[0], value=12, raw="12", label=args[2], label_score=args[3], parse_quality=facts(" 12 ").parsed.quality,
                 source=src, zone=args[4], loose=args[5], flags=args[6], reader_quality=0.9)
    for fast in (_value_match(*args), _value_match(*args, f=facts(cell.text))):
        assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    try:
        fast.value = 13  # type: ignore[misc]
    except AttributeError:
        pass
    else:  # pragma: no cover
        raise AssertionError("a Match stays frozen")
