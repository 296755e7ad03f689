"""GET /v1/formats: every registered reader is listed as read; refusals carry their problem code and a hint."""
from __future__ import annotations

import httpx

from extractors import errors
from extractors.readers import READERS


def test_formats_lists_reads_and_refusals(server) -> None:  # type: ignore[no-untyped-def]
    response = httpx.get(f"{server.url}/v1/formats", timeout=30)
    assert response.status_code == 200
    body = response.json()
    assert {e["format"] for e in body["read"]} == set(READERS)
    codes = {
        cls.code for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.ExtractionError)
    }
    for e in body["refused"]:
        assert e["code"] in codes and e["hint"] and e["reason"], e
    by_ext = {x: e for e in body["read"] for x in e["extensions"]}
    assert by_ext[".wps"]["format"] == "doc" and by_ext[".et"]["format"] == "xls"
    refused = {e["code"] for e in body["refused"]}
    assert {"legacy-word-format", "works-document", "encrypted-file", "no-text-layer"} <= refused
