"""Worker tasks for fault tests: the real extraction, misbehaving on request.

The pool runs whatever task the app was built with (`create_app(task=...)`);
these wrap the production task and, keyed on the test's own synthetic file
names, sleep (slow document), allocate (memory bomb), exit the process (crash),
raise a stray exception (bug), or burn CPU in Python (spin) or inside one native
call (cspin: PBKDF2 in OpenSSL, which a Python signal handler could not interrupt). Workers import this module by name, so it
lives on the test directory's import path.
"""
from __future__ import annotations

import hashlib
import os
import re
import time

from app.worker import ExtractJob, JobOutput, run_extract

MiB = 1024 * 1024
_ACTION = re.compile(r"^(sleep|alloc|exit|bug|spin|cspin)-(\d+(?:\.\d+)?)")


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
        elif action == "spin":
            end = time.process_time() + amount
            while time.process_time() < end:
                pass
        elif action == "cspin":
            hashlib.pbkdf2_hmac("sha256", b"cpu", b"limit", int(amount * 2_000_000))  # ~amount s in one C call
    return run_extract(job)
