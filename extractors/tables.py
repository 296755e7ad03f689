"""Tables → rows a matcher can read: label cells on the left, value cells on the right.

Word's text export, DOCX, HTML and PDF grids disagree on where merged cells
sit, but they agree on one thing: the values are the right-most cells of a row.
So each row is kept as its own cells left to right, plus the labels of
vertically merged cells from rows above (the parent label of a 表三 group), and
the indicator stage takes as many values from the right as the header says the
zone has.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from .caching import MAX_CACHED_CHARS, remember, text_cache
from .errors import ResourceLimitError
from .model import Cell, Document, Paragraph, Table, _draft, _new, _retype
from .normalize import label_key, nfkc, squash
from .values import ParsedValue, is_value_like, parse_value, read_folded

_UNITS = frozenset(
    ["条", "件", "次", "个", "人", "篇", "期", "份", "项", "人次", "万元", "元", "千元", "亿元", "家", "场", "批", "起", "户", "名", "天", "小时", "——", "—", "-", "/", "单位"]
)
# a cell that prints several numbers (or dashes) separated by spaces, tested on its NFKC form
_TOKEN = r"(?:[+\-]?\d[\d,]*(?:\.\d+)?|[—–\-/／])"
MULTI_NUMBERS = re.compile(rf"^\s*{_TOKEN}(?:\s+{_TOKEN})+\s*$")
_ROW_LINE = re.compile(r"^(?P<label>.*?[^\d\s.,，、（）()+\-])\s+(?P<nums>(?:[-—/]|[+\-]?\d[\d,]*(?:\.\d+)?)(?:\s+(?:[-—/]|[+\-]?\d[\d,]*(?:\.\d+)?))*)$")
_LABEL_END = re.compile(r"[^\d\s.,，、（）()+\-]$")  # a label ends in a word, not a number or a bracket
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class CellText:
    """What the table and indicator stages ask of a cell's text, worked out once per distinct text.

    A report's rows repeat the same few hundred texts (numbers, units, labels) across stages and
    rows; each question below was a memoised call of its own per use (~2,600 a report).
    """

    blank: bool  # not text.strip()
    squashed: str  # squash(text): whitespace removed
    folded: str  # squash(nfkc(text)): also full-width forms folded
    nfkc: str  # nfkc(text)
    value_like: bool  # is_value_like(text)
    parsed: ParsedValue  # parse_value(text)
    number: bool  # a non-blank value-like cell that parses to a number (`TableRow.numeric_count`)
    key: str  # label_key(text)
    note_key: str  # label_key(text, keep_notes=True)
    multi: bool  # several numbers in one cell ("208 1"): what `fit.expand_cells` splits


_FACTS: dict[str, CellText] = {}
_CellTextDraft = _draft(CellText, ("blank", "squashed", "folded", "nfkc", "value_like", "parsed", "number", "key", "note_key", "multi"))
MAX_FACTS = 65_536  # distinct texts remembered (each at most MAX_CACHED_CHARS long), then forgotten at once


def facts(text: str) -> CellText:
    """The `CellText` of `text`, from a memo bounded in entries and in text length.

    A text longer than MAX_CACHED_CHARS is never remembered, and its facts are worked out only
    when asked (`_LongText`): a hostile 49 MiB cell costs what the one question asked of it costs.
    """
    f = _FACTS.get(text)
    if f is None:
        if len(text) > MAX_CACHED_CHARS:
            return _long_facts(text)  # type: ignore[return-value]
        blank = not text.strip()
        folded = nfkc(text)
        squashed_folded = squash(folded)
        like, pv = read_folded(squashed_folded)  # is_value_like(text), parse_value(text)
        note_key = label_key(text, True)  # keep_notes, by position: no keyword for the memo's key to pack
        f = _new(_CellTextDraft)  # CellText(...) without its ten frozen field stores (~1.5 µs a new text)
        f.blank = blank
        f.squashed = squashed_folded if folded == text else squash(text)  # most texts are their own NFKC form
        f.folded = squashed_folded
        f.nfkc = folded
        f.value_like = like
        f.parsed = pv
        f.number = not blank and like and pv.value is not None
        # the two keys differ only by a bracketed note the plain key drops: without a bracket in the
        # note-keeping key (its ends lose only punctuation, never a bracket) they are the same text
        f.key = note_key if "(" not in note_key and "（" not in note_key else label_key(text)
        f.note_key = note_key
        f.multi = MULTI_NUMBERS.match(folded) is not None
        _retype(f, "__class__", CellText)
        remember(_FACTS, text, f, MAX_FACTS)
    return f


def row_facts(cells: Iterable[Cell]) -> list[CellText]:
    """`[facts(c.text) for c in cells]`, the memo read in the loop: the indicator stage asks it of every row."""
    get = _FACTS.get
    return [get(c.text) or facts(c.text) for c in cells]  # a CellText is never falsy


class _LongText:
    """`CellText` of a long text, each fact worked out when first asked and then kept on the object.

    The stages ask the same few facts of a long label several times (a run-together line of
    300,000 brackets: its key, its folded form, whether it is a value), each a pass over the whole
    text; `facts` keeps the last few such objects (`_LONG`, bounded in total characters).
    """

    __slots__ = ("text", "_memo")

    def __init__(self, text: str) -> None:
        self.text = text
        self._memo: dict[str, object] = {}

    def _get(self, name: str, make: Callable[[str], object]) -> Any:
        memo = self._memo
        if name not in memo:
            memo[name] = make(self.text)
        return memo[name]

    blank = property(lambda self: self._get("blank", lambda t: not t.strip()))
    squashed = property(lambda self: self._get("squashed", squash))
    nfkc = property(lambda self: self._get("nfkc", nfkc))
    folded = property(lambda self: self._get("folded", lambda _t: squash(self.nfkc)))
    value_like = property(lambda self: self._get("value_like", is_value_like))
    parsed = property(lambda self: self._get("parsed", parse_value))
    number = property(lambda self: not self.blank and self.value_like and self.parsed.value is not None)
    key = property(lambda self: self._get("key", label_key))
    note_key = property(lambda self: self._get("note_key", lambda t: label_key(t, keep_notes=True)))
    multi = property(lambda self: self._get("multi", lambda _t: MULTI_NUMBERS.match(self.nfkc) is not None))


# long texts whose facts are kept: a few, bounded in characters so a worker's memory does not
# depend on the longest text it ever saw (the memo is dropped whole when a new text would pass it)
_LONG: dict[str, _LongText] = {}
MAX_LONG_CHARS = 2_000_000
_long_chars = 0


def _long_facts(text: str) -> _LongText:
    global _long_chars
    f = _LONG.get(text)
    if f is None:
        f = _LongText(text)
        if len(text) > MAX_LONG_CHARS:
            return f
        if _long_chars + len(text) > MAX_LONG_CHARS:
            _LONG.clear()
            _long_chars = 0
        _LONG[text] = f
        _long_chars += len(text)
    return f


@dataclass(frozen=True, slots=True)
class TableRow:
    """One row of a statistics table, as the indicator stage reads it."""

    table: int
    row: int
    cells: tuple[Cell, ...]  # cells that start in this row, left to right
    inherited: tuple[str, ...]  # texts of merged cells from rows above that cover this row
    loose: bool = False  # rebuilt from a line of running text, not from a table the reader found
    joined: bool = False  # its label was the line above its numbers (a converter split the row)

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(c.text for c in self.cells)

    def joined_key(self) -> str:
        return "".join(f.note_key for f in map(facts, self.texts) if not f.blank)

    def numeric_count(self) -> int:
        return sum(1 for c in self.cells if facts(c.text).number)

    def split(self, k: int) -> tuple[list[Cell], list[Cell], str | None]:
        """(label cells, the last `k` cells as values, unit) — labels exclude units and serial numbers."""
        if k <= 0 or len(self.cells) <= k:
            values = [c for c in self.cells if facts(c.text).value_like] if k > 0 else []
            values = values[-k:] if k > 0 else []
            taken = {id(c) for c in values}  # identity, not dataclass equality: linear in the row
            head = [c for c in self.cells if id(c) not in taken]
        else:
            values = list(self.cells[-k:])
            head = list(self.cells[:-k])
        labels, unit = label_cells(head)
        return labels, values, unit

    def trailing_values(self) -> list[Cell]:
        """The maximal run of value-like cells at the right end of the row."""
        return list(self.cells[values_start(row_facts(self.cells)):])


def values_start(fs: Sequence[CellText]) -> int:
    """Where the maximal run of value-like cells at the row's right end starts (`TableRow.trailing_values`),
    for a caller that has the cells' facts already (`fs`, one per cell)."""
    lead = len(fs)
    while lead and fs[lead - 1].value_like:
        lead -= 1
    return lead


def labels_of(cells: Sequence[Cell], fs: Sequence[CellText]) -> list[Cell]:
    """`label_cells(cells)[0]` for a caller that has the cells' facts already (`fs`, one per cell)."""
    out = []
    for c, f in zip(cells, fs):  # a plain loop: a comprehension's own frame cost more than its few cells
        t = f.folded
        if t and not f.value_like and t not in _UNITS:
            out.append(c)
    return out


def split_facts(cells: Sequence[Cell], fs: Sequence[CellText], k: int) -> tuple[list[Cell], list[Cell], list[CellText]]:
    """`TableRow.split(k)`'s labels and values, and the values' facts, for a caller that has the cells'
    facts already (`fs`, one per cell): the indicator stage reads every row's facts once."""
    n = len(cells)
    if k <= 0:
        return labels_of(cells, fs), [], []
    if n <= k:
        # the value-like cells, the last k of them; the labels are never value-like, so none is taken
        idx = [i for i in range(n) if fs[i].value_like][-k:]
        return labels_of(cells, fs), [cells[i] for i in idx], [fs[i] for i in idx]
    return labels_of(cells[:-k], fs[:-k]), list(cells[-k:]), list(fs[-k:])


def label_cells(cells: Iterable[Cell]) -> tuple[list[Cell], str | None]:
    """(the label cells among `cells`, the first unit cell) — units and serial numbers are no labels."""
    labels: list[Cell] = []
    unit: str | None = None
    for c in cells:
        f = facts(c.text)
        t = f.folded
        if not t:
            continue
        if t in _UNITS:
            unit = unit or t
            continue
        if f.value_like:  # a 序号 column or a stray number left of the values
            continue
        labels.append(c)
    return labels, unit


_COL = attrgetter("col")


def _rows_of(table: Table) -> list[TableRow]:
    rows = table.rows
    n_rows = len(rows)
    # each row's cells by column (readers lay them so, a sort is rarely needed), and `table.n_cols`
    # from the same pass over the cells
    own_rows: list[tuple[Cell, ...]] = []
    ends: list[int] = []
    # the cells that may cover a place left of some row's first cell: a cell of one row laid in its
    # own row (the usual cell) lies at or right of that row's first cell, so it never does
    spanning: list[Cell] = []
    for r, cells in enumerate(rows):
        prev = None
        ordered = True
        for c in cells:
            col = c.col
            if prev is not None and col < prev:
                ordered = False
            prev = col
            ends.append(col + c.colspan)
            if c.rowspan != 1 or c.row != r:
                spanning.append(c)
        own_rows.append(tuple(cells) if ordered else tuple(sorted(cells, key=_COL)))
    n_cols = max(ends, default=0)
    first = [own[0].col if own else n_cols for own in own_rows]
    # What `Table.grid()` holds left of each row's first cell, and only that (the rest is never
    # read here): the merged cells of rows above that cover the place, the last one laid winning.
    cover: dict[tuple[int, int], Cell] = {}
    for c in spanning:  # in the order the cells are laid
        if c.rowspan == 1 and 0 <= c.row < n_rows and c.col >= first[c.row]:
            continue  # covers only its own place, at or right of its row's first cell: never read
        for dr in range(c.rowspan):
            rr = c.row + dr
            if rr >= n_rows:
                break
            if rr < 0:
                continue
            limit = min(first[rr], n_cols)
            for dc in range(c.colspan):
                cc = c.col + dc
                if cc >= limit:
                    break
                if cc >= 0:
                    cover[(rr, cc)] = c
    if not cover:
        index = table.index
        return [_new_row(index, r, own, ()) for r, own in enumerate(own_rows)]
    out = []
    for r, own in enumerate(own_rows):
        inherited: list[str] = []
        seen: set[int] = set()
        for cc in range(min(first[r], n_cols)):
            c = cover.get((r, cc))
            if c is not None and c.row < r and id(c) not in seen and c.text.strip():
                seen.add(id(c))
                inherited.append(c.text)
        out.append(_new_row(table.index, r, own, tuple(inherited)))
    return out


# A plain twin of TableRow with the same slots, retyped once filled (as `model.make_cell` builds cells):
# the frozen dataclass's __init__ sets each field through `object.__setattr__` (~0.15 µs a field), and
# `_rows_of` makes one row per table row of every report.
_RowDraft = _draft(TableRow, ("table", "row", "cells", "inherited", "loose", "joined"))


def _new_row(table: int, row: int, cells: tuple[Cell, ...], inherited: tuple[str, ...]) -> TableRow:
    """`TableRow(table, row, cells, inherited)` of a table the reader found: the same frozen object, for
    less (`tests/test_tables.py` holds the two equal)."""
    t = _new(_RowDraft)
    t.table = table
    t.row = row
    t.cells = cells
    t.inherited = inherited
    t.loose = False
    t.joined = False
    _retype(t, "__class__", TableRow)
    return t  # type: ignore[return-value]


@text_cache(maxsize=16384)
def _spaced(text: str) -> str:
    """`text` NFKC-folded, its whitespace runs one space: the form the line shapes are tested on.

    Memoised like `nfkc` (short lines only): a report's lines repeat across reports of one portal."""
    return " ".join(nfkc(text).split())


_NUM_TOKEN = re.compile(r"(?:[-—/]|[+\-]?\d[\d,]*(?:\.\d+)?)")
_SENTENCE = re.compile(r"[，。；：！？,;:!?]")


@dataclass(frozen=True, slots=True)
class LineShapes:
    """When a line of running text is taken for a table row (a PDF table the reader did not see)."""

    min_numbers_after_label: int = 3  # "label 95 0 0 0 0 0 95"
    max_label: int = 60
    short_row_label: tuple[int, int] = (4, 40)  # "label [unit] 12": label length bounds
    min_numbers_alone: int = 5  # a row of numbers only: 表四's fifteen
    header_tokens: tuple[int, int] = (2, 12)  # "信息内容 本年制发件数 …": a possible header row
    max_header_token: int = 16
    max_numbers: int = 64  # a line with more trailing numbers is running text, not a row (表四 prints 15)


LINE_SHAPES = LineShapes()


@dataclass(frozen=True, slots=True)
class TableLimits:
    """Bounds of the rows handed to form fitting (~100 µs of label scoring each).

    Real reports hold at most a few hundred rows (corpus: 227); 500 real pages of the corpus ~3,300-3,900.
    Past the cap the document is refused (422 resource-limit naming it) rather than fitted for seconds.
    """

    max_rows: int = 5_000


TABLE_LIMITS = TableLimits()


def _paragraph_row(p: Paragraph, index: int, line: int, t: str | None = None) -> TableRow | None:
    """A text line shaped like a table row, or None. Shapes, in order:

    - a label then three or more numbers;
    - a label, perhaps a unit, then one or two numbers (a legacy row "收到申请数 件 6");
    - numbers only, five or more (表四 printed as one line);
    - a few short words without digits or sentence punctuation (a header row).
    """
    sh = LINE_SHAPES
    t = _spaced(p.text) if t is None else t
    tokens = t.split(" ")
    if len(tokens) < min(2, sh.min_numbers_alone, sh.header_tokens[0]):
        return None  # one word (most lines of running text): a row of every shape has two or more tokens
    k = 0
    while k < len(tokens) and _NUM_TOKEN.fullmatch(tokens[-1 - k]):
        k += 1
        if k > sh.max_numbers:  # tens of thousands of numbers on a line: no row of any form
            return None
    head = tokens[: len(tokens) - k]
    nums = tokens[len(tokens) - k:]
    texts: list[str]
    if k and not head:
        if k < sh.min_numbers_alone:
            return None
        texts = nums
    elif k >= sh.min_numbers_after_label:
        label = " ".join(head)
        if len(label) > sh.max_label or not _LABEL_END.search(label):
            return None
        texts = [label, *nums]
    elif k:
        unit = head[-1] if len(head) > 1 and head[-1] in _UNITS else None
        label = " ".join(head[:-1] if unit else head)
        lo, hi = sh.short_row_label
        if not lo <= len(squash(label)) <= hi or _SENTENCE.search(label) or not _LABEL_END.search(label):
            return None
        texts = [label, *([unit] if unit else []), *nums]
    else:
        lo, hi = sh.header_tokens
        if not lo <= len(tokens) <= hi or _SENTENCE.search(t) or _DIGIT.search(t):
            return None
        if any(len(x) > sh.max_header_token for x in tokens):
            return None
        texts = tokens
    printed = " ".join(p.text.split())  # only for a line taken as a row: most lines are not
    if head and len(printed) == len(t):
        # the label as printed (NFKC only served the shapes), where folding kept the length
        texts[0] = printed[: len(texts[0])]
    src = p.source
    cells = tuple(Cell(text=x, row=0, col=i, source=src) for i, x in enumerate(texts))
    return TableRow(table=index, row=line, cells=cells, inherited=(), loose=True)


def interpret(doc: Document, limits: TableLimits = TABLE_LIMITS) -> list[TableRow]:
    """Every table row of the document in reading order.

    Lines of running text shaped like table rows (`_paragraph_row`) are included
    too, as rows of a pseudo-table, so a PDF whose table the reader did not
    recognise still yields its values (with lower confidence).
    Raises ResourceLimitError past `limits.max_rows` rows.
    """
    rows: list[TableRow] = []
    prev: Paragraph | None = None
    for i, b in enumerate(doc.blocks):
        if isinstance(b, Paragraph):
            t = _spaced(b.text)  # what both line shapes read
            joined = _unit_value_row(b, prev, i, t)
            r = joined or _paragraph_row(b, -1, i, t)
            if r is not None:
                rows.append(r)
            prev = b
        else:
            if isinstance(b, Table):
                rows.extend(_rows_of(b))
            prev = None
        if len(rows) > limits.max_rows:
            raise ResourceLimitError(
                f"The document has more than {limits.max_rows} table rows (limit max_rows={limits.max_rows}).",
                limit="max_rows", rows=len(rows),
            )
    return rows


_UNIT_VALUE = re.compile(r"^(?P<unit>\S{1,3})\s+(?P<num>[+\-]?\d[\d,]*(?:\.\d+)?)$")


def _unit_value_row(p: Paragraph, above: Paragraph | None, line: int, t: str | None = None) -> TableRow | None:
    """A legacy row split over two lines by a converter: its label alone, then "条 212"."""
    m = _UNIT_VALUE.match(_spaced(p.text) if t is None else t)
    if not m or m.group("unit") not in _UNITS or above is None:
        return None
    label = " ".join(above.text.split())
    lo, hi = LINE_SHAPES.short_row_label
    if not lo <= len(squash(label)) <= hi or _SENTENCE.search(label) or _NUM_TOKEN.fullmatch(label.split(" ")[-1]):
        return None
    texts = [label, m.group("unit"), m.group("num")]
    cells = tuple(Cell(text=x, row=0, col=k, source=p.source) for k, x in enumerate(texts))
    return TableRow(table=-1, row=line, cells=cells, inherited=(), loose=True, joined=True)

