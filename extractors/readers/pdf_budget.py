"""What a PDF will cost pdfium, measured on the raw bytes before pdfium sees them.

Why: pdfium inflates a page's content streams and a font's ToUnicode map whole,
in native code, where an allocation failure under the worker's memory limit is
an abort (a crashed worker), not an exception. So every stream that is not an
image is decoded here first (Flate, LZW, RunLength, ASCIIHex, ASCII85 and chains
of them), in bounded chunks, and counted; ToUnicode maps are costed the way
pdfium builds them (a `bfrange` covers at most 256 codes, each code costs its
destination's length) and multiplied by the number of fonts that name the map,
because pdfium builds one map per font. Past a cap the file is refused with
`ResourceLimitError` naming it. Images are skipped: the text reader never decodes them.

The scan is linear in the file plus the decoded bytes it counts (which the caps
bound); it needs no PDF parser, because streams cannot be nested in object
streams, so every stream is visible in the raw bytes. Streams of an encrypted
file cannot be decoded here; they are left to pdfium (see docs/limits.md).
"""
from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import ResourceLimitError


@dataclass(frozen=True, slots=True)
class PdfBudget:
    """Caps of the pre-check (frozen settings of this stage)."""

    max_stream_bytes: int = 64 * 1024 * 1024  # one decoded non-image stream (a page's content)
    max_total_stream_bytes: int = 256 * 1024 * 1024  # all decoded non-image streams together
    max_tounicode_codes: int = 1 << 17  # code units one ToUnicode CMap maps (codes × destination length)
    max_total_tounicode_codes: int = 1 << 21  # over every font of the file (a map named by k fonts counts k times)
    dict_lookback: int = 4096  # how far before `stream` its dictionary is looked for
    chunk: int = 1 << 20


BUDGET = PdfBudget()

_STREAM = re.compile(rb"stream(?:\r\n|\n|\r)")
_IMAGE = re.compile(rb"/Subtype\s*/Image")
_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[A-Za-z0-9]+)")
_NAME = re.compile(rb"/([A-Za-z0-9]+)")
_OBJ = re.compile(rb"(\d+)\s+\d+\s+obj\b")
_TOUNICODE_REF = re.compile(rb"/ToUnicode\s*(\d+)\s+\d+\s+R")
_BFRANGE = re.compile(rb"beginbfrange(.*?)(?:endbfrange|\Z)", re.DOTALL)
_TOKEN = re.compile(rb"<([0-9A-Fa-f\s]*)>|\[|\]")
_FLATE, _LZW, _RL, _AHX, _A85 = "flate", "lzw", "rl", "ahx", "a85"
_FILTERS = {
    b"FlateDecode": _FLATE, b"Fl": _FLATE, b"LZWDecode": _LZW, b"LZW": _LZW, b"RunLengthDecode": _RL, b"RL": _RL,
    b"ASCIIHexDecode": _AHX, b"AHx": _AHX, b"ASCII85Decode": _A85, b"A85": _A85,
}
_IMAGE_FILTERS = frozenset({b"DCTDecode", b"DCT", b"JPXDecode", b"JBIG2Decode", b"CCITTFaxDecode", b"CCF"})


class _Over(Exception):
    """A decoder produced more than it was allowed to."""


def _inflate(raw: bytes, cap: int, chunk: int) -> Iterator[bytes]:
    d = zlib.decompressobj()
    buf, pos = b"", 0
    while True:
        if not buf:
            if pos >= len(raw):
                return
            buf, pos = raw[pos : pos + chunk], pos + chunk
        try:
            out = d.decompress(buf, chunk)  # never more than one chunk out per call
        except zlib.error:
            return  # not (or no longer) a zlib stream: pdfium will see what we saw
        buf = d.unconsumed_tail
        yield out
        if d.eof:
            return


def _lzw(raw: bytes, cap: int, chunk: int) -> Iterator[bytes]:
    """PDF LZW (EarlyChange 1), bounded: stops at `cap` bytes out."""
    table: list[bytes] = [bytes([i]) for i in range(256)] + [b"", b""]
    width, bits, nbits, prev, out, size = 9, 0, 0, b"", bytearray(), 0
    for byte in raw:
        bits, nbits = (bits << 8) | byte, nbits + 8
        while nbits >= width:
            nbits -= width
            code = (bits >> nbits) & ((1 << width) - 1)
            if code == 256:
                del table[258:]
                width, prev = 9, b""
                continue
            if code == 257:
                yield bytes(out)
                return
            if code < len(table):
                entry = table[code]
            elif code == len(table) and prev:
                entry = prev + prev[:1]
            else:
                yield bytes(out)
                return  # corrupt: pdfium stops too
            out += entry
            if prev:
                table.append(prev + entry[:1])
            prev = entry
            if len(table) + 1 >= (1 << width) and width < 12:
                width += 1
            if len(out) >= chunk:
                size += len(out)
                yield bytes(out)
                out.clear()
                if size > cap:
                    return
    yield bytes(out)


def _run_length(raw: bytes, cap: int, chunk: int) -> Iterator[bytes]:
    out, i, size = bytearray(), 0, 0
    while i < len(raw):
        n = raw[i]
        if n == 128:
            break
        if n < 128:
            out += raw[i + 1 : i + 2 + n]
            i += n + 2
        else:
            out += raw[i + 1 : i + 2] * (257 - n)
            i += 2
        if len(out) >= chunk:
            size += len(out)
            yield bytes(out)
            out.clear()
            if size > cap:
                return
    yield bytes(out)


def _ascii(raw: bytes, kind: str) -> bytes:
    """ASCIIHex/ASCII85 decode (never longer than the input)."""
    end = raw.find(b">" if kind == _AHX else b"~>")
    body = b"".join(raw[: end if end >= 0 else len(raw)].split())
    try:
        if kind == _AHX:
            return binascii.unhexlify(body + b"0" * (len(body) % 2))
        return base64.a85decode(body.removeprefix(b"<~") + b"~>", adobe=True)
    except (ValueError, binascii.Error):
        return b""


def _decode(raw: bytes, filters: list[str], cap: int, chunk: int) -> Iterator[bytes]:
    """The stream decoded through `filters`, in pieces; the last filter may expand, the others are materialised bounded."""
    if not filters:
        yield raw
        return
    data = raw
    for k, f in enumerate(filters):
        last = k == len(filters) - 1
        if f in (_AHX, _A85):
            data = _ascii(data, f)
            if last:
                yield data
            continue
        gen = {_FLATE: _inflate, _LZW: _lzw, _RL: _run_length}[f](data, cap, chunk)
        if last:
            yield from gen
            return
        acc, n = [], 0
        for piece in gen:
            acc.append(piece)
            n += len(piece)
            if n > cap:
                raise _Over
        data = b"".join(acc)


def _codes(cmap: bytes) -> int:
    """Code units pdfium stores for this CMap's `bfrange`s: ≤ 256 codes per range, × the destination's length."""
    total = 0
    for block in _BFRANGE.finditer(cmap):
        toks = iter(_TOKEN.finditer(block.group(1)))
        for lo_m in toks:
            hi_m = next(toks, None)
            dest = next(toks, None)
            if lo_m.group(1) is None or hi_m is None or hi_m.group(1) is None or dest is None:
                break
            lo = int(b"".join(lo_m.group(1).split()) or b"0", 16)
            hi = (lo & ~0xFF) | (int(b"".join(hi_m.group(1).split()) or b"0", 16) & 0xFF)
            n = max(0, hi - lo + 1)
            if dest.group(0) == b"[":  # one destination per code, each costed once
                for t in toks:
                    if t.group(0) == b"]":
                        break
                    total += max(1, len(b"".join((t.group(1) or b"").split())) // 4)
                continue
            total += n * max(1, len(b"".join((dest.group(1) or b"").split())) // 4)
    return total


def _filters(head: bytes) -> list[str] | None:
    """The stream's filters as decoder names ([] for none); None when it is an image or undecodable here."""
    m = _FILTER.search(head)
    if not m:
        return []
    names = _NAME.findall(m.group(1))
    if any(n in _IMAGE_FILTERS for n in names):
        return None
    out = [_FILTERS.get(n) for n in names]
    return None if None in out else out  # type: ignore[return-value]


def check(data: bytes, budget: PdfBudget = BUDGET) -> None:
    """Raise ResourceLimitError when the PDF's decoded streams or ToUnicode maps pass a cap."""
    total = 0
    cmap_codes: dict[int, int] = {}  # object number -> code units of the CMap stream it holds
    refs: Counter[int] = Counter(int(n) for n in _TOUNICODE_REF.findall(data))
    for m in _STREAM.finditer(data):
        head = data[max(0, m.start() - budget.dict_lookback) : m.start()]
        objs = list(_OBJ.finditer(head))
        if objs:
            head = head[objs[-1].start() :]
        if _IMAGE.search(head):
            continue
        filters = _filters(head)
        if filters is None:
            continue
        left = budget.max_total_stream_bytes - total
        per_stream = left >= budget.max_stream_bytes
        cap = budget.max_stream_bytes if per_stream else left
        limit = "max_stream_bytes" if per_stream else "max_total_stream_bytes"
        end = data.find(b"endstream", m.end())
        raw = data[m.end() : end if end >= 0 else len(data)]
        keep, size = bytearray(), 0
        try:
            for piece in _decode(raw, filters, cap, budget.chunk):
                size += len(piece)
                if len(keep) < 4 * budget.chunk:
                    keep += piece[: 4 * budget.chunk - len(keep)]
                if size > cap:
                    raise _Over
        except _Over:
            raise ResourceLimitError(
                f"A PDF's content streams decode past {cap} bytes (limit {limit}).", limit=limit
            ) from None
        total += size
        refs.update(int(n) for n in _TOUNICODE_REF.findall(keep))  # font dictionaries inside object streams
        if b"beginbfrange" in keep:
            n = _codes(bytes(keep))
            if n > budget.max_tounicode_codes:
                raise ResourceLimitError(
                    f"A PDF font maps {n} character codes (limit max_tounicode_codes={budget.max_tounicode_codes}).",
                    limit="max_tounicode_codes",
                )
            if objs:
                cmap_codes[int(objs[-1].group(1))] = n
            else:
                cmap_codes[-len(cmap_codes) - 1] = n
    built = sum(n * max(1, refs[obj]) for obj, n in cmap_codes.items())
    if built > budget.max_total_tounicode_codes:
        raise ResourceLimitError(
            f"The PDF's fonts would build {built} character-code entries from their ToUnicode maps "
            f"(limit max_total_tounicode_codes={budget.max_total_tounicode_codes}).",
            limit="max_total_tounicode_codes",
        )
