"""Builders of hostile and broken inputs, each the smallest real file of its kind.

They are made at test time (never committed as blobs) from the corpus or from
scratch: truncations and corruptions of real reports, zip bombs, XML entity
attacks, pathological PDFs, an encrypted PDF (pikepdf), a password-protected
DOCX (a hand-written OLE2/CFB container holding an `EncryptionInfo` stream),
re-encodings of a real text report.
"""
from __future__ import annotations

import io
import random
import struct
import zipfile
from pathlib import Path

import pikepdf

from tests.pdfbytes import raw_pdf

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MiB = 1024 * 1024

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)


# ---- DOCX -----------------------------------------------------------------------------------


def docx_package(document_xml: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal but complete DOCX around `document_xml`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("word/document.xml", document_xml)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


def docx_body(paragraphs: list[str], prolog: str = "") -> bytes:
    """A WordprocessingML document part with one run per paragraph (and an optional DTD prolog)."""
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}'
        f'<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>'
    ).encode()


def docx_billion_laughs() -> bytes:
    """The classic exponential entity expansion (10 levels × 10 = 10^9 'lol's) in the main part."""
    ents = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    prolog = "<!DOCTYPE w:document [" + "".join(ents) + "]>"
    return docx_package(docx_body(["&lol9;"], prolog))


def docx_external_entity(secret_path: Path) -> bytes:
    """A DOCX whose body text is an external entity naming a local file."""
    prolog = f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{secret_path.as_uri()}">]>'
    return docx_package(docx_body(["政府信息公开工作年度报告 &xxe; 结束"], prolog))


def docx_huge_part(expanded_bytes: int = 300 * MiB) -> bytes:
    """A DOCX whose document part inflates to `expanded_bytes` (zeros compress ~1000x), streamed."""
    head = docx_body([])[: -len(b"</w:body></w:document>")]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        with z.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(head)
            block = b" " * MiB
            for _ in range(expanded_bytes // MiB):
                fh.write(block)
            fh.write(b"</w:body></w:document>")
    return buf.getvalue()


def docx_many_entries(entries: int = 5000) -> bytes:
    """A DOCX with thousands of tiny parts (an index bomb)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("word/document.xml", docx_body(["正文"]))
        for i in range(entries):
            z.writestr(f"word/media/x{i}.bin", b"")
    return buf.getvalue()


def _with_document_part(real: bytes, change) -> bytes:
    """A real DOCX re-zipped with `change` applied to word/document.xml."""
    src = zipfile.ZipFile(io.BytesIO(real))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info)
            z.writestr(info.filename, change(data) if info.filename == "word/document.xml" else data)
    return buf.getvalue()


def docx_lying_sizes(real: bytes) -> bytes:
    """A real DOCX whose central directory under-declares the document part's size (a bomb that lies)."""
    out = bytearray(_with_document_part(real, lambda d: d.replace(b"</w:body>", b" " * (80 * MiB) + b"</w:body>")))
    # Patch the declared uncompressed size of word/document.xml in the central directory to 1 KiB.
    pos = out.find(b"PK\x01\x02")
    while pos >= 0:
        name_len, = struct.unpack_from("<H", out, pos + 28)
        name = bytes(out[pos + 46 : pos + 46 + name_len])
        if name == b"word/document.xml":
            struct.pack_into("<I", out, pos + 24, 1024)
        pos = out.find(b"PK\x01\x02", pos + 4)
    return bytes(out)


def docx_malformed_xml(real: bytes) -> bytes:
    """A real DOCX whose document part is cut in the middle (not well-formed XML)."""
    return _with_document_part(real, lambda d: d[: len(d) // 2])


# ---- OLE2 / CFB ----------------------------------------------------------------------------------

_FREESECT, _ENDOFCHAIN, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _dir_entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
    raw = name.encode("utf-16-le") + b"\0\0"
    entry = raw.ljust(64, b"\0")
    entry += struct.pack("<HBB", len(raw), kind, 1)  # name length, type, colour (black)
    entry += struct.pack("<III", _NOSTREAM, _NOSTREAM, child)  # left, right, child
    entry += b"\0" * 16 + b"\0" * 4 + b"\0" * 16  # CLSID, state bits, times
    entry += struct.pack("<IQ", start, size)
    return entry


def encrypted_docx_ole() -> bytes:
    """A minimal version-3 CFB holding `EncryptionInfo` and `EncryptedPackage` streams.

    That is what Word writes for a password-protected .docx (MS-OFFCRYPTO): the
    ZIP package is encrypted inside an OLE2 compound file. Streams are 4 KiB so
    they live in regular 512-byte sectors (no mini stream is needed).
    """
    sector = 512
    info = struct.pack("<HHI", 4, 4, 0x40) + b"<encryption/>".ljust(4096 - 8, b"\0")  # agile header + XML
    package = struct.pack("<Q", 12345) + random.Random(3).randbytes(4096 - 8)
    n_info, n_pkg = len(info) // sector, len(package) // sector
    # sectors: 0 = FAT, 1 = directory, then the two streams
    dir_sector, info_start = 1, 2
    pkg_start = info_start + n_info
    fat = [_FATSECT, _ENDOFCHAIN]
    fat += [info_start + i + 1 for i in range(n_info - 1)] + [_ENDOFCHAIN]
    fat += [pkg_start + i + 1 for i in range(n_pkg - 1)] + [_ENDOFCHAIN]
    fat += [_FREESECT] * (sector // 4 - len(fat))
    root = _dir_entry("Root Entry", 5, 1, _ENDOFCHAIN, 0)
    e_info = _dir_entry("EncryptionInfo", 2, _NOSTREAM, info_start, len(info))
    e_pkg = _dir_entry("EncryptedPackage", 2, _NOSTREAM, pkg_start, len(package))
    # red-black tree of the root's children: EncryptionInfo with EncryptedPackage as its right sibling
    e_info = e_info[:68] + struct.pack("<II", _NOSTREAM, 2) + e_info[76:]
    empty = b"\0" * 64 + struct.pack("<HBB", 0, 0, 0) + struct.pack("<III", _NOSTREAM, _NOSTREAM, _NOSTREAM)
    empty = empty.ljust(128, b"\0")
    directory = root + e_info + e_pkg + empty
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)  # minor, major v3, byte order, sector/mini shifts
    header += b"\0" * 6 + struct.pack("<II", 0, 1)  # reserved, dir sectors (0 for v3), FAT sectors
    header += struct.pack("<III", dir_sector, 0, 4096)  # first dir sector, transaction, mini cutoff
    header += struct.pack("<IIII", _ENDOFCHAIN, 0, _ENDOFCHAIN, 0)  # mini FAT, DIFAT
    header += struct.pack("<I", 0) + struct.pack("<I", _FREESECT) * 108  # DIFAT[0] = sector 0
    assert len(header) == sector
    body = struct.pack(f"<{len(fat)}I", *fat) + directory.ljust(sector, b"\0") + info + package
    return header + body


# ---- PDF ------------------------------------------------------------------------------------------


def pdf_cyclic_pages() -> bytes:
    """A page tree whose /Kids contains its own /Pages node (and a page that is its own parent)."""
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [2 0 R 3 0 R 2 0 R] /Count 3 >>",
            b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] /Resources 4 0 R >>",
            b"<< /Self 4 0 R /Font << /F1 4 0 R >> >>",
        ]
    )


def pdf_deep_nesting(depth: int = 50_000) -> bytes:
    """A page whose resources hold an array nested `depth` levels deep."""
    deep = b"[" * depth + b"]" * depth
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Deep " + deep + b" >> >>",
        ]
    )


def pdf_self_referencing_streams() -> bytes:
    """Content stream whose /Length is an indirect reference to itself; a resource form XObject that draws itself."""
    content = b"q /X1 Do Q BT /F1 12 Tf 72 720 Td (loop) Tj ET"
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
             b"/Resources << /XObject << /X1 5 0 R >> >> >>"),
            b"<< /Length 4 0 R >>\nstream\n" + content + b"\nendstream",
            (b"<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /XObject << /X1 5 0 R >> >> "
             b"/Length 8 >>\nstream\n/X1 Do  \nendstream"),
        ]
    )


def pdf_many_pages(pages: int) -> bytes:
    """A PDF of `pages` pages that share one small text content stream (pikepdf)."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    )
    content = pdf.make_stream(b"BT /F1 12 Tf 72 720 Td (Annual report page with a text layer) Tj ET")
    resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    for _ in range(pages):
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, 595, 842], Contents=content, Resources=resources
        )
        pdf.pages.append(pikepdf.Page(page))
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def pdf_encrypted(real: bytes, user: str = "user-secret", owner: str = "owner-secret") -> bytes:
    """A real report re-saved with AES-256 encryption (pikepdf); empty `user` = owner-password only."""
    buf = io.BytesIO()
    with pikepdf.open(io.BytesIO(real)) as pdf:
        pdf.save(buf, encryption=pikepdf.Encryption(user=user, owner=owner, R=6))
    return buf.getvalue()


def pdf_corrupt_streams(real: bytes, seed: int = 5) -> bytes:
    """A real report whose every content stream has bytes overwritten (structure intact, drawing garbage)."""
    out = bytearray(real)
    rng = random.Random(seed)
    pos = out.find(b"stream\n")
    while pos >= 0:
        end = out.find(b"endstream", pos)
        if end < 0:
            break
        for _ in range(max(1, (end - pos) // 50)):
            i = rng.randrange(pos + 7, max(pos + 8, end))
            out[i] = rng.randrange(256)
        pos = out.find(b"stream\n", end)
    return bytes(out)


# ---- HTML -------------------------------------------------------------------------------------------


def html_billion_laughs() -> bytes:
    ents = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return (
        "<!DOCTYPE html [" + "".join(ents) + "]><html><head><meta charset='utf-8'><title>报告</title></head>"
        "<body><p>政府信息公开工作年度报告</p><p>一、总体情况</p><p>&lol9;</p></body></html>"
    ).encode()


def html_external_entity(secret_path: Path) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY xxe SYSTEM "{secret_path.as_uri()}">]>'
        "<html><head><meta charset='utf-8'><title>报告</title></head>"
        f'<body><p>政府信息公开工作年度报告</p><p>一、总体情况</p><p>&xxe;</p><iframe src="{secret_path.as_uri()}"></iframe>'
        f'<object data="{secret_path.as_uri()}"></object></body></html>'
    ).encode()


def html_deep_nesting(depth: int = 100_000) -> bytes:
    return b"<html><body>" + b"<div>" * depth + "正文".encode() + b"</div>" * depth + b"</body></html>"


def html_binary_garbage(seed: int = 11) -> bytes:
    """An HTML head followed by bytes that are no text in any encoding."""
    rng = random.Random(seed)
    junk = bytes(b for b in rng.randbytes(60_000) if b not in (0, 60, 62))  # no NULs, no tags
    return b"<html><head><title>x</title></head><body>" + junk + b"</body></html>"


# ---- generic ----------------------------------------------------------------------------------------


def truncated(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


def write_big_text(path: Path, size: int) -> None:
    """A text file of `size` bytes written in 1 MiB chunks (never held in memory whole)."""
    line = ("政府信息公开工作年度报告，主动公开政府信息。\n".encode()) * 1000
    chunk = (line * (MiB // len(line) + 1))[:MiB]
    with path.open("wb") as fh:
        left = size
        while left > 0:
            fh.write(chunk[: min(left, MiB)])
            left -= MiB
