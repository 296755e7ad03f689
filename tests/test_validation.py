"""Arithmetic checks report broken totals without touching the values."""
from __future__ import annotations

from pathlib import Path

from extractors import extract
from extractors.indicators import Match
from extractors.model import Source
from extractors.validation import check


def _m(iid: str, v: float | None) -> Match:
    return Match(id=iid, value=v, raw=str(v), label=iid, label_score=1.0, parse_quality=1.0, source=Source(), zone="t")


def test_broken_totals_found_and_values_kept(corpus: Path) -> None:
    r = extract((corpus / "txt" / "000_32e6960542ba4ec5.txt").read_bytes(), "000.txt")
    targets = {f.target: f for f in r.validation if f.rule == "sum"}
    assert set(targets) == {"request.received.total", "request.answered.total"}
    f = targets["request.received.total"]
    assert (f.expected, f.actual) == (8, 6)
    assert {i.id: i.value for i in r.indicators}["request.received.total"] == 6


def test_review_total_inconsistency_in_a_real_pdf(corpus: Path) -> None:
    r = extract((corpus / "pdf" / "hongze_2023.pdf").read_bytes(), "hongze_2023.pdf")
    targets = {f.target for f in r.validation if f.rule == "sum"}
    assert targets == {"review.total", "litigation_after_review.total"}


def test_consistent_report_has_no_findings(corpus: Path) -> None:
    r = extract((corpus / "pdf" / "huaian_2024.pdf").read_bytes(), "huaian_2024.pdf")
    assert [f for f in r.validation if f.rule in {"sum", "column_balance"}] == []


def test_blank_parts_are_left_out_of_the_sum() -> None:
    ms = [_m("org.staff.total", 2), _m("org.staff.full_time", None), _m("org.staff.part_time", 2)]
    assert check(ms, []) == []
    ms = [_m("org.staff.total", 3), _m("org.staff.full_time", None), _m("org.staff.part_time", 2)]
    [f] = check(ms, [])
    assert (f.target, f.expected, f.actual, f.ids) == ("org.staff.total", 2, 3, ["org.staff.part_time"])


def test_column_balance_of_the_requests_table() -> None:
    ms = [
        _m("requests.new.natural_person", 10),
        _m("requests.carried_over.natural_person", 2),
        _m("requests.total.natural_person", 9),
        _m("requests.carried_forward.natural_person", 1),
    ]
    [f] = check(ms, [])
    assert f.rule == "column_balance" and f.target == "requests.balance.natural_person"
    assert (f.expected, f.actual) == (12, 10)


def test_a_combined_row_stands_for_the_parts_it_joins() -> None:
    """信函、传真申请数 printed as one row (`ext.request.received.letter_fax`) counts in the total for the
    letter and fax parts left blank, and not when either part is printed itself; the same rule's shape
    is reused from one report to the next."""
    from extractors.catalogue import catalogue
    from extractors.validation import sum_parts

    parts = catalogue()["request.received.total"].sum_of
    values = {"request.received.in_person": 3, "request.received.online": 5, "ext.request.received.letter_fax": 2,
              "ext.request.received.in_person_online_x": 1, "ext.other.letter_fax": 4}
    assert sum_parts(parts, values) == ["request.received.in_person", "request.received.online", "ext.request.received.letter_fax"]
    assert sum_parts(parts, {**values, "request.received.fax": 1}) == [
        "request.received.in_person", "request.received.fax", "request.received.online"]
    assert sum_parts(parts, {"request.received.in_person": 3}, ext=[]) == ["request.received.in_person"]
