"""The runtime dependency list is exactly what the service and the library import.

pdfplumber and python-docx are the benchmark's naive baselines (and the tests' DOCX fixtures): they live in
the `[bench]` extra, so a service install does not carry them (nor pdfminer.six and Pillow behind them).
The proof runs in a fresh interpreter with those modules blocked on `sys.meta_path`: the app is built and
real reports of every text format are extracted; then every third-party module it loaded must belong to a
distribution in the closure of `[project.dependencies]`.
"""
from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared"
BENCH_ONLY = ("pdfplumber", "python-docx")
# import names of the bench-only distributions and what only they pull in
BLOCKED = ("pdfplumber", "docx", "pdfminer", "PIL")
INPUTS = (
    "corpus/pdf/000_32e6960542ba4ec5.pdf",
    "corpus/docx/000_32e6960542ba4ec5.docx",
    "corpus/html/000_32e6960542ba4ec5.html",
    "corpus/txt/000_32e6960542ba4ec5.txt",
    "formats/000_32e6960542ba4ec5.doc",
    "formats/000_32e6960542ba4ec5.xlsx",
    "formats/000_32e6960542ba4ec5.xls",
)

PROBE = r"""
import importlib.abc, json, sys
from pathlib import Path

BLOCKED = set(json.loads(sys.argv[1]))

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"blocked: {name}", name=name)
        return None

sys.meta_path.insert(0, Block())
before = set(sys.modules)  # the interpreter's own start-up (site hooks) is not the project's import
import app.main, app.__main__, extractors.__main__, extractors.batch
from extractors import extract
values = {}
for path in sys.argv[2:]:
    result = extract(Path(path).read_bytes(), Path(path).name)
    values[Path(path).name] = len([i for i in result.indicators if i.value is not None])
site = tuple(p for p in sys.path if p.endswith("-packages"))
top = {m.partition(".")[0] for m in set(sys.modules) - before}
values["modules"] = sorted(m for m in top if (getattr(sys.modules.get(m), "__file__", None) or "").startswith(site))
from fastapi.testclient import TestClient  # test-side (it loads rich): imported after the census
with TestClient(app.main.create_app()) as client:
    r = client.post("/v1/extract", files={"file": ("a.docx", Path(sys.argv[3]).read_bytes())})
    values["http"] = r.status_code
print(json.dumps(values))
"""


# Modules a runtime dependency imports only when they happen to be installed (`try: import … except
# ImportError`), mapped to that dependency: the test environment has them through other extras
# (selenium → trio → sniffio; schemathesis → rich), a service install does not and runs without them.
OPTIONAL_IMPORTS = {"sniffio": "anyio", "rich": "httpx", "pygments": "httpx"}


def _name(dist: str) -> str:
    return dist.lower().replace("_", "-").replace(".", "-")


def _runtime(dist: str) -> list[Requirement]:
    """The requirements of `dist` that apply without extras on this interpreter."""
    out = []
    for line in requires(dist) or []:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            out.append(req)
    return out


def _closure(dist: str) -> set[str]:
    seen: set[str] = set()
    todo = [dist]
    while todo:
        name = _name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            todo += [r.name for r in _runtime(name)]
        except Exception:  # noqa: BLE001 - a requirement not installed here cannot be walked further
            continue
    return seen


def test_bench_only_packages_are_an_extra_not_a_runtime_dependency() -> None:
    runtime = {_name(r.name) for r in _runtime("govreport-extract")}
    assert runtime.isdisjoint(BENCH_ONLY)
    extras = [Requirement(line) for line in requires("govreport-extract") or []]
    bench = {_name(r.name) for r in extras if r.marker is not None and r.marker.evaluate({"extra": "bench"})}
    assert set(BENCH_ONLY) <= bench


def test_service_and_library_run_with_bench_packages_blocked_and_import_only_runtime_dependencies() -> None:
    from importlib.metadata import packages_distributions

    paths = [str(SHARED / p) for p in INPUTS]
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(BLOCKED), *paths],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out.pop("http") == 200
    loaded = out.pop("modules")
    assert not set(BLOCKED) & set(loaded)
    # every real report gave values without the bench packages
    assert all(n > 20 for n in out.values()), out
    allowed = _closure("govreport-extract") | {"govreport-extract"}
    # (the probe's TestClient needs only httpx, itself a runtime dependency: batch --server)
    owners = packages_distributions()
    undeclared = {
        m: owners.get(m) for m in loaded
        if not {_name(d) for d in owners.get(m, [m])} & allowed and OPTIONAL_IMPORTS.get(m) not in allowed
    }
    assert undeclared == {}
    assert {"pypdfium2", "lxml", "rapidfuzz", "fastapi"} <= set(loaded)  # the probe sees real imports
