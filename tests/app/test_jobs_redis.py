"""The Redis job store against a real `redis-server` (no mocks): two replicas of `python -m app` share it, so a
job created on one is read, and cancelled, from the other; a replica that dies leaves its job `job-lost`."""
from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from jobs_live import many_pages_pdf, poll, running_redis, start_service

PROBLEM = "https://govreport-extract.dev/problems/"
STALE = 3
# A cancel from the other replica lands on the owner's next heartbeat (≤ STALE/3 s): the job must still be
# running then whatever the machine's speed, so it is long (~8 CPU-s of reading on a quiet core, 300 pages
# was ~1.5 s and could finish first), and the replicas accept it.
PAGES = 1500


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


def _replica(tmp_path_factory: pytest.TempPathFactory, redis_url: str, name: str) -> Any:
    return start_service(
        tmp_path_factory.mktemp(name), job_store="redis", redis_url=redis_url, job_stale_seconds=STALE,
        max_pages=PAGES,
    )


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[tuple[Any, Any]]:
    a = _replica(tmp_path_factory, redis_url, "replica-a")
    b = _replica(tmp_path_factory, redis_url, "replica-b")
    yield a, b
    a.stop()
    b.stop()


@pytest.fixture(scope="module")
def big_pdf(corpus: Path) -> bytes:
    return many_pages_pdf(min((corpus / "pdf").glob("*.pdf")), PAGES)


def _running(client: httpx.Client, location: str) -> dict:
    end = time.monotonic() + 60
    while time.monotonic() < end:
        body = client.get(location).json()
        if body["status"] == "running" and body["progress"]["pages_done"]:
            return body
        assert body["status"] in ("queued", "running"), body
        time.sleep(0.1)
    raise AssertionError(f"job never ran: {body}")


def test_a_job_created_on_one_replica_is_read_from_the_other(replicas: tuple[Any, Any], corpus: Path) -> None:
    a, b = replicas
    path = min((corpus / "pdf").glob("*.pdf"))
    with httpx.Client(base_url=a.url, timeout=120) as ca, httpx.Client(base_url=b.url, timeout=120) as cb:
        r = ca.post("/v1/jobs", files={"file": (path.name, path.read_bytes())})
        assert r.status_code == 202
        final = poll(cb, r.headers["location"])  # only B is asked
        direct = ca.post("/v1/extract", files={"file": (path.name, path.read_bytes())}).json()
        from_a = ca.get(r.headers["location"]).json()
    assert final["status"] == "succeeded" and final["result"] == direct
    assert from_a == final
    assert final["progress"]["pages_total"] == direct["document"]["pages"]
    # the record really is in Redis, with a key expiry (the TTL)
    ttl = redis.Redis.from_url(replicas[0].env["GOVREPORT_REDIS_URL"]).pttl("govreport:job:" + final["id"])
    assert 0 < ttl <= 3600 * 1000


def test_delete_on_the_other_replica_cancels_and_frees_the_worker(
    replicas: tuple[Any, Any], big_pdf: bytes, corpus: Path
) -> None:
    a, b = replicas
    small = min((corpus / "docx").iterdir())
    with httpx.Client(base_url=a.url, timeout=120) as ca, httpx.Client(base_url=b.url, timeout=120) as cb:
        r = ca.post("/v1/jobs", files={"file": ("big.pdf", big_pdf)})
        running = _running(cb, r.headers["location"])  # B sees A's progress
        assert 0 < running["progress"]["pages_done"] < running["progress"]["pages_total"] == PAGES
        [worker] = a.worker_pids()
        t0 = time.monotonic()
        d = cb.delete(r.headers["location"])
        assert d.status_code == 200 and d.json()["problem"]["type"] == PROBLEM + "job-cancelled"
        # A notices on its next heartbeat (≤ 1 s with STALE=3) and kills the worker
        end = time.monotonic() + 15
        while worker in a.worker_pids() and time.monotonic() < end:
            time.sleep(0.1)
        assert worker not in a.worker_pids()
        nxt = ca.post("/v1/jobs", files={"file": (small.name, small.read_bytes())})
        done = poll(ca, nxt.headers["location"], timeout=30)
        took = time.monotonic() - t0
        final = ca.get(r.headers["location"]).json()
    assert done["status"] == "succeeded" and took < 15, took
    assert final["status"] == "failed" and final["problem"]["type"] == PROBLEM + "job-cancelled"


def test_a_job_whose_replica_dies_is_reported_lost(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str, replicas: tuple[Any, Any], big_pdf: bytes
) -> None:
    _, b = replicas
    doomed = _replica(tmp_path_factory, redis_url, "replica-doomed")
    try:
        with httpx.Client(base_url=doomed.url, timeout=120) as cd, httpx.Client(base_url=b.url, timeout=120) as cb:
            r = cd.post("/v1/jobs", files={"file": ("big.pdf", big_pdf)})
            _running(cb, r.headers["location"])
            os.killpg(doomed.pid, signal.SIGKILL)  # the server and its workers, at once
            doomed.proc.wait(10)
            final = poll(cb, r.headers["location"], timeout=STALE + 20)
    finally:
        doomed.stop()
    assert final["status"] == "failed"
    assert final["problem"]["type"] == PROBLEM + "job-lost" and final["problem"]["status"] == 500
