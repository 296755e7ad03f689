"""Units of `app.server` that need no socket: the per-bad-request log limit (the protocol is tested live in
tests/reliability/test_server_limits.py)."""
from __future__ import annotations

import logging

import pytest

from app.server import PerRequestWarningLimit


def _record(msg: str) -> logging.LogRecord:
    return logging.LogRecord("uvicorn.error", logging.WARNING, __file__, 1, msg, None, None)


def test_the_bad_request_warning_passes_a_few_times_a_minute_then_is_counted(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    limit = PerRequestWarningLimit(per_minute=3, clock=lambda: now[0])
    passed = [limit.filter(_record("Invalid HTTP request received.")) for _ in range(10)]
    assert passed == [True] * 3 + [False] * 7
    assert limit.filter(_record("Something else entirely.")), "other messages are never limited"
    now[0] = 61.0
    with caplog.at_level(logging.WARNING, logger="app.server"):
        assert limit.filter(_record("Invalid HTTP request received."))
    assert "7 more invalid requests" in caplog.text
