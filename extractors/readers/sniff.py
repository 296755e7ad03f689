"""Decide a file's format from its bytes; names and declared types only break text ties."""
from __future__ import annotations

import io
import re
import zipfile

from ..errors import CorruptFileError, EncryptedFileError
from ..model import Format
from .encoding import decode_text, utf16_without_bom
from .image import is_image

_HTML_MARK = re.compile(rb"<\s*(!doctype\s+html|html|head|body|meta|div|table|p|article|title)[\s>/]", re.IGNORECASE)
_MD_MARK = re.compile(r"^\s*(#{1,6}\s|\|.*\|\s*$|\|?\s*:?-{3,}:?\s*\|)", re.MULTILINE)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")  # password-protected OOXML lives in OLE


_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\ufffd]")  # control characters no text has (TAB, CR, LF, FF, VT allowed)


def _looks_binary(data: bytes) -> bool:
    """True when the head of `data` is not text in any encoding we read."""
    head = data[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return False
    if b"\x00" in head and utf16_without_bom(data) is None:
        return True
    text = decode_text(head, strict=True)
    if text is None:
        return True
    bad = len(_CONTROL.findall(text))
    return bad > max(2, len(text) // 50)


def sniff(data: bytes, filename: str | None = None, content_type: str | None = None) -> Format | None:
    """The reader format for `data`, or None when no reader handles it."""
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if is_image(data):
        return "image"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, ValueError, OSError) as e:
            raise CorruptFileError("The file is a damaged ZIP container (DOCX?).") from e
        return "docx" if "word/document.xml" in names else None
    if data.startswith(_OLE_MAGIC):
        if _OLE_ENCRYPTION_STREAM in data:
            raise EncryptedFileError("The file is a password-protected Office document.")
        return None  # legacy .doc/.xls: not read yet
    if _looks_binary(data):
        return None
    name = (filename or "").lower()
    ctype = (content_type or "").lower()
    if _HTML_MARK.search(data[:65536]) and not name.endswith((".txt", ".md")):
        return "html"
    if name.endswith((".md", ".markdown")) or "markdown" in ctype:
        return "md"
    text = decode_text(data[:65536]) or ""
    if len(_MD_MARK.findall(text)) >= 3 and "\t" not in text[:4000]:
        return "md"
    return "txt"
