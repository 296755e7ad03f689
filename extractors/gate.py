"""Is this an annual report at all? The evidence, weighed; NotAReportError when it falls short.

Why a stage of its own: a crawler that fetched a portal 404 page, a listing of reports, a JSON
error body or a news item about the report would otherwise get an empty result, which looks
like a report with no data. The decision runs after the reader and the table/section/narrative
stages, on what they found, never on the file name:

- `title`: a line that is a report's own title (data/report.toml), among the first lines or the
  page title;
- `form_rows`: statistics-table rows matched to catalogue indicators;
- `sections`: canonical report sections (numbered 一、总体情况 … or known titles);
- `claims`: figures stated in sentences the narrative stage recognises (收到申请…件).

Each kind of evidence scores by tiers (`GateSettings`); counter-evidence subtracts: several
report titles for different years (a listing page), a title-position line that cites a report
(解读 / 图解 / 《…年度报告》). A real report with little content still passes: a workbook of
statistics tables has form rows, a narrative-only report has a title, sections and claims.
The error's `detail` says what was looked for and what was found, in counts only.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .errors import NotAReportError
from .model import Document
from .view import DocumentView, key, prepare

Tiers = tuple[tuple[int, float], ...]  # (at least this many, score), ascending


@dataclass(frozen=True, slots=True)
class GateSettings:
    """Weights of the evidence and the score a report must reach."""

    threshold: float = 4.0
    title: float = 3.0  # a line that is a report's title: strong, yet not enough alone (a 404 page may keep it)
    form_rows: Tiers = ((1, 1.0), (5, 4.0))
    sections: Tiers = ((1, 1.0), (2, 2.0), (4, 3.0))
    claims: Tiers = ((1, 1.0), (3, 2.0))
    listing_years: int = 3  # this many distinct years among title lines: a list of reports
    listing: float = -4.0
    cites: float = -3.0
    top_lines: int = 30  # the report's title is among the first lines
    cite_lines: int = 5  # a citing line counts against only in title position
    max_title_chars: int = 80


SETTINGS = GateSettings()


@dataclass(frozen=True, slots=True)
class TitleRules:
    patterns: tuple[re.Pattern[str], ...]
    cites: tuple[re.Pattern[str], ...]
    # the title patterns as one alternation (a search finds a match iff one of them does): one regex
    # call per line, not one per pattern; None when they cannot be joined (group names, inline flags)
    any_title: re.Pattern[str] | None = None


def _joined(pats: tuple[re.Pattern[str], ...]) -> re.Pattern[str] | None:
    if any(p.flags != pats[0].flags for p in pats):
        return None
    try:
        return re.compile("|".join(f"(?:{p.pattern})" for p in pats), pats[0].flags)
    except re.error:
        return None


@lru_cache(maxsize=1)
def title_rules() -> TitleRules:
    """The title and citation patterns of data/report.toml, compiled (a bad pattern fails on load)."""
    raw = tomllib.loads(resources.files("extractors").joinpath("data/report.toml").read_text(encoding="utf-8"))
    t = raw["title"]
    pats = tuple(re.compile(p) for p in t["patterns"])
    cites = tuple(re.compile(p) for p in t["cites"])
    if not pats:
        raise ValueError("report.toml: no title patterns")
    return TitleRules(pats, cites, _joined(pats))


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the stages found, and the score it adds up to."""

    title: bool
    form_rows: int
    sections: int
    claims: int
    title_years: int
    cites: bool
    score: float

    def detail(self, st: GateSettings) -> str:
        """A short account for the error (counts only, no document content)."""
        return (
            "The document does not read as a government information-disclosure annual report: "
            f"report title line {'found' if self.title else 'not found'}; "
            f"{self.form_rows} statistics-table rows recognised; "
            f"{self.sections} report sections (一、总体情况 …) found; "
            f"{self.claims} report figures stated in sentences"
            + (f"; report titles for {self.title_years} different years (a list of reports)" if self.title_years >= st.listing_years else "")
            + ("; the title cites a report rather than being one" if self.cites else "")
            + f" (evidence score {self.score:g}, a report needs {st.threshold:g})."
        )


_key = key  # the matching key of running text (see `view.key`)


def _tier(n: int, tiers: Tiers) -> float:
    return max((s for k, s in tiers if n >= k), default=0.0)


_YEAR = re.compile(r"(?:19|20)\d{2}(?=年)")
_TITLE_PARTS = re.compile(r"[_|｜]| - ")  # a portal title's separators


def _title_lines(doc: Document, st: GateSettings, view: DocumentView) -> tuple[list[str], list[str]]:
    """(candidate title lines in title position, every short line of the document), as matching keys."""
    lines = [k for keys in view.paragraph_line_keys for k in keys]
    short = [x for x in lines if len(x) <= st.max_title_chars]
    top = [x for x in lines[: st.top_lines] if len(x) <= st.max_title_chars]
    if doc.title:
        top = [_key(x) for x in _TITLE_PARTS.split(doc.title) if x.strip()] + top
    return top, short


def evidence(doc: Document, form_rows: int, sections: int, claims: int, st: GateSettings = SETTINGS,
             view: DocumentView | None = None) -> Evidence:
    """Weigh what the stages found (see the module docstring)."""
    rules = title_rules()
    v = view or prepare(doc)
    top, short = _title_lines(doc, st, v)

    joined = rules.any_title
    seen: dict[str, bool] = {}  # a title-position line is a short line too: each is tried once

    def is_title(x: str) -> bool:
        found = seen.get(x)
        if found is None:
            found = seen[x] = joined.search(x) is not None if joined is not None else any(p.search(x) for p in rules.patterns)
        return found

    title = any(is_title(x) for x in top)
    years: set[str] = set()
    for x in short:  # a title line's years: the title patterns only where the (much cheaper) year search finds one
        ys = _YEAR.findall(x[:60]) if "年" in x else None
        if ys and is_title(x):
            years.update(ys)
    first = list(v.paragraph_keys[: st.cite_lines])
    if doc.title:
        first.insert(0, _key(doc.title))
    likes = [x for x in first if is_title_like(x)]  # each line tested once, not once per pattern
    cites = any(c.search(x) for c in rules.cites for x in likes)
    score = (
        (st.title if title else 0.0)
        + _tier(form_rows, st.form_rows)
        + _tier(sections, st.sections)
        + _tier(claims, st.claims)
        + (st.listing if len(years) >= st.listing_years else 0.0)
        + (st.cites if cites else 0.0)
    )
    return Evidence(title, form_rows, sections, claims, len(years), cites, score)


def is_title_like(key: str) -> bool:
    """A short line that mentions a report (a citing headline is one of these)."""
    return len(key) <= 80 and ("报告" in key or "年报" in key)


def check(doc: Document, form_rows: int, sections: int, claims: int, st: GateSettings = SETTINGS,
          view: DocumentView | None = None) -> Evidence:
    """The evidence; raises NotAReportError when it does not reach the threshold."""
    ev = evidence(doc, form_rows, sections, claims, st, view)
    if ev.score < st.threshold:
        raise NotAReportError(
            ev.detail(st), title_found=ev.title, form_rows=ev.form_rows, sections=ev.sections,
            claims=ev.claims, evidence_score=ev.score, threshold=st.threshold,
        )
    return ev


def count_sections(keys: Sequence[str], unclassified: str) -> int:
    """Distinct canonical section keys (a heading whose title matched nothing does not count)."""
    return len({k for k in keys if k != unclassified})


__all__ = ["Evidence", "GateSettings", "SETTINGS", "check", "evidence", "title_rules"]
