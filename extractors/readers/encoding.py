"""Turn text bytes into str: BOMs first, then UTF-8, then the Chinese legacy encodings."""
from __future__ import annotations

import codecs

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(data: bytes, declared: str | None = None, strict: bool = False) -> str | None:
    """Decode `data`; with strict=True return None when no candidate decodes cleanly.

    The order matters: a declared charset (HTML meta) wins, UTF-8 is tried before
    GB18030 because GB18030 accepts almost any byte string.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data.decode(enc, errors="replace")
    guessed = utf16_without_bom(data)
    candidates = [c for c in (guessed, declared, "utf-8", "gb18030") if c]
    for enc in candidates:
        try:
            name = _alias(enc)
            if not getattr(codecs.lookup(name), "_is_text_encoding", True):
                continue  # a page may name a bytes-to-bytes codec (zlib, bz2, base64, rot13): never run it
            # final=False: a multi-byte sequence cut at the very end (a sniffed head) is not a wrong guess
            return codecs.getincrementaldecoder(name)().decode(data, final=False)
        except (UnicodeError, LookupError):  # UnicodeError: also "utf-16 without BOM", "undefined"
            continue
    if strict:
        return None
    return data.decode("gb18030", errors="replace")


def utf16_without_bom(data: bytes) -> str | None:
    """"utf-16-le"/"utf-16-be" for UTF-16 text written without a BOM, else None.

    Only bytes with zeros in them are candidates (the digits, spaces and line breaks of
    a report have a zero byte in UTF-16; UTF-8 and GB18030 text has none). The byte
    order is the one under which the text reads as Chinese and ASCII: the wrong order
    turns it into scattered Hangul, Yi and private-use characters.
    """
    sample = data[: min(len(data), 8192) // 2 * 2]
    n = len(sample) // 2
    if n < 8 or sample.count(0) < max(4, n // 100):
        return None
    for enc in ("utf-16-le", "utf-16-be"):
        try:
            text = codecs.getincrementaldecoder(enc)().decode(sample, final=False)
        except UnicodeError:
            continue
        plausible = sum(1 for ch in text if _plausible(ord(ch)))
        if plausible >= 0.97 * len(text):
            return enc
    return None


def _plausible(cp: int) -> bool:
    """ASCII text, CJK ideographs, CJK and full-width punctuation: what a report is made of."""
    return (
        32 <= cp < 127
        or cp in (9, 10, 13)
        or 0x4E00 <= cp <= 0x9FFF
        or 0x3000 <= cp <= 0x303F
        or 0xFF00 <= cp <= 0xFFEF
        or 0x2000 <= cp <= 0x206F
        or 0x3400 <= cp <= 0x4DBF
        or 0x2460 <= cp <= 0x24FF
    )


def _alias(enc: str) -> str:
    """GB2312 and GBK pages are decoded as GB18030, their superset."""
    e = enc.strip().lower()
    return "gb18030" if e in {"gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936"} else e
