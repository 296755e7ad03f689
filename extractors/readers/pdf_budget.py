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
streams, so every stream is visible in the raw bytes. An encrypted file that opens
without a password (owner password only: RC4 or AES, revisions 2-6) is deciphered
stream by stream with the key the empty user password gives (`pdf_crypt`); each
stream is costed both as stored and as deciphered, and the larger counts, so a
decoy or missing encryption dictionary cannot hide a bomb from the budget.
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
from . import pdf_crypt


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
_OBJ = re.compile(rb"(\d+)\s+(\d+)\s+obj\b")
_LENGTH = re.compile(rb"/Length\s+(\d+)(?:\s+(\d+)\s+R)?")
_INT_OBJ = re.compile(rb"obj\s*(\d+)\s*endobj")  # an object that is one integer (a stream's indirect /Length)
_OBJ_NUMBER = re.compile(rb"(?<![0-9])(\d+)\s+(\d+)\s+$")
_END = re.compile(rb"\s*endstream")
_ESCAPED = re.compile(rb"#([0-9A-Fa-f]{2})")
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
    names = [n for n in _NAME.findall(m.group(1)) if n != b"Crypt"]  # a crypt filter: deciphered (or not) first
    if any(n in _IMAGE_FILTERS for n in names):
        return None
    out = [_FILTERS.get(n) for n in names]
    return None if None in out else out  # type: ignore[return-value]


def _stream_data(data: bytes, start: int, head: bytes, int_objs: dict[tuple[int, int], int] | None) -> bytes:
    """The stream's bytes: as its `/Length` says when `endstream` follows there (as pdfium reads it), else up to
    the next `endstream` (pdfium's fallback). Ciphertext may hold the bytes `endstream`; the length may not lie."""
    m = _LENGTH.search(head)
    if m:
        n = int(m.group(1)) if m.group(2) is None else (int_objs or {}).get((int(m.group(1)), int(m.group(2))), -1)
        if 0 <= n <= len(data) - start and _END.match(data, start + n):
            return data[start : start + n]
    end = data.find(b"endstream", start)
    return data[start : end if end >= 0 else len(data)]


def _integer_objects(data: bytes) -> dict[tuple[int, int], int]:
    """(number, generation) -> value of every object that is a bare integer (found from `obj`, a literal, fast)."""
    out = {}
    for m in _INT_OBJ.finditer(data):
        num = _OBJ_NUMBER.search(data, max(0, m.start() - 24), m.start())
        if num:
            out[(int(num.group(1)), int(num.group(2)))] = int(m.group(1))
    return out


def _measure(raw: bytes, filters: list[str], cap: int, budget: PdfBudget) -> tuple[int, bytearray]:
    """(decoded size, its first bytes for the ToUnicode scan); raises _Over past `cap`."""
    keep, size = bytearray(), 0
    for piece in _decode(raw, filters, cap, budget.chunk):
        size += len(piece)
        if len(keep) < 4 * budget.chunk:
            keep += piece[: 4 * budget.chunk - len(keep)]
        if size > cap:
            raise _Over
    return size, keep


_DIGITS = frozenset(b"0123456789")
_SPACE = frozenset(b" \t\n\r\f\v")  # what `\s` matches in a bytes pattern
_WORD = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")  # `\w` of a bytes pattern


def _last_obj(head: bytes) -> tuple[int, int, int] | None:
    """(start, number, generation) of the last `N G obj` header in `head`: `_OBJ.finditer(head)`'s last match.

    Read backwards from each `obj` (rightmost first) instead of running the regex over the whole
    look-back window at every stream: a match is digits, spaces, digits, spaces and `obj`, so no
    earlier match can overlap the last one, and its start is where the first digit run begins.
    """
    end = len(head)
    while True:
        p = head.rfind(b"obj", 0, end)
        if p < 0:
            return None
        end = p
        if p + 3 < len(head) and head[p + 3] in _WORD:  # `obj\b`
            continue
        i = p
        runs: list[tuple[int, int]] = []
        for _ in range(2):  # spaces then digits, twice
            j = i
            while j > 0 and head[j - 1] in _SPACE:
                j -= 1
            if j == i:
                break
            k = j
            while k > 0 and head[k - 1] in _DIGITS:
                k -= 1
            if k == j:
                break
            runs.append((k, j))
            i = k
        if len(runs) == 2:
            (gs, ge), (ns, ne) = runs
            return ns, int(head[ns:ne]), int(head[gs:ge])


def check(data: bytes, budget: PdfBudget = BUDGET) -> None:
    """Raise ResourceLimitError when the PDF's decoded streams or ToUnicode maps pass a cap."""
    total = 0
    cmap_codes: dict[int, int] = {}  # object number -> code units of the CMap stream it holds
    refs: Counter[int] = Counter(int(n) for n in _TOUNICODE_REF.findall(data))
    keys = pdf_crypt.file_keys(data)  # [] unless encrypted with an empty user password
    int_objs: dict[tuple[int, int], int] | None = None
    for m in _STREAM.finditer(data):
        head = data[max(0, m.start() - budget.dict_lookback) : m.start()]
        obj = _last_obj(head)
        if obj is not None:
            head = head[obj[0] :]
        if b"#" in head:  # names may spell characters as #xx (/F#69lter): pdfium reads them, so do we
            head = _ESCAPED.sub(lambda e: bytes([int(e.group(1), 16)]), head)
        if _IMAGE.search(head):
            continue
        filters = _filters(head)
        if filters is None:
            continue
        left = budget.max_total_stream_bytes - total
        per_stream = left >= budget.max_stream_bytes
        cap = budget.max_stream_bytes if per_stream else left
        limit = "max_stream_bytes" if per_stream else "max_total_stream_bytes"
        length = _LENGTH.search(head)
        if int_objs is None and length is not None and length.group(2) is not None:  # an indirect /Length: index once
            int_objs = _integer_objects(data)
        raw = _stream_data(data, m.end(), head, int_objs)
        variants = [raw]
        if keys and obj is not None:  # deciphered with the object's own key (num, gen of its header)
            num, gen = obj[1], obj[2]
            variants += [pdf_crypt.decrypt_stream(k, num, gen, raw) for k in keys]
        try:
            size, keep = _measure(raw, filters, cap, budget)
            for v in variants[1:]:
                other = _measure(v, filters, cap, budget)
                if other[0] > size:
                    size, keep = other
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
            if obj is not None:
                cmap_codes[obj[1]] = n
            else:
                cmap_codes[-len(cmap_codes) - 1] = n
    built = sum(n * max(1, refs[obj]) for obj, n in cmap_codes.items())
    if built > budget.max_total_tounicode_codes:
        raise ResourceLimitError(
            f"The PDF's fonts would build {built} character-code entries from their ToUnicode maps "
            f"(limit max_total_tounicode_codes={budget.max_total_tounicode_codes}).",
            limit="max_total_tounicode_codes",
        )
