"""Plain-text reader: UTF-8, GB18030/GBK, UTF-16 with BOM; Word's TAB-cell export layout.

Word's "save as text" writes each table cell on a line of its own that starts
with a TAB; a cell whose text has several paragraphs continues on the next lines
without a TAB; a blank line ends a table row. Vertically merged cells come out
as empty cells, horizontally merged ones once, so a row's cells are placed left
to right and the table interpreter aligns values from the right.
"""
from __future__ import annotations

import re

from ..errors import ResourceLimitError
from ..model import Block, Cell, Document, Paragraph, Source, Table
from . import crawler
from .encoding import decode_text
from .options import ReadOptions

_BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]")


def _clean(line: str) -> str:
    return _BOOKMARK.sub("", line).rstrip("\r\n ")


def read(data: bytes, options: ReadOptions) -> Document:
    """Read a plain-text report; TAB-led lines become table cells; crawler text goes to `crawler`."""
    text = decode_text(data) or ""
    if len(text) > options.max_text_chars:
        raise ResourceLimitError(
            f"The text has {len(text)} characters; the limit is {options.max_text_chars}.",
            limit=options.max_text_chars,
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if crawler.detect(text):  # a crawler's header block or run-together table text
        return crawler.read_text(text)
    lines = [_clean(x) for x in text.split("\n")]
    blocks: list[Block] = []
    rows: list[list[tuple[str, int]]] = []  # cells of the table being built: (text, line number)
    row: list[tuple[str, int]] = []
    table_start = 0
    in_cell = False  # the previous line was a cell (so a TAB-less line continues it)

    def flush_row() -> None:
        nonlocal row
        if row:
            rows.append(row)
        row = []

    n_tables = 0

    def flush_table() -> None:
        nonlocal rows, n_tables
        flush_row()
        if rows:
            index = n_tables  # a running count: recounting the blocks per table was quadratic
            cells = tuple(
                tuple(
                    Cell(text=t, row=r, col=c, source=Source(table=index, row=r, col=c, line=ln))
                    for c, (t, ln) in enumerate(cells_)
                )
                for r, cells_ in enumerate(rows)
            )
            blocks.append(Table(rows=cells, index=index, source=Source(table=index, line=table_start)))
            n_tables += 1
        rows = []

    for i, line in enumerate(lines):
        if line.startswith("\t"):
            if not rows and not row:
                table_start = i
            row.append((line[1:].strip("\t"), i))
            in_cell = True
        elif not line.strip():
            if row:
                flush_row()
            in_cell = False
        elif in_cell and row:
            t, ln = row[-1]
            row[-1] = (t + "\n" + line, ln)
        else:
            if rows or row:
                flush_table()
            in_cell = False
            blocks.append(Paragraph(text=line.strip(), source=Source(line=i)))
    flush_table()
    return Document(blocks=tuple(blocks), format="txt")

