"""The official statistics forms (data/forms.toml) as typed, validated records.

The fitting stage needs to know what the form prints — 表三's rows in order and
its applicant columns, 表四's three groups of five — and the arithmetic the form
requires (a 表三 row's 总计 = its six columns, 小计 = the five organisation
columns; per column 一 + 二 = 三（七）+ 四 and （七） = the sum of the outcome
rows; each 表四 group's total = its four parts). Holding that as data keeps the
solver free of form knowledge; validating it on load against the catalogue
catches a typo in an id before it silently drops values.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .catalogue import catalogue


class FormDataError(ValueError):
    """Form data that names an id or column the catalogue lacks: a packaging bug, not bad input."""


@dataclass(frozen=True, slots=True)
class RequestsForm:
    """One printing of 表三: its rows, top to bottom."""

    name: str
    rows: tuple[str, ...]

    @property
    def outcome_rows(self) -> tuple[str, ...]:
        """The rows of 三、本年度办理结果 that add up to （七）总计."""
        f, t = self.rows.index(FORMS().requests.outcome_first), self.rows.index(FORMS().requests.outcome_total)
        return self.rows[f:t]


@dataclass(frozen=True, slots=True)
class RequestsTable:
    columns: tuple[str, ...]  # the seven official columns, 总计 last
    organisations: tuple[str, ...]  # the five columns a 小计 adds up
    subtotal_column: str
    outcome_first: str
    outcome_total: str
    balance_left: tuple[str, ...]
    balance_right: tuple[str, ...]
    forms: tuple[RequestsForm, ...]

    def columns_with(self, subtotal: bool) -> tuple[str, ...]:
        """The value columns left to right, with 小计 before 总计 when the table prints one."""
        if not subtotal:
            return self.columns
        return (*self.columns[:-1], self.subtotal_column, self.columns[-1])


@dataclass(frozen=True, slots=True)
class Forms:
    requests: RequestsTable
    review_groups: tuple[tuple[str, ...], ...]  # 表四: in each group the last id is the total
    active_counts: tuple[str, ...]  # 表二's 本年制发/本年废止/现行有效 columns (no arithmetic)
    active_pairs: tuple[tuple[str, str], ...] = ()  # 表二 rows printed in this order under one header

    @property
    def review_order(self) -> tuple[str, ...]:
        return tuple(i for g in self.review_groups for i in g)


def _check(forms: Forms) -> None:
    """Every row × column id and every rule of the form data must exist in the catalogue."""
    cat = catalogue()
    rq = forms.requests
    problems: list[str] = []
    for form in rq.forms:
        if rq.outcome_first not in form.rows or rq.outcome_total not in form.rows:
            problems.append(f"{form.name}: outcome rows not in the form")
        for r in (*rq.balance_left, *rq.balance_right):
            if r not in form.rows:
                problems.append(f"{form.name}: balance row {r} not in the form")
        for r in form.rows:
            for c in rq.columns:
                if f"{r}.{c}" not in cat:
                    problems.append(f"{form.name}: {r}.{c} not in the catalogue")
        if len(set(form.rows)) != len(form.rows):
            problems.append(f"{form.name}: a row is listed twice")
    if not set(rq.organisations) <= set(rq.columns):
        problems.append("requests: organisations must be columns")
    for g in forms.review_groups:
        for i in g:
            if i not in cat:
                problems.append(f"review: {i} not in the catalogue")
        total = cat.get(g[-1])
        if total is not None and set(total.sum_of) != set(g[:-1]):
            problems.append(f"review: {g[-1]}'s catalogue sum_of is not the group's parts")
    for pair in forms.active_pairs:
        for prefix in pair:
            if not any(i.startswith(prefix + ".") for i in cat):
                problems.append(f"active: no catalogue id under {prefix}")
    if problems:
        raise FormDataError("data/forms.toml: " + "; ".join(problems))


def load(text: str) -> Forms:
    """Parse and validate form data (the packaged file, or a test's own)."""
    raw = tomllib.loads(text)
    rq = raw["requests"]
    forms = Forms(
        requests=RequestsTable(
            columns=tuple(rq["columns"]),
            organisations=tuple(rq["organisations"]),
            subtotal_column=rq["subtotal_column"],
            outcome_first=rq["outcome_first"],
            outcome_total=rq["outcome_total"],
            balance_left=tuple(rq["balance"]["left"]),
            balance_right=tuple(rq["balance"]["right"]),
            forms=tuple(RequestsForm(f["name"], tuple(f["rows"])) for f in rq["form"]),
        ),
        review_groups=tuple(tuple(g["ids"]) for g in raw["review"]["group"]),
        active_counts=tuple(raw["active"]["counts"]),
        active_pairs=tuple((a, b) for a, b in raw["active"].get("pairs", [])),
    )
    _check(forms)
    return forms


@lru_cache(maxsize=1)
def FORMS() -> Forms:
    """The packaged forms, loaded and validated once."""
    return load(resources.files("extractors").joinpath("data/forms.toml").read_text(encoding="utf-8"))
