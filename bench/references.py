"""The two yardsticks the engine is measured against, per format.

- floor: the least work that still touches every character (pypdfium2 text only; an
  lxml parse of the DOCX body XML; an lxml HTML parse; a UTF-8 decode). The engine
  cannot be faster than this, so "engine / floor" says how much our own work costs.
- naive: what a first attempt would do (pdfplumber `extract_text` + `extract_tables` on
  every page; python-docx `Document()` + every `cell.text`). "naive / engine" is the
  speed-up the engine buys.
"""
from __future__ import annotations

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


def docx_floor(data: bytes) -> object:
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return etree.fromstring(zf.read("word/document.xml"))


def html_floor(data: bytes) -> object:
    import lxml.html

    return lxml.html.document_fromstring(data)


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
NAIVE: dict[str, Reference] = {
    "pdf": pdf_naive,
    "docx": docx_naive,
}
