"""`python -m app` as a real subprocess, for tests that need the process itself: its environment and its stderr.

One implementation of the service runner for CI and hand-run load tests:
`scripts/loadtest.py`'s `Service` (free 127.0.0.1 port, GOVREPORT_* taken only
from the given environment, stdout+stderr into a log file the test can parse).
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def loadtest() -> ModuleType:
    """`scripts/loadtest.py` as a module (loaded once per process)."""
    name = "govreport_loadtest"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / "loadtest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


def start_service(env: dict[str, str], tmp: Path):  # -> loadtest.Service
    """Start the service with `env`; its job store, spool and log live under `tmp`."""
    (tmp / "cwd").mkdir(parents=True, exist_ok=True)
    (tmp / "tmp").mkdir(exist_ok=True)
    base = {"GOVREPORT_WORKERS": "1", "GOVREPORT_JOB_DIR": str(tmp / "tmp"), "TMPDIR": str(tmp / "tmp")}
    service = loadtest().Service({**base, **env}, cwd=tmp / "cwd", log=tmp / "service.log")
    return service.start()


def access_records(log_text: str) -> list[dict]:
    """The JSON access-log lines of a service log (other log lines are skipped)."""
    records = []
    for line in log_text.splitlines():
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and "route" in record and "status" in record:
                records.append(record)
    return records
