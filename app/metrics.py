"""Prometheus metrics of one app instance (own registry, so several apps can live in one process)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    PlatformCollector,
    ProcessCollector,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .pool import PoolStats

if TYPE_CHECKING:
    from .upload import Spool

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
# A job lasts from its submission to its end (queue wait included), up to the 600 s default job deadline and beyond.
JOB_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0)
JOB_STATES = ("queued", "running")  # the unfinished states a replica holds; finished ones live in the store
JOB_OUTCOMES = ("succeeded", "failed", "cancelled")


class _JobCollector(Collector):
    """This replica's unfinished jobs by state, read at scrape time."""

    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterable[Metric]:
        counts = self._counts()
        jobs = GaugeMetricFamily("govreport_jobs", "Unfinished async jobs of this replica by state.", labels=["state"])
        for state in JOB_STATES:  # a fixed set: states the runner does not know are not exported
            jobs.add_metric([state], counts.get(state, 0))
        yield jobs


class _PoolCollector(Collector):
    """Pool gauges read at scrape time."""

    def __init__(self, stats: Callable[[], PoolStats | None]) -> None:
        self._stats = stats

    def collect(self) -> Iterable[Metric]:
        s = self._stats()
        if s is None:
            return
        workers = GaugeMetricFamily("govreport_pool_workers", "Worker processes by state.", labels=["state"])
        workers.add_metric(["configured"], s.size)
        workers.add_metric(["alive"], s.alive)
        workers.add_metric(["busy"], s.busy)
        yield workers
        yield GaugeMetricFamily("govreport_pool_queue_depth", "Requests waiting for a free worker.", value=s.waiting)
        restarts = CounterMetricFamily(
            "govreport_pool_worker_restarts", "Worker processes replaced, by reason.", labels=["reason"]
        )
        for reason, n in sorted(s.restarts.items()):
            restarts.add_metric([reason], n)
        yield restarts


class _SpoolCollector(Collector):
    """Upload admission gauges read at scrape time."""

    def __init__(self, spool: Callable[[], Spool | None]) -> None:
        self._spool = spool

    def collect(self) -> Iterable[Metric]:
        s = self._spool()
        if s is None:
            return
        yield GaugeMetricFamily("govreport_uploads_in_flight", "Requests holding an upload slot.", value=s.active)
        yield GaugeMetricFamily("govreport_spool_bytes", "Bytes of in-flight uploads on disk.", value=s.used_bytes)


class Metrics:
    """The service's counters, histogram and gauges. Every label value comes from a fixed set."""

    def __init__(
        self,
        pool_stats: Callable[[], PoolStats | None] = lambda: None,
        spool: Callable[[], Spool | None] = lambda: None,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "govreport_http_requests", "HTTP requests by route, method and status.", ["route", "method", "status"], registry=r
        )
        self.latency = Histogram(
            "govreport_http_request_duration_seconds",
            "Request latency by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge("govreport_http_requests_in_flight", "Requests being served now.", registry=r)
        self.files = Counter(
            "govreport_files", "Successfully extracted files by format and template.", ["format", "template"], registry=r
        )
        self.failures = Counter(
            "govreport_extraction_failures", "Failed extraction requests by problem type code.", ["problem"], registry=r
        )
        self.ocr_pages = Counter("govreport_ocr_pages", "Pages read by OCR (scanned PDF pages, images).", registry=r)
        self.ocr_seconds = Counter("govreport_ocr_seconds", "Wall time spent in OCR, in seconds.", registry=r)
        self.job_submissions = Counter(
            "govreport_job_submissions",
            "Job submissions by outcome: `accepted`, or the problem code that refused one (a fixed set of codes).",
            ["outcome"],
            registry=r,
        )
        self.job_submissions.labels("accepted")
        self.job_duration = Histogram(
            "govreport_job_duration_seconds",
            "Async job time from submission to its end (queue wait included) by outcome.",
            ["outcome"],
            buckets=JOB_BUCKETS,
            registry=r,
        )
        for outcome in JOB_OUTCOMES:
            self.job_duration.labels(outcome)
        self._jobs_watched = False
        ProcessCollector(registry=r)  # process_* (CPU, RSS, open fds, start time) of the server process
        PlatformCollector(registry=r)  # python_info
        r.register(_PoolCollector(pool_stats))
        r.register(_SpoolCollector(spool))

    def watch_jobs(self, counts: Callable[[], dict[str, int]]) -> None:
        """Export `govreport_jobs{state}` from `counts` (the job runner's), once per registry."""
        if not self._jobs_watched:
            self._jobs_watched = True
            self.registry.register(_JobCollector(counts))

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
