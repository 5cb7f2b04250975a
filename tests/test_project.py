"""Generated projects work out of the box: lock, install, their own tests, CLI, linters."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from helpers import run

# Pythons this machine has: the projects for them are installed for real.
VARIANTS: dict[str, dict[str, Any]] = {
    "app-src": {"dependencies": ["requests>=2.31"]},
    "app-flat": {"layout": "flat", "cli_name": "mt"},
    "app-py311": {"python_version": "3.11", "debian_release": "bookworm"},
    "deps-only": {"project_type": "deps-only", "dependencies": ["six>=1.16"]},
}
APPS = [name for name in VARIANTS if name.startswith("app")]


@pytest.fixture(params=list(VARIANTS))
def variant(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def project(variant: str, installed_project: Any) -> Path:
    path: Path = installed_project(**VARIANTS[variant])
    return path


def poetry(project: Path, *args: str) -> str:
    return run(["poetry", *args], cwd=project).stdout


def test_lock_is_fresh_and_complete(project: Path, variant: str) -> None:
    poetry(project, "check", "--lock")
    lock = tomllib.loads((project / "poetry.lock").read_text())
    locked = {package["name"] for package in lock["package"]}
    assert {"pytest", "ruff", "mypy"} <= locked
    for requirement in VARIANTS[variant].get("dependencies", []):
        assert re.split(r"[<>=~!\[ ]", requirement)[0] in locked
    assert all(package["files"] for package in lock["package"]), "every file is hash-pinned"


def test_own_test_suite_passes(project: Path) -> None:
    output = poetry(project, "run", "pytest", "-q", "-p", "no:cacheprovider")
    summary = output.strip().splitlines()[-1]
    assert re.match(r"\d+ passed", summary) and "failed" not in summary and "skipped" not in summary


def test_ruff_format_and_mypy_are_clean(project: Path) -> None:
    poetry(project, "run", "ruff", "check", "--no-cache", ".")
    poetry(project, "run", "ruff", "format", "--no-cache", "--check", ".")
    assert "Success: no issues found" in poetry(project, "run", "mypy", "--no-incremental")


@pytest.mark.parametrize("variant", APPS, indirect=True)
def test_cli_greets_reports_its_version_and_runs_as_a_module(project: Path, variant: str) -> None:
    answers = VARIANTS[variant]
    cli = answers.get("cli_name", "my-tool")
    assert poetry(project, "run", cli) == "Hello, world! This is My Tool.\n"
    assert poetry(project, "run", cli, "Ada") == "Hello, Ada! This is My Tool.\n"
    assert poetry(project, "run", cli, "--version") == f"{cli} 0.1.0\n"
    assert f"usage: {cli}" in poetry(project, "run", "python", "-m", "my_tool", "--help")
    python = poetry(project, "run", "python", "-c", "import sys; print(sys.version_info[:2])")
    expected = answers.get("python_version", "3.13").split(".")
    assert python.strip() == f"({expected[0]}, {expected[1]})"


@pytest.mark.parametrize("variant", APPS, indirect=True)
def test_app_is_installed_from_its_source_tree(project: Path, variant: str) -> None:
    location = poetry(project, "run", "python", "-c", "import my_tool; print(my_tool.__file__)")
    package_dir = "src/my_tool" if VARIANTS[variant].get("layout", "src") == "src" else "my_tool"
    assert Path(location.strip()) == project / package_dir / "__init__.py"


@pytest.mark.parametrize("variant", ["deps-only"], indirect=True)
def test_deps_only_environment_imports_its_dependency_and_has_no_project(project: Path) -> None:
    assert poetry(project, "run", "python", "-c", "import six; print(six.__name__)") == "six\n"
    listed = poetry(project, "run", "python", "-m", "pip", "list", "--format=freeze")
    assert "my-tool" not in listed.lower()
