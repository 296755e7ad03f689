"""Per-field confidence: a probability the caller can threshold.

A value's confidence is a small logistic model over the evidence the earlier
stages leave on each match: how its label matched (exactly, approximately, only
thanks to the row before it, among tied candidates), whether a header named its
column, how cleanly its cell parsed, what the reader was (a recognised table, a
line of text, a sentence), and the form's arithmetic — a sum rule that holds is
strong evidence that every cell in it was read right, a broken one makes each of
its cells doubtful, and so does a narrative sentence that states another number.

The weights are fitted (docs/calibration.md) on the shared corpus plus the
generated robustness corpus (`tests/robustness`), and checked on a held-out
split by `tests/test_confidence.py`; they are kept here as one settings object.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from .catalogue import catalogue
from .indicators import FLAGS, Match
from .model import Document, Paragraph
from .result import Finding
from .validation import ext_items, sum_parts, totals

FEATURES: tuple[str, ...] = (
    "bias",
    "label_gap",  # 1 - label score (0 for an exact label)
    "parse_gap",  # 1 - parse quality (0 for a bare number or a clear blank)
    "loose",  # rebuilt from a line of running text
    "narrative",  # read from a sentence
    *FLAGS,
    "rule_holds",  # takes part in a sum rule that holds
    "rule_broken",  # takes part in a broken sum / column-balance rule
    "broken_unconfirmed",  # ... and no rule that holds vouches for it
    "unconfirmed",  # a table value in no rule that holds (no arithmetic evidence either way)
    "narrative_disagrees",  # a sentence states another number for this id
    "reader_doubt",  # 1 - Cell.quality where the reader was not exact (crawler text's cell extents)
)
# Evidence that can only lower confidence (the fit keeps these weights ≤ 0); the rest may raise it.
RAISING = frozenset({"bias", "rule_holds"})


@dataclass(frozen=True, slots=True)
class ConfidenceSettings:
    """Logistic weights, one per feature (fitted by `python -m tests.robustness.calibrate`), and bounds."""

    bias: float = 7.62
    label_gap: float = -5.79
    parse_gap: float = -2.78
    loose: float = -0.48
    narrative: float = -1.34
    fuzzy: float = 0.00
    rescued: float = -0.79
    tie: float = -1.35
    header_unseen: float = -3.59
    short_row: float = -1.00
    label_below: float = -1.50
    zone_guessed: float = 0.00
    contested: float = -1.81
    cell_split: float = -0.74
    digit_run: float = -0.50
    row_inferred: float = -0.63
    form_unverified: float = -1.34
    detached: float = -0.91
    shifted: float = -0.47
    rule_holds: float = 2.85
    rule_broken: float = -1.84
    broken_unconfirmed: float = -1.92
    unconfirmed: float = -1.59
    narrative_disagrees: float = -0.86
    reader_doubt: float = -3.20
    # policy on top of the fit: a value in a broken rule that no holding rule vouches for is
    # capped below the 0.9 review threshold, whatever the model says (it is the likeliest misread)
    broken_cap: float = 0.85
    # and a number read from a sentence stays below it too: the data hold a single narrative-only
    # report (38 values), too little to vouch for sentences as for table cells
    narrative_cap: float = 0.8
    # a row rebuilt from a line of text with fewer numbers than the table has columns: its blank
    # cells vanished with the table's grid, so which column each number belongs to is a guess
    loose_short_cap: float = 0.8
    # a 表三 row placed by the form's order whose table the column arithmetic does not confirm:
    # the order is the only evidence for which row it is
    unverified_cap: float = 0.8
    # a value or label printed on a line of its own: which row it belongs to is a guess
    detached_cap: float = 0.85
    floor: float = 0.02
    ceiling: float = 0.999

    def weights(self) -> dict[str, float]:
        return _weights(self)


@lru_cache(maxsize=8)
def _weights(settings: ConfidenceSettings) -> dict[str, float]:
    """The weight vector of a (frozen, hashable) settings object, built once."""
    return {k: getattr(settings, k) for k in FEATURES}


SETTINGS = ConfidenceSettings()


def _rule_status(findings: list[Finding], matches: list[Match]) -> tuple[set[str], set[str]]:
    """(ids in a rule that holds, ids in a rule that is broken)."""
    values = {m.id: m.value for m in matches if m.method != "narrative"}
    broken: set[str] = set()
    for f in findings:
        if f.rule in {"sum", "row_total", "column_balance"}:
            broken.add(f.target)
            broken.update(f.ids)
    holds: set[str] = set()
    ext = ext_items(values)
    for d in totals(catalogue()):
        if values.get(d.id) is None or d.id in broken:
            continue
        ids = sum_parts(d.sum_of, values, ext)
        known = [values[p] for p in ids]
        # a total with one printed part "holds" trivially: only a zero total is evidence then
        if not known or len(known) < 2 and values.get(d.id) != 0:
            continue
        if abs(sum(known) - values[d.id]) < 1e-6:  # type: ignore[operator, arg-type]
            holds.add(d.id)
            holds.update(ids)
    return holds, broken


def features_of(matches: list[Match], findings: list[Finding], doc: Document | None = None) -> list[tuple[Match, dict[str, float]]]:
    """The model's inputs for every match (also what calibration fits on): every feature, 0.0 where absent."""
    holds, broken = _rule_status(findings, matches)
    disagree = {i for f in findings if f.rule == "narrative" for i in f.ids}
    out = []
    for m in matches:
        x = dict.fromkeys(FEATURES, 0.0)
        x.update(_evidence(m, holds, broken, disagree))  # keys keep FEATURES order
        out.append((m, x))
    return out


_FLAG_POS = {f: i for i, f in enumerate(FLAGS)}


def _evidence_key(m: Match, holds: set[str], broken: set[str], disagree: set[str]) -> tuple[object, ...]:
    """Everything `_evidence` (below) reads of a match: equal keys, equal evidence, equal probability.
    Kept beside it so that a feature reading something new adds it here too."""
    mid = m.id
    return (m.label_score, m.parse_quality, m.method, m.loose, m.flags, m.value is None, m.reader_quality,
            mid in holds, mid in broken, mid in disagree)


def _evidence(m: Match, holds: set[str], broken: set[str], disagree: set[str]) -> dict[str, float]:
    """The match's non-zero features in FEATURES order (the model skips zeros, so this is its whole input).

    Built directly rather than as a dense dict of every feature: `score` runs it for every value.
    """
    x: dict[str, float] = {"bias": 1.0}
    gap = 1.0 - m.label_score
    if gap > 0.0:
        x["label_gap"] = gap
    gap = 1.0 - m.parse_quality
    if gap > 0.0:
        x["parse_gap"] = gap
    narrative = m.method == "narrative"
    if m.loose and not narrative:
        x["loose"] = 1.0
    if narrative:
        x["narrative"] = 1.0
    flags = m.flags
    if flags:
        for f in sorted({f for f in flags if f in _FLAG_POS}, key=_FLAG_POS.__getitem__):
            x[f] = 1.0
    held = m.id in holds
    if held and m.value is not None:
        x["rule_holds"] = 1.0
    if m.id in broken:
        x["rule_broken"] = 1.0
        if not held:
            x["broken_unconfirmed"] = 1.0
    elif m.value is not None and not narrative and not held:
        x["unconfirmed"] = 1.0
    if m.id in disagree:
        x["narrative_disagrees"] = 1.0
    if m.reader_quality is not None and m.reader_quality < 1.0:
        x["reader_doubt"] = 1.0 - m.reader_quality
    return x


def probability(x: dict[str, float], settings: ConfidenceSettings | None = None, w: dict[str, float] | None = None) -> float:
    """The logistic model: sigmoid of the weighted evidence, kept within [floor, ceiling]."""
    settings = settings or SETTINGS
    w = w or settings.weights()
    z = sum(w[k] * v for k, v in x.items() if v)
    p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
    if x.get("broken_unconfirmed"):
        p = min(p, settings.broken_cap)
    if x.get("narrative"):
        p = min(p, settings.narrative_cap)
    if x.get("loose") and x.get("short_row"):
        p = min(p, settings.loose_short_cap)
    if x.get("form_unverified"):
        p = min(p, settings.unverified_cap)
    if x.get("detached"):
        p = min(p, settings.detached_cap)
    if x.get("reader_doubt"):
        # the reader's own certainty in the cell (Cell.quality) bounds the value's
        p = min(p, 1.0 - x["reader_doubt"])
    return max(settings.floor, min(settings.ceiling, p))


def _probability(x: dict[str, float], settings: ConfidenceSettings, w: dict[str, float]) -> float:
    """`probability` of `_evidence`'s sparse features (every value non-zero: the same terms, summed in order)."""
    z = sum([w[k] * v for k, v in x.items()])
    p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
    if len(x) > 1:  # more than the bias: a cap may apply
        if "broken_unconfirmed" in x:
            p = min(p, settings.broken_cap)
        if "narrative" in x:
            p = min(p, settings.narrative_cap)
        if "loose" in x and "short_row" in x:
            p = min(p, settings.loose_short_cap)
        if "form_unverified" in x:
            p = min(p, settings.unverified_cap)
        if "detached" in x:
            p = min(p, settings.detached_cap)
        if "reader_doubt" in x:
            p = min(p, 1.0 - x["reader_doubt"])
    return max(settings.floor, min(settings.ceiling, p))


_MAX_KNOWN = 4096  # distinct evidence seen: a few hundred over the corpus; the bound keeps a worker's memory flat
_KNOWN: list[tuple[ConfidenceSettings, dict[tuple[object, ...], float]]] = []


def _known_probabilities(settings: ConfidenceSettings) -> dict[tuple[object, ...], float]:
    """The model's probability (as the response rounds it) per evidence key already computed with `settings`
    (exact text only: the OCR caps depend on the cell, so a recognised document's values are computed each time).

    Values of a report share a handful of evidence vectors (an exact label, a clean cell, a rule
    that holds), so most of `score`'s values are one dict lookup instead of the model.
    """
    if not _KNOWN or _KNOWN[0][0] is not settings:
        _KNOWN[:] = [(settings, {})]
    return _KNOWN[0][1]


@dataclass(frozen=True, slots=True)
class OcrCapSettings:
    """Caps on values a recogniser read (a cell with `quality`), applied after the model.

    An OCR value is never as sure as a text-layer one. Measured (docs/calibration.md):
    every misread digit box scored below `sure_chars`, every right one at or above it;
    the form's arithmetic then separates the rest. Values are capped, never raised.
    """

    sure_chars: float = 0.98  # lowest character score of a value cell that counts as a sure reading
    sure_and_sums: float = 0.97  # sure characters and a sum rule that holds
    sure_unconfirmed: float = 0.9  # sure characters, no arithmetic evidence either way
    unsure_and_sums: float = 0.85  # an unsure character, yet a holding rule vouches for the value
    unsure: float = 0.5  # an unsure character and nothing vouching for it: the likeliest misread
    unknown: float = 0.8  # an OCR'd document, but the value's cell (a text line) has no score


OCR_CAP = OcrCapSettings()


def _scored(doc: Document) -> bool:
    """Whether any paragraph or cell of `doc` carries a reader's score (plain loops, one pass over the blocks)."""
    for b in doc.blocks:
        if isinstance(b, Paragraph):
            if b.quality is not None:
                return True
            continue
        for r in b.rows:
            for c in r:
                if c.quality is not None:
                    return True
    return False


def _cell_quality(doc: Document | None) -> dict[tuple[int, int, int], float | None] | None:
    """(table, row, col) → the reader's quality of that cell; None when the document is exact text."""
    if doc is None or not _scored(doc):
        return None  # exact text (most documents): no map to build
    return {(t.index, c.row, c.col): c.quality for t in doc.tables for r in t.rows for c in r}


def ocr_cap(p: float, m: Match, x: dict[str, float], quality: dict[tuple[int, int, int], float | None] | None,
            settings: OcrCapSettings = OCR_CAP) -> float:
    """`p` capped by how surely the recogniser read the value's cell (see `OcrCapSettings`)."""
    if quality is None:
        return p
    s = m.source
    q = quality.get((s.table, s.row, s.col)) if s.table is not None and s.row is not None else None
    holds = bool(x.get("rule_holds"))
    if q is None:
        return min(p, settings.unknown)
    # a speck of noise reads as a decimal point or separator, and a cell whose text gave no
    # number may hide one the recogniser mangled: neither is a sure reading, whatever the scores
    sure = q >= settings.sure_chars and m.value is not None and not _FRAGILE.search(m.raw)
    if sure:
        cap = settings.sure_and_sums if holds else settings.sure_unconfirmed
    else:
        cap = settings.unsure_and_sums if holds else settings.unsure
    return min(p, cap)


_FRAGILE = re.compile(r"[.,，．。、·]")


def score(matches: list[Match], findings: list[Finding], doc: Document | None = None) -> list[dict[str, object]]:
    """Turn matches into response indicators with calibrated confidence (as the contract's JSON data)."""
    cat = catalogue()
    settings = SETTINGS
    w = settings.weights()
    known = _known_probabilities(settings)
    quality = _cell_quality(doc)
    out = []
    holds, broken = _rule_status(findings, matches)
    disagree = {i for f in findings if f.rule == "narrative" for i in f.ids}
    for m in matches:
        mid = m.id
        k = _evidence_key(m, holds, broken, disagree)
        conf = known.get(k) if quality is None else None
        if conf is None:
            x = _evidence(m, holds, broken, disagree)
            p = _probability(x, settings, w)
            if quality is None:
                conf = round(p, 4)
                if len(known) < _MAX_KNOWN:
                    known[k] = conf
            else:
                conf = round(ocr_cap(p, m, x, quality), 4)
        d = cat.get(mid)
        s = m.source
        # plain data in the order of `result.Indicator`'s and `SourceRef`'s fields: a model object per
        # value cost ~1 ms a report; the pipeline's response is checked against the models in the tests
        # (the source's fields as `indicators._src` reads them, without its intermediate dict)
        out.append({
            "id": m.id,
            "value": m.value,
            "unit": d.unit if d else None,
            "confidence": conf,
            "label": m.label,
            "raw": m.raw,
            "source": {
                "kind": "text" if m.method == "narrative" else "table",
                "page": s.page, "table": s.table, "row": s.row, "col": s.col,
                "bbox": list(s.bbox) if s.bbox else None, "line": s.line, "text": m.sentence or m.raw,
            },
        })
    return out
