"""Worker tasks for fault tests: the real extraction, misbehaving on request.

The pool runs whatever task the app was built with (`create_app(task=...)`);
these wrap the production task and, keyed on the test's own synthetic file
names, sleep (slow document), allocate (memory bomb), exit the process (crash)
or raise a stray exception (bug). Workers import this module by name, so it
lives on the test directory's import path.
"""
from __future__ import annotations

import os
import re
import time

from app.worker import ExtractJob, JobOutput, run_extract

MiB = 1024 * 1024
_ACTION = re.compile(r"^(sleep|alloc|exit|bug)-(\d+(?:\.\d+)?)")


def faulty_extract(job: ExtractJob) -> JobOutput:
    m = _ACTION.match(job.filename or "")
    if m:
        action, amount = m.group(1), float(m.group(2))
        if action == "sleep":
            time.sleep(amount)
        elif action == "alloc":
            hog = bytearray(int(amount) * MiB)  # fails with MemoryError under RLIMIT_AS
            hog[-1] = 1
        elif action == "exit":
            os._exit(int(amount))
        elif action == "bug":
            raise ValueError("deliberate bug for the 500 test")
    return run_extract(job)
