"""Ruled tables of a PDF page: ruling lines from pdfium path objects, a lattice grid, cells.

Why rulings: every statistics table of these reports (Word/WPS exports and the
official 2021+ form) is drawn with cell borders, so the borders say exactly where
a cell starts and ends — including blank value cells, which a text-only method
cannot place. The grid comes from the distinct border positions; two neighbouring
grid squares with no border between them belong to one merged cell. A table that
runs on to the next page is re-joined by `merge_continued`.
"""
from __future__ import annotations

import ctypes
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat

import pypdfium2.raw as pdfium_c

from ..errors import ResourceLimitError
from ..model import Cell, Source, Table, make_cell, make_source
from .pdf_geometry import (
    Char,
    Line,
    PdfSettings,
    group_lines,
    join_pieces,
    lines_text,
    make_line,
)

Rule = tuple[float, float, float]  # position across, start along, end along
Matrix = tuple[float, float, float, float, float, float]

_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
_MAX_FORM_DEPTH = 4
# `FPDFPage_GetObject` and `FPDFPageObj_GetType` on plain addresses: enumerating a page's objects (a few
# hundred, mostly text) then makes no pointer object per object
_GET_OBJECT = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)(
    ctypes.cast(pdfium_c.FPDFPage_GetObject, ctypes.c_void_p).value
)
_GET_TYPE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)(ctypes.cast(pdfium_c.FPDFPageObj_GetType, ctypes.c_void_p).value)
# `FPDFPathSegment_GetPoint` typed to take plain addresses, so `map` can fill one array of a path's points
_GET_POINT = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)(
    ctypes.cast(pdfium_c.FPDFPathSegment_GetPoint, ctypes.c_void_p).value
)
_WHITE = 235  # a paint whose every channel is at least this light does not show on paper


@dataclass(slots=True)
class RawCell:
    """A merged cell of one page's table, before columns are fixed document-wide."""

    text: str
    r0: int
    r1: int  # exclusive
    c0: int
    c1: int  # exclusive
    x0: float
    top: float
    x1: float
    bottom: float
    page: int
    quality: float | None = None  # lowest OCR character score in the cell; None for a text layer


def chars_quality(chars: Sequence[Char]) -> float | None:
    """The lowest recogniser score among `chars` (OCR characters carry one), None for exact text."""
    if not any(map(hasattr, chars, repeat("score"))):  # a text layer's characters: one C-level pass
        return None
    scores = [s for s in (getattr(c, "score", None) for c in chars) if s is not None]
    return min(scores) if scores else None


@dataclass(slots=True)
class RawTable:
    """One ruled table on one page (or several pages after `merge_continued`)."""

    page: int
    bbox: tuple[float, float, float, float]
    cells: list[RawCell]
    n_rows: int = 0
    n_cols: int = 0
    pages: list[int] = field(default_factory=list)

    @property
    def top(self) -> float:
        return self.bbox[1]


# --------------------------------------------------------------------------- rulings


def _compose(m: Matrix, parent: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    A, B, C, D, E, F = parent
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _object_matrix(obj: object) -> Matrix:
    m = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, m):
        return _IDENTITY
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def extract_rules(page: object, height: float, settings: PdfSettings) -> tuple[list[Rule], list[Rule]]:
    """Horizontal (y, x0, x1) and vertical (x, top, bottom) rulings drawn on a page, top-down."""
    horiz: list[Rule] = []
    vert: list[Rule] = []
    page = getattr(page, "raw", page)
    n = pdfium_c.FPDFPage_CountObjects(page)
    get_type, form, path, text = pdfium_c.FPDFPageObj_GetType, pdfium_c.FPDF_PAGEOBJ_FORM, pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_TEXT
    # C-level loops over the page's objects (most are text runs, which draw no rule and are dropped here);
    # the stack keeps the page order, last object first, a form's objects right after the form
    addresses = list(map(_GET_OBJECT, repeat(ctypes.cast(page, ctypes.c_void_p).value, n), range(n)))
    objs = [
        (pdfium_c.FPDFPage_GetObject(page, i), _IDENTITY, 0, kind)  # the typed handle, for the few kept
        for i, kind in enumerate(map(_GET_TYPE, addresses))
        if kind != text
    ]
    get_segment, count_segments = pdfium_c.FPDFPath_GetPathSegment, pdfium_c.FPDFPath_CountSegments
    seg_type, seg_close = pdfium_c.FPDFPathSegment_GetType, pdfium_c.FPDFPathSegment_GetClose
    moveto, lineto = pdfium_c.FPDF_SEGMENT_MOVETO, pdfium_c.FPDF_SEGMENT_LINETO
    while objs:
        obj, parent, depth, kind = objs.pop()
        if kind == form and depth < _MAX_FORM_DEPTH:
            fm = _compose(_object_matrix(obj), parent)
            for j in range(pdfium_c.FPDFFormObj_CountObjects(obj)):
                inner = pdfium_c.FPDFFormObj_GetObject(obj, j)
                objs.append((inner, fm, depth + 1, get_type(inner)))
            continue
        if kind != path:
            continue
        stroked, thin_only = _paint(obj)
        if stroked is None:
            continue
        a, b, c, d, e, f = _compose(_object_matrix(obj), parent)
        subpaths: list[list[tuple[float, float]]] = []
        closed: list[bool] = []
        ns = count_segments(obj)
        segs = list(map(get_segment, repeat(obj, ns), range(ns)))
        xy = (ctypes.c_float * (2 * ns))()  # every segment's point, filled by one C-level map
        base = ctypes.addressof(xy)
        list(map(_GET_POINT, segs, range(base, base + 8 * ns, 8), range(base + 4, base + 8 * ns, 8)))
        coords = xy[:]
        for t, shut, xv, yv in zip(map(seg_type, segs), map(seg_close, segs), coords[0::2], coords[1::2]):
            pt = (a * xv + c * yv + e, height - (b * xv + d * yv + f))
            if t == moveto or not subpaths:
                subpaths.append([pt])
                closed.append(False)
            elif t == lineto:
                subpaths[-1].append(pt)
            else:  # a curve: not a table rule; restart so no straight edge spans it
                subpaths.append([pt])
                closed.append(False)
            if shut:
                closed[-1] = True
        for pts, is_closed in zip(subpaths, closed):
            _subpath_rules(pts, is_closed, thin_only, settings, horiz, vert)
    return horiz, vert


def _visible(get_color: object, obj: object) -> bool:
    r, g, b, a = (ctypes.c_uint() for _ in range(4))
    if not get_color(obj, r, g, b, a):  # type: ignore[operator]
        return True
    return a.value > 0 and min(r.value, g.value, b.value) < _WHITE


def _paint(obj: object) -> tuple[bool | None, bool]:
    """How a path shows: (drawn at all, only thin filled shapes count as rules).

    A visible stroke draws rules along every straight side; a fill only counts
    where the filled shape is a thin bar (a border drawn as a rectangle) — a
    filled box is a background, and white paint is invisible on paper.
    """
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    if not pdfium_c.FPDFPath_GetDrawMode(obj, fill, stroke):
        return None, False
    if stroke.value and _visible(pdfium_c.FPDFPageObj_GetStrokeColor, obj):
        return True, False
    if fill.value and _visible(pdfium_c.FPDFPageObj_GetFillColor, obj):
        return False, True
    return None, False


def _subpath_rules(
    pts: list[tuple[float, float]],
    is_closed: bool,
    thin_only: bool,
    settings: PdfSettings,
    horiz: list[Rule],
    vert: list[Rule],
) -> None:
    """Turn one subpath into rulings: a thin box is one line, otherwise each straight side counts."""
    if len(pts) < 2:
        return
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    w, h = max(xs) - min(xs), max(ys) - min(ys)
    thick = settings.max_rule_thickness
    if len(pts) >= 3 and (w <= thick or h <= thick):
        if w <= thick and h >= settings.min_rule_length:
            vert.append(((min(xs) + max(xs)) / 2, min(ys), max(ys)))
        elif h <= thick and w >= settings.min_rule_length:
            horiz.append(((min(ys) + max(ys)) / 2, min(xs), max(xs)))
        return
    if thin_only:
        return
    if is_closed and pts[0] != pts[-1]:
        pts = pts + [pts[0]]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if abs(y1 - y0) <= 0.5 and abs(x1 - x0) >= settings.min_rule_length:
            horiz.append(((y0 + y1) / 2, min(x0, x1), max(x0, x1)))
        elif abs(x1 - x0) <= 0.5 and abs(y1 - y0) >= settings.min_rule_length:
            vert.append(((x0 + x1) / 2, min(y0, y1), max(y0, y1)))


def _cluster(values: Sequence[float], tol: float) -> list[float]:
    """Sorted cluster centres of values; neighbours closer than `tol` are one position."""
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(g) / len(g) for g in out]


def _snap(pos: float, centres: list[float]) -> float:
    i = bisect_right(centres, pos)
    best = min(centres[max(i - 1, 0) : i + 1], key=lambda c: abs(c - pos))
    return best


def normalize_rules(rules: list[Rule], settings: PdfSettings) -> list[Rule]:
    """Snap near-equal positions together and join collinear pieces into whole rules."""
    if not rules:
        return []
    centres = _cluster([r[0] for r in rules], settings.snap_tolerance)
    by_pos: dict[float, list[tuple[float, float]]] = {}
    for pos, s, e in rules:
        by_pos.setdefault(_snap(pos, centres), []).append((s, e))
    out: list[Rule] = []
    for pos, segs in by_pos.items():
        segs.sort()
        cs, ce = segs[0]
        for s, e in segs[1:]:
            if s <= ce + settings.join_tolerance:
                ce = max(ce, e)
            else:
                out.append((pos, cs, ce))
                cs, ce = s, e
        out.append((pos, cs, ce))
    return out


# --------------------------------------------------------------------------- grids


class _DSU:
    def __init__(self, n: int) -> None:
        self.p = list(range(n))

    def find(self, i: int) -> int:
        while self.p[i] != i:
            self.p[i] = self.p[self.p[i]]
            i = self.p[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.p[rj] = ri


def _components(horiz: list[Rule], vert: list[Rule], tol: float) -> list[tuple[list[Rule], list[Rule]]]:
    """Groups of rulings that touch each other: one group per drawn table."""
    nh = len(horiz)
    dsu = _DSU(nh + len(vert))
    spans = [(nh + j, x, vy0 - tol, vy1 + tol) for j, (x, vy0, vy1) in enumerate(vert)]  # the same sums, once each
    for i, (y, hx0, hx1) in enumerate(horiz):
        lo, hi = hx0 - tol, hx1 + tol
        for j, x, y_lo, y_hi in spans:
            if lo <= x <= hi and y_lo <= y <= y_hi:
                dsu.union(i, j)
    groups: dict[int, tuple[list[Rule], list[Rule]]] = {}
    for i, r in enumerate(horiz):
        groups.setdefault(dsu.find(i), ([], []))[0].append(r)
    for j, r in enumerate(vert):
        groups.setdefault(dsu.find(nh + j), ([], []))[1].append(r)
    return [g for g in groups.values() if g[0] and g[1]]


def _covers(rules: list[tuple[float, float]], lo: float, hi: float, tol: float) -> bool:
    """Whether a ruling at one position covers the middle of the span lo..hi."""
    mid = (lo + hi) / 2
    for s, e in rules:  # a loop, not any() over a generator: called for every grid square's sides
        if s - tol <= mid <= e + tol:
            return True
    return False


@dataclass(slots=True)
class _Grid:
    xs: list[float]
    ys: list[float]
    cell_of: list[list[int]]  # fine (row, col) -> cell id
    boxes: list[tuple[int, int, int, int]]  # cell id -> r0, c0, r1, c1 (exclusive ends)


def _build_grid(horiz: list[Rule], vert: list[Rule], settings: PdfSettings) -> _Grid | None:
    tol = settings.snap_tolerance
    xs = _cluster([v[0] for v in vert], tol)
    ys = _cluster([h[0] for h in horiz], tol)
    # tables drawn without outer side borders: the rulings' ends close the grid
    left, right = min(h[1] for h in horiz), max(h[2] for h in horiz)
    top, bottom = min(v[1] for v in vert), max(v[2] for v in vert)
    if left < xs[0] - tol:
        xs.insert(0, left)
    if right > xs[-1] + tol:
        xs.append(right)
    if top < ys[0] - tol:
        ys.insert(0, top)
    if bottom > ys[-1] + tol:
        ys.append(bottom)
    if len(xs) < 2 or len(ys) < 2:
        return None
    vat: dict[int, list[tuple[float, float]]] = {}
    for x, s, e in vert:
        vat.setdefault(_nearest(xs, x), []).append((s, e))
    hat: dict[int, list[tuple[float, float]]] = {}
    for y, s, e in horiz:
        hat.setdefault(_nearest(ys, y), []).append((s, e))
    n_r, n_c = len(ys) - 1, len(xs) - 1
    if n_r * n_c > settings.max_grid_cells:
        raise ResourceLimitError(
            f"A ruled PDF table has {n_r} x {n_c} grid squares on one page "
            f"(limit max_grid_cells={settings.max_grid_cells}).",
            limit="max_grid_cells",
        )
    dsu = _DSU(n_r * n_c)
    ttol = settings.touch_tolerance
    for r in range(n_r):
        for c in range(n_c):
            if c + 1 < n_c and not _covers(vat.get(c + 1, []), ys[r], ys[r + 1], ttol):
                dsu.union(r * n_c + c, r * n_c + c + 1)
            if r + 1 < n_r and not _covers(hat.get(r + 1, []), xs[c], xs[c + 1], ttol):
                dsu.union(r * n_c + c, (r + 1) * n_c + c)
    ids: dict[int, int] = {}
    boxes: list[list[int]] = []
    cell_of = [[0] * n_c for _ in range(n_r)]
    for r in range(n_r):
        for c in range(n_c):
            root = dsu.find(r * n_c + c)
            k = ids.get(root)
            if k is None:
                k = ids[root] = len(boxes)
                boxes.append([r, c, r + 1, c + 1])
            else:
                b = boxes[k]
                b[0], b[1] = min(b[0], r), min(b[1], c)
                b[2], b[3] = max(b[2], r + 1), max(b[3], c + 1)
            cell_of[r][c] = k
    return _Grid(xs, ys, cell_of, [tuple(b) for b in boxes])  # type: ignore[misc]


def _nearest(centres: list[float], pos: float) -> int:
    i = bisect_right(centres, pos)
    cands = [j for j in (i - 1, i) if 0 <= j < len(centres)]
    return min(cands, key=lambda j: abs(centres[j] - pos))


def find_tables(
    chars: list[Char], horiz: list[Rule], vert: list[Rule], page_no: int, settings: PdfSettings
) -> tuple[list[RawTable], list[Char]]:
    """Ruled tables of a page with their cell texts, and the characters left for running text."""
    if len(horiz) + len(vert) > settings.max_page_rules:
        raise ResourceLimitError(
            f"A PDF page draws {len(horiz) + len(vert)} ruling lines (limit max_page_rules={settings.max_page_rules}).",
            limit="max_page_rules",
        )
    horiz = normalize_rules(horiz, settings)
    vert = normalize_rules(vert, settings)
    grids = []
    for hs, vs in _components(horiz, vert, settings.touch_tolerance):
        g = _build_grid(hs, vs, settings)
        if g is not None and len(g.boxes) >= settings.min_table_cells:
            grids.append(g)
    if not grids:
        return [], chars
    rest: list[Char] = []
    buckets: list[list[list[Char]]] = [[[] for _ in g.boxes] for g in grids]
    # per grid: its outline, borders, last square index and this page's cell buckets (looked up once, not per char)
    frames = [(g.xs[0], g.xs[-1], g.ys[0], g.ys[-1], g.xs, g.ys, len(g.xs) - 2, len(g.ys) - 2, g.cell_of, b)
              for g, b in zip(grids, buckets)]
    if len(frames) == 1:  # the usual page: one table, its frame in locals rather than unpacked per character
        x_lo, x_hi, y_lo, y_hi, xs, ys, last_c, last_r, cell_of, bucket = frames[0]
        for ch in chars:
            cx, cy = ch.cx, ch.cy
            if x_lo <= cx <= x_hi and y_lo <= cy <= y_hi:
                c = bisect_right(xs, cx) - 1
                c = 0 if c < 0 else last_c if c > last_c else c
                r = bisect_right(ys, cy) - 1
                r = 0 if r < 0 else last_r if r > last_r else r
                bucket[cell_of[r][c]].append(ch)
            else:
                rest.append(ch)
    else:
        for ch in chars:
            cx, cy = ch.cx, ch.cy
            for x_lo, x_hi, y_lo, y_hi, xs, ys, last_c, last_r, cell_of, bucket in frames:
                if x_lo <= cx <= x_hi and y_lo <= cy <= y_hi:
                    c = bisect_right(xs, cx) - 1  # clamped to 0..last_c, as min(max(c, 0), last_c)
                    c = 0 if c < 0 else last_c if c > last_c else c
                    r = bisect_right(ys, cy) - 1
                    r = 0 if r < 0 else last_r if r > last_r else r
                    bucket[cell_of[r][c]].append(ch)
                    break
            else:
                rest.append(ch)
    tables = []
    for g, bucket in zip(grids, buckets):
        if not any(bucket):  # an empty ruled frame (a form field, a decoration): nothing to keep
            continue
        cells = [
            RawCell(
                text=lines_text(group_lines(chs, settings)) if chs else "",
                r0=r0,
                r1=r1,
                c0=c0,
                c1=c1,
                x0=g.xs[c0],
                top=g.ys[r0],
                x1=g.xs[c1],
                bottom=g.ys[r1],
                page=page_no,
                quality=chars_quality(chs),
            )
            for (r0, c0, r1, c1), chs in zip(g.boxes, bucket)
        ]
        t = RawTable(page=page_no, bbox=(g.xs[0], g.ys[0], g.xs[-1], g.ys[-1]), cells=cells, pages=[page_no])
        tables.append(_compact(t))
    return tables, rest


def _compact(t: RawTable) -> RawTable:
    """Drop grid rows and columns where no cell starts (a border drawn in only some rows)."""
    rows = sorted({c.r0 for c in t.cells})
    cols = sorted({c.c0 for c in t.cells})
    row_at = {v: i for i, v in enumerate(rows)}  # a dict, not list.index: linear in the cells
    col_at = {v: i for i, v in enumerate(cols)}
    for c in t.cells:
        c.r1 = max(bisect_right(rows, c.r1 - 1), 1)
        c.r0 = row_at[c.r0]
        c.r1 = max(c.r1, c.r0 + 1)
        c.c1 = max(bisect_right(cols, c.c1 - 1), 1)
        c.c0 = col_at[c.c0]
        c.c1 = max(c.c1, c.c0 + 1)
    t.n_rows, t.n_cols = len(rows), len(cols)
    return t


def _realign_columns(t: RawTable, settings: PdfSettings) -> None:
    """Place every cell's columns by its borders' x positions (parts whose column counts differ)."""
    bounds = _cluster([v for c in t.cells for v in (c.x0, c.x1)], settings.snap_tolerance + 1.0)
    for c in t.cells:
        c.c0 = _nearest(bounds, c.x0)
        c.c1 = max(_nearest(bounds, c.x1), c.c0 + 1)


# --------------------------------------------------------------------------- across pages

_CONTINUED = re.compile(r"^[（(]?\s*续\s*表\s*[^）)\n]{0,12}[）)]?$|^表\s*\S{0,6}[（(]续[）)]$")


def is_continuation_caption(text: str) -> bool:
    """`（续表）`, `续表`, `表3（续）`: a caption that only says the table goes on."""
    return bool(_CONTINUED.match(text.strip()))


def same_outline(a: RawTable, b: RawTable, settings: PdfSettings) -> bool:
    """Whether `b` looks like the continuation of `a` on the next page (same left and right edge)."""
    tol = settings.continuation_x_tolerance
    return abs(a.bbox[0] - b.bbox[0]) <= tol and abs(a.bbox[2] - b.bbox[2]) <= tol


def _row_texts(t: RawTable) -> list[tuple[str, ...]]:
    rows: list[list[RawCell]] = [[] for _ in range(t.n_rows)]
    for c in t.cells:
        rows[c.r0].append(c)
    return [tuple("".join(c.text.split()) for c in sorted(r, key=lambda c: c.x0)) for r in rows]


def merge_continued(a: RawTable, b: RawTable, settings: PdfSettings) -> RawTable:
    """Append `b` (next page) to `a`: drop the header rows `b` repeats, carry merged labels on.

    Parts with the same column count are aligned by column index (a page may
    redraw the widths); otherwise by the borders' x positions.
    """
    if len(a.cells) + len(b.cells) > settings.max_table_cells:
        raise ResourceLimitError(
            f"A PDF table continued over pages passes {settings.max_table_cells} cells "
            "(limit max_table_cells).",
            limit="max_table_cells",
        )
    ra, rb = _row_texts(a), _row_texts(b)
    drop = 0
    while drop < min(len(ra), len(rb)) - 1 and rb[drop] == ra[drop] and any(rb[drop]):
        drop += 1
    same_cols = a.n_cols == b.n_cols
    last = [c for c in a.cells if c.r1 == a.n_rows]
    if same_cols and _joins_split_row(last, [c for c in b.cells if c.r0 == drop]):
        for c in b.cells:
            if c.r0 == drop and c.text:
                above = next(u for u in last if u.c0 == c.c0)
                above.text = join_pieces([above.text, c.text], separator="\n")
                above.quality = _min_quality(above.quality, c.quality)
        drop += 1
    offset = a.n_rows - drop
    for c in b.cells:
        if c.r0 < drop:
            continue
        if c.r0 == drop and not c.text and c.r1 - c.r0 > 1 and same_cols:
            above = next((u for u in last if u.c0 == c.c0 and u.c1 == c.c1 and u.text), None)
            if above is not None:  # a merged label cell that the page break cut: one cell again
                above.r1 = c.r1 + offset
                continue
        c.r0 += offset
        c.r1 += offset
        a.cells.append(c)
    a.pages.extend(b.pages)
    if not same_cols:
        _realign_columns(a, settings)
    return _compact(a)


_TERMINAL = tuple("。！？；.!?;")
_NUMERIC = re.compile(r"^[\d\s,，.．０-９%％—\-/]*$")


def _joins_split_row(last: list[RawCell], first: list[RawCell]) -> bool:
    """Whether the first row of a continuation is the rest of a row the page break cut.

    True when its first column is empty, it has text, none of it is a number (a
    statistics row always has numbers), and every filled cell continues a cell
    above that stops mid-sentence.
    """
    if not first or not last:
        return False
    filled = [c for c in first if c.text]
    if not filled or any(c.c0 == 0 for c in filled) or any(_NUMERIC.match(c.text) for c in filled):
        return False
    for c in filled:
        above = next((u for u in last if u.c0 == c.c0 and u.c1 == c.c1), None)
        if above is None or not above.text or above.text.endswith(_TERMINAL):
            return False
    return True


def _min_quality(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def to_table(t: RawTable, index: int) -> Table:
    """The model Table of a finished (possibly multi-page) raw table."""
    rows: dict[int, list[Cell]] = {}
    for c in t.cells:
        bbox = (round(c.x0, 2), round(c.top, 2), round(c.x1, 2), round(c.bottom, 2))
        # the model's fast factories: the same records at under half the cost of the constructors
        cell = make_cell(
            c.text, c.r0, c.c0, c.r1 - c.r0, c.c1 - c.c0,
            make_source(c.page, bbox, index, c.r0, c.c0, None), c.quality,
        )
        rows.setdefault(c.r0, []).append(cell)
    ordered = tuple(tuple(sorted(rows.get(r, []), key=lambda x: x.col)) for r in range(t.n_rows))
    bbox = tuple(round(v, 2) for v in t.bbox)
    return Table(rows=ordered, index=index, source=Source(page=t.page, bbox=bbox, table=index))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- unruled tables

_VALUE = re.compile(r"^[\d０-９][\d０-９,，.．%％]*\s*[件条次篇个人万元项家]{0,3}$|^[—\-－/／]+$")


def _segments(line: Line, gap: float) -> list[tuple[float, float, str, list[Char]]]:
    """Split a line at wide gaps: the pieces a borderless table row is made of."""
    out: list[list[Char]] = [[line.chars[0]]]
    for prev, c in zip(line.chars, line.chars[1:]):
        if c.x0 - prev.x1 > gap:
            out.append([c])
        else:
            out[-1].append(c)
    return [(g[0].x0, g[-1].x1, "".join(ch.text for ch in g), g) for g in out]


def find_unruled_tables(lines: list[Line], page_no: int, settings: PdfSettings) -> tuple[list[RawTable], list[Line]]:
    """Borderless statistics tables: runs of lines that split into a label and aligned values.

    A fallback for layouts that draw no cell borders. Columns are the unions of
    the pieces' x ranges over the run, so a missing value leaves its column empty
    instead of shifting the row left. `lines` are `make_line`'s: a line whose
    widest gap (`max_gap`) is no column gap is one piece, not split to find out.
    """
    rows: list[list[tuple[float, float, str, list[Char]]] | None] = []
    for ln in lines:
        gap = settings.unruled_gap_ratio * ln.size
        if ln.max_gap <= gap:  # no gap wider than that between neighbours (make_line measured them): one piece
            rows.append(None)
            continue
        segs = _segments(ln, gap)
        ok = len(segs) >= 2 and any(_VALUE.match(s[2]) for s in segs[1:])
        rows.append(segs if ok else None)
    tables: list[RawTable] = []
    keep: list[Line] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and rows[j] is not None:
            j += 1
        if j - i >= settings.min_unruled_rows:
            tables.append(_unruled_table(lines[i:j], [r for r in rows[i:j] if r], page_no, settings))
            i = j
        else:
            keep.extend(lines[i : max(j, i + 1)])
            i = max(j, i + 1)
    return tables, keep


def _unruled_table(
    lines: list[Line], rows: list[list[tuple[float, float, str, list[Char]]]], page_no: int, settings: PdfSettings
) -> RawTable:
    spans: list[list[float]] = []
    for x0, x1, _, _ in sorted((s for r in rows for s in r), key=lambda s: s[0]):
        if spans and x0 <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], x1)
        else:
            spans.append([x0, x1])
    starts = [s[0] for s in spans]
    cells: list[RawCell] = []
    for r, (ln, segs) in enumerate(zip(lines, rows)):
        texts: dict[int, list[tuple[float, float, str, list[Char]]]] = {}
        for s in segs:
            texts.setdefault(max(bisect_right(starts, (s[0] + s[1]) / 2) - 1, 0), []).append(s)
        for c, (x0, x1) in enumerate(spans):
            got = texts.get(c, [])
            chs = [ch for s in got for ch in s[3]]
            text = make_line(chs, settings).text if got else ""
            cells.append(RawCell(text, r, r + 1, c, c + 1, x0, ln.top, x1, ln.bottom, page_no, chars_quality(chs)))
    bbox = (spans[0][0], lines[0].top, spans[-1][1], lines[-1].bottom)
    return RawTable(page=page_no, bbox=bbox, cells=cells, n_rows=len(lines), n_cols=len(spans), pages=[page_no])


def path_rules(
    subpaths: Sequence[tuple[list[tuple[float, float]], bool]], stroked: bool, settings: PdfSettings
) -> tuple[list[Rule], list[Rule]]:
    """Rulings of a drawn path given as (points, closed) subpaths in top-down page points.

    The entry for fixed-layout formats other than PDF (OFD): their paths go
    through the same rule extraction, so their tables get the same reconstruction.
    `stroked` False means a fill only, where only thin bars count as rules.
    """
    horiz: list[Rule] = []
    vert: list[Rule] = []
    for pts, closed in subpaths:
        _subpath_rules(pts, closed, not stroked, settings, horiz, vert)
    return horiz, vert
