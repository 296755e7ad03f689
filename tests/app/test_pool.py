"""The worker pool's forkserver starts every worker warm: the engine's one-time set-up is inherited."""
from __future__ import annotations

import asyncio
import json

from app_probe_tasks import warm_state

from app.pool import PoolConfig, WorkerPool
from app.worker import ExtractJob


def test_new_and_recycled_forkserver_workers_inherit_the_warm_engine() -> None:
    async def scenario() -> list[dict[str, object]]:
        pool = WorkerPool(PoolConfig(size=1, max_queue=2, max_tasks_per_child=1, start_method="forkserver"), warm_state)
        await pool.start()
        try:
            loop = asyncio.get_running_loop()
            out = []
            for _ in range(2):  # max_tasks_per_child=1: the second job runs on a recycled (new) worker
                output = await pool.run(ExtractJob(b"x", "probe.txt"), loop.time() + 30, 30)
                out.append(json.loads(output.result_json))
            return out
        finally:
            await pool.close()

    first, recycled = asyncio.run(scenario())
    assert first["pid"] != recycled["pid"]
    for state in (first, recycled):
        assert state["preloaded"] is True
        assert state["loaders_run"] >= 5  # catalogue, forms, aliases, rule sets …
        # built in the forkserver, before this process existed: it never ran an extraction itself
        assert state["catalogue_loaded"] == 1
        assert state["label_keys_cached"] > 200  # the statutory labels of the warm-up report
