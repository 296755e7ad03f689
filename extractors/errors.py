"""One error hierarchy for the library; the HTTP layer maps each class to a status.

Each class carries a stable `code` (the last part of the problem `type` URI) and
a human `title`. Messages never contain document content, only facts about the
file (sizes, counts, format names).
"""
from __future__ import annotations

# The default base of problem `type` URIs (`<base><code>`); the service and batch runs take their own.
PROBLEM_TYPE_BASE = "https://govreport-extract.dev/problems/"


class ExtractionError(Exception):
    """Base of every error the library raises on purpose."""

    code = "extraction-error"
    title = "Extraction failed"

    def __init__(self, detail: str = "", **extra: object) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class InputError(ExtractionError):
    """The request itself is unusable (empty body, missing file)."""

    code = "bad-request"
    title = "Malformed or empty request"


class EmptyFileError(InputError):
    code = "empty-file"
    title = "The file is empty"


class UnsupportedFormatError(ExtractionError):
    """The bytes are not a format any reader handles."""

    code = "unsupported-media-type"
    title = "Unsupported file type"


class LegacyWordFormatError(UnsupportedFormatError):
    """A Word 6.0/95 (or older) binary document: a different format from Word 97–2003."""

    code = "legacy-word-format"
    title = "Word 6.0/95 documents are not read"


class WorksDocumentError(UnsupportedFormatError):
    """A Microsoft Works word-processor `.wps` (not Kingsoft WPS, which is read as Word 97–2003)."""

    code = "works-document"
    title = "Microsoft Works documents are not read"


class UnreadableDocumentError(ExtractionError):
    """A supported format that cannot be read: corrupt, encrypted, no text layer, too big."""

    code = "unreadable-document"
    title = "The document cannot be read"


class CorruptFileError(UnreadableDocumentError):
    code = "corrupt-file"
    title = "The file is corrupt or truncated"


class EncryptedFileError(UnreadableDocumentError):
    code = "encrypted-file"
    title = "The file is encrypted or password-protected"


class NoTextLayerError(UnreadableDocumentError):
    code = "no-text-layer"
    title = "The PDF has no text layer (scanned image)"


class OcrUnavailableError(NoTextLayerError):
    """Scanned pages or an image that only OCR reads, and the `[ocr]` extra is not installed."""

    code = "ocr-unavailable"
    title = "The file needs OCR, which this installation does not have (install the [ocr] extra)"


class NotAReportError(UnreadableDocumentError):
    """Readable, but not an annual report (a 404 page, a listing, a news item): `detail` says why."""

    code = "not-a-report"
    title = "The document is not a government information-disclosure annual report"


class TooManyPagesError(UnreadableDocumentError):
    code = "too-many-pages"
    title = "The document has more pages than the limit"


class ResourceLimitError(UnreadableDocumentError):
    """Decompression bombs, entity expansion, absurd nesting: refused, not attempted."""

    code = "resource-limit"
    title = "The document exceeds a safety limit"


class FileTooLargeError(ExtractionError):
    code = "file-too-large"
    title = "The file is larger than the limit"
