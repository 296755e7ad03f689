"""Find the benchmark inputs: every report file under the corpus, grouped by format."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Suffix → format label. Data, not branches: a new format is one line.
FORMAT_BY_SUFFIX: dict[str, str] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".txt": "txt",
    ".md": "md",
}
CONTENT_TYPE: dict[str, str] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",
    "txt": "text/plain",
    "md": "text/markdown",
}
FORMAT_ORDER: tuple[str, ...] = ("pdf", "docx", "html", "txt", "md")
# Folders that hold labels, blank forms or pages that are not reports (the not-a-report gate's tests).
EXCLUDED_DIRS: frozenset[str] = frozenset({"gold", "templates", "not_reports"})


@dataclass(frozen=True, slots=True)
class CorpusFile:
    path: Path
    fmt: str
    data: bytes
    pages: int  # PDF pages; 1 for the other formats (so "per page" = per file)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def content_type(self) -> str:
        return CONTENT_TYPE[self.fmt]


def pdf_pages(data: bytes) -> int:
    """Page count as pdfium sees it (the floor's view, independent of the engine)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        return len(pdf)
    finally:
        pdf.close()


def load(root: Path, max_per_format: int | None = None) -> list[CorpusFile]:
    """Every report under `root`'s sub-folders (root-level READMEs are not reports), sorted."""
    if not root.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {root}")
    found: dict[str, list[Path]] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or len(rel.parts) < 2 or rel.parts[0] in EXCLUDED_DIRS:
            continue
        fmt = FORMAT_BY_SUFFIX.get(path.suffix.lower())
        if fmt:
            found.setdefault(fmt, []).append(path)
    files: list[CorpusFile] = []
    for fmt in FORMAT_ORDER:
        for path in found.get(fmt, [])[:max_per_format]:
            data = path.read_bytes()
            files.append(CorpusFile(path, fmt, data, pdf_pages(data) if fmt == "pdf" else 1))
    return files


def by_format(files: list[CorpusFile]) -> dict[str, list[CorpusFile]]:
    out: dict[str, list[CorpusFile]] = {}
    for f in files:
        out.setdefault(f.fmt, []).append(f)
    return out
