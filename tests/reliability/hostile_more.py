"""New hostile inputs under 1 MB, one family per reader and per stage (the battery's unseen-input half).

Each builder makes its file from scratch (or from a corpus file it is given),
aimed at a cost that grows with a count the attacker controls: cells a span
expands to, nesting a parser recurses into, numbers a stage scans per item,
runs a regex could backtrack over. `BUILDERS` lists them with the file name
the battery sends; `tests/reliability/test_hostile_battery.py` runs them all.
"""
from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from hostile_files import W_NS, docx_package

from extractors.model import Document, Table
from extractors.readers.encoding import decode_text

MiB = 1024 * 1024
_W = f'xmlns:w="{W_NS}"'


def _docx(body: str, extra: dict[str, bytes] | None = None) -> bytes:
    """A DOCX of `body`, stored without compression (so the reader, not the zip-ratio check, meets it)."""
    doc = f'<?xml version="1.0" encoding="UTF-8"?><w:document {_W}><w:body>{body}</w:body></w:document>'
    packed = docx_package(doc.encode(), extra)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(packed)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info))
    return out.getvalue()


def _zip(members: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in members.items():
            z.writestr(name, body)
    return buf.getvalue()


# ---- plain text and the stages after the reader -------------------------------------------------


def text_numbers_one_line(n: int = 120_000) -> bytes:
    """~1 MB: one line of `n` numbers with units and commas (narrative numbers per sentence)."""
    return ("收到申请" + "，".join(f"{i % 1000}件" for i in range(n))).encode()[: MiB - 1]


def text_tab_row(cells: int = 400_000) -> bytes:
    """One TAB-separated row of `cells` cells (text table builder)."""
    return ("收到申请数" + "\t1" * cells + "\n").encode()


def text_heading_markers(n: int = 150_000) -> bytes:
    """Heading numerals with nothing after them, many per line (heading detection per candidate)."""
    return ("一、" * 20 + "\n").encode() * (n // 20)


def text_nested_brackets(depth: int = 300_000) -> bytes:
    """Brackets opened 300,000 deep around one number (any recursive or quadratic bracket matcher)."""
    return ("（" * depth + "12件" + "）" * depth).encode()[: MiB - 1]


def text_table_of_pipes(rows: int = 20_000) -> bytes:
    """A text file that is one long pipe table with ragged rows (text/markdown tie-breaking and tables)."""
    return "".join("|" * (r % 50 + 1) + "收到申请" + "|1" * (r % 7) + "\n" for r in range(rows)).encode()


def text_many_years_and_dates(n: int = 60_000) -> bytes:
    """Dates and years everywhere (metadata: year and date candidates per line)."""
    return "".join(f"{2000 + i % 30}年{i % 12 + 1}月{i % 28 + 1}日发布2023年度报告\n" for i in range(n)).encode()[: MiB - 1]


def text_gb18030_invalid(size: int = 900_000) -> bytes:
    """Bytes that are almost GBK: lead bytes with bad trail bytes (the encoding guesser's worst case)."""
    return bytes((0x81 + i % 126) if i % 2 == 0 else (0x20 + i % 30) for i in range(size))


def text_crlf_only(size: int = 900_000) -> bytes:
    """Only line breaks: 450,000 empty lines (paragraph splitting, document line cap)."""
    return b"\r\n" * (size // 2)


def text_statistics_labels(n: int = 20_000) -> bytes:
    """The statistics table's labels, repeated with values (form fitting over many candidate rows)."""
    labels = ["收到申请数", "予以公开", "部分公开", "不予公开", "无法提供", "不予处理", "其他处理", "总计", "结转下年度继续办理"]
    return "".join(f"{labels[i % len(labels)]}\t{i}\t{i + 1}\t{i + 2}\n" for i in range(n)).encode()[: MiB - 1]


# ---- Markdown -----------------------------------------------------------------------------------


def md_nested_quotes(depth: int = 100_000) -> bytes:
    return (">" * depth + " 收到申请12件\n").encode()


def md_nested_lists(depth: int = 5_000) -> bytes:
    return "".join("  " * i + "- 第{}项\n".format(i) for i in range(depth)).encode()[: MiB - 1]


def md_emphasis_run(n: int = 400_000) -> bytes:
    """Unclosed emphasis and link openers (markdown parsers' classic quadratic delimiters)."""
    return ("*_[" * (n // 3) + "收到申请12件\n").encode()


def md_many_headings(n: int = 60_000) -> bytes:
    return "".join(f"{'#' * (i % 6 + 1)} {i}、主动公开\n" for i in range(n)).encode()[: MiB - 1]


def md_wide_ragged_table(rows: int = 2_000, cols: int = 200) -> bytes:
    head = "|" + "|".join("列" for _ in range(cols)) + "|\n|" + "|".join("-" for _ in range(cols)) + "|\n"
    return ("# 年度报告\n" + head + "".join("|" + "|".join("1" for _ in range(r % cols + 1)) + "\n" for r in range(rows))).encode()[: MiB - 1]


# ---- HTML ---------------------------------------------------------------------------------------


def html_big_spans(rows: int = 2_000) -> bytes:
    """Every cell claims rowspan 65534 and colspan 1000 (the grid a span expands to)."""
    tr = '<tr><td rowspan="65534" colspan="1000">收到申请数</td><td>12</td></tr>'
    return ("<!doctype html><html><body><table>" + tr * rows + "</table></body></html>").encode()


def html_many_tables(n: int = 30_000) -> bytes:
    return ("<!doctype html><html><body>" + "<table><tr><td>收到申请数</td><td>1</td></tr></table>" * n + "</body></html>").encode()[: MiB - 1]


def html_nested_tables(depth: int = 2_000) -> bytes:
    return ("<!doctype html><html><body>" + "<table><tr><td>" * depth + "12" + "</td></tr></table>" * depth + "</body></html>").encode()


def html_many_br(n: int = 200_000) -> bytes:
    return ("<!doctype html><html><body><p>" + "收到<br>" * n + "</p></body></html>").encode()[: MiB - 1]


def html_entities(n: int = 120_000) -> bytes:
    return ("<!doctype html><html><body><p>" + "&#x4e00;&#20013;&amp;&nbsp;" * n + "</p></body></html>").encode()[: MiB - 1]


def html_unclosed_comment_and_script() -> bytes:
    return b"<!--" + b"<script>" * 100_000 + b"<html><body><p>x</p>"


# ---- DOCX ---------------------------------------------------------------------------------------


def _tc(text: str, tcpr: str = "") -> str:
    return f"<w:tc>{('<w:tcPr>' + tcpr + '</w:tcPr>') if tcpr else ''}<w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>"


def docx_spanned_rows(rows: int = 3_000) -> bytes:
    """Rows whose first cell spans 1,024 grid columns (positions = rows x max span)."""
    tr = "<w:tr>" + _tc("收到申请数", '<w:gridSpan w:val="1024"/>') + _tc("1") + "</w:tr>"
    return _docx("<w:tbl>" + tr * rows + "</w:tbl>")


def docx_nested_tables(depth: int = 1_500) -> bytes:
    return _docx("<w:tbl><w:tr><w:tc>" * depth + "<w:p><w:r><w:t>12</w:t></w:r></w:p>" + "</w:tc></w:tr></w:tbl>" * depth + "<w:p/>")


def docx_style_cycle(n: int = 5_000) -> bytes:
    """Styles based on each other in a ring (a resolver that follows basedOn must stop)."""
    styles = "".join(
        f'<w:style w:type="paragraph" w:styleId="s{i}"><w:name w:val="c{i}"/><w:basedOn w:val="s{(i + 1) % n}"/></w:style>'
        for i in range(n)
    )
    xml = f'<?xml version="1.0"?><w:styles {_W}>{styles}</w:styles>'.encode()
    body = "".join(f'<w:p><w:pPr><w:pStyle w:val="s{i}"/></w:pPr><w:r><w:t>一、总体情况{i}</w:t></w:r></w:p>' for i in range(0, n, 5))
    return _docx(body, {"word/styles.xml": xml})


def docx_numbering_style_link_cycle() -> bytes:
    """An abstract numbering that links to a style whose numbering links back (numStyleLink ring)."""
    numbering = (
        f'<?xml version="1.0"?><w:numbering {_W}>'
        '<w:abstractNum w:abstractNumId="0"><w:numStyleLink w:val="L"/></w:abstractNum>'
        '<w:abstractNum w:abstractNumId="1"><w:styleLink w:val="L"/><w:numStyleLink w:val="L"/></w:abstractNum>'
        '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num><w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>'
        "</w:numbering>"
    ).encode()
    styles = (
        f'<?xml version="1.0"?><w:styles {_W}><w:style w:type="numbering" w:styleId="L"><w:name w:val="L"/>'
        '<w:pPr><w:numPr><w:numId w:val="2"/></w:numPr></w:pPr></w:style></w:styles>'
    ).encode()
    ppr = '<w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr>'
    body = "".join(f"<w:p>{ppr}<w:r><w:t>第{i}项</w:t></w:r></w:p>" for i in range(2_000))
    return _docx(body, {"word/numbering.xml": numbering, "word/styles.xml": styles})


def docx_nine_level_list(items: int = 8_000) -> bytes:
    """A 9-level list whose every level prints all its counters (8,000 items cycling through the levels)."""
    lvls = "".join(
        f'<w:lvl w:ilvl="{k}"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>'
        f'<w:lvlText w:val="{"".join(f"%{j + 1}." for j in range(k + 1))}"/></w:lvl>'
        for k in range(9)
    )
    numbering = (
        f'<?xml version="1.0"?><w:numbering {_W}><w:abstractNum w:abstractNumId="0">{lvls}</w:abstractNum>'
        '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num></w:numbering>'
    ).encode()
    body = "".join(
        f'<w:p><w:pPr><w:numPr><w:ilvl w:val="{i % 9}"/><w:numId w:val="1"/></w:numPr></w:pPr><w:r><w:t>项</w:t></w:r></w:p>'
        for i in range(items)
    )
    return _docx(body, {"word/numbering.xml": numbering})


def docx_many_runs(runs: int = 40_000) -> bytes:
    """One paragraph of 40,000 one-character runs (run merging per paragraph)."""
    return _docx("<w:p>" + "".join(f"<w:r><w:t>{i % 10}</w:t></w:r>" for i in range(runs)) + "</w:p>")


def docx_vmerge_without_restart(rows: int = 250, cells: int = 50) -> bytes:
    """vMerge continuations with no restart above them, and a restart in the last row only."""
    tr = "<w:tr>" + _tc("", "<w:vMerge/>") * cells + "</w:tr>"
    last = "<w:tr>" + _tc("1", '<w:vMerge w:val="restart"/>') * cells + "</w:tr>"
    return _docx("<w:tbl>" + tr * rows + last + "</w:tbl>")


def docx_huge_grid_cols(cols: int = 45_000) -> bytes:
    """A tblGrid declaring 45,000 columns for a one-cell table."""
    grid = '<w:tblGrid>' + '<w:gridCol w:w="10"/>' * cols + "</w:tblGrid>"
    return _docx(f"<w:tbl>{grid}<w:tr>{_tc('12')}</w:tr></w:tbl>")


# ---- other formats ------------------------------------------------------------------------------


def rtf_bin_claims(n: int = 50_000) -> bytes:
    """`\\bin` words claiming 2 GB of binary data each, and \\u escapes with a huge \\uc skip."""
    return b"{\\rtf1\\ansi " + b"{\\bin2000000000 x}" * (n // 2) + b"\\uc2000000000\\u20013?" * (n // 2) + b"}"


def rtf_many_cells(cells: int = 60_000) -> bytes:
    """One table row declaring 60,000 \\cellx boundaries and cells."""
    return (b"{\\rtf1\\ansi\\trowd" + b"".join(b"\\cellx%d" % (i * 10) for i in range(cells)) + b" " + b"1\\cell " * cells + b"\\row}")


def rtf_hex_escapes(n: int = 300_000) -> bytes:
    return b"{\\rtf1\\ansi\\ansicpg936 " + b"\\'d6\\'d0" * (n // 2) + b"}"


def mht_many_parts(parts: int = 8_000) -> bytes:
    head = b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="b"\r\n\r\n'
    part = b"--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>=E6=94=B6=\r\n</p>\r\n"
    return head + part * parts + b"--b--\r\n"


def mht_base64_garbage(size: int = 900_000) -> bytes:
    head = b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="b"\r\n\r\n--b\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n'
    return head + (b"!!!!====" * (size // 8)) + b"\r\n--b--\r\n"


_OFD_NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


def _ofd(page: str) -> bytes:
    return _zip({
        "OFD.xml": f"<ofd:OFD {_OFD_NS}><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        "Doc_0/Document.xml": f'<ofd:Document {_OFD_NS}><ofd:Pages><ofd:Page BaseLoc="Pages/Page_0/Content.xml"/>'
        "</ofd:Pages></ofd:Document>",
        "Doc_0/Pages/Page_0/Content.xml": f"<ofd:Page {_OFD_NS}><ofd:Content><ofd:Layer>{page}</ofd:Layer></ofd:Content></ofd:Page>",
    })


def ofd_many_text_objects(n: int = 40_000) -> bytes:
    obj = '<ofd:TextObject Boundary="{x} {y} 10 3" Size="3"><ofd:TextCode X="0" Y="3">{i}</ofd:TextCode></ofd:TextObject>'
    return _ofd("".join(obj.format(x=i % 200, y=i // 200, i=i % 100) for i in range(n)))


def ofd_many_pages_one_content(pages: int = 20_000) -> bytes:
    refs = "".join('<ofd:Page BaseLoc="Pages/Page_0/Content.xml"/>' for _ in range(pages))
    data = _ofd('<ofd:TextObject Boundary="0 0 50 10" Size="3"><ofd:TextCode X="0" Y="3">收到申请12件</ofd:TextCode></ofd:TextObject>')
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "Doc_0/Document.xml":
                body = f'<ofd:Document {_OFD_NS}><ofd:Pages>{refs}</ofd:Pages></ofd:Document>'.encode()
            z.writestr(info.filename, body)
    return buf.getvalue()


def xlsx_merged_huge() -> bytes:
    """A sheet of two cells whose merge covers the whole grid (A1:XFD1048576), written as XML."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "收到申请数"
    ws["B2"] = 12
    buf = io.BytesIO()
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>')
            z.writestr(info.filename, body)
    return out.getvalue()


def xlsx_shared_strings(n: int = 60_000) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for i in range(n):
        ws.cell(row=i // 10 + 1, column=i % 10 + 1, value=f"收到申请{i}")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def ods_column_repeat() -> bytes:
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    row = ('<table:table-row table:number-rows-repeated="1000"><table:table-cell table:number-columns-repeated="1000000">'
           "<text:p>1</text:p></table:table-cell></table:table-row>")
    content = f'<office:document-content {ns}><office:body><office:spreadsheet><table:table table:name="s">{row}</table:table></office:spreadsheet></office:body></office:document-content>'
    return _zip({"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": content})


def odt_many_paragraphs(n: int = 80_000) -> bytes:
    ns = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    body = "".join(f'<text:h text:outline-level="{i % 10 + 1}">{i}、情况</text:h>' for i in range(n))
    content = f"<office:document-content {ns}><office:body><office:text>{body}</office:text></office:body></office:document-content>"
    return _zip({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": content})


def ole_fat_loop() -> bytes:
    """An OLE2 header whose FAT chain points at itself (a .doc/.xls reader walking sectors)."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    header[24:26] = (0x3E).to_bytes(2, "little")
    header[26:28] = (3).to_bytes(2, "little")
    header[28:30] = b"\xfe\xff"
    header[30:32] = (9).to_bytes(2, "little")
    header[32:34] = (6).to_bytes(2, "little")
    header[44:48] = (1).to_bytes(4, "little")  # one FAT sector
    header[48:52] = (1).to_bytes(4, "little")  # directory starts at sector 1
    header[56:60] = (4096).to_bytes(4, "little")
    header[60:64] = (0xFFFFFFFE).to_bytes(4, "little")
    header[68:72] = (0xFFFFFFFE).to_bytes(4, "little")
    header[76:80] = (0).to_bytes(4, "little")  # FAT in sector 0
    header[80:512] = b"\xff" * 432
    fat = bytearray(b"\xff" * 512)
    fat[0:4] = (0xFFFFFFFD).to_bytes(4, "little")
    fat[4:8] = (1).to_bytes(4, "little")  # sector 1 -> sector 1 (a loop)
    return bytes(header + fat + b"\x00" * 512 * 4)


BUILDERS: dict[str, tuple[str, Callable[[], bytes]]] = {
    "text-120000-numbers-one-line": ("r.txt", text_numbers_one_line),
    "text-400000-cell-tab-row": ("r.txt", text_tab_row),
    "text-150000-bare-heading-markers": ("r.txt", text_heading_markers),
    "text-300000-nested-brackets": ("r.txt", text_nested_brackets),
    "text-ragged-pipe-table": ("r.txt", text_table_of_pipes),
    "text-60000-dates": ("r.txt", text_many_years_and_dates),
    "text-almost-gbk": ("r.txt", text_gb18030_invalid),
    "text-450000-empty-lines": ("r.txt", text_crlf_only),
    "text-20000-statistics-rows": ("r.txt", text_statistics_labels),
    "text-4990-statistics-rows": ("r.txt", lambda: text_statistics_labels(4_990)),
    "md-100000-nested-quotes": ("r.md", md_nested_quotes),
    "md-5000-nested-lists": ("r.md", md_nested_lists),
    "md-400000-emphasis-openers": ("r.md", md_emphasis_run),
    "md-60000-headings": ("r.md", md_many_headings),
    "md-ragged-2000x200-table": ("r.md", md_wide_ragged_table),
    "html-2000-rows-of-65534x1000-spans": ("r.html", html_big_spans),
    "html-30000-tables": ("r.html", html_many_tables),
    "html-2000-nested-tables": ("r.html", html_nested_tables),
    "html-200000-br": ("r.html", html_many_br),
    "html-entities": ("r.html", html_entities),
    "html-unclosed-comment-100000-scripts": ("r.html", html_unclosed_comment_and_script),
    "docx-3000-rows-of-1024-spans": ("r.docx", docx_spanned_rows),
    "docx-1500-nested-tables": ("r.docx", docx_nested_tables),
    "docx-5000-style-ring": ("r.docx", docx_style_cycle),
    "docx-numstylelink-ring": ("r.docx", docx_numbering_style_link_cycle),
    "docx-9-level-list-8000-items": ("r.docx", docx_nine_level_list),
    "docx-40000-runs-one-paragraph": ("r.docx", docx_many_runs),
    "docx-vmerge-without-restart": ("r.docx", docx_vmerge_without_restart),
    "docx-45000-grid-columns": ("r.docx", docx_huge_grid_cols),
    "rtf-bin-and-uc-claims": ("r.rtf", rtf_bin_claims),
    "rtf-60000-cells-one-row": ("r.rtf", rtf_many_cells),
    "rtf-300000-hex-escapes": ("r.rtf", rtf_hex_escapes),
    "mht-8000-parts": ("r.mht", mht_many_parts),
    "mht-base64-garbage": ("r.mht", mht_base64_garbage),
    "ofd-40000-text-objects": ("r.ofd", ofd_many_text_objects),
    "ofd-20000-pages-one-content": ("r.ofd", ofd_many_pages_one_content),
    "xlsx-merge-whole-grid": ("r.xlsx", xlsx_merged_huge),
    "xlsx-60000-shared-strings": ("r.xlsx", xlsx_shared_strings),
    "ods-1000x1000000-repeat": ("r.ods", ods_column_repeat),
    "odt-80000-headings": ("r.odt", odt_many_paragraphs),
    "ole-fat-loop": ("r.doc", ole_fat_loop),
}


# ---- dressed as a report ------------------------------------------------------------------------
# The not-a-report gate ends most raw text families early (422 not-a-report); an attacker who puts a
# report's title, its section headings, a sentence with a figure and some of the form's labels in
# front gets the hostile body through every stage. `dress` does that for every text-family format.

DRESS_TITLE = "某某区人民政府2023年政府信息公开工作年度报告"
_DRESS_LINES = (
    "一、总体情况",
    "2023年，本区收到政府信息公开申请12件，主动公开政府信息350条。",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况",
)
_DRESS_ROWS = (("本年新收政府信息公开申请数量", "12"), ("上年结转政府信息公开申请数量", "0"),
               ("予以公开", "8"), ("部分公开", "2"), ("总计", "12"), ("结转下年度继续办理", "0"))
DRESSED_FORMATS = ("txt", "md", "html", "crawler.txt")


def _fit(prefix: bytes, body: bytes, suffix: bytes = b"") -> bytes:
    """prefix + body + suffix cut to under 1 MiB, at a UTF-8 character boundary when the body is UTF-8."""
    room = MiB - 1 - len(prefix) - len(suffix)
    if len(body) > room:
        body = body[:room]
        while body and (body[-1] & 0xC0) == 0x80:  # drop a cut multi-byte character's continuation bytes
            body = body[:-1]
        if body and body[-1] >= 0xC0:
            body = body[:-1]
    return prefix + body + suffix


def dress(data: bytes, fmt: str) -> bytes:
    """`data` behind a report's title, section headings, a figure and form rows, in `fmt`'s own syntax."""
    rows_tab = "".join(f"\t{label}\n\t{value}\n\n" for label, value in _DRESS_ROWS)
    if fmt == "txt":
        head = DRESS_TITLE + "\n" + "\n".join(_DRESS_LINES) + "\n" + rows_tab
        return _fit(head.encode(), data)
    if fmt == "crawler.txt":
        head = (f"【标题】{DRESS_TITLE}\n【发布时间】2024-03-31\n【来源】某某区人民政府\n【正文】\n{DRESS_TITLE}"
                + "".join(_DRESS_LINES) + "".join(f"{label}{value}" for label, value in _DRESS_ROWS))
        return _fit(head.encode(), data)
    if fmt == "md":
        table = "| 项目 | 数量 |\n| --- | --- |\n" + "".join(f"| {label} | {value} |\n" for label, value in _DRESS_ROWS)
        head = f"# {DRESS_TITLE}\n\n" + "".join(f"## {x}\n\n" if "、" in x[:3] else f"{x}\n\n" for x in _DRESS_LINES) + table + "\n"
        return _fit(head.encode(), data)
    if fmt == "html":
        table = "<table>" + "".join(f"<tr><td>{label}</td><td>{value}</td></tr>" for label, value in _DRESS_ROWS) + "</table>"
        head = (f"<h1>{DRESS_TITLE}</h1>" + "".join(f"<h2>{x}</h2>" if "、" in x[:3] else f"<p>{x}</p>" for x in _DRESS_LINES)
                + table)
        at = data.lower().find(b"<body>")
        if at >= 0:
            cut = at + len(b"<body>")
            return _fit(data[:cut] + head.encode(), data[cut:])
        return _fit(f"<!doctype html><html><head><title>{DRESS_TITLE}</title></head><body>{head}".encode(), data)
    raise ValueError(f"no dressing for {fmt}")


def dressed(builders: dict[str, tuple[str, Callable[[], bytes]]]) -> dict[str, tuple[str, Callable[[], bytes]]]:
    """`dressed-<id>` for every text-family builder (txt, md, html), the same body behind a report's opening."""
    out: dict[str, tuple[str, Callable[[], bytes]]] = {}
    for ident, (name, build) in builders.items():
        fmt = name.rsplit(".", 1)[1]
        if fmt in DRESSED_FORMATS:
            out["dressed-" + ident] = (name, lambda b=build, f=fmt: dress(b(), f))
    return out



# ---- issue #16, second round: inputs dressed as reports, for every reader and every stage -------------
# Each is aimed at one stage past the reader (tables, form fitting, narrative, sections, metadata,
# checks, confidence) or at a reader's own loop, and sized to sit just under the document caps
# (`max_document_lines` 30,000, `max_document_cells` 100,000, the tables stage's `max_rows` 5,000) where
# a cap bounds it, so the battery measures the most work the service will do for such a file.

REAL = "003_a1ca134a5abe9455"  # a revised_2019 (2021 form) report: every table of the form, 表三 included
_LINES = 29_000  # under max_document_lines


def _lines(line: str, n: int = _LINES) -> bytes:
    return ((line + "\n") * n).encode()[: MiB - 1]


def text_zero_width_labels(n: int = 9_000) -> bytes:
    """Form rows whose every label character carries zero-width joiners and combining marks (normalisers)."""
    junk = "\u200b\u200c\u200d\u2060\ufeff\u0301\u0302\u0303"
    label = "".join(ch + junk for ch in "本年新收政府信息公开申请数量")
    return "".join(f"{label} {i % 97}\n" for i in range(n)).encode()[: MiB - 1]


def text_zero_width_flood() -> bytes:
    """1 MB of zero-width spaces and combining marks on one line, a number in the middle."""
    half = "\u200b\u0301" * 87_000
    return (half + "收到申请12件" + half).encode()[: MiB - 1]


def text_bidi_controls(n: int = 20_000) -> bytes:
    """Every line wrapped in bidi overrides and isolates (RLO/PDF, LRI/PDI) around a label and numbers."""
    return "".join(f"\u202e予以公开\u202c \u2066{i % 50}\u2069 \u2067件\u2069\n" for i in range(n)).encode()[: MiB - 1]


def text_one_cjk_char(size: int = MiB - 1) -> bytes:
    """1 MB of one CJK character, 80 to a line (the long-paragraph shape, every line the same)."""
    return _lines("中" * 80, size // 241)


def text_label_one_line(n: int = 50_000) -> bytes:
    """One label repeated 50,000 times on one line, a number at the end (label scoring of a huge label)."""
    return ("收到申请数" * n + " 12").encode()[: MiB - 1]


def text_label_lines(n: int = _LINES) -> bytes:
    """The same label on 29,000 lines without a value (label lines that are not rows)."""
    return _lines("（一）本年新收政府信息公开申请数量", n)


def text_section_titles(n: int = _LINES) -> bytes:
    """Every line a canonical section title, numbered in order again and again (sections)."""
    titles = ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
              "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"]
    return "".join(titles[i % len(titles)] + "\n" for i in range(n)).encode()[: MiB - 1]


def text_subheadings(n: int = _LINES) -> bytes:
    """Sub-heading numerals of every style, nested and restarting: （一） 1. （1） ① (heading levels)."""
    marks = ["（{}）主动公开", "{}.规范性文件", "（{}）依申请公开", "{}、总体情况", "第{}部分 其他"]
    return "".join(marks[i % 5].format("一二三四五六七八九十"[i % 10] if i % 5 in (0, 3) else i % 99 + 1) + "\n"
                   for i in range(n)).encode()[: MiB - 1]


def text_every_line_a_date(n: int = _LINES) -> bytes:
    """Every line a publication date, a period and a year (metadata candidates per line)."""
    return "".join(f"发布日期：{2000 + i % 30}-{i % 12 + 1:02d}-{i % 28 + 1:02d} 统计期限自{2000 + i % 30}年1月1日起至12月31日止\n"
                   for i in range(n)).encode()[: MiB - 1]


def text_every_line_a_title(n: int = _LINES) -> bytes:
    """Every line a report title for another agency and year (title and agency candidates; a listing)."""
    return "".join(f"某某{'区县市乡镇'[i % 5]}第{i}局{2000 + i % 25}年政府信息公开工作年度报告\n" for i in range(n)).encode()[: MiB - 1]


def text_every_line_a_claim(n: int = 20_000) -> bytes:
    """Every line a narrative figure the checks compare with the tables (narrative claims, validation)."""
    return "".join(f"本年度共收到政府信息公开申请{i % 500}件，其中予以公开{i % 300}件，主动公开政府信息{i}条。\n"
                   for i in range(n)).encode()[: MiB - 1]


def text_every_line_a_contact(n: int = _LINES) -> bytes:
    """Every line an address, telephone and e-mail (the metadata contact fields)."""
    return "".join(f"联系地址：某某区人民路{i}号，邮编：2230{i % 100:02d}，电话：0517-8{i:07d}，电子邮箱：a{i}@example.cn\n"
                   for i in range(n)).encode()[: MiB - 1]


def text_digits_and_commas(n: int = 60_000) -> bytes:
    """Numbers of 15 digits with thousands commas and decimals glued to units (value parsing per token)."""
    return "".join(f"予以公开 {i:,}{i:,}.5 件 {i * 7919:,} 条\n" for i in range(n)).encode()[: MiB - 1]


def crawler_header_repeated(n: int = 15_000) -> bytes:
    """A crawler header block repeated: 【标题】/【发布时间】/来源 lines over and over (crawler header parsing)."""
    block = "【标题】某某区人民政府2023年政府信息公开工作年度报告\n【发布时间】2024-03-31\n来源：某某区人民政府    发布日期：2024-03-31\n"
    return (block * n).encode()[: MiB - 1]


def crawler_run_together(n: int = 30_000) -> bytes:
    """One line of run-together headings, labels and numbers with no separator (the crawler's splitter)."""
    unit = "一、总体情况收到申请数12予以公开8部分公开2（一）主动公开3"
    return ("【标题】某某区人民政府2023年政府信息公开工作年度报告\n【正文】\n" + unit * n).encode()[: MiB - 1]


def md_separator_columns(cols: int = 10_000) -> bytes:
    """A Markdown table whose separator row has 10,000 columns under a one-column header."""
    return ("| 收到申请数 |\n|" + "---|" * cols + "\n| 12 |\n") .encode()


def md_setext_headings(n: int = 14_000) -> bytes:
    """Every other line a setext underline: thousands of headings that are section titles (Markdown, sections)."""
    return "".join(f"{'一二三四五六'[i % 6]}、主动公开政府信息情况\n{'=-'[i % 2] * 30}\n" for i in range(n)).encode()[: MiB - 1]


def md_table_full_form_rows(rows: int = 4_900) -> bytes:
    """A Markdown table of 4,900 rows of the form's labels with values (form fitting at the rows cap)."""
    labels = ["本年新收政府信息公开申请数量", "上年结转政府信息公开申请数量", "予以公开", "部分公开", "不予公开", "总计"]
    head = "| 项目 | 自然人 | 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 | 总计 |\n|" + "---|" * 8 + "\n"
    return (head + "".join(f"| {labels[i % 6]} | " + " | ".join(str((i + j) % 9) for j in range(7)) + " |\n"
                           for i in range(rows))).encode()[: MiB - 1]


def html_paragraph_titles(n: int = _LINES) -> bytes:
    """29,000 tiny paragraphs, each a section title (sections over HTML)."""
    return ("<!doctype html><html><body>" + "".join(f"<p>{'一二三四五六'[i % 6]}、总体情况</p>" for i in range(n))
            + "</body></html>").encode()[: MiB - 1]


def html_wide_table(cols: int = 999, rows: int = 100) -> bytes:
    """A 表三 of 999 columns (under the reader's 1,000) and 100 rows: 99,900 cells, at the cells cap."""
    head = "<tr><td>项目</td>" + "<td>申请人</td>" * (cols - 1) + "</tr>"
    body = "".join("<tr><td>予以公开</td>" + "<td>1</td>" * (cols - 1) + "</tr>" for _ in range(rows - 1))
    return f"<!doctype html><html><body><table>{head}{body}</table></body></html>".encode()[: MiB - 1]


def html_deep_divs(depth: int = 240, times: int = 1_200) -> bytes:
    """Nesting just under the depth limit, 1,200 times over (the reader's walk and its element cap)."""
    return ("<!doctype html><html><body>" + ("<div>" * depth + "收到申请12件" + "</div>" * depth) * times
            + "</body></html>").encode()[: MiB - 1]


def html_zero_width_entities(n: int = 100_000) -> bytes:
    """Zero-width spaces and bidi marks written as entities between every character of labels."""
    return ("<!doctype html><html><body><table>" + "<tr><td>予&#8203;以&#x200d;公&#8206;开</td><td>1&#8203;2</td></tr>" * (n // 10)
            + "</table></body></html>").encode()[: MiB - 1]


def _corpus(corpus: Path, sub: str, ext: str) -> bytes:
    return (corpus / sub / f"{REAL}.{ext}").read_bytes()


def text_full_form_tables(corpus: Path) -> bytes:
    """A real report's TAB-cell tables repeated until the rows cap (5,000) is near (every table of the form each time)."""
    lines = (decode_text(_corpus(corpus, "txt", "txt")) or "").split("\n")
    start = next(i for i, x in enumerate(lines) if x.startswith("\t"))
    end = max(i for i, x in enumerate(lines) if x.startswith("\t")) + 1
    block = "\n".join(lines[start:end]) + "\n\n说明\n"
    rows = block.count("\n\n") or 1
    return (block * min(4_900 // rows, 29_000 // (block.count("\n") or 1))).encode()[: MiB - 1]


def html_full_form_tables(corpus: Path) -> bytes:
    """A real report's HTML tables repeated to 1 MB (thousands of tables each with the full form's labels)."""
    html = _corpus(corpus, "html", "html").decode("utf-8", "replace")
    tables = re.findall(r"<table.*?</table>", html, re.DOTALL)
    block = "".join(tables)
    return ("<!doctype html><html><body>" + block * (MiB // max(1, len(block.encode())))).encode()[: MiB - 1]


def _docx_member(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read(name)


def _rezip(data: bytes, replace: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, replace.get(info.filename, src.read(info)))
    return out.getvalue()


def docx_full_form_tables(corpus: Path, times: int = 60) -> bytes:
    """A real DOCX whose tables are repeated 60 times (3,800 rows, 7.4 MB of XML under the part cap, compressed)."""
    data = _corpus(corpus, "docx", "docx")
    xml = _docx_member(data, "word/document.xml").decode()
    tables = "".join(re.findall(r"<w:tbl>.*?</w:tbl>", xml, re.DOTALL))
    at = xml.rindex("<w:sectPr") if "<w:sectPr" in xml else xml.rindex("</w:body>")
    return _rezip(data, {"word/document.xml": (xml[:at] + tables * times + xml[at:]).encode()})


def docx_table3_10000_columns(corpus: Path, cols: int = 10_000, rows: int = 9) -> bytes:
    """A real DOCX with a 表三 of 10,000 columns and 9 rows appended (90,000 cells, compressed)."""
    data = _corpus(corpus, "docx", "docx")
    xml = _docx_member(data, "word/document.xml").decode()
    grid = "<w:tblGrid>" + '<w:gridCol w:w="10"/>' * cols + "</w:tblGrid>"
    tr = "<w:tr>" + _tc("予以公开") + _tc("1") * (cols - 1) + "</w:tr>"
    at = xml.rindex("</w:body>")
    return _rezip(data, {"word/document.xml": (xml[:at] + f"<w:tbl>{grid}{tr * rows}</w:tbl><w:p/>" + xml[at:]).encode()})


def docx_heading_paragraphs(corpus: Path, n: int = _LINES) -> bytes:
    """A real DOCX followed by 29,000 Heading-1 paragraphs that are section titles (compressed)."""
    data = _corpus(corpus, "docx", "docx")
    xml = _docx_member(data, "word/document.xml").decode()
    p = "".join(f'<w:p><w:pPr><w:pStyle w:val="1"/><w:outlineLvl w:val="0"/></w:pPr><w:r><w:t>{"一二三四五六"[i % 6]}、总体情况</w:t></w:r></w:p>'
                for i in range(n))
    at = xml.rindex("</w:body>")
    return _rezip(data, {"word/document.xml": (xml[:at] + p + xml[at:]).encode()})


def _real_document(corpus: Path) -> Document:
    from extractors.readers import read

    return read(_corpus(corpus, "docx", "docx"), "r.docx")


def odt_full_form_tables(corpus: Path, times: int = 120) -> bytes:
    """The real report as ODT with its tables repeated 120 times."""
    from tests.readers import formats_build as fb

    doc = _real_document(corpus)
    tables = [b for b in doc.blocks if isinstance(b, Table)]
    blocks = list(doc.blocks) + [replace(t, index=len(doc.blocks) + k) for k, t in enumerate(tables * times)]
    return fb.odt_from_document(replace(doc, blocks=tuple(blocks)), title=DRESS_TITLE)


def rtf_full_form_tables(corpus: Path, times: int = 60) -> bytes:
    """The real report as RTF with its tables repeated 60 times (as large as stays under 1 MB)."""
    from tests.readers import formats_build as fb

    doc = _real_document(corpus)
    tables = [b for b in doc.blocks if isinstance(b, Table)]
    out = b""
    for k in range(times, 0, -4):
        blocks = list(doc.blocks) + [replace(t, index=len(doc.blocks) + j) for j, t in enumerate(tables * k)]
        out = fb.rtf_from_document(replace(doc, blocks=tuple(blocks)), title=DRESS_TITLE)
        if len(out) < MiB:
            break
    return out


def mht_full_form_tables(corpus: Path) -> bytes:
    """The real report's HTML tables repeated, saved as MHT (quoted-printable GBK)."""
    from tests.readers import formats_build as fb

    html = dress(html_full_form_tables(corpus)[: 600 * 1024].decode("utf-8", "ignore").encode(), "html").decode()
    return fb.mht_from_html(html)[: MiB - 1]


def xlsx_full_form_rows(corpus: Path, times: int = 60) -> bytes:
    """The real report's workbook with its sheet rows repeated 60 times (form fitting over a workbook)."""
    import openpyxl

    wb = openpyxl.load_workbook(corpus.parent / "formats" / f"{REAL}.xlsx")
    for ws in wb.worksheets:
        rows = [[c.value for c in r] for r in ws.iter_rows()]
        for _ in range(times):
            for r in rows:
                ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_table3_10000_columns() -> bytes:
    """A workbook of a title row and a 表三 of 10,000 columns by 9 rows."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([DRESS_TITLE])
    ws.append(["项目"] + ["申请人"] * 9_999)
    for _ in range(8):
        ws.append(["予以公开"] + [1] * 9_999)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def ofd_section_titles(pages: int = 50, per_page: int = 580) -> bytes:
    """An OFD of 50 pages, each with 580 text objects that are section titles and form rows."""
    obj = '<ofd:TextObject Boundary="0 {y} 180 4" Size="3"><ofd:TextCode X="0" Y="3">{t}</ofd:TextCode></ofd:TextObject>'
    texts = [DRESS_TITLE, *_DRESS_LINES, *(f"{a} {b}" for a, b in _DRESS_ROWS)]
    page = "".join(obj.format(y=i * 0.5, t=texts[i % len(texts)]) for i in range(per_page))
    refs = "".join(f'<ofd:Page BaseLoc="Pages/Page_{k}/Content.xml"/>' for k in range(pages))
    members: dict[str, bytes | str] = {
        "OFD.xml": f"<ofd:OFD {_OFD_NS}><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        "Doc_0/Document.xml": f"<ofd:Document {_OFD_NS}><ofd:Pages>{refs}</ofd:Pages></ofd:Document>",
    }
    for k in range(pages):
        members[f"Doc_0/Pages/Page_{k}/Content.xml"] = (
            f"<ofd:Page {_OFD_NS}><ofd:Content><ofd:Layer>{page}</ofd:Layer></ofd:Content></ofd:Page>")
    return _zip(members)


def pdf_form_lines(pages: int = 400, per_page: int = 70) -> bytes:
    """A text PDF of 400 pages, each 70 lines of the form's labels with values (PDF rows, loose rows)."""
    from tests.pdfbytes import raw_pdf

    font = b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> >>] >>"
    texts = [DRESS_TITLE, *_DRESS_LINES, *(f"{a} {b} {b} {b}" for a, b in _DRESS_ROWS)]
    lines = [texts[i % len(texts)] for i in range(per_page)]
    ops = b"BT /F1 9 Tf 11 TL 30 800 Td " + b"".join(
        b"<" + x.encode("utf-16-be").hex().encode() + b"> Tj T* " for x in lines) + b"ET"
    content = b"<< /Length %d >>stream\n" % len(ops) + ops + b"\nendstream"
    n = pages
    kids = b" ".join(b"%d 0 R" % (5 + k) for k in range(n))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % n, font, content]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"] * n
    return raw_pdf(objects)


def docx_tiny_elements(n: int = 1_300_000) -> bytes:
    """A dressed DOCX whose body is 1.3 million random empty elements (7.8 MiB of XML, under the part cap; ~20x compressed)."""
    import random

    rnd = random.Random(16)
    tags = ["<w:p/>", "<w:r/>", "<w:t/>", "<w:b/>"]
    head = "".join(f"<w:p><w:r><w:t>{x}</w:t></w:r></w:p>" for x in (DRESS_TITLE, *_DRESS_LINES))
    return _rezip(_docx(head + "".join(rnd.choice(tags) for _ in range(n))), {})


CORPUS_BUILDERS: dict[str, tuple[str, Callable[[Path], bytes]]] = {
    "text-full-form-tables-repeated": ("r.txt", text_full_form_tables),
    "html-full-form-tables-repeated": ("r.html", html_full_form_tables),
    "docx-full-form-tables-x60": ("r.docx", docx_full_form_tables),
    "docx-full-form-tables-x280": ("r.docx", lambda c: docx_full_form_tables(c, 280)),
    "docx-table3-10000-columns": ("r.docx", docx_table3_10000_columns),
    "docx-29000-heading-paragraphs": ("r.docx", docx_heading_paragraphs),
    "odt-full-form-tables-x120": ("r.odt", odt_full_form_tables),
    "rtf-full-form-tables": ("r.rtf", rtf_full_form_tables),
    "mht-full-form-tables": ("r.mht", mht_full_form_tables),
    "xlsx-full-form-rows-x60": ("r.xlsx", xlsx_full_form_rows),
}

MORE_BUILDERS: dict[str, tuple[str, Callable[[], bytes]]] = {
    "text-zero-width-labels": ("r.txt", text_zero_width_labels),
    "text-zero-width-flood": ("r.txt", text_zero_width_flood),
    "text-bidi-controls": ("r.txt", text_bidi_controls),
    "text-1mb-one-cjk-char": ("r.txt", text_one_cjk_char),
    "text-label-50000-times-one-line": ("r.txt", text_label_one_line),
    "text-29000-label-lines": ("r.txt", text_label_lines),
    "text-29000-section-titles": ("r.txt", text_section_titles),
    "text-29000-mixed-subheadings": ("r.txt", text_subheadings),
    "text-29000-date-lines": ("r.txt", text_every_line_a_date),
    "text-29000-title-lines": ("r.txt", text_every_line_a_title),
    "text-20000-claim-lines": ("r.txt", text_every_line_a_claim),
    "text-29000-contact-lines": ("r.txt", text_every_line_a_contact),
    "text-60000-long-numbers": ("r.txt", text_digits_and_commas),
    "crawler-header-repeated": ("r.txt", crawler_header_repeated),
    "crawler-run-together-one-line": ("r.txt", crawler_run_together),
    "md-10000-separator-columns": ("r.md", md_separator_columns),
    "md-14000-setext-headings": ("r.md", md_setext_headings),
    "md-4900-form-rows": ("r.md", md_table_full_form_rows),
    "html-29000-title-paragraphs": ("r.html", html_paragraph_titles),
    "html-999x100-table": ("r.html", html_wide_table),
    "html-1200-divs-240-deep": ("r.html", html_deep_divs),
    "html-zero-width-entities": ("r.html", html_zero_width_entities),
    "xlsx-table3-10000-columns": ("r.xlsx", xlsx_table3_10000_columns),
    "docx-1300000-tiny-elements": ("r.docx", docx_tiny_elements),
    "ofd-50-pages-of-titles": ("r.ofd", ofd_section_titles),
    "pdf-400-pages-of-form-lines": ("r.pdf", pdf_form_lines),
}


def whole_chars(data: bytes) -> bytes:
    """`data` without a UTF-8 sequence cut off at its end (the builders cut at 1 MiB by bytes)."""
    end = len(data)
    while end and (data[end - 1] & 0xC0) == 0x80 and len(data) - end < 3:
        end -= 1
    if end and data[end - 1] >= 0xC0:
        lead = data[end - 1]
        need = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
        if len(data) - end + 1 < need:
            return data[: end - 1]
    return data


MORE_BUILDERS = {k: (name, lambda b=b: whole_chars(b())) for k, (name, b) in MORE_BUILDERS.items()}
