"""Where async jobs live: one interface, an embedded SQLite store and a Redis store for several replicas.

A job record is small JSON (status, timestamps, progress, the final problem)
plus, once it succeeded, the result JSON. The store is chosen by one setting
(`job_store`): SQLite needs no server (a file in a volume or the pod's temp
dir), Redis lets any replica behind a gateway answer for any job. Finished
records expire after the TTL: Redis drops them itself (key expiry), SQLite
purges expired rows on access.

Every change of an existing record goes through `update(id, change)`, a
read-modify-write that is atomic across replicas (a SQLite write transaction,
a Redis WATCH/MULTI), so a heartbeat never overwrites a DELETE made on another
replica a moment earlier.

The SQLite file is `<job_dir>/govreport-jobs.sqlite3`; `job_dir` defaults to a
`govreport-jobs/` folder in the system temp dir. Neither the folder nor the
file is created, and nothing is held open, until the first job is submitted:
a service that never takes a job leaves its temp dir untouched. Both clients
are blocking; the job routes call them through `asyncio.to_thread`, so the
event loop never waits on disk or network.
"""
from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol

JobStatus = Literal["queued", "running", "succeeded", "failed"]
FINAL: frozenset[str] = frozenset({"succeeded", "failed"})
DEFAULT_DIR_NAME = "govreport-jobs"

Change = Callable[["JobRecord"], "JobRecord | None"]


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

    def put(self, record: JobRecord) -> None:
        """Store a new record (or replace one outright)."""

    def get(self, job_id: str) -> JobRecord | None:
        """The live record, None when unknown or expired."""

    def update(self, job_id: str, change: Change) -> JobRecord | None:
        """Atomically replace the record by `change(record)`; `change` returning None leaves it. The stored result."""

    def delete(self, job_id: str) -> None: ...

    def ping(self) -> None: ...

    def close(self) -> None: ...


def default_job_dir() -> Path:
    """`govreport-jobs/` in the system temp dir (honours TMPDIR): the deliberate, documented job store location."""
    return Path(tempfile.gettempdir()) / DEFAULT_DIR_NAME


class SQLiteJobStore:
    """Jobs in one SQLite file, opened on first use; WAL mode so readers never wait on the writer.

    Several processes on one host may share the file (WAL works across processes on a local disk), but
    not across hosts: for several replicas use the Redis store.
    """

    FILE_NAME = "govreport-jobs.sqlite3"

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory else default_job_dir()
        self.path = self.directory / self.FILE_NAME
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._closed = False

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        """The connection; None while no job was ever stored and `create` is false (reads of unknown ids)."""
        if self._db is not None:
            return self._db
        if self._closed:
            raise RuntimeError("the job store is closed")
        if not create and not self.path.exists():
            return None
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, expires_at REAL NOT NULL, record TEXT NOT NULL)")
        db.execute("CREATE INDEX IF NOT EXISTS jobs_expiry ON jobs (expires_at)")
        self._db = db
        return db

    def put(self, record: JobRecord) -> None:
        with self._lock:
            db = self._connect(create=True)
            assert db is not None
            db.execute(
                "INSERT OR REPLACE INTO jobs (id, expires_at, record) VALUES (?, ?, ?)",
                (record.id, record.expires_at, record.to_json()),
            )

    def get(self, job_id: str) -> JobRecord | None:
        with self._lock:
            db = self._connect(create=False)
            if db is None:
                return None
            db.execute("DELETE FROM jobs WHERE expires_at <= ?", (time.time(),))
            row = db.execute("SELECT record FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return JobRecord.from_json(row[0]) if row else None

    def update(self, job_id: str, change: Change) -> JobRecord | None:
        with self._lock:
            db = self._connect(create=False)
            if db is None:
                return None
            db.execute("BEGIN IMMEDIATE")  # the write lock first: no other process changes the row meanwhile
            try:
                row = db.execute(
                    "SELECT record FROM jobs WHERE id = ? AND expires_at > ?", (job_id, time.time())
                ).fetchone()
                if row is None:
                    db.execute("COMMIT")
                    return None
                current = JobRecord.from_json(row[0])
                new = change(current)
                if new is not None:
                    db.execute(
                        "UPDATE jobs SET expires_at = ?, record = ? WHERE id = ?", (new.expires_at, new.to_json(), job_id)
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return new if new is not None else current

    def delete(self, job_id: str) -> None:
        with self._lock:
            db = self._connect(create=False)
            if db is not None:
                db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def ping(self) -> None:
        with self._lock:
            db = self._connect(create=False)
            if db is not None:
                db.execute("SELECT 1").fetchone()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._db is not None:
                self._db.close()
                self._db = None


class RedisJobStore:
    """Jobs as Redis strings `<prefix><id>` with a key expiry at the record's `expires_at`."""

    def __init__(self, url: str, prefix: str = "govreport:job:") -> None:
        import redis  # the [redis] extra; imported here so the SQLite default needs no client

        self._redis = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        self._watch_error = redis.WatchError
        self._prefix = prefix

    @staticmethod
    def _ttl_ms(record: JobRecord) -> int:
        return max(1, int((record.expires_at - time.time()) * 1000))

    def put(self, record: JobRecord) -> None:
        self._redis.set(self._prefix + record.id, record.to_json(), px=self._ttl_ms(record))

    def get(self, job_id: str) -> JobRecord | None:
        raw = self._redis.get(self._prefix + job_id)
        return JobRecord.from_json(raw) if raw is not None else None  # type: ignore[arg-type]

    def update(self, job_id: str, change: Change) -> JobRecord | None:
        key = self._prefix + job_id
        with self._redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    if raw is None:
                        pipe.unwatch()
                        return None
                    current = JobRecord.from_json(raw)  # type: ignore[arg-type]
                    new = change(current)
                    if new is None:
                        pipe.unwatch()
                        return current
                    pipe.multi()
                    pipe.set(key, new.to_json(), px=self._ttl_ms(new))
                    pipe.execute()
                    return new
                except self._watch_error:  # another replica changed it between GET and SET: read again
                    continue

    def delete(self, job_id: str) -> None:
        self._redis.delete(self._prefix + job_id)

    def ping(self) -> None:
        self._redis.ping()

    def close(self) -> None:
        self._redis.close()


def open_store(kind: str, *, directory: str, redis_url: str) -> JobStore:
    """The store the `job_store` setting names (nothing is opened or created yet)."""
    if kind == "redis":
        return RedisJobStore(redis_url)
    return SQLiteJobStore(directory or None)
