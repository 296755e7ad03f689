"""Hand-written PDF bytes for tests that need a precise (often broken) object structure."""
from __future__ import annotations


def raw_pdf(objects: list[bytes], root: int = 1, trailer_extra: bytes = b"") -> bytes:
    """A PDF whose numbered objects are `objects` (1-based), with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, trailer_extra, xref)
    return bytes(out)


# ---- the standard security handler, for encrypted test files (pdfium reading the result checks the builder) ----

_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")
FILE_ID = bytes(range(16))


def _rc4(key: bytes, data: bytes) -> bytes:
    from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
    from cryptography.hazmat.primitives.ciphers import Cipher

    return Cipher(ARC4(key), mode=None).encryptor().update(data)


def _aes(key: bytes, iv: bytes | None, data: bytes, decrypt: bool = False) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    c = Cipher(algorithms.AES(key), modes.ECB() if iv is None else modes.CBC(iv))
    op = c.decryptor() if decrypt else c.encryptor()
    return op.update(data) + op.finalize()


def _rounds_2b(password: bytes, salt: bytes, udata: bytes) -> bytes:
    import hashlib

    k, n = hashlib.sha256(password + salt + udata).digest(), 0
    while True:
        e = _aes(k[:16], k[16:32], (password + k + udata) * 64)
        k = (hashlib.sha256, hashlib.sha384, hashlib.sha512)[int.from_bytes(e[:16], "big") % 3](e).digest()
        n += 1
        if n >= 64 and e[-1] <= n - 32:
            return k[:32]


def encrypted_pdf(objects: list[bytes], method: str = "rc4", user: bytes = b"", owner: bytes = b"owner") -> bytes:
    """`raw_pdf(objects)` with every stream enciphered by the standard security handler.

    method: "rc4-40" (R2, 40-bit RC4), "rc4" (R3, 128-bit RC4), "aes128" (R4, AESV2) or "aes256" (R6, AESV3). The user password is
    empty unless given (then the file needs it to open); the owner password only restricts permissions.
    The objects must hold no strings outside streams (the builder enciphers streams only).
    """
    import hashlib
    import os
    import re
    import struct

    p = -3904  # print, no copy / modify: what "protected" reports usually allow
    if method == "aes256":
        key = os.urandom(32)
        vs, ks, ovs, oks = (os.urandom(8) for _ in range(4))
        u = _rounds_2b(user, vs, b"") + vs + ks
        ue = _aes(_rounds_2b(user, ks, b""), bytes(16), key)
        o = _rounds_2b(owner, ovs, u) + ovs + oks
        oe = _aes(_rounds_2b(owner, oks, u), bytes(16), key)
        perms = _aes(key, None, struct.pack("<i", p) + b"\xff\xff\xff\xffTadb" + os.urandom(4))
        enc = (b"<< /Filter /Standard /V 5 /R 6 /Length 256 /P %d /O <%s> /U <%s> /OE <%s> /UE <%s> /Perms <%s> "
               b"/CF << /StdCF << /CFM /AESV3 /AuthEvent /DocOpen /Length 32 >> >> /StmF /StdCF /StrF /StdCF >>"
               % (p, o.hex().encode(), u.hex().encode(), oe.hex().encode(), ue.hex().encode(), perms.hex().encode()))
    else:
        n, r = {"rc4-40": (5, 2), "rc4": (16, 3)}.get(method, (16, 4))
        ok = hashlib.md5((owner + _PAD)[:32]).digest()
        for _ in range(50 if r >= 3 else 0):
            ok = hashlib.md5(ok).digest()
        ok = ok[:n]
        o = _rc4(ok, (user + _PAD)[:32])
        for i in range(1, 20 if r >= 3 else 1):
            o = _rc4(bytes(b ^ i for b in ok), o)
        key = hashlib.md5((user + _PAD)[:32] + o + struct.pack("<i", p) + FILE_ID).digest()
        for _ in range(50 if r >= 3 else 0):
            key = hashlib.md5(key[:n]).digest()
        key = key[:n]
        if r == 2:
            u = _rc4(key, _PAD)
        else:
            x = _rc4(key, hashlib.md5(_PAD + FILE_ID).digest())
            for i in range(1, 20):
                x = _rc4(bytes(b ^ i for b in key), x)
            u = x + bytes(16)
        cf = b"/CF << /StdCF << /CFM /AESV2 /AuthEvent /DocOpen /Length 16 >> >> /StmF /StdCF /StrF /StdCF " if r == 4 else b""
        enc = b"<< /Filter /Standard /V %d /R %d /Length %d /P %d /O <%s> /U <%s> %s>>" % (
            {2: 1, 3: 2, 4: 4}[r], r, n * 8, p, o.hex().encode(), u.hex().encode(), cf)

    def seal(num: int, body: bytes) -> bytes:
        m = re.search(rb"stream\r?\n", body)
        if m is None:
            return body
        end = body.rindex(b"endstream")
        data = body[m.end() : end].removesuffix(b"\n")
        if method == "aes256":
            k = key
        else:
            k = hashlib.md5(key + struct.pack("<I", num)[:3] + b"\0\0" + (b"" if method.startswith("rc4") else b"sAlT")).digest()
        if method.startswith("rc4"):
            sealed = _rc4(k[: min(len(key) + 5, 16)], data)
        else:
            iv, pad = os.urandom(16), 16 - len(data) % 16
            sealed = iv + _aes(k, iv, data + bytes([pad]) * pad)
        head = re.sub(rb"/Length \d+", b"/Length %d" % len(sealed), body[: m.start()], count=1)
        return head + b"stream\n" + sealed + b"\nendstream"

    sealed = [seal(i + 1, body) for i, body in enumerate(objects)]
    fid = FILE_ID.hex().encode()
    return raw_pdf(sealed + [enc], trailer_extra=b"/Encrypt %d 0 R /ID [<%s> <%s>] " % (len(objects) + 1, fid, fid))


def raw_pdf_objects(data: bytes) -> list[bytes]:
    """The `objects` a `raw_pdf` output was built from (read back through its xref table), e.g. to encrypt them."""
    xref = int(data[data.rindex(b"startxref") + 9 :].split()[0])
    count = int(data[xref:].split(b"\n", 2)[1].split()[1]) - 1
    rows = data[xref:].split(b"\n")[3 : 3 + count]
    offsets = [int(r[:10]) for r in rows] + [xref]
    out = []
    for n, (a, b) in enumerate(zip(offsets, offsets[1:]), start=1):
        body = data[a:b]
        head = b"%d 0 obj\n" % n
        assert body.startswith(head) and body.endswith(b"\nendobj\n"), n
        out.append(body[len(head) : -len(b"\nendobj\n")])
    return out
