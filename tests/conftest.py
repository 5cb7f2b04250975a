"""Shared fixtures: one command runner, cached renders, cached image builds.

Expensive things (a rendered and locked project, a built image) are made once per test run and
shared between tests and between pytest-xdist workers: they live under the run's common temporary
root, keyed by their inputs, guarded by a file lock. Tests that change a project work on a copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
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


class SharedCache:
    """Build-once storage shared by the xdist workers of one test run."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def get(self, kind: str, payload: Any, make: Any) -> Path:
        """The directory for `payload`, created by `make(path)` the first time it is asked for."""
        path = self.root / f"{kind}-{_key(payload)}"
        with FileLock(str(path) + ".lock"):
            done = path.with_suffix(".done")
            if not done.exists():
                shutil.rmtree(path, ignore_errors=True)
                make(path)
                done.write_text(json.dumps(payload, sort_keys=True, default=str))
        return path


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> SharedCache:
    # With xdist, getbasetemp() is per worker and its parent is common to the run.
    base = tmp_path_factory.getbasetemp()
    root = base.parent if base.name.startswith("popen-gw") else base
    return SharedCache(root / "shared")


@pytest.fixture(scope="session")
def locked_project(shared_cache: SharedCache) -> Any:
    """`locked_project(**answers)`: a rendered, locked project, shared: do not modify it."""

    def make(**answers: Any) -> Path:
        return shared_cache.get("project", answers, lambda path: render(path, answers, lock=True))

    return make


@pytest.fixture(scope="session")
def installed_project(shared_cache: SharedCache, locked_project: Any) -> Any:
    """`installed_project(**answers)`: a locked project after `poetry install` (in .venv)."""

    def make(**answers: Any) -> Path:
        def install(path: Path) -> None:
            shutil.copytree(locked_project(**answers), path)
            run(["poetry", "install", "--no-interaction"], cwd=path)

        return shared_cache.get("installed", answers, install)

    return make


def copy_project(source: Path, dest: Path) -> Path:
    """A private, modifiable copy of a shared project (without its venv)."""
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(".venv"))
    return dest


@pytest.fixture
def project_copy(tmp_path: Path) -> Any:
    def make(source: Path) -> Path:
        return copy_project(source, tmp_path / source.name)

    return make


def read_answers(project: Path) -> dict[str, Any]:
    import yaml

    answers: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[str]:
    """The Docker CLI path; skips (or fails with REQUIRE_DOCKER=1) when no engine answers."""
    probe = (
        subprocess.run([DOCKER, "info"], capture_output=True, text=True, check=False)
        if Path(DOCKER).exists()
        else None
    )
    if probe is None or probe.returncode != 0:
        reason = f"no Docker engine reachable with {DOCKER} (run ../shared/tools/docker-sandbox)"
        if os.environ.get("REQUIRE_DOCKER") == "1":
            pytest.fail(f"REQUIRE_DOCKER=1 but {reason}")
        pytest.skip(reason)
    yield DOCKER


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


@pytest.fixture(scope="session")
def built_image(shared_cache: SharedCache, locked_project: Any, docker_engine: str) -> Any:
    """`built_image(**answers)`: the image of a locked project, built once per test run."""

    def make(**answers: Any) -> BuiltImage:
        tag = f"cpd-test:{_key(answers)}"

        def build(path: Path) -> None:
            shutil.copytree(locked_project(**answers), path / "project")
            log = docker_build(path / "project", tag)
            (path / "build.log").write_text(log.stdout + log.stderr)

        path = shared_cache.get("image", answers, build)
        return BuiltImage(tag, path / "project", (path / "build.log").read_text())

    return make
