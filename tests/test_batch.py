"""Batch extraction: discovery, resumable JSONL, worker crashes, the --server path, and a run over the corpus.

The corpus run goes through the command line twice, locally (worker processes)
and against an HTTP service, and checks that both give the same results and that
the panel it exports says exactly what the JSONL says.
"""
from __future__ import annotations

import csv
import email.parser
import email.policy
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import (
    BaseHTTPRequestHandler,
    SimpleHTTPRequestHandler,
    ThreadingHTTPServer,
)
from itertools import zip_longest
from pathlib import Path

import orjson
import pytest
from openpyxl import load_workbook

from extractors import extract
from extractors.__main__ import main
from extractors.errors import PROBLEM_TYPE_BASE
from extractors.batch import (
    BatchSettings,
    LocalEngine,
    ServerEngine,
    ServerSettings,
    discover,
    extract_file,
    problem_for,
    read_jsonl,
    retry_after_seconds,
    run_to_jsonl,
)
from extractors.dataset import REPORT_COLUMNS, indicator_columns
from extractors.dataset import _catalogue_rows as load_catalogue
from extractors.errors import (
    EmptyFileError,
    ExtractionError,
    FileTooLargeError,
    UnsupportedFormatError,
)

NAME = {c.id: c.name for c in indicator_columns()}  # canonical id -> the panel's variable name

GOLD_FOLDERS = ("txt", "docx", "html", "pdf")
DOC = "000_32e6960542ba4ec5"
# Headline indicators of both forms, checked against the gold labels in the panel (values come from gold/).
HEADLINE_IDS = ("active.total", "request.received.total", "requests.new.total", "requests.disclosed.total")


def gold_files(corpus: Path) -> list[Path]:
    """Every report file in the corpus format folders that has a gold label."""
    gold = {p.stem for p in (corpus / "gold").glob("*.json")}
    return sorted(p for f in GOLD_FOLDERS for p in (corpus / f).iterdir() if p.name.split(".")[0] in gold)


def expected_record(path: Path, file: str) -> dict:
    """The JSONL record the library itself gives for `path` (result, or problem for a failure)."""
    try:
        result = extract(path.read_bytes(), filename=path.name)
    except ExtractionError as e:
        return {"file": file, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "error": problem_for(e, file)}
    return {"file": file, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "result": json.loads(result.model_dump_json())}


# --------------------------------------------------------------------------- a stand-in service


class FakeService:
    """A tiny HTTP service on 127.0.0.1 that answers like `POST /v1/extract` by running the real engine.

    `saturated` makes it refuse each file name that many times with 503 + Retry-After
    before answering, the way the real service does when its pool is full.
    """

    def __init__(self, saturated: int = 0, retry_after: str = "0", answer: str = "json") -> None:
        self.saturated, self.retry_after, self.answer = saturated, retry_after, answer
        self.requests: dict[str, int] = {}
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path != "/healthz":
                    return self._send(404, b'{"status":404}', "application/problem+json")
                self._send(200, b'{"status":"ok"}', "application/json")

            def do_POST(self) -> None:
                if self.path != "/v1/extract":
                    return self._send(404, b'{"status":404}', "application/problem+json")
                body = self.rfile.read(int(self.headers["Content-Length"]))
                msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                    b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
                part = next(p for p in msg.iter_parts() if p.get_param("name", header="content-disposition") == "file")
                name, data = part.get_filename(), part.get_payload(decode=True)
                with service.lock:
                    seen = service.requests[name] = service.requests.get(name, 0) + 1
                if seen <= service.saturated:
                    return self._send(503, b'{"status":503,"title":"The extraction pool is saturated"}',
                                      "application/problem+json", {"Retry-After": service.retry_after})
                try:
                    result = extract(data, filename=name, content_type=part.get_content_type())
                except ExtractionError as e:
                    prob = problem_for(e, name)
                    prob.pop("file")
                    return self._send(int(prob["status"]), orjson.dumps(prob), "application/problem+json")
                if service.answer == "html":  # a captive portal or misrouted proxy
                    return self._send(200, b"<html><body>Welcome</body></html>", "text/html")
                indent = 2 if service.answer == "pretty" else None
                self._send(200, result.model_dump_json(indent=indent).encode() + b"\n", "application/json")

            def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @contextmanager
    def running(self) -> Iterator[str]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self.url
        finally:
            self.server.shutdown()
            self.server.server_close()


@contextmanager
def real_service(log_path: Path, **settings: str) -> Iterator[str]:
    """`python -m app` on a free 127.0.0.1 port (its settings from GOVREPORT_* variables), stopped afterwards."""
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GOVREPORT_HOST": "127.0.0.1", "GOVREPORT_PORT": str(port),
           **{f"GOVREPORT_{k.upper()}": v for k, v in settings.items()}}
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "app"], cwd=Path(__file__).resolve().parents[1], env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None, log_path.read_text(errors="replace")[-2000:]
                try:
                    if httpx.get(url + "/readyz", timeout=1, trust_env=False).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the service did not get ready in 30 s"
                time.sleep(0.2)
            yield url
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


# --------------------------------------------------------------------------- discovery and problems


def test_discover_walks_folders_expands_globs_and_reports_missing_paths(corpus: Path) -> None:
    jobs = discover([str(corpus / "txt"), str(corpus / "pdf" / "hongze_*.pdf"), str(corpus / "txt" / f"{DOC}.txt"),
                     str(corpus / "nope.docx"), str(corpus / "*.nothing")])
    names = [Path(j.file).name for j in jobs]
    assert names[:5] == sorted(p.name for p in (corpus / "txt").glob("*.txt"))
    assert names[5:7] == ["hongze_2023.pdf", "hongze_2024.pdf"]
    assert names.count(f"{DOC}.txt") == 1  # named twice, run once
    assert [j.error["status"] for j in jobs[7:]] == [400, 400]
    assert all(j.sha256 is None for j in jobs[7:])
    txt = jobs[0]
    assert txt.sha256 == hashlib.sha256(Path(txt.file).read_bytes()).hexdigest()


def test_discover_lists_file_types_it_does_not_read_with_their_reason(tmp_path: Path, corpus: Path) -> None:
    report = (corpus / "txt" / f"{DOC}.txt").read_bytes()
    (tmp_path / "report.dat").write_bytes(report)  # content decides: a report under an odd name is read
    (tmp_path / "blob.txt").write_bytes(bytes(range(256)) * 8)  # and a binary under a text name is not
    (tmp_path / ".hidden.txt").write_bytes(report)
    jobs = {Path(j.file).name: j for j in discover([str(tmp_path)])}
    assert set(jobs) == {"report.dat", "blob.txt"}
    assert jobs["report.dat"].error is None and jobs["report.dat"].sha256
    assert jobs["blob.txt"].error["type"].endswith("/not-read") and ".txt" in jobs["blob.txt"].error["detail"]
    corpus_jobs = discover([str(corpus)])
    assert all(j.error is None for j in corpus_jobs)  # every corpus file is text or a document: all go to the gate


def test_not_read_files_are_in_the_jsonl_and_the_summary(tmp_path: Path, corpus: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(corpus / "txt" / f"{DOC}.txt", folder)
    shutil.copy(corpus / "not_reports" / "api_error.json", folder)
    (folder / "blob.bin").write_bytes(bytes(range(256)) * 8)
    stream = io.StringIO()
    summary = run_to_jsonl([str(folder)], tmp_path / "r.jsonl", LocalEngine(BatchSettings(workers=1)), stream=stream)
    recs = {Path(r["file"]).name: r for r in read_jsonl(tmp_path / "r.jsonl")}
    assert "result" in recs[f"{DOC}.txt"]
    assert recs["api_error.json"]["error"]["type"].endswith("/not-a-report")  # text, refused by the gate
    assert recs["blob.bin"]["error"]["type"].endswith("/not-read")
    assert "not reports:    1 · file types not read: 1" in summary.render()


def test_empty_input_is_a_usage_error_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["batch", str(tmp_path / "empty"), "--out", str(tmp_path / "r.jsonl")]) == 2
    assert "No input files" in capsys.readouterr().err


def test_unreachable_server_stops_before_any_file(tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    started = time.monotonic()
    rc = main(["batch", str(corpus / "txt"), "--out", str(tmp_path / "r.jsonl"), "--server", f"http://127.0.0.1:{port}"])
    assert rc == 2 and time.monotonic() - started < 10
    assert "cannot be reached" in capsys.readouterr().err
    assert not (tmp_path / "r.jsonl").exists()


@pytest.mark.parametrize("bad", ["localhost:8000", "ftp://127.0.0.1/", "{fake}/wrong/prefix", "{web}"])
def test_mistyped_server_is_a_usage_error_before_any_file(
        bad: str, tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No scheme, another scheme, a wrong path on the right host, another web server: exit 2 at once, no output."""
    web = ThreadingHTTPServer(("127.0.0.1", 0), SimpleHTTPRequestHandler)  # answers GET with HTML, is no service
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        with FakeService().running() as fake:
            url = bad.format(fake=fake, web=f"http://127.0.0.1:{web.server_address[1]}")
            started = time.monotonic()
            rc = main(["batch", str(corpus / "txt"), "--out", str(tmp_path / "r.jsonl"), "--server", url])
    finally:
        web.shutdown()
        web.server_close()
    assert rc == 2 and time.monotonic() - started < 10
    err = capsys.readouterr().err
    assert f"--server {url}" in err and ("not an http(s) URL" in err or "not the extraction service" in err)
    assert not (tmp_path / "r.jsonl").exists()


def test_a_service_that_goes_away_stops_the_run_early_and_the_next_run_resumes(tmp_path: Path, corpus: Path) -> None:
    """Connection errors on one file stop the run: in-flight files stop retrying, the rest are not sent."""
    folder = tmp_path / "in"
    folder.mkdir()
    text = (corpus / "txt" / f"{DOC}.txt").read_bytes()
    for i in range(20):
        (folder / f"{i:02d}.txt").write_bytes(text + f"\n{i}\n".encode())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the block ends
    slept: list[float] = []
    engine = ServerEngine(ServerSettings(url=f"http://127.0.0.1:{port}", concurrency=2, max_attempts=5),
                          sleep=slept.append)
    started = time.monotonic()
    summary = run_to_jsonl([str(folder)], tmp_path / "r.jsonl", engine, quiet=True)
    assert time.monotonic() - started < 10
    recs = list(read_jsonl(tmp_path / "r.jsonl"))
    assert 1 <= len(recs) <= 2  # only the files in flight when the service was found gone
    assert all(r["error"]["type"].endswith("/service-unreachable") for r in recs)
    assert len(slept) <= 2 * 4  # at most the in-flight files' retries, not 20 × 4
    assert summary.stopped and summary.not_tried == 20 - len(recs)
    assert f"Stopped early: the service at http://127.0.0.1:{port} stopped answering; {20 - len(recs)} files not tried" in summary.render()
    with FakeService().running() as url:  # the service is back: the same command does the rest
        again = run_to_jsonl([str(folder)], tmp_path / "r.jsonl", ServerEngine(ServerSettings(url=url)), quiet=True)
    assert again.stopped is None and again.extracted == 20 and not again.failures


def _children(pid: int) -> set[int]:
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_stops_the_batch_and_its_workers(sig: signal.Signals, tmp_path: Path, corpus: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(150):  # enough work that the batch is still running when it is killed
        shutil.copy(corpus / "pdf" / "huaian_2024.pdf", folder / f"{i:03d}.pdf")
        with (folder / f"{i:03d}.pdf").open("ab") as f:
            f.write(b"\n%" + str(i).encode())  # distinct content: no copy is skipped as already done
    proc = subprocess.Popen([sys.executable, "-m", "extractors", "batch", str(folder), "--out", str(tmp_path / "r.jsonl"),
                             "--workers", "2", "-q"], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 2:
        workers = _children(proc.pid)
        time.sleep(0.1)
    assert len(workers) >= 2, "the batch did not start its workers"
    proc.send_signal(sig)
    assert proc.wait(30) == 130
    assert b"interrupted" in proc.stderr.read()
    time.sleep(0.5)
    alive = [w for w in workers if Path(f"/proc/{w}").exists() and "Z" not in Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1][:3]]
    assert alive == []


@pytest.mark.parametrize(("error", "status", "code"), [
    (EmptyFileError(), 400, "empty-file"),
    (UnsupportedFormatError("x"), 415, "unsupported-media-type"),
    (FileTooLargeError("x"), 413, "file-too-large"),
    (ExtractionError("x"), 422, "extraction-error"),
])
def test_problem_uses_the_error_class_code_and_title(error: ExtractionError, status: int, code: str) -> None:
    p = problem_for(error, "a.pdf")
    assert (p["status"], p["title"], p["file"]) == (status, type(error).title, "a.pdf")
    assert str(p["type"]).endswith("/" + code)


def test_problems_match_the_service_for_every_library_error() -> None:
    """A file fails the same way whether the batch ran locally or through the service."""
    import inspect

    from app.problems import problem_type, status_for
    from extractors import errors

    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, ExtractionError)]
    assert len(classes) >= 10
    for cls in classes:
        p = problem_for(cls("x"), "f")
        assert (p["status"], p["type"]) == (status_for(cls("x")), problem_type(cls.code)), cls


def test_a_runs_problem_base_names_the_type_of_every_problem_it_writes(tmp_path: Path) -> None:
    """`problem_base` (the CLI's --problem-base-uri) is the base of the problems of discovery, extraction and
    the CLI's output, as GOVREPORT_PROBLEM_BASE_URI is for the service."""
    base = "https://errors.example.org/gr/"
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01\x02\xff" * 64)  # not a format any reader handles
    (tmp_path / "empty.txt").write_bytes(b"")
    jobs = discover([str(tmp_path), str(tmp_path / "missing.pdf")], BatchSettings(problem_base=base))
    written = {Path(j.file).name: j.error["type"] for j in jobs if j.error is not None}
    assert written == {"blob.txt": base + "not-read", "missing.pdf": base + "bad-request"}
    ok, body = extract_file(str(tmp_path / "empty.txt"), base)
    assert not ok and json.loads(body)["type"] == base + "empty-file"
    assert problem_for(EmptyFileError(), "a.pdf")["type"] == PROBLEM_TYPE_BASE + "empty-file"
    out = tmp_path / "out.jsonl"
    main(["batch", str(tmp_path / "empty.txt"), "--out", str(out), "--workers", "1", "-q", "--problem-base-uri", base])
    assert [r["error"]["type"] for r in read_jsonl(out)] == [base + "empty-file"]


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now.timestamp()) == 30.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


# --------------------------------------------------------------------------- resume and crashes


def test_rerun_skips_done_files_by_content_hash_and_retries_failures(tmp_path: Path, corpus: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(corpus / "txt" / f"{DOC}.txt", src / "a.txt")
    shutil.copy(corpus / "txt" / f"{DOC}.txt", src / "same_bytes.txt")  # same content: extracted once
    (src / "empty.txt").write_bytes(b"")
    out = tmp_path / "r.jsonl"
    engine = LocalEngine(BatchSettings(workers=1))

    first = run_to_jsonl([str(src)], out, engine, quiet=True)
    lines = list(read_jsonl(out))
    assert sorted(Path(r["file"]).name for r in lines) == ["a.txt", "empty.txt", "same_bytes.txt"]
    by_name = {Path(r["file"]).name: r for r in lines}
    a, same = by_name["a.txt"], by_name["same_bytes.txt"]
    assert a["sha256"] == same["sha256"]
    assert a.get("result") == same.get("result") and set(a) == set(same)
    assert by_name["empty.txt"]["error"]["type"].endswith("/empty-file")
    assert by_name["empty.txt"]["error"]["file"] == str(src / "empty.txt")
    failed = sum("error" in r for r in lines)
    assert (first.files, first.skipped, len(first.failures)) == (3, 0, failed)

    second = run_to_jsonl([str(src)], out, engine, quiet=True)
    assert (second.files, second.skipped, len(second.failures)) == (3, 3 - failed, failed)
    again = list(read_jsonl(out))
    assert len(again) == 3 + failed and all("error" in r for r in again[3:])  # only failures are tried again


def test_interrupted_line_is_ignored_and_the_next_run_starts_a_clean_line(tmp_path: Path, corpus: Path) -> None:
    out = tmp_path / "r.jsonl"
    out.write_bytes(b'{"file": "x.txt", "sha256": "ab')  # what a kill mid-write leaves
    run_to_jsonl([str(corpus / "txt" / f"{DOC}.txt")], out, LocalEngine(BatchSettings(workers=1)), quiet=True)
    records = list(read_jsonl(out))
    assert [Path(r["file"]).name for r in records] == [f"{DOC}.txt"]


def hang_on_marked_file(path: str, base: str = PROBLEM_TYPE_BASE) -> tuple[bool, bytes]:
    """A worker task that never finishes on files named hang* (a pathological file)."""
    if Path(path).name.startswith("hang"):
        time.sleep(3600)
    from extractors.batch import extract_file

    return extract_file(path, base)


def test_a_file_past_its_timeout_is_killed_and_recorded_the_rest_goes_on(tmp_path: Path, corpus: Path) -> None:
    for name in ("a.txt", "hang.txt", "b.txt"):
        (tmp_path / name).write_bytes((corpus / "txt" / f"{DOC}.txt").read_bytes() + name.encode())
    out = tmp_path / "r.jsonl"
    start = time.monotonic()
    summary = run_to_jsonl([str(tmp_path)], out, LocalEngine(BatchSettings(workers=2, task_timeout=2.0),
                                                             task=hang_on_marked_file), quiet=True)
    assert time.monotonic() - start < 30  # not the hour the file asked for
    records = {Path(r["file"]).name: r for r in read_jsonl(out)}
    assert records["hang.txt"]["error"]["type"].endswith("/timeout") and records["hang.txt"]["error"]["status"] == 504
    assert "result" in records["a.txt"] and "result" in records["b.txt"]
    assert [Path(f["file"]).name for f in summary.failures] == ["hang.txt"]


def crash_on_marked_file(path: str, base: str = PROBLEM_TYPE_BASE) -> tuple[bool, bytes]:
    """A worker task that dies like a segfaulting native library on files named crash*."""
    if Path(path).name.startswith("crash"):
        os._exit(139)
    from extractors.batch import extract_file

    return extract_file(path, base)


def test_a_crashing_worker_fails_only_its_own_file(tmp_path: Path, corpus: Path) -> None:
    for name in ("a.txt", "b.txt", "crash.txt", "c.txt"):
        (tmp_path / name).write_bytes((corpus / "txt" / f"{DOC}.txt").read_bytes() + name.encode())
    out = tmp_path / "r.jsonl"
    summary = run_to_jsonl([str(tmp_path)], out, LocalEngine(BatchSettings(workers=2), task=crash_on_marked_file),
                           quiet=True)
    records = {Path(r["file"]).name: r for r in read_jsonl(out)}
    assert set(records) == {"a.txt", "b.txt", "c.txt", "crash.txt"}
    assert records["crash.txt"]["error"]["type"].endswith("/worker-crashed")
    assert [f["file"] for f in summary.failures] == [str(tmp_path / "crash.txt")]


# --------------------------------------------------------------------------- the --server path


def test_server_mode_retries_503_honouring_retry_after(tmp_path: Path, corpus: Path) -> None:
    fake = FakeService(saturated=2, retry_after="3")
    slept: list[float] = []
    with fake.running() as url:
        engine = ServerEngine(ServerSettings(url=url, concurrency=2, max_attempts=3), sleep=slept.append)
        summary = run_to_jsonl([str(corpus / "txt" / f"{DOC}.txt"), str(tmp_path / "missing.txt")],
                               tmp_path / "r.jsonl", engine, quiet=True)
    assert fake.requests == {f"{DOC}.txt": 3}
    assert slept == [3.0, 3.0]
    rec = next(r for r in read_jsonl(tmp_path / "r.jsonl") if r["file"].endswith(f"{DOC}.txt"))
    assert rec == expected_record(corpus / "txt" / f"{DOC}.txt", rec["file"])
    assert summary.files == 2 and len(summary.failures) == 1 + ("error" in rec)


def test_server_mode_gives_up_after_bounded_attempts(tmp_path: Path, corpus: Path) -> None:
    fake = FakeService(saturated=100)
    with fake.running() as url:
        engine = ServerEngine(ServerSettings(url=url, max_attempts=3), sleep=lambda s: None)
        run_to_jsonl([str(corpus / "txt" / f"{DOC}.txt")], tmp_path / "r.jsonl", engine, quiet=True)
    assert fake.requests == {f"{DOC}.txt": 3}
    (rec,) = read_jsonl(tmp_path / "r.jsonl")
    assert rec["error"]["status"] == 503 and rec["error"]["file"].endswith(f"{DOC}.txt")


def test_server_mode_keeps_the_service_problem_and_survives_a_dead_service(tmp_path: Path, corpus: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with FakeService().running() as url:
        run_to_jsonl([str(empty)], tmp_path / "r.jsonl", ServerEngine(ServerSettings(url=url)), quiet=True)
    (rec,) = read_jsonl(tmp_path / "r.jsonl")
    assert rec["error"]["status"] == 400 and rec["error"]["type"].endswith("/empty-file")
    # The service is gone now: a connection error is retried, then recorded.
    engine = ServerEngine(ServerSettings(url=url, max_attempts=2, backoff=0.01))
    run_to_jsonl([str(corpus / "txt" / f"{DOC}.txt")], tmp_path / "dead.jsonl", engine, quiet=True)
    (dead,) = read_jsonl(tmp_path / "dead.jsonl")
    assert dead["error"]["type"].endswith("/service-unreachable")


def test_server_mode_stores_pretty_json_on_one_line_and_refuses_non_json(tmp_path: Path, corpus: Path) -> None:
    txt = corpus / "txt" / f"{DOC}.txt"
    with FakeService(answer="pretty").running() as url:
        run_to_jsonl([str(txt)], tmp_path / "r.jsonl", ServerEngine(ServerSettings(url=url)), quiet=True)
    assert len((tmp_path / "r.jsonl").read_bytes().splitlines()) == 1
    (rec,) = read_jsonl(tmp_path / "r.jsonl")
    assert rec == expected_record(txt, str(txt))
    with FakeService(answer="html").running() as url:
        run_to_jsonl([str(txt)], tmp_path / "html.jsonl", ServerEngine(ServerSettings(url=url)), quiet=True)
    (rec,) = read_jsonl(tmp_path / "html.jsonl")
    assert rec["error"]["type"].endswith("/bad-response") and rec["error"]["status"] == 502


# --------------------------------------------------------------------------- the corpus, end to end


def _lines(path: Path) -> dict[str, dict]:
    return {Path(r["file"]).name: r for r in read_jsonl(path)}


def _first_values(result: dict) -> dict[str, object]:
    out: dict[str, object] = {}
    for ind in result["indicators"]:
        out.setdefault(ind["id"], ind["value"])
    return out


def _csv_value(value: object) -> str:
    return "" if value is None else str(value)


def assert_panel_says_what_the_jsonl_says(records: dict[str, dict], panel_csv: Path, panel_xlsx: Path,
                                          min_confidence: float) -> None:
    catalogue_ids = [r["id"] for r in load_catalogue()]
    names = {c.id: c.name for c in indicator_columns()}
    first = len(REPORT_COLUMNS)
    with panel_csv.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [Path(r["file"]).name for r in rows] == sorted(records, key=lambda n: records[n]["file"])
    header = list(rows[0])
    assert header[first:first + len(catalogue_ids)] == [names[i] for i in catalogue_ids]
    wb = load_workbook(panel_xlsx, read_only=True)
    xrows = list(wb["panel"].iter_rows(values_only=True))
    assert list(xrows[1]) == header  # row 1 is the Chinese labels
    assert xrows[0][first] == load_catalogue()[0]["label_zh"]
    low_expected = 0
    for row, xrow in zip(rows, xrows[2:], strict=True):
        rec = records[Path(row["file"]).name]
        xcell = dict(zip_longest(header, xrow))  # a streamed sheet may end a row at its last value
        if "error" in rec:
            assert row["error"].startswith(rec["error"]["title"])
            assert all(row[names[i]] == "" for i in catalogue_ids)
            continue
        result = rec["result"]
        doc = result["document"]
        assert (row["agency"], row["year"], row["template"], row["format"]) == (
            _csv_value(doc["agency"]["value"]), _csv_value(doc["report_year"]["value"]),
            doc["template"]["value"], doc["format"])
        assert row["findings"] == str(len(result["validation"]))
        values = _first_values(result)
        for iid in catalogue_ids:
            assert row[names[iid]] == _csv_value(values.get(iid)), (row["file"], iid)
            assert xcell[names[iid]] == values.get(iid), (row["file"], iid)
        firsts = {}
        for i in result["indicators"]:
            firsts.setdefault(i["id"], i["confidence"])
        confs = [c for i, c in firsts.items() if i in {c.id for c in indicator_columns()}] + [
            doc[k]["confidence"] for k in ("agency", "report_year", "template")]
        assert float(row["min_confidence"]) == min(confs)
        seen: set[str] = set()
        panel_ids = {c.id for c in indicator_columns()}
        low_expected += sum(1 for i in result["indicators"] if i["id"] not in seen and not seen.add(i["id"])
                            and i["id"] in panel_ids and i["confidence"] < min_confidence)
        low_expected += sum(1 for k in ("agency", "report_year", "template") if doc[k]["confidence"] < min_confidence)
    review = panel_csv.with_name(panel_csv.stem + "_review.csv")
    with review.open(encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.DictReader(f))) == low_expected
    assert sum(1 for _ in wb["review"].iter_rows(values_only=True)) == low_expected + 1
    dictionary = [r for r in wb["dictionary"].iter_rows(min_row=2, values_only=True)]
    assert [r[0] for r in dictionary][first:first + len(catalogue_ids)] == [names[i] for i in catalogue_ids]
    assert [r[1] for r in dictionary][first:first + len(catalogue_ids)] == catalogue_ids


def assert_headline_gold_values_in_panel(panel_csv: Path, corpus: Path) -> None:
    """The researchers' view: metadata and headline numbers of every report as the gold labels have them."""
    with panel_csv.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        checked = 0
        gold = json.loads((corpus / "gold" / (Path(row["file"]).name.split(".")[0] + ".json")).read_text(encoding="utf-8"))
        assert (row["agency"], row["year"], row["template"]) == (gold["agency"], str(gold["report_year"]), gold["template"]), row["file"]
        for iid in HEADLINE_IDS:
            if gold["indicators"].get(iid) is not None:
                assert row[NAME[iid]] == str(gold["indicators"][iid]), (row["file"], iid)
                checked += 1
        assert checked >= 1, row["file"]  # e.g. 000 request.received.total = 6, 003 requests.new.total = 224


def test_batch_over_the_corpus_locally_and_through_the_service(
        tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = gold_files(corpus)
    folders = [str(corpus / f) for f in GOLD_FOLDERS]
    local, panel_csv, panel_xlsx = tmp_path / "local.jsonl", tmp_path / "panel.csv", tmp_path / "panel.xlsx"
    rc = main(["batch", *folders, "--out", str(local), "--workers", "2",
               "--csv", str(panel_csv), "--xlsx", str(panel_xlsx), "--min-confidence", "0.9"])
    err = capsys.readouterr().err
    records = _lines(local)
    assert sorted(records) == sorted(p.name for p in files)
    for path in files:
        rec = records[path.name]
        assert rec["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert ("result" in rec) != ("error" in rec)
    failed = [n for n, r in records.items() if "error" in r]
    assert rc == (1 if failed else 0)
    assert f"Summary: {len(files)} files" in err and f"{len(files)}/{len(files)} 100%" in err
    assert all(n in err for n in failed)

    # One line checked against the library called directly: the JSONL embeds the exact response.
    txt = corpus / "txt" / f"{DOC}.txt"
    assert records[txt.name] == expected_record(txt, records[txt.name]["file"])

    assert_panel_says_what_the_jsonl_says(records, panel_csv, panel_xlsx, 0.9)
    assert_headline_gold_values_in_panel(panel_csv, corpus)

    # A second run has nothing left to do but the failures.
    main(["batch", *folders, "--out", str(local), "--workers", "2", "-q"])
    assert f"{len(files) - len(failed)} already done" in capsys.readouterr().err
    assert len(list(read_jsonl(local))) == len(files) + len(failed)

    # The same batch through the real service, kept saturated (2 workers, no queue, 4 clients) so the
    # batch meets 503 + Retry-After and has to retry: same results, same failures.
    remote, log = tmp_path / "remote.jsonl", tmp_path / "service.log"
    with real_service(log, workers="2", max_queue="0") as url:
        rc_remote = main(["batch", *folders, "--out", str(remote), "--server", url, "--concurrency", "4",
                          "--retries", "30", "-q"])
    assert rc_remote == rc
    assert '"route": "/v1/extract", "status": 503' in log.read_text(errors="replace")  # the JSON access log
    remote_records = _lines(remote)
    assert sorted(remote_records) == sorted(records)
    for name, rec in records.items():
        other = remote_records[name]
        if "result" in rec:
            assert other.get("result") == rec["result"], name
        else:
            assert other["error"]["status"] == rec["error"]["status"], name


def test_a_folder_readme_and_portal_pages_are_listed_as_not_reports(tmp_path: Path, corpus: Path) -> None:
    """Decided from the content by the extractor's not-a-report gate (engine-text), not from the file names."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(corpus / "txt" / f"{DOC}.txt", folder)
    shutil.copy(corpus / "README.md", folder / "README.md")
    shutil.copy(corpus / "not_reports" / "portal_404.html", folder)
    summary = run_to_jsonl([str(folder)], tmp_path / "r.jsonl", LocalEngine(BatchSettings(workers=1)), quiet=True)
    recs = {Path(r["file"]).name: r for r in read_jsonl(tmp_path / "r.jsonl")}
    assert "result" in recs[f"{DOC}.txt"]
    for name in ("README.md", "portal_404.html"):
        assert recs[name]["error"]["type"].endswith("/not-a-report"), name
    assert "not reports:    2" in summary.render()
