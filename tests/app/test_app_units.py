"""Unit tests of the service's pure parts: settings, the status table, upload limits, request ids."""
from __future__ import annotations

import asyncio
import inspect

import pytest

import extractors.errors as library_errors
from app import errors as service_errors
from app.catalogue import parse_catalogue
from app.middleware import sanitize_request_id
from app.problems import STATUS_BY_ERROR, code_of, problem_type, status_for
from app.settings import Settings, env_name, settings_table
from app.upload import clean_filename, filename_from_disposition, limited_receive
from extractors import ExtractionError, FileTooLargeError

EXPECTED_STATUS = {
    "JobNotFoundError": 404,
    "JobCancelledError": 409,
    "JobLostError": 500,
    "CallbackNotAllowedError": 400,
    "UnauthorizedError": 401,
    "ExtractionError": 422,
    "InputError": 400,
    "EmptyFileError": 400,
    "UnsupportedFormatError": 415,
    "LegacyWordFormatError": 415,  # formats (#12): Word 6/95
    "WorksDocumentError": 415,  # formats (#12): Microsoft Works .wps
    "UnreadableDocumentError": 422,
    "CorruptFileError": 422,
    "EncryptedFileError": 422,
    "NoTextLayerError": 422,
    "OcrUnavailableError": 422,
    "NotAReportError": 422,
    "TooManyPagesError": 422,
    "ResourceLimitError": 422,
    "FileTooLargeError": 413,
    "ServiceError": 500,
    "PoolSaturatedError": 503,
    "DeadlineExceededError": 504,
    "WorkerCrashedError": 500,
    "WorkerBugError": 500,
    "NotReadyError": 503,
    "UploadsSaturatedError": 503,
    "SpoolFullError": 503,
    "RequestTimeoutError": 408,
    "HeaderFieldsTooLargeError": 431,  # harden-server3 (#16): head caps in app/server.py
    "UriTooLongError": 414,
    "HttpVersionError": 505,
}


def _error_classes() -> list[type[ExtractionError]]:
    found = {
        obj
        for module in (library_errors, service_errors)
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, ExtractionError)
    }
    return sorted(found, key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda c: c.__name__)
def test_every_error_class_has_a_status_and_a_stable_type(cls: type[ExtractionError]) -> None:
    assert status_for(cls("x")) == EXPECTED_STATUS[cls.__name__]
    assert problem_type(cls.code) == f"https://govreport-extract.dev/problems/{cls.code}"
    assert code_of(cls("x")) == cls.code


def test_codes_are_unique_and_new_subclasses_inherit_their_parent_status() -> None:
    codes = [c.code for c in _error_classes()]
    assert len(codes) == len(set(codes))

    class FutureCorruption(library_errors.CorruptFileError):
        code = "future-corruption"

    assert status_for(FutureCorruption()) == 422
    assert code_of(RuntimeError()) == "internal-error"
    assert FileTooLargeError in STATUS_BY_ERROR


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOST", "127.0.0.1")
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("GOVREPORT_MAX_UPLOAD_BYTES", "1000")
    monkeypatch.setenv("GOVREPORT_WORKERS", "3")
    s = Settings()
    assert (s.host, s.port, s.max_upload_bytes, s.workers) == ("127.0.0.1", 9001, 1000, 3)
    monkeypatch.setenv("GOVREPORT_PORT", "9002")  # the prefixed name wins over the plain one
    assert Settings().port == 9002


def test_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(env_name(name), raising=False)
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    s = Settings()
    assert (s.host, s.port) == ("0.0.0.0", 8000)
    assert s.max_upload_bytes == 50 * 1024 * 1024
    assert s.request_deadline_seconds == 60
    assert s.workers >= 1
    assert s.worker_memory_limit_bytes == s.worker_memory_limit_mb * 1024 * 1024
    with pytest.raises(ValueError):
        Settings(workers=0)


def test_settings_table_lists_every_field() -> None:
    table = settings_table()
    for name, field in Settings.model_fields.items():
        assert f"`{env_name(name)}`" in table and field.description in table


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("abc-DEF_1.2", "abc-DEF_1.2"),
        ("a b\r\nc", "abc"),
        ("x" * 300, "x" * 128),
        ("<>/ ", None),
        ("", None),
        (None, None),
    ],
)
def test_request_id_sanitizing(raw: str | None, expected: str | None) -> None:
    assert sanitize_request_id(raw) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('attachment; filename="报告.pdf"', "报告.pdf"),
        ("attachment; filename*=UTF-8''%E5%B9%B4%E5%BA%A6%E6%8A%A5%E5%91%8A.docx", "年度报告.docx"),
        ("inline", None),
        (None, None),
    ],
)
def test_filename_from_content_disposition(header: str | None, expected: str | None) -> None:
    assert filename_from_disposition(header) == expected


def test_clean_filename_keeps_only_the_base_name() -> None:
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("C:\\docs\\report\x00.pdf") == "report.pdf"
    assert clean_filename("a" * 400) == "a" * 255
    assert clean_filename("///") is None


def test_limited_receive_stops_reading_at_the_limit() -> None:
    """The body stream is abandoned as soon as the count passes the limit: later chunks are never pulled."""
    pulled = 0

    async def receive() -> dict:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 1000, "more_body": True}

    async def drain() -> None:
        wrapped = limited_receive(receive, limit=2500, max_bytes=2500)
        while True:
            await wrapped()

    with pytest.raises(FileTooLargeError) as err:
        asyncio.run(drain())
    assert pulled == 3
    assert err.value.extra == {"max_bytes": 2500}


def test_catalogue_parsing_splits_rules_and_lists() -> None:
    text = "id,template,table,label_zh,unit,sum_of\na.total,legacy|revised_2019,stats,合计,件,a.x+a.y\na.x,legacy,stats,甲,,\n"
    catalogue = parse_catalogue(text)
    assert catalogue.count == 2
    total, part = catalogue.indicators
    assert total.templates == ["legacy", "revised_2019"] and total.sum_of == ["a.x", "a.y"] and total.unit == "件"
    assert part.unit is None and part.sum_of == []


def test_unhandled_bug_in_a_route_is_a_generic_problem_with_the_request_id() -> None:
    """The middleware's last resort: a real bug still answers problem+json 500 with the usual headers."""
    import httpx

    from app import create_app

    app = create_app(Settings(workers=1))

    async def boom() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/boom", boom)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/boom", headers={"X-Request-ID": "bug-7"})

    r = asyncio.run(call())
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["x-request-id"] == "bug-7" and "x-processing-time-ms" in r.headers
    body = r.json()
    assert body["type"] == "https://govreport-extract.dev/problems/internal-error"
    assert body["request_id"] == "bug-7" and "secret" not in r.text
