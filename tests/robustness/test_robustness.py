"""Robustness of the engine on realistic perturbations of the real reports (truth from gold).

Each family rewrites the shared corpus's reports as another agency, province, form year or
converter would (see tests/robustness/corpus.py) and is held to bars on the values: precision,
recall, and precision of the values reported at confidence ≥ 0.9; plus what each family must
report (an unmatched row, a broken sum, a narrative disagreement, a lowered confidence).
"""
from __future__ import annotations

import pytest

from tests.robustness import corpus as C

# family -> (min precision, min recall); the rest use DEFAULT. The reader-error families are
# meant to be hard: misread digits stay wrong (only their confidence can tell), misread labels
# are left unmatched rather than forced.
DEFAULT = (0.995, 0.985)
BARS = {
    "ocr_digits": (0.95, 0.95),
    "ocr_labels": (0.99, 0.70),
    "unseen_reword": (0.99, 0.95),
    # a crawler's digit runs: only what the arithmetic forces is read (表四 groups can stay open)
    "digit_runs": (0.995, 0.90),
    # a lost 表三 row: the rows around it cannot be placed by the form's order, and are not guessed
    "conv_lost_row": (0.995, 0.90),
}


@pytest.fixture(scope="module")
def outcomes() -> tuple[C.Outcome, ...]:
    return C.held_out()


@pytest.fixture(scope="module")
def summary(outcomes: tuple[C.Outcome, ...]) -> dict[str, dict[str, float]]:
    return C.summarize(list(outcomes))


def _detail(outcomes: tuple[C.Outcome, ...], family: str) -> str:
    lines = []
    for o in outcomes:
        if o.sample.family == family and (o.wrong or o.missed or o.check_failures):
            lines.append(f"{o.sample.source} {o.sample.fmt} seed={o.sample.seed}: wrong={o.wrong[:3]} missed={o.missed[:5]} checks={o.check_failures}")
    return "\n".join(lines[:10])


def test_every_family_and_format_is_exercised(outcomes: tuple[C.Outcome, ...]) -> None:
    fams = {o.sample.family for o in outcomes}
    assert fams == set(C.FAMILIES)
    assert {o.sample.fmt for o in outcomes} == set(C.FORMATS) | {f for fs in C.FAMILY_FORMAT.values() for f in fs}
    assert {o.sample.source for o in outcomes} == {name for _, name in C.SOURCES}


@pytest.mark.parametrize("family", sorted(C.FAMILIES))
def test_family_precision_and_recall(summary: dict, outcomes: tuple[C.Outcome, ...], family: str) -> None:
    s = summary[family]
    p_min, r_min = BARS.get(family, DEFAULT)
    assert s["values"] > 0
    assert s["precision"] >= p_min, f"{family}: {s}\n{_detail(outcomes, family)}"
    assert s["recall"] >= r_min, f"{family}: {s}\n{_detail(outcomes, family)}"


@pytest.mark.parametrize("family", sorted(C.FAMILIES))
def test_family_precision_at_high_confidence(summary: dict, outcomes: tuple[C.Outcome, ...], family: str) -> None:
    s = summary[family]
    assert s["precision@0.9"] >= 0.99, f"{family}: {s}\n{_detail(outcomes, family)}"


@pytest.mark.parametrize("family", sorted(C.FAMILIES))
def test_family_reports_what_it_must(summary: dict, outcomes: tuple[C.Outcome, ...], family: str) -> None:
    """Unmatched provincial rows, broken totals (finding + confidence < 0.9), narrative disagreements."""
    assert summary[family]["check_failures"] == 0, _detail(outcomes, family)


def test_unknown_rows_are_reported_never_forced(outcomes: tuple[C.Outcome, ...]) -> None:
    extra = [o for o in outcomes if o.sample.family == "extra_rows"]
    assert extra and all(o.sample.expect_unmatched for o in extra)
    assert all(not o.wrong for o in extra), [o.wrong for o in extra if o.wrong]


def test_rows_the_form_cannot_place_are_not_sure(outcomes: tuple[C.Outcome, ...]) -> None:
    """With a 表三 row lost, the column arithmetic fails: rows placed by order stay below 0.9."""
    recs = [r for o in outcomes if o.sample.family == "conv_lost_row" for r in o.records]
    placed = [r for r in recs if r.features.get("row_inferred")]
    assert placed and all(r.confidence < 0.9 for r in placed if r.features.get("form_unverified"))
    assert all(r.correct for r in recs if r.confidence >= 0.9)


def test_misread_digits_are_the_low_confidence_ones(outcomes: tuple[C.Outcome, ...]) -> None:
    """Where the reader got a digit wrong and the form's arithmetic can tell, the value is below 0.9.

    A misread value in no sum rule (表一, 表四, rows without a total) has nothing to contradict
    it: those are the ones left above 0.9, and they are few.
    """
    recs = [r for o in outcomes if o.sample.family == "ocr_digits" for r in o.records]
    wrong = [r for r in recs if not r.correct]
    assert wrong, "the family must produce wrong values to be a test"
    in_broken = [r for r in wrong if r.features.get("rule_broken")]
    assert in_broken and all(r.confidence < 0.9 for r in in_broken)
    assert sum(r.confidence < 0.9 for r in wrong) >= 0.6 * len(wrong)
    assert sum(r.confidence >= 0.9 for r in wrong) <= 0.01 * len(recs)
