"""Every literal regular expression of the engine and the service is compiled once, at import.

`re.sub("…", …)` inside a function compiles on its first call in each process and then lives in the re
module's cache of 512 patterns. A service worker is forked from a forkserver that imported and warmed
the engine: a pattern compiled at import is inherited, one compiled on first use is compiled again by
every new worker on the first request that reaches that line (measured: three such compiles in a fresh
worker's first TXT report), and is compiled again whenever 512 others have pushed it out of the cache.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_CALLS = {"sub", "subn", "match", "search", "fullmatch", "findall", "finditer", "split"}


def inline_patterns(source: str) -> list[tuple[int, str, str]]:
    """(line, function, pattern) of every `re.<function>("literal", …)` call in `source`."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _CALLS
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            out.append((node.lineno, node.func.attr, node.args[0].value))
    return sorted(out)


def test_the_scan_finds_a_literal_pattern_and_passes_a_compiled_or_built_one() -> None:
    source = ('import re\n_WS = re.compile(r"\\s+")\n\n'
              'def f(t, word):\n'
              '    a = re.sub(r"\\s+", "", t)\n'
              '    b = _WS.sub("", t) + re.escape(word)\n'
              '    return re.search(f"{word}$", t), re.findall("[0-9]", a + b)\n')
    assert inline_patterns(source) == [(5, "sub", r"\s+"), (7, "findall", "[0-9]")]


def test_no_module_of_the_engine_or_the_service_compiles_a_literal_pattern_on_first_use() -> None:
    files = sorted((ROOT / "extractors").rglob("*.py")) + sorted((ROOT / "app").rglob("*.py"))
    assert len(files) > 50
    found = [f"{f.relative_to(ROOT)}:{line}: re.{fn}({pat!r})" for f in files
             for line, fn, pat in inline_patterns(f.read_text(encoding="utf-8"))]
    assert found == []
