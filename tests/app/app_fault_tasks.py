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


def memory_fault_extract(job: ExtractJob) -> JobOutput:
    """The production task with one step made to fail, keyed on the test's file-name prefix (workers only):

    `unbudgeted-`: the PDF budget switched off in this worker, so pdfium itself meets a bomb under the memory
    cap (and aborts: SIGABRT); `abort-after-read-`: the reader finishes, then the process aborts in the later
    stages; `sleep-in-read-N-`: the reader sleeps N s (for a SIGKILL while reading)."""
    import app.worker as worker
    from extractors.readers import pdf_budget

    name = job.filename or ""
    if name.startswith("unbudgeted-"):
        pdf_budget.check = lambda *a, **k: None  # type: ignore[assignment]  # a deliberately unbudgeted path
    elif name.startswith("abort-after-read-"):
        worker.document_response = lambda *a, **k: os.abort()  # type: ignore[assignment]
    elif m := re.match(r"sleep-in-read-(\d+(?:\.\d+)?)-", name):
        real, seconds = worker.read_document, float(m.group(1))

        def slow(*a, **k):  # type: ignore[no-untyped-def]
            time.sleep(seconds)
            return real(*a, **k)

        worker.read_document = slow  # type: ignore[assignment]
    return run_extract(job)
