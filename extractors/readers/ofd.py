"""OFD (GB/T 33190, China's fixed-layout format) reader: positioned text and ruling lines into the PDF layout.

An OFD is a ZIP of XML: `OFD.xml` names the document root, its `Document.xml`
lists the pages, and each page's `Content.xml` holds `TextObject`s (a font
size and `TextCode` runs with per-character advances `DeltaX`) and
`PathObject`s (`AbbreviatedData` move/line commands) in millimetres, origin
top-left. That is the same information a PDF page gives pdfium, so the
characters become `pdf_geometry.Char` boxes and the paths go through
`pdf_tables.path_rules`; the PDF reader's line grouping, ruled-table
reconstruction and page assembly then do the rest unchanged.

Pages that hold only images (a scanned OFD) raise `NoTextLayerError` with the
page numbers in `image_pages`: the seam where OCR takes over when installed.
"""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass

from lxml import etree

from ..errors import CorruptFileError, NoTextLayerError, ResourceLimitError, TooManyPagesError
from ..model import Document
from .container import check_zip, parse_xml, read_part
from .options import ReadOptions
from .pdf_geometry import Char, PdfSettings, dedupe_overprint, group_lines, is_wide
from .pdf_tables import Rule, find_tables, find_unruled_tables, path_rules
from .pdf_text import PageContent, assemble

MM = 72.0 / 25.4  # OFD millimetres to PDF points, so the PDF layout tolerances apply as they are


@dataclass(frozen=True, slots=True)
class OfdSettings:
    """Knobs and bounds of the OFD reader; the layout itself uses the PDF reader's settings."""

    max_part_bytes: int = 32 * 1024 * 1024  # one page's Content.xml, decompressed
    max_objects_per_page: int = 20_000  # a dense real page holds ~3,000; each costs ~0.1 ms through the layout
    max_block_depth: int = 32  # PageBlock nesting
    # text characters of the whole document, counted page by page before the layout (~8 µs each through
    # it): a 40-page report holds ~60,000; compressed XML fits a million into a 1 MB file
    max_document_glyphs: int = 200_000
    ascent: float = 0.88  # share of the font size above the baseline (a CJK font's loose box)
    narrow_advance: float = 0.5  # advance of a Latin/digit character without DeltaX, in font sizes
    default_page: tuple[float, float] = (210.0, 297.0)  # A4, when the document declares no PhysicalBox
    pdf: PdfSettings = PdfSettings()


SETTINGS = OfdSettings()

_NUM = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _local(el: etree._Element) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(el: etree._Element, name: str) -> etree._Element | None:
    for c in el:
        if _local(c) == name:
            return c
    return None


def _floats(text: str | None) -> list[float]:
    return [float(x) for x in _NUM.findall(text or "")]


def _box(text: str | None) -> tuple[float, float, float, float] | None:
    v = _floats(text)
    return (v[0], v[1], v[2], v[3]) if len(v) >= 4 else None


def _deltas(text: str | None, limit: int) -> list[float]:
    """DeltaX/DeltaY: numbers, with `g N v` meaning v repeated N times; at most `limit` (one per glyph gap)."""
    out: list[float] = []
    tokens = (text or "").split()
    i = 0
    while i < len(tokens) and len(out) < limit:
        if tokens[i] == "g" and i + 2 < len(tokens):
            try:
                n, v = int(float(tokens[i + 1])), float(tokens[i + 2])
            except ValueError:
                break
            out.extend([v] * max(0, min(n, limit - len(out))))
            i += 3
            continue
        try:
            out.append(float(tokens[i]))
        except ValueError:
            pass
        i += 1
    return out


def _ctm(el: etree._Element) -> Matrix:
    v = _floats(el.get("CTM"))
    return (v[0], v[1], v[2], v[3], v[4], v[5]) if len(v) == 6 else _IDENTITY


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return a * x + c * y + e, b * x + d * y + f


@dataclass(slots=True)
class _Page:
    chars: list[Char]
    horiz: list[Rule]
    vert: list[Rule]
    images: int


def _text_object(obj: etree._Element, settings: OfdSettings, out: list[Char]) -> None:
    bx, by = (_box(obj.get("Boundary")) or (0.0, 0.0, 0.0, 0.0))[:2]
    m = _ctm(obj)
    scale = max(abs(m[3]), abs(m[0]), 1e-6) if m != _IDENTITY else 1.0
    size = (_floats(obj.get("Size")) or [3.5])[0] * scale
    for code in obj:
        if _local(code) != "TextCode" or not code.text:
            continue
        x = (_floats(code.get("X")) or [0.0])[0]
        y = (_floats(code.get("Y")) or [0.0])[0]
        n = len(code.text)
        dx, dy = _deltas(code.get("DeltaX"), n), _deltas(code.get("DeltaY"), n)
        for i, ch in enumerate(code.text):
            if i:
                x += dx[i - 1] if i - 1 < len(dx) else size / scale * (1.0 if is_wide(code.text[i - 1]) else settings.narrow_advance)
                y += dy[i - 1] if i - 1 < len(dy) else 0.0
            if ch.isspace() or not ch.isprintable():
                continue
            px, py = _apply(m, x, y)
            px, py = bx + px, by + py
            # the glyph's own width: an advance (DeltaX) can also carry the gap to the next cell
            em = size * (1.0 if is_wide(ch) else settings.narrow_advance)
            adv = min(dx[i] * scale, em) if i < len(dx) and dx[i] > 0 else em
            out.append(Char(ch, px * MM, (py - settings.ascent * size) * MM, (px + adv) * MM,
                            (py + (1 - settings.ascent) * size) * MM))


def _path_object(obj: etree._Element, settings: OfdSettings, page: _Page) -> None:
    if obj.get("Visible", "true") == "false":
        return
    data = _child(obj, "AbbreviatedData")
    if data is None or not data.text:
        return
    bx, by = (_box(obj.get("Boundary")) or (0.0, 0.0, 0.0, 0.0))[:2]
    m = _ctm(obj)
    stroke = obj.get("Stroke", "true") != "false"
    fill = obj.get("Fill", "false") == "true"
    if not stroke and not fill:
        return
    subpaths: list[tuple[list[tuple[float, float]], bool]] = []
    tokens = data.text.split()
    i, n = 0, len(tokens)
    argc = {"M": 2, "S": 2, "L": 2, "Q": 4, "B": 6, "A": 7, "C": 0}

    def pt(xs: str, ys: str) -> tuple[float, float]:
        x, y = _apply(m, float(xs), float(ys))
        return ((bx + x) * MM, (by + y) * MM)

    try:
        while i < n:
            op = tokens[i]
            k = argc.get(op)
            if k is None:
                i += 1
                continue
            args = tokens[i + 1 : i + 1 + k]
            i += 1 + k
            if len(args) < k:
                break
            if op in ("M", "S"):
                subpaths.append(([pt(*args)], False))
            elif op == "L":
                if not subpaths:
                    subpaths.append(([], False))
                subpaths[-1][0].append(pt(*args))
            elif op == "C" and subpaths:
                subpaths[-1] = (subpaths[-1][0], True)
            else:  # a curve or arc is not a table rule: restart at its end point
                subpaths.append(([pt(args[-2], args[-1])], False))
    except ValueError as e:
        raise CorruptFileError("An OFD path has malformed coordinates.") from e
    h, v = path_rules(subpaths, stroke, settings.pdf)
    page.horiz.extend(h)
    page.vert.extend(v)


def _walk(parent: etree._Element, settings: OfdSettings, page: _Page, depth: int, budget: list[int]) -> None:
    if depth > settings.max_block_depth:
        raise ResourceLimitError("The OFD nests page blocks deeper than the limit.")
    for obj in parent:
        budget[0] -= 1
        if budget[0] < 0:
            raise ResourceLimitError(
                f"An OFD page holds more than {settings.max_objects_per_page} objects "
                f"(limit max_objects_per_page={settings.max_objects_per_page})."
            )
        name = _local(obj)
        if name == "TextObject":
            _text_object(obj, settings, page.chars)
        elif name == "PathObject":
            _path_object(obj, settings, page)
        elif name == "ImageObject":
            page.images += 1
        elif name in ("Layer", "PageBlock", "Content"):
            _walk(obj, settings, page, depth + 1, budget)


def _resolve(base_dir: str, loc: str) -> str:
    loc = loc.strip()
    if loc.startswith("/"):
        return posixpath.normpath(loc.lstrip("/"))
    return posixpath.normpath(posixpath.join(base_dir, loc))


def read(data: bytes, options: ReadOptions, settings: OfdSettings = SETTINGS) -> Document:
    """Read an OFD with a text layer into paragraphs and ruled tables, through the PDF layout stages."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise CorruptFileError("The OFD is a damaged ZIP container.") from e
    with zf:
        infos = zf.infolist()
        check_zip(infos, options, "OFD")
        names = {i.filename: i for i in infos}
        limit = min(settings.max_part_bytes, options.max_uncompressed_bytes)

        def part(name: str, what: str) -> etree._Element:
            info = names.get(name)
            if info is None:
                raise CorruptFileError(f"The OFD has no {what} ({name}).")
            return parse_xml(read_part(zf, info, limit, "OFD"), what, "OFD")

        root = part("OFD.xml" if "OFD.xml" in names else "ofd.xml", "OFD.xml")
        body = _child(root, "DocBody")
        doc_root = _child(body, "DocRoot") if body is not None else None
        if doc_root is None or not (doc_root.text or "").strip():
            raise CorruptFileError("The OFD.xml names no document root.")
        doc_path = _resolve("", doc_root.text or "")
        document = part(doc_path, "Document.xml")
        doc_dir = posixpath.dirname(doc_path)
        common = _child(document, "CommonData")
        area = _child(common, "PageArea") if common is not None else None
        default_box = _box(_child(area, "PhysicalBox").text) if area is not None and _child(area, "PhysicalBox") is not None else None
        pages_el = _child(document, "Pages")
        page_refs = [p for p in (pages_el if pages_el is not None else []) if _local(p) == "Page"]
        if not page_refs:
            raise CorruptFileError("The OFD document has no pages.")
        if len(page_refs) > options.max_pages:
            raise TooManyPagesError(
                f"The OFD has {len(page_refs)} pages; the limit is {options.max_pages}.",
                pages=len(page_refs), max_pages=options.max_pages,
            )
        contents: list[PageContent] = []
        n_chars = 0
        image_pages: list[int] = []
        for no, ref in enumerate(page_refs, start=1):
            page_xml = part(_resolve(doc_dir, ref.get("BaseLoc", "")), f"page {no}")
            box = default_box
            parea = _child(page_xml, "Area")
            if parea is not None and _child(parea, "PhysicalBox") is not None:
                box = _box(_child(parea, "PhysicalBox").text) or box
            height = (box[3] if box else settings.default_page[1]) * MM
            pg = _Page([], [], [], 0)
            content = _child(page_xml, "Content")
            if content is not None:
                _walk(content, settings, pg, 0, [settings.max_objects_per_page])
            if not pg.chars and pg.images:
                image_pages.append(no)
            n_chars += len(pg.chars)
            if n_chars > settings.max_document_glyphs:
                raise ResourceLimitError(
                    f"The OFD holds more than {settings.max_document_glyphs} text characters by page {no} "
                    f"(limit max_document_glyphs={settings.max_document_glyphs}).",
                    limit="max_document_glyphs", page=no,
                )
            chars = dedupe_overprint(pg.chars, settings.pdf)
            tables, rest = find_tables(chars, pg.horiz, pg.vert, no, settings.pdf)
            lines = group_lines(rest, settings.pdf)
            if settings.pdf.unruled_tables:
                unruled, lines = find_unruled_tables(lines, no, settings.pdf)
                tables.extend(unruled)
            contents.append(PageContent(number=no, height=height, lines=lines, tables=tables))
    n_pages = len(page_refs)
    if n_chars < settings.pdf.min_chars_per_page * n_pages:
        raise NoTextLayerError(
            f"The OFD has {n_pages} pages but only {n_chars} text characters; it looks scanned.",
            pages=n_pages, image_pages=image_pages,
        )
    return Document(blocks=tuple(assemble(contents, settings.pdf)), format="ofd", pages=n_pages)
