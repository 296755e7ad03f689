"""The indicator catalogue (data/indicators.csv) loaded into typed records.

The CSV is the package's own copy of ../shared/spec/indicators.csv, extended
where real reports need more ids (see README, "Catalogue extensions"). A test
keeps the shared rows and ours in step.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

_FORM_NOTE = re.compile(r"\s*\([^)]*form[^)]*\)")


@dataclass(frozen=True, slots=True)
class IndicatorDef:
    id: str
    templates: tuple[str, ...]
    tables: tuple[str, ...]
    label_zh: str
    unit: str
    sum_of: tuple[str, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        """Each ' / '-separated alternative of the label, form notes such as '(2019 form)' removed."""
        return tuple(_FORM_NOTE.sub("", x).strip() for x in self.label_zh.split(" / "))

    @property
    def leaves(self) -> tuple[str, ...]:
        """The last '·' part of each label: what a legacy table prints on the row."""
        return tuple(x.split("·")[-1] for x in self.labels)

    @property
    def parent(self) -> str:
        return self.id.rsplit(".", 1)[0]


@lru_cache(maxsize=1)
def catalogue() -> dict[str, IndicatorDef]:
    """All indicator definitions by id, in catalogue order."""
    text = resources.files("extractors").joinpath("data/indicators.csv").read_text(encoding="utf-8")
    out: dict[str, IndicatorDef] = {}
    for row in csv.DictReader(io.StringIO(text)):
        out[row["id"]] = IndicatorDef(
            id=row["id"],
            templates=tuple(row["template"].split("|")),
            tables=tuple(row["table"].split("|")),
            label_zh=row["label_zh"],
            unit=row["unit"],
            sum_of=tuple(x for x in (row.get("sum_of") or "").split("+") if x),
        )
    return out


def order() -> dict[str, int]:
    """Catalogue position of each id (responses list indicators in this order)."""
    return {k: i for i, k in enumerate(catalogue())}
