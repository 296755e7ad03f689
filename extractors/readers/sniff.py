"""Decide a file's format from its bytes; names and declared types only break text ties."""
from __future__ import annotations

import io
import re
import zipfile

import olefile

from ..errors import CorruptFileError, EncryptedFileError
from ..model import Format
from .docx import ZIP_ERRORS
from .encoding import decode_text, utf16_without_bom
from .image import is_image

_HTML_MARK = re.compile(rb"<\s*(!doctype\s+html|html|head|body|meta|div|table|p|article|title)[\s>/]", re.IGNORECASE)
# Only spaces and tabs inside a line: `\s*` after `^` would run over every following blank line and back
# at each line start (a file of 20,000 empty lines took minutes).
_MD_MARK = re.compile(r"^[ \t]*(#{1,6}(?:[ \t]|\r?$)|\|.*\|[ \t\r]*$|\|?[ \t]*:?-{3,}:?[ \t]*\|)", re.MULTILINE)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")  # password-protected OOXML lives in OLE
# formats: top-level OLE2 stream names that decide the reader, first match wins
_OLE_STREAMS: tuple[tuple[str, Format], ...] = (
    ("worddocument", "doc"),  # Word 97–2003 and Kingsoft .wps
    ("workbook", "xls"),  # BIFF8 .xls and Kingsoft .et
    ("book", "xls"),  # BIFF5
    ("contents", "doc"),  # Microsoft Works .wps: the doc reader refuses it with its own problem
)
_MIME_HEAD = re.compile(rb"^(?:[\w-]+:[^\n]*\r?\n(?:[ \t][^\n]*\r?\n)*)*?content-type:\s*multipart/", re.IGNORECASE)


# What may stand before the first tag of an HTML page: whitespace, BOM, XML declaration, comments,
# and whole script/style elements (a page may open with a 70 KB inline script).
_HTML_LEAD = re.compile(
    rb"(?:\s+|\xef\xbb\xbf|<\?xml[^>]*>|<!--.*?-->|<(script|style|noscript)\b[^>]*>.*?</\1\s*>)",
    re.IGNORECASE | re.DOTALL,
)
_HTML_LEAD_MAX = 4 * 1024 * 1024  # how far a leading script/comment run is followed
_REL_MAIN = re.compile(rb"""Type\s*=\s*["'][^"']*/officeDocument["']""")
_PDF_TAIL = (b"startxref", b"%%EOF")


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


def _is_pdf(data: bytes) -> bool:
    """A PDF header first (after whitespace), or within the first KiB with a PDF trailer at the end.

    Readers tolerate junk before `%PDF-` (as Acrobat does), but text or HTML that merely mentions
    `%PDF-` near its top has no `startxref`/`%%EOF` trailer, so it is not taken for a PDF.
    """
    if data.lstrip(b"\xef\xbb\xbf \t\r\n\x00").startswith(b"%PDF-"):
        return True
    pos = data.find(b"%PDF-", 0, 1024)
    return pos >= 0 and any(mark in data[-4096:] for mark in _PDF_TAIL)


def _is_docx(z: zipfile.ZipFile, names: set[str]) -> bool:
    """A WordprocessingML package: the usual main part, any `word/` member, or a main part named by _rels/.rels."""
    if "word/document.xml" in names or any(n.startswith("word/") for n in names):
        return True
    if "_rels/.rels" not in names:
        return False
    try:
        with z.open("_rels/.rels") as fh:
            rels = fh.read(1 << 20)
    except (zipfile.BadZipFile, ValueError, OSError, RuntimeError, NotImplementedError, EOFError):
        return False
    return bool(_REL_MAIN.search(rels)) and b"wordprocessingml" in _content_types(z, names)


def _content_types(z: zipfile.ZipFile, names: set[str]) -> bytes:
    if "[Content_Types].xml" not in names:
        return b""
    try:
        with z.open("[Content_Types].xml") as fh:
            return fh.read(1 << 20)
    except (zipfile.BadZipFile, ValueError, OSError, RuntimeError, NotImplementedError, EOFError):
        return b""


def _html_start(data: bytes) -> int:
    """Offset of the first byte after any leading whitespace, comments and script/style elements."""
    pos, limit = 0, min(len(data), _HTML_LEAD_MAX)
    while pos < limit:
        m = _HTML_LEAD.match(data, pos, limit)
        if not m or m.end() == pos:
            break
        pos = m.end()
    return pos


def _ole_format(data: bytes) -> Format | None:
    """The reader of an OLE2 (Office 97–2003) container from its stream names."""
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            names = {e[0].lower() for e in ole.listdir(streams=True, storages=False) if len(e) == 1}
    except Exception as e:  # olefile raises OSError, struct.error, IndexError... on damaged containers
        # a valid OLE2 header (byte order mark, 512/4096-byte sectors) over damaged sectors is a damaged
        # Office file; magic bytes over anything else are not a container we can name: unsupported
        if data[28:30] == b"\xfe\xff" and data[30:32] in (b"\x09\x00", b"\x0c\x00"):
            raise CorruptFileError("The file is a damaged OLE2 (Office 97–2003) container.") from e
        return None
    for stream, fmt in _OLE_STREAMS:
        if stream in names:
            return fmt
    return None


def _zip_format(z: zipfile.ZipFile, names: set[str]) -> Format | None:
    """The reader of a ZIP container from its member names (and the ODF `mimetype` member)."""
    if _is_docx(z, names):  # word/ members (or a WordprocessingML main part) decide, whatever else is stored
        return "docx"
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        return "xlsx"
    if "OFD.xml" in names or "ofd.xml" in names:
        return "ofd"
    if "mimetype" in names:
        try:
            with z.open("mimetype") as fh:  # its head only: a member's size is the sender's to choose
                mime = fh.read(100)
        except (*ZIP_ERRORS, RuntimeError):  # RuntimeError: an encrypted member
            return None
        if b"opendocument.text" in mime:
            return "odt"
        if b"opendocument.spreadsheet" in mime:
            return "ods"
    return None


def sniff(data: bytes, filename: str | None = None, content_type: str | None = None) -> Format | None:
    """The reader format for `data`, or None when no reader handles it."""
    is_zip = data.startswith((b"PK\x03\x04", b"PK\x05\x06"))
    if not is_zip and _is_pdf(data):  # a ZIP's first member may itself be a PDF: the container decides
        return "pdf"
    if is_image(data):
        return "image"
    if is_zip:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                return _zip_format(z, set(z.namelist()))
        except (zipfile.BadZipFile, ValueError, OSError) as e:
            raise CorruptFileError("The file is a damaged ZIP container (DOCX?).") from e
    if data.startswith(_OLE_MAGIC):
        if _OLE_ENCRYPTION_STREAM in data:
            raise EncryptedFileError("The file is a password-protected Office document.")
        return _ole_format(data)
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:5] == b"{\\rtf":
        return "rtf"
    if _MIME_HEAD.match(data[:8192].lstrip()):
        return "mht"
    if _looks_binary(data):
        return None
    name = (filename or "").lower()
    ctype = (content_type or "").lower()
    start = _html_start(data)
    if _HTML_MARK.search(data, start, start + 65536) and not name.endswith((".txt", ".md")):
        return "html"
    if name.endswith((".md", ".markdown")) or "markdown" in ctype:
        return "md"
    text = decode_text(data[:65536]) or ""
    if len(_MD_MARK.findall(text)) >= 3 and "\t" not in text[:4000]:
        return "md"
    return "txt"
