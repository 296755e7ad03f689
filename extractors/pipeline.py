"""The pipeline: bytes → reader → document → tables → indicators → template → checks → result.

The stages hand the response over as plain JSON data (`result.Response`): the service
serialises it once (`extract_json`), and `extract` validates it into the contract's models.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import (
    confidence,
    gate,
    indicators,
    metadata,
    narrative,
    sections,
    tables,
    template,
    validation,
    view,
)
from .model import Document
from .readers import ReadOptions, read
from .result import SCHEMA_VERSION, ExtractionResult, Response
from .version import __version__


@dataclass(frozen=True, slots=True)
class ExtractOptions:
    """Knobs of the whole pipeline, one settings object per stage."""

    read: ReadOptions = field(default_factory=ReadOptions)
    gate: gate.GateSettings = field(default_factory=gate.GateSettings)


def extract(
    data: bytes,
    filename: str | None = None,
    content_type: str | None = None,
    options: ExtractOptions | None = None,
) -> ExtractionResult:
    """Extract one report file. Raises an `ExtractionError` subclass for unusable input."""
    return extract_response(data, filename, content_type, options).to_result()


def extract_json(
    data: bytes,
    filename: str | None = None,
    content_type: str | None = None,
    options: ExtractOptions | None = None,
) -> bytes:
    """`extract` serialised once: the response as the JSON bytes a service returns untouched.

    The same bytes as `extract(...).to_json()`, without building the result's models.
    """
    return extract_response(data, filename, content_type, options).to_json()


def extract_response(
    data: bytes,
    filename: str | None = None,
    content_type: str | None = None,
    options: ExtractOptions | None = None,
) -> Response:
    """`extract` as plain response data (what the service serialises); raises as `extract` does."""
    opts = options or ExtractOptions()
    doc = read(data, filename, content_type, opts.read)
    return document_response(doc, opts)


MAX_ROW_WARNINGS = 200  # per-row warnings listed in a response; real reports stay far below it


def extract_document(doc: Document, options: ExtractOptions | None = None) -> ExtractionResult:
    """Run every stage after the reader on an already-read document.

    Raises NotAReportError when the document does not read as an annual report (`gate`).
    """
    return document_response(doc, options).to_result()


def document_response(doc: Document, options: ExtractOptions | None = None) -> Response:
    """`extract_document` as plain response data, in the contract models' field order."""
    opts = options or ExtractOptions()
    v = view.prepare(doc)  # the document normalised once; the stages below read it
    rows = tables.interpret(doc)
    matches, unmatched = indicators.map_rows(rows)
    tpl = template.detect(doc, {m.id for m in matches}, v)
    claims = [c for c in narrative.claims(doc, v) if c.rule.template in (None, tpl.name)]
    secs = sections.split_data(doc, view=v)
    # the not-a-report gate: weighs what the stages above found, before the rest is built
    gate.check(doc, len(matches), gate.count_sections([s["key"] for s in secs], sections.UNCLASSIFIED), len(claims), opts.gate, v)
    fill = [c.match for c in claims if c.rule.fill] if tpl.name != "revised_2019" else []
    matches = indicators.fill_from_narrative(matches, fill)
    findings = validation.check(matches, claims)
    scored = confidence.score(matches, findings, doc)
    info = metadata.extract_data(doc, tpl, secs, view=v)
    warnings: list[dict[str, object]] = [
        {"code": w.split(":", 1)[0], "message": w, "label": None, "source": None} for w in doc.warnings
    ]
    warnings += [indicators.unmatched_warning(u).model_dump() for u in unmatched[:MAX_ROW_WARNINGS]]
    if len(unmatched) > MAX_ROW_WARNINGS:  # a document of thousands of stray rows: the count, not one warning each
        warnings.append({"code": "row_warnings_truncated",
                         "message": f"{len(unmatched) - MAX_ROW_WARNINGS} more unmatched or duplicate rows are not listed.",
                         "label": None, "source": None})
    return Response({
        "schema_version": SCHEMA_VERSION,
        "extractor_version": __version__,
        "document": info,
        "indicators": scored,
        "sections": secs,
        "validation": [f.model_dump() for f in findings],
        "warnings": warnings,
    })
