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
            # final=False: a multi-byte sequence cut at the very end (a sniffed head) is not a wrong guess
            return codecs.getincrementaldecoder(_alias(enc))().decode(data, final=False)
        except (UnicodeDecodeError, LookupError):
            continue
    if strict:
        return None
    return data.decode("gb18030", errors="replace")


def _alias(enc: str) -> str:
    """GB2312 and GBK pages are decoded as GB18030, their superset."""
    e = enc.strip().lower()
    return "gb18030" if e in {"gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936"} else e
