"""A worker task that reports the worker's own state instead of extracting (pool warm-up tests).

Workers import this module by name, so it lives on the test directory's import path.
"""
from __future__ import annotations

import json
import os
import sys

from app.worker import ExtractJob, JobOutput


def warm_state(_: ExtractJob) -> JobOutput:
    """What this worker process inherited: the preload module, and how full the engine's caches are."""
    from extractors.catalogue import catalogue
    from extractors.normalize import label_key

    preload = sys.modules.get("app.preload")
    state = {
        "pid": os.getpid(),
        "preloaded": preload is not None,
        "loaders_run": getattr(preload, "LOADERS_RUN", 0),
        "catalogue_loaded": catalogue.cache_info().currsize,  # type: ignore[attr-defined]
        "label_keys_cached": label_key.cache_info().currsize,  # type: ignore[attr-defined]
    }
    return JobOutput(format="probe", template="probe", result_json=json.dumps(state).encode())
