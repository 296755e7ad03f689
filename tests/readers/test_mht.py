"""MHT reader: saved web pages (quoted-printable or base64, GBK or UTF-8) read like their HTML."""
from __future__ import annotations

from pathlib import Path

import pytest

from extractors.errors import CorruptFileError
from extractors.readers import read as read_any
from extractors.readers import sniff
from extractors.readers.encoding import decode_text
from extractors.readers.mht import read
from extractors.readers.options import ReadOptions
from tests.readers import formats_build as fb

OPTIONS = ReadOptions()


@pytest.mark.parametrize("charset, transfer", [("gbk", "quoted-printable"), ("utf-8", "base64"), ("gb18030", "base64")])
def test_same_blocks_as_the_html(corpus: Path, charset: str, transfer: str) -> None:
    raw = (corpus / "html" / "001_3b9418f33333a698.html").read_bytes()
    data = fb.mht_from_html(decode_text(raw) or "", charset, transfer)
    assert sniff(data, "page.html") == "mht"
    doc = read(data, OPTIONS)
    html = read_any(raw, "x.html")
    assert doc.format == "mht"
    assert doc.text() == html.text() and len(doc.tables) == len(html.tables)


def test_no_html_part_is_corrupt() -> None:
    data = b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="b"\r\n\r\n--b\r\nContent-Type: text/css\r\n\r\np{}\r\n--b--\r\n'
    assert sniff(data) == "mht"
    with pytest.raises(CorruptFileError):
        read(data, OPTIONS)
