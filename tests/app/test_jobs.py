"""Async jobs over real HTTP against `python -m app` (SQLite store): 202 + Location, polling with page progress,
the same result as /v1/extract, problems, DELETE that frees the worker, a SIGKILLed worker, TTL expiry, the
upload limits and spool quota, and the allow-listed callback webhook."""
from __future__ import annotations

import http.server
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from jobs_live import many_pages_pdf, poll, start_service, tree

PROBLEM = "https://govreport-extract.dev/problems/"
BIG_PAGES = 500  # the default page limit: ~2.5 CPU-s of reading on a quiet core (more when loaded), long enough to watch and to cancel


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmpdir = tmp_path_factory.mktemp("jobs-tmp")
    svc = start_service(tmpdir, job_stale_seconds=3, callback_hosts="127.0.0.1", callback_attempts=3)
    svc.tmpdir = tmpdir
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def big_pdf(corpus: Path) -> bytes:
    return many_pages_pdf(min((corpus / "pdf").glob("*.pdf")), BIG_PAGES)


def _client(svc: Any) -> httpx.Client:
    return httpx.Client(base_url=svc.url, timeout=120)


def _submit(client: httpx.Client, name: str, data: bytes, **params: str) -> httpx.Response:
    return client.post("/v1/jobs", files={"file": (name, data)}, params=params)


def _wait_running_with_progress(client: httpx.Client, location: str) -> dict:
    """Poll until the job runs and has read some, not all, of its pages."""
    end = time.monotonic() + 60
    while time.monotonic() < end:
        body = client.get(location).json()
        done, total = body["progress"]["pages_done"], body["progress"]["pages_total"]
        assert body["status"] in ("queued", "running"), body
        if body["status"] == "running" and done and total and done < total:
            return body
        time.sleep(0.1)
    raise AssertionError(f"no partial progress seen: {body}")


@pytest.mark.parametrize("fmt", ["pdf", "docx", "html"])
def test_job_gives_202_location_retry_after_and_then_the_extract_result(service: Any, corpus: Path, fmt: str) -> None:
    path = min((corpus / fmt).iterdir())
    data = path.read_bytes()
    with _client(service) as client:
        r = _submit(client, path.name, data)
        assert r.status_code == 202, r.text
        job = r.json()
        assert r.headers["location"] == f"/v1/jobs/{job['id']}"
        assert int(r.headers["retry-after"]) >= 1
        assert job["status"] in ("queued", "running") and job["result"] is None and job["filename"] == path.name
        final = poll(client, r.headers["location"])
        direct = client.post("/v1/extract", files={"file": (path.name, data)})
        assert direct.status_code == 200
        again = client.get(r.headers["location"])
    assert final["status"] == "succeeded", final
    assert final["problem"] is None and "retry-after" not in again.headers
    assert final["result"] == direct.json()  # the same extraction, value for value
    assert any(i["value"] is not None for i in final["result"]["indicators"])
    assert final["started_at"] >= final["created_at"] and final["finished_at"] >= final["started_at"]
    if fmt == "pdf":
        pages = direct.json()["document"]["pages"]
        assert pages and final["progress"] == {"pages_done": pages, "pages_total": pages}


def test_job_honours_include_and_min_confidence(service: Any, corpus: Path) -> None:
    path = min((corpus / "docx").iterdir())
    params = {"include": "indicators", "min_confidence": "0.9"}
    with _client(service) as client:
        r = client.post("/v1/jobs", files={"file": (path.name, path.read_bytes())}, params=params)
        final = poll(client, r.headers["location"])
        direct = client.post("/v1/extract", files={"file": (path.name, path.read_bytes())}, params=params).json()
    assert final["result"] == direct
    assert set(direct) >= {"indicators"} and "sections" not in direct
    assert direct["indicators"] and all(i["confidence"] >= 0.9 for i in direct["indicators"])


def test_a_failing_input_fails_its_job_with_the_problem(service: Any) -> None:
    with _client(service) as client:
        r = _submit(client, "report.pdf", b"%PDF-1.7\n" + b"\x00broken" * 200)
        assert r.status_code == 202
        final = poll(client, r.headers["location"])
        zh = client.get(r.headers["location"], headers={"Accept-Language": "zh-CN"}).json()
    assert final["status"] == "failed" and final["result"] is None
    problem = final["problem"]
    assert problem["type"] == PROBLEM + "corrupt-file" and problem["status"] == 422
    assert problem["instance"] == r.headers["location"]
    assert zh["problem"]["type"] == problem["type"] and zh["problem"]["title"] != problem["title"]


def test_unknown_or_malformed_job_ids(service: Any) -> None:
    with _client(service) as client:
        missing = client.get("/v1/jobs/" + "0" * 32)
        bad = client.get("/v1/jobs/not-an-id")
        gone = client.delete("/v1/jobs/" + "0" * 32)
    assert missing.status_code == 404 and missing.json()["type"] == PROBLEM + "job-not-found"
    assert gone.status_code == 404
    assert bad.status_code == 400


def test_progress_is_reported_while_running_and_delete_frees_the_worker(
    service: Any, big_pdf: bytes, corpus: Path
) -> None:
    small = min((corpus / "docx").iterdir())
    with _client(service) as client:
        r = _submit(client, "big.pdf", big_pdf)
        location = r.headers["location"]
        seen = _wait_running_with_progress(client, location)
        assert seen["progress"]["pages_total"] == BIG_PAGES
        later = _wait_running_with_progress(client, location)
        assert later["progress"]["pages_done"] >= seen["progress"]["pages_done"]
        # the job's upload waits in the spool directory as a file, not in the server's memory
        spooled = [p for p in tree(service.tmpdir) if p.endswith("job-" + seen["id"])]
        assert len(spooled) == 1 and (service.tmpdir / spooled[0]).stat().st_size == len(big_pdf)
        [worker] = service.worker_pids()
        t0 = time.monotonic()
        d = client.delete(location)
        assert d.status_code == 200, d.text
        assert d.json()["status"] == "failed" and d.json()["problem"]["type"] == PROBLEM + "job-cancelled"
        after = client.get(location).json()
        assert after["status"] == "failed" and after["problem"]["type"] == PROBLEM + "job-cancelled"
        nxt = _submit(client, small.name, small.read_bytes())
        done = poll(client, nxt.headers["location"], timeout=30)
        took = time.monotonic() - t0
    assert done["status"] == "succeeded"
    # the cancelled job had ~BIG_PAGES - pages_done pages to go; the next job ran on a fresh worker at once
    assert took < 15, took
    assert not Path(f"/proc/{worker}").exists() or worker not in service.worker_pids()
    assert not [p for p in tree(service.tmpdir) if "job-" + seen["id"] in p]


def test_a_job_whose_worker_is_killed_fails_cleanly_and_says_so(service: Any, big_pdf: bytes, corpus: Path) -> None:
    with _client(service) as client:
        r = _submit(client, "big.pdf", big_pdf)
        _wait_running_with_progress(client, r.headers["location"])
        [worker] = service.worker_pids()
        os.kill(worker, signal.SIGKILL)
        final = poll(client, r.headers["location"], timeout=30)
        small = min((corpus / "html").iterdir())
        after = poll(client, _submit(client, small.name, small.read_bytes()).headers["location"])
    assert final["status"] == "failed" and final["result"] is None
    assert final["problem"]["type"] == PROBLEM + "worker-crashed" and final["problem"]["status"] == 500
    assert "-9" in final["problem"]["detail"]  # the exit code of the SIGKILL
    assert after["status"] == "succeeded"  # the pool replaced the worker


def test_delete_of_a_finished_job_forgets_it(service: Any, corpus: Path) -> None:
    path = min((corpus / "txt").iterdir())
    with _client(service) as client:
        r = _submit(client, path.name, path.read_bytes())
        final = poll(client, r.headers["location"])
        d = client.delete(r.headers["location"])
        gone = client.get(r.headers["location"])
    assert final["status"] == "succeeded"
    assert d.status_code == 200 and d.json()["status"] == "succeeded"
    assert gone.status_code == 404


def test_the_sqlite_store_is_the_only_file_left(service: Any, corpus: Path) -> None:
    """After jobs, TMPDIR holds the deliberate `govreport-jobs/` store and the service's own spool dir, nothing else."""
    files = tree(service.tmpdir)
    assert "govreport-jobs/govreport-jobs.sqlite3" in files
    strays = [p for p in files if not p.startswith(("govreport-jobs", "govreport-spool-", "pymp-"))]
    assert strays == []
    assert not [p for p in files if "/job-" in p or "/upload-" in p]


# ---- callbacks ----------------------------------------------------------------------------------------


class _Receiver(http.server.BaseHTTPRequestHandler):
    """Answers 503 to the first POST, 200 afterwards; records every body."""

    bodies: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Receiver.bodies.append(body)
        self.send_response(503 if len(_Receiver.bodies) == 1 else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def receiver() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Receiver.bodies.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def test_callback_posts_the_final_status_and_is_retried(service: Any, corpus: Path, receiver: str) -> None:
    path = min((corpus / "docx").iterdir())
    with _client(service) as client:
        r = _submit(client, path.name, path.read_bytes(), callback_url=receiver)
        assert r.status_code == 202, r.text
        final = poll(client, r.headers["location"])
    end = time.monotonic() + 30
    while len(_Receiver.bodies) < 2 and time.monotonic() < end:
        time.sleep(0.05)
    assert len(_Receiver.bodies) == 2  # the first attempt got 503, the retry was accepted, no third
    time.sleep(1)
    assert len(_Receiver.bodies) == 2
    last = _Receiver.bodies[-1]
    assert last["id"] == final["id"] and last["status"] == "succeeded"
    assert "result" not in last  # the status, not the result: fetch it from Location


def test_callback_to_a_host_not_allowed_is_refused(service: Any, corpus: Path) -> None:
    data = min((corpus / "txt").iterdir()).read_bytes()
    with _client(service) as client:
        for url in ("http://example.org/hook", "ftp://127.0.0.1/hook", "http://127.0.0.1.example.org/x"):
            r = _submit(client, "r.txt", data, callback_url=url)
            assert r.status_code == 400 and r.json()["type"] == PROBLEM + "callback-not-allowed", (url, r.text)


# ---- limits, spool quota, TTL (a second service with small limits) ------------------------------------

TTL = 2
UPLOAD_LIMIT = 600 * 1024


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmpdir = tmp_path_factory.mktemp("jobs-limited")
    svc = start_service(tmpdir, job_ttl_seconds=TTL, max_upload_bytes=UPLOAD_LIMIT, spool_quota_mb=1, max_queue=0)
    svc.tmpdir = tmpdir
    yield svc
    svc.stop()


def test_finished_jobs_expire_after_the_ttl(limited: Any, corpus: Path) -> None:
    path = min((corpus / "txt").iterdir())
    with _client(limited) as client:
        r = _submit(client, path.name, path.read_bytes())
        final = poll(client, r.headers["location"])
        assert final["status"] == "succeeded"
        expires = final["expires_at"]
        time.sleep(TTL + 0.5)
        gone = client.get(r.headers["location"])
    assert expires > final["finished_at"]
    assert gone.status_code == 404 and gone.json()["type"] == PROBLEM + "job-not-found"


def test_callbacks_are_off_by_default(limited: Any, corpus: Path) -> None:
    with _client(limited) as client:
        r = _submit(client, "r.txt", min((corpus / "txt").iterdir()).read_bytes(), callback_url="http://127.0.0.1:1/x")
    assert r.status_code == 400 and r.json()["type"] == PROBLEM + "callback-not-allowed"


def test_upload_limit_applies_to_jobs(limited: Any) -> None:
    with _client(limited) as client:
        multipart = _submit(client, "big.txt", b"x" * (UPLOAD_LIMIT + 1))
        raw = client.post("/v1/jobs", content=b"x" * (UPLOAD_LIMIT + 1), params={"filename": "big.txt"})
        empty = client.post("/v1/jobs", content=b"", params={"filename": "e.txt"})
    for r in (multipart, raw):
        assert r.status_code == 413 and r.json()["type"] == PROBLEM + "file-too-large"
    assert empty.status_code == 400


def test_queued_jobs_hold_their_upload_in_the_spool_quota(limited: Any, big_pdf: bytes, corpus: Path) -> None:
    """1 MiB quota: a running PDF job and a queued 400 kB text job fill it; one more 400 kB upload (job or sync)
    is 503 spool-full until they are cancelled; then the quota is free again."""
    text = (min((corpus / "txt").iterdir()).read_bytes() * 400)[: 400 * 1024]
    quota = 1024 * 1024
    assert len(big_pdf) + len(text) < quota < len(big_pdf) + 2 * len(text) and len(big_pdf) < UPLOAD_LIMIT
    with _client(limited) as client:
        first = _submit(client, "a.pdf", big_pdf)
        second = _submit(client, "b.txt", text)
        assert first.status_code == 202 and second.status_code == 202, second.text
        assert poll(client, first.headers["location"], until=("running",))["status"] == "running"
        assert client.get(second.headers["location"]).json()["status"] == "queued"  # one worker, busy
        third = _submit(client, "c.txt", text)
        sync = client.post("/v1/extract", files={"file": ("d.txt", text)})
        for r in (third, sync):
            assert r.status_code == 503 and r.json()["type"] == PROBLEM + "spool-full", r.text
        for r in (first, second):
            assert client.delete(r.headers["location"]).status_code == 200
        time.sleep(0.5)
        fourth = _submit(client, "e.txt", text)
        assert fourth.status_code == 202, fourth.text
        assert poll(client, fourth.headers["location"])["status"] == "succeeded"


def test_a_job_waits_for_a_pool_busy_with_synchronous_requests(limited: Any, corpus: Path) -> None:
    """One worker, no queue: a sync request holding the worker makes a second sync request 503, but a job
    submitted meanwhile waits its turn and then succeeds."""
    long_pdf = many_pages_pdf(min((corpus / "pdf").glob("*.pdf")), 120)
    small = min((corpus / "docx").iterdir())
    outcome: dict[str, float] = {}

    def sync_request() -> None:
        with _client(limited) as c:
            outcome["sync"] = c.post("/v1/extract", files={"file": ("long.pdf", long_pdf)}).status_code
            outcome["sync_done"] = time.time()

    thread = threading.Thread(target=sync_request)
    thread.start()
    with _client(limited) as client:
        end = time.monotonic() + 30
        while "busy 1" not in _busy(client) and time.monotonic() < end:
            time.sleep(0.05)
        refused = client.post("/v1/extract", files={"file": (small.name, small.read_bytes())})
        r = _submit(client, small.name, small.read_bytes())
        final = poll(client, r.headers["location"])
    thread.join(60)
    assert refused.status_code == 503 and refused.json()["type"] == PROBLEM + "pool-saturated"
    assert outcome["sync"] == 200 and final["status"] == "succeeded"
    # it ran once the synchronous request had given the worker back
    assert datetime.fromisoformat(final["started_at"]).timestamp() >= outcome["sync_done"] - 1.0


def _busy(client: httpx.Client) -> str:
    ready = client.get("/readyz").json()
    return f"busy {ready['busy']}"


def test_jobs_deleted_at_once_give_their_spool_space_back(limited: Any, corpus: Path) -> None:
    """Six 400 kB jobs cancelled right after submission in a 1 MiB quota: none of them keeps its bytes."""
    text = (min((corpus / "txt").iterdir()).read_bytes() * 400)[: 400 * 1024]
    with _client(limited) as client:
        for _ in range(6):
            r = _submit(client, "t.txt", text)
            assert r.status_code == 202, r.text
            assert client.delete(r.headers["location"]).status_code == 200
        time.sleep(0.5)
        last = _submit(client, "t.txt", text)
        assert last.status_code == 202, last.text
        assert poll(client, last.headers["location"])["status"] == "succeeded"
    assert not [p for p in tree(limited.tmpdir) if "/job-" in p]


def test_the_pdf_reader_reports_every_page_in_order(corpus: Path) -> None:
    """The hook the worker's progress messages come from: (done, total) for each page, ending at total."""
    from extractors import ExtractOptions, ReadOptions, extract

    path = min((corpus / "pdf").glob("*.pdf"))
    calls: list[tuple[int, int]] = []
    result = extract(path.read_bytes(), path.name, None, ExtractOptions(read=ReadOptions(on_page=lambda d, t: calls.append((d, t)))))
    pages = result.document.pages
    assert pages and calls == [(i, pages) for i in range(1, pages + 1)]
    assert ReadOptions(on_page=print) == ReadOptions()  # a hook is not a setting: equality ignores it


# ---- job slots and job metrics (2 workers) ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """2 workers with the default job slots (all but one), room for 2 pending jobs, 1,500-page PDFs allowed,
    callbacks to loopback, and a deployment's own problem base URI."""
    tmpdir = tmp_path_factory.mktemp("jobs-two")
    svc = start_service(
        tmpdir, workers=2, max_jobs_pending=2, max_pages=LONG_PAGES, callback_hosts="127.0.0.1",
        callback_attempts=3, problem_base_uri=DEPLOYED_BASE,
    )
    yield svc
    svc.stop()


LONG_PAGES = 1500  # ~8 CPU-s on a quiet core: the first job is still running when the checks below are done
DEPLOYED_BASE = "https://errors.example.org/govreport/"


def _metrics(client: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for s in family.samples
    }


def test_jobs_leave_a_worker_for_synchronous_requests_and_are_counted(two_workers: Any, corpus: Path) -> None:
    """Two long jobs on a 2-worker replica: one runs, one stays `queued` for the job slot, and a synchronous
    extract is answered at once by the worker jobs may not take; /metrics shows jobs by state, submissions and
    refusals by outcome, and durations by outcome."""
    long_pdf = many_pages_pdf(min((corpus / "pdf").glob("*.pdf")), LONG_PAGES)
    small = min((corpus / "docx").iterdir())
    with _client(two_workers) as client:
        before = _metrics(client)
        first, second = (_submit(client, f"long{i}.pdf", long_pdf) for i in (1, 2))
        assert first.status_code == 202 and second.status_code == 202, second.text
        assert poll(client, first.headers["location"], until=("running",), timeout=60)["status"] == "running"
        time.sleep(1.0)  # the second job had every chance to take the other worker
        assert client.get(second.headers["location"]).json()["status"] == "queued"
        t0 = time.monotonic()
        sync = client.post("/v1/extract", files={"file": (small.name, small.read_bytes())})
        took = time.monotonic() - t0
        assert sync.status_code == 200, sync.text
        states = {k: client.get(r.headers["location"]).json()["status"] for k, r in (("first", first), ("second", second))}
        assert states == {"first": "running", "second": "queued"}, states
        assert took < 10, f"the synchronous extract waited {took:.1f} s"
        print(f"sync extract beside a running and a queued 1,500-page job: {took:.2f} s")
        during = _metrics(client)
        assert during[("govreport_jobs", (("state", "running"),))] == 1
        assert during[("govreport_jobs", (("state", "queued"),))] == 1
        full = _submit(client, small.name, small.read_bytes())  # max_jobs_pending=2: refused before its body
        assert full.status_code == 503 and full.json()["type"] == DEPLOYED_BASE + "pool-saturated"
        no_callback = _submit(client, small.name, small.read_bytes(), callback_url="http://example.org/x")
        assert no_callback.status_code == 400
        for r in (second, first):
            assert client.delete(r.headers["location"]).status_code == 200
        quick = _submit(client, small.name, small.read_bytes())
        assert poll(client, quick.headers["location"])["status"] == "succeeded"
        end = time.monotonic() + 10
        while time.monotonic() < end:  # the cancelled tasks record their end as they unwind
            after = _metrics(client)
            if after[("govreport_job_duration_seconds_count", (("outcome", "cancelled"),))] >= 2:
                break
            time.sleep(0.1)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("govreport_job_submissions_total", outcome="accepted") == 3
    assert grew("govreport_job_submissions_total", outcome="pool-saturated") == 1
    assert grew("govreport_job_submissions_total", outcome="callback-not-allowed") == 1
    assert grew("govreport_job_duration_seconds_count", outcome="cancelled") == 2
    assert grew("govreport_job_duration_seconds_count", outcome="succeeded") == 1
    assert grew("govreport_job_duration_seconds_count", outcome="failed") == 0
    assert after[("govreport_jobs", (("state", "running"),))] == 0
    assert after[("govreport_jobs", (("state", "queued"),))] == 0
    # the quick job's duration is in a bucket well under the long ones' (it did not wait behind them)
    assert after[("govreport_job_duration_seconds_bucket", (("le", "30.0"), ("outcome", "succeeded")))] >= 1
    job_series = {k for k in after if k[0].startswith("govreport_job")}
    assert {dict(labels).get("outcome", dict(labels).get("state")) for _, labels in job_series} <= {
        "accepted", "pool-saturated", "callback-not-allowed", "succeeded", "failed", "cancelled", "queued", "running",
    }


def test_job_slots_default_to_all_workers_but_one() -> None:
    from app.jobs import job_slots

    assert [job_slots(0, w) for w in (1, 2, 3, 8)] == [1, 1, 2, 7]
    assert [job_slots(n, 4) for n in (1, 4, 9)] == [1, 4, 4]



def test_a_failed_jobs_record_and_callback_carry_the_deployments_problem_base(two_workers: Any, receiver: str) -> None:
    """The callback is sent without a request: its problem `type` is under GOVREPORT_PROBLEM_BASE_URI too."""
    with _client(two_workers) as client:
        r = _submit(client, "report.pdf", b"%PDF-1.7\n" + b"\x00broken" * 200, callback_url=receiver)
        assert r.status_code == 202, r.text
        final = poll(client, r.headers["location"])
    end = time.monotonic() + 30
    while len(_Receiver.bodies) < 2 and time.monotonic() < end:
        time.sleep(0.05)
    assert final["problem"]["type"] == DEPLOYED_BASE + "corrupt-file"
    assert [b["problem"]["type"] for b in _Receiver.bodies] == [DEPLOYED_BASE + "corrupt-file"] * 2
