"""Read a Dockerfile into stages of instructions, enough to check it and to run its CMD.

Why: no Docker engine runs on the project's machines, so the tests check the
Dockerfile's rules by reading it and start the service the way its CMD and ENV say.
"""
from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

_ENV_REF = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


@dataclass(frozen=True, slots=True)
class Instruction:
    """One instruction: upper-case keyword and its argument text (continuations joined)."""

    keyword: str
    args: str

    def exec_form(self) -> list[str] | None:
        """The JSON-array argument of CMD/ENTRYPOINT/RUN, or None for the shell form."""
        text = self.args
        if self.keyword == "HEALTHCHECK":
            text = text.split("CMD", 1)[1] if "CMD" in text else ""
        text = text.strip()
        if not text.startswith("["):
            return None
        value = json.loads(text)
        return [str(v) for v in value]


@dataclass(slots=True)
class Stage:
    """One FROM ... [AS name] stage."""

    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None

    def env(self, args: dict[str, str]) -> dict[str, str]:
        """ENV of this stage in order, `$VAR` expanded from earlier ENV and the ARG defaults."""
        env: dict[str, str] = {}
        for inst in self.all("ENV"):
            for pair in shlex.split(inst.args):
                key, _, value = pair.partition("=")
                env[key] = _ENV_REF.sub(
                    lambda m: env.get(m[1] or m[2], args.get(m[1] or m[2], m[0])), value
                )
        return env


@dataclass(slots=True)
class Dockerfile:
    """Global ARGs (before the first FROM) and the stages in order."""

    args: dict[str, str]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]


def logical_lines(text: str) -> list[str]:
    """Join backslash continuations and drop comments/blank lines."""
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # comment inside a continued instruction
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append((current + stripped).strip())
        current = ""
    if current.strip():
        lines.append(current.strip())
    return lines


def parse(path: Path) -> Dockerfile:
    """Parse the Dockerfile at `path`."""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical_lines(Path(path).read_text(encoding="utf-8")):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        rest = rest.strip()
        if keyword == "FROM":
            words = rest.split()
            base = _ENV_REF.sub(lambda m: args.get(m[1] or m[2], m[0]), words[0])
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=base, name=name))
        elif not stages and keyword == "ARG":
            key, _, value = rest.partition("=")
            args[key] = value
        elif stages:
            stages[-1].instructions.append(Instruction(keyword, rest))
    return Dockerfile(args=args, stages=stages)


# --- build context -------------------------------------------------------------------


def dockerignore_patterns(path: Path) -> list[tuple[bool, str]]:
    """(excluded?, pattern) in file order; later lines win, as in Docker."""
    out: list[tuple[bool, str]] = []
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        out.append((not negated, line.lstrip("!").strip("/")))
    return out


def _matches(pattern: str, path: str) -> bool:
    """Docker matching: a pattern matches the path or one of its parent folders."""
    parts = path.split("/")
    if pattern.startswith("**/"):
        tail = pattern[3:]
        return any(
            fnmatch.fnmatchcase("/".join(parts[i:j]), tail)
            for i in range(len(parts))
            for j in range(i + 1, len(parts) + 1)
        )
    depth = pattern.count("/") + 1
    return depth <= len(parts) and fnmatch.fnmatchcase("/".join(parts[:depth]), pattern)


def is_ignored(path: str, patterns: list[tuple[bool, str]]) -> bool:
    """Whether `path` (relative, '/'-separated) is left out of the build context."""
    excluded = False
    for exclude, pattern in patterns:
        if _matches(pattern, path):
            excluded = exclude
    return excluded


def copy_stage_sources(repo: Path, stage: Stage, dest: Path) -> list[str]:
    """Lay out what `stage`'s plain COPY instructions would put in its WORKDIR.

    Files come from `repo` filtered through its .dockerignore, as Docker sends the
    context. Returns the relative paths copied.
    """
    patterns = dockerignore_patterns(repo / ".dockerignore")
    copied: list[str] = []
    for inst in stage.all("COPY"):
        words = [w for w in inst.args.split() if not w.startswith("--")]
        *sources, target = words
        for source in sources:
            src = repo / source
            files = [src] if src.is_file() else sorted(p for p in src.rglob("*") if p.is_file())
            for file in files:
                rel = file.relative_to(repo).as_posix()
                if is_ignored(rel, patterns):
                    continue
                inside = Path(target.rstrip("/")) / file.relative_to(src if src.is_dir() else src.parent)
                out = dest / inside
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(file, out)
                copied.append(inside.as_posix())
    return copied
