"""Fixtures for the HTTP service tests: real uvicorn servers on free loopback ports (see `app_live`)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_fault_tasks import faulty_extract
from app_live import UPLOAD_LIMIT, LiveServer

from app import Settings


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The general-purpose server: 2 workers, a 2 MiB upload limit, production task, its own job store dir."""
    live = LiveServer(
        Settings(
            workers=2, max_queue=8, max_upload_bytes=UPLOAD_LIMIT, request_deadline_seconds=60, start_method="forkserver",
            job_dir=str(tmp_path_factory.mktemp("server-jobs")),
        )
    ).start()
    yield live
    live.stop()


@pytest.fixture(scope="session")
def fault_server() -> Iterator[LiveServer]:
    """One worker, one queue slot, a 4 s deadline, 2-page limit, 768 MiB worker memory, misbehaving task."""
    live = LiveServer(
        Settings(
            workers=1,
            max_queue=1,
            request_deadline_seconds=4,
            max_pages=2,
            worker_memory_limit_mb=768,
            max_tasks_per_child=1000,
        ),
        task=faulty_extract,
    ).start()
    yield live
    live.stop()


@pytest.fixture(scope="session")
def spec_path() -> Path:
    return Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
