"""Table rows → canonical indicator ids, by fuzzy-matched labels read in their context.

Rows are read in document order by a small state machine. A header row
announces a zone (legacy statistics table, 表一 第二十条, 表三 收到和处理, 表四
复议/诉讼) and its columns; in each zone a row's label is matched (rapidfuzz)
against that zone's aliases from data/labels.toml and the catalogue, and its
value cells are taken from the right according to the zone's columns. Labels
that the catalogue lacks are reported, never forced onto a near id.
"""
from __future__ import annotations

import math
import re
import tomllib
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources

from rapidfuzz import fuzz, process

from . import fit
from .caching import MAX_CACHED_CHARS, remember, text_cache
from .catalogue import catalogue, order
from .forms import FORMS
from .model import Cell, Source, _draft, _new, _retype
from .normalize import label_key
from .result import SourceRef
from .result import Warning as WarningModel
from .tables import CellText, TableRow, facts, labels_of, row_facts, split_facts, values_start


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """Tuning knobs of label matching."""

    min_score: float = 84.0  # rapidfuzz ratio (0–100) below which a label is not that indicator
    tie_margin: float = 1.0  # candidates this close to the best are disambiguated by context
    short_label: int = 4  # labels this short must match exactly
    context_bonus: float = 10.0  # added when the candidate continues the group of the previous row


SETTINGS = MatchSettings()


@dataclass(frozen=True, slots=True)
class Match:
    """One indicator value found in the document, before confidence is assigned."""

    id: str
    value: int | float | None
    raw: str
    label: str
    label_score: float  # 0–1: how well the label (and column) matched
    parse_quality: float  # 0–1: how cleanly the value cell parsed
    source: Source
    zone: str
    loose: bool = False  # from a text line rather than a recognised table
    method: str = "table"
    sentence: str | None = None
    # evidence the confidence stage weighs (see FLAGS): how the label and the column were found
    flags: tuple[str, ...] = ()
    reader_quality: float | None = None  # Cell.quality of the value's cell: the reader's own certainty


# Why a value's reading is less than certain; the confidence model has one weight per flag.
FLAGS = (
    "fuzzy",  # the label matched an alias only approximately (not equal, not equal at its core)
    "rescued",  # the label matched only thanks to the row before it (the form's order)
    "tie",  # several ids matched the label about equally; context chose
    "header_unseen",  # the column's meaning was inferred, no header row named it
    "short_row",  # fewer value cells than the zone's columns: aligned from the right
    "label_below",  # the label was printed below its numbers (converter layouts)
    "zone_guessed",  # no header announced the table; the zone came from the row's own label
    "contested",  # another row claimed the same id with another value (the weaker was dropped)
    # provenance of the number itself (extractors/fit.py): how the cell was cut out of what was printed
    "cell_split",  # one of several numbers printed in one cell (a converter merged cells: "0 0")
    "digit_run",  # cut out of a run of digits where only one split satisfies the form's arithmetic
    "row_inferred",  # the row's label was not beside it: placed by the form's row order
    "form_unverified",  # ... and the placed table's column arithmetic does not confirm it
    "detached",  # the value (or the label) was printed on a line of its own next to the row
    "shifted",  # empty cells moved the numbers off their header columns; one number per column was taken
)


@dataclass(frozen=True, slots=True)
class Unmatched:
    label: str
    raw: tuple[str, ...]
    source: Source
    zone: str | None


# ---------------------------------------------------------------- alias data


@dataclass(frozen=True, slots=True)
class Alias:
    key: str
    target: str  # id (legacy) or id prefix / column suffix (revised tables)
    parent: str | None = None
    under: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ZoneRule:
    name: str
    header: tuple[str, ...]
    needs_all: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rules:
    zones: tuple[ZoneRule, ...]
    active_rows: tuple[Alias, ...]
    active_columns: tuple[Alias, ...]
    requests_rows: tuple[Alias, ...]
    requests_columns: tuple[Alias, ...]
    requests_groups: tuple[str, ...]
    review_order: tuple[str, ...]
    legacy: tuple[Alias, ...]


def _aliases(items: Iterable[dict], target_field: str) -> tuple[Alias, ...]:
    out = []
    for it in items:
        for lab in it["labels"]:
            out.append(
                Alias(
                    key=label_key(lab),
                    target=it[target_field],
                    parent=label_key(it["parent"]) if it.get("parent") else None,
                    under=tuple(it.get("under", ())),
                )
            )
    return tuple(out)


@lru_cache(maxsize=1)
def rules() -> Rules:
    """Load data/labels.toml and the catalogue's legacy labels into typed records."""
    raw = tomllib.loads(resources.files("extractors").joinpath("data/labels.toml").read_text(encoding="utf-8"))
    legacy = list(_aliases(raw.get("legacy_alias", []), "id"))
    for d in catalogue().values():
        if "legacy" in d.templates and "stats" in d.tables:
            for leaf in d.leaves:
                legacy.append(Alias(key=label_key(leaf), target=d.id))
    # most specific (longest) alias first, so equal scores favour the fuller label
    legacy.sort(key=lambda a: -len(a.key))
    return Rules(
        zones=tuple(
            ZoneRule(z["name"], tuple(label_key(h) for h in z["header"]), tuple(label_key(h) for h in z.get("needs_all", ())))
            for z in raw["zone"]
        ),
        active_rows=_aliases(raw["active_row"], "prefix"),
        active_columns=_aliases(raw["active_column"], "suffix"),
        requests_rows=_aliases(raw["requests_row"], "prefix"),
        requests_columns=_aliases(raw["requests_column"], "suffix"),
        requests_groups=tuple(label_key(x) for g in raw["requests_group"] for x in g["labels"]),
        review_order=tuple(raw["review_litigation"]["order"]),
        legacy=tuple(legacy),
    )


_FILLER = re.compile(r"(?:方式|件数|次数|数量|总数|个数|人数|的|情况|数)(?=$)|的")


@text_cache(maxsize=65536)
def _core(key: str) -> str:
    """A label without the words provinces vary freely (…件数/…次数/…数量, 方式, 的)."""
    prev = None
    while prev != key:
        prev = key
        key = _FILLER.sub("", key)
    return key.replace("方式", "")


@text_cache(maxsize=262144)
def _score(a: str, b: str) -> float:
    """Similarity of two label keys, 0–100; containment of a long alias counts as a near match."""
    return _score_cored(a, _core(a), b)


def _ratio_bound(x: str, y: str) -> float:
    """The most rapidfuzz's ratio (Indel similarity) of two strings of these lengths can be."""
    return 200.0 * min(len(x), len(y)) / (len(x) + len(y)) if x or y else 100.0


def _score_cored(a: str, ca: str, b: str, floor: float = 0.0) -> float:
    """`_score` with `a`'s core given: a key too long for the memos is cored once, not once per alias.

    With `floor`, a ratio that the two lengths alone keep below it is not computed (reported as 0):
    for the caller that only tells scores from `floor` up, rapidfuzz need not scan a huge key per alias.
    """
    if not a or not b:
        return 0.0
    if a == b:
        return 100.0
    cb = _core(b)
    if ca and ca == cb and len(ca) >= 3:
        return 97.0
    if min(len(a), len(b)) <= SETTINGS.short_label:
        return 0.0
    s = max(fuzz.ratio(a, b) if _ratio_bound(a, b) >= floor else 0.0,
            fuzz.ratio(ca, cb) - 3 if min(len(ca), len(cb)) > SETTINGS.short_label and _ratio_bound(ca, cb) - 3 >= floor else 0)
    # containment: a label that adds a qualifier of a few characters ("本年", "通过") to an alias
    # is that alias; a longer qualifier ("全文电子化的…") names another, narrower indicator
    if len(b) >= 6 and b in a:
        s = max(s, 92.0 - 2.0 * (len(a) - len(b)))
    elif len(a) >= 6 and a in b:
        s = max(s, 90.0 - 2.0 * (len(b) - len(a)))
    return float(s)


_EXACT: dict[int, dict[str, tuple[Alias, ...]]] = {}


def _exact_index(aliases: tuple[Alias, ...]) -> dict[str, tuple[Alias, ...]]:
    """Aliases by key, per alias set (the sets are built once by `rules()`, so identity is stable)."""
    idx = _EXACT.get(id(aliases))
    if idx is None:
        grouped: dict[str, list[Alias]] = {}
        for a in aliases:
            grouped.setdefault(a.key, []).append(a)
        idx = _EXACT[id(aliases)] = {k: tuple(v) for k, v in grouped.items()}
    return idx


def _best(key: str, aliases: tuple[Alias, ...], context: str = "", last_id: str | None = None) -> tuple[Alias | None, float, int]:
    """Best alias for `key` (ties broken by parent/context and by nearness to the last matched id).

    Memoised per (alias set, key, context, last id), exact keys too: a report asks the same few
    hundred labels of the same sets row after row (the legacy table's ~45 rows each ask once or twice).
    """
    if len(key) + len(context) > MAX_CACHED_CHARS:  # a huge label or context is scored, never held by the memo
        return _best_exact(key, aliases, context, last_id) or _best_fuzzy(key, aliases, context, last_id)
    memo = (id(aliases), key, context, last_id)
    hit = _FUZZY_MEMO.get(memo)
    if hit is None or hit[0] is not aliases:  # the set is held, so its id cannot name another set
        found = _best_exact(key, aliases, context, last_id) or _best_fuzzy(key, aliases, context, last_id)
        hit = remember(_FUZZY_MEMO, memo, (aliases, found), _FUZZY_MEMO_SIZE)
    return hit[1]


_FUZZY_MEMO: dict[tuple[int, str, str, str | None], tuple[tuple[Alias, ...], tuple[Alias | None, float, int]]] = {}
_FUZZY_MEMO_SIZE = 50_000


def _best_exact(key: str, aliases: tuple[Alias, ...], context: str, last_id: str | None) -> tuple[Alias, float, int] | None:
    """`_best`'s answer when `key` is an alias's own key (under a parent the context names), else None."""
    exact = _exact_index(aliases).get(key)
    if exact:
        # an exact key scores 100, and nothing else comes within the tie margin of it
        hits = [a for a in exact if a.parent is None or a.parent in context]
        if hits:
            targets = {a.target for a in hits}
            if len(targets) > 1:
                hits.sort(key=lambda a: (-(a.parent is not None), -_prefix_len(a.target, last_id)))
            return hits[0], 100.0, len(targets)
    return None


@dataclass(frozen=True, slots=True)
class _ByLength:
    """Texts sorted by length (then position): the texts of the lengths in a range are one slice."""

    lengths: list[int]
    texts: list[str]
    positions: list[int]  # each text's position in the list it was made from


def _by_length(texts: list[str]) -> _ByLength:
    order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
    return _ByLength([len(texts[i]) for i in order], [texts[i] for i in order], order)


def _scan_lengths(key: str, by_length: _ByLength, cut: float, picked: set[int]) -> None:
    """Add to `picked` the positions of the texts whose rapidfuzz ratio with `key` is ≥ `cut`.

    Only the texts whose length lets the ratio reach `cut` are scanned (`_ratio_bound`, with a hair of
    slack for rounding, so the scanned texts are a superset of the hits and each hit is scored as a scan
    of all would): one C scan of a slice. A scan costs ~0.7 µs and ~0.05 µs a text, the whole legacy
    set ~13 µs; near `_ZONE_FLOOR` a few of its aliases are scanned, at `_candidates`' floor about half.
    """
    n = len(key)
    c = cut - 1e-6
    lengths = by_length.lengths
    if c > 0.0:
        # 200·min(n, L)/(n + L) ≥ c: L from n·c/(200 − c) (shorter texts) to n·(200 − c)/c (longer ones)
        a = bisect_left(lengths, math.ceil(n * c / (200.0 - c) - 1e-6))
        b = bisect_right(lengths, math.floor(n * (200.0 - c) / c + 1e-6))
    else:  # every text can reach the cut
        a, b = 0, len(lengths)
    if a < b:
        pos = by_length.positions
        picked.update([pos[a + i] for _, _, i in process.extract(key, by_length.texts[a:b], scorer=fuzz.ratio, processor=None,
                                                                  score_cutoff=cut, limit=None)])


@dataclass(frozen=True, slots=True)
class _AliasIndex:
    """One alias set's keys laid out for rapidfuzz's C scans (`_candidates`)."""

    aliases: tuple[Alias, ...]  # held so the id() it is filed under cannot be reused while it lives
    keys: list[str]
    cores: list[str]
    by_core: dict[str, list[int]]  # core (≥ 3 characters) -> positions
    by_length: dict[int, list[int]]  # key length -> positions
    keys_by_length: _ByLength  # the keys and the cores by length, for rapidfuzz's scans (`_scan_lengths`)
    cores_by_length: _ByLength


_ALIAS_INDEX: dict[int, _AliasIndex] = {}
_MIN_INDEXED = 32  # smaller sets (a scan's picked subset) are scanned as they are


def _alias_index(aliases: tuple[Alias, ...]) -> _AliasIndex:
    idx = _ALIAS_INDEX.get(id(aliases))
    if idx is None or idx.aliases is not aliases:
        keys = [a.key for a in aliases]
        cores = [_core(k) for k in keys]
        by_core: dict[str, list[int]] = {}
        by_length: dict[int, list[int]] = {}
        for i, (k, c) in enumerate(zip(keys, cores, strict=True)):
            if len(c) >= 3:
                by_core.setdefault(c, []).append(i)
            by_length.setdefault(len(k), []).append(i)
        if len(_ALIAS_INDEX) >= 64:  # the rule sets are a handful; anything else is not kept for long
            _ALIAS_INDEX.clear()
        idx = _ALIAS_INDEX[id(aliases)] = _AliasIndex(aliases, keys, cores, by_core, by_length, _by_length(keys), _by_length(cores))
    return idx


def _candidates(key: str, idx: _AliasIndex, floor: float) -> list[int]:
    """Positions of every alias whose `_score` against `key` can reach `floor` (and some that cannot).

    `_score` is an exact or core-equal key, a ratio of the keys or of their cores (less 3), or a
    containment score: the ratios come from rapidfuzz's C scan with the same scorer and a cut-off just
    under `floor`, containment from the aliases whose length allows its score to reach `floor`. A new
    label thus costs a few C scans instead of one Python-level ratio per alias (hundreds), which is
    what a fresh worker's first report, full of labels no memo has seen, paid.
    """
    short = SETTINGS.short_label
    picked = {i for i in idx.by_length.get(len(key), ()) if idx.keys[i] == key}  # exact (a parent not in context)
    if len(_core(key)) >= 3:
        picked.update(idx.by_core.get(_core(key), ()))
    if len(key) > short:
        cut = floor - 0.5  # a superset: every candidate is scored exactly below
        _scan_lengths(key, idx.keys_by_length, cut, picked)
        ck = _core(key)
        if len(ck) > short:
            _scan_lengths(ck, idx.cores_by_length, cut + 3.0, picked)
        n = len(key)
        inside = (92.0 - floor) / 2.0  # containment: 92 − 2·(extra characters) must reach floor
        around = (90.0 - floor) / 2.0
        kl = idx.keys_by_length  # the keys of each range of lengths are one slice of it
        pos = kl.positions
        a, b = bisect_left(kl.lengths, max(6, n - int(inside))), bisect_right(kl.lengths, n)
        picked.update([pos[a + j] for j, k in enumerate(kl.texts[a:b]) if k in key])  # aliases contained in the key
        if n >= 6:
            a, b = bisect_left(kl.lengths, n), bisect_right(kl.lengths, n + int(around))
            picked.update([pos[a + j] for j, k in enumerate(kl.texts[a:b]) if key in k])  # aliases containing the key
    return sorted(picked)


def _best_fuzzy(
    key: str, aliases: tuple[Alias, ...], context: str, last_id: str | None, prefilter: bool = True
) -> tuple[Alias | None, float, int]:
    """The scan over every alias of a set, for keys that match none exactly (memoised by `_best`).

    `prefilter` False: `aliases` is a caller's own short pick, scanned as it is (not indexed)."""
    scored = []
    huge = len(key) > MAX_CACHED_CHARS  # neither memo holds it: core it once for the whole scan
    core = _core(key) if huge else ""
    floor = SETTINGS.min_score - SETTINGS.context_bonus  # below it a score is never used here
    if prefilter and not huge and len(aliases) >= _MIN_INDEXED:
        # only the aliases that can score ≥ floor, in the set's order: the same answer as the full scan
        aliases = tuple(aliases[i] for i in _candidates(key, _alias_index(aliases), floor))
    for a in aliases:
        s = _score_cored(key, core, a.key, floor) if huge else _score(key, a.key)
        # an indicator of the same group as the row before (a sibling or a child of its total)
        # may match a freer rewording: the form's order is evidence too
        if (
            last_id
            and SETTINGS.min_score - SETTINGS.context_bonus <= s < SETTINGS.min_score
            and _prefix_len(a.target, last_id) >= a.target.count(".")
        ):
            s = SETTINGS.min_score  # rescued, but never on a par with a real match
        if s >= SETTINGS.min_score:
            scored.append((a, min(s, 100.0)))
    if not scored:
        return None, 0.0, 0
    # an alias that requires a parent only counts under that parent
    scored = [(a, s) for a, s in scored if a.parent is None or a.parent in context]
    if not scored:
        return None, 0.0, 0
    top = max(s for _, s in scored)
    tied = [(a, s) for a, s in scored if s >= top - SETTINGS.tie_margin]
    targets = {a.target for a, _ in tied}
    if len(targets) > 1:
        tied.sort(key=lambda x: (-(x[0].parent is not None), -_prefix_len(x[0].target, last_id), -x[1]))
    return tied[0][0], tied[0][1], len(targets)


def _best_strong(key: str, aliases: tuple[Alias, ...], context: str, floor: float) -> tuple[Alias | None, float, int]:
    """`_best` for a caller that only uses a score ≥ `floor` (> 92 + tie margin).

    Same answer as `_best` whenever that reaches `floor`: such a score is an exact key, an equal core
    or a rapidfuzz ratio of the keys (or of their cores, less 3) at least `floor` less the tie margin —
    containment tops out at 92 and a rescue at `min_score` — so rapidfuzz's C scan over the alias
    keys picks every alias that could take part, and only those are scored exactly. Without it a
    document of thousands of distinct row labels ran the Python scan over every alias per row.
    """
    cut = floor - SETTINGS.tie_margin
    if cut <= 92.0 or cut <= SETTINGS.min_score:
        return _best(key, aliases, context)
    exact = _exact_index(aliases).get(key)
    if exact:
        return _best(key, aliases, context)
    idx = _alias_index(aliases)
    picked: set[int] = set()
    _scan_lengths(key, idx.keys_by_length, cut, picked)
    _scan_lengths(_core(key), idx.cores_by_length, min(100.0, cut + 3.0), picked)
    if not picked:
        return None, 0.0, 0
    return _best_fuzzy(key, tuple(aliases[i] for i in sorted(picked)), context, None, prefilter=False)


def _prefix_len(a: str, b: str | None) -> int:
    if not b:
        return 0
    n = 0
    for x, y in zip(a.split("."), b.split(".")):
        if x != y:
            break
        n += 1
    return n


def _label_flags(key: str, a: Alias, n: int = 1) -> tuple[str, ...]:
    """How a label matched its alias: exactly (no flag), approximately, or only by context."""
    if key and key == a.key:  # _score's first answer, without the memo's look-up
        return ("tie",) if n > 1 else ()
    raw = _score(key, a.key)
    out = []
    if raw < SETTINGS.min_score:
        out.append("rescued")
    elif raw < 97.0:
        out.append("fuzzy")
    if n > 1:
        out.append("tie")
    return tuple(out)


_COLUMN_LETTERS = frozenset("甲乙丙丁戊己")


def _column_letters(fs: list[CellText]) -> bool:
    """Whether a row (its cells' facts) is the 甲 | 乙 | 丙 | 1 | 2 row statistical forms print under their header."""
    first = True
    for f in fs:  # stops at the first cell that rules the row out (most rows: the first)
        t = f.squashed
        if not t:
            continue
        if first:
            if t not in _COLUMN_LETTERS:
                return False
            first = False
        elif not (t in _COLUMN_LETTERS or t.isdigit() and len(t) == 1):
            return False
    return not first


# ---------------------------------------------------------------- the state machine


@dataclass
class _State:
    zone: str | None = None
    active_columns: list[str] = field(default_factory=list)
    active_positions: list[int] = field(default_factory=list)  # grid column of each header cell
    requests_columns: list[str] = field(default_factory=list)
    requests_group: str = ""
    legacy_values: int = 1  # value columns of the legacy table
    legacy_cumulative: set[int] = field(default_factory=set)  # positions (from the left of the values) that are 累计
    legacy_roles: list[str] = field(default_factory=list)  # header roles of the columns right of the label
    legacy_value_at: tuple[int, ...] = ()  # positions in `legacy_roles` of the value and cumulative columns
    header_seen: bool = False  # a header row named the current zone's columns
    review_buffer: list[tuple[Cell, str]] = field(default_factory=list)
    pending_label: str | None = None  # a label-only row waiting for its values on the next row
    orphan: list[Cell] | None = None  # values whose label may follow on the next row
    last_id: str | None = None
    # 表三 rows as read, in document order, for the form-order fit (fit.place_rows)
    readings: list[fit.RowReading] = field(default_factory=list)
    orphan_at: int | None = None  # index in `readings` of the pending orphan
    detached: Cell | None = None  # legacy: a lone number printed just above a row with an empty value cell
    legacy_label: list[Cell] | None = None  # legacy: a label-only row waiting for its value row
    active_last: str | None = None  # 表二: the row prefix the last row under the current header matched


@text_cache(maxsize=16384)
def _zone_of_header(key: str) -> str | None:
    """The zone a header row's key names (a pure function of the key and the packaged rules)."""
    for z in rules().zones:
        if any(h in key for h in z.header) and all(h in key for h in z.needs_all):
            return z.name
    return None


def _columns_from(cells: Iterable[Cell], aliases: tuple[Alias, ...]) -> list[str]:
    """The column id of each header cell; "" holds the place of a header that matched nothing,
    so the columns after it keep their positions (its values are skipped, never shifted)."""
    out = []
    for c in cells:
        k = facts(c.text).key
        if not k:
            continue
        a, _, _ = _best(k, aliases)
        out.append(a.target if a is not None else "")
    while out and not out[-1]:
        out.pop()
    return out if any(out) else []


def _requests_columns(header_keys: list[str]) -> list[str]:
    """The 表三 value columns: the official seven, plus 小计 where the header has one."""
    cols = ["natural_person", "commercial", "research", "nonprofit", "legal_service", "other_org"]
    if any("小计" in k for k in header_keys):
        cols.append("subtotal")
    cols.append("total")
    return cols


def _emit(matches: dict[str, Match], m: Match | None, dup: list[Unmatched]) -> None:
    """Keep one value per id: a filled one over a blank, the better-matched label over a weaker one.

    A clearly weaker label that lost is reported as an unmatched row (it was never that id); two
    equally good rows with different values are reported as a duplicate, and the kept one is
    flagged as contested. A cell the fit could not decide (`fit.UnreadCell`) gives no value.
    """
    if m is None:
        return
    if m.id not in matches:
        matches[m.id] = m
        return
    old = matches[m.id]
    if old.value is None and m.value is not None:
        matches[m.id] = m
        return
    if m.value is None or old.value == m.value:
        return
    keep, lose = (m, old) if m.label_score > old.label_score + 0.02 else (old, m)
    if lose.label_score < keep.label_score - 0.02:
        matches[m.id] = keep
        dup.append(Unmatched(label=lose.label, raw=(lose.raw,), source=lose.source, zone=lose.zone))
    else:
        matches[m.id] = replace(keep, flags=keep.flags + ("contested",))
        dup.append(Unmatched(label=lose.label, raw=(lose.raw,), source=lose.source, zone=f"duplicate:{m.id}"))


# A plain twin of Match with the same slots: its fields are set by plain slot stores, then the object
# is retyped to Match (as `model.make_cell` builds cells); a frozen dataclass's __init__ instead sets
# each field through `object.__setattr__` (~0.15 µs a field, ~2 µs a Match).
_MatchDraft = _draft(Match, ("id", "value", "raw", "label", "label_score", "parse_quality", "source", "zone", "loose",
                             "method", "sentence", "flags", "reader_quality"))


def _value_match(iid: str, cell: Cell, label: str, score: float, zone: str, loose: bool, flags: tuple[str, ...] = (),
                 f: CellText | None = None) -> Match | None:
    """The `Match` of a table value (method "table", no sentence), or None for a cell the fit could not read.

    `f`: the cell's facts, when the caller has them (else looked up). The frozen object is built by
    slot stores in this one frame, for about a third of the dataclass's constructor: every value of
    every row makes one (~110 a report). `tests/test_indicators.py` holds it equal to `Match(...)`.
    """
    if cell.__class__ is not Cell:  # most cells are the reader's own; the fit's subclasses leave provenance
        if isinstance(cell, fit.UnreadCell):
            return None
        if isinstance(cell, fit.SplitCell):
            flags += ("cell_split",)
        elif isinstance(cell, fit.RunCell):
            flags += ("digit_run",)
    text = cell.text
    pv = (f or facts(text)).parsed
    m = _new(_MatchDraft)
    m.id = iid
    m.value = pv.value
    m.raw = text.strip()
    m.label = label
    m.label_score = score
    m.parse_quality = pv.quality
    m.source = cell.source
    m.zone = zone
    m.loose = loose
    m.method = "table"
    m.sentence = None
    m.flags = flags
    m.reader_quality = cell.quality
    _retype(m, "__class__", Match)
    return m  # type: ignore[return-value]


def _label_text(cells: list[Cell]) -> str:
    if len(cells) == 1:  # most labels are one cell
        return " ".join(cells[0].text.split())
    return " ".join([" ".join(c.text.split()) for c in cells])


def map_rows(rows: list[TableRow]) -> tuple[list[Match], list[Unmatched]]:
    """Map every table row to indicator ids; returns (matches in catalogue order, unmatched rows)."""
    st = _State()
    found: dict[str, Match] = {}
    unmatched: list[Unmatched] = []
    known = catalogue()
    for row in rows:
        cells = row.cells
        if not cells:
            continue
        fs = row_facts(cells)  # one look-up per cell, handed to every test and handler below
        if _column_letters(fs):
            continue
        # one pass over the facts: the numbers (`row.numeric_count()`), and whether a cell prints several
        # (`fit.has_multi(row.cells)`, asked of a table's rows only)
        numeric = 0
        multi = False
        loose = row.loose
        for f in fs:
            if f.number:
                numeric += 1
            if not loose and f.multi:
                multi = True
        if multi:
            row = replace(row, cells=tuple(fit.expand_cells(cells)))
            cells = row.cells
            fs = row_facts(cells)
            numeric = 0
            for f in fs:
                if f.number:
                    numeric += 1
        n = len(fs)
        if st.zone == "legacy" and n == 1 and not loose and fs[0].parsed.value is not None and fs[0].value_like:
            st.detached = cells[0]  # _lone_number(row)
            continue
        lead = values_start(fs)
        trailing = n - lead  # len(row.trailing_values())
        header_zone = None
        # a header row has no number, or one stray number and no values at its end (e.g. 计1条 notes
        # are removed, but 第二十条 stays): only then is its joined key (`row.joined_key()`) needed
        if numeric == 0 or (numeric == 1 and not trailing and not row.loose):
            key = "".join([f.note_key for f in fs if not f.blank])
            header_zone = _zone_of_header(key)
            if numeric and header_zone not in ("active", "requests"):
                header_zone = None
            if header_zone:
                _on_header(st, header_zone, row, key)
                continue
        zone = st.zone
        # a row whose label clearly belongs to another zone switches zones (tables without headers)
        # (the guess is only needed where the row does not fit the zone it is in)
        row_labels = labels_of(cells[:lead], fs)  # row.split(trailing)'s labels: both zone tests read them
        guess = _guess_zone(row_labels) if zone is None or not _fits_zone(row, row_labels, zone, st) else None
        if guess and guess != zone:
            zone = st.zone = guess
            st.header_seen = False
            if zone == "requests" and not st.requests_columns:
                st.requests_columns = _requests_columns([])
        if zone == "requests":
            _on_requests_row(st, row, fs, found, unmatched)
        elif zone == "active":
            _on_active_row(st, row, found, unmatched)
        elif zone == "review_litigation":
            _on_review_row(st, row, found)
        elif zone == "legacy":
            _on_legacy_row(st, row, fs, found, unmatched, (lead, row_labels))
        else:
            if numeric:
                unmatched.append(Unmatched(_label_text(row_labels), row.texts, cells[0].source, None))
    _place_orphans(st, found, unmatched)
    pos = _order()
    # catalogue order, then id: `found` is keyed by id, so the (position, id) pairs are distinct and
    # sorting them with the match beside (never compared) needs no key function call per match
    ms = [m for _, i, m in sorted([(pos.get(i, 10**6), i, m) for i, m in found.items()]) if i in known or i.startswith("ext.")]
    return ms, unmatched


def _place_orphans(st: _State, found: dict[str, Match], unmatched: list[Unmatched]) -> None:
    """表三 rows whose label was printed elsewhere, placed by the form's row order (fit.place_rows).

    Only unlabelled rows in a gap that holds exactly as many rows as the form has there are
    placed; the values get `row_inferred`, and `form_unverified` unless the whole table then
    satisfies the form's column arithmetic.
    """
    todo = [r for r in st.readings if r.target is None]
    if not todo:
        return
    fitted = fit.place_rows(st.readings)
    form_name, placed = fitted if fitted is not None else ("", {})
    cols = st.requests_columns or _requests_columns([])
    k = len(cols)
    if not placed:
        return
    new: list[Match] = []
    for i, prefix in placed.items():
        cells = st.readings[i].cells
        if len(cells) != k:
            continue
        for cell, col in zip(cells, cols):
            iid = f"{prefix}.{col}" if col != "subtotal" else f"ext.{prefix}.subtotal"
            if iid in found and found[iid].value is not None:
                continue
            flags = ("row_inferred",) + (() if st.header_seen else ("header_unseen",))
            m = _value_match(iid, cell, "", 0.9, "requests", False, flags)
            if m is not None:
                new.append(m)
    values = {m.id: m.value for m in found.values()} | {m.id: m.value for m in new}
    verified = fit.verify_columns(values, form_name)
    for m in new:
        found[m.id] = m if verified else replace(m, flags=m.flags + ("form_unverified",))


def _on_header(st: _State, zone: str, row: TableRow, key: str) -> None:
    if zone != st.zone:
        st.review_buffer = []
    st.zone = zone
    st.header_seen = True
    st.active_last = None
    if zone == "active":
        cells = [c for c in row.cells if facts(c.text).key]
        if cells and "信息内容" in facts(cells[0].text).key:
            st.active_columns = _columns_from(cells[1:], rules().active_columns)
            st.active_positions = [c.col for c in cells[1:]][: len(st.active_columns)]
    elif zone == "requests":
        prev = st.requests_columns
        keys = [facts(c.text).key for c in row.cells]
        cols = _requests_columns(keys)
        st.requests_columns = cols if (not prev or len(cols) >= len(prev)) else prev
        st.requests_group = ""
    elif zone == "legacy":
        cells = [c for c in row.cells if facts(c.text).squashed]
        keys = [facts(c.text).key for c in cells]
        roles = _legacy_roles(keys)
        if roles:
            st.legacy_roles = roles
            vals = [i for i, r in enumerate(roles) if r in {"value", "cumulative"}]
            st.legacy_values = len(vals)
            st.legacy_cumulative = {j for j, i in enumerate(vals) if roles[i] == "cumulative"}
            st.legacy_value_at = tuple(vals)


# Header words of the legacy table's non-value columns, in the order they are tried.
_LEGACY_COLUMN_ROLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("serial", ("序号", "行次")),
    ("unit", ("单位",)),
    ("code", ("代码", "编码", "编号")),
    ("remark", ("备注", "说明")),
)
_LEGACY_LABEL_HEADER = ("指标", "项目", "名称", "内容")


def _legacy_roles(keys: list[str]) -> list[str]:
    """Roles of the header's columns right of the label column: unit, code, remark, value, cumulative.

    The first column that is none of the named kinds is the year's value; a later one whose
    header says 累计 is the running total (reported as an ext. id); other later ones are ignored.
    """
    start = next((i for i, k in enumerate(keys) if any(w in k for w in _LEGACY_LABEL_HEADER)), None)
    if start is None:
        start = 1 if keys and any(w in keys[0] for w in ("序号",)) else 0
    roles: list[str] = []
    have_value = False
    for k in keys[start + 1:]:
        role = next((r for r, words in _LEGACY_COLUMN_ROLES if any(w in k for w in words)), None)
        if role is None:
            if not have_value:
                role, have_value = "value", True
            else:
                role = "cumulative" if "累计" in k else "other"
        roles.append(role)
    return roles if have_value else []


def _guess_zone(labels: list[Cell]) -> str | None:
    """The zone a row's label cells name near-exactly (`_ZONE_FLOOR`), or None."""
    if not labels:
        return None
    key = facts(labels[-1].text).key
    if len(key) < 4:
        return None
    ctx = "".join(facts(c.text).key for c in labels)
    if len(key) + len(ctx) > MAX_CACHED_CHARS:  # a huge label is judged, never held by the memo
        return _zone_named(key, ctx)
    memo = (key, ctx)
    hit = _ZONE_MEMO.get(memo, _MISSING)
    if hit is _MISSING:
        hit = remember(_ZONE_MEMO, memo, _zone_named(key, ctx), _ZONE_MEMO_SIZE)
    return hit  # type: ignore[return-value]


_ZONE_MEMO: dict[tuple[str, str], str | None] = {}
_ZONE_MEMO_SIZE = 16_384  # distinct (label, context) pairs: reports of one form repeat the same few hundred
_MISSING = object()


def _zone_named(key: str, ctx: str) -> str | None:
    """The zone whose row aliases match `key` (in context `ctx`) best at ≥ `_ZONE_FLOOR` (a pure function of both)."""
    R = rules()
    best = (None, 0.0)
    for zone, aliases in (("requests", R.requests_rows), ("active", R.active_rows), ("legacy", R.legacy)):
        a, s, _ = _best_strong(key, aliases, ctx, _ZONE_FLOOR)
        if a is not None and a.parent is None and s > best[1]:
            best = (zone, s)
    return best[0] if best[1] >= _ZONE_FLOOR else None


_ZONE_FLOOR = 95.0  # a row moves the reader to another zone only on a near-exact label


def _fits_zone(row: TableRow, labels: list[Cell], zone: str, st: _State) -> bool:
    """Whether the row's label cells (`labels`: the row split at its trailing values) fit `zone`."""
    if zone == "review_litigation":
        return not labels
    if not labels:
        return True
    key = facts(labels[-1].text).key
    sets = _ZONE_SETS.get(zone) or _zone_sets(zone)  # the memo read here: this runs for every row
    if key in sets[1]:  # a key that fits whatever the context: no need to build it
        return True
    ctx = "".join([st.requests_group, *[facts(c.text).key for c in labels], *[facts(t).key for t in row.inherited]])
    return _best(key, sets[0], context=ctx)[0] is not None


_ZONE_SETS: dict[str, tuple[tuple[Alias, ...], frozenset[str]]] = {}


def _zone_sets(zone: str) -> tuple[tuple[Alias, ...], frozenset[str]]:
    """A zone's row aliases, and the keys that fit it whatever the context: those some alias without
    a parent has (exact hits `_best` never filters out) and, in 表三, its group rows (`_best` has no
    side effect, so a group row fits whatever it scores)."""
    R = rules()
    aliases = {"requests": R.requests_rows, "active": R.active_rows, "legacy": R.legacy}.get(zone, ())
    fits = set(_plain_keys(aliases))
    if zone == "requests":
        fits.update(R.requests_groups)
    _ZONE_SETS[zone] = got = (aliases, frozenset(fits))
    return got


_PLAIN: dict[int, frozenset[str]] = {}


def _plain_keys(aliases: tuple[Alias, ...]) -> frozenset[str]:
    """The keys of an alias set that some alias without a parent has (exact hits `_best` never filters out)."""
    keys = _PLAIN.get(id(aliases))
    if keys is None:
        keys = _PLAIN[id(aliases)] = frozenset(k for k, v in _exact_index(aliases).items() if any(a.parent is None for a in v))
    return keys


def _on_requests_row(st: _State, row: TableRow, fs: list[CellText], found: dict[str, Match], unmatched: list[Unmatched]) -> None:
    """One row of 表三; `fs` holds the facts of its cells (`map_rows` read them once)."""
    R = rules()
    if not any([f.number for f in fs]):  # row.numeric_count() == 0
        keys = [f.key for f in fs]
        if sum(1 for k_ in keys if _best(k_, R.requests_columns)[0] is not None) >= 2:
            # a further header row of 表三 (the organisation types, perhaps a 小计 column)
            if "小计" in keys:
                st.requests_columns = _requests_columns(keys)
            return
    cols = st.requests_columns or _requests_columns([])
    cells = row.cells
    lead = values_start(fs)
    trailing = list(cells[lead:])  # row.trailing_values()
    tfs = fs[lead:]
    filled = [c for c, f in zip(trailing, tfs) if f.squashed]
    if len(filled) == 1 and fit.is_digit_run(filled[0], len(cols)) and not row.loose:
        # the row's numbers run together (crawler text): cut only where the arithmetic allows one cut
        run = filled[0]
        row = replace(row, cells=tuple(c for c in row.cells if c is run or not any(c is t for t in trailing)))
        cut = fit.split_requests_run(fit.leading_run(run), "subtotal" in cols)
        if cut is None and "subtotal" not in cols:
            cut = fit.split_requests_run(fit.leading_run(run), True)
            if cut is not None:
                st.requests_columns = cols = _requests_columns(["小计"])
        if cut is None:
            labels, _, _ = row.split(1)
            unmatched.append(Unmatched(_label_text(labels), row.texts, run.source, "requests"))
            st.readings.append(fit.RowReading((), fit.HOLE))  # a row is there, unread: no gap around it fits
            return
        row = replace(row, cells=row.cells[:-1] + tuple(fit.run_cells(run, cut)))
        cells = row.cells
        fs = row_facts(cells)
        trailing = row.trailing_values()
        tfs = fs[len(fs) - len(trailing):]
    if "subtotal" not in cols and len(trailing) > len(cols) and _has_subtotal(trailing[-len(cols) - 1:]):
        st.requests_columns = cols = _requests_columns(["小计"])
    k = len(cols)
    has_values = any([f.parsed.value is not None for f in tfs])
    if not has_values and len(trailing) < k:
        # a row without values: a group (（三）不予公开, the 2021+ （六）其他处理), or a label
        # wrapped onto its own line by a converter, to be joined with its neighbour
        segs = [x for c in row.cells for x in _segments(c.text)]
        groups = [label_key(x) for x in segs if label_key(x) in R.requests_groups]
        if groups:
            st.requests_group = groups[-1]
            rest = [x for x in segs if label_key(x) not in R.requests_groups]
            if not rest:
                st.pending_label = None
                return
            segs = rest
        text = " ".join(segs)
        hit = _requests_target(st, text, "")
        if hit is not None and not row.loose:
            # a label on a line of its own: whether it names the numbers above it or below it is
            # for the form-order fit to decide (fit.place_rows), never a guess here
            st.readings.append(fit.RowReading((), hit[0].target, text, label=True))
            st.orphan, st.orphan_at = None, None
            st.pending_label = text
            return
        if st.orphan is not None and hit is not None:
            # a line of running text holding the label below its numbers (PDF text layers)
            orphan, st.orphan = st.orphan, None
            _requests_emit(st, orphan, text, found, unmatched, cols, penalty=0.8, loose=row.loose)
            return
        st.pending_label = text
        return
    labels, values, vfs = split_facts(cells, fs, k)  # row.split(k)
    text = " ".join(" ".join(c.text.split()) for c in labels)
    for t in row.inherited:
        for x in _segments(t):
            if label_key(x) in R.requests_groups:
                st.requests_group = label_key(x)
    if not text:
        st.orphan = values
        numbers = sum(1 for f in vfs if f.parsed.value is not None)
        if len(values) == k:
            st.orphan_at = len(st.readings)
            st.readings.append(fit.RowReading(tuple(values), None))
        elif numbers >= 3:
            st.readings.append(fit.RowReading((), fit.HOLE))  # a row we cannot read fills a place
        # fewer numbers and no label: a page number or a stray note caught in the table
        st.pending_label = None
        return
    st.orphan = None
    st.orphan_at = None
    pending, st.pending_label = st.pending_label, None
    if pending and _requests_target(st, text, "") is None and _requests_target(st, pending + text, "") is not None:
        text = pending + text
    _requests_emit(st, values, text, found, unmatched, cols, penalty=1.0, source=row.cells[0].source, raw=row.texts, loose=row.loose,
                   vfs=vfs)


_ENUM_GAP = re.compile(r"(?<=[（(])\s+|\s+(?=[)）])|(?<=[一二三四五六七八九十])\s+(?=[、)）])|(?<=\d)\s+(?=[.．、](?!\d))")
_SEGMENT = re.compile(r"\s+(?=(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[)）]|\d+[.．、](?!\d)))")


@text_cache(maxsize=16384)
def _segments(text: str) -> tuple[str, ...]:
    """A label cell split where a new enumerated item starts ("三、本年度办理结果 （一）予以公开").

    Memoised (a tuple, so no caller can change the shared answer): a 表三 row's label is split
    up to five times on its way through `_requests_emit`.
    """
    t = " ".join(text.split())
    t = _ENUM_GAP.sub("", t)  # "（ 一）", "三 、": spaces a justified layout put inside an enumeration
    return tuple([x for x in _SEGMENT.split(t) if x])


def _requests_target(st: _State, text: str, context: str) -> tuple[Alias, float] | None:
    """The 表三 row a label names (alias and score), read under the current group of rows."""
    return _requests_alias(text, context, st.requests_group)


@text_cache(maxsize=16384)
def _requests_alias(text: str, context: str, group: str) -> tuple[Alias, float] | None:
    """`_requests_target` as a pure function of the label and the context it is read in (memoised:
    a 表三 row's label is asked up to three times on its way through `_on_requests_row`)."""
    R = rules()
    segs = _segments(text)
    if not segs:
        return None
    for x in segs[:-1]:
        if label_key(x) in R.requests_groups:
            context += label_key(x)
    own = label_key(segs[-1])
    a, s, _ = _best(own, R.requests_rows, context=context + group)
    if a is None and len(segs) > 1:
        a, s, _ = _best(label_key("".join(segs)), R.requests_rows, context=context + group)
    return (a, s) if a is not None else None


def _requests_emit(
    st: _State,
    values: list[Cell],
    text: str,
    found: dict[str, Match],
    unmatched: list[Unmatched],
    cols: list[str],
    penalty: float,
    source: Source | None = None,
    raw: tuple[str, ...] = (),
    loose: bool = False,
    vfs: list[CellText] | None = None,
) -> None:
    """The values of one 表三 row under the label `text`; `vfs`: their facts, when the caller has them."""
    st.requests_group, hit, label_flags = _requests_reading(text, st.requests_group)
    if hit is None:
        unmatched.append(Unmatched(text, raw, source or (values[0].source if values else Source()), "requests"))
        if penalty >= 1.0 and len(values) == len(cols):
            # a fragment of a wrapped label ("本", "（三）不"): the numbers are still a row of the form
            st.readings.append(fit.RowReading(tuple(values), None))
        return
    a, s = hit
    k = len(cols)
    short = len(values) < k
    if penalty >= 1.0:
        st.readings.append(fit.RowReading(tuple(values), a.target, text))
    flags = label_flags
    flags += ("short_row",) if short else ()
    flags += ("label_below",) if penalty < 1.0 else ()
    flags += () if st.header_seen else ("header_unseen",)
    score = s / 100.0 * (0.85 if short else 1.0) * penalty
    ids = _column_ids(a.target, tuple(cols))
    off = k - len(values) if short else 0
    for i, cell in enumerate(values):
        iid = ids[i + off]
        m = _value_match(iid, cell, text, score, "requests", loose, flags, vfs[i] if vfs is not None else None)
        if m is not None and iid not in found:  # `_emit`'s first case, without its call
            found[iid] = m
        else:
            _emit(found, m, unmatched)
    st.last_id = f"{a.target}.total"


def _requests_reading(text: str, group: str) -> tuple[str, tuple[Alias, float] | None, tuple[str, ...]]:
    """(the group of rows after the label, its 表三 row and score or None, the label's flags) of a 表三
    label `text` read under `group`: a pure function of both, memoised (`_REQUESTS_MEMO`)."""
    memo = (text, group)
    got = _REQUESTS_MEMO.get(memo)
    if got is None:
        groups = rules().requests_groups
        segs = _segments(text)
        for x in segs[:-1]:
            if label_key(x) in groups:
                group = label_key(x)
        hit = _requests_alias(text, "", group)
        got = (group, hit, _label_flags(label_key(segs[-1]) if segs else "", hit[0]) if hit is not None else ())
        if len(text) <= MAX_CACHED_CHARS:  # a huge label is read, never held by the memo
            remember(_REQUESTS_MEMO, memo, got, _REQUESTS_MEMO_SIZE)
    return got


_REQUESTS_MEMO: dict[tuple[str, str], tuple[str, tuple[Alias, float] | None, tuple[str, ...]]] = {}
_REQUESTS_MEMO_SIZE = 16_384  # (label, group) pairs: 表三 has ~30 rows


@lru_cache(maxsize=1024)
def _column_ids(target: str, cols: tuple[str, ...]) -> tuple[str, ...]:
    """The id of each 表三 column of the row `target` (the organisation subtotal is an extension id)."""
    return tuple([f"{target}.{col}" if col != "subtotal" else f"ext.{target}.subtotal" for col in cols])


def _has_subtotal(cells: list[Cell]) -> bool:
    """Eight numbers that only add up with an organisation-subtotal column before the total."""
    v = [facts(c.text).parsed.value for c in cells]
    if any(x is None for x in v) or len(v) != 8:
        return False
    return abs(sum(v[1:6]) - v[6]) < 1e-6 and abs(v[0] + v[6] - v[7]) < 1e-6 and v[6] != 0


def _on_active_row(st: _State, row: TableRow, found: dict[str, Match], unmatched: list[Unmatched]) -> None:
    R = rules()
    cols = st.active_columns
    trailing = row.trailing_values()
    k = len(cols) if cols else len(trailing)
    if not trailing:
        return
    labels, values, _ = row.split(k)
    inferred: Alias | None = None
    if not labels:
        inferred = _active_next(st, found)
        if inferred is None or not any(facts(c.text).parsed.value is not None for c in trailing):
            return
    if cols and len(cols) > 1 and len([c for c in trailing if facts(c.text).squashed]) == 1 and fit.is_digit_run(next(c for c in trailing if facts(c.text).squashed), len(cols)) and not row.loose:
        # 本年制发/本年废止/现行有效 run together ("1011"): no arithmetic ties them, so no split
        # is more right than another — the row is reported, its numbers are not guessed
        unmatched.append(Unmatched(_label_text(labels), row.texts, row.cells[0].source, "active"))
        return
    own = facts(labels[-1].text).key if labels else ""
    a, s, _ = (inferred, 100.0, 1) if inferred is not None else _best(own, R.active_rows)
    if a is None:
        unmatched.append(Unmatched(_label_text(labels), row.texts, row.cells[0].source, "active"))
        return
    st.active_last = a.target
    flags = _label_flags(own, a) if inferred is None else ("row_inferred", "form_unverified")
    if not cols:
        cols = ["issued", "repealed", "in_force"] if len(values) == 3 and a.target in {"active.rules", "active.normative_docs"} else []
        if not cols and len(values) == 1:
            cols = ["amount" if a.target == "active.fees" else "decisions"]
        col_score = 0.8
        flags += ("header_unseen",)
    else:
        col_score = 1.0
    label = _label_text(labels)
    aligned = _by_position(row, st.active_positions) if cols and len(st.active_positions) == len(cols) else None
    if aligned is not None and all(facts(c.text).value_like for c in aligned):
        values = aligned  # the header's own columns: trailing empty cells of a wider grid are not values
    if cols:
        # a converter's grid: empty cells shift the numbers away from their header columns; where
        # exactly one number per column is printed right of the label, that is the only reading
        last = max((i for i, c in enumerate(row.cells) if any(c is x for x in labels)), default=-1)
        filled = [c for c in row.cells[last + 1:] if facts(c.text).squashed]
        taken = values[: len(cols)]
        if (
            len(filled) == len(cols)
            and all(facts(c.text).value_like for c in filled)
            and any(not facts(c.text).squashed for c in taken)
        ):
            values, flags = filled, flags + ("shifted",)
    for i, cell in enumerate(values[: len(cols)]):
        if not cols[i]:
            continue
        iid = f"{a.target}.{cols[i]}"
        if iid not in catalogue():
            continue
        _emit(found, _value_match(iid, cell, label, s / 100.0 * col_score, "active", row.loose, flags), unmatched)


def _active_next(st: _State, found: dict[str, Match]) -> Alias | None:
    """The row a label-less 表二 row must be: the second of the form's pair after the first."""
    for first, second in FORMS().active_pairs:
        if st.active_last == first and not any(i.startswith(second + ".") for i in found):
            return Alias(key="", target=second)
    return None


def _by_position(row: TableRow, positions: list[int]) -> list[Cell] | None:
    """The row's cells under the given header columns, or None when the grid does not line up."""
    out = []
    for p in positions:
        hit = [c for c in row.cells if c.col <= p < c.col + c.colspan]
        if len(hit) != 1 or any(hit[0] is c for c in out):
            return None  # no cell there, or one cell under two header columns: the grid does not line up
        out.append(hit[0])
    return out


def _on_review_row(st: _State, row: TableRow, found: dict[str, Match]) -> None:
    R = rules()
    order_ = R.review_order
    vals = row.trailing_values()
    if not vals or not any(facts(c.text).parsed.value is not None for c in vals):
        return
    filled = [c for c in vals if facts(c.text).squashed]
    if len(filled) == 1 and fit.is_digit_run(filled[0], len(order_)) and not row.loose:
        # the fifteen numbers run together: cut only where each group's total makes the cut unique
        cut = fit.split_review_run(fit.leading_run(filled[0]))
        st.review_buffer = []
        if cut is None:
            return
        vals = fit.run_cells(filled[0], cut)
    if len(vals) >= len(order_):
        vals = vals[-len(order_):]
        st.review_buffer = []
    elif row.loose:
        # a line of text with fewer than fifteen numbers: its blank cells vanished with the grid,
        # so no number can be placed under its column
        st.review_buffer = []
        return
    else:
        vals = [c for c, _ in st.review_buffer] + vals
        if len(vals) < len(order_):
            st.review_buffer = [(c, "") for c in vals]
            return
        st.review_buffer = []
    for iid, cell in zip(order_, vals):
        _emit(found, _value_match(iid, cell, "表四", 0.97, "review_litigation", row.loose, () if st.header_seen else ("header_unseen",)), [])


_JOINERS = re.compile(r"[、及和与/]")


@text_cache(4096)
def _combined(key: str) -> Alias | None:
    """A legacy label that joins two or more sibling rows of the form ("信函、传真申请数"), as an
    alias of the documented extension id `ext.<parent>.<leaf>_<leaf>` — or None.

    The parts share the last part's tail ("…申请数"): every way of cutting that tail off is tried,
    and the label is combined only when each part then names a different indicator exactly (or at
    its core) under one parent, and the whole label names none by itself.
    """
    parts = _JOINERS.split(key)
    if len(parts) < 2 or any(not p for p in parts):
        return None
    R = rules()
    whole, whole_score, _ = _best(key, R.legacy)
    if whole is not None and whole_score >= 97.0:
        return None
    last = parts[-1]
    for cut in range(1, len(last)):
        tail = last[cut:]
        ids = []
        for p in [*parts[:-1], last]:
            cand = p if p.endswith(tail) else p + tail
            a = _exact_index(R.legacy).get(cand)
            t = a[0].target if a else None
            if t is None:
                b, sc, _ = _best(cand, R.legacy)
                t = b.target if b is not None and sc >= 97.0 else None
            ids.append(t)
        if all(ids) and len(set(ids)) == len(ids) and len({i.rsplit(".", 1)[0] for i in ids}) == 1:  # type: ignore[union-attr]
            parent = ids[0].rsplit(".", 1)[0]  # type: ignore[union-attr]
            leaves = "_".join(i.rsplit(".", 1)[1] for i in ids)  # type: ignore[union-attr]
            return Alias(key=key, target=f"ext.{parent}.{leaves}")
    return None


def _lone_number(row: TableRow) -> bool:
    """A row of one cell that is only a number (a value a converter pulled out of its row)."""
    return len(row.cells) == 1 and not row.loose and facts(row.cells[0].text).parsed.value is not None and facts(row.cells[0].text).value_like


def _legacy_reading(key: str, last_id: str | None, combine: bool = True) -> tuple[Alias, float, tuple[str, ...]] | None:
    """(alias, label score, label flags) of a legacy row's label `key` read after `last_id`, or None.

    With `combine`, a label joining two of the form's rows (`_combined`) is that extension id. A pure
    function of its arguments, memoised (`_LEGACY_MEMO`): it stands for the four look-ups every legacy
    row made one by one (combined, best alias, the tie's score, the flags).
    """
    memo = (key, last_id, combine)
    hit = _LEGACY_MEMO.get(memo, _MISSING)
    if hit is _MISSING:
        combined = _combined(key) if combine else None
        if combined is not None:
            # one row for two of the form's rows (信函、传真申请数): never one of its parts
            a, s, n = combined, 100.0, 1
        else:
            a, s, n = _best(key, rules().legacy, last_id=last_id)
        if a is None:
            hit = None
        else:
            score = s / 100.0
            if n > 1:
                score *= 0.97 if last_id and _prefix_len(a.target, last_id) >= 1 else 0.8
            hit = (a, score, _label_flags(key, a, n))
        if len(key) <= MAX_CACHED_CHARS:  # a huge label is read, never held by the memo
            remember(_LEGACY_MEMO, memo, hit, _LEGACY_MEMO_SIZE)
    return hit  # type: ignore[return-value]


_LEGACY_MEMO: dict[tuple[str, str | None, bool], tuple[Alias, float, tuple[str, ...]] | None] = {}
_LEGACY_MEMO_SIZE = 16_384  # (label, previous id) pairs: a legacy form repeats the same ~45


def _on_legacy_row(st: _State, row: TableRow, fs: list[CellText], found: dict[str, Match], unmatched: list[Unmatched],
                   head: tuple[int, list[Cell]] = (-1, [])) -> None:
    """One row of the legacy table; `fs` holds the facts of its cells (`map_rows` read them once), `head`
    the label cells among its first cells, as (how many cells, labels), when the caller has them."""
    detached, st.detached = st.detached, None
    waiting, st.legacy_label = st.legacy_label, None
    roles = st.legacy_roles
    cells = row.cells
    n = len(cells)
    if roles and n > len(roles):
        # the header named every column right of the label: take the value columns by position
        r = len(roles)
        labels = head[1] if head[0] == n - r else labels_of(cells[:-r], fs)
        base = n - r
        values = []
        vfs = []
        for j in st.legacy_value_at:
            values.append(cells[base + j])
            vfs.append(fs[base + j])
    elif 0 < st.legacy_values < n and head[0] == n - st.legacy_values:
        k = st.legacy_values  # split_facts(cells, fs, k), its labels known
        labels, values, vfs = head[1], list(cells[-k:]), list(fs[-k:])
    else:
        labels, values, vfs = split_facts(cells, fs, st.legacy_values)
    extra: tuple[str, ...] = ()
    if not labels and waiting and any([f.parsed.value is not None for f in vfs]):
        labels, extra = waiting, ("detached",)  # the label was printed on its own line above
    if not labels:
        return
    if len(cells) <= len(labels) and (not values or not all([f.value_like for f in vfs])):
        # a group row with no value cell (e.g. 一、主动公开情况 | —— ) or a label-only line
        if len(cells) == 1:
            st.legacy_label = labels
        return
    if detached is not None and values and all([f.parsed.value is None for f in vfs]) and not any([f.squashed for f in vfs]):
        values = [detached] + values[1:]  # the row's value was printed on its own line above it
        vfs = [facts(detached.text)] + vfs[1:]
        extra = ("detached",)
    key = facts(labels[0].text).key if len(labels) == 1 else label_key(" ".join(c.text for c in labels))
    hit = _legacy_reading(key, st.last_id)
    if hit is None and len(labels) > 1:
        key = facts(labels[-1].text).key
        hit = _legacy_reading(key, st.last_id, combine=False)
    label = _label_text(labels)
    if hit is None:
        if any(facts(c.text).parsed.value is not None for c in values):
            unmatched.append(Unmatched(label, row.texts, row.cells[0].source, "legacy"))
        return
    a, score, flags = hit
    if not st.header_seen:
        flags += ("zone_guessed",)
    if extra:
        flags += extra
    if row.joined and "detached" not in flags:
        flags += ("detached",)
    cumulative = st.legacy_cumulative
    for i in range(len(values)):  # the first value column that is not a running total
        if i not in cumulative:
            _emit(found, _value_match(a.target, values[i], label, score, "legacy", row.loose, flags, vfs[i]), unmatched)
            break
    if cumulative and values:
        for i in cumulative:
            if i < len(values):
                cum = f"{a.target}.cumulative" if a.target.startswith("ext.") else f"ext.{a.target}.cumulative"
                _emit(found, _value_match(cum, values[i], label, score, "legacy", row.loose, flags, vfs[i]), unmatched)
    st.last_id = a.target


_ORDER: list[tuple[dict[str, object], dict[str, int]]] = []


def _order() -> dict[str, int]:
    """`catalogue.order()`, made once per catalogue (it builds the dict anew each call; two sorts a report use it)."""
    cat = catalogue()
    if not _ORDER or _ORDER[0][0] is not cat:
        _ORDER[:] = [(cat, order())]
    return _ORDER[0][1]


def fill_from_narrative(matches: list[Match], claims: list[Match]) -> list[Match]:
    """Add narrative-stated values for ids no table provided (narrative-only reports)."""
    have = {m.id for m in matches}
    extra = [c for c in claims if c.id not in have and c.id in catalogue()]
    seen: set[str] = set()
    out = list(matches)
    for c in extra:
        if c.id in seen:
            continue
        seen.add(c.id)
        out.append(c)
    pos = _order()
    return sorted(out, key=lambda m: (pos.get(m.id, 10**6), m.id))


def unmatched_warning(u: Unmatched) -> WarningModel:
    """A warning for a row whose label the catalogue lacks (never forced onto an id)."""
    if u.zone and u.zone.startswith("duplicate:"):
        return WarningModel(
            code="duplicate_value",
            message=f"A second row maps to {u.zone.split(':', 1)[1]} with another value; the first was kept.",
            label=u.label,
            source=SourceRef(kind="table", **_src(u.source)),
        )
    return WarningModel(
        code="unmatched_row",
        message="A table row with values matched no catalogue indicator.",
        label=u.label,
        source=SourceRef(kind="table", **_src(u.source)),
    )


def _src(s: Source) -> dict[str, object]:
    return {
        "page": s.page,
        "table": s.table,
        "row": s.row,
        "col": s.col,
        "line": s.line,
        "bbox": list(s.bbox) if s.bbox else None,
    }
