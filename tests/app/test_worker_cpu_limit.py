"""The worker's CPU time per task is capped (`worker_cpu_seconds`, app/worker.py `limit_cpu`), over real HTTP.

A task that passes the cap is ended by the kernel (SIGXCPU) wherever it is —
in Python or inside one native call — and the answer is 422 `resource-limit`
naming the cap, long before the request deadline; the next request gets a
fresh worker. Every extraction reports its worker CPU time in `Server-Timing`.
"""
from __future__ import annotations

import re
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from app_fault_tasks import faulty_extract
from app_live import LiveServer

from app import Settings
from app.worker import cpu_seconds_used, limit_cpu

PROBLEM = "https://govreport-extract.dev/problems/"
CAP_S = 1.0


@pytest.fixture(scope="module")
def cpu_server() -> Iterator[LiveServer]:
    live = LiveServer(
        Settings(workers=1, max_queue=2, request_deadline_seconds=30, worker_cpu_seconds=CAP_S, max_tasks_per_child=1000),
        task=faulty_extract,
    ).start()
    yield live
    live.stop()


def _txt(corpus: Path) -> tuple[str, bytes]:
    path = sorted((corpus / "txt").glob("*.txt"))[0]
    return path.name, path.read_bytes()


def _post(server: LiveServer, filename: str, data: bytes) -> httpx.Response:
    with server.client() as client:
        return client.post("/v1/extract", files={"file": (filename, data)})


def worker_cpu_ms(r: httpx.Response) -> float:
    m = re.search(r"worker-cpu;dur=([0-9.]+)", r.headers.get("server-timing", ""))
    assert m, r.headers.get("server-timing")
    return float(m.group(1))


@pytest.mark.parametrize("action", ["spin", "cspin"], ids=["python-loop", "one-native-call"])
def test_a_task_past_its_cpu_cap_is_a_422_naming_the_cap(cpu_server: LiveServer, corpus: Path, action: str) -> None:
    cpu_server.wait_ready()
    before = cpu_server.metric("govreport_pool_worker_restarts_total", reason="cpu-limit")
    name, data = _txt(corpus)
    t0 = time.monotonic()
    r = _post(cpu_server, f"{action}-20-{name}", data)  # 20 s of CPU asked for, 1 s allowed
    wall = time.monotonic() - t0
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["type"] == PROBLEM + "resource-limit"
    assert "worker_cpu_seconds" in body["detail"] and body["limit"] == "worker_cpu_seconds"
    assert wall < 10, wall  # stopped at ~1-2 s of CPU, not at the 30 s deadline nor after the 20 s
    assert worker_cpu_ms(r) == CAP_S * 1000
    cpu_server.wait_ready()
    ok = _post(cpu_server, name, data)
    assert ok.status_code == 200, ok.text
    assert cpu_server.metric("govreport_pool_worker_restarts_total", reason="cpu-limit") == before + 1


def test_work_under_the_cap_succeeds_and_reports_its_cpu(cpu_server: LiveServer, corpus: Path) -> None:
    cpu_server.wait_ready()
    name, data = _txt(corpus)
    r = _post(cpu_server, f"spin-0.3-{name}", data)  # 0.3 s of CPU, under the 1 s cap, twice in a row
    r2 = _post(cpu_server, f"spin-0.3-{name}", data)
    assert r.status_code == r2.status_code == 200, r.text
    assert 300 <= worker_cpu_ms(r) < 1000 and 300 <= worker_cpu_ms(r2) < 1000
    problem = _post(cpu_server, "empty.txt", b"   ")  # a library error also says what it cost
    assert problem.status_code in (400, 415, 422) and worker_cpu_ms(problem) >= 0


def test_limit_cpu_moves_only_the_soft_limit() -> None:
    """Each task's cap starts from the CPU used so far; lifting it again is always allowed (hard untouched)."""
    soft0, hard0 = resource.getrlimit(resource.RLIMIT_CPU)
    try:
        limit_cpu(5)
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        assert hard == hard0 and cpu_seconds_used() + 4 < soft <= cpu_seconds_used() + 6
        limit_cpu(0)
        assert resource.getrlimit(resource.RLIMIT_CPU) == (hard0, hard0)
    finally:
        resource.setrlimit(resource.RLIMIT_CPU, (soft0, hard0))
