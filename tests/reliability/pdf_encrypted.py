"""Encrypted PDF bombs (issue #16): the budget's bombs re-built as files that open without a password.

An owner password only (empty user password) is how "protected" reports are
published: pdfium opens them and decodes their streams, so a bomb inside one is
as dangerous as in the clear, but its bytes are ciphertext to a scanner that
has no key. Built with `tests.pdfbytes.encrypted_pdf` (RC4 R3, AESV2 R4, AESV3 R6; R2 40-bit RC4 in the reader tests).
"""
from __future__ import annotations

import scaling_inputs as S

from tests.pdfbytes import encrypted_pdf, raw_pdf_objects

METHODS = ("rc4", "aes128", "aes256")
ALL_METHODS = ("rc4-40", *METHODS)  # R2 too (40-bit RC4: old writers)


def flate_bomb(method: str, inflated: int = 1 << 30) -> bytes:
    """One page whose enciphered Flate content stream inflates to `inflated` bytes (~1 MB file for 1 GiB)."""
    return encrypted_pdf(raw_pdf_objects(S.pdf_flate_bomb(inflated)), method)


def tounicode_fonts_bomb(method: str, fonts: int = 250) -> bytes:
    """The 250-fonts-one-CMap file with its streams (the CMap, the page) enciphered."""
    return encrypted_pdf(raw_pdf_objects(S.pdf_tounicode_fonts(fonts)), method)


# (id, builder, the cap the budget names)
CASES = [
    *((f"pdf-{m}-flate-bomb-1GiB", lambda m=m: flate_bomb(m), "max_stream_bytes") for m in METHODS),
    *((f"pdf-{m}-tounicode-250-fonts", lambda m=m: tounicode_fonts_bomb(m), "max_total_tounicode_codes") for m in METHODS),
]
