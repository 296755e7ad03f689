"""Writers that turn corpus reports into the other formats portals publish, in pure Python.

The corpus has each report as DOCX, HTML and PDF; these build `.rtf` and `.odt` from
the DOCX content (paragraphs and merged-cell tables, as the docx reader sees them),
`.mht` from the HTML page (MIME, quoted-printable or base64, in a chosen charset),
`.ofd` from the PDF's character boxes and ruling lines, and Word-binary variants
(`.wps`, Word 6/95, encrypted, Microsoft Works) by patching a `.doc` the way those
files differ. The readers never see how a file was made: they sniff bytes.
"""
from __future__ import annotations

import email.charset
import email.mime.multipart
import email.mime.text
import ctypes
import io
import math
import struct
import zipfile
from xml.sax.saxutils import escape

import olefile
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from extractors.model import Document, Paragraph, Table
from extractors.readers.pdf_geometry import PdfSettings
from extractors.readers.pdf_tables import extract_rules

# ---------------------------------------------------------------------------
# Table helpers: the (row, col) positions every cell covers
# ---------------------------------------------------------------------------


def _row_layout(t: Table, r: int) -> list[tuple[int, int, str | None, str]]:
    """Per cell slot of grid row r: (col, colspan, text or None for a merged continuation, vmerge kind)."""
    grid = t.grid()
    out = []
    c = 0
    while c < t.n_cols:
        cell = grid[r][c]
        if cell is None:
            out.append((c, 1, "", "none"))
            c += 1
            continue
        kind = "start" if cell.rowspan > 1 and cell.row == r else ("cont" if cell.row < r else "none")
        out.append((c, cell.colspan, cell.text if cell.row == r else None, kind))
        c += cell.colspan
    return out


# ---------------------------------------------------------------------------
# RTF
# ---------------------------------------------------------------------------


def _rtf_text(text: str, gbk_hex: bool) -> str:
    out = []
    for ch in text:
        if ch in "\\{}":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\line ")
        elif ord(ch) < 128:
            out.append(ch)
        elif gbk_hex:
            try:
                out.append("".join(f"\\'{b:02x}" for b in ch.encode("gbk")))
            except UnicodeEncodeError:
                out.append(f"\\u{ord(ch) if ord(ch) < 32768 else ord(ch) - 65536}?")
        else:
            out.append(f"\\u{ord(ch) if ord(ch) < 32768 else ord(ch) - 65536}?")
    return "".join(out)


def rtf_from_document(doc: Document, title: str = "") -> bytes:
    """An RTF of the document: paragraphs as \\uN escapes, table text as GBK bytes, merges as \\clvmgf/\\clvmrg."""
    parts = ["{\\rtf1\\ansi\\ansicpg936\\deff0\\uc1{\\fonttbl{\\f0\\fnil\\fcharset134 SimSun;}}",
             "{\\colortbl;\\red0\\green0\\blue0;}"]
    if title:
        parts.append("{\\info{\\title " + _rtf_text(title, True) + "}}")
    parts.append("{\\*\\generator formats_build;}")
    for b in doc.blocks:
        if isinstance(b, Paragraph):
            parts.append("\\pard\\plain\\f0 " + _rtf_text(b.text, False) + "\\par\n")
            continue
        for r in range(b.n_rows):
            layout = _row_layout(b, r)
            row = ["\\trowd\\trgaph108"]
            for col, span, _text, kind in layout:
                row.append({"start": "\\clvmgf", "cont": "\\clvmrg", "none": ""}[kind])
                row.append(f"\\cellx{(col + span) * 1200}")
            row.append("\n")
            for _col, _span, text, _kind in layout:
                row.append("\\pard\\intbl " + _rtf_text(text or "", True) + "\\cell\n")
            row.append("\\row\n")
            parts.append("".join(row))
        parts.append("\\pard\\par\n")
    parts.append("}")
    return "".join(parts).encode("ascii")


# ---------------------------------------------------------------------------
# ODT
# ---------------------------------------------------------------------------

_ODT_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.3"'
)


def _odt_para(text: str, tag: str = "text:p") -> str:
    lines = [escape(x) for x in text.split("\n")]
    return f"<{tag}>" + "<text:line-break/>".join(lines).replace("  ", ' <text:s text:c="1"/>') + f"</{tag}>"


def odt_from_document(doc: Document, title: str = "") -> bytes:
    """An ODT of the document: merges as number-*-spanned with covered-table-cell placeholders."""
    body = []
    for b in doc.blocks:
        if isinstance(b, Paragraph):
            body.append(_odt_para(b.text, "text:h" if b.style == "heading" else "text:p"))
            continue
        grid = b.grid()
        rows = [f'<table:table table:name="T{b.index}"><table:table-column table:number-columns-repeated="{b.n_cols}"/>']
        for r in range(b.n_rows):
            row = ["<table:table-row>"]
            for c in range(b.n_cols):
                cell = grid[r][c]
                if cell is None:
                    row.append("<table:table-cell/>")
                elif cell.row == r and cell.col == c:
                    attrs = ""
                    if cell.colspan > 1:
                        attrs += f' table:number-columns-spanned="{cell.colspan}"'
                    if cell.rowspan > 1:
                        attrs += f' table:number-rows-spanned="{cell.rowspan}"'
                    paras = "".join(_odt_para(x) for x in cell.text.split("\n"))
                    row.append(f'<table:table-cell office:value-type="string"{attrs}>{paras}</table:table-cell>')
                else:
                    row.append("<table:covered-table-cell/>")
            row.append("</table:table-row>")
            rows.append("".join(row))
        rows.append("</table:table>")
        body.append("".join(rows))
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODT_NS}><office:body>'
               f'<office:text>{"".join(body)}</office:text></office:body></office:document-content>')
    meta = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta {_ODT_NS}><office:meta>'
            f"<dc:title>{escape(title)}</dc:title></office:meta></office:document-meta>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.text"/></manifest:manifest>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("meta.xml", meta, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


# ---------------------------------------------------------------------------
# MHT
# ---------------------------------------------------------------------------


def mht_from_html(html: str, charset: str = "gbk", transfer: str = "quoted-printable") -> bytes:
    """A saved web page: multipart/related with the HTML root part (and a stylesheet part)."""
    msg = email.mime.multipart.MIMEMultipart("related", type="text/html")
    msg["Subject"] = "saved page"
    cs = email.charset.Charset(charset)
    cs.body_encoding = email.charset.QP if transfer == "quoted-printable" else email.charset.BASE64
    part = email.mime.text.MIMEText(html, "html", cs)
    part["Content-Location"] = "http://example.gov.cn/report.html"
    css = email.mime.text.MIMEText("td { border: 1px solid }", "css", "utf-8")
    css["Content-Location"] = "http://example.gov.cn/style.css"
    msg.attach(part)
    msg.attach(css)
    return msg.as_bytes()


# ---------------------------------------------------------------------------
# OFD from a PDF's character boxes and rulings
# ---------------------------------------------------------------------------

_PT = 25.4 / 72.0  # points to millimetres
_OFD_NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


def ofd_from_pdf(pdf_bytes: bytes, image_only: bool = False) -> bytes:
    """An OFD whose pages carry the PDF's characters (runs with DeltaX) and ruling lines, in mm."""
    pdf = pdfium.PdfDocument(pdf_bytes)
    pages_xml: list[str] = []
    oid = 100
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            w, h = page.get_size()
            objs: list[str] = []
            if image_only:
                objs.append(f'<ofd:ImageObject ID="{oid}" ResourceID="1" Boundary="0 0 {w * _PT:.3f} {h * _PT:.3f}" '
                            f'CTM="{w * _PT:.3f} 0 0 {h * _PT:.3f} 0 0"/>')
                oid += 1
            else:
                tp = page.get_textpage()
                # per character: its origin (baseline) and font size, as an OFD writer places glyphs
                runs: list[list[tuple[str, float, float, float]]] = []  # (char, x, baseline, size) in mm
                ox, oy = ctypes.c_double(), ctypes.c_double()
                tm = pdfium_c.FS_MATRIX()
                for k in range(tp.count_chars()):
                    ch = tp.get_text_range(k, 1)
                    if not ch or ch.isspace() or not pdfium_c.FPDFText_GetCharOrigin(tp.raw, k, ox, oy):
                        continue
                    pdfium_c.FPDFText_GetMatrix(tp.raw, k, tm)
                    size = pdfium_c.FPDFText_GetFontSize(tp.raw, k) * math.hypot(tm.b, tm.d) * _PT
                    box = (ch, ox.value * _PT, (h - oy.value) * _PT, max(size, 0.5))
                    last = runs[-1][-1] if runs else None
                    # one TextObject per run of one size on one baseline, as OFD writers emit them
                    if (last and abs(last[2] - box[2]) < 0.2 and abs(last[3] - box[3]) < 0.05
                            and 0 <= box[1] - last[1] < 3 * box[3]):
                        runs[-1].append(box)
                    else:
                        runs.append([box])
                tp.close()
                for run in runs:
                    x0, base, size = run[0][1], run[0][2], run[0][3]
                    text = "".join(c[0] for c in run)
                    deltas = " ".join(f"{run[j + 1][1] - run[j][1]:.3f}" for j in range(len(run) - 1))
                    x1 = run[-1][1] + size
                    objs.append(
                        f'<ofd:TextObject ID="{oid}" Boundary="{x0:.3f} {base - size:.3f} {x1 - x0:.3f} {size * 1.3:.3f}" '
                        f'Font="1" Size="{size:.3f}"><ofd:TextCode X="0" Y="{size:.3f}" '
                        f'DeltaX="{deltas}">{escape(text)}</ofd:TextCode></ofd:TextObject>'
                    )
                    oid += 1
                horiz, vert = extract_rules(page, h, PdfSettings())
                for y, a, b in horiz:
                    objs.append(f'<ofd:PathObject ID="{oid}" Boundary="{a * _PT:.3f} {y * _PT:.3f} {(b - a) * _PT:.3f} 0.3" '
                                f'LineWidth="0.25"><ofd:AbbreviatedData>M 0 0 L {(b - a) * _PT:.3f} 0</ofd:AbbreviatedData></ofd:PathObject>')
                    oid += 1
                for x, a, b in vert:
                    objs.append(f'<ofd:PathObject ID="{oid}" Boundary="{x * _PT:.3f} {a * _PT:.3f} 0.3 {(b - a) * _PT:.3f}" '
                                f'LineWidth="0.25"><ofd:AbbreviatedData>M 0 0 L 0 {(b - a) * _PT:.3f}</ofd:AbbreviatedData></ofd:PathObject>')
                    oid += 1
            page.close()
            pages_xml.append(
                f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {_OFD_NS}><ofd:Area><ofd:PhysicalBox>0 0 '
                f'{w * _PT:.3f} {h * _PT:.3f}</ofd:PhysicalBox></ofd:Area><ofd:Content><ofd:Layer ID="{oid}">'
                + "".join(objs) + "</ofd:Layer></ofd:Content></ofd:Page>"
            )
            oid += 1
    finally:
        pdf.close()
    ofd = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {_OFD_NS} Version="1.0" DocType="OFD"><ofd:DocBody>'
           '<ofd:DocInfo><ofd:DocID>0</ofd:DocID></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>'
           "</ofd:DocBody></ofd:OFD>")
    page_refs = "".join(f'<ofd:Page ID="{n + 1}" BaseLoc="Pages/Page_{n}/Content.xml"/>' for n in range(len(pages_xml)))
    document = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {_OFD_NS}><ofd:CommonData>'
                '<ofd:MaxUnitID>999999</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox>'
                f"</ofd:PageArea></ofd:CommonData><ofd:Pages>{page_refs}</ofd:Pages></ofd:Document>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", ofd)
        z.writestr("Doc_0/Document.xml", document)
        for n, xml in enumerate(pages_xml):
            z.writestr(f"Doc_0/Pages/Page_{n}/Content.xml", xml)
    return buf.getvalue()


# ---------------------------------------------------------------------------
# Word-binary variants, patched from a real .doc
# ---------------------------------------------------------------------------


def _word_stream_offset(doc: bytes) -> int:
    """Byte offset of the WordDocument stream's first sector in the file (it is a regular stream)."""
    ole = olefile.OleFileIO(io.BytesIO(doc))
    try:
        sid = ole.direntries[ole._find("WordDocument")].isectStart
        return (sid + 1) * ole.sectorsize
    finally:
        ole.close()


def wps_from_doc(doc: bytes) -> bytes:
    """A Kingsoft .wps: the same Word 97–2003 binary format (Kingsoft extends, never changes, it).

    Marked as Kingsoft's by its summary application name where the slot fits, so the
    file is not byte-identical to the .doc it came from.
    """
    out = bytearray(doc)
    for old in (b"LibreOffice", b"Microsoft Office Word", b"Microsoft Word"):
        i = out.find(old)
        if i >= 0:
            new = b"WPS Office"[: len(old)].ljust(len(old), b" ")
            out[i : i + len(old)] = new
            break
    return bytes(out)


def word6_from_doc(doc: bytes) -> bytes:
    """The .doc with its FIB version set to Word 6.0's (nFib 101)."""
    out = bytearray(doc)
    off = _word_stream_offset(doc)
    assert struct.unpack_from("<H", out, off)[0] == 0xA5EC
    struct.pack_into("<H", out, off + 2, 101)
    return bytes(out)


def encrypted_doc(doc: bytes) -> bytes:
    """The .doc with the FIB's fEncrypted flag set, as a password-protected Word file has it."""
    out = bytearray(doc)
    off = _word_stream_offset(doc)
    flags = struct.unpack_from("<H", out, off + 10)[0]
    struct.pack_into("<H", out, off + 10, flags | 0x0100)
    return bytes(out)


def works_from_doc(doc: bytes) -> bytes:
    """An OLE2 file without a WordDocument stream but with Works' CONTENTS stream (directory entry renamed)."""
    out = bytearray(doc)
    name = "WordDocument".encode("utf-16-le")
    i = out.find(name + b"\x00\x00")
    assert i >= 0
    new = "CONTENTS".encode("utf-16-le")
    out[i : i + 64] = new.ljust(64, b"\x00")
    struct.pack_into("<H", out, i + 64, len(new) + 2)
    return bytes(out)


# ---------------------------------------------------------------------------
# ODS from an .xlsx (openpyxl reads it; merges as number-*-spanned)
# ---------------------------------------------------------------------------


def ods_from_xlsx(xlsx: bytes) -> bytes:
    """An ODS of every sheet of the workbook: numbers as float cells, merged ranges spanned."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(xlsx))
    sheets = []
    for ws in wb.worksheets:
        spans = {(m.min_row, m.min_col): (m.max_row - m.min_row + 1, m.max_col - m.min_col + 1) for m in ws.merged_cells.ranges}
        covered = {(r, c) for m in ws.merged_cells.ranges for r in range(m.min_row, m.max_row + 1)
                   for c in range(m.min_col, m.max_col + 1) if (r, c) != (m.min_row, m.min_col)}
        rows = []
        for r in range(1, ws.max_row + 1):
            cells = []
            for c in range(1, ws.max_column + 1):
                if (r, c) in covered:
                    cells.append("<table:covered-table-cell/>")
                    continue
                v = ws.cell(r, c).value
                rs, cs = spans.get((r, c), (1, 1))
                attrs = (f' table:number-rows-spanned="{rs}"' if rs > 1 else "") + (
                    f' table:number-columns-spanned="{cs}"' if cs > 1 else "")
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    cells.append(f'<table:table-cell office:value-type="float" office:value="{float(v)}"{attrs}>'
                                 f"<text:p>{v}</text:p></table:table-cell>")
                elif v is None:
                    cells.append(f"<table:table-cell{attrs}/>")
                else:
                    cells.append(f'<table:table-cell office:value-type="string"{attrs}><text:p>{escape(str(v))}</text:p>'
                                 "</table:table-cell>")
            rows.append("<table:table-row>" + "".join(cells) + "</table:table-row>")
        sheets.append(f'<table:table table:name="{escape(ws.title)}">'
                      f'<table:table-column table:number-columns-repeated="{ws.max_column}"/>{"".join(rows)}</table:table>')
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODT_NS}><office:body>'
               f'<office:spreadsheet>{"".join(sheets)}</office:spreadsheet></office:body></office:document-content>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '</manifest:manifest>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()
