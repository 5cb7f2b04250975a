"""Generated projects work out of the box: lock, install, their own tests, CLI.

The generated tests already run the CLI (greeting, `--version`, `python -m`, the console script);
this module checks what they cannot see from inside: the lock, the interpreter and the install.
Linters on generated projects: test_ci_files.py (pre-commit hooks, and the CI lint job replayed).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from answer_sets import PACKAGE_NAME, PROJECT_SLUG, answer, answers, cli_name, is_app
from helpers import PROJECT_NAME, ProjectFactory, run

pytestmark = pytest.mark.slow

# Pythons this machine has: the projects for them are installed for real.
VARIANTS = ["app-src+requests", "app-flat", "app-src+py311-bookworm", "deps-only"]
APPS = [name for name in VARIANTS if is_app(answers(name))]


@pytest.fixture
def project(variant: str, installed_project: ProjectFactory) -> Path:
    return installed_project(**answers(variant))


def poetry(project: Path, *args: str) -> str:
    return run(["poetry", *args], cwd=project).stdout


def test_lock_is_fresh_and_complete(project: Path, variant: str) -> None:
    poetry(project, "check", "--lock")
    lock = tomllib.loads((project / "poetry.lock").read_text())
    locked = {package["name"] for package in lock["package"]}
    assert {"pytest", "ruff", "mypy"} <= locked
    for requirement in answers(variant).get("dependencies", []):
        assert re.split(r"[<>=~!\[ ]", requirement)[0].lower() in locked
    assert all(package["files"] for package in lock["package"]), "every file is hash-pinned"


def test_own_test_suite_passes(project: Path) -> None:
    output = poetry(project, "run", "pytest", "-q", "-p", "no:cacheprovider")
    written = sum(
        len(re.findall(r"^def test_", path.read_text(), re.MULTILINE))
        for path in (project / "tests").glob("test_*.py")
    )
    assert written, "the generated project has no tests"
    # Every generated test ran and passed: none skipped, none missing.
    assert output.strip().splitlines()[-1].startswith(f"{written} passed in ")


@pytest.mark.parametrize("variant", APPS)
def test_console_script_greets_on_the_answered_python_from_the_source_tree(
    project: Path, variant: str
) -> None:
    given = answers(variant)
    # The generated tests compare the greeting with cli.PROJECT_NAME; this checks it was rendered.
    assert poetry(project, "run", cli_name(given)) == f"Hello, world! This is {PROJECT_NAME}.\n"
    probe = f"import sys, {PACKAGE_NAME} as p; print('%d.%d' % sys.version_info[:2], p.__file__)"
    version, location = poetry(project, "run", "python", "-c", probe).split()
    assert version == answer(given, "python_version")
    package_dir = f"src/{PACKAGE_NAME}" if answer(given, "layout") == "src" else PACKAGE_NAME
    assert Path(location) == project / package_dir / "__init__.py"


@pytest.mark.parametrize("variant", ["deps-only"])
def test_deps_only_environment_imports_its_dependency_and_has_no_project(project: Path) -> None:
    assert poetry(project, "run", "python", "-c", "import six; print(six.__name__)") == "six\n"
    listed = poetry(project, "run", "python", "-m", "pip", "list", "--format=freeze")
    assert PROJECT_SLUG not in listed.lower()


@pytest.mark.parametrize("variant", ["app-src+extras", "deps-only+extras"])
def test_answered_extras_are_declared_empty_and_lock(
    locked_project: ProjectFactory, variant: str
) -> None:
    # The copy task locked the project; the lock matches the declared (empty) extras.
    project = locked_project(**answers(variant))
    extras = answers(variant)["extras"]
    declared = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert declared["optional-dependencies"] == {extra: [] for extra in extras}
    poetry(project, "check", "--lock")
    # The Dockerfile's flags for the exported policies are accepted with this lock.
    flags = [flag for extra in extras for flag in ("--extras", extra)]
    poetry(project, "export", "--only", "main", *flags, "--format", "requirements.txt")
