"""ODT reader: corpus reports written as OpenDocument text, spans and covered cells, damaged containers."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from extractors.errors import CorruptFileError, ResourceLimitError
from extractors.readers import read as read_any
from extractors.readers import sniff
from extractors.readers.odt import read
from extractors.readers.options import ReadOptions
from tests.readers import formats_build as fb

OPTIONS = ReadOptions()


@pytest.fixture(scope="module")
def built(corpus: Path) -> tuple[bytes, object]:
    docx = read_any((corpus / "variants" / "dev04.docx").read_bytes(), "dev04.docx")
    return fb.odt_from_document(docx, docx.title or ""), docx


def test_sniffed_and_read_with_merges(built: tuple[bytes, object]) -> None:
    data, docx = built
    assert sniff(data, "x.docx") == "odt"
    doc = read(data, OPTIONS)
    assert doc.format == "odt" and doc.title == docx.title  # type: ignore[attr-defined]
    assert [t.text() for t in doc.tables] == [t.text() for t in docx.tables]  # type: ignore[attr-defined]
    result = next(c for t in doc.tables for r in t.rows for c in r if c.text == "三、本年度办理结果")
    assert (result.col, result.rowspan) == (0, 22)
    assert [p.text for p in doc.paragraphs[:2]] == ["淮安市清江浦区人民政府", "2024年政府信息公开工作年度报告"]


def test_missing_content_and_bad_xml_are_corrupt() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
    with pytest.raises(CorruptFileError):
        read(buf.getvalue(), OPTIONS)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", "<office:document-content")
    with pytest.raises(CorruptFileError):
        read(buf.getvalue(), OPTIONS)


def test_entity_expansion_is_refused() -> None:
    bomb = ('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY a "aaaaaaaaaa">'
            + "".join(f'<!ENTITY a{i} "&a{i - 1 if i else ""};&a{i - 1 if i else ""};">' for i in range(1))
            + ']><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0">&a;'
            "</office:document-content>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", bomb)
    with pytest.raises(ResourceLimitError):
        read(buf.getvalue(), OPTIONS)
