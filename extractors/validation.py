"""Arithmetic the form itself requires, and narrative numbers against the tables.

Findings never change a value: they report it. Rules:
- `sum`: every `sum_of` rule of the catalogue (a total equals the sum of its
  printed parts; blank parts are left out, as the scorer and the form do);
  表三's row totals are such rules.
- `column_balance`: per 表三 column, 一 + 二 = 三（七）总计 + 四. Its target is the
  pseudo-id `requests.balance.<column>`, since no single cell is to blame.
- `narrative`: a headline number in the text that differs from the table;
  target `narrative.<id>`, the table's id in `ids`.

A rule is only checked where the values it uses were read confidently: a value
whose row was placed by the form's order without the arithmetic confirming it,
or whose label was guessed to be the one printed below it, is not evidence
against its neighbours (`ValidationSettings.unsure_flags`). A value printed on a
line of its own next to an empty cell of its row is (its reading is unique).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .catalogue import IndicatorDef, catalogue
from .indicators import Match
from .narrative import Claim
from .result import Finding

COLUMNS = ("natural_person", "commercial", "research", "nonprofit", "legal_service", "other_org", "total")
# per column, the ids of its balance 一 + 二 = 三（七） + 四 (made once, not per report)
_BALANCE_IDS = tuple(
    (col, (f"requests.new.{col}", f"requests.carried_over.{col}", f"requests.total.{col}", f"requests.carried_forward.{col}"))
    for col in COLUMNS
)


@dataclass(frozen=True, slots=True)
class ValidationSettings:
    tolerance: float = 1e-6  # amounts in 万元 are compared exactly as printed
    # a value read with one of these is not read confidently enough to accuse its neighbours: its
    # row came from the form's order without the arithmetic confirming it, or its label from below
    unsure_flags: frozenset[str] = frozenset({"form_unverified", "label_below"})


SETTINGS = ValidationSettings()


_TOTALS: list[tuple[dict[str, IndicatorDef], tuple[IndicatorDef, ...]]] = []


def totals(cat: dict[str, IndicatorDef]) -> tuple[IndicatorDef, ...]:
    """The catalogue's totals (entries with a sum rule), in catalogue order, listed once per catalogue."""
    if not _TOTALS or _TOTALS[0][0] is not cat:
        _TOTALS[:] = [(cat, tuple(d for d in cat.values() if d.sum_of))]
    return _TOTALS[0][1]


def ext_items(values: dict[str, object]) -> list[tuple[str, object]]:
    """The printed `ext.` values, in order: all `sum_parts` looks through for combined rows
    (made once per report rather than once per rule)."""
    return [(k, v) for k, v in values.items() if v is not None and k.startswith("ext.")]


def sum_parts(parts: tuple[str, ...], values: dict[str, object], ext: list[tuple[str, object]] | None = None) -> list[str]:
    """The ids whose printed values make up a total: its parts, where a combined row
    (`ext.<parent>.<leaf>_<leaf>`, e.g. 信函、传真申请数) stands for the parts it joins.
    `ext` is `ext_items(values)` when the caller has it."""
    out = [p for p in parts if values.get(p) is not None]
    if not parts:
        return out
    items = ext_items(values) if ext is None else ext
    if not items:  # no combined row printed (most reports): nothing to look through
        return out
    prefix, dots, leaves = _rule_shape(parts)
    for k, v in items:
        if v is None or not k.startswith(prefix) or k.count(".") != dots:
            continue
        split = _leaf_split(k.rsplit(".", 1)[1], leaves)
        if split and len(split) >= 2 and not any(values.get(leaves[x]) is not None for x in split):
            out.append(k)
    return out


@lru_cache(maxsize=1024)
def _rule_shape(parts: tuple[str, ...]) -> tuple[str, int, dict[str, str]]:
    """What `sum_parts` matches combined rows of a rule against, once per rule: the `ext.` prefix of
    its parent, the dots such a row's id has, and leaf → part id (read only)."""
    parent = parts[0].rsplit(".", 1)[0]
    return f"ext.{parent}.", parent.count(".") + 2, {p.rsplit(".", 1)[1]: p for p in parts}


def _leaf_split(name: str, leaves: dict[str, str]) -> list[str] | None:
    """`name` as leaves of the rule joined by "_" (leaves such as `in_person` hold "_" too)."""
    if not name:
        return []
    for leaf in sorted(leaves, key=len, reverse=True):
        if name == leaf:
            return [leaf]
        if name.startswith(leaf + "_"):
            rest = _leaf_split(name[len(leaf) + 1:], leaves)
            if rest is not None:
                return [leaf, *rest]
    return None


def check(matches: list[Match], claims: list[Claim]) -> list[Finding]:
    """Every broken rule among the extracted values."""
    values = {m.id: m.value for m in matches if m.method != "narrative"}
    unsure = {m.id for m in matches if m.flags and SETTINGS.unsure_flags.intersection(m.flags)}
    out: list[Finding] = []
    ext = ext_items(values)
    for d in totals(catalogue()):
        if values.get(d.id) is None:
            continue
        parts = sum_parts(d.sum_of, values, ext)
        if not parts:
            continue
        if unsure and (d.id in unsure or not unsure.isdisjoint(d.sum_of)):
            # a misplaced row must not become an "inconsistency": no finding from doubtful readings
            continue
        total = sum([values[p] for p in parts])  # type: ignore[misc]
        if abs(total - values[d.id]) > SETTINGS.tolerance:  # type: ignore[operator]
            out.append(
                Finding(
                    rule="sum",
                    target=d.id,
                    expected=_round(total),
                    actual=values[d.id],
                    ids=parts,
                    message=f"{d.id} is {values[d.id]} but its parts add up to {_round(total)}.",
                )
            )
    for col, ids in _BALANCE_IDS:
        v = [values.get(i) for i in ids]
        if v[0] is None or v[2] is None or unsure and not unsure.isdisjoint(ids):
            continue
        left = (v[0] or 0) + (v[1] or 0)
        right = (v[2] or 0) + (v[3] or 0)
        if abs(left - right) > SETTINGS.tolerance:
            out.append(
                Finding(
                    rule="column_balance",
                    target=f"requests.balance.{col}",
                    expected=_round(left),
                    actual=_round(right),
                    ids=[i for i, x in zip(ids, v) if x is not None],
                    message=f"Column {col}: 一+二 = {_round(left)} but 三（七）+四 = {_round(right)}.",
                )
            )
    for c in claims:
        if not c.rule.headline:
            continue
        tv = values.get(c.match.id)
        if tv is None or c.match.value is None:
            continue
        if abs(tv - c.match.value) > SETTINGS.tolerance:
            out.append(
                Finding(
                    rule="narrative",
                    target=f"narrative.{c.match.id}",
                    expected=c.match.value,
                    actual=tv,
                    ids=[c.match.id],
                    message=f"The text states {c.match.raw} ({c.match.sentence}) but the table has {tv}.",
                )
            )
    return out


def _round(x: float) -> float | int:
    if isinstance(x, float):
        r = round(x, 6)
        return int(r) if r.is_integer() else r
    return x
