"""POST /v1/compare: the year-over-year comparison of two or more reports of one agency (HTTP only).

Each uploaded file is extracted in the worker pool exactly as POST /v1/extract
does, then `extractors.compare` compares them; the answer is the comparison JSON,
or with `?format=markdown|html` the readable report.
"""
from __future__ import annotations

import asyncio
import enum
from typing import Annotated

import orjson
from fastapi import APIRouter, File, Query, Request, Response, UploadFile

from extractors import ExtractionResult
from extractors.compare import compare, to_html, to_markdown
from extractors.errors import FileTooLargeError, InputError

from .pool import WorkerPool
from .problems import problem_responses
from .settings import Settings
from .worker import ExtractJob

router = APIRouter()
MAX_FILES = 12  # one agency's reports over a decade and more; more is a batch, not a comparison


class CompareFormat(str, enum.Enum):
    json = "json"
    markdown = "markdown"
    html = "html"


@router.post(
    "/v1/compare",
    tags=["analysis"],
    summary="Compare two or more reports of one agency, year over year",
    response_class=Response,
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
    files: Annotated[list[UploadFile], File(description="two or more report files of one agency (multipart field `files`)")],
    format: Annotated[CompareFormat, Query(description="json (default), markdown or html")] = CompareFormat.json,
) -> Response:
    """Per indicator changes, the largest moves, values that break their arithmetic, sections unchanged from the year before."""
    settings: Settings = request.app.state.settings
    pool: WorkerPool = request.app.state.pool
    if not 2 <= len(files) <= MAX_FILES:
        raise InputError(f"Give between 2 and {MAX_FILES} files in the multipart field `files`; got {len(files)}.")
    jobs = []
    for f in files:
        data = await f.read(settings.max_upload_bytes + 1)
        if len(data) > settings.max_upload_bytes:
            raise FileTooLargeError(f"{f.filename}: larger than {settings.max_upload_bytes} bytes.")
        jobs.append(ExtractJob(data, f.filename, f.content_type, settings.max_pages))
    loop = asyncio.get_running_loop()
    deadline_s = settings.request_deadline_seconds
    deadline = loop.time() + deadline_s
    outputs = [await pool.run(job, deadline, deadline_s) for job in jobs]
    results = [ExtractionResult.model_validate_json(o.result_json).model_dump(mode="json") for o in outputs]
    report = compare(results)
    if format is CompareFormat.markdown:
        return Response(to_markdown(report), media_type="text/markdown; charset=utf-8")
    if format is CompareFormat.html:
        return Response(to_html(report), media_type="text/html; charset=utf-8")
    return Response(orjson.dumps(report), media_type="application/json")
