"""The research dataset: a tidy long table (one row per report × indicator) and the wide panel derived from it.

The long table is the primary dataset: every value keeps its report key (sha256 of
the bytes), agency (as printed, normalised, and a stable key), year, form, label,
unit, confidence, review flag and source locator, so a researcher can filter and
pivot without this code. The wide panel is a pivot of it with a column set fixed
by the catalogue (every catalogue id in catalogue order, then a documented block of
extension ids generated from the catalogue), so any two batches have the same
columns, and short Stata-valid variable names derived from the ids by one stable
scheme. Heavy libraries (pandas, pyarrow) are imported only by the writers: they
are the `[dataset]` extra.
"""
from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .batch import latest_records

EXTRA_HINT = "pip install 'govreport-extract[dataset]'"


class MissingExtraError(RuntimeError):
    """A dataset writer needs a library of the `[dataset]` extra that is not installed."""

    def __init__(self, module: str) -> None:
        super().__init__(f"{module} is needed for this output: {EXTRA_HINT}")
        self.module = module


def require(module: str):
    """Import a `[dataset]` library or raise MissingExtraError naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingExtraError(module.split(".")[0]) from e


@dataclass(frozen=True, slots=True)
class DatasetSettings:
    """Knobs of the dataset export."""

    min_confidence: float = 0.9  # needs_review is True below this
    max_name: int = 32  # Stata's variable-name limit
    max_label: int = 80  # Stata's variable-label limit (characters)
    csv_encoding: str = "utf-8-sig"


# --------------------------------------------------------------------------- catalogue and names


@dataclass(frozen=True, slots=True)
class Column:
    """One indicator column of the wide panel: canonical id, variable name, Chinese label, unit, block."""

    id: str
    name: str
    label_zh: str
    unit: str
    block: str  # "catalogue" or "extension"


# Word abbreviations used only when `id` with dots as underscores is longer than Stata allows.
_ABBREV: tuple[tuple[str, str], ...] = (
    ("requests", "rq"), ("request", "rq"), ("not_processed", "np"), ("unavailable", "ua"), ("withheld", "wh"),
    ("natural_person", "person"), ("legal_service", "legal"), ("commercial", "comm"), ("nonprofit", "npo"),
    ("research", "res"), ("other_org", "oth"), ("litigation_after_review", "lit_ar"), ("litigation_direct", "lit_d"),
    ("litigation", "lit"), ("cumulative", "cum"), ("subtotal", "sub"), ("unpaid_fee", "fee"),
    ("no_correction", "nocorr"), ("confirmation", "confirm"), ("publication", "publ"), ("total", "tot"),
    ("security_stability", "security"), ("enforcement_files", "enforce"), ("internal_affairs", "internal"),
    ("needs_creation", "create"), ("law_prohibited", "law"), ("state_secret", "secret"), ("third_party", "third"),
    ("process_info", "process"), ("admin_query", "query"), ("carried_forward", "fwd"), ("carried_over", "over"),
    ("partially_granted", "partial"), ("already_public", "public"),
)


def variable_name(iid: str, max_len: int = 32) -> str:
    """A Stata/R-valid name for an indicator id: `[a-z0-9_]`, starts with a letter, at most `max_len`.

    Dots become underscores; a name still too long gets every word abbreviation
    above, then, if still too long, is cut and suffixed with 4 hex digits of the id's sha1 so two ids
    never share a name. The scheme depends on the id alone, so names are stable.
    """
    base = _NOT_NAME_CHARS.sub("_", iid.lower().replace(".", "_")).strip("_")
    if base.startswith("ext_"):
        base = "x_" + base[4:]
    if not base[:1].isalpha():
        base = "v_" + base
    if len(base) <= max_len:
        return base
    short = base
    for long, abbr in _ABBREV:  # all of them, so related ids get related names
        short = re.sub(rf"(?<![a-z0-9]){long}(?![a-z0-9])", abbr, short)
    return short if len(short) <= max_len else _with_digest(short, iid, max_len)


def _with_digest(name: str, iid: str, max_len: int = 32) -> str:
    """`name` cut to fit and suffixed with 4 hex digits of sha1(id): unique where two ids would share a name."""
    return name[: max_len - 5].rstrip("_") + "_" + hashlib.sha1(iid.encode()).hexdigest()[:4]


def _catalogue_rows() -> list[dict[str, str]]:
    text = resources.files("extractors").joinpath("data/indicators.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def indicator_columns() -> tuple[Column, ...]:
    """Every indicator column of the wide panel, catalogue first, then the extension block; names validated unique.

    The extension block is generated from the catalogue, not from what a batch saw:
    `ext.<id>.cumulative` for every legacy-form id (the 累计 column some legacy tables
    add) and `ext.<row>.subtotal` for every 表三 row (the 小计 column some provinces add).
    """
    rows = _catalogue_rows()
    cols = [Column(r["id"], variable_name(r["id"]), r["label_zh"], r["unit"], "catalogue") for r in rows]
    for r in rows:
        if "legacy" in r["template"].split("|"):
            cols.append(Column(f"ext.{r['id']}.cumulative", variable_name(f"ext.{r['id']}.cumulative"),
                               f"{r['label_zh']}·累计", r["unit"], "extension"))
    for r in rows:
        if r["table"] == "requests" and r["id"].endswith(".total"):
            row_id = r["id"][: -len(".total")]
            cols.append(Column(f"ext.{row_id}.subtotal", variable_name(f"ext.{row_id}.subtotal"),
                               r["label_zh"].rsplit("·", 1)[0] + "·小计", r["unit"], "extension"))
    clash = [c.name for c in cols]
    clash_set = {n for n in clash if clash.count(n) > 1}
    cols = [c if c.name not in clash_set else
            Column(c.id, _with_digest(c.name, c.id), c.label_zh, c.unit, c.block) for c in cols]
    names = [c.name for c in cols]
    dupes = {n for n in names if names.count(n) > 1}
    bad = [n for n in names if not _VARIABLE_NAME.fullmatch(n)]
    if dupes or bad:
        raise ValueError(f"indicator variable names are not unique/valid: {sorted(dupes)} {bad}")
    return tuple(cols)


# --------------------------------------------------------------------------- agencies

_SPACE = re.compile(r"\s+")
_NOT_NAME_CHARS = re.compile(r"[^a-z0-9_]+")
_VARIABLE_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")  # Stata's rule, lower case
_PUNCT = re.compile(r"[\s\u3000·•・,，.。:：;；、()（）\[\]【】《》<>〈〉\"'“”‘’_-]+")


@lru_cache(maxsize=4096)
def normalise_agency(name: str | None) -> str | None:
    """The agency name in Simplified characters, NFKC (full-width → half-width), whitespace collapsed."""
    if not name:
        return None
    text = _opencc().convert(unicodedata.normalize("NFKC", name))
    return _SPACE.sub(" ", text).strip() or None


@lru_cache(maxsize=1)
def _opencc():
    from opencc import OpenCC

    return OpenCC("t2s")


def agency_key(name: str | None) -> str | None:
    """A stable key of an agency name: the normalised name without any whitespace or punctuation.

    It depends on the name alone, so the same agency printed with Traditional
    characters, full-width letters or stray spaces gets the same key in any batch.
    """
    norm = normalise_agency(name)
    return (_PUNCT.sub("", norm) or None) if norm else None


# --------------------------------------------------------------------------- long table

LONG_COLUMNS: tuple[str, ...] = (
    "report_key", "file", "format", "agency", "agency_norm", "agency_key", "year", "template", "variant",
    "indicator", "variable", "block", "label_zh", "label_printed", "value", "unit", "confidence", "needs_review",
    "source_kind", "page", "table", "row", "col", "line", "raw",
)
LONG_DESCRIPTIONS: dict[str, str] = {
    "report_key": "sha256 of the report file's bytes (the same report under another name has the same key)",
    "file": "input path as given to the batch, with / separators",
    "format": "format the file was read as",
    "agency": "reporting agency as printed",
    "agency_norm": "agency in Simplified characters, NFKC, whitespace collapsed",
    "agency_key": "agency_norm without whitespace and punctuation: stable across batches",
    "year": "year the report covers",
    "template": "legacy (2008–2018 form) or revised_2019",
    "variant": "form variant: legacy, form_2019, form_2020, form_2021",
    "indicator": "canonical indicator id (catalogue or documented extension id)",
    "variable": "the wide panel's variable name for the indicator (≤ 32 chars, [a-z0-9_])",
    "block": "catalogue, extension (documented ext.* block) or other (an id outside both: long table only)",
    "label_zh": "the catalogue's Chinese label",
    "label_printed": "the row label as printed in the report",
    "value": "the number as printed (null = blank cell)",
    "unit": "unit of the value",
    "confidence": "calibrated confidence of the value, 0–1",
    "needs_review": "confidence below the review threshold",
    "source_kind": "table (a table cell) or narrative (a sentence)",
    "page": "page, from 1 (PDF only)",
    "table": "table number, from 1",
    "row": "row, from 1",
    "col": "column, from 1",
    "line": "line of the text, from 1 (text renderings)",
    "raw": "the text of the cell or sentence the value was read from",
}


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """Empty for None; text that a spreadsheet would run as a formula gets a leading apostrophe (OWASP)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _plus_one(v: object) -> int | None:
    return int(v) + 1 if isinstance(v, int) else None


def report_fields(rec: dict) -> dict[str, object]:
    """The report-level fields of one batch record (shared by the long table and the panel)."""
    result = rec.get("result") if isinstance(rec.get("result"), dict) else {}
    doc = result.get("document") or {}
    agency = (doc.get("agency") or {}).get("value")
    template = doc.get("template") or {}
    return {
        "report_key": rec.get("sha256"), "file": str(rec.get("file", "")).replace("\\", "/"),
        "format": doc.get("format"), "agency": agency, "agency_norm": normalise_agency(agency),
        "agency_key": agency_key(agency), "year": (doc.get("report_year") or {}).get("value"),
        "template": template.get("value"), "variant": template.get("variant"),
    }


def long_rows(records: Iterable[dict], settings: DatasetSettings = DatasetSettings()) -> list[dict[str, object]]:
    """One row per report × indicator (the first occurrence of an id in a report, as the scorer counts it)."""
    by_id = {c.id: c for c in indicator_columns()}
    out: list[dict[str, object]] = []
    for rec in sorted(latest_records(records), key=lambda r: str(r["file"])):
        result = rec.get("result")
        if not isinstance(result, dict):
            continue
        base = report_fields(rec)
        seen: set[str] = set()
        for ind in result.get("indicators") or []:
            iid = ind.get("id")
            if not iid or iid in seen:
                continue
            seen.add(iid)
            col = by_id.get(iid)
            src = ind.get("source") or {}
            conf = float(ind.get("confidence") or 0.0)
            out.append({
                **base, "indicator": iid, "variable": col.name if col else variable_name(iid),
                "block": col.block if col else "other", "label_zh": col.label_zh if col else None,
                "label_printed": ind.get("label"), "value": ind.get("value"), "unit": ind.get("unit"),
                "confidence": conf, "needs_review": conf < settings.min_confidence,
                "source_kind": src.get("kind"), "page": src.get("page"), "table": _plus_one(src.get("table")),
                "row": _plus_one(src.get("row")), "col": _plus_one(src.get("col")), "line": _plus_one(src.get("line")),
                "raw": src.get("text") or ind.get("raw"),
            })
    return out


def _arrow_schema():
    pa = require("pyarrow")
    types = {"year": pa.int32(), "value": pa.float64(), "confidence": pa.float64(), "needs_review": pa.bool_(),
             "page": pa.int32(), "table": pa.int32(), "row": pa.int32(), "col": pa.int32(), "line": pa.int32()}
    return pa.schema([pa.field(c, types.get(c, pa.string())) for c in LONG_COLUMNS])


def write_long_parquet(rows: list[dict[str, object]], path: Path) -> Path:
    """The long table as Parquet with a fixed schema (the same column types whatever the batch)."""
    pa = require("pyarrow")
    pq = require("pyarrow.parquet")
    schema = _arrow_schema()
    columns = {c: [r.get(c) for r in rows] for c in LONG_COLUMNS}
    columns["value"] = [None if v is None else float(v) for v in columns["value"]]
    table = pa.Table.from_pydict(columns, schema=schema)
    table = table.replace_schema_metadata({f"description.{k}": v for k, v in LONG_DESCRIPTIONS.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def write_long_csv(rows: list[dict[str, object]], path: Path, settings: DatasetSettings = DatasetSettings()) -> Path:
    """The long table as UTF-8 CSV (BOM, for spreadsheets); booleans as 1/0 so every tool reads them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=settings.csv_encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(LONG_COLUMNS)
        for r in rows:
            w.writerow([int(v) if isinstance(v, bool) else csv_cell(v) for v in (r.get(c) for c in LONG_COLUMNS)])
    return path


def write_long(rows: list[dict[str, object]], path: Path, settings: DatasetSettings = DatasetSettings()) -> Path:
    """Parquet for `.parquet`/`.pq`, CSV otherwise."""
    if path.suffix.lower() in (".parquet", ".pq"):
        return write_long_parquet(rows, path)
    return write_long_csv(rows, path, settings)


# --------------------------------------------------------------------------- wide panel (CSV, XLSX, Stata)


@dataclass(frozen=True, slots=True)
class WideColumn:
    """One column of the wide panel: its variable name, the canonical id it holds, labels and kind."""

    name: str  # the variable name: ≤ 32 characters, [a-z0-9_], the same in CSV, XLSX and .dta
    id: str | None  # canonical indicator id (None for report columns)
    label_zh: str
    unit: str
    kind: str  # "report", "catalogue", "extension" or "confidence"
    description: str

    @property
    def label(self) -> str:
        """The Stata variable label: `<canonical id> <Chinese label>` (report columns: Chinese + English)."""
        return f"{self.id} {self.label_zh}" if self.id else f"{self.label_zh} {self.description}"


# The report columns before the indicators: (name, Chinese label, description). The first three
# identify a row at a glance (they stay in view in the workbook).
REPORT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("file", "文件", "input file as given to the batch"),
    ("agency", "机关名称（原文）", "agency as printed"),
    ("year", "报告年度", "year the report covers"),
    ("template", "模板", "legacy (2008–2018 form) or revised_2019"),
    ("variant", "表式", "form variant"),
    ("agency_norm", "机关名称（规范）", "agency: Simplified, NFKC, whitespace collapsed"),
    ("agency_key", "机关键", "stable agency key"),
    ("format", "格式", "format the file was read as"),
    ("report_key", "报告键", "sha256 of the file's bytes"),
    ("min_confidence", "最低置信度", "lowest confidence of the row's values, agency, year and form"),
    ("findings", "校验发现数", "printed numbers that break the form's arithmetic"),
    ("error", "错误", "why the file could not be extracted; empty when it was"),
)
_REPORT_NUMERIC = ("year", "min_confidence", "findings")
# Report-level fields whose confidence counts towards min_confidence and the review list.
_DOCUMENT_FIELDS: tuple[tuple[str, str], ...] = (("agency", "agency"), ("year", "report_year"), ("template", "template"))


def conf_name(name: str) -> str:
    """`<name>_conf`, shortened with 3 hex digits of sha1(name) where that would pass 32 characters."""
    if len(name) + 5 <= 32:
        return name + "_conf"
    return name[:23].rstrip("_") + "_" + hashlib.sha1(name.encode()).hexdigest()[:3] + "_conf"


def wide_columns(conf: bool = False) -> tuple[WideColumn, ...]:
    """The panel's columns, fixed by the catalogue alone: report columns, then every indicator column in
    catalogue order and the extension block; with `conf`, a `<name>_conf` column after each indicator.

    Any two batches get the same list; the names are validated unique and Stata-valid.
    """
    cols = [WideColumn(n, None, z, "", "report", d) for n, z, d in REPORT_COLUMNS]
    for c in indicator_columns():
        cols.append(WideColumn(c.name, c.id, c.label_zh, c.unit, c.block,
                               "value as printed; empty = blank or not found" if c.block == "catalogue" else
                               "documented extension id (README, Indicators); empty = not printed"))
        if conf:
            cols.append(WideColumn(conf_name(c.name), c.id, f"{c.label_zh}·置信度", "", "confidence",
                                   f"calibrated confidence (0–1) of {c.name}"))
    names = [c.name for c in cols]
    if len(set(names)) != len(names) or not all(_VARIABLE_NAME.fullmatch(n) for n in names):
        raise ValueError("wide panel variable names are not unique/valid")
    return tuple(cols)


@dataclass
class Wide:
    """The wide panel as plain rows (variable name -> value), its review list and what to shade."""

    columns: tuple[WideColumn, ...]
    rows: list[dict[str, object]]
    review: list[dict[str, object]]  # the cells below the review threshold, with their source
    low_cells: set[tuple[int, str]]  # (row index, variable name) of those cells
    outside: int = 0  # values of ids outside the catalogue and the extension block (long table only)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


REVIEW_COLUMNS: tuple[str, ...] = (
    "file", "variable", "indicator", "label_zh", "label_printed", "value", "unit", "confidence", "source", "raw",
)


def _locator(r: dict[str, object]) -> str:
    """'p3 table 2 row 23 col 3' / 'line 41' (counted from 1, as a person reads the report)."""
    parts = (("page", "p"), ("table", "table "), ("row", "row "), ("col", "col "), ("line", "line "))
    return " ".join(f"{name}{r[key]}" for key, name in parts if r.get(key) is not None)


def wide_table(records: Iterable[dict], settings: DatasetSettings = DatasetSettings(), conf: bool = False) -> Wide:
    """The wide panel, derived from the long table: one row per report (failed files keep a row with `error`)."""
    records = sorted(latest_records(records), key=lambda r: str(r["file"]))
    columns = wide_columns(conf)
    names = {c.id: c.name for c in indicator_columns()}
    labels = {n: z for n, z, _ in REPORT_COLUMNS}
    threshold = settings.min_confidence
    rows: list[dict[str, object]] = []
    index: dict[str, int] = {}
    review: list[dict[str, object]] = []
    low: set[tuple[int, str]] = set()
    confs: dict[int, list[float]] = {}
    for rec in records:
        fields = report_fields(rec)
        i = len(rows)
        result = rec.get("result")
        if isinstance(result, dict):
            fields["findings"] = len(result.get("validation") or [])
            doc = result.get("document") or {}
            for name, key in _DOCUMENT_FIELDS:
                c = float((doc.get(key) or {}).get("confidence") or 0.0)
                confs.setdefault(i, []).append(c)
                if c < threshold:
                    low.add((i, name))
                    review.append({"file": fields["file"], "variable": name, "label_zh": labels[name],
                                   "value": fields[name], "confidence": c})
        else:
            err = rec.get("error") or {}
            fields["error"] = " ".join(str(x) for x in (err.get("title"), err.get("detail")) if x) or "failed"
        index[str(fields["file"])] = i
        rows.append(fields)
    outside = 0
    for r in long_rows(records, settings):
        name = names.get(str(r["indicator"]))
        if name is None:
            outside += 1
            continue
        i = index[str(r["file"])]
        rows[i][name] = r["value"]
        if conf:
            rows[i][conf_name(name)] = r["confidence"]
        confs.setdefault(i, []).append(float(r["confidence"]))  # type: ignore[arg-type]
        if r["needs_review"]:
            low.add((i, name))
            review.append({"file": r["file"], "variable": name, "indicator": r["indicator"], "label_zh": r["label_zh"],
                           "label_printed": r["label_printed"], "value": r["value"], "unit": r["unit"],
                           "confidence": r["confidence"], "source": _locator(r), "raw": r["raw"]})
    for i, cs in confs.items():
        rows[i]["min_confidence"] = min(cs)
    return Wide(columns, rows, review, low, outside)


def wide_frame(records: Iterable[dict], settings: DatasetSettings = DatasetSettings(), conf: bool = False):
    """The wide panel as a pandas DataFrame (variable names as columns) plus {name: variable label}."""
    pd = require("pandas")
    wide = wide_table(records, settings, conf)
    frame = pd.DataFrame(wide.rows, columns=wide.names)
    numeric = [c.name for c in wide.columns if c.kind != "report" or c.name in _REPORT_NUMERIC]
    frame[numeric] = frame[numeric].apply(pd.to_numeric, errors="coerce").astype("float64")
    for c in wide.columns:
        if c.kind == "report" and c.name not in _REPORT_NUMERIC:
            frame[c.name] = frame[c.name].astype("object").where(frame[c.name].notna(), "")
    return frame, {c.name: c.label[: settings.max_label] for c in wide.columns}


def write_dta(records: Iterable[dict], path: Path, settings: DatasetSettings = DatasetSettings(), conf: bool = False) -> Path:
    """The wide panel as Stata 118 `.dta` (UTF-8), `<canonical id> <Chinese label>` as each variable's label.

    Stata has no nullable integers, so year and findings are doubles (missing stays missing).
    """
    frame, labels = wide_frame(records, settings, conf)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_stata(path, write_index=False, version=118, variable_labels=labels,
                   data_label="govreport-extract panel")
    return path
