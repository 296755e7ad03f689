"""Workbook reader: `.xlsx`, `.xls`, `.ods` and Kingsoft `.et`, one table per sheet.

Why python-calamine: one Rust library reads all four containers (Kingsoft's
`.et` is BIFF8 in OLE2 like `.xls`, or OOXML in its newer versions) in well
under a millisecond per report sheet, and gives merged ranges for xlsx/xls.

A workbook holds the statistics tables only: there is no narrative and no
section to find, so the document carries a `tables-only` warning saying so,
and later stages still detect the template from the indicators. Cells that
hold a whole float (Excel stores every number as a float) print as integers,
as the report printed them.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
from dataclasses import dataclass

import olefile
import python_calamine as pc

from ..errors import CorruptFileError, EncryptedFileError, ResourceLimitError
from ..model import Cell, Document, Format, Source, Table
from .container import check_zip, parse_xml, read_part
from .docx import ZIP_ERRORS
from .options import ReadOptions


@dataclass(frozen=True, slots=True)
class SpreadsheetSettings:
    """Tuning knobs and bounds of the workbook reader."""

    max_sheets: int = 256
    max_cells: int = 2_000_000  # a sheet's used range (rows x columns), checked before it is materialised
    max_merged_cells: int = 2_000_000  # cells covered by a sheet's merges after clipping (more only if they overlap)
    skip_hidden_sheets: bool = True  # hidden sheets are not what the portal published


SETTINGS = SpreadsheetSettings()

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
TABLES_ONLY_WARNING = (
    "tables-only: The file is a workbook; it holds the statistics tables only (no narrative, no sections)."
)

MERGE_CLIPPED_WARNING = (
    "merge-clipped: A merged range of the workbook reaches far past its cells; it was cut to the cells the sheet has."
)


def container_format(data: bytes) -> Format:
    """Which workbook container `data` is: xls (also Kingsoft .et), xlsx or ods."""
    if data.startswith(_OLE_MAGIC):
        return "xls"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if "mimetype" in set(z.namelist()):
                with z.open("mimetype") as fh:  # its head only: a member's size is the sender's to choose
                    if b"spreadsheet" in fh.read(200):
                        return "ods"
    except (*ZIP_ERRORS, KeyError) as e:
        raise CorruptFileError("The workbook is a damaged ZIP container.") from e
    except RuntimeError as e:  # zipfile: "File ... is encrypted, password required"
        raise EncryptedFileError("The workbook is encrypted.") from e
    return "xlsx"


_TB = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
Merge = tuple[tuple[int, int], tuple[int, int]]


def _count(el: object, attr: str) -> int:
    try:
        return max(1, int(el.get(attr, "1")))  # type: ignore[attr-defined]
    except ValueError:
        return 1


def _ods_merges(data: bytes, options: ReadOptions) -> dict[str, list[Merge]]:
    """Merged ranges per sheet of an ODS, from content.xml (calamine gives them for xlsx/xls only).

    Repeated rows and cells are counted, never expanded, so a sheet padded to a
    million rows costs nothing.
    """
    out: dict[str, list[Merge]] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo("content.xml") if "content.xml" in z.namelist() else None
        if info is None:
            raise CorruptFileError("The ODS has no content.xml.")
        root = parse_xml(read_part(z, info, options.max_uncompressed_bytes, "ODS"), "content.xml", "ODS")
    for table in root.iter(_TB + "table"):
        merges: list[Merge] = []
        r = 0
        for row in table.iter(_TB + "table-row"):
            reps = _count(row, _TB + "number-rows-repeated")
            c = 0
            for cell in row:
                if cell.tag not in (_TB + "table-cell", _TB + "covered-table-cell"):
                    continue
                n = _count(cell, _TB + "number-columns-repeated")
                rs, cs = _count(cell, _TB + "number-rows-spanned"), _count(cell, _TB + "number-columns-spanned")
                if cell.tag == _TB + "table-cell" and (rs > 1 or cs > 1) and n == 1:
                    merges.append(((r, c), (r + rs - 1, c + cs - 1)))
                c += n
            r += reps
        out[table.get(_TB + "name", "")] = merges
    return out


_XLSX_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]{1,3})([0-9]{1,7})\"")
_XLSX_DIM = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref=\"([A-Z]{1,3})([0-9]{1,7})(?::([A-Z]{1,3})([0-9]{1,7}))?\"")
_XLSX_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br=\"([0-9]{1,7})\"")
_BIFF_CELL_RECORDS = frozenset({0x0203, 0x00FD, 0x027E, 0x00BD, 0x0201, 0x00BE, 0x0006, 0x0204, 0x0205, 0x00D6})


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _check_area(rows: int, cols: int, settings: SpreadsheetSettings) -> None:
    if rows * cols > settings.max_cells:
        raise ResourceLimitError(
            f"A sheet spans {rows} x {cols} cells (limit {settings.max_cells} cells).", rows=rows, columns=cols
        )


def _check_extents(data: bytes, fmt: Format, options: ReadOptions, settings: SpreadsheetSettings) -> None:
    """Refuse a sheet whose used range is absurd BEFORE calamine sees it.

    calamine builds each sheet as a dense rows x columns grid: two cells at A1 and
    XFD1048576 would ask for half a terabyte and abort the process. The extents are
    found here in one linear pass over the raw cell references (xlsx), cell records
    (xls/BIFF) or repeat counts (ods), without building anything.
    """
    if fmt == "xlsx":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for info in z.infolist():
                if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                    continue
                raw = read_part(z, info, options.max_uncompressed_bytes, "XLSX")
                r0 = c0 = 1 << 30
                r1 = c1 = 0
                for m in _XLSX_CELL.finditer(raw):
                    c, r = _col_number(m.group(1)), int(m.group(2))
                    r0, r1, c0, c1 = min(r0, r), max(r1, r), min(c0, c), max(c1, c)
                for m in _XLSX_ROW.finditer(raw):  # rows whose cells carry no reference of their own
                    r = int(m.group(1))
                    r0, r1 = min(r0, r), max(r1, r)
                c0, c1 = (c0, c1) if c1 else (1, 1)
                dim = _XLSX_DIM.search(raw)
                if dim and dim.group(3):  # a declared range is also what some readers allocate
                    _check_area(int(dim.group(4)) - int(dim.group(2)) + 1,
                                _col_number(dim.group(3)) - _col_number(dim.group(1)) + 1, settings)
                if r1:
                    _check_area(r1 - r0 + 1, c1 - c0 + 1, settings)
    elif fmt == "xls":
        try:
            with olefile.OleFileIO(io.BytesIO(data)) as ole:
                name = next((n for n in ("Workbook", "Book") if ole.exists(n)), None)
                if name is None:
                    raise CorruptFileError("The OLE2 file has no Workbook stream.")
                stream = ole.openstream(name).read()
        except (CorruptFileError, ResourceLimitError):
            raise
        except Exception as e:
            raise CorruptFileError("The workbook's OLE2 container is damaged.") from e
        pos, n = 0, len(stream)
        ext: list[int] | None = None
        while pos + 4 <= n:
            rtype, size = struct.unpack_from("<HH", stream, pos)
            body = pos + 4
            if rtype == 0x0809:  # BOF: a new substream (sheet)
                if ext:
                    _check_area(ext[1] - ext[0] + 1, ext[3] - ext[2] + 1, settings)
                ext = None
            elif rtype in _BIFF_CELL_RECORDS and size >= 4 and body + 4 <= n:
                r, c = struct.unpack_from("<HH", stream, body)
                c_last = c
                if rtype in (0x00BD, 0x00BE) and size >= 6:  # MULRK/MULBLANK: last column at the end
                    c_last = struct.unpack_from("<H", stream, body + size - 2)[0]
                if ext is None:
                    ext = [r, r, c, max(c, c_last)]
                else:
                    ext = [min(ext[0], r), max(ext[1], r), min(ext[2], c), max(ext[3], c_last)]
            pos = body + size
        if ext:
            _check_area(ext[1] - ext[0] + 1, ext[3] - ext[2] + 1, settings)
    elif fmt == "ods":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if "content.xml" not in z.namelist():
                raise CorruptFileError("The ODS has no content.xml.")
            root = parse_xml(read_part(z, z.getinfo("content.xml"), options.max_uncompressed_bytes, "ODS"), "content.xml", "ODS")
        for table in root.iter(_TB + "table"):
            r = rows = cols = 0
            for row in table.iter(_TB + "table-row"):
                reps = _count(row, _TB + "number-rows-repeated")
                c = last = 0
                for cell in row:
                    n = _count(cell, _TB + "number-columns-repeated")
                    if cell.get(_OFFICE + "value-type") is not None or len(cell):
                        last = c + n
                    c += n
                if last:
                    rows, cols = r + reps, max(cols, last)
                r += reps
            _check_area(rows, cols, settings)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value).replace("\r\n", "\n").replace("\r", "\n")


def _spans(
    merges: list[Merge], r0: int, c0: int, n_rows: int, n_cols: int, new_row: dict[int, int],
    settings: SpreadsheetSettings,
) -> tuple[dict[tuple[int, int], tuple[int, int]], bytearray, bool]:
    """(anchor -> (rowspan, colspan), covered-cell flags row-major, whether a merge was absurd).

    Why clipped: a merge is a claim about cells, and only the cells of the used
    range exist (calamine's grid). A merge reaching past it (a 5 KB sheet merging
    A1:XFD1048576) is cut to the grid, so the work is the grid's size, not the
    claim's. Excel never overlaps merges; a file that does is bounded by
    `max_merged_cells` over all merges of the sheet.
    """
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    covered = bytearray(n_rows * n_cols)
    absurd, area = False, 0
    for (ar, ac), (br, bc) in merges:
        ar, br, ac, bc = ar - r0, br - r0, ac - c0, bc - c0
        if ar < 0 or ac < 0 or br < ar or bc < ac or ar >= n_rows or ac >= n_cols:
            continue
        if (br - ar + 1) * (bc - ac + 1) > settings.max_cells:
            absurd = True  # larger than any sheet the reader accepts: not what the author drew
        br, bc = min(br, n_rows - 1), min(bc, n_cols - 1)
        if (ar, ac) in spans or covered[ar * n_cols + ac]:
            continue
        area += (br - ar + 1) * (bc - ac + 1)
        if area > settings.max_merged_cells:
            raise ResourceLimitError(
                f"A sheet's merged ranges cover more than {settings.max_merged_cells} cells "
                f"(limit max_merged_cells={settings.max_merged_cells}).",
                limit="max_merged_cells",
            )
        rows_kept = sum(1 for r in range(ar, br + 1) if r in new_row)
        if not rows_kept:
            continue
        spans[(ar, ac)] = (rows_kept, bc - ac + 1)
        for r in range(ar, br + 1):
            start = r * n_cols
            covered[start + ac : start + bc + 1] = b"\x01" * (bc - ac + 1)
        covered[ar * n_cols + ac] = 0
    return spans, covered, absurd


def _sheet_table(
    sheet: pc.CalamineSheet, index: int, settings: SpreadsheetSettings, merges: list[Merge] | None = None
) -> tuple[Table | None, bool]:
    """The sheet as a table (None when it holds no text), and whether an absurd merge was clipped."""
    values = sheet.to_python()
    r0, c0 = sheet.start or (0, 0)
    texts = [[_text(v) for v in row] for row in values]
    keep = [i for i, row in enumerate(texts) if any(t.strip() for t in row)]
    if not keep:
        return None, False
    new_row = {old: new for new, old in enumerate(keep)}
    n_cols = max(len(row) for row in texts)
    merged = merges if merges is not None else sheet.merged_cell_ranges
    spans, covered, absurd = _spans(list(merged or ()), r0, c0, len(texts), n_cols, new_row, settings)
    rows: list[tuple[Cell, ...]] = []
    for old in keep:
        r = new_row[old]
        out = []
        for c, text in enumerate(texts[old]):
            if covered[old * n_cols + c]:
                continue
            rowspan, colspan = spans.get((old, c), (1, 1))
            out.append(Cell(text, r, c, rowspan, colspan, Source(table=index, row=r, col=c)))
        rows.append(tuple(out))
    return Table(tuple(rows), index=index, source=Source(table=index)), absurd


def _raise_if_panic(e: BaseException) -> None:
    """calamine's Rust panics reach Python as pyo3's PanicException, a BaseException: a damaged file."""
    if type(e).__name__ == "PanicException":
        raise CorruptFileError("The workbook is damaged and cannot be read.") from e


def read(data: bytes, options: ReadOptions, settings: SpreadsheetSettings = SETTINGS) -> Document:
    """One table per visible, non-empty sheet; the document says it holds tables only."""
    fmt = container_format(data)
    ods_merges: dict[str, list[Merge]] = {}
    if fmt != "xls":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            check_zip(z.infolist(), options, "workbook")
        if fmt == "ods":
            ods_merges = _ods_merges(data, options)
    _check_extents(data, fmt, options, settings)
    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except pc.PasswordError as e:
        raise EncryptedFileError("The workbook is password-protected.") from e
    except Exception as e:  # calamine raises CalamineError, ZipError, XmlError, ValueError...
        raise CorruptFileError("The workbook is damaged and cannot be read.") from e
    except BaseException as e:
        _raise_if_panic(e)
        raise
    tables: list[Table] = []
    warnings = [TABLES_ONLY_WARNING]
    try:
        metas = wb.sheets_metadata
        if len(metas) > settings.max_sheets:
            raise ResourceLimitError(f"The workbook has {len(metas)} sheets (limit {settings.max_sheets}).")
        for meta in metas:
            if str(meta.typ) not in ("SheetTypeEnum.WorkSheet", "WorkSheet"):
                continue
            if settings.skip_hidden_sheets and str(meta.visible) not in ("SheetVisibleEnum.Visible", "Visible"):
                warnings.append("hidden-sheet: A hidden sheet of the workbook was not read.")
                continue
            sheet = wb.get_sheet_by_name(meta.name)
            if sheet.height * sheet.width > settings.max_cells:
                raise ResourceLimitError(
                    f"A sheet spans {sheet.height} x {sheet.width} cells (limit {settings.max_cells}).",
                )
            t, absurd = _sheet_table(sheet, len(tables), settings, ods_merges.get(meta.name) if fmt == "ods" else None)
            if absurd and MERGE_CLIPPED_WARNING not in warnings:
                warnings.append(MERGE_CLIPPED_WARNING)
            if t is not None:
                tables.append(t)
    except ResourceLimitError:
        raise
    except Exception as e:
        raise CorruptFileError("A sheet of the workbook is damaged and cannot be read.") from e
    except BaseException as e:
        _raise_if_panic(e)
        raise
    finally:
        wb.close()
    return Document(blocks=tuple(tables), format=fmt, warnings=tuple(warnings))
