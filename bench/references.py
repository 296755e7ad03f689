"""The yardsticks the engine is measured against, per format.

- floor: the least work that reads every character as text (pypdfium2 text only; an lxml parse of the
  DOCX body XML plus its text; an lxml.html parse plus its text; a UTF-8 decode). "engine ÷ floor" says
  how much our own work costs on top of the parser.
- char-box floor (PDF): pypdfium2 text plus every character's box, one pdfium call per character. The
  engine needs the boxes to rebuild table cells, so this is the PDF target's yardstick.
- naive: what a first attempt would do (pdfplumber `extract_text` + `extract_tables` on every page;
  python-docx `Document()` + every `cell.text`). "naive ÷ engine" is the speed-up the engine buys. Both
  come from the `[bench]` extra: the service does not depend on them.
"""
from __future__ import annotations

import ctypes
import io
import zipfile
from collections.abc import Callable

Reference = Callable[[bytes], object]


def pdf_floor(data: bytes) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    chars = 0
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            text_page = page.get_textpage()
            chars += len(text_page.get_text_range())
            text_page.close()
            page.close()
    finally:
        pdf.close()
    return chars


def pdf_charbox_floor(data: bytes) -> int:
    """Text plus the loose box of every character (what cell assignment needs), via pdfium's C API."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    pdf = pdfium.PdfDocument(data)
    rect = pdfium_c.FS_RECTF()
    ref = ctypes.byref(rect)
    chars = 0
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            text_page = page.get_textpage()
            chars += len(text_page.get_text_range())
            raw = text_page.raw
            for c in range(pdfium_c.FPDFText_CountChars(raw)):
                pdfium_c.FPDFText_GetLooseCharBox(raw, c, ref)
            text_page.close()
            page.close()
    finally:
        pdf.close()
    return chars


def docx_floor(data: bytes) -> int:
    """Unzip, parse word/document.xml, and join its text."""
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        root = etree.fromstring(zf.read("word/document.xml"))
    return len("".join(root.itertext()))


def html_floor(data: bytes) -> int:
    """Parse the page and take its text."""
    import lxml.html

    return len(lxml.html.document_fromstring(data).text_content())


def text_floor(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def pdf_naive(data: bytes) -> int:
    import pdfplumber

    chars = 0
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            chars += len(page.extract_text() or "")
            chars += len(page.extract_tables())
            page.close()  # drop the page's cached layout objects as a careful naive user would
    return chars


def docx_naive(data: bytes) -> int:
    import docx

    document = docx.Document(io.BytesIO(data))
    return sum(len(cell.text) for table in document.tables for row in table.rows for cell in row.cells)


FLOORS: dict[str, Reference] = {
    "pdf": pdf_floor,
    "docx": docx_floor,
    "html": html_floor,
    "txt": text_floor,
    "md": text_floor,
}
CHARBOX_FLOORS: dict[str, Reference] = {
    "pdf": pdf_charbox_floor,
}
NAIVE: dict[str, Reference] = {
    "pdf": pdf_naive,
    "docx": docx_naive,
}
