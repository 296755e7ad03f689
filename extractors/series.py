"""Series across years: one agency's comparable indicators from the legacy (2008–2018) and revised (2019+) forms.

The 2019 revision changed the form, so a legacy id and a revised id that mean the
same thing are joined by the crosswalk (`extractors/data/crosswalk.csv`, loaded
and validated here): per series, the legacy id and the revised id or sum of ids,
and whether the definition changed. The series table has one row per agency and
year; where a row's form differs from the agency's previous row and the crosswalk
marks the series as redefined, the series is named in `definition_changed`.
Several renderings of one report (PDF and DOCX of the same year) are one row: the
rendering with the highest mean confidence of its series values wins.
"""
from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .batch import latest_records
from .dataset import agency_key, normalise_agency, report_fields

_ADMIN_SUFFIXES = ("省", "市", "自治区", "自治州", "州", "盟", "地区", "县", "区", "旗")


@dataclass(frozen=True, slots=True)
class Crosswalk:
    """One comparable series: its legacy id and the revised ids whose sum it is."""

    series: str
    label_zh: str
    legacy: tuple[str, ...]
    revised: tuple[str, ...]
    definition_changed: bool
    note: str

    def ids(self, template: str | None) -> tuple[str, ...]:
        return self.revised if template == "revised_2019" else self.legacy


@lru_cache(maxsize=1)
def load_crosswalk() -> tuple[Crosswalk, ...]:
    """The crosswalk, validated: unique series names, every id in the catalogue, a boolean flag."""
    from .dataset import _catalogue_rows

    catalogue = {r["id"]: r for r in _catalogue_rows()}
    text = resources.files("extractors").joinpath("data/crosswalk.csv").read_text(encoding="utf-8")
    out: list[Crosswalk] = []
    for r in csv.DictReader(text.splitlines()):
        legacy, revised = tuple(r["legacy"].split("+")), tuple(r["revised_2019"].split("+"))
        for iid, form in [(i, "legacy") for i in legacy] + [(i, "revised_2019") for i in revised]:
            if iid not in catalogue or form not in catalogue[iid]["template"].split("|"):
                raise ValueError(f"crosswalk {r['series']}: {iid} is not a {form} id of the catalogue")
        if r["definition_changed"] not in ("true", "false"):
            raise ValueError(f"crosswalk {r['series']}: definition_changed must be true or false")
        out.append(Crosswalk(r["series"], r["label_zh"], legacy, revised, r["definition_changed"] == "true", r["note"]))
    names = [c.series for c in out]
    if len(set(names)) != len(names):
        raise ValueError("crosswalk: duplicate series names")
    return tuple(out)


def agency_groups(keys: Iterable[str]) -> dict[str, str]:
    """Map each agency key to its group: a key that is another key minus a leading administrative unit joins it.

    `洪泽区人民政府` and `淮安市洪泽区人民政府` are one agency printed with and without
    its prefecture; the fuller name is the group's key.
    """
    keys = sorted(set(keys), key=len, reverse=True)
    group: dict[str, str] = {}
    for k in keys:
        parents = [g for g in keys if len(g) > len(k) and g.endswith(k) and g[: -len(k)].endswith(_ADMIN_SUFFIXES)]
        group[k] = group.get(parents[0], parents[0]) if len(parents) == 1 else k
    return group


SERIES_FIXED = ("agency_key", "agency", "year", "template", "variant", "file", "report_key", "definition_changed")


def series_rows(records: Iterable[dict], agency: str | None = None) -> list[dict[str, object]]:
    """One row per agency-year with every crosswalk series; `agency` keeps the agencies whose key contains it."""
    walk = load_crosswalk()
    candidates: list[tuple[dict, dict[str, object], float]] = []
    for rec in latest_records(records):
        result = rec.get("result")
        if not isinstance(result, dict):
            continue
        base = report_fields(rec)
        if not base["agency_key"] or base["year"] is None:
            continue
        values = {}
        for ind in result.get("indicators") or []:
            values.setdefault(ind.get("id"), ind)
        row: dict[str, object] = {k: base.get(k) for k in SERIES_FIXED if k in base}
        confs: list[float] = []
        for c in walk:
            parts = [values.get(i) for i in c.ids(base["template"])]
            nums = [p.get("value") for p in parts if p is not None and p.get("value") is not None]
            row[c.series] = sum(nums) if nums and len(nums) == len(parts) else None
            confs += [float(p.get("confidence") or 0) for p in parts if p is not None]
        candidates.append((rec, row, sum(confs) / len(confs) if confs else 0.0))
    groups = agency_groups(str(r["agency_key"]) for _, r, _ in candidates)
    best: dict[tuple[str, int], tuple[dict[str, object], float]] = {}
    for _rec, row, score in candidates:
        row["agency_key"] = groups[str(row["agency_key"])]
        k = (row["agency_key"], int(row["year"]))
        if k not in best or score > best[k][1]:
            best[k] = (row, score)
    rows = [r for r, _ in sorted(best.values(), key=lambda rs: (rs[0]["agency_key"], rs[0]["year"]))]
    if agency:
        needle = agency_key(normalise_agency(agency)) or agency
        rows = [r for r in rows if needle in str(r["agency_key"])]
    prev: dict[str, dict[str, object]] = {}
    for r in rows:
        p = prev.get(str(r["agency_key"]))
        changed = [c.series for c in walk if p is not None and p["template"] != r["template"] and c.definition_changed]
        r["definition_changed"] = ";".join(changed)
        prev[str(r["agency_key"])] = r
    return rows


def series_columns() -> list[str]:
    return list(SERIES_FIXED) + [c.series for c in load_crosswalk()]
