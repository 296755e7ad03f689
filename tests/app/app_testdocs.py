"""Synthetic files for the error classes the corpus has no example of.

Each builder makes the smallest real file of its kind: a PDF whose pages carry
no text, a PDF with more pages than a limit, a PDF locked with a user password
(standard security handler, RC4 40-bit, written per ISO 32000-1 §7.6.3), a DOCX
whose body is a compression bomb.
"""
from __future__ import annotations

import hashlib
import io
import zipfile

from tests.pdfbytes import raw_pdf

_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def blank_pdf(pages: int = 1) -> bytes:
    """A valid PDF of `pages` empty pages: no text layer at all."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages)]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages
    return raw_pdf(objects)


def encrypted_pdf(user_password: bytes = b"secret", owner_password: bytes = b"owner") -> bytes:
    """A one-page PDF that opens only with `user_password`."""
    doc_id = hashlib.md5(b"govreport-extract test").digest()
    permissions = -4
    owner_key = hashlib.md5((owner_password + _PAD)[:32]).digest()[:5]
    o_value = _rc4(owner_key, (user_password + _PAD)[:32])
    key = hashlib.md5((user_password + _PAD)[:32] + o_value + permissions.to_bytes(4, "little", signed=True) + doc_id).digest()[:5]
    u_value = _rc4(key, _PAD)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>"
        % (o_value.hex().encode(), u_value.hex().encode(), permissions),
    ]
    ident = doc_id.hex().encode()
    return raw_pdf(objects, trailer_extra=b"/Encrypt 4 0 R /ID [<%s> <%s>] " % (ident, ident))


def docx_bomb(expanded_bytes: int = 20 * 1024 * 1024) -> bytes:
    """A DOCX whose document part inflates ~1000x: refused from the ZIP directory, never decompressed."""
    body = b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    body += b" " * expanded_bytes + b"</w:body></w:document>"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        z.writestr("word/document.xml", body)
    return buf.getvalue()
