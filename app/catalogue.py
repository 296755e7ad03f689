"""The indicator catalogue as served by `GET /v1/indicators`, read from the engine's package data."""
from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib.resources import files

from pydantic import BaseModel, Field

from extractors import SCHEMA_VERSION

CATALOGUE_RESOURCE = ("extractors", "data/indicators.csv")


class IndicatorDefinition(BaseModel):
    """One canonical indicator id with its label, unit and the arithmetic the form requires."""

    id: str = Field(description="Canonical indicator id, as used in `indicators[].id` of an extraction.")
    templates: list[str] = Field(description="Report templates the indicator belongs to (legacy, revised_2019).")
    tables: list[str] = Field(description="The form table(s) that print it.")
    label: str = Field(description="The official Chinese row label.")
    unit: str | None = Field(None, description="Unit as printed on the form (件, 条, 次, 万元…).")
    sum_of: list[str] = Field(
        default_factory=list, description="Rule: this indicator equals the sum of these ids (empty when none)."
    )


class IndicatorCatalogue(BaseModel):
    schema_version: str = Field(description="The extraction schema version this catalogue belongs to.")
    count: int
    indicators: list[IndicatorDefinition]


def _split(value: str | None, sep: str) -> list[str]:
    return [p.strip() for p in (value or "").split(sep) if p.strip()]


def parse_catalogue(text: str) -> IndicatorCatalogue:
    """Parse the catalogue CSV (columns id, template, table, label_zh, unit, sum_of)."""
    rows = [
        IndicatorDefinition(
            id=row["id"].strip(),
            templates=_split(row.get("template"), "|"),
            tables=_split(row.get("table"), "|"),
            label=(row.get("label_zh") or "").strip(),
            unit=(row.get("unit") or "").strip() or None,
            sum_of=_split(row.get("sum_of"), "+"),
        )
        for row in csv.DictReader(io.StringIO(text))
        if (row.get("id") or "").strip()
    ]
    return IndicatorCatalogue(schema_version=SCHEMA_VERSION, count=len(rows), indicators=rows)


@lru_cache(maxsize=1)
def load_catalogue() -> IndicatorCatalogue:
    """The catalogue shipped with the installed engine (read once)."""
    package, path = CATALOGUE_RESOURCE
    return parse_catalogue(files(package).joinpath(path).read_text(encoding="utf-8-sig"))


@lru_cache(maxsize=8)
def catalogue_names(template: str | None) -> dict[str, str]:
    """Indicator id → its official label on `template`'s form (a label shared by two forms reads `old / new`)."""
    names: dict[str, str] = {}
    for d in load_catalogue().indicators:
        parts = [p.strip() for p in d.label.split(" / ")]
        pick = d.templates.index(template) if template in d.templates and len(parts) == len(d.templates) else 0
        names[d.id] = parts[pick]
    return names
