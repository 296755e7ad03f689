"""OFD reader: corpus PDFs rewritten as OFD (glyph origins, sizes, rulings) read through the PDF layout."""
from __future__ import annotations

from pathlib import Path

import pytest

from extractors.errors import CorruptFileError, NoTextLayerError
from extractors.readers import read as read_any
from extractors.readers import sniff
from extractors.readers.ofd import read
from extractors.readers.options import ReadOptions
from tests.readers import formats_build as fb

OPTIONS = ReadOptions()


def test_tables_match_the_pdf(corpus: Path) -> None:
    pdf = (corpus / "pdf" / "hongze_2024.pdf").read_bytes()
    data = fb.ofd_from_pdf(pdf)
    assert sniff(data, "x.pdf") == "ofd"
    doc = read(data, OPTIONS)
    ref = read_any(pdf, "x.pdf")
    assert doc.format == "ofd" and doc.pages == ref.pages
    assert [t.text() for t in doc.tables] == [t.text() for t in ref.tables]
    result = next(c for t in doc.tables for r in t.rows for c in r if "本年度办理结果" in c.text.replace("\n", ""))
    assert result.rowspan > 10


def test_image_only_pages_are_no_text_layer(corpus: Path) -> None:
    data = fb.ofd_from_pdf((corpus / "pdf" / "hongze_2024.pdf").read_bytes(), image_only=True)
    with pytest.raises(NoTextLayerError) as e:
        read(data, OPTIONS)
    assert e.value.extra["image_pages"] == [1, 2, 3, 4, 5]


def test_missing_document_root_is_corrupt() -> None:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("OFD.xml", '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody/></ofd:OFD>')
    with pytest.raises(CorruptFileError):
        read(buf.getvalue(), OPTIONS)


def test_text_past_the_document_glyph_cap_is_refused_naming_it(corpus: Path) -> None:
    from dataclasses import replace

    from extractors.errors import ResourceLimitError
    from extractors.readers.ofd import SETTINGS

    data = fb.ofd_from_pdf((corpus / "pdf" / "hongze_2024.pdf").read_bytes())
    doc = read(data, OPTIONS)
    glyphs = sum(len("".join(b.text.split())) for b in doc.paragraphs)  # a lower bound of the page text
    assert 1_000 < glyphs < SETTINGS.max_document_glyphs
    with pytest.raises(ResourceLimitError) as e:
        read(data, OPTIONS, replace(SETTINGS, max_document_glyphs=1_000))
    assert e.value.extra["limit"] == "max_document_glyphs" and e.value.extra["page"] >= 1
