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


@pytest.mark.parametrize(
    ("head", "said"),
    [
        (b"GET / HTTP/1.1\r\nHost: a\r\nX-A: v\x01\r\n\r\n", "`X-A` holds control character 0x01"),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX-A: v\r\n\tw\r\n\r\n", "Header line 3 starts with whitespace"),
        (b"GET / HTTP/1.1\r\nHo st: a\r\n\r\n", "`Ho st` (line 1) is not a token"),
        (b"GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", "request target holds control character 0x7F at byte 5"),
        (b"G\x00T / HTTP/1.1\r\n\r\n", "request line holds control character 0x00 at byte 1"),
        (b"GET / / HTTP/1.1\r\n\r\n", "with single spaces"),
        (b"GET / HTTP/one\r\n\r\n", "`HTTP/one` is not an HTTP version"),
        (b"G(T / HTTP/1.1\r\n\r\n", "method `G(T` is not a token"),
        (b"\r\n\r\n", "no request line"),
    ],
)
def test_head_violation_names_the_fault(head: bytes, said: str) -> None:
    from app.server import head_violation

    found = head_violation(head)
    assert found is not None and said in found, found


def test_head_violation_accepts_what_rfc_9110_allows() -> None:
    from app.server import head_violation

    assert head_violation(b"GET /a?b=c HTTP/1.1\nHost: a\nX-A: caf\xc3\xa9\tx\nX-Empty:\r\n\r\n") is None
