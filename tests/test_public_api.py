"""The library's public surface: what callers may import stays importable and typed."""
from __future__ import annotations

import inspect

import extractors
from extractors.result import ExtractionResult

PUBLIC = {
    "CorruptFileError", "EmptyFileError", "EncryptedFileError", "ExtractOptions", "ExtractionError", "ExtractionResult",
    "FileTooLargeError", "InputError", "NoTextLayerError", "NotAReportError", "OcrUnavailableError", "ReadOptions", "ResourceLimitError", "SCHEMA_VERSION",
    "TooManyPagesError", "UnreadableDocumentError", "UnsupportedFormatError", "__version__", "extract", "extract_document",
    "extract_json",
}


def test_public_names() -> None:
    assert set(extractors.__all__) == PUBLIC
    for name in PUBLIC:
        assert hasattr(extractors, name)


def test_extract_signature() -> None:
    sig = inspect.signature(extractors.extract)
    assert list(sig.parameters)[:3] == ["data", "filename", "content_type"]
    assert sig.parameters["filename"].default is None


def test_errors_share_one_root() -> None:
    for name in PUBLIC:
        obj = getattr(extractors, name)
        if inspect.isclass(obj) and name.endswith("Error"):
            assert issubclass(obj, extractors.ExtractionError)
            assert obj.code and obj.title


def test_contract_fields() -> None:
    fields = set(ExtractionResult.model_fields)
    assert {"schema_version", "extractor_version", "document", "indicators", "sections", "validation", "warnings"} <= fields
    assert extractors.SCHEMA_VERSION == "1.0"
