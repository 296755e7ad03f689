"""Word 97–2003 `.doc` (and Kingsoft `.wps`, the same binary format) reader, natively in Python.

Why not antiword/catdoc or LibreOffice: the text tools drop merged-cell tables
(about half of a report's values) and LibreOffice costs seconds and a 200 MB
runtime per file. The binary format is documented ([MS-DOC]); what a report
needs from it is small:

- the FIB (file information block) at the head of the `WordDocument` stream:
  version, encryption flags, which table stream, where the piece table lives;
- the piece table (CLX) in the table stream: which byte ranges of the
  `WordDocument` stream hold which characters, 8-bit or UTF-16;
- the paragraph properties (PAPX in FKP pages): which paragraph marks end a
  table cell (`\\x07`) and which one ends a table row (the TTP), and on the row
  end the table definition (sprmTDefTable: cell edges, vertical-merge flags),
  so merged cells keep their grid columns.

`olefile` reads the OLE2 container. Every structural inconsistency becomes a
`CorruptFileError`; every size read from the file is bounded by the stream it
points into, so a hostile file costs at most one pass over its own bytes.
"""
from __future__ import annotations

import bisect
import io
import struct
from dataclasses import dataclass

import olefile

from ..errors import CorruptFileError, EncryptedFileError, LegacyWordFormatError, WorksDocumentError
from ..model import Cell, Document, Paragraph, Source, Table
from .options import ReadOptions


@dataclass(frozen=True, slots=True)
class DocSettings:
    """Tuning knobs of the .doc reader."""

    min_word97_nfib: int = 0xC0  # FIB versions below this are Word 6/95 (0x65, 0x68) or older
    column_edge_tolerance: int = 30  # twips: cell edges closer than this are one grid line
    max_cells_per_row: int = 63  # Word's own limit; more is a damaged table definition
    unwrap_single_cell_tables: bool = True  # a 1x1 layout frame is read as its content


SETTINGS = DocSettings()

_WORD_IDENT = 0xA5EC
_F_ENCRYPTED = 0x0100
_F_WHICH_TABLE = 0x0200
_F_OBFUSCATED = 0x8000

# sprm ids (full 16-bit opcodes) the reader interprets
_SPRM_P_IN_TABLE = 0x2416
_SPRM_P_TTP = 0x2417
_SPRM_P_ITAP = 0x6649
_SPRM_P_INNER_TTP = 0x244C
_SPRM_P_HUGE_PAPX = 0x6646
_SPRM_T_DEF_TABLE = 0xD608
_SPRM_T_VERT_MERGE = 0xD62B
_SPRM_P_CHG_TABS = 0xC615
_OPERAND_SIZE = {0: 1, 1: 1, 2: 2, 3: 4, 4: 2, 5: 2, 7: 3}

# characters of the text stream that are marks, not text
_DROP = dict.fromkeys(map(chr, (0x01, 0x02, 0x03, 0x04, 0x05, 0x08, 0x1F)), None)
_DROP.update({"\x0b": "\n", "\x1e": "-", "\x0e": "\n", "\x0c": "\n"})
_FIELD_BEGIN, _FIELD_SEP, _FIELD_END = "\x13", "\x14", "\x15"


# ---------------------------------------------------------------------------
# Container and FIB
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Fib:
    ccp_text: int
    fc_clx: int
    lcb_clx: int
    fc_bte_papx: int
    lcb_bte_papx: int
    table_stream: str


def _u16(b: bytes, off: int) -> int:
    if off + 2 > len(b):
        raise CorruptFileError("The Word document ends inside a structure.")
    return struct.unpack_from("<H", b, off)[0]


def _u32(b: bytes, off: int) -> int:
    if off + 4 > len(b):
        raise CorruptFileError("The Word document ends inside a structure.")
    return struct.unpack_from("<I", b, off)[0]


def _read_fib(wd: bytes, settings: DocSettings) -> _Fib:
    """Version and encryption checks, then the few FIB fields the reader uses."""
    if len(wd) < 32 or _u16(wd, 0) != _WORD_IDENT:
        raise CorruptFileError("The WordDocument stream has no Word file information block.")
    nfib = _u16(wd, 2)
    flags = _u16(wd, 10)
    if nfib < settings.min_word97_nfib:
        raise LegacyWordFormatError(
            "The file is a Word 6.0/95 (or older) document, which is not read: save it as .docx.",
            nfib=nfib, hint="save as .docx",
        )
    if flags & (_F_ENCRYPTED | _F_OBFUSCATED):
        raise EncryptedFileError("The Word document is password-protected.")
    pos = 32
    csw = _u16(wd, pos)
    pos += 2 + 2 * csw
    cslw = _u16(wd, pos)
    lw = pos + 2
    if cslw < 4:
        raise CorruptFileError("The Word file information block is truncated.")
    ccp_text = _u32(wd, lw + 12)
    pos = lw + 4 * cslw
    cb = _u16(wd, pos)
    fc = pos + 2
    if cb < 34:
        raise CorruptFileError("The Word file information block is truncated.")

    def pair(i: int) -> tuple[int, int]:
        return _u32(wd, fc + 8 * i), _u32(wd, fc + 8 * i + 4)

    fc_clx, lcb_clx = pair(33)
    fc_bte, lcb_bte = pair(13)
    return _Fib(ccp_text, fc_clx, lcb_clx, fc_bte, lcb_bte, "1Table" if flags & _F_WHICH_TABLE else "0Table")


# ---------------------------------------------------------------------------
# Piece table: characters by CP, and where each lives in the WordDocument stream
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Piece:
    cp: int  # first character position
    n: int  # characters
    fc: int  # byte offset in WordDocument
    compressed: bool  # 8-bit (cp1252) rather than UTF-16LE


def _pieces(table: bytes, fib: _Fib) -> list[_Piece]:
    """The PlcPcd of the CLX, after skipping its Prc (property modifier) entries."""
    end = fib.fc_clx + fib.lcb_clx
    if fib.lcb_clx == 0 or end > len(table):
        raise CorruptFileError("The Word piece table lies outside the table stream.")
    pos = fib.fc_clx
    while pos < end and table[pos] == 0x01:
        if pos + 3 > end:
            raise CorruptFileError("The Word piece table is damaged.")
        pos += 3 + max(0, struct.unpack_from("<h", table, pos + 1)[0])
    if pos + 5 > end or table[pos] != 0x02:
        raise CorruptFileError("The Word piece table is damaged.")
    lcb = _u32(table, pos + 1)
    plc = pos + 5
    if plc + lcb > end or lcb < 16 or (lcb - 4) % 12:
        raise CorruptFileError("The Word piece table is damaged.")
    n = (lcb - 4) // 12
    cps = struct.unpack_from(f"<{n + 1}I", table, plc)
    out = []
    for i in range(n):
        pcd = plc + 4 * (n + 1) + 8 * i
        raw_fc = _u32(table, pcd + 2)
        compressed = bool(raw_fc & 0x40000000)
        fc = raw_fc & 0x3FFFFFFF
        if cps[i + 1] < cps[i]:
            raise CorruptFileError("The Word piece table is out of order.")
        out.append(_Piece(cps[i], cps[i + 1] - cps[i], fc // 2 if compressed else fc, compressed))
    return out


def _text_and_fcs(wd: bytes, pieces: list[_Piece], ccp: int) -> tuple[str, list[tuple[int, int, int, int]]]:
    """The main-document text (first `ccp` characters) and a CP→FC map (cp, n, fc, bytes per char)."""
    parts: list[str] = []
    fcmap: list[tuple[int, int, int, int]] = []
    for p in pieces:
        if p.cp >= ccp:
            break
        n = min(p.n, ccp - p.cp)
        width = 1 if p.compressed else 2
        raw = wd[p.fc : p.fc + n * width]
        if len(raw) < n * width:
            raise CorruptFileError("A Word text piece lies outside the WordDocument stream.")
        parts.append(raw.decode("cp1252", errors="replace") if p.compressed else raw.decode("utf-16-le", errors="replace"))
        fcmap.append((p.cp, n, p.fc, width))
    return "".join(parts), fcmap


# ---------------------------------------------------------------------------
# Paragraph properties (PAPX in FKP pages)
# ---------------------------------------------------------------------------


def _iter_sprms(grpprl: bytes) -> list[tuple[int, bytes]]:
    """(opcode, operand) pairs of a grpprl; a truncated trailing sprm is dropped."""
    out = []
    pos, end = 0, len(grpprl)
    while pos + 2 <= end:
        op = struct.unpack_from("<H", grpprl, pos)[0]
        pos += 2
        spra = op >> 13
        if spra == 6:
            if op == _SPRM_T_DEF_TABLE:
                if pos + 2 > end:
                    break
                size = struct.unpack_from("<H", grpprl, pos)[0] - 1
                pos += 2
            elif op == _SPRM_P_CHG_TABS and pos < end and grpprl[pos] == 255:
                size = 1 + (grpprl[pos + 1] * 4 + 1 if pos + 1 < end else 0)
                size = min(size, end - pos)
                pos += 1
                size -= 1
            else:
                if pos >= end:
                    break
                size = grpprl[pos]
                pos += 1
        else:
            size = _OPERAND_SIZE[spra]
        if size < 0 or pos + size > end:
            break
        out.append((op, grpprl[pos : pos + size]))
        pos += size
    return out


@dataclass(frozen=True, slots=True)
class _Papx:
    in_table: bool = False
    ttp: bool = False
    itap: int = 0
    edges: tuple[int, ...] = ()  # cell edges (twips) of a row end
    vmerge: tuple[int, ...] = ()  # per cell: 0 none, 1 continues the cell above, 3 starts a merge


_NO_PAPX = _Papx()


def _papx(grpprl: bytes, data_stream: bytes) -> _Papx:
    in_table = ttp = False
    itap = 0
    edges: tuple[int, ...] = ()
    vmerge: list[int] = []
    for op, arg in _iter_sprms(grpprl):
        if op == _SPRM_P_HUGE_PAPX and len(arg) == 4 and data_stream:
            off = struct.unpack_from("<I", arg)[0]
            if off + 2 <= len(data_stream):
                cb = struct.unpack_from("<H", data_stream, off)[0]
                huge = _papx(data_stream[off + 2 : off + 2 + cb], b"")
                in_table, ttp, itap = huge.in_table or in_table, huge.ttp or ttp, huge.itap or itap
                edges, vmerge = huge.edges or edges, list(huge.vmerge) or vmerge
        elif op == _SPRM_P_IN_TABLE and arg:
            in_table = bool(arg[0])
        elif op in (_SPRM_P_TTP, _SPRM_P_INNER_TTP) and arg:
            ttp = ttp or (bool(arg[0]) if op == _SPRM_P_TTP else False)
        elif op == _SPRM_P_ITAP and len(arg) == 4:
            itap = struct.unpack_from("<i", arg)[0]
        elif op == _SPRM_T_DEF_TABLE and arg:
            n = arg[0]
            if 1 + 2 * (n + 1) > len(arg):
                continue
            edges = struct.unpack_from(f"<{n + 1}h", arg, 1)
            tc = 1 + 2 * (n + 1)
            vmerge = []
            for i in range(n):
                off = tc + 20 * i
                flags = struct.unpack_from("<H", arg, off)[0] if off + 2 <= len(arg) else 0
                vmerge.append((flags >> 5) & 0x3)
        elif op == _SPRM_T_VERT_MERGE and len(arg) >= 2:
            itc, flag = arg[0], arg[1]
            if itc >= len(vmerge):
                vmerge.extend([0] * (itc + 1 - len(vmerge)))
            vmerge[itc] = flag
    return _Papx(in_table, ttp, itap, tuple(edges), tuple(vmerge))


def _papx_runs(wd: bytes, table: bytes, data_stream: bytes, fib: _Fib) -> tuple[list[int], list[tuple[int, _Papx]]]:
    """FC-sorted runs of paragraph properties: starts (for bisect) and (end, props)."""
    end = fib.fc_bte_papx + fib.lcb_bte_papx
    if fib.lcb_bte_papx < 8 or end > len(table) or (fib.lcb_bte_papx - 4) % 8:
        raise CorruptFileError("The Word paragraph-property index is damaged.")
    n = (fib.lcb_bte_papx - 4) // 8
    pns = struct.unpack_from(f"<{n}I", table, fib.fc_bte_papx + 4 * (n + 1))
    runs: list[tuple[int, int, _Papx]] = []
    cache: dict[bytes, _Papx] = {}
    for pn in pns:
        page = (pn & 0x3FFFFF) * 512
        if page + 512 > len(wd):
            raise CorruptFileError("A Word paragraph-property page lies outside the document.")
        fkp = wd[page : page + 512]
        crun = fkp[511]
        if 4 * (crun + 1) + 13 * crun > 511:
            raise CorruptFileError("A Word paragraph-property page is damaged.")
        fcs = struct.unpack_from(f"<{crun + 1}I", fkp, 0)
        for i in range(crun):
            boff = fkp[4 * (crun + 1) + 13 * i] * 2
            props = _NO_PAPX
            if boff:
                cb = fkp[boff]
                if cb == 0:
                    size, start = 2 * fkp[boff + 1], boff + 2
                else:
                    size, start = 2 * cb - 1, boff + 1
                body = fkp[start : start + size]
                grpprl = body[2:]  # after istd
                props = cache.get(grpprl) or cache.setdefault(grpprl, _papx(grpprl, data_stream))
            runs.append((fcs[i], fcs[i + 1], props))
    runs.sort(key=lambda r: r[0])
    return [r[0] for r in runs], [(r[1], r[2]) for r in runs]


# ---------------------------------------------------------------------------
# Text walk: paragraphs, cells, rows
# ---------------------------------------------------------------------------


def _clean(text: str) -> str:
    """Drop field instructions (between field begin and separator) and mark characters."""
    if _FIELD_BEGIN in text:
        out: list[str] = []
        stack: list[bool] = []  # per open field: True while in its instruction part
        for ch in text:
            if ch == _FIELD_BEGIN:
                stack.append(True)
            elif ch == _FIELD_SEP and stack:
                stack[-1] = False
            elif ch == _FIELD_END and stack:
                stack.pop()
            elif not (stack and any(stack)):
                out.append(ch)
        text = "".join(out)
    return text.translate(_DROP).replace("\xa0", " ")


@dataclass(slots=True)
class EdgeRow:
    """One table row as word processors store it: cell texts, cell edges, vertical-merge flags.

    `edges` are the x positions of the cell boundaries (n cells: n+1 edges, any unit);
    `vmerge` per cell: 0 not merged, 1 continues the cell above, 3 (or 2) starts a merge.
    RTF (`\\cellx`, `\\clvmgf`/`\\clvmrg`) stores its tables the same way.
    """

    cells: list[str]
    edges: tuple[float, ...] = ()
    vmerge: tuple[int, ...] = ()


def _row(cells: list[str], p: _Papx) -> EdgeRow:
    return EdgeRow(cells, p.edges, p.vmerge)


def build_table(rows: list[EdgeRow], index: int, tolerance: float) -> Table:
    """Grid from the rows' cell edges; horizontal spans from the edges, vertical from the merge flags."""
    all_edges: list[float] = []
    for r in rows:
        all_edges.extend(r.edges[: len(r.cells) + 1])
    grid: list[float] = []
    for e in sorted(set(all_edges)):
        if not grid or e - grid[-1] > tolerance:
            grid.append(e)

    def col_of(x: float) -> int:
        i = bisect.bisect_left(grid, x - tolerance)
        return min(i, max(len(grid) - 1, 0))

    built: list[list[Cell]] = []
    owner: dict[int, tuple[int, int]] = {}  # grid col -> (row index, cell index) of a merge still open
    for ri, r in enumerate(rows):
        edges, vm = r.edges, r.vmerge
        out: list[Cell] = []
        next_col = 0
        for ci, text in enumerate(r.cells):
            if ci + 1 < len(edges) and grid:
                c0, c1 = col_of(edges[ci]), col_of(edges[ci + 1])
                c0 = max(c0, next_col)
                span = max(1, c1 - c0)
            else:
                c0, span = next_col, 1
            next_col = c0 + span
            flag = vm[ci] if ci < len(vm) else 0
            text = text.strip("\n")
            if flag == 1 and c0 in owner:
                pr, pc = owner[c0]
                above = built[pr][pc]
                joined = above.text + ("\n" + text if text.strip() else "")
                built[pr][pc] = Cell(joined, above.row, above.col, ri - above.row + 1, above.colspan, above.source)
                continue
            cell = Cell(text, ri, c0, 1, span, Source(table=index, row=ri, col=c0))
            out.append(cell)
            if flag in (2, 3):
                owner[c0] = (ri, len(out) - 1)
            else:
                owner.pop(c0, None)
        built.append(out)
    return Table(tuple(tuple(r) for r in built), index=index, source=Source(table=index))


def _blocks(text: str, fcmap: list[tuple[int, int, int, int]], starts: list[int],
            runs: list[tuple[int, _Papx]], settings: DocSettings) -> list[Paragraph | Table]:
    cps = [m[0] for m in fcmap]

    def props_at(cp: int) -> _Papx:
        i = bisect.bisect_right(cps, cp) - 1
        if i < 0:
            return _NO_PAPX
        pcp, _, fc0, width = fcmap[i]
        fc = fc0 + (cp - pcp) * width
        j = bisect.bisect_right(starts, fc) - 1
        if j < 0 or fc >= runs[j][0]:
            return _NO_PAPX
        return runs[j][1]

    blocks: list[Paragraph | Table] = []
    rows: list[EdgeRow] = []
    cells: list[str] = []
    cell_lines: list[str] = []
    tables = 0

    def close_table() -> None:
        nonlocal rows, tables
        if not rows:
            return
        t = build_table(rows, tables, settings.column_edge_tolerance)
        rows = []
        if settings.unwrap_single_cell_tables and t.n_rows == 1 and t.n_cols == 1:
            for line in t.rows[0][0].text.split("\n"):
                if line.strip():
                    blocks.append(Paragraph(line.strip(), Source(line=len(blocks))))
            return
        blocks.append(t)
        tables += 1

    start = 0
    n = len(text)
    pos = 0
    while pos < n:
        ch = text[pos]
        if ch not in "\r\x07":
            pos += 1
            continue
        para = _clean(text[start:pos])
        p = props_at(pos)
        start = pos + 1
        pos += 1
        if p.in_table and p.itap <= 1:
            if ch == "\x07" and p.ttp:
                if cell_lines:
                    cells.append("\n".join(cell_lines))
                    cell_lines = []
                if len(cells) > settings.max_cells_per_row:
                    raise CorruptFileError("A Word table row has more cells than Word allows.")
                rows.append(_row(cells, p))
                cells = []
            elif ch == "\x07":
                cell_lines.append(para)
                cells.append("\n".join(cell_lines))
                cell_lines = []
            else:
                cell_lines.append(para)
            continue
        if p.in_table:  # a nested table's paragraph: its text joins the outer cell
            cell_lines.append(para)
            continue
        if cells or cell_lines:  # a row without its row-end mark: keep what it had
            if cell_lines:
                cells.append("\n".join(cell_lines))
            rows.append(EdgeRow(cells))
            cells, cell_lines = [], []
        close_table()
        for line in para.split("\n"):
            line = line.strip()
            if line:
                blocks.append(Paragraph(line, Source(line=len(blocks))))
    if cells or cell_lines:
        if cell_lines:
            cells.append("\n".join(cell_lines))
        rows.append(EdgeRow(cells))
    close_table()
    return blocks


def _open(data: bytes) -> olefile.OleFileIO:
    try:
        return olefile.OleFileIO(io.BytesIO(data))
    except Exception as e:  # olefile raises OSError, struct.error, IndexError... on damaged containers
        raise CorruptFileError("The file is a damaged OLE2 (Office 97–2003) container.") from e


def _stream(ole: olefile.OleFileIO, name: str, limit: int) -> bytes:
    try:
        size = ole.get_size(name)
        if size > limit:
            raise CorruptFileError(f"The {name} stream is larger than the document limit.")
        return ole.openstream(name).read()
    except CorruptFileError:
        raise
    except Exception as e:
        raise CorruptFileError(f"The {name} stream of the Word document is damaged.") from e


def _title(ole: olefile.OleFileIO) -> str | None:
    try:
        meta = ole.get_metadata()
        raw = meta.title
    except Exception:
        return None
    if isinstance(raw, bytes):
        for enc in ("utf-8", "gb18030", "cp1252"):
            try:
                raw = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
    text = str(raw or "").strip()
    return text or None


def read(data: bytes, options: ReadOptions, settings: DocSettings = SETTINGS) -> Document:
    """Read a Word 97–2003 binary document (or a Kingsoft .wps) into paragraphs and tables."""
    ole = _open(data)
    try:
        if not ole.exists("WordDocument"):
            if ole.exists("CONTENTS") or ole.exists("MatOST"):
                raise WorksDocumentError(
                    "The file is a Microsoft Works document, which is not read: save it as .docx.",
                    hint="save as .docx",
                )
            raise CorruptFileError("The OLE2 file has no WordDocument stream.")
        limit = options.max_uncompressed_bytes
        wd = _stream(ole, "WordDocument", limit)
        fib = _read_fib(wd, settings)
        if not ole.exists(fib.table_stream):
            raise CorruptFileError("The Word document has no table stream.")
        table = _stream(ole, fib.table_stream, limit)
        data_stream = _stream(ole, "Data", limit) if ole.exists("Data") else b""
        title = _title(ole)
    finally:
        ole.close()
    try:
        pieces = _pieces(table, fib)
        text, fcmap = _text_and_fcs(wd, pieces, fib.ccp_text)
        if len(text) > options.max_text_chars:
            raise CorruptFileError("The Word document declares more text than the limit.")
        starts, runs = _papx_runs(wd, table, data_stream, fib)
        blocks = _blocks(text, fcmap, starts, runs, settings)
    except (CorruptFileError, EncryptedFileError):
        raise
    except (struct.error, IndexError, ValueError, KeyError, OverflowError, MemoryError) as e:
        raise CorruptFileError("The Word document's structures are damaged.") from e
    return Document(blocks=tuple(blocks), format="doc", title=title)
