"""The crosswalk series over the corpus: one agency across years, one row per report whatever its renderings."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractors.batch import BatchSettings, LocalEngine, records_for
from extractors.series import load_crosswalk, series_rows


def _gold_series(gold: dict, template: str) -> dict[str, object]:
    values = gold["indicators"]
    out = {}
    for c in load_crosswalk():
        parts = [values.get(i) for i in c.ids(template)]
        out[c.series] = sum(parts) if parts and all(p is not None for p in parts) else None
    return out


def test_crosswalk_ids_are_catalogue_ids_of_their_form() -> None:
    walk = load_crosswalk()
    assert {"applications_received", "applications_granted", "applications_refused", "reviews", "lawsuits"} <= {
        c.series for c in walk}


def test_series_of_one_agency_over_two_years_matches_gold(corpus: Path) -> None:
    files = [str(corpus / "pdf" / "hongze_2023.pdf"), str(corpus / "pdf" / "hongze_2024.pdf")]
    rows = series_rows(records_for(files, LocalEngine(BatchSettings(workers=1)), quiet=True))
    assert [r["year"] for r in rows] == [2023, 2024]
    assert len({r["agency_key"] for r in rows}) == 1  # 洪泽区人民政府 and 淮安市洪泽区人民政府 are one agency
    gold24 = json.loads((corpus / "gold" / "hongze_2024.json").read_text(encoding="utf-8"))
    expected = _gold_series(gold24, "revised_2019")
    assert {k: rows[1][k] for k in expected} == expected
    assert rows[1]["applications_received"] == 95


@pytest.mark.parametrize("doc", ["004_ea52101856a8af1f", "003_a1ca134a5abe9455"])
def test_renderings_of_one_report_are_one_row_with_the_gold_values(corpus: Path, doc: str) -> None:
    files = [str(corpus / fmt / f"{doc}.{fmt}") for fmt in ("txt", "docx", "html", "pdf")]
    rows = series_rows(records_for(files, LocalEngine(BatchSettings(workers=1)), quiet=True))
    assert len(rows) == 1
    gold = json.loads((corpus / "gold" / f"{doc}.json").read_text(encoding="utf-8"))
    template = rows[0]["template"]
    expected = _gold_series(gold, template)
    assert {k: rows[0][k] for k in expected} == expected
