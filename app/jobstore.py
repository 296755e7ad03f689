"""Where async jobs live: one interface, an embedded SQLite store and a Redis store for several replicas.

A job record is small JSON (status, timestamps, progress, the final problem)
plus, once it succeeded, the result JSON. The store is chosen by one setting
(`job_store`): SQLite needs no server (a file in a volume or the pod's temp
dir), Redis lets any replica behind a gateway answer for any job. Finished
records expire after the TTL: Redis drops them itself (key expiry), SQLite
purges expired rows on access. Both clients are blocking; the job routes call
them through `asyncio.to_thread`, so the event loop never waits on disk or
network.
"""
from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol

JobStatus = Literal["queued", "running", "succeeded", "failed"]
FINAL: frozenset[str] = frozenset({"succeeded", "failed"})


@dataclass(frozen=True, slots=True)
class JobRecord:
    """The state of one job as every replica sees it."""

    id: str
    status: JobStatus
    created_at: float
    expires_at: float
    heartbeat_at: float
    filename: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    pages_done: int | None = None
    pages_total: int | None = None
    problem: dict[str, Any] | None = None
    cancel_requested: bool = False
    callback_url: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    result_json: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> JobRecord:
        return cls(**json.loads(text))

    def evolve(self, **changes: Any) -> JobRecord:
        return replace(self, **changes)


class JobStore(Protocol):
    """The operations the job routes need; every method is blocking and thread-safe."""

    def put(self, record: JobRecord) -> None: ...

    def get(self, job_id: str) -> JobRecord | None: ...

    def delete(self, job_id: str) -> None: ...

    def ping(self) -> None: ...

    def close(self) -> None: ...


class SQLiteJobStore:
    """Jobs in one SQLite file; WAL mode so readers never wait on the writer."""

    FILE_NAME = "govreport-jobs.sqlite3"

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        folder = Path(directory) if directory else Path(tempfile.gettempdir())
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / self.FILE_NAME
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, expires_at REAL NOT NULL, record TEXT NOT NULL)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS jobs_expiry ON jobs (expires_at)")

    def put(self, record: JobRecord) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO jobs (id, expires_at, record) VALUES (?, ?, ?)",
                (record.id, record.expires_at, record.to_json()),
            )

    def get(self, job_id: str) -> JobRecord | None:
        now = time.time()
        with self._lock:
            self._db.execute("DELETE FROM jobs WHERE expires_at <= ?", (now,))
            row = self._db.execute("SELECT record FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return JobRecord.from_json(row[0]) if row else None

    def delete(self, job_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def ping(self) -> None:
        with self._lock:
            self._db.execute("SELECT 1").fetchone()

    def close(self) -> None:
        with self._lock:
            self._db.close()


class RedisJobStore:
    """Jobs as Redis strings `<prefix><id>` with a key expiry at the record's `expires_at`."""

    def __init__(self, url: str, prefix: str = "govreport:job:") -> None:
        import redis  # the [service] extra; imported here so the SQLite default needs no client

        self._redis = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        self._prefix = prefix

    def put(self, record: JobRecord) -> None:
        ttl_ms = max(1, int((record.expires_at - time.time()) * 1000))
        self._redis.set(self._prefix + record.id, record.to_json(), px=ttl_ms)

    def get(self, job_id: str) -> JobRecord | None:
        raw = self._redis.get(self._prefix + job_id)
        return JobRecord.from_json(raw) if raw is not None else None  # type: ignore[arg-type]

    def delete(self, job_id: str) -> None:
        self._redis.delete(self._prefix + job_id)

    def ping(self) -> None:
        self._redis.ping()

    def close(self) -> None:
        self._redis.close()


def open_store(kind: str, *, directory: str, redis_url: str) -> JobStore:
    """The store the `job_store` setting names."""
    if kind == "redis":
        return RedisJobStore(redis_url)
    return SQLiteJobStore(directory or None)
