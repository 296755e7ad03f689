"""OpenDocument text (`.odt`) reader: `content.xml` paragraphs, headings, lists and tables.

ODF tables say their merges directly (`number-columns-spanned`,
`number-rows-spanned`, with `covered-table-cell` placeholders) and repeat
identical cells with `number-columns-repeated`, so the grid is read as written.
The ZIP container goes through the same bomb checks and bounded reads as DOCX,
and the XML through the same entity-free parser.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from lxml import etree

from ..errors import CorruptFileError, EncryptedFileError
from ..model import Cell, Document, Paragraph, Source, Table
from .container import SIDE_PART_BYTES, check_zip, parse_xml, read_part
from .options import ReadOptions


@dataclass(frozen=True, slots=True)
class OdtSettings:
    """Knobs and bounds of the ODT reader."""

    max_part_bytes: int = 64 * 1024 * 1024
    max_repeat: int = 64  # number-columns-repeated beyond this is trailing padding, not content
    unwrap_single_cell_tables: bool = True


SETTINGS = OdtSettings()

_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
T = "{" + _TEXT + "}"
TB = "{" + _TABLE + "}"
_ROW_CONTAINERS = {TB + "table-header-rows", TB + "table-rows", TB + "table-row-group"}
_SKIP = {T + "note", T + "tracked-changes", T + "bookmark-ref", T + "sequence-decls",
         "{" + _OFFICE + "}annotation", T + "soft-page-break"}


def _inline(el: etree._Element, out: list[str]) -> None:
    """The printed text of a paragraph element: spans, links, spaces, tabs and line breaks."""
    if el.text:
        out.append(el.text)
    for child in el:
        tag = child.tag
        if tag == T + "s":
            out.append(" " * min(int(child.get(T + "c", "1") or 1), 100))
        elif tag == T + "tab":
            out.append(" ")
        elif tag == T + "line-break":
            out.append("\n")
        elif tag not in _SKIP and isinstance(tag, str):
            _inline(child, out)
        if child.tail:
            out.append(child.tail)


def _para_text(el: etree._Element) -> str:
    out: list[str] = []
    _inline(el, out)
    return "".join(out).replace("\xa0", " ")


def _int_attr(el: etree._Element, name: str, cap: int) -> int:
    try:
        return max(1, min(int(el.get(name, "1")), cap))
    except ValueError:
        return 1


class _Walker:
    def __init__(self, settings: OdtSettings) -> None:
        self.settings = settings
        self.blocks: list[Paragraph | Table] = []
        self.n_tables = 0

    def paragraph(self, text: str, style: str | None) -> None:
        for line in text.split("\n"):
            line = line.strip()
            if line:
                self.blocks.append(Paragraph(line, Source(line=len(self.blocks)), style=style))

    def cell_text(self, cell: etree._Element) -> str:
        parts: list[str] = []
        for el in cell.iter(T + "p", T + "h"):
            parts.append(_para_text(el).strip())
        return "\n".join(p for p in parts if p)

    def table(self, el: etree._Element) -> None:
        rows_el: list[etree._Element] = []
        stack = list(el)
        while stack:
            ch = stack.pop(0)
            if ch.tag == TB + "table-row":
                rows_el.extend([ch] * _int_attr(ch, TB + "number-rows-repeated", self.settings.max_repeat))
            elif ch.tag in _ROW_CONTAINERS:
                stack[0:0] = list(ch)
        index = self.n_tables
        rows: list[tuple[Cell, ...]] = []
        for r, row in enumerate(rows_el):
            cells: list[Cell] = []
            col = 0
            for c in row:
                if c.tag not in (TB + "table-cell", TB + "covered-table-cell"):
                    continue
                rep = _int_attr(c, TB + "number-columns-repeated", self.settings.max_repeat)
                if c.tag == TB + "covered-table-cell":
                    col += rep
                    continue
                text = self.cell_text(c)
                for _ in range(rep):
                    cs = _int_attr(c, TB + "number-columns-spanned", 1000)
                    rs = _int_attr(c, TB + "number-rows-spanned", 10000)
                    cells.append(Cell(text, r, col, rs, cs, Source(table=index, row=r, col=col)))
                    col += cs
            rows.append(tuple(cells))
        while rows and not any(c.text.strip() for c in rows[-1]):
            rows.pop()
        if not rows:
            return
        t = Table(tuple(rows), index=index, source=Source(table=index))
        if self.settings.unwrap_single_cell_tables and t.n_rows == 1 and len(t.rows[0]) == 1:
            self.paragraph(t.rows[0][0].text, None)
            return
        self.blocks.append(t)
        self.n_tables += 1

    def walk(self, parent: etree._Element) -> None:
        for el in parent:
            tag = el.tag
            if tag == T + "h":
                self.paragraph(_para_text(el), "heading")
            elif tag == T + "p":
                self.paragraph(_para_text(el), None)
            elif tag == TB + "table":
                self.table(el)
            elif tag in (T + "list", T + "list-item", T + "list-header", T + "section", T + "index-body",
                         T + "table-of-content", T + "illustration-index", T + "alphabetical-index"):
                self.walk(el)


def read(data: bytes, options: ReadOptions, settings: OdtSettings = SETTINGS) -> Document:
    """Read an OpenDocument text file into paragraphs and tables."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise CorruptFileError("The ODT is a damaged ZIP container.") from e
    with zf:
        infos = zf.infolist()
        check_zip(infos, options, "ODT")
        names = {i.filename: i for i in infos}
        if "content.xml" not in names:
            raise CorruptFileError("The ODT has no content.xml.")
        manifest = names.get("META-INF/manifest.xml")
        if manifest is not None and b"encryption-data" in read_part(zf, manifest, settings.max_part_bytes, "ODT"):
            raise EncryptedFileError("The ODT is password-protected.")
        limit = min(settings.max_part_bytes, options.max_uncompressed_bytes)
        root = parse_xml(read_part(zf, names["content.xml"], limit, "ODT"), "content.xml", "ODT")
        title = None
        if "meta.xml" in names:
            try:
                meta = parse_xml(read_part(zf, names["meta.xml"], SIDE_PART_BYTES, "ODT"), "meta.xml", "ODT")
                el = meta.find(f".//{_DC_TITLE}")
                title = (el.text or "").strip() or None if el is not None else None
            except CorruptFileError:
                title = None
    body = root.find(f"{{{_OFFICE}}}body/{{{_OFFICE}}}text")
    if body is None:
        raise CorruptFileError("The ODT content.xml has no office:text body.")
    walker = _Walker(settings)
    walker.walk(body)
    return Document(blocks=tuple(walker.blocks), format="odt", title=title)
