"""Read a Dockerfile into stages of instructions, enough to check it and to run its CMD.

Why: no Docker engine runs on the project's machines, so the tests check the
Dockerfile's rules by reading it and start the service the way its CMD and ENV say.
"""
from __future__ import annotations

import json
import re
import shlex
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
