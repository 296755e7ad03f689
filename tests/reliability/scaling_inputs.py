"""Builders of small inputs that used to cost a 500 or a quadratic stage (issue #16), sized by `n`.

Each builder makes a file of the format it names, from scratch, so a test can
send the same shape at several sizes (the scaling benchmark does 10×–1,000× a
real report). None is committed as a blob.
"""
from __future__ import annotations

import io
import zipfile
import zlib

from hostile_files import W_NS, docx_package

_W = f'xmlns:w="{W_NS}"'


def _document(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f"<w:document {_W}><w:body>{body}</w:body></w:document>"
    ).encode()


def _p(text: str, ppr: str = "") -> str:
    return f"<w:p>{('<w:pPr>' + ppr + '</w:pPr>') if ppr else ''}<w:r><w:t>{text}</w:t></w:r></w:p>"


def _tc(text: str, tcpr: str = "") -> str:
    return f"<w:tc>{('<w:tcPr>' + tcpr + '</w:tcPr>') if tcpr else ''}{_p(text)}</w:tc>"


# ---- tiny inputs that raised ------------------------------------------------------------------


def docx_grid_span(span: str = "100000000000000000000") -> bytes:
    """A table cell whose gridSpan is 1e20 (OverflowError building the grid)."""
    row = _tc("收到申请数", f'<w:gridSpan w:val="{span}"/>') + _tc("12")
    return docx_package(_document(_p("一、概述") + f"<w:tbl><w:tr>{row}</w:tr></w:tbl>"))


def docx_grid_before(skip: str = "100000000000000000000") -> bytes:
    """A row that skips 1e20 grid columns before its first cell."""
    row = f'<w:trPr><w:gridBefore w:val="{skip}"/></w:trPr>' + _tc("收到申请数") + _tc("12")
    return docx_package(_document(f"<w:tbl><w:tr>{row}</w:tr></w:tbl>"))


def _numbering(start: str, fmt: str, lvl_text: str = "%1、") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><w:numbering {_W}>'
        f'<w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:start w:val="{start}"/>'
        f'<w:numFmt w:val="{fmt}"/><w:lvlText w:val="{lvl_text}"/></w:lvl></w:abstractNum>'
        '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num></w:numbering>'
    ).encode()


def docx_list(start: str, fmt: str, items: int = 3, lvl_text: str = "%1、") -> bytes:
    """`items` auto-numbered paragraphs of one list starting at `start` in format `fmt`."""
    ppr = '<w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>'
    body = "".join(_p(f"第{i}项工作", ppr) for i in range(items))
    return docx_package(_document(body), {"word/numbering.xml": _numbering(start, fmt, lvl_text)})


def docx_outline_level(level: str) -> bytes:
    """A paragraph whose outline level is written `level` (e.g. a superscript digit)."""
    body = _p("一、总体情况", f'<w:outlineLvl w:val="{level}"/>') + _p("本年度收到申请12件。")
    return docx_package(_document(body))


def html_span(value: str) -> bytes:
    """An HTML table whose colspan and rowspan are written `value`."""
    return (
        "<!doctype html><html><body><table>"
        f'<tr><td colspan="{value}" rowspan="{value}">收到申请数</td><td>12</td></tr>'
        "<tr><td>办结</td><td>10</td></tr></table></body></html>"
    ).encode()


def text_many_digits(digits: int = 5000) -> bytes:
    """A TAB table cell and a sentence each holding one number of `digits` digits."""
    big = "1" * digits
    return f"一、总体情况\n本年度收到申请{big}件。\n\n\t收到申请数\n\t{big}\n\n".encode()


# ---- quadratic stages -------------------------------------------------------------------------


def text_numbers_in_sentence(n: int) -> bytes:
    """One paragraph of `n` numbers with units and no punctuation (narrative clause re-scan)."""
    return ("一、总体情况\n" + "收到申请" + "".join(f"{i % 97}件" for i in range(n)) + "\n").encode()


def text_headings(n: int) -> bytes:
    """`n` numbered headings, each with one body line (sections' chain search)."""
    numerals = "一二三四五六七八九十"
    return "".join(f"{numerals[i % 10]}、主动公开情况\n本年度主动公开信息{i}条。\n" for i in range(n)).encode()


def text_tab_tables(n: int) -> bytes:
    """`n` one-row TAB tables separated by paragraphs (the text reader recounted tables)."""
    return "".join(f"\t收到申请数\n\t{i}\n\n说明{i}\n" for i in range(n)).encode()


def docx_wide_row(cells: int, vmerge: bool = False, rows: int = 1) -> bytes:
    """A table of `rows` rows of `cells` cells (vertically merged all the way down when `vmerge`)."""
    first = '<w:vMerge w:val="restart"/>' if vmerge else ""
    rest = "<w:vMerge/>" if vmerge else ""
    trs = ["<w:tr>" + "".join(_tc(str(i % 10), first) for i in range(cells)) + "</w:tr>"]
    trs += ["<w:tr>" + "".join(_tc("", rest) for _ in range(cells)) + "</w:tr>"] * (rows - 1)
    return _stored(docx_package(_document(f"<w:tbl>{''.join(trs)}</w:tbl>" + _p("本年度收到申请12件。"))))


def _stored(docx: bytes) -> bytes:
    """The same package without compression (so the zip-bomb ratio check is not what answers)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info))
    return out.getvalue()


def html_wide_row(cells: int) -> bytes:
    return ("<!doctype html><html><body><table><tr>" + "<td>1</td>" * cells + "</tr></table></body></html>").encode()


def docx_style_chain(depth: int, leaf_first: bool = True) -> bytes:
    """`depth` paragraph styles each based on the previous one, the root a heading style."""
    styles = ['<w:style w:type="paragraph" w:styleId="s0"><w:name w:val="heading 1"/></w:style>']
    styles += [
        f'<w:style w:type="paragraph" w:styleId="s{i}"><w:name w:val="custom {i}"/><w:basedOn w:val="s{i - 1}"/></w:style>'
        for i in range(1, depth)
    ]
    if leaf_first:
        styles.reverse()
    xml = f'<?xml version="1.0" encoding="UTF-8"?><w:styles {_W}>{"".join(styles)}</w:styles>'.encode()
    body = _p("一、总体情况", f'<w:pStyle w:val="s{depth - 1}"/>') + _p("本年度收到申请12件。")
    return docx_package(_document(body), {"word/styles.xml": xml})


def markdown_table(rows: int, cols: int) -> bytes:
    head = "|" + "|".join(f"列{c}" for c in range(cols)) + "|\n"
    rule = "|" + "|".join("---" for _ in range(cols)) + "|\n"
    body = "".join("|" + "|".join(str((r + c) % 10) for c in range(cols)) + "|\n" for r in range(rows))
    return ("# 年度报告\n\n" + head + rule + body).encode()


def text_one_line(chars: int) -> bytes:
    """A single line of `chars` Chinese characters (no line break anywhere)."""
    unit = "本机关依法受理政府信息公开申请并按时答复"
    return (unit * (chars // len(unit) + 1))[:chars].encode()


# ---- misrouting -------------------------------------------------------------------------------


def text_mentioning_pdf() -> bytes:
    return "2023年政府信息公开工作年度报告\n附件下载：report.pdf（文件头为 %PDF-1.7）\n一、总体情况\n本年度收到申请12件。\n".encode()


def html_mentioning_pdf() -> bytes:
    return (
        "<!doctype html><html><head><title>年度报告</title></head><body>"
        "<p>附件（%PDF-1.4 格式）</p><p>一、总体情况</p><p>本年度收到申请12件。</p></body></html>"
    ).encode()


def html_after_script(script_bytes: int = 70 * 1024, comment: bool = False) -> bytes:
    lead = ("<!-- " + "x" * script_bytes + " -->") if comment else ("<script>var a='" + "x" * script_bytes + "';</script>")
    return (lead + "<html><body><p>一、总体情况</p><p>本年度收到申请12件。</p></body></html>").encode()


def docx_main_part_elsewhere(real: bytes, part: str = "word/main.xml") -> bytes:
    """A real DOCX whose main part is stored as `part`, named only by _rels/.rels."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(real)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info)
            name = info.filename
            if name == "word/document.xml":
                name = part
            elif name == "_rels/.rels":
                data = data.replace(b"word/document.xml", part.encode())
            elif name == "[Content_Types].xml":
                data = data.replace(b"/word/document.xml", b"/" + part.encode())
            elif name == "word/_rels/document.xml.rels":
                name = "word/_rels/" + part.rsplit("/", 1)[1] + ".rels"
            z.writestr(name, data)
    return out.getvalue()


def docx_pdf_first(real: bytes, pdf: bytes) -> bytes:
    """A real DOCX whose first stored entry is a whole PDF file (an embedded attachment)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(real)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("word/embeddings/attachment.pdf", pdf)
        for info in src.infolist():
            z.writestr(info.filename, src.read(info))
    return out.getvalue()


__all__ = [name for name in dir() if not name.startswith("_")]


# ---- PDF --------------------------------------------------------------------------------------


def _pdf(content: bytes, extra_objects: list[bytes] | None = None, font: bytes = b"/Type /Font /Subtype /Type1 /BaseFont /Helvetica") -> bytes:
    from tests.pdfbytes import raw_pdf

    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        content,
        b"<< " + font + b" >>",
    ]
    return raw_pdf(objs + (extra_objects or []))


def pdf_flate_bomb(inflated: int) -> bytes:
    """One page whose content stream inflates to `inflated` bytes of spaces (~1,000x compression)."""
    c = zlib.compressobj(9)
    block = b" " * (1 << 20)
    parts = [c.compress(b"BT /F1 12 Tf 72 720 Td (2023) Tj ET\n")]
    for _ in range(inflated // len(block)):
        parts.append(c.compress(block))
    parts.append(c.flush())
    body = b"".join(parts)
    return _pdf(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream")


def pdf_tounicode_ranges(ranges: int = 100) -> bytes:
    """A few KB: a font whose ToUnicode CMap declares `ranges` ranges of 2^32 codes each."""
    lines = b"".join(b"<00000000> <FFFFFFFF> <0041>\n" for _ in range(ranges))
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n1 begincodespacerange\n"
        b"<00000000> <FFFFFFFF>\nendcodespacerange\n%d beginbfrange\n" % ranges
        + lines + b"endbfrange\nendcmap CMapName currentdict /CMap defineresource pop end end"
    )
    content = b"BT /F1 12 Tf 72 720 Td <0001> Tj ET"
    return _pdf(
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        [b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream"],
        font=b"/Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R",
    )


def _grid_ops(lines: int) -> bytes:
    step = 800.0 / lines
    ops = [b"0.5 w"]
    ops += [b"20 %.2f m 580 %.2f l S" % (20 + i * step, 20 + i * step) for i in range(lines + 1)]
    ops += [b"%.3f 20 m %.3f 820 l S" % (20 + i * 560 / lines, 20 + i * 560 / lines) for i in range(lines + 1)]
    return b"\n".join(ops) + b"\nBT /F1 12 Tf 72 720 Td (2023) Tj ET"


def pdf_ruled_grid(lines: int) -> bytes:
    """One page ruled into a `lines` x `lines` grid (the table builder's per-page work)."""
    ops = _grid_ops(lines)
    return _pdf(b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream")


def pdf_shared_content(pages: int, lines: int = 60) -> bytes:
    """`pages` pages that all draw the same content stream (a ruled grid with text)."""
    from tests.pdfbytes import raw_pdf

    text = b"BT /F1 10 Tf " + b" ".join(b"72 %d Td (%d) Tj" % (-12, i) for i in range(40)) + b" ET\n"
    ops = text + _grid_ops(lines)
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    objs += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R /Resources << /Font << /F1 4 0 R >> >> >>"] * pages
    return raw_pdf(objs)


def html_script_heavy(total: int = 2 * 1024 * 1024) -> bytes:
    """A page whose bytes are mostly inline scripts between short paragraphs."""
    script = "<script>var x = '" + "a" * 4000 + "';</script>"
    parts, size, i = ["<!doctype html><html><head><title>年度报告</title></head><body>"], 0, 0
    while size < total:
        piece = f"<p>第{i}段：本年度收到申请{i}件。</p>" + script
        parts.append(piece)
        size += len(piece)
        i += 1
    return ("".join(parts) + "</body></html>").encode()


def lzw_encode(data: bytes) -> bytes:
    """PDF LZWDecode bytes (EarlyChange 1) of `data` (a test encoder; the reader only decodes)."""
    table = {bytes([i]): i for i in range(256)}
    width, out_bits, nbits, out, w = 9, 0, 0, bytearray(), b""

    def emit(code: int) -> None:
        nonlocal out_bits, nbits
        out_bits, nbits = (out_bits << width) | code, nbits + width
        while nbits >= 8:
            nbits -= 8
            out.append((out_bits >> nbits) & 0xFF)
        out_bits &= (1 << nbits) - 1

    emit(256)
    for byte in data:
        wc = w + bytes([byte])
        if wc in table:
            w = wc
            continue
        emit(table[w])
        table[wc] = len(table) + 2 if len(table) >= 256 else len(table)
        w = bytes([byte])
        if len(table) + 2 >= (1 << width):
            if width == 12:
                emit(256)
                table = {bytes([i]): i for i in range(256)}
                width = 9
            else:
                width += 1
    if w:
        emit(table[w])
    emit(257)
    if nbits:
        out.append((out_bits << (8 - nbits)) & 0xFF)
    return bytes(out)


def pdf_tounicode_fonts(fonts: int = 250, ranges: int = 256) -> bytes:
    """~40 KB: one Flate ToUnicode CMap of `ranges` full 256-code ranges, named by `fonts` fonts all used on the page.

    pdfium builds one map per font, so the map's 65,536 codes are stored `fonts` times (16 million entries:
    pdfium aborts under a 512 MiB address space; 150 fonts already take 472 MiB).
    """
    from tests.pdfbytes import raw_pdf

    lines = b"".join(b"<%06X> <%06X> <0041>\n" % (i << 8, (i << 8) | 0xFF) for i in range(ranges))
    cmap = zlib.compress(
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n1 begincodespacerange\n<000000> <FFFFFF>\n"
        b"endcodespacerange\n%d beginbfrange\n" % ranges + lines + b"endbfrange\nendcmap CMapName currentdict /CMap "
        b"defineresource pop end end", 9
    )
    content = b"BT " + b" ".join(b"/F%d 12 Tf 72 %d Td <000001> Tj" % (k, 700 - k % 50) for k in range(fonts)) + b" ET"
    names = b" ".join(b"/F%d %d 0 R" % (k, 6 + k) for k in range(fonts))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << " + names + b" >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Filter /FlateDecode /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream",
    ]
    objs += [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 5 0 R >>"] * fonts
    return raw_pdf(objs)


def _bomb_content(inflated: int) -> bytes:
    return b"BT /F1 12 Tf 72 720 Td (2023) Tj ET\n" + b" " * inflated


def _lzw_pack(codes: list[int]) -> bytes:
    """LZW codes packed MSB-first at the widths a PDF decoder (EarlyChange 1) reads them."""
    out, bits, nbits, next_code, width = bytearray(), 0, 0, 258, 9
    for k, code in enumerate(codes):
        bits, nbits = (bits << width) | code, nbits + width
        while nbits >= 8:
            nbits -= 8
            out.append((bits >> nbits) & 0xFF)
        bits &= (1 << nbits) - 1
        if code == 256:
            next_code, width = 258, 9
        elif k > 0 and codes[k - 1] != 256:
            next_code += 1
            if next_code + 1 >= (1 << width) and width < 12:
                width += 1
    if nbits:
        out.append((bits << (8 - nbits)) & 0xFF)
    return bytes(out)


def pdf_lzw_bomb(inflated: int = 256 << 20) -> bytes:
    """One page whose LZWDecode content stream decodes to about `inflated` bytes of spaces (~2,500x).

    The codes are written directly: a run of spaces makes codes 258, 259, … each one space longer; once the
    table is full the longest code (~3,800 spaces) is repeated.
    """
    head = list(b"BT /F1 12 Tf 72 720 Td (2023) Tj ET\n")
    grow = [32] + list(range(258, 4095))
    longest = len(grow)  # spaces the last code stands for
    repeat = max(0, (inflated - longest * (longest + 1) // 2) // longest)
    codes = [256] + head + [256] + grow + [4094] * repeat + [257]
    body = _lzw_pack(codes)
    return _pdf(b"<< /Length %d /Filter /LZWDecode >>\nstream\n" % len(body) + body + b"\nendstream")


def pdf_a85_flate_bomb(inflated: int = 1 << 30) -> bytes:
    """A Flate bomb wrapped in ASCII85 (`/Filter [/ASCII85Decode /FlateDecode]`): the raw bytes are not zlib."""
    import base64

    c = zlib.compressobj(9)
    block = b" " * (1 << 20)
    parts = [c.compress(b"BT /F1 12 Tf 72 720 Td (2023) Tj ET\n")]
    parts += [c.compress(block) for _ in range(inflated // len(block))]
    parts.append(c.flush())
    body = base64.a85encode(b"".join(parts), adobe=True)[2:]  # pdfium wants no leading <~
    return _pdf(b"<< /Length %d /Filter [/ASCII85Decode /FlateDecode] >>\nstream\n" % len(body) + body + b"\nendstream")


def _page_pdf(ops: bytes, side: int) -> bytes:
    from tests.pdfbytes import raw_pdf

    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
        % (side, side),
        b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def pdf_big_ruled_grid(lines: int = 1_500, step: float = 9.0) -> bytes:
    """A `lines` x `lines` ruled grid `step` pt apart on a 14,400 pt page (PDF's largest), so no ruling snaps."""
    end = 20 + lines * step
    ops = [b"0.5 w"]
    ops += [b"20 %.2f m %.2f %.2f l S" % (20 + i * step, end, 20 + i * step) for i in range(lines + 1)]
    ops += [b"%.2f 20 m %.2f %.2f l S" % (20 + i * step, 20 + i * step, end) for i in range(lines + 1)]
    text = b"".join(b"BT /F1 6 Tf %.2f %.2f Td (%d) Tj ET\n" % (22 + (i % 40) * step, 22 + (i // 40) * step, i) for i in range(1_600))
    return _page_pdf(b"\n".join(ops) + b"\n" + text, 14_400)


def pdf_many_rects(n: int = 40_000, step: float = 9.0) -> bytes:
    """`n` small stroked rectangles (`re`) tiling the page: table cells drawn as boxes, not lines."""
    per_row = int(14_000 // step)
    ops = [b"0.5 w"] + [b"%.1f %.1f %.1f %.1f re S" % (20 + (i % per_row) * step, 20 + (i // per_row) * step, step, step) for i in range(n)]
    text = b"".join(b"BT /F1 6 Tf %.1f %.1f Td (%d) Tj ET\n" % (22 + (i % 40) * step, 22 + (i // 40) * step, i) for i in range(1_600))
    return _page_pdf(b"\n".join(ops) + b"\n" + text, 14_400)
