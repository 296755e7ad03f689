"""The researchers' panel: one row per report, one column per catalogue indicator, as CSV or XLSX.

Built from batch results (JSONL records {"file", "sha256", "result" | "error"}),
with two companions that make it usable without this code: a review list of the
cells whose confidence is below a threshold (for a human to check against the
report) and a data dictionary (column id, Chinese label, unit, the arithmetic the
form requires). A failed file still gets a row, with its error, so the panel
shows which reports are missing rather than silently dropping them.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .batch import latest_records


@dataclass(frozen=True, slots=True)
class PanelSettings:
    """Knobs of the panel export."""

    min_confidence: float = 0.9  # cells below this go to the review list (and are shaded in XLSX)
    csv_encoding: str = "utf-8-sig"  # a BOM so spreadsheet programs show Chinese text; pandas reads it as is
    review_fill: str = "FFF2CC"  # XLSX background of a low-confidence cell
    max_column_width: int = 40


# The fixed columns before the indicators: (column, Chinese label, meaning).
FIXED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("file", "文件", "Input file as given to the batch."),
    ("format", "格式", "Format the file was read as (pdf, docx, html, txt, md)."),
    ("agency", "机关名称", "Reporting agency as printed."),
    ("year", "报告年度", "Year the report covers."),
    ("template", "模板", "Report form: legacy (2008–2018) or revised_2019 (2019 onward)."),
    ("min_confidence", "最低置信度", "Lowest confidence among the row's indicator values, agency, year and template."),
    ("findings", "校验发现数", "Number of validation findings: printed numbers that break the form's arithmetic."),
    ("error", "错误", "Why the file could not be extracted; empty when it was."),
)
REVIEW_COLUMNS: tuple[str, ...] = (
    "file", "column", "label_zh", "label_printed", "value", "unit", "confidence", "source", "raw",
)
DICTIONARY_COLUMNS: tuple[str, ...] = ("column", "label_zh", "unit", "template", "table", "sum_of", "description")
_DOCUMENT_FIELDS: tuple[tuple[str, str], ...] = (("agency", "agency"), ("year", "report_year"), ("template", "template"))
_FIXED_LABELS: dict[str, str] = {c: z for c, z, _ in FIXED_COLUMNS}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def load_catalogue() -> list[dict[str, str]]:
    """The indicator catalogue rows (id, template, table, label_zh, unit, sum_of), in catalogue order."""
    text = resources.files("extractors").joinpath("data/indicators.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@dataclass
class Panel:
    """The three tables of the export, as plain rows (column -> value)."""

    columns: list[str]
    rows: list[dict[str, object]]
    review: list[dict[str, object]]
    dictionary: list[dict[str, object]]
    low_cells: set[tuple[int, str]] = field(default_factory=set)  # (row index, column) below the threshold


# Review locator, counted from 1 as a person reads the report (the response counts tables/rows/cols/lines from 0).
_LOCATOR: tuple[tuple[str, str, int], ...] = (
    ("page", "p", 0), ("table", "table ", 1), ("row", "row ", 1), ("col", "col ", 1), ("line", "line ", 1),
)


def _source_text(src: dict | None) -> str:
    """A compact 'p3 table 2 row 23 col 3' / 'line 41' locator for the review list."""
    return " ".join(f"{name}{src[key] + offset}" for key, name, offset in _LOCATOR if src and src.get(key) is not None)


def build_panel(records: Iterable[dict], settings: PanelSettings = PanelSettings()) -> Panel:
    """Rows, review list and dictionary from batch records (the latest record per report wins)."""
    catalogue = load_catalogue()
    by_id = {row["id"]: row for row in catalogue}
    records = sorted(latest_records(records), key=lambda r: str(r["file"]))  # stable, whatever order workers finished in
    extension_labels: dict[str, tuple[str, str]] = {}  # ids the results carry that the catalogue lacks
    rows: list[dict[str, object]] = []
    review: list[dict[str, object]] = []
    low_cells: set[tuple[int, str]] = set()
    threshold = settings.min_confidence

    for rec in records:
        row: dict[str, object] = {"file": rec["file"]}
        result = rec.get("result")
        if not isinstance(result, dict):
            err = rec.get("error") or {}
            row["error"] = " ".join(str(x) for x in (err.get("title"), err.get("detail")) if x) or "failed"
            rows.append(row)
            continue
        i = len(rows)
        doc = result.get("document") or {}
        row["format"] = doc.get("format")
        confidences: list[float] = []
        for column, key in _DOCUMENT_FIELDS:
            fld = doc.get(key) or {}
            row[column] = fld.get("value")
            conf = float(fld.get("confidence") or 0.0)
            confidences.append(conf)
            if conf < threshold:
                low_cells.add((i, column))
                review.append({"file": rec["file"], "column": column, "label_zh": _FIXED_LABELS[column],
                               "value": fld.get("value"), "confidence": conf})
        row["findings"] = len(result.get("validation") or [])
        seen: set[str] = set()
        for ind in result.get("indicators") or []:
            iid = ind.get("id")
            if not iid or iid in seen:  # first occurrence wins, as in the scorer
                continue
            seen.add(iid)
            if iid not in by_id and iid not in extension_labels:
                extension_labels[iid] = (ind.get("label") or "", ind.get("unit") or "")
            row[iid] = ind.get("value")
            conf = float(ind.get("confidence") or 0.0)
            confidences.append(conf)
            if conf < threshold:
                low_cells.add((i, iid))
                review.append({
                    "file": rec["file"], "column": iid, "label_zh": by_id.get(iid, {}).get("label_zh", ""),
                    "label_printed": ind.get("label"), "value": ind.get("value"), "unit": ind.get("unit"),
                    "confidence": conf, "source": _source_text(ind.get("source")),
                    "raw": (ind.get("source") or {}).get("text") or ind.get("raw"),
                })
        row["min_confidence"] = min(confidences) if confidences else None
        rows.append(row)

    extensions = sorted(extension_labels)
    columns = [c for c, _, _ in FIXED_COLUMNS] + [r["id"] for r in catalogue] + extensions
    dictionary: list[dict[str, object]] = [{"column": c, "label_zh": z, "description": d} for c, z, d in FIXED_COLUMNS]
    dictionary += [{"column": r["id"], "label_zh": r["label_zh"], "unit": r["unit"], "template": r["template"],
                    "table": r["table"], "sum_of": r["sum_of"], "description": "Value as printed; empty = blank or not found."}
                   for r in catalogue]
    dictionary += [{"column": e, "label_zh": extension_labels[e][0], "unit": extension_labels[e][1],
                    "description": "Extension id, not in the catalogue; label as printed in the first report that has it."}
                   for e in extensions]
    return Panel(columns, rows, review, dictionary, low_cells)


def companion_paths(path: Path) -> tuple[Path, Path]:
    """`panel.csv` -> (`panel_review.csv`, `panel_dictionary.csv`), next to it."""
    return (path.with_name(f"{path.stem}_review{path.suffix}"), path.with_name(f"{path.stem}_dictionary{path.suffix}"))


def _csv_cell(value: object) -> object:
    """Empty for None; text that a spreadsheet would run as a formula gets a leading apostrophe (OWASP)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _write_csv(path: Path, columns: Iterable[str], rows: Iterable[dict[str, object]], encoding: str) -> None:
    columns = list(columns)
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for row in rows:
            w.writerow([_csv_cell(row.get(c)) for c in columns])


def write_csv(panel: Panel, path: Path, settings: PanelSettings = PanelSettings()) -> list[Path]:
    """The panel, its review list and its dictionary as three CSV files; returns their paths."""
    path.parent.mkdir(parents=True, exist_ok=True)
    review_path, dict_path = companion_paths(path)
    _write_csv(path, panel.columns, panel.rows, settings.csv_encoding)
    _write_csv(review_path, REVIEW_COLUMNS, panel.review, settings.csv_encoding)
    _write_csv(dict_path, DICTIONARY_COLUMNS, panel.dictionary, settings.csv_encoding)
    return [path, review_path, dict_path]


def write_xlsx(panel: Panel, path: Path, settings: PanelSettings = PanelSettings()) -> Path:
    """One workbook: sheets `panel` (low-confidence cells shaded), `review` and `dictionary`.

    Written in openpyxl's streaming mode so a panel of thousands of reports × 300
    columns does not have to fit in memory as cell objects.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    fill = PatternFill("solid", start_color=settings.review_fill, end_color=settings.review_fill)
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
              shaded: set[tuple[int, str]] = frozenset()) -> None:  # type: ignore[assignment]
        ws = wb.create_sheet(title)
        ws.freeze_panes = "B2"
        for j, col in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(j)].width = widths.get(col, 12)
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"  # filters on the header row
        ws.append([cell(ws, c, font=bold) for c in columns])
        for i, row in enumerate(rows):
            ws.append([cell(ws, row.get(c), **({"fill": fill} if (i, c) in shaded else {})) for c in columns])

    file_width = min(settings.max_column_width, max([len(str(r.get("file", ""))) for r in panel.rows] + [10]))
    sheet("panel", panel.columns, panel.rows, {"file": file_width, "agency": 24, "error": 30}, panel.low_cells)
    sheet("review", list(REVIEW_COLUMNS), panel.review,
          {"file": file_width, "column": 36, "label_zh": 36, "label_printed": 36, "raw": 30})
    sheet("dictionary", list(DICTIONARY_COLUMNS), panel.dictionary,
          {"column": 40, "label_zh": 50, "description": 60, "sum_of": 40})
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
