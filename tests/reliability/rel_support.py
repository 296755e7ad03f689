"""Helpers of the reliability suite: the service under test, resource probes, problem checks, the long-run flag.

The service is `python -m app` started by `scripts/loadtest.py`'s `Service` (one
implementation for CI and for the hand-run load test), on a free 127.0.0.1
port, with its own empty working directory and TMPDIR so the security tests
can see every file it creates.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx

REPO = Path(__file__).resolve().parents[2]
PROBLEM = "https://govreport-extract.dev/problems/"
LONG = os.environ.get("GOVREPORT_LONG_TESTS") == "1"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("govreport_loadtest", REPO / "scripts" / "loadtest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


loadtest = _load_script()


@dataclass
class Hosted:
    """A running service plus the directories it was given."""

    service: object  # loadtest.Service
    url: str
    tmpdir: Path
    cwd: Path

    def client(self, timeout: float = 120.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)


@contextmanager
def hosted_service(tmp_path_factory: object, prefix: str, env: dict[str, str]) -> Iterator[Hosted]:
    """A real service (`scripts/loadtest.py`'s `Service`) with its own TMPDIR and working directory, its workers
    up before the first request, stopped afterwards: the body of every module's service fixture."""
    tmpdir, cwd = tmp_path_factory.mktemp(f"{prefix}-tmp"), tmp_path_factory.mktemp(f"{prefix}-cwd")  # type: ignore[attr-defined]
    service = loadtest.Service({**env, "TMPDIR": str(tmpdir)}, cwd=cwd).start()
    service.wait_workers(int(env.get("GOVREPORT_WORKERS", "2")))
    try:
        yield Hosted(service, service.url, tmpdir, cwd)
    finally:
        service.stop()


@contextmanager
def peak_rss(service: object) -> Iterator[dict[str, int]]:
    """Sample the RSS (KiB) of the server and of every worker every 10 ms while the block runs."""
    peaks = {"server": 0, "worker": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peaks["server"] = max(peaks["server"], loadtest.rss_kib(service.pid))
            for pid in service.worker_pids():
                peaks["worker"] = max(peaks["worker"], loadtest.rss_kib(pid))
            time.sleep(0.01)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        stop.set()
        thread.join(5)


def assert_problem(r: httpx.Response, status: int, code: str) -> dict:
    """`r` is an RFC 9457 problem of exactly this status and type."""
    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"] == "application/problem+json", r.headers
    body = r.json()
    assert body["type"] == PROBLEM + code, body
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


_AUDIT_NOTES: list[str] = []


def note_for_summary(text: str) -> None:
    """A line printed in pytest's terminal summary (used by the dependency audit)."""
    _AUDIT_NOTES.append(text)


def summary_notes() -> list[str]:
    return list(_AUDIT_NOTES)
