"""The shipped catalogue stays in step with the shared spec (ours may only add rows)."""
from __future__ import annotations

import csv
from pathlib import Path

from extractors.catalogue import catalogue


def test_shipped_catalogue_contains_every_shared_row(shared: Path) -> None:
    with open(shared / "spec" / "indicators.csv", encoding="utf-8") as f:
        spec = list(csv.DictReader(f))
    ours = catalogue()
    for row in spec:
        d = ours[row["id"]]
        assert d.label_zh == row["label_zh"]
        assert d.unit == row["unit"]
        assert "+".join(d.sum_of) == (row["sum_of"] or "")


def test_sum_rules_name_known_ids() -> None:
    cat = catalogue()
    for d in cat.values():
        for part in d.sum_of:
            assert part in cat, (d.id, part)


def test_labels_split_alternatives_and_drop_form_notes() -> None:
    cat = catalogue()
    assert cat["review.total"].labels == ("行政复议数量", "行政复议·总计")
    assert cat["active.rules.new_made"].labels == ("规章·本年新制作数量",)
    assert cat["reading_points.city"].leaves == ("市政府及其部门",)
