"""Numbers in sentences: narrative-only reports get their values; disagreements are findings."""
from __future__ import annotations

import json
from pathlib import Path

from extractors import extract
from extractors.model import Document, Paragraph, Table, Cell
from extractors.narrative import claims
from extractors.pipeline import extract_document


def test_narrative_only_report_against_gold(corpus: Path) -> None:
    gold = json.loads((corpus / "gold" / "dev06.json").read_text(encoding="utf-8"))["indicators"]
    r = extract((corpus / "variants" / "dev06.docx").read_bytes(), "dev06.docx")
    got = {i.id: i.value for i in r.indicators}
    right = [k for k, v in gold.items() if got.get(k) == v]
    assert len(right) >= 0.95 * len(gold)
    assert got["request.received.total"] == 12
    assert got["request.answered.denied.not_gov_info"] == 1
    assert got["org.budget"] == 5
    assert all(i.confidence < 0.9 for i in r.indicators), "sentences are never as sure as a table"
    assert all(i.source.kind == "text" and i.source.text for i in r.indicators)


def test_phrase_must_stand_right_before_the_number() -> None:
    doc = Document(blocks=(Paragraph("全年收到政府信息公开申请12件，其中网络申请9件、信函申请3件。2018年3月20日"),), format="txt")
    got = {c.match.id: c.match.value for c in claims(doc)}
    assert got == {"request.received.total": 12, "request.received.online": 9, "request.received.letter": 3}


def test_headline_number_disagreeing_with_table_is_reported() -> None:
    table = Table(rows=(
        (Cell("统计指标", 0, 0), Cell("单位", 0, 1), Cell("统计数", 0, 2)),
        (Cell("（一）收到申请数", 1, 0), Cell("件", 1, 1), Cell("6", 1, 2)),
    ))
    doc = Document(blocks=(Paragraph("2017年政务信息公开工作年度报告"), Paragraph("本年度收到政府信息公开申请8件。"), table), format="txt")
    r = extract_document(doc)
    [f] = [f for f in r.validation if f.rule == "narrative"]
    assert f.target == "narrative.request.received.total" and f.ids == ["request.received.total"]
    assert (f.expected, f.actual) == (8, 6)
    assert {i.id: i.value for i in r.indicators}["request.received.total"] == 6


def test_suffix_lookup_names_the_rule_the_phrase_regex_names() -> None:
    """`_rule_at_end` replaces a regex search anchored at the clause end: the same rule for every clause
    before a number in the corpus, and for random mixes of phrases, fillers and other text."""
    import random

    from extractors.narrative import _FILLERS, _NUM_UNIT, _phrases, _quoteless, _rule_at_end, _suffixes
    from extractors.view import prepare
    from tests.corpus_files import gold_files, read_doc

    def regex(clause: str) -> int | None:
        hit = _phrases().search(clause)
        return None if hit is None else int(hit.lastgroup[1:])

    clauses = []
    for rel in gold_files(("txt", "docx", "html", "variants")):
        for k in prepare(read_doc(rel)).paragraph_keys:
            text = _quoteless(k)
            clauses += [text[max(0, m.start() - 120): m.start()] for m in _NUM_UNIT.finditer(text)]
    phrases = list(_suffixes().rule_of)
    rng = random.Random(7)
    for _ in range(5000):
        parts = [rng.choice([*phrases, *_FILLERS, "，", "本机关", "申请", "公开"]) for _ in range(rng.randint(1, 5))]
        clauses.append("".join(parts))
    hits = sum(regex(c) is not None for c in clauses)
    assert len(clauses) > 5500 and hits > 1000
    assert [_rule_at_end(c) for c in clauses] == [regex(c) for c in clauses]


def test_number_pattern_matches_the_lookbehind_first_form() -> None:
    import random
    import re

    from extractors.narrative import _NUM_UNIT

    plain = re.compile(r"(?<!\d)(?<!\d,)(\d[\d,]*+(?:\.\d+)?)(人次|万元|件|条|次|个|人|篇|元|期|份|项)")
    rnd = random.Random(15)
    alphabet = "0123456789,.件条次人元万 年，a"
    for _ in range(5000):
        t = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 30)))
        assert [(m.span(), m.groups()) for m in _NUM_UNIT.finditer(t)] == [(m.span(), m.groups()) for m in plain.finditer(t)]
