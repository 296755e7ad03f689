"""Settings every reader receives: the safety limits and tuning knobs of the read stage."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """Limits that keep a hostile file from costing more than a normal one.

    Defaults suit real reports (5–40 pages, under 5 MB); the service passes its
    own settings through.
    """

    max_pages: int = 500  # a PDF with more pages is refused (TooManyPagesError)
    max_uncompressed_bytes: int = 200 * 1024 * 1024  # total of all parts of a DOCX zip
    max_zip_entries: int = 2000  # entries in a DOCX zip
    max_compression_ratio: float = 200.0  # per zip entry, uncompressed/compressed
    max_text_chars: int = 20_000_000  # characters of decoded text for txt/html/md
    password: str | None = None  # never used by default: encrypted files are refused
    # document size caps, checked on every reader's Document before any later stage runs: they keep
    # the stages after the reader (linear, ~80 µs per line) within seconds; real reports stay far
    # below (corpus maximum: ~1,500 lines, ~3,000 table cells; 500 real PDF pages ~9,000 lines)
    max_document_lines: int = 30_000  # paragraphs + table rows
    max_document_cells: int = 100_000  # table cells of all tables
    max_document_chars: int = 1_000_000  # text of paragraphs and cells (500 real PDF pages ~260,000; ~3 µs each later)
    # text a page-described format (PDF) may yield per byte of the file, past a floor: pages that share one
    # content stream repeat its text at no cost to the file (400 pages from 68 KB) while each page's layout
    # costs ~10 ms; real PDFs hold < 0.1 character per byte (500 real pages: 0.017)
    max_chars_per_byte: float = 1.0
    chars_floor: int = 100_000  # characters any file may yield, whatever its size
    # OCR (scanned PDF pages, images; needs the [ocr] extra)
    max_ocr_pages: int = 50  # a file with more pages to OCR is refused (TooManyPagesError): ~5 CPU-s each
    ocr_threads: int = 1  # onnxruntime threads per page; the service's worker pool already fills the cores
    ocr_page_workers: int = 1  # pages of one file OCR'd in parallel (library/CLI use on an idle machine)
    # progress of a long read: called with (pages read, pages in the document) as pages are done (PDF);
    # the service's async jobs report it to their pollers. Not a limit: it takes no part in equality.
    on_page: Callable[[int, int], None] | None = field(default=None, compare=False)
