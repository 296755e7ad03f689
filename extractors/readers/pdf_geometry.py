"""Geometry primitives of the PDF reader: characters, visual lines, CJK-aware joining.

Everything works in PDF points with a top-down y axis (`top` grows downwards), the
convention of `Source.bbox`. The functions are pure Python over small lists so a
page costs a few milliseconds; pdfium is only asked for characters and paths.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from bisect import bisect_right
from dataclasses import dataclass
from itertools import islice
from math import isfinite
from operator import attrgetter


@dataclass(frozen=True, slots=True)
class PdfSettings:
    """Tuning knobs of the PDF reader (tolerances in points or as a ratio of the font size)."""

    # caps of the table builder (past them: ResourceLimitError naming the cap); real report pages
    # have a few hundred rulings and cells, a table continued over pages a few thousand cells
    max_page_rules: int = 10_000  # ruling lines on one page
    max_grid_cells: int = 20_000  # grid squares of one ruled table on one page
    max_table_cells: int = 10_000  # cells of one table continued over pages
    # ruling lines and table grids
    max_rule_thickness: float = 2.5  # a filled rectangle thinner than this is a drawn line
    min_rule_length: float = 4.0  # shorter strokes are glyph decoration, not table rules
    snap_tolerance: float = 2.5  # rules this close are the same grid line
    join_tolerance: float = 3.0  # collinear rules with a smaller gap are one rule
    touch_tolerance: float = 2.5  # a rule ending this close to another one touches it
    min_table_cells: int = 2  # a ruled box with fewer cells is a frame, not a table
    continuation_x_tolerance: float = 6.0  # outer edges of a table continued on the next page
    unruled_tables: bool = True  # also look for borderless tables in the running text
    unruled_gap_ratio: float = 1.5  # a gap this wide (x font size) separates borderless columns
    min_unruled_rows: int = 3  # consecutive label-and-values lines that make a borderless table
    # characters and lines
    duplicate_overlap: float = 0.8  # a same-glyph overlap this large is fake-bold overprint
    line_overlap: float = 0.5  # vertical-centre distance (ratio of height) inside one line
    space_ratio: float = 0.2  # a gap wider than this x glyph height separates words
    spread_gap_ratio: float = 2.0  # a line with a gap this wide (x size) is form fields, not prose
    # paragraphs
    indent_ratio: float = 0.8  # a line starting this far (x size) right of the margin is indented
    full_line_ratio: float = 2.2  # a line ending within this (x size) of the right margin is full
    paragraph_gap_ratio: float = 1.2  # a vertical gap above this (x size) breaks a paragraph
    size_change_ratio: float = 0.3  # a font-size change above this share breaks a paragraph
    title_size_ratio: float = 1.25  # a first-page line this much larger than body text is the title
    page_margin_ratio: float = 0.1  # top/bottom share of the page where bare page numbers live
    min_chars_per_page: float = 5.0  # fewer real characters per page means a scanned document
    # memory: pdfium keeps every page's parsed objects until its document is closed (~0.13 MiB a page);
    # the reader reopens the document after this many pages, so a long PDF costs what this many do
    pages_per_open: int = 32


class Char:
    """One glyph with its loose box (x0, top, x1, bottom) in top-down page points.

    A plain slotted class with the centre precomputed: a page has a thousand of
    these and layout reads the centre many times.
    """

    __slots__ = ("bottom", "cx", "cy", "height", "text", "top", "x0", "x1")

    def __init__(self, text: str, x0: float, top: float, x1: float, bottom: float) -> None:
        self.text = text
        self.x0, self.top, self.x1, self.bottom = x0, top, x1, bottom  # as `set_box`, inlined: one frame a char
        self.cx = (x0 + x1) / 2
        self.cy = (top + bottom) / 2
        self.height = bottom - top

    def set_box(self, x0: float, top: float, x1: float, bottom: float) -> None:
        self.x0, self.top, self.x1, self.bottom = x0, top, x1, bottom
        self.cx = (x0 + x1) / 2
        self.cy = (top + bottom) / 2
        self.height = bottom - top

    def __repr__(self) -> str:
        return f"Char({self.text!r}, {self.x0:.1f}, {self.top:.1f}, {self.x1:.1f}, {self.bottom:.1f})"


def chars_from_boxes(
    text: str,
    index: Iterable[int],
    lefts: Iterable[float],
    tops: Iterable[float],
    rights: Iterable[float],
    bottoms: Iterable[float],
    height: float,
) -> list[Char]:
    """Characters `text[i]` (i in `index`) with boxes measured up from the page foot, flipped top-down.

    One loop here instead of a `Char(...)` call each: a page has hundreds of
    characters and the class call's frame costs more than filling the slots.
    The fields are exactly those `Char.__init__` sets.
    """
    out: list[Char] = []
    append = out.append
    new = object.__new__
    for i, x0, t, x1, b in zip(index, lefts, tops, rights, bottoms):
        c = new(Char)
        top = height - t
        bottom = height - b
        c.text = text[i]
        c.x0 = x0
        c.top = top
        c.x1 = x1
        c.bottom = bottom
        c.cx = (x0 + x1) / 2
        c.cy = (top + bottom) / 2
        c.height = bottom - top
        append(c)
    return out


@dataclass(slots=True)
class Line:
    """One visual line: its characters left to right and the text they spell."""

    chars: list[Char]
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    max_gap: float = 0.0  # widest gap between neighbouring characters: form-like spread text
    size: float = 1.0  # font size (em), the unit every ratio in `PdfSettings` multiplies

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return (round(self.x0, 2), round(self.top, 2), round(self.x1, 2), round(self.bottom, 2))


def is_wide(ch: str) -> bool:
    """CJK ideographs, kana, CJK and full-width punctuation: characters Chinese text never spaces."""
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0xFE30 <= o <= 0xFE4F
        or 0xFF00 <= o <= 0xFFEF
        or 0x20000 <= o <= 0x3FFFF
        or o in _WIDE_PUNCT
    )


_WIDE_PUNCT = frozenset(map(ord, "‘’“”—–…·•※"))
_WIDE_CACHE_MAX = 1 << 16  # distinct characters remembered (a page repeats a few hundred)


class _WideCache(dict[str, bool]):
    """`is_wide` memoised per character: line spelling asks it for every character of a page."""

    def __missing__(self, ch: str) -> bool:
        wide = is_wide(ch)
        if len(self) < _WIDE_CACHE_MAX:
            self[ch] = wide
        return wide


_WIDE = _WideCache()
_BY_CY = attrgetter("cy")
_BY_X0 = attrgetter("x0")
_BY_TOP_X0 = attrgetter("top", "x0")


def join_pieces(pieces: Iterable[str], separator: str = " ") -> str:
    """Join text pieces; nothing goes between pieces where either side is CJK (wrapped Chinese)."""
    out = ""
    for p in pieces:
        p = p.strip()
        if not p:
            continue
        if out and not (is_wide(out[-1]) or is_wide(p[0])):
            out += separator
        out += p
    return out


def squeeze_cjk_spaces(text: str) -> str:
    """Drop spaces that sit between two CJK characters (justification, not words)."""
    if " " not in text:
        return text
    parts = text.split(" ")
    out = parts[0]
    for p in parts[1:]:
        if not p:
            continue
        if out and (is_wide(out[-1]) and is_wide(p[0])):
            out += p
        elif out:
            out += " " + p
        else:
            out = p
    return out


def dedupe_overprint(chars: list[Char], settings: PdfSettings) -> list[Char]:
    """Remove fake-bold copies: the same glyph drawn again almost on top of itself.

    A character is compared with the last three kept ones, and only the areas of
    those that spell the same glyph are computed. The three kept texts ride along
    in locals, so the common case (no repeat) costs three string compares.
    """
    out: list[Char] = []
    ratio = settings.duplicate_overlap
    t1 = t2 = t3 = None  # texts of the last, second and third last kept characters
    for c in chars:
        t = c.text
        if t == t1 or t == t2 or t == t3:
            dup = False
            for prev in out[-3:]:
                if prev.text == t:
                    w = min(prev.x1, c.x1) - max(prev.x0, c.x0)
                    h = min(prev.bottom, c.bottom) - max(prev.top, c.top)
                    if w > 0 and h > 0 and w * h >= ratio * (c.x1 - c.x0) * max(c.height, 0.1):
                        dup = True
                        break
            if dup:
                continue
        out.append(c)
        t3, t2, t1 = t2, t1, t
    return out


def group_lines(chars: Sequence[Char], settings: PdfSettings) -> list[Line]:
    """Group characters into visual lines by vertical centre, then order each line left to right.

    A line starts at its topmost centre and takes the following centres while they
    lie within `line_overlap` x the taller height of the first and the newcomer.
    Every centre within that share of the first's own height is in for sure, so a
    bisection over the sorted centres takes those at once; only the one or two
    beyond are tested by height.
    """
    if not chars:
        return []
    ordered = sorted(chars, key=_BY_CY)
    overlap = settings.line_overlap
    groups = None
    if len(ordered) >= _BISECT_MIN and overlap >= 0:  # a few characters (a cell) are quicker stepped
        cys = [c.cy for c in ordered]
        if isfinite(sum(cys)):  # infinite or undefined centres: stepped
            groups = _bisect_groups(ordered, cys, overlap)
    if groups is None:
        groups = _step_groups(ordered, overlap)
    lines = [make_line(sorted(g, key=_BY_X0), settings) for g in groups]
    lines.sort(key=_BY_TOP_X0)
    return lines


_BISECT_MIN = 16  # characters from which bisecting lines beats stepping (a table cell holds fewer)


def _bisect_groups(ordered: list[Char], cys: list[float], overlap: float) -> list[list[Char]]:
    """`_step_groups` for finite, sorted centres `cys` and a tolerance of at least zero."""
    groups: list[list[Char]] = []
    n = len(ordered)
    s = 0
    while s < n:
        cy0 = cys[s]
        h0 = ordered[s].height
        e = s + 1
        if h0 == h0:  # a height that is a number: max(h0, h, 1.0) is at least max(h0, 1.0)
            sure = overlap * (h0 if h0 > 1.0 else 1.0)
            e = bisect_right(cys, cy0 + sure, e)
            while e > s + 1 and cys[e - 1] - cy0 > sure:  # the bisection's sum rounds: settled exactly
                e -= 1
            while e < n and cys[e] - cy0 <= sure:
                e += 1
        while e < n:  # a taller newcomer widens its own tolerance (as in `_step_groups`)
            h = ordered[e].height
            tallest = h0
            if h > tallest:
                tallest = h
            if 1.0 > tallest:
                tallest = 1.0
            if cys[e] - cy0 <= overlap * tallest:
                e += 1
            else:
                break
        groups.append(ordered[s:e])
        s = e
    return groups


def _step_groups(ordered: list[Char], overlap: float) -> list[list[Char]]:
    """Lines of characters sorted by centre: each joins the current line or starts the next."""
    groups: list[list[Char]] = []
    cur: list[Char] = [ordered[0]]
    cur_cy = ordered[0].cy
    cur_h = ordered[0].height
    for c in islice(ordered, 1, None):
        h = c.height
        tallest = cur_h  # max(cur_h, h, 1.0), inlined
        if h > tallest:
            tallest = h
        if 1.0 > tallest:
            tallest = 1.0
        if abs(c.cy - cur_cy) <= overlap * tallest:
            cur.append(c)
        else:
            groups.append(cur)
            cur, cur_cy, cur_h = [c], c.cy, c.height
    groups.append(cur)
    return groups


def make_line(chars: list[Char], settings: PdfSettings) -> Line:
    """Spell a left-to-right run of characters, putting a space only in real word gaps.

    One pass also collects the CJK glyphs' advances for the line's em (`_em`).
    """
    hs = sorted([c.height for c in chars])
    size = max(hs[len(hs) // 2], 1.0)
    gap_min = settings.space_ratio * size
    wide = _WIDE
    first = chars[0]
    prev_text = first.text
    buf: list[str] = [prev_text]
    prev_x1 = first.x1
    prev_wide = wide[prev_text]
    advances = [prev_x1 - first.x0] if prev_wide else []  # widths of the CJK glyphs
    max_gap = 0.0
    x1, top, bottom = first.x1, first.top, first.bottom
    for c in islice(chars, 1, None):
        t = c.text
        cjk = wide[t]
        x0 = c.x0
        gap = x0 - prev_x1
        if gap > max_gap:
            max_gap = gap
        if gap > gap_min and not (prev_wide and cjk):
            buf.append(" ")
        buf.append(t)
        prev_x1 = c.x1
        if cjk:
            advances.append(prev_x1 - x0)
        if prev_x1 > x1:
            x1 = prev_x1
        if c.top < top:
            top = c.top
        if c.bottom > bottom:
            bottom = c.bottom
        prev_wide = cjk
    return Line(
        chars=chars,
        text="".join(buf),
        x0=first.x0,
        top=top,
        x1=x1,
        bottom=bottom,
        max_gap=max_gap,
        size=_em(advances, size),
    )


def _em(advances: list[float], median_height: float) -> float:
    """Font size of a line from its CJK glyphs' advances: each is exactly one em, the steadiest measure.

    Latin-only lines fall back to the glyph height, whose ascent and descent vary
    more between fonts.
    """
    if advances:
        advances.sort()
        return max(advances[len(advances) // 2], 1.0)
    return max(0.8 * median_height, 1.0)


def lines_text(lines: Sequence[Line]) -> str:
    """Text of stacked lines (a cell): CJK wraps join directly, other breaks stay as newlines."""
    return join_pieces((ln.text for ln in lines), separator="\n")
