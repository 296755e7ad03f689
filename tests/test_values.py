"""Value cells come back exactly as printed; blanks stay blank."""
from __future__ import annotations

import pytest

from extractors.values import is_value_like, parse_value


@pytest.mark.parametrize(
    "text, value",
    [
        ("1599", 1599),
        ("0", 0),
        ("无", 0),
        ("37,888", 37888),
        ("２６，９１１", 26911),
        ("１２", 12),
        ("150件", 150),
        ("40 万元", 40),
        ("22（其中修订16件）", 22),
        ("251000元", 251000),
        ("78359318.3", 78359318.3),
        ("7730.28", 7730.28),
        ("-11", -11),
        ("−11", -11),
        ("　 3", 3),
    ],
)
def test_numbers_as_printed(text: str, value: float) -> None:
    pv = parse_value(text)
    assert pv.value == value
    assert type(pv.value) is type(value)
    assert not pv.blank


@pytest.mark.parametrize("text", ["", "　", "—", "——", "-", "/", "／", " \n "])
def test_blank_and_dashes_are_null(text: str) -> None:
    pv = parse_value(text)
    assert pv.value is None and pv.blank


def test_quality_drops_when_text_is_dropped() -> None:
    assert parse_value("12").quality == 1.0
    assert parse_value("12件").quality < 1.0
    assert parse_value("22（其中修订16件）").quality < parse_value("12件").quality


@pytest.mark.parametrize("text, expected", [("12", True), ("——", True), ("", True), ("条", False), ("收到申请数", False), ("2.传真申请数", False)])
def test_value_like(text: str, expected: bool) -> None:
    assert is_value_like(text) is expected


def test_read_folded_answers_both_questions_on_a_real_report(corpus) -> None:  # type: ignore[no-untyped-def]
    from extractors.normalize import nfkc, squash
    from extractors.readers import read
    from extractors.tables import interpret
    from extractors.values import read_folded

    doc = read((corpus / "pdf" / sorted(p.name for p in (corpus / "pdf").glob("*.pdf"))[0]).read_bytes(), "report.pdf")
    texts = {c.text for r in interpret(doc) for c in r.cells} | {"２６，９１１", "22（其中修订16件）", "1，000", "——", "无"}
    assert len(texts) > 80
    for t in texts:
        assert read_folded(squash(nfkc(t))) == (is_value_like(t), parse_value(t)), t
    assert read_folded(squash(nfkc("２６，９１１"))) == (True, parse_value("26,911"))
