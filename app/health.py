"""Readiness facts: is the pool up, and is there memory left for another document?"""
from __future__ import annotations

from pathlib import Path

# cgroup v2 then v1: (limit file, usage file). A container's limit is tighter than the host's.
_CGROUP_FILES = (
    ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
    ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
)
_UNLIMITED = 1 << 60


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return _UNLIMITED if text == "max" else int(text) if text.isdigit() else None


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def available_memory_bytes() -> int | None:
    """Bytes still available to this process's host/container; None where the OS does not say."""
    candidates = [_meminfo_available()]
    for limit_file, usage_file in _CGROUP_FILES:
        limit, usage = _read_int(limit_file), _read_int(usage_file)
        if limit is not None and usage is not None and limit < _UNLIMITED:
            candidates.append(max(0, limit - usage))
            break
    known = [c for c in candidates if c is not None]
    return min(known) if known else None
