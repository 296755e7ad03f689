"""A real uvicorn server on a free loopback port, in a thread of the test process.

The thread lets a test look at the app's pool (e.g. the pid of the worker
running its request) while talking to the server over real TCP like a client.
"""
from __future__ import annotations

import socket
import threading
import time

import httpx
import uvicorn
from prometheus_client.parser import text_string_to_metric_families

from app import Settings, create_app
from app.pool import WorkerPool
from app.server import server_config
from app.worker import Task


class LiveServer:
    """One app instance served by uvicorn on 127.0.0.1:<free port> in a background thread."""

    def __init__(self, settings: Settings, task: Task | None = None) -> None:
        self.app = create_app(settings, task=task)
        self.settings = settings
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        # the server `python -m app` runs (guarded protocol, lingering close), on this socket
        config = server_config(self.app, settings, log_level="warning", lifespan="on", timeout_graceful_shutdown=5)
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    @property
    def pool(self) -> WorkerPool:
        return self.app.state.pool

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            assert self._thread.is_alive(), "server thread died during startup"
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(30)
        self._sock.close()

    def client(self, timeout: float = 60.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until every worker is alive again (after a kill or a deadline)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            stats = self.pool.stats()
            if stats.alive == stats.size and stats.busy == 0:
                return
            time.sleep(0.05)
        raise AssertionError(f"pool did not recover: {self.pool.stats()}")

    def metric(self, name: str, **labels: str) -> float:
        """Current value of one sample scraped from /metrics (0 when absent)."""
        text = httpx.get(self.url + "/metrics").text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return sample.value
        return 0.0


UPLOAD_LIMIT = 2 * 1024 * 1024
