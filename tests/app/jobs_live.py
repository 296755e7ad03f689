"""Helpers of the async-job tests: `python -m app` subprocesses (the load test's `Service`), polling, big PDFs.

The service runs as a real process with its own TMPDIR so a test can see the
job store and the spooled job files, and SIGKILL its worker processes.
"""
from __future__ import annotations

import io
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import app_proc
import httpx
import pikepdf
import redis

REPO = Path(__file__).resolve().parents[2]
FINAL = ("succeeded", "failed")


loadtest = app_proc.loadtest()  # scripts/loadtest.py as a module, loaded once (shared with app_proc)


def start_service(tmpdir: Path, **settings: object) -> Any:
    """A `python -m app` process with one worker (unless set), TMPDIR=`tmpdir`, and `GOVREPORT_<KEY>` settings."""
    env = {"TMPDIR": str(tmpdir), "GOVREPORT_WORKERS": "1"}
    env.update({f"GOVREPORT_{k.upper()}": str(v) for k, v in settings.items()})
    service = loadtest.Service(env, cwd=tmpdir).start()
    service.wait_workers(int(env["GOVREPORT_WORKERS"]))
    return service


def poll(client: httpx.Client, location: str, until: tuple[str, ...] = FINAL, timeout: float = 120.0) -> dict:
    """GET `location` until its status is one of `until`; the last body."""
    end = time.monotonic() + timeout
    while True:
        r = client.get(location)
        assert r.status_code == 200, r.text[:500]
        body = r.json()
        if body["status"] in until:
            return body
        assert time.monotonic() < end, f"job still {body['status']} after {timeout} s: {body}"
        time.sleep(0.1)


def many_pages_pdf(source: Path, pages: int) -> bytes:
    """A real report's pages repeated up to `pages` pages (a long PDF job: ~20-50 ms a page)."""
    src = pikepdf.open(source)
    out = pikepdf.new()
    while len(out.pages) < pages:
        for page in src.pages:
            if len(out.pages) < pages:
                out.pages.append(page)
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@contextmanager
def running_redis(workdir: Path) -> Iterator[str]:
    """A real redis-server (Debian package `redis-server`, installed by scripts/test.sh) on a free loopback
    port, without persistence, working in `workdir`; yields its URL."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is required (apt-get install redis-server; scripts/test.sh installs it)"
    port = loadtest.free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir), "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        end = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert proc.poll() is None and time.monotonic() < end, "redis-server did not start"
                time.sleep(0.05)
        yield url
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)
