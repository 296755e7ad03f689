"""The worker pool's forkserver starts every worker warm: the engine's one-time set-up is inherited."""
from __future__ import annotations

import asyncio
import json

from app_probe_tasks import warm_state

from app.pool import PoolConfig, WorkerPool
from app.worker import ExtractJob


def test_new_and_recycled_forkserver_workers_inherit_the_warm_engine() -> None:
    async def scenario() -> list[dict[str, object]]:
        pool = WorkerPool(PoolConfig(size=1, max_queue=2, max_tasks_per_child=1, start_method="forkserver"), warm_state)
        await pool.start()
        try:
            loop = asyncio.get_running_loop()
            out = []
            for _ in range(2):  # max_tasks_per_child=1: the second job runs on a recycled (new) worker
                output = await pool.run(ExtractJob(b"x", "probe.txt"), loop.time() + 30, 30)
                out.append(json.loads(output.result_json))
            return out
        finally:
            await pool.close()

    first, recycled = asyncio.run(scenario())
    assert first["pid"] != recycled["pid"]
    for state in (first, recycled):
        assert state["preloaded"] is True
        assert state["loaders_run"] >= 5  # catalogue, forms, aliases, rule sets …
        # built in the forkserver, before this process existed: it never ran an extraction itself
        assert state["catalogue_loaded"] == 1
        assert state["label_keys_cached"] > 200  # the statutory labels of the warm-up report


# ---- a worker that dies while reading under the memory cap (issue #16) ---------------------------------

import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402
import pytest  # noqa: E402
from app_fault_tasks import memory_fault_extract  # noqa: E402
from app_live import LiveServer  # noqa: E402

from app import Settings  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))
import pdf_encrypted as E  # noqa: E402

PROBLEM = "https://govreport-extract.dev/problems/"
CAP_MB = 512  # the deployed worker limit, under which pdfium aborts on these bombs


@pytest.fixture(scope="module")
def capped() -> Iterator[LiveServer]:
    live = LiveServer(
        Settings(workers=1, max_queue=2, request_deadline_seconds=60, worker_memory_limit_mb=CAP_MB,
                 max_tasks_per_child=1000),
        task=memory_fault_extract,
    ).start()
    yield live
    live.stop()


def _txt(corpus: Path) -> tuple[str, bytes]:
    path = sorted((corpus / "txt").glob("*.txt"))[0]
    return path.name, path.read_bytes()


def _post(server: LiveServer, name: str, data: bytes) -> httpx.Response:
    with server.client(timeout=120) as client:
        return client.post("/v1/extract", files={"file": (name, data)})


def _restarts(server: LiveServer, reason: str) -> int:
    return server.pool.stats().restarts.get(reason, 0)


@pytest.mark.parametrize("method", E.METHODS)
def test_a_worker_dying_in_pdfium_under_the_memory_cap_is_a_422_naming_the_cap(
    capped: LiveServer, corpus: Path, method: str
) -> None:
    """With the budget off, pdfium meets an encrypted 1 GiB Flate bomb under RLIMIT_AS and aborts: the pool saw
    the worker enter the read step, so the death is the file's, a 422 naming `worker_memory_limit_mb`."""
    capped.wait_ready()
    before = _restarts(capped, "memory-limit")
    r = _post(capped, f"unbudgeted-{method}.pdf", E.flate_bomb(method))
    assert r.status_code == 422, r.text[:300]
    body = r.json()
    assert body["type"] == PROBLEM + "resource-limit"
    assert body["limit"] == "worker_memory_limit_mb" and body["worker_memory_limit_mb"] == CAP_MB
    assert "worker_memory_limit_mb" in body["detail"] and "SIGABRT" in body["detail"] and "PDF" in body["detail"]
    assert "worker-cpu;dur=" in r.headers["server-timing"]
    capped.wait_ready()
    assert _restarts(capped, "memory-limit") == before + 1
    name, data = _txt(corpus)
    assert _post(capped, name, data).status_code == 200  # the next request gets a fresh worker


def test_a_job_whose_worker_dies_reading_fails_with_the_same_problem(capped: LiveServer) -> None:
    capped.wait_ready()
    with capped.client(timeout=120) as client:
        r = client.post("/v1/jobs", files={"file": ("unbudgeted-job.pdf", E.flate_bomb("rc4"))})
        assert r.status_code == 202, r.text[:300]
        end = time.monotonic() + 90
        while (body := client.get(r.headers["location"]).json())["status"] in ("queued", "running"):
            assert time.monotonic() < end, body
            time.sleep(0.2)
    assert body["status"] == "failed" and body["result"] is None
    problem = body["problem"]
    assert problem["type"] == PROBLEM + "resource-limit" and problem["status"] == 422
    assert problem["limit"] == "worker_memory_limit_mb" and problem["worker_memory_limit_mb"] == CAP_MB


def test_a_worker_dying_after_the_reader_stays_500_worker_crashed(capped: LiveServer, corpus: Path) -> None:
    """An abort in the later stages is not the file passing a cap: a 500 with the exit status, as before."""
    capped.wait_ready()
    name, data = _txt(corpus)
    r = _post(capped, "abort-after-read-" + name, data)
    assert r.status_code == 500, r.text[:300]
    assert r.json()["type"] == PROBLEM + "worker-crashed" and r.json()["exitcode"] == -signal.SIGABRT


def test_a_worker_killed_while_reading_stays_500_worker_crashed(capped: LiveServer, corpus: Path) -> None:
    """SIGKILL (an operator, the kernel's OOM killer) is not an allocation failing under the cap: still a 500."""
    capped.wait_ready()
    name, data = _txt(corpus)
    out: list[httpx.Response] = []
    import threading

    t = threading.Thread(target=lambda: out.append(_post(capped, "sleep-in-read-30-" + name, data)), daemon=True)
    t.start()
    end = time.monotonic() + 20
    while not capped.pool.busy_pids():
        assert time.monotonic() < end
        time.sleep(0.02)
    time.sleep(0.5)  # inside the (sleeping) reader
    (pid,) = capped.pool.busy_pids()
    os.kill(pid, signal.SIGKILL)
    t.join(30)
    assert out and out[0].status_code == 500
    assert out[0].json()["type"] == PROBLEM + "worker-crashed" and out[0].json()["exitcode"] == -signal.SIGKILL


# ---- the job's pipe on the event loop (app.pool._Exchange) ---------------------------------------------


def test_pipe_on_the_loop_returns_what_the_worker_made_for_small_and_large_jobs() -> None:
    """A path job (written on the loop) and a bytes job over 64 KiB (written from a thread) each get the
    worker's reply unframed from the pipe as it comes, byte-identical to an extraction in this process;
    a worker that died idle is replaced before it is handed a job."""
    from app.pool import _INLINE_SEND_BYTES
    from app.worker import run_extract

    corpus = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
    pdf = corpus / "pdf" / "000_32e6960542ba4ec5.pdf"
    data = pdf.read_bytes()
    assert len(data) > _INLINE_SEND_BYTES
    expected = run_extract(ExtractJob(data, pdf.name)).result_json

    async def scenario() -> tuple[bytes, bytes, dict[str, int], bytes]:
        pool = WorkerPool(PoolConfig(size=1, max_queue=2, start_method="forkserver"))
        await pool.start()
        try:
            loop = asyncio.get_running_loop()
            by_path = await pool.run(ExtractJob(b"", pdf.name, path=str(pdf)), loop.time() + 60, 60)
            by_bytes = await pool.run(ExtractJob(data, pdf.name), loop.time() + 60, 60)
            (worker,) = list(pool._workers)
            os.kill(worker.pid, signal.SIGKILL)
            worker.process.join(10)
            again = await pool.run(ExtractJob(b"", pdf.name, path=str(pdf)), loop.time() + 60, 60)
            return by_path.result_json, by_bytes.result_json, dict(pool.restarts), again.result_json
        finally:
            await pool.close()

    by_path, by_bytes, restarts, again = asyncio.run(scenario())
    assert by_path == by_bytes == again == expected
    assert json.loads(expected)["document"]["format"] == "pdf" and json.loads(expected)["indicators"]
    assert restarts == {"died-idle": 1}
