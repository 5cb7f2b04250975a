"""Test helpers: one command runner, rendering, Docker builds, a build-once cache.

Plain functions and classes, imported by test modules, fixtures and benchmarks (as copier's own
tests/helpers.py is); the pytest fixtures that use them live in conftest.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from copier import run_copy
from filelock import FileLock

TEMPLATE = Path(__file__).resolve().parents[1]
# Copier, pytest-copie and the update tests commit in temporary repositories: give git an identity
# on machines that have none.
for _variable, _value in {
    "GIT_AUTHOR_NAME": "copier-poetry-docker tests",
    "GIT_AUTHOR_EMAIL": "tests@copier-poetry-docker.invalid",
    "GIT_COMMITTER_NAME": "copier-poetry-docker tests",
    "GIT_COMMITTER_EMAIL": "tests@copier-poetry-docker.invalid",
}.items():
    os.environ.setdefault(_variable, _value)
DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")
BUILD_LOCK = Path(tempfile.gettempdir()) / "copier-poetry-docker-build.lock"


def tool_env(**overrides: str) -> dict[str, str]:
    """The environment for Poetry and generated projects: not inside the template's own venv."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["POETRY_VIRTUALENVS_IN_PROJECT"] = "true"
    env.setdefault("DOCKER_BUILDKIT", "1")
    env.update(overrides)
    return env


def run(
    command: Sequence[str | Path],
    cwd: Path | None = None,
    *,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capture its output, and fail with that output when `check` and it fails."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=dict(env) if env is not None else tool_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"command failed ({result.returncode}): {' '.join(map(str, command))}\n"
            f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
        )
    return result


def render(dest: Path, answers: Mapping[str, Any], *, lock: bool = False) -> Path:
    """Render the working tree of the template into `dest` with default answers plus `answers`.

    `lock=True` runs the copy-time task (`poetry lock`), as a user's `copier copy` does.
    """
    data = {"project_name": "My Tool", **answers}
    run_copy(
        str(TEMPLATE),
        str(dest),
        data=data,
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        skip_tasks=not lock,
        quiet=True,
    )
    if lock:
        assert (dest / "poetry.lock").is_file(), "the copy task did not write poetry.lock"
    return dest


def _key(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def image_tag(answers: Mapping[str, Any]) -> str:
    """A test image's tag: keyed by the answers and by this checkout, so that test runs in two
    checkouts (git worktrees) on one engine never use each other's images."""
    return f"cpd-test-{_key(str(TEMPLATE))[:6]}:{_key(dict(answers))}"


class SharedCache:
    """Build-once storage shared by the xdist workers of one test run."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def get(self, kind: str, payload: Any, make: Callable[[Path], object]) -> Path:
        """The directory for `payload`, created by `make(path)` the first time it is asked for."""
        path = self.root / f"{kind}-{_key(payload)}"
        with FileLock(str(path) + ".lock"):
            done = path.with_suffix(".done")
            if not done.exists():
                shutil.rmtree(path, ignore_errors=True)
                make(path)
                done.write_text(json.dumps(payload, sort_keys=True, default=str))
        return path


def copy_project(source: Path, dest: Path) -> Path:
    """A private, modifiable copy of a shared project (without its venv)."""
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(".venv"))
    return dest


def read_answers(project: Path) -> dict[str, Any]:
    answers: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


def pypi_simple_url() -> str:
    """pip's default index (PyPI's simple API), computed so no host is written in the repo."""
    from pip._internal.models.index import PyPI

    return str(PyPI.simple_url)


def docker_build(
    context: Path, tag: str, *args: str, check: bool = True, target: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`docker build` with BuildKit, plain progress (parsed by tests) and the PyPI mirror ARG.

    Poetry cannot use PyPI's JSON API on these machines, so every build resolves through the
    simple index by the Dockerfile's own PYPI_MIRROR_URL argument, exactly as a user behind a
    mirror would build.
    """
    command = [DOCKER, "build", "--progress=plain", "-t", tag]
    if not any(arg.startswith("PYPI_MIRROR_URL=") for arg in args):
        command += ["--build-arg", f"PYPI_MIRROR_URL={pypi_simple_url()}"]
    if target:
        command += ["--target", target]
    # Engine 20.10's BuildKit panics ("failed to get edge") when parallel builds share steps.
    with FileLock(str(BUILD_LOCK)):
        return run([*command, *args, context], check=check, env=tool_env(DOCKER_BUILDKIT="1"))


def docker_run(image: str, *args: str, check: bool = True, options: Sequence[str] = ()) -> str:
    """Run a container to completion and return its stdout."""
    result = run([DOCKER, "run", "--rm", *options, image, *args], check=check)
    return result.stdout


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    project: Path
    log: str
