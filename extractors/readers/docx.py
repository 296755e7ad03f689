"""docx reader (placeholder until implemented)."""
from __future__ import annotations

from ..errors import UnsupportedFormatError
from ..model import Document
from .options import ReadOptions


def read(data: bytes, options: ReadOptions) -> Document:
    raise UnsupportedFormatError("docx reading is not implemented yet.")
