"""The job stores themselves: SQLite creates nothing until the first job; both stores expire records and make
`update` atomic across connections (SQLite: two stores on one file; Redis: a real redis-server)."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from jobs_live import running_redis

from app.jobstore import JobRecord, JobStore, RedisJobStore, SQLiteJobStore, default_job_dir, open_store


def _record(job_id: str, ttl: float = 60.0) -> JobRecord:
    now = time.time()
    return JobRecord(id=job_id, status="queued", created_at=now, expires_at=now + ttl, heartbeat_at=now, pages_done=0)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_redis(tmp_path_factory.mktemp("redis-store")) as url:
        yield url


@pytest.fixture(params=["sqlite", "redis"])
def stores(request: pytest.FixtureRequest, tmp_path: Path, redis_url: str) -> Iterator[tuple[JobStore, JobStore]]:
    """Two independent store objects on the same backing store (as two replicas/processes would have)."""
    if request.param == "sqlite":
        pair: tuple[JobStore, JobStore] = (SQLiteJobStore(tmp_path), SQLiteJobStore(tmp_path))
    else:
        prefix = f"test:{tmp_path.name}:"
        pair = (RedisJobStore(redis_url, prefix), RedisJobStore(redis_url, prefix))
    yield pair
    for s in pair:
        s.close()


def test_sqlite_store_creates_nothing_until_the_first_job(tmp_path: Path) -> None:
    folder = tmp_path / "jobs"
    store = SQLiteJobStore(folder)
    assert store.get("a" * 32) is None and store.update("a" * 32, lambda r: r) is None
    store.delete("a" * 32)
    store.ping()
    assert not folder.exists()
    rec = _record("b" * 32)
    store.put(rec)
    assert (folder / SQLiteJobStore.FILE_NAME).is_file()
    assert store.get(rec.id) == rec
    store.close()


def test_default_sqlite_location_is_a_folder_in_the_temp_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    store = open_store("sqlite", directory="", redis_url="")
    assert isinstance(store, SQLiteJobStore)
    assert store.path == tmp_path / "govreport-jobs" / "govreport-jobs.sqlite3" and default_job_dir() == store.directory
    assert list(tmp_path.iterdir()) == []


def test_records_round_trip_and_expire(stores: tuple[JobStore, JobStore]) -> None:
    a, b = stores
    rec = _record("c" * 32, ttl=0.6).evolve(result_json='{"x": "政府信息公开"}', problem={"code": "x", "status": 422})
    a.put(rec)
    assert b.get(rec.id) == rec
    time.sleep(0.8)
    assert b.get(rec.id) is None and a.update(rec.id, lambda r: r) is None


def test_update_is_atomic_across_connections(stores: tuple[JobStore, JobStore]) -> None:
    """Four threads on two store objects each add 1 to a counter 25 times: no increment is lost."""
    a, b = stores
    a.put(_record("d" * 32))

    def bump(store: JobStore) -> None:
        for _ in range(25):
            store.update("d" * 32, lambda r: r.evolve(pages_done=(r.pages_done or 0) + 1))

    threads = [threading.Thread(target=bump, args=(s,)) for s in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert a.get("d" * 32).pages_done == 100  # type: ignore[union-attr]


def test_update_returning_none_leaves_the_record(stores: tuple[JobStore, JobStore]) -> None:
    a, b = stores
    rec = _record("e" * 32).evolve(status="failed")
    a.put(rec)
    assert b.update(rec.id, lambda r: None) == rec
    assert a.get(rec.id) == rec
