"""Which official form a report follows: `legacy` (2008–2018), `revised_2019` (2019 on), or `unknown`.

The evidence is what the tables hold (ids of one family or the other), the
form's own phrases in the text, and the report year; the variant of the
revised form (2019 transitional, 2020, 2021+) follows from which rows and
columns it has.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Document
from .view import DocumentView, key, prepare

_YEAR = re.compile(r"(20[0-4]\d)年(?:度)?(?:政府|政务|信息)")
_REVISED_PHRASES = ("本年新收政府信息公开申请", "申请人情况", "第二十条第", "法人或其他组织", "结转下年度继续办理")
_LEGACY_PHRASES = ("统计指标", "申请答复数", "不同意公开答复数", "主动公开政府信息数", "申请办结数")


@dataclass(frozen=True, slots=True)
class TemplateGuess:
    name: str = "unknown"
    variant: str | None = None
    confidence: float = 0.0


def report_year(doc: Document, view: DocumentView | None = None) -> int | None:
    """The report year from the title lines ("2017年政务信息公开工作年度报告")."""
    v = view or prepare(doc)
    for line in v.lines[:15]:
        m = _YEAR.search(key(line))
        if m:
            return int(m.group(1))
    return None


def detect(doc: Document, ids: set[str] | None = None, view: DocumentView | None = None) -> TemplateGuess:
    """Guess the form from the extracted ids, the text and the year."""
    ids = ids or set()
    v = view or prepare(doc)
    text = v.key_text
    revised_ids = sum(1 for i in ids if i.startswith(("requests.", "active.rules", "active.licensing", "active.penalty", "litigation_")))
    legacy_ids = sum(1 for i in ids if i.startswith(("request.", "org.", "training.", "litigation.", "complaints.")))
    rev_phr = sum(1 for p in _REVISED_PHRASES if p in text)
    leg_phr = sum(1 for p in _LEGACY_PHRASES if p in text)
    year = report_year(doc, v)
    rev = revised_ids / 20 + rev_phr + (1.5 if year and year >= 2019 else 0)
    leg = legacy_ids / 10 + leg_phr + (1.5 if year and year <= 2018 else 0)
    if rev == leg == 0:
        return TemplateGuess("unknown", None, 0.3)
    if rev > leg:
        name = "revised_2019"
        if any(i.startswith(("requests.other.no_correction.", "requests.other.unpaid_fee.", "requests.other.other.")) for i in ids):
            variant = "form_2021"
        elif any(i.endswith(("new_made", "new_published", "total_published")) for i in ids):
            variant = "form_2019"
        else:
            variant = "form_2020" if ids else None
        margin = rev - leg
    else:
        name, variant, margin = "legacy", "legacy", leg - rev
    conf = 0.6 + min(0.39, margin * 0.08)
    return TemplateGuess(name, variant, round(conf, 3))
