"""Render a `Document` back to file bytes (TXT as Word exports it, HTML, DOCX), so perturbed
reports also pass through the real readers."""
from __future__ import annotations

import html
import io
from dataclasses import replace

from docx.oxml.ns import nsdecls

from extractors.model import Document, Paragraph, Table


def squared(t: Table) -> Table:
    """A ragged table (Word's text export of merged cells) as a grid: a short row's first cell
    spans the missing columns, as the label cells of the official forms do."""
    if any(c.rowspan > 1 or c.colspan > 1 for r in t.rows for c in r):
        return t
    n = t.n_cols
    rows = []
    for r in t.rows:
        gap = n - len(r)
        if gap <= 0 or not r:
            rows.append(r)
            continue
        first = replace(r[0], colspan=1 + gap)
        rows.append((first,) + tuple(replace(c, col=c.col + gap) for c in r[1:]))
    return replace(t, rows=tuple(rows))


def to_txt(doc: Document) -> bytes:
    """Word's "save as text" layout: TAB-led cell lines, a blank line after each row,
    vertically merged continuations as empty cells, horizontal merges once."""
    out: list[str] = []
    for b in doc.blocks:
        if isinstance(b, Paragraph):
            out.append(b.text)
            continue
        grid = b.grid()
        for r, row in enumerate(grid):
            line_cells: list[str] = []
            for c, cell in enumerate(row):
                if cell is None:
                    continue
                if cell.col != c:
                    continue  # horizontal continuation
                line_cells.append(cell.text if cell.row == r else "")
            for t in line_cells:
                parts = t.split("\n") or [""]
                out.append("\t" + parts[0])
                out.extend(p for p in parts[1:])
            out.append("")
        out.append("")
    return "\n".join(out).encode("utf-8")


def to_html(doc: Document) -> bytes:
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>", html.escape(doc.title or ""), "</title></head><body><div class='article'>"]
    for b in doc.blocks:
        if isinstance(b, Paragraph):
            parts.append(f"<p>{html.escape(b.text)}</p>")
            continue
        parts.append("<table border='1'>")
        for row in squared(b).rows:
            parts.append("<tr>")
            for c in row:
                span = (f" rowspan='{c.rowspan}'" if c.rowspan > 1 else "") + (f" colspan='{c.colspan}'" if c.colspan > 1 else "")
                parts.append(f"<td{span}>" + "<br>".join(html.escape(x) for x in c.text.split("\n")) + "</td>")
            parts.append("</tr>")
        parts.append("</table>")
    parts.append("</div></body></html>")
    return "".join(parts).encode("utf-8")


def _tbl_xml(t: Table) -> str:
    """WordprocessingML of a table: gridSpan for horizontal merges, vMerge for vertical ones."""
    grid = t.grid()
    out = ["<w:tbl %s><w:tblPr><w:tblStyle w:val='TableGrid'/></w:tblPr><w:tblGrid>" % nsdecls("w")]
    out += ["<w:gridCol/>"] * t.n_cols
    out.append("</w:tblGrid>")
    for r, row in enumerate(grid):
        out.append("<w:tr>")
        c = 0
        while c < len(row):
            cell = row[c]
            if cell is None:
                out.append("<w:tc><w:p/></w:tc>")
                c += 1
                continue
            span = f"<w:gridSpan w:val='{cell.colspan}'/>" if cell.colspan > 1 else ""
            if cell.row == r:
                vm = "<w:vMerge w:val='restart'/>" if cell.rowspan > 1 else ""
                paras = "".join(f"<w:p><w:r><w:t xml:space='preserve'>{html.escape(x)}</w:t></w:r></w:p>" for x in cell.text.split("\n"))
            else:
                vm, paras = "<w:vMerge/>", "<w:p/>"
            out.append(f"<w:tc><w:tcPr>{span}{vm}</w:tcPr>{paras}</w:tc>")
            c += cell.colspan
        out.append("</w:tr>")
    out.append("</w:tbl>")
    return "".join(out)


def to_docx(doc: Document) -> bytes:
    import docx  # python-docx
    from docx.oxml import parse_xml

    d = docx.Document()
    body = d.element.body
    for b in doc.blocks:
        if isinstance(b, Paragraph):
            d.add_paragraph(b.text)
            continue
        t = squared(b)
        if t.n_rows and t.n_cols:
            body.insert(len(body) - 1, parse_xml(_tbl_xml(t)))  # before the final sectPr
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def to_md(doc: Document) -> bytes:
    """A PDF→Markdown converter's output (markitdown's layout): each table row as a pipe row of the
    cells that start in it, no spans; a row of one cell printed as a line of its own (converters
    put a label or a value they pulled out of the grid there)."""
    out: list[str] = []
    for b in doc.blocks:
        if isinstance(b, Paragraph):
            out += [b.text.replace("\n", " "), ""]
            continue
        first = True
        for row in b.rows:
            texts = [c.text.replace("\n", " ").replace("|", "\\|") for c in row]
            if len(texts) == 1:
                if texts[0].strip():
                    out.append(texts[0].strip())
                continue
            out.append("| " + " | ".join(texts) + " |")
            if first:
                out.append("|" + "|".join(" --- " for _ in texts) + "|")
                first = False
        out.append("")
    return "\n".join(out).encode("utf-8")


RENDERERS = {
    "txt": (to_txt, "report.txt"),
    "html": (to_html, "report.html"),
    "docx": (to_docx, "report.docx"),
    "md": (to_md, "report.pdf.md"),
}
