"""Workbook reader: the corpus tables as .xlsx/.xls (and .et, .ods), merged ranges, integers, tables-only."""
from __future__ import annotations

import io
import re
import struct
import sys
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest

from extractors import extract
from extractors.errors import CorruptFileError, EncryptedFileError, ResourceLimitError
from extractors.readers import sniff
from extractors.readers.options import ReadOptions
from extractors.readers.spreadsheet import SpreadsheetSettings, read
from tests.readers import formats_build as fb

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))
from hostile_more import xlsx_merged_huge  # noqa: E402 - the hostile builders live with the reliability suite

OPTIONS = ReadOptions()


@pytest.mark.parametrize("ext", ["xlsx", "xls"])
def test_one_table_per_sheet_with_merges(shared: Path, ext: str) -> None:
    data = (shared / "formats" / f"dev04.{ext}").read_bytes()
    assert sniff(data, "x.bin") == ext
    doc = read(data, OPTIONS)
    assert doc.format == ext and len(doc.tables) == 3 and not doc.paragraphs
    assert any(w.startswith("tables-only:") for w in doc.warnings)
    first = doc.tables[0]
    assert (first.rows[0][0].text, first.rows[0][0].colspan) == ("第二十条第（一）项", 4)
    assert [c.text for c in first.rows[2]] == ["规章", "1", "0", "11"]  # whole floats print as integers
    big = doc.tables[1]
    result = next(c for r in big.rows for c in r if c.text == "三、本年度办理结果")
    assert (result.col, result.rowspan) == (0, 22)


def test_kingsoft_et_is_read_as_xls(shared: Path) -> None:
    """Kingsoft .et is BIFF8 in OLE2: sniffed from the bytes, whatever the name."""
    data = (shared / "formats" / "dev04.xls").read_bytes()
    assert sniff(data, "report.et") == "xls"


def test_ods_from_the_same_workbook(shared: Path) -> None:
    data = fb.ods_from_xlsx((shared / "formats" / "dev04.xlsx").read_bytes())
    assert sniff(data, "x") == "ods"
    doc = read(data, OPTIONS)
    assert doc.format == "ods"
    assert [c.text for c in doc.tables[0].rows[2]] == ["规章", "1", "0", "11"]
    assert doc.tables[0].rows[0][0].colspan == 4


def test_workbook_result_has_indicators_and_template_but_no_sections(shared: Path) -> None:
    r = extract((shared / "formats" / "dev04.xlsx").read_bytes(), filename="dev04.xlsx")
    assert r.document.format == "xlsx"
    assert r.document.template.value == "revised_2019"
    assert not r.sections
    assert any(w.code == "tables-only" for w in r.warnings)
    values = {i.id: i.value for i in r.indicators}
    assert values["requests.new.total"] == 3119


def test_sheet_size_bound(shared: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "x"
    ws["ZZ3000"] = 1
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(ResourceLimitError):
        read(buf.getvalue(), OPTIONS, SpreadsheetSettings(max_cells=100_000))


def test_damaged_workbook_is_corrupt(shared: Path) -> None:
    data = (shared / "formats" / "dev04.xls").read_bytes()
    with pytest.raises(CorruptFileError):
        read(data[: len(data) // 2], OPTIONS)



def _ods_with_mimetype_entry(shared: Path, flags: int = 0, method: int | None = None) -> bytes:
    """dev04 as ODS with the central-directory entry of its `mimetype` member given extra flag bits or another
    compression method (what zipfile reads before it opens a member)."""
    data = bytearray(fb.ods_from_xlsx((shared / "formats" / "dev04.xlsx").read_bytes()))
    at = data.find(b"PK\x01\x02")
    while data[at + 46: at + 54] != b"mimetype":
        at = data.find(b"PK\x01\x02", at + 4)
        assert at >= 0
    struct.pack_into("<H", data, at + 8, struct.unpack_from("<H", data, at + 8)[0] | flags)
    if method is not None:
        struct.pack_into("<H", data, at + 10, method)
    return bytes(data)


def test_a_workbook_whose_mimetype_member_cannot_be_opened_is_refused_as_what_it_is(shared: Path) -> None:
    """Telling ods from xlsx opens the `mimetype` member: an unknown compression method is a damaged file,
    the encryption flag an encrypted one (found by the mutation fuzzing; both were uncaught before)."""
    assert read(_ods_with_mimetype_entry(shared), OPTIONS).format == "ods"  # the patching alone changes nothing
    with pytest.raises(CorruptFileError):
        read(_ods_with_mimetype_entry(shared, method=99), OPTIONS)
    with pytest.raises(EncryptedFileError):
        read(_ods_with_mimetype_entry(shared, flags=0x1), OPTIONS)


# ---- merged ranges past the grid (issue #16: a 5 KB workbook merging A1:XFD1048576) ----------------------

def _last_sheet_first_merge(shared: Path, fmt: str, rows: int | None, cols: int | None) -> bytes:
    """dev04 as `fmt` with the first merge of its last sheet reaching `rows` x `cols` from its anchor (None: past the grid)."""
    if fmt == "xls":
        import olefile

        data = bytearray((shared / "formats" / "dev04.xls").read_bytes())
        with olefile.OleFileIO(bytes(data)) as ole:
            stream = bytearray(ole.openstream("Workbook").read())
        pos, last = 0, -1
        while pos + 4 <= len(stream):
            rtype, size = struct.unpack_from("<HH", stream, pos)
            if rtype == 0x00E5:  # MERGEDCELLS: count, then (first row, last row, first col, last col) each
                last = pos
            pos += 4 + size
        r0, _, c0, _ = struct.unpack_from("<4H", stream, last + 6)
        r1, c1 = (0xFFFF, 0xFF) if rows is None else (r0 + rows - 1, c0 + cols - 1)  # type: ignore[operator]
        struct.pack_into("<4H", stream, last + 6, r0, r1, c0, c1)
        out = io.BytesIO(bytes(data))
        with olefile.OleFileIO(out, write_mode=True) as ole:
            ole.write_stream("Workbook", bytes(stream))
        return out.getvalue()
    xlsx = (shared / "formats" / "dev04.xlsx").read_bytes()
    if fmt == "xlsx":
        return _rewrite(xlsx, "xl/worksheets/sheet3.xml", lambda x: _xlsx_merge(x, rows, cols))
    ods = fb.ods_from_xlsx(xlsx)
    return _rewrite(ods, "content.xml", lambda x: _ods_merge(x, rows, cols))


def _rewrite(package: bytes, part: str, edit) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info)
            z.writestr(info, edit(body) if info.filename == part else body)
    return out.getvalue()


def _col_letters(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _xlsx_merge(xml: bytes, rows: int | None, cols: int | None) -> bytes:
    m = re.search(rb'<mergeCell ref="([A-Z]+)([0-9]+):[A-Z]+[0-9]+"/>', xml)
    assert m
    col0 = sum((ch - 64) * 26**i for i, ch in enumerate(reversed(m.group(1))))
    row0 = int(m.group(2))
    end = "XFD1048576" if rows is None else f"{_col_letters(col0 + cols - 1)}{row0 + rows - 1}"  # type: ignore[operator]
    return xml[: m.start()] + f'<mergeCell ref="{m.group(1).decode()}{row0}:{end}"/>'.encode() + xml[m.end():]


def _ods_merge(xml: bytes, rows: int | None, cols: int | None) -> bytes:
    third = [m.start() for m in re.finditer(rb"<table:table ", xml)][2]
    m = re.compile(rb'<table:table-cell ([^>]*?)table:number-columns-spanned="\d+"').search(xml, third)
    assert m
    rows, cols = (1_048_576, 16_384) if rows is None else (rows, cols)
    cell = b'<table:table-cell %stable:number-columns-spanned="%d" table:number-rows-spanned="%d"' % (m.group(1), cols, rows)
    return xml[: m.start()] + cell + xml[m.end():]


def _cells(doc) -> list[list[tuple[str, int, int, int, int]]]:
    return [[(c.text, c.row, c.col, c.rowspan, c.colspan) for r in t.rows for c in r] for t in doc.tables]


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_a_merge_past_the_grid_reads_as_the_merge_cut_to_the_grid(shared: Path, fmt: str) -> None:
    """The whole-grid merge is cut to the sheet's cells (4 rows x 15 columns here): the same table as the cut
    merge written out, plus a `merge-clipped` warning; the work is the grid's, not the claim's."""
    plain = read(_last_sheet_first_merge(shared, fmt, 1, 1), OPTIONS)  # the anchor as an ordinary cell
    cut = read(_last_sheet_first_merge(shared, fmt, 4, 15), OPTIONS)
    tracemalloc.start()
    try:
        huge = read(_last_sheet_first_merge(shared, fmt, None, None), OPTIONS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, peak  # the grid is 60 cells; before the cut, a set of 17 billion would be built
    assert _cells(huge) == _cells(cut) != _cells(plain)
    assert _cells(huge)[:2] == _cells(plain)[:2]  # the other sheets are untouched
    last = huge.tables[-1]
    anchor = max((c for r in last.rows for c in r), key=lambda c: c.rowspan * c.colspan)
    assert (anchor.row, anchor.rowspan, anchor.colspan) == (0, len(last.rows), 15 - anchor.col)
    assert any(w.startswith("merge-clipped:") for w in huge.warnings)
    assert not any(w.startswith("merge-clipped:") for w in cut.warnings)


def test_the_hostile_two_cell_whole_grid_merge_is_read_as_excel_shows_it() -> None:
    """A1 holds a label, B2 a number, and one merge covers A1:XFD1048576: Excel shows only A1 across the grid."""
    data = xlsx_merged_huge()  # the battery's own file
    assert b"XFD1048576" in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    doc = read(data, OPTIONS)
    (table,) = doc.tables
    assert [[(c.text, c.rowspan, c.colspan) for c in r] for r in table.rows] == [[("收到申请数", 2, 2)], []]
    assert any(w.startswith("merge-clipped:") for w in doc.warnings)


def test_overlapping_merges_are_bounded_by_max_merged_cells(shared: Path) -> None:
    """Excel never overlaps merges; 60 nested merges, each from one step nearer the top-left to the far corner of
    a 60x60 grid (none's anchor covered by an earlier one), cover ~74,000 cells: past the cap a precise 422."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for i in range(1, 61):
        ws.cell(i, i, f"{i}")
    buf = io.BytesIO()
    wb.save(buf)
    merges = "".join(f'<mergeCell ref="{_col_letters(i)}{i}:{_col_letters(60)}60"/>' for i in range(60, 0, -1))
    data = _rewrite(buf.getvalue(), "xl/worksheets/sheet1.xml",
                    lambda x: x.replace(b"</sheetData>", f'</sheetData><mergeCells count="60">{merges}</mergeCells>'.encode()))
    assert len(read(data, OPTIONS).tables) == 1  # under the default cap: read (a cell covered twice is covered)
    with pytest.raises(ResourceLimitError) as e:
        read(data, OPTIONS, SpreadsheetSettings(max_merged_cells=10_000))
    assert e.value.extra["limit"] == "max_merged_cells"


def test_sniffing_an_odf_container_reads_only_the_head_of_a_huge_mimetype_member() -> None:
    """A `mimetype` member that inflates to 64 MiB (from ~64 KiB sent) is recognised from its first bytes:
    sniffing holds a few KiB, not the member."""
    head = b"application/vnd.oasis.opendocument.spreadsheet"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", head + b" " * (64 << 20))
    data = buf.getvalue()
    assert len(data) < 1 << 20
    tracemalloc.start()
    try:
        assert sniff(data, "upload") == "ods"
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, peak
