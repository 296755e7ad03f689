"""Every reader has the one signature and is listed once; sniffing decides by bytes."""
from __future__ import annotations

import inspect
import typing
from pathlib import Path

import pytest

from extractors.errors import EmptyFileError, UnsupportedFormatError
from extractors.model import Document
from extractors.readers import READERS, ReadOptions, read, sniff


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_reader_signature(fmt: str) -> None:
    fn = READERS[fmt]
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    assert [p.name for p in params[:2]] == ["data", "options"], fmt
    # anything further is the reader's own settings object, with a default
    assert all(p.default is not inspect.Parameter.empty for p in params[2:]), fmt
    hints = typing.get_type_hints(fn)
    assert hints["data"] is bytes and hints["options"] is ReadOptions and hints["return"] is Document


@pytest.mark.parametrize(
    "path, fmt",
    [
        ("pdf/hongze_2024.pdf", "pdf"),
        ("docx/000_32e6960542ba4ec5.docx", "docx"),
        ("html/000_32e6960542ba4ec5.html", "html"),
        ("txt/000_32e6960542ba4ec5.txt", "txt"),
        ("variants/dev07.md", "md"),
    ],
)
def test_sniff_by_bytes_not_name(corpus: Path, path: str, fmt: str) -> None:
    data = (corpus / path).read_bytes()
    assert sniff(data, "misleading.docx" if fmt != "docx" else "x.pdf") in ({fmt, "txt"} if fmt == "md" else {fmt})
    assert sniff(data, Path(path).name) == fmt


def _page_png(pdf_path: Path, page: int) -> bytes:
    """One page of a scanned PDF as a PNG (there are no image files in the corpus)."""
    import io

    import pypdfium2 as pdfium

    out = io.BytesIO()
    pdfium.PdfDocument(pdf_path.read_bytes())[page].render(scale=150 / 72, grayscale=True).to_pil().save(out, format="PNG")
    return out.getvalue()


def _sample(corpus: Path, fmt: str) -> bytes:
    """A real report in `fmt`: a corpus file, a ../shared/formats conversion, or one built from the corpus."""
    from tests.readers import formats_build as fb

    formats = corpus.parent / "formats"
    docx = corpus / "docx/001_3b9418f33333a698.docx"
    built = {
        "doc": lambda: (formats / "dev04.doc").read_bytes(),
        "xls": lambda: (formats / "dev04.xls").read_bytes(),
        "xlsx": lambda: (formats / "dev04.xlsx").read_bytes(),
        "ods": lambda: fb.ods_from_xlsx((formats / "dev04.xlsx").read_bytes()),
        "odt": lambda: fb.odt_from_document(read(docx.read_bytes(), docx.name)),
        "rtf": lambda: fb.rtf_from_document(read(docx.read_bytes(), docx.name)),
        "mht": lambda: fb.mht_from_html((corpus / "html/001_3b9418f33333a698.html").read_text(encoding="utf-8")),
        "ofd": lambda: fb.ofd_from_pdf((corpus / "pdf/hongze_2024.pdf").read_bytes()),
        "image": lambda: _page_png(formats / "hongze_2024.scan.pdf", 2),
    }
    if fmt in built:
        return built[fmt]()
    path = {"pdf": "pdf/hongze_2024.pdf", "docx": "docx/001_3b9418f33333a698.docx", "html": "html/001_3b9418f33333a698.html",
            "txt": "txt/001_3b9418f33333a698.txt", "md": "variants/dev07.md"}[fmt]
    return (corpus / path).read_bytes()


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_every_reader_returns_its_format(corpus: Path, fmt: str) -> None:
    data = _sample(corpus, fmt)
    doc = READERS[fmt](data, ReadOptions())
    assert doc.format == fmt
    assert doc.blocks and doc.tables
    assert sniff(data, "misleading.pdf") == fmt  # chosen by the bytes, never by the name


def test_empty_and_random_bytes() -> None:
    with pytest.raises(EmptyFileError):
        read(b"", "a.pdf")
    with pytest.raises(UnsupportedFormatError):
        read(bytes(range(256)) * 40, "report.pdf")
