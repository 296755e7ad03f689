"""Per-field confidence: a probability the caller can threshold.

A value's confidence combines independent pieces of evidence: how well its
label (and column) matched, how cleanly the cell parsed, what the reader was
(a structured table vs a line of text), and the form's arithmetic — a sum rule
that holds is strong evidence that every cell in it was read right, a broken
one makes each of its cells doubtful. The mapping from evidence to probability
is calibrated on the shared corpus (README, "Calibration"): the constants below
are the result, kept here as one settings object.
"""
from __future__ import annotations

from dataclasses import dataclass

from .catalogue import catalogue
from .indicators import Match, _src
from .model import Document
from .result import Finding, Indicator, SourceRef


@dataclass(frozen=True, slots=True)
class ConfidenceSettings:
    base_table: float = 0.93  # exact label, clean cell, recognised table, no arithmetic evidence
    base_loose: float = 0.75  # value rebuilt from a line of text
    base_narrative: float = 0.7  # value read from a sentence
    rule_holds_bonus: float = 0.06  # the value takes part in a sum rule that holds
    rule_broken_factor: float = 0.6  # the value takes part in a broken sum rule
    floor: float = 0.02
    ceiling: float = 0.995


SETTINGS = ConfidenceSettings()


def _rule_status(findings: list[Finding], matches: list[Match]) -> tuple[set[str], set[str]]:
    """(ids in a rule that holds, ids in a rule that is broken)."""
    values = {m.id: m.value for m in matches}
    broken: set[str] = set()
    for f in findings:
        if f.rule in {"sum", "row_total", "column_balance"}:
            broken.add(f.target)
            broken.update(f.ids)
    holds: set[str] = set()
    for d in catalogue().values():
        if not d.sum_of or values.get(d.id) is None:
            continue
        parts = [values.get(p) for p in d.sum_of]
        known = [p for p in parts if p is not None]
        if not known or len(known) < 2 and values.get(d.id) != 0:
            continue
        if d.id in broken:
            continue
        if abs(sum(known) - values[d.id]) < 1e-6:
            holds.add(d.id)
            holds.update(p for p in d.sum_of if values.get(p) is not None)
    return holds, broken


def score(matches: list[Match], findings: list[Finding], doc: Document | None = None) -> list[Indicator]:
    """Turn matches into response indicators with calibrated confidence."""
    s = SETTINGS
    holds, broken = _rule_status(findings, matches)
    cat = catalogue()
    out = []
    for m in matches:
        if m.method == "narrative":
            base = s.base_narrative
        elif m.loose:
            base = s.base_loose
        else:
            base = s.base_table
        p = base * m.label_score * m.parse_quality
        if m.id in holds and m.value is not None:
            p = p + s.rule_holds_bonus * (1 - (1 - m.label_score) * 4)
        if m.id in broken:
            p *= s.rule_broken_factor
        p = max(s.floor, min(s.ceiling, p))
        d = cat.get(m.id)
        src = _src(m.source)
        out.append(
            Indicator(
                id=m.id,
                value=m.value,
                unit=d.unit if d else None,
                confidence=round(p, 4),
                label=m.label,
                raw=m.raw,
                source=SourceRef(kind="text" if m.method == "narrative" else "table", text=m.sentence or m.raw, **src),
            )
        )
    return out
