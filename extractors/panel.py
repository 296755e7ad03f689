"""The wide panel as files people open: CSV (with review list and data dictionary) and an Excel workbook.

The panel itself is `extractors.dataset.wide_table` (one row per report, the
column set fixed by the catalogue, short Stata-valid variable names); this module
only writes it, so the CSV, the workbook and the `.dta` always have the same
columns under the same names. The two companions make the panel usable without
this code: a review list of the cells whose confidence is below the threshold
(with where in the report to look) and a data dictionary (variable, canonical id,
Chinese label, unit, the arithmetic the form requires). The workbook carries the
Chinese label as a header row above the variable names, keeps the identifying
columns and both header rows in view, filters on the name row and colours the
cells to review.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .dataset import REVIEW_COLUMNS, Wide, _catalogue_rows, csv_cell

DICTIONARY_COLUMNS: tuple[str, ...] = ("variable", "indicator", "kind", "label_zh", "unit", "sum_of", "description")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True, slots=True)
class PanelSettings:
    """Knobs of how the panel files look (what is in them is `DatasetSettings`)."""

    csv_encoding: str = "utf-8-sig"  # a BOM so spreadsheet programs show Chinese text; pandas reads it as is
    review_fill: str = "FFF2CC"  # XLSX background of a cell below the review threshold
    error_fill: str = "F4CCCC"  # XLSX background of the file cell of a report that failed
    header_fill: str = "DDEBF7"  # XLSX background of the two header rows
    frozen_columns: int = 3  # file, agency, year stay in view while scrolling right
    max_column_width: int = 40


def dictionary_rows(wide: Wide) -> list[dict[str, object]]:
    """One row per panel column: what it holds, in which unit, and the sum the form requires of it."""
    sum_of = {r["id"]: r["sum_of"] for r in _catalogue_rows()}
    return [{"variable": c.name, "indicator": c.id, "kind": c.kind, "label_zh": c.label_zh, "unit": c.unit,
             "sum_of": sum_of.get(c.id or "", "") if c.kind == "catalogue" else "", "description": c.description}
            for c in wide.columns]


def companion_paths(path: Path) -> tuple[Path, Path]:
    """`panel.csv` -> (`panel_review.csv`, `panel_dictionary.csv`), next to it."""
    return (path.with_name(f"{path.stem}_review{path.suffix}"), path.with_name(f"{path.stem}_dictionary{path.suffix}"))


def _write_csv(path: Path, columns: Iterable[str], rows: Iterable[dict[str, object]], encoding: str) -> None:
    columns = list(columns)
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for row in rows:
            w.writerow([csv_cell(row.get(c)) for c in columns])


def write_csv(wide: Wide, path: Path, settings: PanelSettings = PanelSettings()) -> list[Path]:
    """The panel (variable names as the header), its review list and its dictionary as three CSV files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    review_path, dict_path = companion_paths(path)
    _write_csv(path, wide.names, wide.rows, settings.csv_encoding)
    _write_csv(review_path, REVIEW_COLUMNS, wide.review, settings.csv_encoding)
    _write_csv(dict_path, DICTIONARY_COLUMNS, dictionary_rows(wide), settings.csv_encoding)
    return [path, review_path, dict_path]


def write_xlsx(wide: Wide, path: Path, settings: PanelSettings = PanelSettings()) -> Path:
    """One workbook: `panel` (Chinese label row over the variable-name row, frozen, filtered, cells to review
    coloured), `review` and `dictionary`.

    Written in openpyxl's streaming mode so a panel of thousands of reports × 400
    columns does not have to fit in memory as cell objects. `pandas.read_excel(path,
    header=1)` reads the panel with the variable names as columns.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    def solid(rgb: str) -> PatternFill:
        return PatternFill("solid", start_color=rgb, end_color=rgb)

    bold, review_fill, error_fill, header_fill = Font(bold=True), solid(settings.review_fill), solid(
        settings.error_fill), solid(settings.header_fill)
    wrap = Alignment(wrap_text=True, vertical="top")
    wb = Workbook(write_only=True)

    def cell(ws, value: object, **style: object) -> WriteOnlyCell:
        if isinstance(value, str):
            value = _ILLEGAL_XML.sub("", value)
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str):
            c.data_type = "s"  # never a formula, whatever the document printed
        for k, v in style.items():
            setattr(c, k, v)
        return c

    def sheet(title: str, columns: list[str], rows: list[dict[str, object]], widths: dict[str, int],
              labels: list[str] | None = None) -> None:
        shade = labels is not None  # only the panel sheet colours cells
        ws = wb.create_sheet(title)
        head = 2 if labels else 1
        ws.freeze_panes = f"{get_column_letter(settings.frozen_columns + 1)}{head + 1}" if labels else "A2"
        for j, col in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(j)].width = widths.get(col, 12)
        ws.auto_filter.ref = f"A{head}:{get_column_letter(len(columns))}{head + len(rows)}"  # on the name row
        if labels:
            ws.row_dimensions[1].height = 45
            ws.append([cell(ws, z, font=bold, fill=header_fill, alignment=wrap) for z in labels])
        ws.append([cell(ws, c, font=bold, fill=header_fill) for c in columns])
        for i, row in enumerate(rows):
            out = []
            for c in columns:
                style: dict[str, object] = {}
                if shade and (i, c) in wide.low_cells:
                    style["fill"] = review_fill
                elif shade and c == "file" and row.get("error"):
                    style["fill"] = error_fill
                out.append(cell(ws, row.get(c), **style))
            ws.append(out)

    file_width = min(settings.max_column_width, max([len(str(r.get("file", ""))) for r in wide.rows] + [10]))
    widths = {"file": file_width, "agency": 24, "agency_norm": 24, "agency_key": 24, "report_key": 20, "error": 30}
    sheet("panel", wide.names, wide.rows, widths, [c.label_zh for c in wide.columns])
    sheet("review", list(REVIEW_COLUMNS), wide.review,
          {"file": file_width, "variable": 30, "indicator": 36, "label_zh": 36, "label_printed": 36, "raw": 30})
    sheet("dictionary", list(DICTIONARY_COLUMNS), dictionary_rows(wide),
          {"variable": 32, "indicator": 40, "label_zh": 50, "description": 50, "sum_of": 40})
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
