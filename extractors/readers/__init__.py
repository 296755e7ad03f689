"""Readers: bytes of one format in, one `Document` out.

Every reader exposes the same signature, `read(data: bytes, options: ReadOptions)
-> Document`, and is listed once in `READERS`. `sniff()` decides the format
from the bytes (the file name and declared content type only break ties between
text formats), so a PDF named `.docx` is still read as a PDF.
"""
from __future__ import annotations

from collections.abc import Callable

from ..errors import EmptyFileError, UnsupportedFormatError
from ..model import Document, Format
from . import docx, html, image, markdown, pdf, text
from .options import ReadOptions
from .sniff import sniff

Reader = Callable[[bytes, ReadOptions], Document]

READERS: dict[Format, Reader] = {
    "pdf": pdf.read,
    "docx": docx.read,
    "html": html.read,
    "txt": text.read,
    "md": markdown.read,
    "image": image.read,
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
            "The bytes are not a PDF, DOCX, HTML, image or text document.",
            filename_extension=(filename or "").rsplit(".", 1)[-1][:10] if filename and "." in filename else None,
        )
    return READERS[fmt](data, options or ReadOptions())


__all__ = ["READERS", "ReadOptions", "Reader", "read", "sniff"]
