"""Fault tests on a one-worker server: killed worker, crash, deadline, saturation, memory bomb, bug.

Each fault must fail only its own request with the right problem, and the very
next request must succeed on a fresh worker.
"""
from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from pathlib import Path

import httpx
from app_live import LiveServer

from app.pool import PoolConfig, WorkerPool
from app.worker import ExtractJob

PROBLEM = "https://govreport-extract.dev/problems/"


def _txt(corpus: Path) -> tuple[str, bytes]:
    path = sorted((corpus / "txt").glob("*.txt"))[0]
    return path.name, path.read_bytes()


def _post(server: LiveServer, filename: str, data: bytes) -> httpx.Response:
    with server.client() as client:
        return client.post("/v1/extract", files={"file": (filename, data)})


def _in_background(server: LiveServer, filename: str, data: bytes) -> tuple[threading.Thread, list[httpx.Response]]:
    out: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: out.append(_post(server, filename, data)), daemon=True)
    thread.start()
    return thread, out


def _wait_for(predicate, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.02)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _assert_next_request_succeeds(server: LiveServer, corpus: Path) -> None:
    name, data = _txt(corpus)
    r = _post(server, name, data)
    assert r.status_code == 200, r.text
    assert r.json()["document"]["format"] == "txt"


def test_worker_killed_mid_request(fault_server: LiveServer, corpus: Path) -> None:
    fault_server.wait_ready()
    restarts = fault_server.metric("govreport_pool_worker_restarts_total", reason="crashed")
    name, data = _txt(corpus)
    thread, out = _in_background(fault_server, "sleep-30-" + name, data)
    _wait_for(lambda: fault_server.pool.busy_pids())
    (pid,) = fault_server.pool.busy_pids()
    os.kill(pid, signal.SIGKILL)
    thread.join(20)
    r = out[0]
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == PROBLEM + "worker-crashed"
    assert r.json()["exitcode"] == -signal.SIGKILL
    _assert_next_request_succeeds(fault_server, corpus)
    assert pid not in fault_server.pool.worker_pids()
    assert fault_server.metric("govreport_pool_worker_restarts_total", reason="crashed") == restarts + 1
    assert fault_server.metric("govreport_extraction_failures_total", problem="worker-crashed") >= 1


def test_worker_exiting_by_itself(fault_server: LiveServer, corpus: Path) -> None:
    fault_server.wait_ready()
    name, data = _txt(corpus)
    r = _post(fault_server, "exit-3-" + name, data)
    assert r.status_code == 500
    assert r.json()["type"] == PROBLEM + "worker-crashed"
    assert r.json()["exitcode"] == 3
    _assert_next_request_succeeds(fault_server, corpus)


def test_deadline_stops_the_work_and_reclaims_the_worker(fault_server: LiveServer, corpus: Path) -> None:
    fault_server.wait_ready()
    before = fault_server.metric("govreport_extraction_failures_total", problem="deadline-exceeded")
    name, data = _txt(corpus)
    (pid,) = fault_server.pool.worker_pids()
    t0 = time.monotonic()
    r = _post(fault_server, "sleep-60-" + name, data)
    elapsed = time.monotonic() - t0
    assert r.status_code == 504
    assert r.json()["type"] == PROBLEM + "deadline-exceeded"
    assert r.json()["deadline_seconds"] == fault_server.settings.request_deadline_seconds
    assert fault_server.settings.request_deadline_seconds <= elapsed < fault_server.settings.request_deadline_seconds + 5
    assert not _pid_alive(pid)  # the overdue work was killed, not left running
    _assert_next_request_succeeds(fault_server, corpus)
    assert fault_server.metric("govreport_extraction_failures_total", problem="deadline-exceeded") == before + 1
    assert fault_server.metric("govreport_pool_worker_restarts_total", reason="deadline") >= 1


def test_saturated_pool_answers_503_with_retry_after(fault_server: LiveServer, corpus: Path) -> None:
    fault_server.wait_ready()
    name, data = _txt(corpus)
    running, running_out = _in_background(fault_server, "sleep-2-" + name, data)
    _wait_for(lambda: fault_server.pool.busy_pids())
    queued, queued_out = _in_background(fault_server, name, data)
    _wait_for(lambda: fault_server.pool.stats().waiting == 1)
    r = _post(fault_server, name, data)
    assert r.status_code == 503
    assert r.json()["type"] == PROBLEM + "pool-saturated"
    retry = int(r.headers["retry-after"])
    assert retry >= 1 and r.json()["retry_after"] == retry
    running.join(20)
    queued.join(20)
    assert running_out[0].status_code == 200
    assert queued_out[0].status_code == 200
    assert fault_server.metric("govreport_extraction_failures_total", problem="pool-saturated") >= 1
    assert fault_server.metric("govreport_http_requests_total", route="/v1/extract", method="POST", status="503") >= 1


def test_memory_bomb_fails_the_request_not_the_host(fault_server: LiveServer, corpus: Path) -> None:
    """The worker's RLIMIT_AS turns a 2 GiB allocation into 422 resource-limit; the worker is replaced."""
    fault_server.wait_ready()
    name, data = _txt(corpus)
    r = _post(fault_server, "alloc-2048-" + name, data)
    assert r.status_code == 422
    assert r.json()["type"] == PROBLEM + "resource-limit"
    _assert_next_request_succeeds(fault_server, corpus)
    assert fault_server.metric("govreport_pool_worker_restarts_total", reason="recycled-after-error") >= 1


def test_unexpected_exception_is_a_generic_500_without_internals(fault_server: LiveServer, corpus: Path) -> None:
    fault_server.wait_ready()
    name, data = _txt(corpus)
    r = _post(fault_server, "bug-1-" + name, data)
    assert r.status_code == 500
    assert r.json()["type"] == PROBLEM + "internal-error"
    assert "deliberate" not in r.text
    _assert_next_request_succeeds(fault_server, corpus)


def test_readyz_reports_the_pool(fault_server: LiveServer) -> None:
    fault_server.wait_ready()
    with fault_server.client() as client:
        body = client.get("/readyz").json()
    assert body["workers"] == body["workers_alive"] == 1
    assert body["busy"] == 0 and body["queued"] == 0


def test_workers_are_recycled_after_max_tasks(corpus: Path) -> None:
    """max_tasks_per_child=2: the third job runs on a new process."""
    _, data = _txt(corpus)

    async def scenario() -> list[list[int]]:
        pool = WorkerPool(PoolConfig(size=1, max_queue=2, max_tasks_per_child=2))
        await pool.start()
        try:
            seen = [pool.worker_pids()]
            loop = asyncio.get_running_loop()
            for _ in range(3):
                await pool.run(ExtractJob(data, "a.txt"), loop.time() + 30, 30)
                await asyncio.sleep(0)
                for _ in range(200):  # the replacement starts off the event loop
                    if pool.stats().alive == 1:
                        break
                    await asyncio.sleep(0.02)
                seen.append(pool.worker_pids())
            return seen
        finally:
            await pool.close()

    seen = asyncio.run(scenario())
    assert seen[0] == seen[1]  # first job: same process
    assert seen[2] != seen[1]  # second job reached the limit: replaced
    assert seen[3] == seen[2]


def test_spawn_start_method_works(corpus: Path) -> None:
    _, data = _txt(corpus)

    async def scenario() -> str:
        pool = WorkerPool(PoolConfig(size=1, start_method="spawn"))
        await pool.start()
        try:
            loop = asyncio.get_running_loop()
            return (await pool.run(ExtractJob(data, "a.txt"), loop.time() + 60, 60)).format
        finally:
            await pool.close()

    assert asyncio.run(scenario()) == "txt"
