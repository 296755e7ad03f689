"""POST /v1/compare: the year-over-year comparison of two or more reports of one agency (HTTP only).

The reports arrive as multipart `files` parts and are streamed to the service's
spool (`app.upload.spooled_uploads`: the same per-file size limit and spool quota
as POST /v1/extract, at most `MAX_FILES` files), never held in memory. Each is
extracted in the worker pool from its spooled file under one shared deadline,
then `extractors.compare` compares them; the answer is the comparison JSON, or
with `?format=markdown|html` the readable report. A file that fails makes the
request fail with that file's problem (its name in `file`): a comparison with a
report missing would say less than it seems to.
"""
from __future__ import annotations

import asyncio
import enum
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request, Response

from extractors import ExtractionResult
from extractors.compare import compare, to_html, to_markdown
from extractors.errors import ExtractionError, InputError

from .pool import WorkerPool
from .problems import problem_responses
from .settings import Settings
from .upload import Spool, spooled_uploads
from .worker import ExtractJob

router = APIRouter()
MAX_FILES = 12  # one agency's reports over a decade and more; more is a batch, not a comparison

_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["files"],
            "properties": {"files": {
                "type": "array", "items": {"type": "string", "format": "binary"}, "minItems": 2, "maxItems": MAX_FILES,
                "description": "two or more report files of one agency (any format /v1/extract reads), "
                               "one multipart part named `files` each"}},
        }}},
    }
}


class CompareFormat(str, enum.Enum):
    json = "json"
    markdown = "markdown"
    html = "html"


@router.post(
    "/v1/compare",
    tags=["analysis"],
    summary="Compare two or more reports of one agency, year over year",
    response_class=Response,
    openapi_extra=_REQUEST_BODY,
    responses={
        200: {"description": "The comparison: JSON, or the readable report with ?format=markdown|html",
              "content": {"application/json": {"schema": {"type": "object"}},
                          "text/markdown": {"schema": {"type": "string"}},
                          "text/html": {"schema": {"type": "string"}}}},
        **problem_responses(400, 413, 415, 422, 500, 503, 504),
    },
)
async def compare_v1(
    request: Request,
    format: Annotated[CompareFormat, Query(description="json (default), markdown or html")] = CompareFormat.json,
) -> Response:
    """Per indicator changes, the largest moves, values that break their arithmetic, sections unchanged from the year before."""
    settings: Settings = request.app.state.settings
    pool: WorkerPool = request.app.state.pool
    spool: Spool = request.app.state.spool
    loop = asyncio.get_running_loop()
    deadline_s = settings.request_deadline_seconds
    deadline = loop.time() + deadline_s
    async with spooled_uploads(request, spool, settings.max_upload_bytes, field="files", max_files=MAX_FILES,
                               deadline=deadline, deadline_seconds=deadline_s) as uploads:
        if len(uploads) < 2:
            raise InputError(f"A comparison needs 2 to {MAX_FILES} files in the multipart field `files`; "
                             f"got {len(uploads)}.")
        results = []
        for n, up in enumerate(uploads, start=1):  # one at a time: a comparison never takes the whole pool
            job = ExtractJob(b"", up.filename, up.content_type, settings.max_pages, path=str(up.path),
                             max_ocr_pages=settings.max_ocr_pages, ocr_threads=settings.ocr_threads)
            try:
                output = await pool.run(job, deadline, deadline_s)
            except ExtractionError as e:
                e.extra.setdefault("file", up.filename or f"file {n}")
                raise
            results.append(ExtractionResult.model_validate_json(output.result_json).model_dump(mode="json"))
    report = compare(results)
    if format is CompareFormat.markdown:
        return Response(to_markdown(report), media_type="text/markdown; charset=utf-8")
    if format is CompareFormat.html:
        return Response(to_html(report), media_type="text/html; charset=utf-8")
    return Response(orjson.dumps(report), media_type="application/json")
