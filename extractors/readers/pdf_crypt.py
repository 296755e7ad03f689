"""The PDF standard security handler with an empty user password, for the budget (`pdf_budget`).

Why: a PDF encrypted with only an owner password (common for published reports:
"no copying, no printing") opens without a password, so pdfium decodes its
streams, but the budget sees only ciphertext. To cost those streams before pdfium
does, the budget needs the file key. This module derives it from the encryption
dictionary exactly as the PDF spec says (ISO 32000-2 §7.6.4: algorithms 2, 2.A,
2.B; 4, 5 and 11 to check that the empty password is the user password) and
decrypts one stream at a time. The ciphers (RC4, AES) come from `cryptography`,
imported only when a file is encrypted. A file whose user password is not empty
gets no key here (pdfium then refuses it: `encrypted-file`).

Parsing is regex + a tiny bounded tokenizer over the raw bytes (the encryption
dictionary is never in an object stream, and its strings are not encrypted).
Every candidate dictionary and `/ID` found is tried and only keys that the
password check accepts are returned, so a decoy dictionary changes nothing.
"""
from __future__ import annotations

import hashlib
import itertools
import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")
_RC4, _AES128, _AES256, _NONE = "rc4", "aes128", "aes256", "none"
_MAX_CANDIDATES = 4  # distinct encryption dictionaries (and /ID values) tried
_MAX_DICT = 64 * 1024  # bytes of an encryption dictionary object looked at


def _name(word: bytes) -> bytes:
    """A regex for the PDF name `/word`, any of whose characters may be written `#xx` (pdfium reads both)."""
    return b"/" + b"".join(b"(?:%s|#%x|#%X)" % (re.escape(bytes([c])), c, c) for c in word)


_ENCRYPT = re.compile(_name(b"Encrypt") + rb"\s*(?:(\d+)\s+(\d+)\s+R|(<<))")
_ID = re.compile(_name(b"ID") + rb"\s*\[\s*(<[0-9A-Fa-f\s]*>|\()")
_TOKEN = re.compile(rb"\s*(?:(<<)|(>>)|(\[)|(\])|/([^\s/<>\[\]()%{}]*)|(<[0-9A-Fa-f\s]*>)|(\()|([+-]?[0-9.]+)|(true|false|null|R)|%[^\r\n]*)")
_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}


@dataclass(frozen=True, slots=True)
class FileKey:
    """A file key that the empty user password opens, and how streams are enciphered with it."""

    key: bytes
    method: str  # rc4, aes128, aes256 or none (streams stored in the clear: Identity crypt filter)
    revision: int


def _literal(data: bytes, pos: int, limit: int = _MAX_DICT) -> tuple[bytes, int]:
    """The literal string starting after the `(` at `pos` (at most `limit` bytes looked at), and the position after its `)`."""
    out, depth, i, n = bytearray(), 1, pos, min(len(data), pos + limit)
    while i < n:
        c = data[i]
        if c == 0x5C and i + 1 < n:  # backslash
            e = data[i + 1]
            if e in _ESCAPES:
                out += _ESCAPES[e]
                i += 2
            elif 0x30 <= e <= 0x37:
                j = i + 1
                while j < n and j < i + 4 and 0x30 <= data[j] <= 0x37:
                    j += 1
                out.append(int(data[i + 1 : j], 8) & 0xFF)
                i = j
            elif e in (0x0D, 0x0A):  # line continuation
                i += 3 if e == 0x0D and data[i + 2 : i + 3] == b"\n" else 2
            else:
                out.append(e)
                i += 2
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return bytes(out), i + 1
        out.append(c)
        i += 1
    return bytes(out), n


def _hex(token: bytes) -> bytes:
    digits = b"".join(token[1:-1].split())
    return bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode())


def _unescape_name(raw: bytes) -> bytes:
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw) if b"#" in raw else raw


class _Stop(Exception):
    """Not a dictionary this module can read."""


_REF = object()


def parse_dict(data: bytes, pos: int) -> tuple[dict[bytes, object], int]:
    """The dictionary whose `<<` is at `pos` (names and strings as bytes, numbers, refs as ("ref", n, g)); {} if unreadable."""
    try:
        value, end = _value(data, pos, min(len(data), pos + _MAX_DICT), 0)
    except (_Stop, RecursionError):
        return {}, pos
    return (value if isinstance(value, dict) else {}), end


def _value(data: bytes, i: int, end: int, depth: int) -> tuple[object, int]:
    while True:
        m = _TOKEN.match(data, i, end)
        if not m or m.end() == i:
            raise _Stop
        i = m.end()
        if m.lastindex is not None:
            break  # else a comment: skip it
    if m.group(1) or m.group(3):
        if depth > 16:
            raise _Stop
        closer, items = (2 if m.group(1) else 4), []
        while True:
            nxt = _TOKEN.match(data, i, end)
            if nxt and nxt.lastindex == closer:
                i = nxt.end()
                break
            v, i = _value(data, i, end, depth + 1)
            if v is _REF:
                if len(items) < 2 or not all(isinstance(x, int) for x in items[-2:]):
                    raise _Stop
                gen, num = items.pop(), items.pop()
                items.append(("ref", num, gen))
            else:
                items.append(v)
        if m.group(1):
            return dict(zip(items[::2], items[1::2], strict=False)), i
        return items, i
    if m.group(2) or m.group(4):
        raise _Stop
    if m.group(5) is not None:
        return _unescape_name(m.group(5)), i
    if m.group(6):
        return _hex(m.group(6)), i
    if m.group(7):
        return _literal(data, i)
    if m.group(8):
        try:
            return (float(m.group(8)) if b"." in m.group(8) else int(m.group(8))), i
        except ValueError:
            return 0, i
    word = m.group(9)
    if word == b"R":
        return _REF, i
    return (None if word == b"null" else word == b"true"), i


def _object_dict(data: bytes, num: int, gen: int) -> dict[bytes, object]:
    """The dictionary of object `num gen` (the last definition in the file, as an incremental update wins)."""
    head, end = b"%d %d obj" % (num, gen), len(data)
    for _ in range(8):  # the plain spelling, from the end (fast)
        i = data.rfind(head, 0, end)
        if i < 0:
            break
        end = i
        if i == 0 or not data[i - 1 : i].isdigit():
            m = re.compile(rb"\s*<<").match(data, i + len(head))
            return parse_dict(data, m.end() - 2)[0] if m else {}
    last = None
    for last in itertools.islice(re.finditer(rb"(?<![0-9])%d\s+%d\s+obj\s*<<" % (num, gen), data), 64):
        pass
    return parse_dict(data, last.end() - 2)[0] if last is not None else {}


def _cipher():
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    try:
        from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
    except ImportError:  # cryptography < 43
        ARC4 = algorithms.ARC4  # noqa: N806
    return Cipher, algorithms, modes, ARC4


def rc4(key: bytes, data: bytes) -> bytes:
    Cipher, _, _, ARC4 = _cipher()  # noqa: N806
    d = Cipher(ARC4(key), mode=None).decryptor()
    return d.update(data) + d.finalize()


def _aes_cbc(key: bytes, iv: bytes, data: bytes, encrypt: bool = False) -> bytes:
    Cipher, algorithms, modes, _ = _cipher()  # noqa: N806
    c = Cipher(algorithms.AES(key), modes.CBC(iv))
    op = c.encryptor() if encrypt else c.decryptor()
    return op.update(data) + op.finalize()


def _hash_2b(password: bytes, salt: bytes, udata: bytes) -> bytes:
    """Algorithm 2.B (revision 6): SHA-256/384/512 rounds over AES-128-CBC, at least 64 of them."""
    k = hashlib.sha256(password + salt + udata).digest()
    rounds = 0
    while True:
        e = _aes_cbc(k[:16], k[16:32], (password + k + udata) * 64, encrypt=True)
        k = (hashlib.sha256, hashlib.sha384, hashlib.sha512)[sum(e[:16]) % 3](e).digest()  # 256 = 1 (mod 3)
        rounds += 1
        if rounds >= 64 and e[-1] <= rounds - 32:
            return k[:32]


def _as_bytes(v: object) -> bytes:
    return v if isinstance(v, bytes) else b""


def _as_int(v: object, default: int) -> int:
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else default


def _stream_method(enc: dict[bytes, object], v: int) -> tuple[str, int | None]:
    """(cipher of streams, key length in bytes the crypt filter declares) for V4/V5 crypt filters."""
    stmf = enc.get(b"StmF", b"Identity")
    if stmf == b"Identity":
        return _NONE, None
    cf = enc.get(b"CF")
    filt = cf.get(stmf) if isinstance(cf, dict) else None
    cfm = filt.get(b"CFM") if isinstance(filt, dict) else None
    length = _as_int(filt.get(b"Length"), 0) if isinstance(filt, dict) else 0
    method = {b"V2": _RC4, b"AESV2": _AES128, b"AESV3": _AES256, b"None": _NONE}.get(cfm or b"", _AES256 if v == 5 else _RC4)
    return method, (length // 8 if length >= 40 else length) or None


def _keys_r2_r4(enc: dict[bytes, object], ids: list[bytes]) -> list[FileKey]:
    v, r = _as_int(enc.get(b"V"), 0), _as_int(enc.get(b"R"), 0)
    o, u = _as_bytes(enc.get(b"O")), _as_bytes(enc.get(b"U"))
    p = struct.pack("<I", _as_int(enc.get(b"P"), 0) & 0xFFFFFFFF)
    method, cf_len = (_RC4, None) if v < 4 else _stream_method(enc, v)
    lengths = [5] if r == 2 else list(dict.fromkeys(n for n in (cf_len, _as_int(enc.get(b"Length"), 40) // 8, 16, 5) if n))
    meta = enc.get(b"EncryptMetadata", True) is not False
    out: list[FileKey] = []
    for id0 in ids:
        for n in lengths:
            if not 5 <= n <= 16:
                continue
            h = hashlib.md5(_PAD + o[:32] + p + id0 + (b"" if r < 4 or meta else b"\xff\xff\xff\xff")).digest()
            if r >= 3:
                for _ in range(50):
                    h = hashlib.md5(h[:n]).digest()
            key = h[:n]
            if r == 2:
                ok = rc4(key, _PAD) == u[:32]
            else:
                x = rc4(key, hashlib.md5(_PAD + id0).digest())
                for i in range(1, 20):
                    x = rc4(bytes(b ^ i for b in key), x)
                ok = x == u[:16]
            if ok:
                out.append(FileKey(key, method, r))
                return out
    return out


def _keys_r5_r6(enc: dict[bytes, object]) -> list[FileKey]:
    r = _as_int(enc.get(b"R"), 0)
    u, ue = _as_bytes(enc.get(b"U")), _as_bytes(enc.get(b"UE"))
    if len(u) < 48 or len(ue) < 32:
        return []
    digest = (lambda salt: _hash_2b(b"", salt, b"")) if r == 6 else (lambda salt: hashlib.sha256(salt).digest())
    if digest(u[32:40]) != u[:32]:
        return []  # the user password is not empty
    key = _aes_cbc(digest(u[40:48]), bytes(16), ue[:32])
    method, _ = _stream_method(enc, 5)
    return [FileKey(key, method, r)]


def _from_the_end(data: bytes, word: bytes, pattern: re.Pattern[bytes], tries: int = 16) -> Iterator[re.Match[bytes]]:
    """Matches of `pattern` at the last `tries` places `word` occurs, newest first (the trailer is at the end).

    Bounded whatever the file holds: a file of a million `/ID[(` costs 16 matches, not a million. A name
    spelled with #xx escapes is found by a forward scan of the first few matches only when the plain
    spelling is absent."""
    end, found = len(data), False
    for _ in range(tries):
        i = data.rfind(word, 0, end)
        if i < 0:
            break
        end = i
        m = pattern.match(data, i)
        if m:
            found = True
            yield m
    if not found:
        yield from itertools.islice(pattern.finditer(data), tries)


def _distinct(values: Iterable[object], n: int) -> list:  # type: ignore[type-arg]
    out: list[object] = []
    for v in values:
        if v not in out:
            out.append(v)
            if len(out) >= n:
                break
    return out


def file_keys(data: bytes) -> list[FileKey]:
    """Keys the empty user password opens, one per genuine standard-handler dictionary found (usually 0 or 1)."""
    refs = _distinct(
        ((int(m.group(1)), int(m.group(2))) if m.group(1) else m.start(3) for m in _from_the_end(data, b"/Encrypt", _ENCRYPT)),
        _MAX_CANDIDATES,
    )
    if not refs:
        return []
    ids = _distinct(
        (_hex(m.group(1)) if m.group(1) != b"(" else _literal(data, m.end(), 256)[0] for m in _from_the_end(data, b"/ID", _ID)),
        _MAX_CANDIDATES,
    ) or [b""]
    keys: list[FileKey] = []
    for ref in refs:
        enc = parse_dict(data, ref)[0] if isinstance(ref, int) else _object_dict(data, *ref)
        if enc.get(b"Filter") != b"Standard":
            continue
        try:
            found = _keys_r5_r6(enc) if _as_int(enc.get(b"R"), 0) >= 5 else _keys_r2_r4(enc, ids)
        except (ValueError, TypeError, OverflowError):
            continue  # malformed values: not a dictionary pdfium would open either
        keys += [k for k in found if k not in keys]
    return keys


def decrypt_stream(key: FileKey, num: int, gen: int, raw: bytes) -> bytes:
    """One stream's bytes deciphered with `key` (object `num gen`); b"" when they cannot be (bad AES length)."""
    if key.method == _NONE:
        return raw
    if key.method == _AES256:
        k = key.key
    else:
        salt = b"sAlT" if key.method == _AES128 else b""
        k = hashlib.md5(key.key + struct.pack("<I", num)[:3] + struct.pack("<I", gen)[:2] + salt).digest()
        k = k[: min(len(key.key) + 5, 16)]
    if key.method == _RC4:
        return rc4(k, raw)
    body = raw[16:]
    body = body[: len(body) - len(body) % 16]
    if len(raw) < 32:
        return b""
    out = _aes_cbc(k, raw[:16], body)
    pad = out[-1]
    return out[:-pad] if 1 <= pad <= 16 else out
