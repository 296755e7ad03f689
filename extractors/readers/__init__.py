"""Readers: bytes of one format in, one `Document` out.

Every reader exposes the same signature, `read(data: bytes, options: ReadOptions)
-> Document`, and is listed once in `READERS`. `sniff()` decides the format
from the bytes (the file name and declared content type only break ties between
text formats), so a PDF named `.docx` is still read as a PDF.
"""
from __future__ import annotations

from collections.abc import Callable

from ..errors import EmptyFileError, ResourceLimitError, UnsupportedFormatError
from ..model import Document, Format, Table
from . import doc, docx, html, image, markdown, mht, odt, ofd, pdf, rtf, spreadsheet, text
from .options import ReadOptions
from .sniff import sniff

Reader = Callable[[bytes, ReadOptions], Document]

READERS: dict[Format, Reader] = {
    "pdf": pdf.read,
    "docx": docx.read,
    "html": html.read,
    "txt": text.read,
    "md": markdown.read,
    "doc": doc.read,  # also Kingsoft .wps
    "xlsx": spreadsheet.read,  # one reader for every workbook container; it reports which one
    "xls": spreadsheet.read,  # also Kingsoft .et
    "ods": spreadsheet.read,
    "odt": odt.read,
    "rtf": rtf.read,
    "mht": mht.read,  # .mht/.mhtml saved web pages
    "ofd": ofd.read,
    "image": image.read,  # JPEG/PNG/TIFF/BMP/WEBP through OCR (the [ocr] extra)
}


def read(
    data: bytes,
    filename: str | None = None,
    content_type: str | None = None,
    options: ReadOptions | None = None,
) -> Document:
    """Sniff the format of `data` and run its reader."""
    if not data:
        raise EmptyFileError("The file has no bytes.")
    fmt = sniff(data, filename, content_type)
    if fmt is None:
        raise UnsupportedFormatError(
            "The bytes are not a format the service reads (see GET /v1/formats).",
            hint="Save the report as .docx or as a PDF with a text layer.",
            filename_extension=(filename or "").rsplit(".", 1)[-1][:10] if filename and "." in filename else None,
        )
    opts = options or ReadOptions()
    return check_size(READERS[fmt](data, opts), opts)


def check_size(doc: Document, options: ReadOptions) -> Document:
    """Refuse a document whose size would make the later stages cost far more than a report's."""
    lines = cells = chars = 0
    for b in doc.blocks:
        if isinstance(b, Table):
            rows = b.rows
            lines += len(rows)
            for r in rows:
                cells += len(r)
                for c in r:  # a plain loop: a generator per row cost three times as much
                    chars += len(c.text)
        else:
            lines += 1
            chars += len(b.text)
    if lines > options.max_document_lines:
        raise ResourceLimitError(
            f"The document has {lines} lines (limit max_document_lines={options.max_document_lines}).",
            limit="max_document_lines", lines=lines,
        )
    if cells > options.max_document_cells:
        raise ResourceLimitError(
            f"The document has {cells} table cells (limit max_document_cells={options.max_document_cells}).",
            limit="max_document_cells", cells=cells,
        )
    if chars > options.max_document_chars:
        raise ResourceLimitError(
            f"The document has {chars} characters of text (limit max_document_chars={options.max_document_chars}).",
            limit="max_document_chars", chars=chars,
        )
    return doc


__all__ = ["READERS", "ReadOptions", "Reader", "check_size", "read", "sniff"]
