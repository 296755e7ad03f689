"""Small, span-aware edits of `Table`/`Document` records (the model is frozen: every edit builds new records)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from extractors.model import Block, Cell, Document, Paragraph, Source, Table


@dataclass
class C:
    """A mutable cell while a table is being edited."""

    text: str
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1


def cells(t: Table) -> list[C]:
    return [C(c.text, c.row, c.col, c.rowspan, c.colspan) for r in t.rows for c in r]


def build(cs: list[C], index: int) -> Table:
    """A Table from edited cells; rows are renumbered densely, sources follow the new grid."""
    used = sorted({c.row for c in cs})
    remap = {r: i for i, r in enumerate(used)}
    rows: list[list[Cell]] = [[] for _ in used]
    for c in sorted(cs, key=lambda c: (c.row, c.col)):
        r = remap[c.row]
        rows[r].append(Cell(c.text, r, c.col, c.rowspan, c.colspan, Source(table=index, row=r, col=c.col)))
    return Table(rows=tuple(tuple(r) for r in rows), index=index, source=Source(table=index))


def is_ragged(t: Table) -> bool:
    """A table without merged cells whose rows have different lengths (Word's text export)."""
    return all(c.rowspan == 1 and c.colspan == 1 for r in t.rows for c in r)


def insert_col(cs: list[C], p: int, fill: dict[int, str], widen: Callable[[C], bool] = lambda c: False) -> list[C]:
    """Insert a grid column at position p; straddling cells (and `widen` ones ending at p) grow."""
    for c in cs:
        if c.col >= p:
            c.col += 1
        elif c.col + c.colspan > p or (c.col + c.colspan == p and widen(c)):
            c.colspan += 1
    covered = {(r, c.col + k) for c in cs for r in range(c.row, c.row + c.rowspan) for k in range(c.colspan)}
    for r, text in fill.items():
        if (r, p) not in covered:
            cs.append(C(text, r, p))
    return cs


def insert_in_row(cs: list[C], row: int, pos: int, text: str) -> list[C]:
    """Ragged tables: insert a cell at position `pos` of one row (negative counts from the right)."""
    own = sorted((c for c in cs if c.row == row), key=lambda c: c.col)
    n = len(own)
    at = pos if pos >= 0 else n + pos + 1
    for c in own[at:]:
        c.col += 1
    cs.append(C(text, row, at))
    return cs


def row_texts(cs: list[C], row: int) -> list[C]:
    return sorted((c for c in cs if c.row == row), key=lambda c: c.col)


def renumber(doc: Document, blocks: list[Block]) -> Document:
    """Blocks re-indexed (tables count from 0 in order), as a reader would return them."""
    out: list[Block] = []
    ti = 0
    for i, b in enumerate(blocks):
        if isinstance(b, Table):
            cs = cells(b)
            out.append(build(cs, ti))
            ti += 1
        else:
            out.append(Paragraph(b.text, Source(line=i), b.style))
    return replace(doc, blocks=tuple(out))
