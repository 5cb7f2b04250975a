"""Shared fixtures: cached renders, installs and image builds (helpers live in helpers.py).

Expensive things (a rendered and locked project, a built image) are made once per test run and
shared between tests and between pytest-xdist workers: they live under the run's common temporary
root, keyed by their inputs, guarded by a file lock. Tests that change a project work on a copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from answer_sets import default
from helpers import (
    DOCKER,
    IMAGE_REPOSITORY,
    TEMPLATE,
    BuiltImage,
    EditedImageFactory,
    ImageFactory,
    ProjectCopier,
    ProjectFactory,
    SharedCache,
    build_history,
    copy_project,
    docker_build,
    image_tag,
    missing_for_docker_tier,
    remove_images,
    render,
    run,
)

# Other projects, with tests of their own: the adoption tests' fixtures, not tests of the template.
collect_ignore = ["fixtures"]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Once all workers are done: remove the images this checkout's tests tagged, and the dangling
    ones (a run leaves hundreds otherwise). KEEP_TEST_IMAGES=1 keeps them to look at."""
    if hasattr(session.config, "workerinput") or os.environ.get("KEEP_TEST_IMAGES"):
        return
    if shutil.which(DOCKER) and run([DOCKER, "info"], check=False).returncode == 0:
        remove_images(IMAGE_REPOSITORY)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`variant`: each name of the module's VARIANTS, unless the test parametrizes it itself."""
    if "variant" not in metafunc.fixturenames or not hasattr(metafunc.module, "VARIANTS"):
        return
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0]
        if "variant" in (
            [n.strip() for n in names.split(",")] if isinstance(names, str) else names
        ):
            return
    metafunc.parametrize("variant", metafunc.module.VARIANTS)


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> SharedCache:
    # With xdist, getbasetemp() is per worker and its parent is common to the run.
    base = tmp_path_factory.getbasetemp()
    root = base.parent if base.name.startswith("popen-gw") else base
    return SharedCache(root / "shared")


@pytest.fixture(scope="session")
def rendered_project(shared_cache: SharedCache) -> ProjectFactory:
    """`rendered_project(**answers)`: rendered without the lock task, shared: do not modify it."""

    def make(**answers: Any) -> Path:
        return shared_cache.get("render", answers, lambda path: render(path, answers))

    return make


@pytest.fixture(scope="session")
def locked_project(shared_cache: SharedCache) -> ProjectFactory:
    """`locked_project(**answers)`: a rendered, locked project, shared: do not modify it."""

    def make(**answers: Any) -> Path:
        return shared_cache.get("project", answers, lambda path: render(path, answers, lock=True))

    return make


@pytest.fixture(scope="session")
def installed_project(shared_cache: SharedCache, locked_project: ProjectFactory) -> ProjectFactory:
    """`installed_project(**answers)`: a locked project after `poetry install` (in .venv)."""

    def make(**answers: Any) -> Path:
        def install(path: Path) -> None:
            shutil.copytree(locked_project(**answers), path)
            run(["poetry", "install", "--no-interaction"], cwd=path)

        return shared_cache.get("installed", answers, install)

    return make


@pytest.fixture
def project_copy(tmp_path: Path) -> ProjectCopier:
    """`project_copy(project)`: a private, modifiable copy of a shared project."""

    def make(source: Path) -> Path:
        return copy_project(source, tmp_path / source.name)

    return make


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[str]:
    """The Docker CLI path; skips (or fails with REQUIRE_DOCKER=1) when no engine answers."""
    probe = (
        subprocess.run([DOCKER, "info"], capture_output=True, text=True, check=False)
        if Path(DOCKER).exists()
        else None
    )
    if probe is None or probe.returncode != 0:
        missing_for_docker_tier(
            f"no Docker engine reachable with {DOCKER} (run ../shared/tools/docker-sandbox)"
        )
    yield DOCKER


@pytest.fixture(scope="session")
def built_image(
    shared_cache: SharedCache, locked_project: ProjectFactory, docker_engine: str
) -> ImageFactory:
    """`built_image(**answers)`: the image of a locked project, built once per test run."""

    def make(**answers: Any) -> BuiltImage:
        tag = image_tag(answers)

        def build(path: Path) -> None:
            shutil.copytree(locked_project(**answers), path / "project")
            log = docker_build(path / "project", tag)
            (path / "build.log").write_text(log.stdout + log.stderr)

        path = shared_cache.get("image", answers, build)
        return BuiltImage(tag, path / "project", (path / "build.log").read_text())

    return make


@pytest.fixture(scope="session")
def edited_image(
    shared_cache: SharedCache, rendered_project: ProjectFactory, docker_engine: str
) -> EditedImageFactory:
    """`edited_image(edit, **answers)`: the rendered project of `answers`, changed by the
    module-level function `edit(project)` (which names it in the cache), locked, built once."""

    def make(edit: Callable[[Path], object], **answers: Any) -> BuiltImage:
        key = {"edit": f"{edit.__module__}.{edit.__qualname__}", "answers": answers}
        tag = image_tag(key)

        def build(path: Path) -> None:
            project = copy_project(rendered_project(**answers), path / "project")
            edit(project)
            run(["poetry", "lock"], cwd=project)
            if (project / "build-tools" / "export_lock.py").exists():  # hash_policy=export
                run(["python3", "build-tools/export_lock.py"], cwd=project)
            log = docker_build(project, tag)
            (path / "build.log").write_text(log.stdout + log.stderr)

        path = shared_cache.get("edited-image", key, build)
        return BuiltImage(tag, path / "project", (path / "build.log").read_text())

    return make


@pytest.fixture(scope="session")
def history(shared_cache: SharedCache) -> Path:
    """The update tests' template history (helpers.build_history), built once per run."""
    return shared_cache.get("update-template-history", {"source": str(TEMPLATE)}, build_history)


@pytest.fixture(scope="session")
def plain_poetry(shared_cache: SharedCache) -> Path:
    """The bin folder of a Poetry as `pip install poetry` gives it: no poetry-plugin-export.

    Only poetry-plugin-pypi-mirror beside it, which stands in for the network here (Poetry's PyPI
    client needs the JSON API this machine's proxy does not serve).
    """
    versions = {
        name: default(name) for name in ("poetry_version", "poetry_plugin_pypi_mirror_version")
    }

    def install(path: Path) -> None:
        run([sys.executable, "-m", "venv", path])
        run(
            [
                path / "bin" / "pip",
                "install",
                "--quiet",
                f"poetry=={versions['poetry_version']}",
                f"poetry-plugin-pypi-mirror=={versions['poetry_plugin_pypi_mirror_version']}",
            ]
        )

    return shared_cache.get("plain-poetry", versions, install) / "bin"


@pytest.fixture(scope="session")
def pre_commit_home(shared_cache: SharedCache) -> Path:
    """One pre-commit store for the whole run, so hook environments are built once."""
    path = shared_cache.root / "pre-commit-home"
    path.mkdir(parents=True, exist_ok=True)
    return path
