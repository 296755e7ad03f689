"""The one document model every reader returns and every later stage reads.

A report is an ordered sequence of blocks: paragraphs (one line of running text
each) and tables (rows of cells on a grid, merged cells resolved to spans).
Every block carries its provenance so a value can be traced back to the page,
table, row and column it came from. The records are frozen dataclasses: a stage
never mutates what an earlier stage produced.

Readers build thousands of records a file, and a frozen dataclass's `__init__`
pays one `object.__setattr__` call per field. `make_source`, `make_cell` and
`make_paragraph` build the very same records (equal, hashable, frozen, picklable)
at under half the cost: they fill a plain twin class with the same slots and
then retype the object to the record class.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from typing import Literal, Union

Format = Literal["pdf", "docx", "html", "txt", "md", "doc", "xlsx", "xls", "ods", "odt", "rtf", "mht", "ofd", "image"]


@dataclass(frozen=True, slots=True)
class Source:
    """Where a piece of content was found. Unknown parts stay None."""

    page: int | None = None  # 1-based page (PDF)
    bbox: tuple[float, float, float, float] | None = None  # x0, top, x1, bottom in PDF points
    table: int | None = None  # 0-based index of the table in the document
    row: int | None = None  # 0-based grid row inside the table
    col: int | None = None  # 0-based grid column inside the table
    line: int | None = None  # 0-based line (text formats) or block index

    def to_dict(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True, slots=True)
class Cell:
    """One table cell at its top-left grid position; spans say how far it reaches.

    `text` keeps the cell's own line breaks ("\\n") so later stages can re-join
    labels that a layout broke over several lines.
    """

    text: str
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1
    source: Source = field(default_factory=Source)
    # the reader's own certainty in `text` (an OCR recogniser's lowest character score, 0–1);
    # None for text read from a text layer or markup, which is exact
    quality: float | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """A table as a list of rows; each row lists the cells that start in it, left to right."""

    rows: tuple[tuple[Cell, ...], ...]
    index: int = 0
    source: Source = field(default_factory=Source)

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @property
    def n_cols(self) -> int:
        return max((c.col + c.colspan for r in self.rows for c in r), default=0)

    def grid(self) -> list[list[Cell | None]]:
        """Cells laid on the full grid; a merged cell fills every position it covers."""
        n_cols = self.n_cols
        out: list[list[Cell | None]] = [[None] * n_cols for _ in self.rows]
        for r in self.rows:
            for c in r:
                for dr in range(c.rowspan):
                    for dc in range(c.colspan):
                        rr, cc = c.row + dr, c.col + dc
                        if rr < len(out) and cc < n_cols:
                            out[rr][cc] = c
        return out

    def text(self) -> str:
        """Row-major text of the table: one line per row, cells separated by a space."""
        lines = []
        for r in self.rows:
            parts = [" ".join(c.text.split()) for c in r if c.text.strip()]
            if parts:
                lines.append(" ".join(parts))
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One paragraph (or one visual line where the format has no paragraphs)."""

    text: str
    source: Source = field(default_factory=Source)
    style: str | None = None  # reader hint, e.g. "heading", "title", "list"
    quality: float | None = None  # as Cell.quality: None for exact text, an OCR score otherwise


Block = Union[Paragraph, Table]


@dataclass(frozen=True, slots=True)
class Document:
    """What a reader returns: ordered blocks plus facts about the file itself."""

    blocks: tuple[Block, ...]
    format: Format
    pages: int | None = None  # page count where the format has pages
    title: str | None = None  # <title> of an HTML page, core title of a DOCX
    warnings: tuple[str, ...] = ()

    @property
    def tables(self) -> tuple[Table, ...]:
        return tuple(b for b in self.blocks if isinstance(b, Table))

    @property
    def paragraphs(self) -> tuple[Paragraph, ...]:
        return tuple(b for b in self.blocks if isinstance(b, Paragraph))

    def iter_lines(self) -> Iterator[str]:
        """Every block as text lines, tables row by row: the narrative view of the document."""
        for b in self.blocks:
            if isinstance(b, Paragraph):
                yield b.text
            else:
                yield from b.text().split("\n")

    def text(self) -> str:
        return "\n".join(self.iter_lines())


# --------------------------------------------------------------------------- fast construction


def _draft(cls: type, sets: tuple[str, ...] | None = None) -> type:
    """A plain class with exactly `cls`'s slots (so an instance can be retyped to `cls`) and no checks.

    `sets`: the fields the caller's constructor stores, in order; checked here to be every field of
    `cls`, so a field added to the record cannot be left unset by its fast constructor.
    """
    if sets is not None:
        assert tuple(f.name for f in fields(cls)) == sets, f"the fast constructor of {cls.__name__} sets every field"
    return type(f"_{cls.__name__}Draft", (), {"__slots__": cls.__slots__})  # type: ignore[attr-defined]


_SourceDraft, _CellDraft, _ParagraphDraft = _draft(Source), _draft(Cell), _draft(Paragraph)
_new = object.__new__
_retype = object.__setattr__  # object.__setattr__(o, "__class__", cls): allowed between equal slot layouts


def make_source(
    page: int | None, bbox: tuple[float, float, float, float] | None, table: int | None,
    row: int | None, col: int | None, line: int | None,
) -> Source:
    """`Source(page, bbox, table, row, col, line)`, built without the frozen per-field setattr."""
    s = _new(_SourceDraft)
    s.page = page
    s.bbox = bbox
    s.table = table
    s.row = row
    s.col = col
    s.line = line
    _retype(s, "__class__", Source)
    return s  # type: ignore[return-value]


def make_cell(
    text: str, row: int, col: int, rowspan: int, colspan: int, source: Source, quality: float | None = None
) -> Cell:
    """`Cell(text, row, col, rowspan, colspan, source, quality)`, built as `make_source` builds."""
    c = _new(_CellDraft)
    c.text = text
    c.row = row
    c.col = col
    c.rowspan = rowspan
    c.colspan = colspan
    c.source = source
    c.quality = quality
    _retype(c, "__class__", Cell)
    return c  # type: ignore[return-value]


def make_paragraph(text: str, source: Source, style: str | None = None, quality: float | None = None) -> Paragraph:
    """`Paragraph(text, source, style, quality)`, built as `make_source` builds."""
    p = _new(_ParagraphDraft)
    p.text = text
    p.source = source
    p.style = style
    p.quality = quality
    _retype(p, "__class__", Paragraph)
    return p  # type: ignore[return-value]
