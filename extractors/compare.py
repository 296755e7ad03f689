"""Year-over-year comparison of one agency's reports: what oversight offices read these reports for.

Given two or more extraction results, ordered by report year, each consecutive
pair gets: the change of every indicator both report (and of the crosswalk series
when the form changed between them), the largest moves, the values that break
their own arithmetic (the validation findings of each report), and the sections
whose text is (nearly) the same as the year before — copy-pasted reports are a
known problem. Output as JSON (a plain dict) and as Markdown or HTML for people.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from rapidfuzz import fuzz

from .series import load_crosswalk


@dataclass(frozen=True, slots=True)
class CompareSettings:
    """Knobs of the comparison."""

    unchanged_similarity: float = 95.0  # rapidfuzz ratio (0–100) of two section texts at or above which they count as unchanged
    min_section_chars: int = 40  # shorter section bodies say too little to call copy-pasted
    largest_moves: int = 10


_WS = re.compile(r"\s+")


def _values(result: dict) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for ind in result.get("indicators") or []:
        out.setdefault(ind.get("id"), ind)
    return out


def _doc(result: dict, key: str) -> object:
    return ((result.get("document") or {}).get(key) or {}).get("value")


def _change(iid: str, a: object, b: object, conf: float | None, label: str | None = None) -> dict[str, object]:
    delta = b - a if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
    pct = round(100.0 * delta / a, 1) if delta is not None and a else None
    return {"id": iid, "label_zh": label if label is not None else _labels().get(iid), "before": a, "after": b,
            "delta": delta, "pct": pct, "min_confidence": conf}


@lru_cache(maxsize=1)
def _labels() -> dict[str, str]:
    """Catalogue id -> Chinese label, so a reader of the report sees what a row is."""
    from .dataset import indicator_columns

    return {c.id: c.label_zh for c in indicator_columns()}


def compare_pair(before: dict, after: dict, settings: CompareSettings = CompareSettings()) -> dict[str, object]:
    """The comparison of two results of one agency (`before` the earlier year)."""
    va, vb = _values(before), _values(after)
    changes = []
    for iid in [i for i in vb if i in va]:
        a, b = va[iid].get("value"), vb[iid].get("value")
        if a is None and b is None:
            continue
        conf = min(float(va[iid].get("confidence") or 0), float(vb[iid].get("confidence") or 0))
        changes.append(_change(iid, a, b, conf))
    series = []
    ta, tb = _doc(before, "template"), _doc(after, "template")
    if ta != tb:
        for c in load_crosswalk():
            pa, pb = [va.get(i) for i in c.ids(ta)], [vb.get(i) for i in c.ids(tb)]
            if all(p is not None and p.get("value") is not None for p in pa + pb):
                s = _change(c.series, sum(p["value"] for p in pa), sum(p["value"] for p in pb),
                            min(float(p.get("confidence") or 0) for p in pa + pb), c.label_zh)
                series.append({**s, "definition_changed": c.definition_changed})
    moved = [c for c in changes if c["delta"]]
    # by the size of the move in the report's own unit (a count going 0 → 50 is a smaller move than 21 → 95),
    # then by its share; counts of applications are what oversight offices read first
    largest = sorted(moved, key=lambda c: (-abs(c["delta"]), -abs(c["pct"]) if c["pct"] is not None else 0.0))
    sa = {s["key"]: s for s in before.get("sections") or []}
    sections = []
    for s in after.get("sections") or []:
        prior = sa.get(s["key"])
        if prior is None:
            continue
        ta_, tb_ = _WS.sub("", prior.get("text") or ""), _WS.sub("", s.get("text") or "")
        if min(len(ta_), len(tb_)) < settings.min_section_chars:
            continue
        sim = round(fuzz.ratio(ta_, tb_), 1)
        sections.append({"key": s["key"], "heading": s.get("heading"), "similarity": sim,
                         "unchanged": sim >= settings.unchanged_similarity})
    return {
        "before": {"agency": _doc(before, "agency"), "year": _doc(before, "report_year"), "template": ta},
        "after": {"agency": _doc(after, "agency"), "year": _doc(after, "report_year"), "template": tb},
        "changes": changes, "series": series, "largest_moves": largest[: settings.largest_moves],
        "arithmetic": {"before": before.get("validation") or [], "after": after.get("validation") or []},
        "sections": sections, "unchanged_sections": [s["key"] for s in sections if s["unchanged"]],
    }


def compare(results: list[dict], settings: CompareSettings = CompareSettings()) -> dict[str, object]:
    """Every consecutive pair of `results` in report-year order (stable for equal years)."""
    if len(results) < 2:
        raise ValueError("a comparison needs at least two reports")
    ordered = sorted(results, key=lambda r: (_doc(r, "report_year") is None, _doc(r, "report_year") or 0))
    agencies = sorted({str(_doc(r, "agency")) for r in ordered})
    return {"agencies": agencies, "pairs": [compare_pair(a, b, settings) for a, b in pairwise(ordered)]}


def _cell(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return "" if text is None else str(text).replace("|", "｜").replace("\n", " ")


def to_markdown(report: dict) -> str:
    """A readable Markdown report of `compare()`'s output."""
    out = [f"# Year-over-year comparison: {' / '.join(report['agencies'])}", ""]
    for p in report["pairs"]:
        out += [f"## {p['before']['year']} → {p['after']['year']}", ""]
        out += ["### Largest moves", "", "| indicator | 指标 | before | after | change | % |", "|---|---|---:|---:|---:|---:|"]
        out += [f"| {c['id']} | {_cell(c.get('label_zh'))} | {c['before']} | {c['after']} | {c['delta']:+g} | "
                f"{'' if c['pct'] is None else c['pct']} |" for c in p["largest_moves"]]
        if p["series"]:
            out += ["", "### Comparable series (form changed)", "", "| series | before | after | definition changed |",
                    "|---|---:|---:|---|"]
            out += [f"| {s['id']} | {s['before']} | {s['after']} | {'yes' if s['definition_changed'] else 'no'} |" for s in p["series"]]
        out += ["", "### Values that break their own arithmetic", ""]
        for side in ("before", "after"):
            for f in p["arithmetic"][side]:
                out.append(f"- {p[side]['year']}: {f.get('target')} — {f.get('message', f.get('kind', ''))}")
        if not (p["arithmetic"]["before"] or p["arithmetic"]["after"]):
            out.append("- none")
        out += ["", "### Sections", "", "| section | similarity | unchanged |", "|---|---:|---|"]
        out += [f"| {s['key']} | {s['similarity']} | {'**yes**' if s['unchanged'] else 'no'} |" for s in p["sections"]]
        out.append("")
    return "\n".join(out)


def to_html(report: dict) -> str:
    """The Markdown report's content as a standalone HTML page (every text escaped, no scripts)."""
    body: list[str] = []
    in_table = False
    for line in to_markdown(report).splitlines():
        is_row = line.startswith("|")
        if in_table and not is_row:
            body.append("</table>")
            in_table = False
        if is_row:
            if set(line) <= set("|-: "):
                continue
            if not in_table:
                body.append("<table>")
                in_table = True
            cells = [html.escape(c.strip().strip("*")) for c in line.strip("|").split("|")]
            body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{html.escape(line.lstrip('# '))}</h{level}>")
        elif line.startswith("- "):
            body.append(f"<p>{html.escape(line[2:])}</p>")
    if in_table:
        body.append("</table>")
    return ("<!doctype html><meta charset=utf-8><title>Year-over-year comparison</title>"
            "<style>td{border:1px solid #ccc;padding:2px 6px}</style>\n" + "\n".join(body) + "\n")
