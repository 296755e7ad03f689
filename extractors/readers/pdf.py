"""PDF reader: pdfium characters and ruling lines in, paragraphs and ruled tables out.

Built on pypdfium2 because it is fast (a few milliseconds per page): each page is
parsed once, giving every character with its box and every drawn path. Text is
laid out by geometry (`pdf_geometry`), tables come from the drawn cell borders
(`pdf_tables`) and the document is put together in reading order, with tables cut
by a page break re-joined (`pdf_text`).

pdfium is not thread-safe, so all calls into it hold one module lock.
"""
from __future__ import annotations

import ctypes
import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..errors import (
    CorruptFileError,
    EncryptedFileError,
    NoTextLayerError,
    ResourceLimitError,
    TooManyPagesError,
)
from ..model import Document
from . import ocr, pdf_budget
from .options import ReadOptions
from .pdf_geometry import Char, PdfSettings, chars_from_boxes, dedupe_overprint, group_lines
from .pdf_tables import extract_rules, find_tables, find_unruled_tables
from .pdf_text import PageContent, assemble

DEFAULT_SETTINGS = PdfSettings()
_PDFIUM_LOCK = threading.Lock()
# pdfium load errors that mean "a password is needed" rather than "broken bytes"
_ENCRYPTED_CODES = frozenset({pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY})
_SKIP = frozenset("\x00\ufffe\uffff")
_ABSURD_BOX = 3.0  # a loose box this many times the page's typical height is a font-metrics artefact


def read(data: bytes, options: ReadOptions, settings: PdfSettings = DEFAULT_SETTINGS) -> Document:
    """Read a PDF into paragraphs and tables (see module docstring).

    Decided per page: a page with a text layer is read from it; a page without
    one that shows an image (a scan) is OCR'd when the `[ocr]` extra is installed.
    """
    pdf_budget.check(data)  # inflated content and ToUnicode sizes, before pdfium allocates them
    with _PDFIUM_LOCK:
        pdf = _open(data, options)
    try:
        with _PDFIUM_LOCK:
            n_pages = len(pdf)
            if n_pages > options.max_pages:
                raise TooManyPagesError(
                    f"The PDF has {n_pages} pages; the limit is {options.max_pages}.",
                    pages=n_pages,
                    max_pages=options.max_pages,
                )
            if n_pages == 0:
                raise CorruptFileError("The PDF has no pages.")
            pages: list[PageContent | None] = []
            scanned: list[int] = []
            n_chars, n_cells = 0, 0
            by_size = max(options.chars_floor, int(options.max_chars_per_byte * len(data)))
            for i in range(n_pages):
                if i and i % settings.pages_per_open == 0:  # pdfium frees a document's parsed pages only on close
                    reopened = _open(data, options)
                    pdf.close()
                    pdf = reopened
                page, count, has_image = _read_page(pdf, i, settings)
                if count < settings.min_chars_per_page and has_image:
                    scanned.append(i)
                    pages.append(None)
                    continue
                pages.append(page)
                if options.on_page is not None:
                    options.on_page(len(pages) - len(scanned), n_pages)
                n_chars += count
                n_cells += sum(len(t.cells) for t in page.tables)
                if n_chars > by_size and n_chars <= options.max_document_chars:
                    raise ResourceLimitError(  # the same text again and again: shared content streams
                        f"The PDF yields {n_chars} characters by page {i + 1} from {len(data)} bytes "
                        f"(limit max_chars_per_byte={options.max_chars_per_byte:g} past {options.chars_floor}).",
                        limit="max_chars_per_byte", page=i + 1,
                    )
                if n_cells > options.max_document_cells or n_chars > options.max_document_chars:
                    raise ResourceLimitError(  # refused while reading, not after every page is read
                        f"The PDF passes {options.max_document_cells} table cells or "
                        f"{options.max_document_chars} characters by page {i + 1} "
                        "(limits max_document_cells, max_document_chars).",
                        limit="max_document_cells" if n_cells > options.max_document_cells else "max_document_chars",
                    )
        n_ocr_chars, warnings = _ocr_pages(pdf, pages, scanned, options, settings)
    except pdfium.PdfiumError as e:
        raise CorruptFileError("The PDF could not be parsed.") from e
    finally:
        with _PDFIUM_LOCK:
            pdf.close()
    kept = [p for p in pages if p is not None]
    n_chars += n_ocr_chars
    if n_chars < settings.min_chars_per_page * n_pages:
        raise NoTextLayerError(
            f"The PDF has {n_pages} pages but only {n_chars} text characters and no scanned page images.",
            pages=n_pages,
        )
    return Document(blocks=tuple(assemble(kept, settings)), format="pdf", pages=n_pages, warnings=tuple(warnings))


def _ocr_pages(
    pdf: pdfium.PdfDocument,
    pages: list[PageContent | None],
    scanned: list[int],
    options: ReadOptions,
    settings: PdfSettings,
) -> tuple[int, list[str]]:
    """OCR the image-only pages in place (returns the characters read and reader warnings).

    Without the `[ocr]` extra a wholly scanned PDF is refused with the error naming
    the extra; a partly scanned one keeps its text pages and says which were skipped.
    """
    if not scanned:
        return 0, []
    if not ocr.available():
        if len(scanned) == len(pages):
            ocr.require()
        return 0, [f"ocr_unavailable: pages {', '.join(str(i + 1) for i in scanned)} are scanned images "
                f"and were skipped ({ocr.INSTALL_HINT})"]
    if len(scanned) > options.max_ocr_pages:
        raise TooManyPagesError(
            f"The PDF has {len(scanned)} scanned pages to OCR; the limit is {options.max_ocr_pages}.",
            pages=len(scanned),
            max_pages=options.max_ocr_pages,
        )
    ocr_settings = ocr.settings_for(options)
    read_so_far = itertools.count(len(pages) - len(scanned) + 1)

    def one(i: int) -> PageContent:
        with _PDFIUM_LOCK:
            gray = _render(pdf, i, ocr_settings.dpi)
        page = ocr.read_page_image(gray, i + 1, ocr_settings.dpi, settings, ocr_settings)
        if options.on_page is not None:
            options.on_page(next(read_so_far), len(pages))
        return page

    workers = max(1, min(options.ocr_page_workers, len(scanned)))
    if workers == 1:
        done = [one(i) for i in scanned]
    else:  # onnxruntime and OpenCV release the GIL: threads run pages on several cores
        with ThreadPoolExecutor(max_workers=workers) as ex:
            done = list(ex.map(one, scanned))
    n_chars = 0
    for i, page in zip(scanned, done):
        n_chars += sum(len(ln.chars) for ln in page.lines) + sum(len(c.text) for t in page.tables for c in t.cells)
        pages[i] = page
    return n_chars, []


def _render(pdf: pdfium.PdfDocument, index: int, dpi: int) -> object:
    """Page `index` as an 8-bit grey image at `dpi` (numpy array, from the [ocr] extra)."""
    page = pdf[index]
    try:
        bitmap = page.render(scale=dpi / 72.0, grayscale=True)
        try:
            return bitmap.to_numpy().copy()
        finally:
            bitmap.close()
    finally:
        page.close()


def _open(data: bytes, options: ReadOptions) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data, password=options.password)
    except pdfium.PdfiumError as e:
        if getattr(e, "err_code", None) in _ENCRYPTED_CODES:
            raise EncryptedFileError("The PDF is password-protected.") from e
        raise CorruptFileError("The PDF could not be parsed.") from e


def _read_page(pdf: pdfium.PdfDocument, index: int, settings: PdfSettings) -> tuple[PageContent, int, bool]:
    """Characters and rulings of one page (the one pass over pdfium) laid out into lines and tables.

    Also says whether the page shows an image object: a page with no text but an
    image is a scan, one with neither is blank (or broken) and is not OCR'd.
    """
    page = pdf[index]
    try:
        left, bottom, right, top = page.get_cropbox()
        height = top
        textpage = page.get_textpage()
        try:
            chars = _chars(textpage, height)
        finally:
            textpage.close()
        # only a page with (almost) no text can be a scan: the others skip the image search
        has_image = len(chars) < settings.min_chars_per_page and _has_image(page)
        horiz, vert = extract_rules(page, height, settings)
    finally:
        page.close()
    chars = dedupe_overprint(chars, settings)
    tables, rest = find_tables(chars, horiz, vert, index + 1, settings)
    lines = group_lines(rest, settings)
    if settings.unruled_tables:
        unruled, lines = find_unruled_tables(lines, index + 1, settings)
        tables.extend(unruled)
    for ln in lines:  # the page's characters are done with (a text layer has no quality to keep): only text and boxes stay
        ln.chars = []
    return PageContent(number=index + 1, height=height - bottom, lines=lines, tables=tables), len(chars), has_image


_MAX_FORM_DEPTH = 4  # form XObjects nested deeper (or referencing themselves) are not searched
_MAX_OBJECTS = 5000  # page objects looked at per page before giving up the search for an image


def _has_image(page: pdfium.PdfPage) -> bool:
    """Whether the page draws an image, directly or inside form XObjects: a text-less such page is a scan.

    A blank page, or one of vector drawings only, is not: it is never rendered for
    OCR (and a self-referencing form cannot make the search endless).
    """
    raw = page.raw
    stack = [(pdfium_c.FPDFPage_GetObject(raw, i), 0) for i in range(pdfium_c.FPDFPage_CountObjects(raw))]
    seen = 0
    while stack and seen < _MAX_OBJECTS:
        obj, depth = stack.pop()
        seen += 1
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            return True
        if kind == pdfium_c.FPDF_PAGEOBJ_FORM and depth < _MAX_FORM_DEPTH:
            stack.extend((pdfium_c.FPDFFormObj_GetObject(obj, j), depth + 1) for j in range(pdfium_c.FPDFFormObj_CountObjects(obj)))
    return False


def _chars(textpage: pdfium.PdfTextPage, height: float) -> list[Char]:
    """Every visible character with its loose (font-height) box, top-down coordinates.

    The page's text comes in one call; the boxes of its visible characters are
    fetched by a C-level `map` straight into one array of rectangles (no Python
    frame per character), then read back as one list of floats.
    """
    textpage = textpage.raw  # the bare handle: skips a Python-level conversion on every call
    n = pdfium_c.FPDFText_CountChars(textpage)
    if n <= 0:
        return []
    buf = (ctypes.c_ushort * (n + 1))()
    got = pdfium_c.FPDFText_GetText(textpage, 0, n, buf)
    text = bytes(memoryview(buf).cast("B")[: max(got - 1, 0) * 2]).decode("utf-16-le", errors="replace")
    if len(text) != n:  # surrogate pairs or excluded characters: fall back to one call per char
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage, i) or 0xFFFE) for i in range(n))
    index = list(itertools.compress(range(n), map(_SHOWN.__getitem__, text)))  # a C-level pass over the text
    k = len(index)
    if not k:
        return []
    rects = (pdfium_c.FS_RECTF * k)()
    base = ctypes.addressof(rects)
    handle = ctypes.cast(textpage, ctypes.c_void_p).value
    ok = list(map(_LOOSE_BOX, itertools.repeat(handle, k), index, range(base, base + k * _RECT_SIZE, _RECT_SIZE)))
    lrtb = memoryview(rects).cast("B").cast("f").tolist()  # left, top, right, bottom per character
    lefts, tops, rights, bottoms = lrtb[0::4], lrtb[1::4], lrtb[2::4], lrtb[3::4]
    if not all(ok):  # a character whose box pdfium could not give is dropped
        index, lefts, tops, rights, bottoms = (list(itertools.compress(v, ok)) for v in (index, lefts, tops, rights, bottoms))
    out = chars_from_boxes(text, index, lefts, tops, rights, bottoms, height)
    _repair_loose_boxes(textpage, out, index, height)
    return out


class _ShownCache(dict[str, bool]):
    """Whether a character is drawn (not a space, control or placeholder), memoised across pages.

    A report repeats a few thousand distinct characters; deciding each again on
    every page cost more than the lookup.
    """

    def __missing__(self, ch: str) -> bool:
        shown = not (ch.isspace() or ch in _SKIP or not ch.isprintable())
        if len(self) < _SHOWN_CACHE_MAX:
            self[ch] = shown
        return shown


_SHOWN_CACHE_MAX = 1 << 16
_SHOWN = _ShownCache()
_RECT_SIZE = ctypes.sizeof(pdfium_c.FS_RECTF)
# `FPDFText_GetLooseCharBox` typed to take plain integers (handle, index, rectangle address): pypdfium2's
# binding wants a pointer object per call, this prototype lets `map` fill one preallocated array
_LOOSE_BOX = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)(
    ctypes.cast(pdfium_c.FPDFText_GetLooseCharBox, ctypes.c_void_p).value
)


def _repair_loose_boxes(textpage: object, chars: list[Char], index: list[int], height: float) -> None:
    """Some fonts declare an absurd bounding box, so their loose boxes span half the page.

    Such a character gets its tight glyph box instead, stretched to the page's
    typical line height so it still groups into lines like its neighbours.
    """
    if not chars:
        return
    hs = sorted([c.height for c in chars])
    typical = max(hs[len(hs) // 2], 1.0)
    limit = _ABSURD_BOX * typical
    bad = [(c, i) for c, i in zip(chars, index) if not (c.height <= limit and c.x1 - c.x0 <= limit)]
    if not bad:
        return
    l, r, b, t = (ctypes.c_double() for _ in range(4))
    for c, i in bad:
        if not pdfium_c.FPDFText_GetCharBox(textpage, i, l, r, b, t):
            continue
        cy = height - (b.value + t.value) / 2
        size = min(c.height, typical)
        c.set_box(l.value, cy - size / 2, max(r.value, l.value + 0.1), cy + size / 2)
