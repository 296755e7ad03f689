"""The fitting stage: digit runs cut only where the form's arithmetic forces the cut, rows placed by the form's order."""
from __future__ import annotations

from extractors import fit
from extractors.model import Cell


def test_requests_run_with_subtotal_has_one_split() -> None:
    # 小计 = 53+0+0+61+4 and 总计 = 3001+118: the only cut of this crawler row
    assert fit.split_requests_run("300153006141183119", subtotal=True) == (3001, 53, 0, 0, 61, 4, 118, 3119)


def test_requests_run_total_decides() -> None:
    assert fit.split_requests_run("230000023", subtotal=False) == (23, 0, 0, 0, 0, 0, 23)
    assert fit.split_requests_run("230000024", subtotal=False) is None  # no split adds up: no value


def test_review_run_leaves_undecided_positions_unread() -> None:
    cut = fit.split_review_run("72641783735113481261211620")
    assert cut is not None
    assert cut[:10] == (72, 64, 178, 37, 351, 13, 4, 8, 1, 26)
    # "121162"+"0" reads 12|1|1|6, 1|2|11|6 or 1|2|1|16: only the group total is forced
    assert cut[10:14] == (None, None, None, None) and cut[14] == 20


def test_search_is_bounded() -> None:
    assert fit.split_requests_run("1" * 200, subtotal=False) is None
    assert fit.split_requests_run("1" * 40, subtotal=False, settings=fit.FitSettings(max_steps=10)) is None


def test_merged_cells_become_one_cell_per_number() -> None:
    cells = fit.expand_cells([Cell("一、本年新收", 0, 0), Cell("208 1", 0, 1), Cell("224", 0, 2)])
    assert [c.text for c in cells] == ["一、本年新收", "208", "1", "224"]
    assert [type(c) for c in cells[1:3]] == [fit.SplitCell, fit.SplitCell]


def _reading(target: str | None) -> fit.RowReading:
    return fit.RowReading(tuple(Cell("0", 0, i) for i in range(7)), target)


def test_rows_placed_only_where_the_gap_fits() -> None:
    readings = [_reading("requests.new"), _reading(None), _reading("requests.disclosed"), _reading(None)]
    _, placed = fit.place_rows(readings)
    assert placed[1] == "requests.carried_over"
    assert 3 not in placed  # one reading where the form has twenty rows left: not placed
    # two readings where the form has one row: nothing placed there
    readings = [_reading("requests.new"), _reading(None), _reading(None), _reading("requests.disclosed")]
    assert fit.place_rows(readings)[1] == {}
    # a hole (a row there but unread) keeps its place
    readings = [_reading("requests.new"), fit.RowReading((), fit.HOLE), _reading(None), _reading("requests.partial")]
    assert fit.place_rows(readings)[1] == {2: "requests.disclosed"}


# ---- the searches find what the plain depth-first search finds, within the same budget


def _plain_requests(s: str, subtotal: bool, st: fit.FitSettings) -> tuple[int | None, ...] | None:
    """Reference: every cut of six columns, depth first, one budget step a node (the former code)."""
    left, found = [st.max_steps], []

    def walk(i: int, head: list[int]) -> bool:
        left[0] -= 1
        if left[0] < 0:
            return False
        if len(head) == 6:
            sub = sum(head[1:6])
            if subtotal and s[i:] == f"{sub}{head[0] + sub}":
                found.append((*head, sub, head[0] + sub))
            elif not subtotal and s[i:] == str(sum(head)):
                found.append((*head, sum(head)))
            return len(found) <= st.max_readings
        for v, j in fit._parts(s, i, st):
            if len(s) - j < 6 - len(head) - 1 + (2 if subtotal else 1):
                break
            head.append(v)
            ok = walk(j, head)
            head.pop()
            if not ok:
                return False
        return True

    return fit.consensus(found) if walk(0, []) else None


def _plain_review(s: str, st: fit.FitSettings) -> tuple[int | None, ...] | None:
    """Reference: group by group, each group's four parts searched again after every reading before it."""
    left, found = [st.max_steps], []

    def groups(i: int) -> list[tuple[tuple[int, ...], int]] | None:
        out = []

        def walk(j: int, head: list[int]) -> bool:
            left[0] -= 1
            if left[0] < 0:
                return False
            if len(head) == 4:
                if s.startswith(str(sum(head)), j):
                    out.append(((*head, sum(head)), j + len(str(sum(head)))))
                return True
            for v, k in fit._parts(s, j, st):
                head.append(v)
                ok = walk(k, head)
                head.pop()
                if not ok:
                    return False
            return True

        return out if walk(i, []) else None

    def walk(i: int, acc: tuple[int, ...]) -> bool:
        if len(acc) == 15:
            if i == len(s):
                found.append(acc)
            return len(found) <= st.max_readings
        g = groups(i)
        if g is None:
            return False
        return all(walk(j, acc + vals) for vals, j in g)

    return fit.consensus(found) if walk(0, ()) else None


def _crawler_runs() -> list[str]:
    """The digit runs of the shared crawler texts, and each with one digit changed (a misprint)."""
    import re

    from tests.conftest import CORPUS

    root = CORPUS / "crawler"
    runs = sorted({m for p in root.glob("*.txt") for m in re.findall(r"\d{10,}", p.read_text(encoding="utf-8"))})
    assert len(runs) >= 5, "the shared crawler corpus holds digit-run rows"
    out = list(runs)
    for r in runs:
        out += [r[:i] + str((int(r[i]) + 1) % 10) + r[i + 1:] for i in range(0, len(r), 3)]
    return out


def test_digit_run_searches_match_the_plain_search() -> None:
    runs = _crawler_runs()
    read = 0
    for st in (fit.SETTINGS, fit.FitSettings(max_steps=300, max_readings=3), fit.FitSettings(max_part_digits=3)):
        for r in runs:
            for sub in (False, True):
                got = fit.split_requests_run(r, sub, st)
                assert got == _plain_requests(r, sub, st), (r, sub, st)
                read += got is not None
            assert fit.split_review_run(r, st) == _plain_review(r, st), (r, st)
    assert read > 0  # some runs do have a forced cut


def test_most_is_the_largest_sum_of_the_cuts() -> None:
    """`_most` (the bound `_columns` prunes by) against every way to give `k` parts their digits."""
    import itertools

    for digits in range(1, 5):
        for k in range(1, 6):
            for width in range(0, 22):
                sums = [sum(10**d - 1 for d in ds) for ds in itertools.product(range(1, digits + 1), repeat=k) if sum(ds) == width]
                assert fit._most(width, k, digits) == (max(sums) if sums else None), (width, k, digits)
