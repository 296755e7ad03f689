"""The crosswalk series over the corpus: one agency across years, one row per report whatever its renderings."""
from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import pytest

from extractors.__main__ import main
from extractors.batch import BatchSettings, LocalEngine, records_for
from extractors.series import load_crosswalk, series_columns, series_rows


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
    for row, name in zip(rows, ("hongze_2023", "hongze_2024"), strict=True):
        gold = json.loads((corpus / "gold" / f"{name}.json").read_text(encoding="utf-8"))
        expected = _gold_series(gold, "revised_2019")
        assert {k: row[k] for k in expected} == expected, name
        assert row["definition_changed"] == ""  # same form both years
    assert (rows[0]["applications_received"], rows[1]["applications_received"]) == (21, 95)


def test_series_command_writes_the_gold_values_per_agency_year(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "series.csv"
    files = [str(corpus / "pdf" / "hongze_2024.pdf"), str(corpus / "pdf" / "hongze_2023.pdf"), str(corpus / "txt")]
    assert main(["series", *files, "--out", str(out), "--agency", "洪澤區", "--workers", "1", "-q"]) == 0  # Traditional too
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == series_columns()
    assert [(r["agency_key"], r["year"]) for r in rows] == [("淮安市洪泽区人民政府", "2023"), ("淮安市洪泽区人民政府", "2024")]
    for row in rows:
        gold = json.loads((corpus / "gold" / f"hongze_{row['year']}.json").read_text(encoding="utf-8"))
        for k, v in _gold_series(gold, "revised_2019").items():
            assert row[k] == ("" if v is None else str(v)), (row["year"], k)


def test_the_form_change_is_flagged_where_a_legacy_year_meets_a_revised_one(corpus: Path) -> None:
    """A real legacy report (2018) filed as the hongze agency's: its series come from the legacy ids, and
    the 2023 row names the series whose definition the 2019 form changed."""
    files = [str(corpus / "txt" / "004_ea52101856a8af1f.txt"), str(corpus / "pdf" / "hongze_2023.pdf")]
    records = records_for(files, LocalEngine(BatchSettings(workers=1)), quiet=True)
    planted = copy.deepcopy(records)
    legacy = next(r for r in planted if r["file"].endswith(".txt"))
    legacy["result"]["document"]["agency"]["value"] = "淮安市洪泽区人民政府"
    rows = series_rows(planted)
    assert [(r["year"], r["template"]) for r in rows] == [(2018, "legacy"), (2023, "revised_2019")]
    gold = json.loads((corpus / "gold" / "004_ea52101856a8af1f.json").read_text(encoding="utf-8"))
    expected = _gold_series(gold, "legacy")
    assert {k: rows[0][k] for k in expected} == expected
    assert rows[0]["applications_received"] == 150 and rows[0]["lawsuits"] == 12
    changed = rows[1]["definition_changed"].split(";")
    assert changed == [c.series for c in load_crosswalk() if c.definition_changed]
    assert "applications_received" in changed and "reviews" not in changed


@pytest.mark.parametrize("doc", ["004_ea52101856a8af1f", "003_a1ca134a5abe9455"])
def test_renderings_of_one_report_are_one_row_with_the_gold_values(corpus: Path, doc: str) -> None:
    files = [str(corpus / fmt / f"{doc}.{fmt}") for fmt in ("txt", "docx", "html", "pdf")]
    rows = series_rows(records_for(files, LocalEngine(BatchSettings(workers=1)), quiet=True))
    assert len(rows) == 1
    gold = json.loads((corpus / "gold" / f"{doc}.json").read_text(encoding="utf-8"))
    template = rows[0]["template"]
    expected = _gold_series(gold, template)
    assert {k: rows[0][k] for k in expected} == expected
