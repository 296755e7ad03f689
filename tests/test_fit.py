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
