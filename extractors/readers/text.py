"""Plain text reader (placeholder)."""
from __future__ import annotations

from ..model import Document, Paragraph, Source
from .encoding import decode_text
from .options import ReadOptions


def read(data: bytes, options: ReadOptions) -> Document:
    text = decode_text(data) or ""
    return Document(blocks=tuple(Paragraph(t, Source(line=i)) for i, t in enumerate(text.splitlines())), format="txt")


def read_markdown(data: bytes, options: ReadOptions) -> Document:
    return read(data, options)
