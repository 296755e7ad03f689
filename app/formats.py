"""`GET /v1/formats`: which file formats are read and which are refused, why, and what to do instead."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from extractors.readers.formats import load_formats

from .problems import problem_responses

router = APIRouter()


class FormatInfo(BaseModel):
    """One kind of file: read (by which reader) or refused (with the problem code and a hint)."""

    name: str = Field(description="What the format is.")
    extensions: list[str] = Field(description="Usual file name endings (the service sniffs bytes, never names).")
    status: Literal["read", "refused"]
    format: str | None = Field(None, description="When read: the `document.format` the result reports.")
    code: str | None = Field(None, description="When refused: the problem code (last segment of the problem `type`).")
    reason: str | None = Field(None, description="When refused: why.")
    hint: str | None = Field(None, description="When refused: what to send instead.")
    note: str | None = Field(None, description="What to expect (e.g. workbooks hold tables only).")


class FormatList(BaseModel):
    read: list[FormatInfo]
    refused: list[FormatInfo]


@router.get(
    "/v1/formats",
    operation_id="list_formats",
    response_model=FormatList,
    responses=problem_responses(500),
    tags=["catalogue"],
    summary="File formats: what is read, what is refused and why, with a hint",
)
async def list_formats() -> FormatList:
    entries = [
        FormatInfo(name=e.name, extensions=list(e.extensions), status=e.status, format=e.reader, code=e.code,
                   reason=e.reason, hint=e.hint, note=e.note)
        for e in load_formats()
    ]
    return FormatList(read=[e for e in entries if e.status == "read"],
                      refused=[e for e in entries if e.status == "refused"])
