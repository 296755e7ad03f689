"""Faults under real load: workers killed while 8 clients keep posting the corpus.

The single-fault cases (a worker killed mid-request, a request past its
deadline → 504 and the worker reclaimed, a saturated pool → 503 + Retry-After)
are proven in tests/app/test_app_faults.py; this adds the same kill while
every worker is busy with production extractions: each killed request gets a
500 worker-crashed problem, every other request succeeds, no connection is
dropped, and the pool is whole again afterwards.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
from rel_support import loadtest

KILLS = 3


def _a_fresh_worker(service: loadtest.Service, killed: list[int]) -> int:
    """A worker pid once the pool is back to two workers not killed before (a replacement takes a moment)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        fresh = [p for p in service.worker_pids() if p not in killed]
        if len(fresh) >= 2:
            return fresh[0]
        time.sleep(0.05)
    raise AssertionError(f"the pool did not get back to two workers: {service.worker_pids()}")


def test_killing_workers_under_load_loses_only_their_requests(corpus: Path) -> None:
    files = loadtest.mixed_corpus(corpus)
    with loadtest.Service({"GOVREPORT_WORKERS": "2", "GOVREPORT_MAX_QUEUE": "16"}) as service:
        service.wait_workers(2)
        out: list[object] = []
        runner = threading.Thread(target=lambda: out.append(loadtest.load(service.url, files, clients=8, seconds=10)))
        runner.start()
        killed = []
        for _ in range(KILLS):
            time.sleep(2.0)
            pid = _a_fresh_worker(service, killed)
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        runner.join(120)
        result = out[0]
        # the pool repaired itself: two live workers, none of them a killed one, and it serves again
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready = httpx.get(service.url + "/readyz", timeout=5)
            if ready.status_code == 200 and ready.json()["workers_alive"] == 2:
                break
            time.sleep(0.1)
        assert ready.json()["workers_alive"] == 2
        assert not set(killed) & set(service.worker_pids())
        name, data = files[0]
        assert httpx.post(service.url + "/v1/extract", files={"file": (name, data)}, timeout=60).status_code == 200
    statuses = result.statuses
    lost = statuses.get("500 worker-crashed", 0)
    assert set(statuses) <= {"200", "500 worker-crashed"}, statuses  # no transport error, no other status
    assert 1 <= lost <= KILLS, statuses
    assert statuses["200"] >= 20
