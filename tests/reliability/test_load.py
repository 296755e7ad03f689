"""Load and soak through `scripts/loadtest.py`: zero errors under 16 clients, no worker memory growth.

CI runs the short version (16 clients × 15 s, a 200-request soak); with
`GOVREPORT_LONG_TESTS=1` the same tests run the full one (16 clients × 120 s,
2,000 requests). The full run's last results are in docs/limits.md.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from rel_support import LONG, loadtest, note_for_summary

LOAD_SECONDS = 120.0 if LONG else 15.0
SOAK_REQUESTS = 2000 if LONG else 200
CLIENTS = 16
WORKERS = 2
MAX_RSS_GROWTH_PCT = 10.0


def test_16_concurrent_clients_get_zero_errors(corpus: Path, record_property: pytest.RecordProperty) -> None:
    files = loadtest.mixed_corpus(corpus)
    with loadtest.Service({"GOVREPORT_WORKERS": str(WORKERS)}) as service:
        result = loadtest.load(service.url, files, clients=CLIENTS, seconds=LOAD_SECONDS)
    record_property("load", json.dumps(result.__dict__))
    note_for_summary(
        f"load: {result.clients} clients × {result.seconds} s → {result.requests} requests, {result.errors} errors, "
        f"{result.throughput_rps} req/s, latency ms {result.latency_ms}"
    )
    assert result.errors == 0, result.error_samples
    assert result.statuses == {"200": result.requests}
    assert result.requests >= 2 * CLIENTS  # every client got answers, not just one each
    assert {"pdf", "docx", "html", "txt", "md"} <= set(result.latency_ms_by_format)
    lat = result.latency_ms
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    # 16 clients share 2 workers: the wait is queueing, bounded well inside the 60 s deadline
    assert lat["max"] < 30_000


def test_soak_keeps_worker_memory_flat(corpus: Path, record_property: pytest.RecordProperty) -> None:
    files = loadtest.mixed_corpus(corpus)
    env = {"GOVREPORT_WORKERS": str(WORKERS), "GOVREPORT_MAX_TASKS_PER_CHILD": str(SOAK_REQUESTS * 2)}
    with loadtest.Service(env) as service:
        service.wait_workers(WORKERS)
        result = loadtest.soak(service, files, SOAK_REQUESTS, clients=WORKERS)
    record_property("soak", json.dumps(result.__dict__))
    note_for_summary(
        f"soak: {result.requests} requests, {result.errors} errors, worker RSS growth {result.total_growth_pct} % "
        f"in all, per worker {result.growth_pct} % (after {result.warmup_requests} warm-up requests)"
    )
    assert result.errors == 0, result.error_samples
    assert result.requests == SOAK_REQUESTS
    assert result.same_workers, "a worker was replaced during the soak, so its growth was not measured"
    assert len(result.growth_pct) == WORKERS
    # the workers' RSS together; one process alone moves a few % with whichever file it read last
    assert result.total_growth_pct < MAX_RSS_GROWTH_PCT, result
