"""Property-based API test: schemathesis drives every operation of the committed spec against the live server.

Bounded to 30 examples per operation. Every response must be a non-5xx with a
documented status, content type, headers and body schema (problem documents
included), and malformed input must be rejected with a 4xx.
"""
from __future__ import annotations

from pathlib import Path

import schemathesis
from app_live import LiveServer
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
schema = schemathesis.openapi.from_path(SPEC)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_spec(case: schemathesis.Case, server: LiveServer) -> None:
    case.call_and_validate(base_url=server.url, checks=CHECKS, timeout=60)
