"""The console script's target (cli_target): the stub CLI by default, any `module:function` else.

A project whose console script runs its own code gets no stub `cli.py`, `__main__.py` or
`tests/test_cli.py`, and its image's ENTRYPOINT runs that code.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from answer_sets import PACKAGE_NAME, PROJECT_SLUG
from helpers import (
    DOCKER,
    ProjectCopier,
    ProjectFactory,
    docker_build,
    docker_run,
    image_tag,
    run,
)

STUB = f"{PACKAGE_NAME}.cli:main"
OWN = f"{PACKAGE_NAME}.app:run"
OWN_MODULE = '''"""The team's own entry point."""

import sys


def run() -> None:
    print("own entry point", sys.argv[1:])
'''


def scripts(project: Path) -> dict[str, str]:
    data = tomllib.loads((project / "pyproject.toml").read_text())
    return dict(data["project"]["scripts"])


def python_files(project: Path) -> list[str]:
    """The project's own Python files: its package and tests (build-tools/ is the template's)."""
    return sorted(
        str(path.relative_to(project))
        for path in project.rglob("*.py")
        if path.relative_to(project).parts[0] != "build-tools"
    )


def test_the_stub_cli_is_the_default_target(rendered_project: ProjectFactory) -> None:
    project = rendered_project()
    assert scripts(project) == {PROJECT_SLUG: STUB}
    assert python_files(project) == [
        f"src/{PACKAGE_NAME}/__init__.py",
        f"src/{PACKAGE_NAME}/__main__.py",
        f"src/{PACKAGE_NAME}/cli.py",
        "tests/test_cli.py",
    ]


@pytest.mark.parametrize("layout", ["src", "flat"])
def test_another_target_gets_no_stub_cli_or_test(
    rendered_project: ProjectFactory, layout: str
) -> None:
    project = rendered_project(cli_target=OWN, layout=layout)
    assert scripts(project) == {PROJECT_SLUG: OWN}
    package = f"src/{PACKAGE_NAME}" if layout == "src" else PACKAGE_NAME
    assert python_files(project) == [f"{package}/__init__.py"]
    assert (project / package / "py.typed").is_file()


@pytest.mark.docker
def test_the_image_runs_the_answered_target(
    locked_project: ProjectFactory, project_copy: ProjectCopier, docker_engine: str
) -> None:
    project = project_copy(locked_project(cli_target=OWN))
    (project / "src" / PACKAGE_NAME / "app.py").write_text(OWN_MODULE)
    tag = image_tag({"cli_target": OWN, "module": OWN_MODULE})
    docker_build(project, tag)
    assert docker_run(tag, "a", "b") == "own entry point ['a', 'b']\n"
    config = json.loads(run([DOCKER, "inspect", tag]).stdout)[0]["Config"]
    assert config["Entrypoint"] == [PROJECT_SLUG]
