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
    candidates = [c for c in (declared, "utf-8", "gb18030") if c]
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


def _alias(enc: str) -> str:
    """GB2312 and GBK pages are decoded as GB18030, their superset."""
    e = enc.strip().lower()
    return "gb18030" if e in {"gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936"} else e
