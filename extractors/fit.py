"""Fitting the numbers to the official form: readings the cells allow, chosen by the form's arithmetic.

Converters and crawlers do not keep a table's grid. A PDF→Markdown converter
merges neighbouring cells (`0 0`), drops empty ones, and prints a row's label on
a line of its own; a crawler runs a row's numbers together (`300153006141183119`).
Reading such rows by position produces confident wrong values. This stage
offers the indicator stage the readings that are *forced*:

- `expand_cells`: a cell holding several whitespace-separated numbers is as many
  cells (`SplitCell`), one per number — the only reading of `0 0`;
- `split_requests_run` / `split_review_run`: a digit run is cut into the form's
  columns only where the arithmetic (a 表三 row's 总计 = its six columns, 小计 =
  the five organisation columns, 总计 = 自然人 + 小计; each 表四 group's total =
  its four parts) leaves exactly one split; otherwise no value (`RunCell`);
- `place_rows`: 表三 rows whose label was printed elsewhere are placed by the
  form's row order between rows whose label is known, only where the gap holds
  exactly as many rows as the form has there.

Work is bounded (`FitSettings`): enumerations stop after a fixed number of steps
and give no reading. Every reading leaves its provenance on the cell type, and
the indicator stage turns it into a confidence flag (`cell_split`, `digit_run`,
`row_inferred`).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from .forms import FORMS
from .model import Cell
from .normalize import nfkc
from .tables import MULTI_NUMBERS, facts


@dataclass(frozen=True, slots=True)
class FitSettings:
    """Bounds of the fitting stage's searches."""

    max_steps: int = 20_000  # nodes one digit-run enumeration may visit before it gives up
    max_run: int = 60  # digit runs longer than this are not split at all
    max_part_digits: int = 7  # no single form cell is split out longer than this
    max_readings: int = 64  # more readings of one run than this: no value at all


SETTINGS = FitSettings()


@dataclass(frozen=True, slots=True)
class SplitCell(Cell):
    """One number of a cell that printed several (a converter merged neighbouring cells)."""


@dataclass(frozen=True, slots=True)
class RunCell(Cell):
    """One number cut out of a digit run, where the form's arithmetic allowed only that cut."""


@dataclass(frozen=True, slots=True)
class UnreadCell(Cell):
    """A column of a digit run that the arithmetic did not decide: no value is reported for it."""


_MULTI = MULTI_NUMBERS
_DIGITS = re.compile(r"^\d+$")


def expand_cells(cells: Sequence[Cell]) -> list[Cell]:
    """Cells with each multi-number cell (`208 1`) replaced by one `SplitCell` per number."""
    out: list[Cell] = []
    for c in cells:
        t = nfkc(c.text)
        if _MULTI.match(t):
            out.extend(SplitCell(text=x, row=c.row, col=c.col, source=c.source, quality=c.quality) for x in t.split())
        else:
            out.append(c)
    return out


def has_multi(cells: Sequence[Cell]) -> bool:
    """Whether any cell prints several numbers (what `expand_cells` would split)."""
    for c in cells:  # a plain loop over the memoised answer: this runs for every table row
        if facts(c.text).multi:
            return True
    return False


class _Budget:
    __slots__ = ("left",)

    def __init__(self, n: int) -> None:
        self.left = n

    def spend(self) -> bool:
        self.left -= 1
        return self.left >= 0


def _parts(s: str, i: int, settings: FitSettings):
    """Numbers that can start at s[i]: '0' alone, or a digit run without a leading zero (ends: `_part_end`)."""
    for j in range(i + 1, _part_end(s, i, settings) + 1):
        yield int(s[i:j]), j


def split_requests_run(run: str, subtotal: bool, settings: FitSettings = SETTINGS) -> tuple[int | None, ...] | None:
    """A 表三 row's digit run cut into its 7 (8 with 小计) columns where the arithmetic forces it.

    Without 小计: six numbers, then their sum. With 小计: 自然人, five organisations, their sum
    (小计), then 自然人 + 小计. Each position holds the number every valid split agrees on, None
    where valid splits differ; the result is None when no split is valid, there are more than
    `max_readings`, or the search would exceed its budget.

    The budget is that of the plain search (every cut of six columns, `_search_nodes`), so which
    runs get a reading does not depend on how the readings are found; they are found from the
    totals backwards (`_requests_readings`), which visits a small part of that tree.
    """
    s = nfkc(run).strip()
    if not _DIGITS.match(s) or len(s) > settings.max_run:
        return None
    if _search_nodes(s, subtotal, settings) > settings.max_steps:
        return None
    found = _requests_readings(s, subtotal, settings)
    if found is None:
        return None
    return consensus(found)


def _search_nodes(s: str, subtotal: bool, settings: FitSettings) -> int:
    """Nodes of the plain depth-first search over six columns, each cut by `_parts`, leaving at
    least a digit for every later column and the totals (counted by position, not visited).

    The cuts from a position are a range of ends (`_part_ends`), so each is counted, never parsed."""
    reserve = 2 if subtotal else 1
    n = len(s)
    ways = {0: 1}
    total = 1
    for depth in range(6):
        last = n - (6 - depth - 1 + reserve)  # the furthest end that leaves the later columns a digit each
        nxt: dict[int, int] = {}
        for i, w in ways.items():
            for j in range(i + 1, min(_part_end(s, i, settings), last) + 1):
                nxt[j] = nxt.get(j, 0) + w
        total += sum(nxt.values())
        if total > settings.max_steps:
            break
        ways = nxt
    return total


def _part_end(s: str, i: int, settings: FitSettings) -> int:
    """The furthest end of a `_parts` number starting at s[i] (its ends are i + 1 to that; i: none)."""
    if i >= len(s):
        return i
    if s[i] == "0":
        return i + 1
    return min(len(s), i + settings.max_part_digits)


def _number_at(s: str, a: int, b: int) -> int | None:
    """s[a:b] as a number printed the way `str` prints it (no leading zero), else None."""
    t = s[a:b]
    if not t or (t[0] == "0" and len(t) > 1):
        return None
    return int(t)


def _columns(s: str, a: int, b: int, k: int, total: int, settings: FitSettings, out: list[tuple[int, ...]],
             head: list[int], cap: int, dead: set[tuple[int, int, int]]) -> bool:
    """Every way to cut s[a:b] into `k` `_parts` summing to `total`, appended to `out` (after `head`);
    False once `out` holds more than `cap` readings. `dead` remembers (a, k, total) that cut nowhere."""
    if k == 0:
        if a == b and total == 0:
            out.append(tuple(head))
            return len(out) <= cap
        return True
    if (a, k, total) in dead:
        return True
    # bounds that rule the whole subtree out (it would append nothing): the largest sum k parts of
    # s[a:b] can have (`_most`), and one part has at least ⌈width / k⌉ digits, which (no leading
    # zero past one digit) is at least 10^(that − 1)
    width = b - a
    most = _most(width, k, settings.max_part_digits)
    if most is None or total > most:
        return True
    least = -(-width // k)
    if least >= 2 and total < 10 ** (least - 1):
        return True
    before = len(out)
    widest = settings.max_part_digits * (k - 1)
    for v, j in _parts(s, a, settings):
        if j > b - (k - 1) or v > total:
            break
        if b - j > widest:  # the later columns cannot hold what is left
            continue
        head.append(v)
        ok = _columns(s, j, b, k - 1, total - v, settings, out, head, cap, dead)
        head.pop()
        if not ok:
            return False
    if len(out) == before:
        dead.add((a, k, total))
    return True


@lru_cache(maxsize=4096)
def _most(width: int, k: int, digits: int) -> int | None:
    """The largest sum of `k` numbers printed in `width` digits, each 1 to `digits` long (None: no cut).

    The digits beyond one a part go to as few parts as possible (10^d − 1 grows faster than d): so
    many parts of `digits` digits, one of the rest, the others a single 9.
    """
    extra = width - k
    if k < 1 or extra < 0 or extra > k * (digits - 1):
        return None
    if digits == 1:
        return 9 * k
    full, rest = divmod(extra, digits - 1)
    if full == k:
        return k * (10 ** digits - 1)
    return full * (10 ** digits - 1) + (10 ** (1 + rest) - 1) + (k - full - 1) * 9


def _requests_readings(s: str, subtotal: bool, settings: FitSettings) -> list[tuple[int, ...]] | None:
    """Every reading of a 表三 digit run (see `split_requests_run`), found from its printed totals;
    None past `max_readings`."""
    cap = settings.max_readings
    out: list[tuple[int, ...]] = []
    n = len(s)
    for t in range(6, n):  # the totals start at s[t]
        dead: set[tuple[int, int, int]] = set()  # for this end of the columns
        if not subtotal:
            total = _number_at(s, t, n)
            if total is None:
                continue
            parts: list[tuple[int, ...]] = []
            if not _columns(s, 0, t, 6, total, settings, parts, [], cap, set()):
                return None
            out.extend((*p, total) for p in parts)
        else:
            for u in range(t + 1, n):  # 小计 is s[t:u], 总计 s[u:]
                sub, whole = _number_at(s, t, u), _number_at(s, u, n)
                if sub is None or whole is None or whole < sub:
                    continue
                first = whole - sub
                width = len(str(first))
                if width > t - 5 or s[:width] != str(first) or width > settings.max_part_digits:
                    continue
                parts = []
                if not _columns(s, width, t, 5, sub, settings, parts, [first], cap, dead):
                    return None
                out.extend((*p, sub, whole) for p in parts)
        if len(out) > cap:
            return None
    return out


def consensus(readings: Sequence[tuple[int, ...]]) -> tuple[int | None, ...] | None:
    """The numbers every reading agrees on (None where they differ); None when there is no reading.

    A position all readings share is forced by the arithmetic even when the run as a whole has
    several splits ("121162 0" → 1|2|1|16|20 or 12|1|1|6|20: only the total 20 is certain).
    """
    if not readings:
        return None
    first = readings[0]
    return tuple(v if all(r[i] == v for r in readings) else None for i, v in enumerate(first))


def _group_splits(s: str, i: int, budget: _Budget, settings: FitSettings) -> list[tuple[tuple[int, ...], int]] | None:
    """Every way to read a 表四 group (four parts, then their total) from s[i:]; None past the budget."""
    out: list[tuple[tuple[int, ...], int]] = []

    def walk(j: int, head: list[int]) -> bool:
        if not budget.spend():
            return False
        if len(head) == 4:
            t = str(sum(head))
            if s.startswith(t, j):
                out.append(((*head, sum(head)), j + len(t)))
            return True
        for v, k in _parts(s, j, settings):
            head.append(v)
            ok = walk(k, head)
            head.pop()
            if not ok:
                return False
        return True

    return out if walk(i, []) else None


def split_review_run(run: str, settings: FitSettings = SETTINGS) -> tuple[int | None, ...] | None:
    """表四's fifteen numbers printed as one digit run, where the arithmetic forces them.

    Each group of five ends with the total of its four parts; the three groups must use the
    whole run. Positions valid splits disagree on are None; a report whose printed totals do not
    add up gets no reading at all (never a guess).

    The budget is that of the plain search (`_group_splits` from the start, then again after each
    reading of the group before), counted from each start's tree size; the readings of a group
    from a start are found once, from its total backwards (`_group_readings`).
    """
    s = nfkc(run).strip()
    if not _DIGITS.match(s) or len(s) > settings.max_run:
        return None
    groups: dict[int, list[tuple[tuple[int, ...], int]]] = {}
    sizes: dict[int, int] = {}

    def at(i: int) -> list[tuple[tuple[int, ...], int]]:
        if i not in groups:
            groups[i] = _group_readings(s, i, settings)
        return groups[i]

    def size(i: int) -> int:
        if i not in sizes:
            sizes[i] = _group_nodes(s, i, settings)
        return sizes[i]

    spent = size(0)
    if spent > settings.max_steps:
        return None
    for _, j in at(0):
        spent += size(j)
        if spent > settings.max_steps:
            return None
        for _, k in at(j):
            spent += size(k)
            if spent > settings.max_steps:
                return None
    found: list[tuple[int, ...]] = []
    for a, j in at(0):
        for b, k in at(j):
            for c, end in at(k):
                if end == len(s):
                    found.append(a + b + c)
                    if len(found) > settings.max_readings:
                        return None
    return consensus(found)


def _group_nodes(s: str, i: int, settings: FitSettings) -> int:
    """Nodes `_group_splits` visits from s[i] (its tree of four `_parts`), counted by position."""
    ways = {i: 1}
    total = 1
    for _ in range(4):
        nxt: dict[int, int] = {}
        for a, w in ways.items():
            for j in range(a + 1, _part_end(s, a, settings) + 1):  # the ends of `_parts(s, a)`
                nxt[j] = nxt.get(j, 0) + w
        total += sum(nxt.values())
        ways = nxt
    return total


def _group_readings(s: str, i: int, settings: FitSettings) -> list[tuple[tuple[int, ...], int]]:
    """What `_group_splits` finds from s[i] (four parts, then their total printed next), unbudgeted:
    the caller has counted the tree (`_group_nodes`) against the budget first."""
    out: list[tuple[tuple[int, ...], int]] = []
    n = len(s)
    # the parts that can start at each position, cut once (the tree visits each position many times),
    # without those that leave nothing for the total
    parts_at = [[(v, k) for v, k in _parts(s, j, settings) if k < n] for j in range(n)]

    def walk(j: int, depth: int, acc: int, head: list[int]) -> None:
        if j >= n:
            return
        if depth == 3:
            # the fourth part and the total printed after it (a loop here, not a call per part:
            # the leaves are most of the tree)
            for v, k in parts_at[j]:
                t = str(acc + v)
                if s.startswith(t, k):
                    out.append(((*head, v, acc + v), k + len(t)))
            return
        for v, k in parts_at[j]:
            head.append(v)
            walk(k, depth + 1, acc + v, head)
            head.pop()

    walk(i, 0, 0, [])
    return out


def run_cells(cell: Cell, values: Sequence[int | None]) -> list[Cell]:
    """`RunCell`s for the numbers a digit run was cut into (same source as the printed cell).

    A position the arithmetic left open becomes an `UnreadCell`: a place, not a blank.
    """
    return [
        RunCell(text=str(v), row=cell.row, col=cell.col, source=cell.source, quality=cell.quality)
        if v is not None
        else UnreadCell(text="", row=cell.row, col=cell.col, source=cell.source)
        for v in values
    ]


_LEADING_RUN = re.compile(r"^\s*(\d+)")


def leading_run(cell: Cell) -> str:
    """The digits a cell starts with (a unit or a note may follow them: `171110131187（同比…）`)."""
    m = _LEADING_RUN.match(nfkc(cell.text))
    return m.group(1) if m else ""


def is_digit_run(cell: Cell, min_len: int) -> bool:
    """A cell starting with at least `min_len` digits: in a row of that many columns, a run."""
    return len(leading_run(cell)) >= min_len


# ---------------------------------------------------------------- 表三 rows placed by the form's order


HOLE = "?"  # RowReading.target of a row that is there but could not be read: it fills a place


@dataclass(frozen=True, slots=True)
class RowReading:
    """A 表三 row as read: its value cells, and the form row its own label names (None: no label)."""

    cells: tuple[Cell, ...]
    target: str | None
    text: str = ""
    label: bool = False  # a label printed on a line of its own (no cells): it names a neighbour


def row_total_holds(values: Sequence[int | float | None], subtotal: bool) -> bool:
    """Whether a 表三 vector satisfies its row arithmetic (blank cells count as 0)."""
    v = [x or 0 for x in values]
    if subtotal:
        return len(v) == 8 and abs(sum(v[1:6]) - v[6]) < 1e-6 and abs(v[0] + v[6] - v[7]) < 1e-6
    return len(v) == 7 and abs(sum(v[:6]) - v[6]) < 1e-6


def _attach(readings: Sequence[RowReading], step: int) -> tuple[int, dict[int, str]]:
    """Labels on lines of their own given to the reading next to them (step -1: the one above).

    Returns how many labels found no unlabelled reading there (dangling) and {reading: row}.
    A label next to a reading that prints the same label is no evidence either way.
    """
    dangling = 0
    out: dict[int, str] = {}
    for k, r in enumerate(readings):
        if not r.label:
            continue
        j = k + step
        nb = readings[j] if 0 <= j < len(readings) else None
        if nb is None or nb.label or nb.target == HOLE or j in out:
            dangling += 1
        elif nb.target is not None:
            dangling += nb.target != r.target
        else:
            out[j] = r.target  # type: ignore[assignment]
    return dangling, out


def _fill_gaps(readings: Sequence[RowReading], targets: dict[int, str | None]) -> tuple[str, dict[int, str]] | None:
    """Rows of the best-fitting form for readings without a target, between those with one."""
    best: tuple[str, dict[int, str]] | None = None
    for form in FORMS().requests.forms:
        pos = {r: i for i, r in enumerate(form.rows)}
        if any(t is not None and t != HOLE and t not in pos for t in targets.values()):
            continue
        anchors = [(k, pos[t]) for k, t in targets.items() if t in pos]
        if any(b[1] <= a[1] for a, b in pairwise(anchors)):
            continue  # labels out of the form's order: another form, or a misread label
        placed: dict[int, str] = {}
        keys = list(targets)
        bounds = [(-1, -1), *[(keys.index(k), f) for k, f in anchors], (len(keys), len(form.rows))]
        for (ka, fa), (kb, fb) in pairwise(bounds):
            gap = keys[ka + 1:kb]
            if gap and len(gap) == fb - fa - 1:
                for k, f in zip(gap, range(fa + 1, fb)):
                    if targets[k] is None:
                        placed[k] = form.rows[f]
        if best is None or len(placed) > len(best[1]):
            best = (form.name, placed)
    return best


def place_rows(readings: Sequence[RowReading]) -> tuple[str, dict[int, str]] | None:
    """Form rows for the readings without a label of their own, or None when no form fits.

    Labels printed on lines of their own name the numbers above them or those below them; the
    direction is the one that leaves fewer labels without numbers (a tie with different results:
    neither is used). Readings whose label is known (their own, or attached) are anchors: they must
    name rows of one form in its order. Between two anchors (and before the first, after the last),
    unlabelled readings are placed in order only where the gap holds exactly as many readings as
    the form has rows there. Returns the form's name and {reading index: row prefix} for every
    reading placed, by an attached label or by its gap.
    """
    above, below = _attach(readings, +1), _attach(readings, -1)
    if above[0] < below[0]:
        attach = above[1]
    elif below[0] < above[0]:
        attach = below[1]
    else:
        attach = above[1] if above[1] == below[1] else {}
    for labels in (attach, {}):
        targets = {k: labels.get(k, r.target) for k, r in enumerate(readings) if not r.label}
        fitted = _fill_gaps(readings, targets)
        if fitted is not None:
            form, placed = fitted
            placed.update({k: t for k, t in labels.items() if readings[k].target is None})
            return form, placed
    return None


def verify_columns(values: dict[str, int | float | None], form_name: str, subtotal: bool = False) -> bool:
    """Whether every column of a placed 表三 satisfies the form: （七） = Σ outcome rows, 一 + 二 = （七） + 四."""
    rq = FORMS().requests
    form = next(f for f in rq.forms if f.name == form_name)
    for col in rq.columns_with(subtotal):
        def v(row: str, col: str = col) -> float:
            return values.get(f"{row}.{col}") or 0  # type: ignore[return-value]

        if any(f"{r}.{col}" not in values for r in form.rows):
            return False
        if abs(sum(v(r) for r in form.outcome_rows) - v(rq.outcome_total)) > 1e-6:
            return False
        if abs(sum(v(r) for r in rq.balance_left) - sum(v(r) for r in rq.balance_right)) > 1e-6:
            return False
    return True
