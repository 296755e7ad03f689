"""Extract data from Chinese government information-disclosure annual reports.

    >>> from extractors import extract
    >>> result = extract(open("report.pdf", "rb").read(), filename="report.pdf")
    >>> result.indicators[0].id, result.indicators[0].value

`extract` is the whole pipeline: bytes → reader → document model → template →
sections/tables → indicators → checks/confidence → `ExtractionResult`.
"""
from __future__ import annotations

from .errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedFileError,
    ExtractionError,
    FileTooLargeError,
    InputError,
    NoTextLayerError,
    NotAReportError,
    OcrUnavailableError,
    ResourceLimitError,
    TooManyPagesError,
    UnreadableDocumentError,
    UnsupportedFormatError,
)
from .pipeline import ExtractOptions, extract, extract_document, extract_json
from .readers import ReadOptions
from .result import SCHEMA_VERSION, ExtractionResult
from .version import __version__

__all__ = [
    "SCHEMA_VERSION",
    "CorruptFileError",
    "EmptyFileError",
    "EncryptedFileError",
    "ExtractOptions",
    "ExtractionError",
    "ExtractionResult",
    "FileTooLargeError",
    "InputError",
    "NoTextLayerError",
    "NotAReportError",
    "OcrUnavailableError",
    "ReadOptions",
    "ResourceLimitError",
    "TooManyPagesError",
    "UnreadableDocumentError",
    "UnsupportedFormatError",
    "__version__",
    "extract",
    "extract_document",
    "extract_json",
]
