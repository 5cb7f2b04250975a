"""Rendering across the answer space: the tree and the parsed content of key files."""

from __future__ import annotations

import ast
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
from plumbum import local

from answer_sets import (
    ASKED,
    DEFAULT_DEBIAN,
    DEFAULT_PYTHON,
    DERIVED,
    PACKAGE_NAME,
    PROJECT_SLUG,
    PYTHON_VERSIONS,
    choices,
)
from extensions.filters import license_spdx, python_image
from helpers import PROJECT_NAME, read_answers, render, template_snapshot


@pytest.fixture
def no_poetry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Renders without Poetry on PATH: fast, and the copy task must say what to run instead."""
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    # Copier runs tasks with plumbum's copy of the environment, taken when plumbum was imported.
    with local.env(PATH="/usr/bin:/bin"):
        yield


def copy(copie: Any, *, from_git: bool = False, **answers: Any) -> Path:
    """Render with pytest-copie; from a plain copy of the template unless `from_git`."""
    result = copie.copy(
        extra_answers={"project_name": PROJECT_NAME, **answers},
        template_dir=None if from_git else template_snapshot(),
    )
    assert result.exit_code == 0, result.exception
    assert result.project_dir is not None
    project: Path = result.project_dir
    return project


def tree(project: Path) -> set[str]:
    return {str(path.relative_to(project)) for path in project.rglob("*") if path.is_file()}


def pyproject(project: Path) -> dict[str, Any]:
    return tomllib.loads((project / "pyproject.toml").read_text())


COMMON_FILES = {
    ".copier-answers.yml",
    ".dockerignore",
    ".gitignore",
    "Dockerfile",
    "LICENSE",
    "README.md",
    "pyproject.toml",
    "build-tools/poetry.txt",
    # hash_policy export (the default): lock-export.txt is the copy task's, from poetry.lock.
    "build-tools/export_lock.py",
}


@pytest.mark.usefixtures("no_poetry")
@pytest.mark.parametrize(
    ("answers", "package_files"),
    [
        (
            {"layout": "src"},
            {
                f"src/{PACKAGE_NAME}/__init__.py",
                f"src/{PACKAGE_NAME}/__main__.py",
                f"src/{PACKAGE_NAME}/cli.py",
                f"src/{PACKAGE_NAME}/py.typed",
                "tests/test_cli.py",
                "build-tools/poetry-core.txt",  # export: the wheel's backend, hash-pinned
            },
        ),
        (
            {"layout": "flat"},
            {
                f"{PACKAGE_NAME}/__init__.py",
                f"{PACKAGE_NAME}/__main__.py",
                f"{PACKAGE_NAME}/cli.py",
                f"{PACKAGE_NAME}/py.typed",
                "tests/test_cli.py",
                "build-tools/poetry-core.txt",  # export: the wheel's backend, hash-pinned
            },
        ),
        ({"project_type": "deps-only"}, {"tests/test_environment.py"}),
    ],
    ids=["app-src", "app-flat", "deps-only"],
)
def test_tree(copie: Any, answers: dict[str, Any], package_files: set[str]) -> None:
    project = copy(copie, ci="none", use_pre_commit=False, **answers)
    assert tree(project) == COMMON_FILES | package_files


@pytest.mark.usefixtures("no_poetry")
def test_app_pyproject_is_pep621_with_a_poetry2_backend_and_script(copie: Any) -> None:
    project = copy(
        copie,
        cli_name="greet",
        description='A "quoted" tool',
        author_name="Ada",
        author_email="ada@example.com",
    )
    data = pyproject(project)
    assert data["project"]["name"] == PROJECT_SLUG
    assert data["project"]["description"] == 'A "quoted" tool'
    assert data["project"]["authors"] == [{"name": "Ada", "email": "ada@example.com"}]
    assert data["project"]["scripts"] == {"greet": f"{PACKAGE_NAME}.cli:main"}
    assert data["project"]["requires-python"] == f">={DEFAULT_PYTHON}"
    assert data["build-system"]["build-backend"] == "poetry.core.masonry.api"
    assert data["tool"]["poetry"]["packages"] == [{"include": PACKAGE_NAME, "from": "src"}]
    assert "scripts" not in data["tool"]["poetry"], "Poetry 2 scripts belong in [project.scripts]"
    assert set(data["tool"]["poetry"]["group"]["dev"]["dependencies"]) >= {"pytest", "ruff", "mypy"}
    assert data["tool"]["mypy"]["strict"] is True
    assert data["tool"]["ruff"]["target-version"] == "py" + DEFAULT_PYTHON.replace(".", "")


@pytest.mark.usefixtures("no_poetry")
def test_flat_layout_packages_the_root_directory(copie: Any) -> None:
    data = pyproject(copy(copie, layout="flat"))
    assert data["tool"]["poetry"]["packages"] == [{"include": PACKAGE_NAME}]
    assert data["tool"]["mypy"]["files"] == [PACKAGE_NAME, "tests"]


@pytest.mark.usefixtures("no_poetry")
@pytest.mark.parametrize("dependencies", [[], ["pandas>=2", "requests[socks]~=2.32"]])
def test_deps_only_is_an_environment_not_a_package(copie: Any, dependencies: list[str]) -> None:
    project = copy(copie, project_type="deps-only", dependencies=dependencies)
    data = pyproject(project)
    assert data["tool"]["poetry"]["package-mode"] is False
    assert data["project"]["dependencies"] == dependencies
    assert "scripts" not in data["project"]
    assert "build-system" not in data
    assert "packages" not in data["tool"]["poetry"]
    assert not (project / "src").exists()
    assert "environment, not a package" in (project / "README.md").read_text()


@pytest.mark.usefixtures("no_poetry")
@pytest.mark.parametrize("dependencies", [[], ["requests>=2.32"]])
def test_app_dependencies_are_written_as_given(copie: Any, dependencies: list[str]) -> None:
    assert (
        pyproject(copy(copie, dependencies=dependencies))["project"]["dependencies"] == dependencies
    )


@pytest.mark.usefixtures("no_poetry")
@pytest.mark.parametrize("python_version", PYTHON_VERSIONS)
def test_python_version_drives_metadata_tools_and_base_image(
    copie: Any, python_version: str
) -> None:
    project = copy(copie, python_version=python_version, project_type="deps-only")
    data = pyproject(project)
    assert data["project"]["requires-python"] == f">={python_version}"
    assert data["tool"]["mypy"]["python_version"] == python_version
    assert data["tool"]["ruff"]["target-version"] == "py" + python_version.replace(".", "")
    dockerfile = (project / "Dockerfile").read_text()
    image = python_image(python_version, DEFAULT_DEBIAN)
    assert f"ARG PYTHON_IMAGE={image}\n" in dockerfile
    # The deps-only test reads pyproject.toml: tomllib is 3.11+, so 3.10 needs tomli.
    dev = data["tool"]["poetry"]["group"]["dev"]["dependencies"]
    assert ("tomli" in dev) is (python_version == "3.10")
    ast.parse((project / "tests" / "test_environment.py").read_text())


# What the first line of each license's text says.
LICENSE_HEADINGS = {
    "MIT": "MIT License",
    "Apache-2.0": "Apache License",
    "BSD-3-Clause": "BSD 3-Clause License",
    "Proprietary": "All rights reserved.",
}


def test_every_license_choice_has_a_text() -> None:
    assert sorted(LICENSE_HEADINGS) == sorted(choices("license"))


@pytest.mark.usefixtures("no_poetry")
@pytest.mark.parametrize("license", choices("license"))
def test_license_file_and_spdx_metadata(copie: Any, license: str) -> None:
    project = copy(copie, license=license, author_name="Ada Lovelace")
    text = (project / "LICENSE").read_text()
    assert LICENSE_HEADINGS[license] in text.splitlines()[0]
    assert not text.startswith("\n") and text.endswith("\n") and not text.endswith("\n\n")
    assert pyproject(project)["project"]["license"] == license_spdx(license)
    if license != "Apache-2.0":  # Apache's text names no holder; its appendix shows how
        assert "Ada Lovelace" in text


@pytest.mark.usefixtures("no_poetry")
def test_answers_file_records_every_question(copie: Any) -> None:
    # From the git checkout, as users render: the answers file records the template commit.
    project = copy(copie, from_git=True, project_type="deps-only", dependencies=["pandas"])
    answers = read_answers(project)
    # Questions hidden by `when:` (the app's questions for deps-only, healthcheck_path without a
    # service_port, adoption's for a new project) are not asked, so not recorded.
    adoption_only = {
        "existing_files", "build_context", "load_files", "image_license", "build_backend",
    }  # fmt: skip
    hidden = {"layout", "cli_name", "cli_target", "publish_to_pypi", "healthcheck_path"}
    assert set(ASKED) - hidden - adoption_only <= set(answers)
    assert not (hidden | adoption_only) & set(answers)
    assert answers["dependencies"] == ["pandas"]
    # An environment's code run from source: none unless answered (an app's is in its wheel).
    assert answers["app_files"] == []
    assert "_commit" in answers and "_src_path" in answers
    app_answers = read_answers(copy(copie, service_port=8000))
    assert set(ASKED) - adoption_only - {"app_files"} <= set(app_answers)
    assert "app_files" not in app_answers
    assert not DERIVED & set(app_answers), "derived values must not be stored"


@pytest.mark.usefixtures("no_poetry")
def test_package_index_url_becomes_the_primary_source_without_credentials(copie: Any) -> None:
    url = "https://packages.example.com/simple/"
    project = copy(copie, package_index_url=url)
    sources = pyproject(project)["tool"]["poetry"]["source"]
    assert sources == [{"name": "private", "url": url, "priority": "primary"}]
    assert "--secret id=index_auth" in (project / "README.md").read_text()


@pytest.mark.usefixtures("no_poetry")
def test_without_poetry_the_copy_says_what_to_run(
    copie: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    project = copy(copie)
    out, err = capfd.readouterr()
    assert "Poetry is not on PATH: run 'poetry lock' in this project" in out + err
    assert not (project / "poetry.lock").exists()


@pytest.mark.usefixtures("no_poetry")
@pytest.mark.parametrize(
    "answers",
    [
        {},
        {"layout": "flat"},
        {"project_type": "deps-only"},
        {
            "package_index_url": "https://example.com/simple/",
            "apt_build_packages": ["gcc"],
            "hash_policy": "pip",
        },
    ],
)
def test_rendered_text_has_no_stray_whitespace(copie: Any, answers: dict[str, Any]) -> None:
    project = copy(copie, **answers)
    for name in tree(project):
        text = (project / name).read_text()
        if not text:
            continue
        lines = text.split("\n")
        assert text.endswith("\n") and not text.endswith("\n\n"), f"{name}: end of file"
        assert not [n for n, line in enumerate(lines, 1) if line != line.rstrip()], name
        assert "\n\n\n\n" not in text, f"{name}: more than two blank lines"
        if name.endswith(".py"):
            ast.parse(text)


def test_a_misspelt_name_in_a_fragment_fails_the_render(tmp_path: Path) -> None:
    # StrictUndefined (copier.yml `_envops`): a name nothing defines is an error, where Jinja's
    # default would render "" and the Dockerfile would silently lose, e.g., --require-hashes.
    template = tmp_path / "template"
    shutil.copytree(template_snapshot(), template)
    fragment = template / "includes" / "dockerfile" / "deps-poetry.jinja"
    fragment.write_text(fragment.read_text() + "{{ hash_polcy }}\n")
    with pytest.raises(jinja2.exceptions.UndefinedError, match="'hash_polcy' is undefined"):
        render(tmp_path / "project", {"hash_policy": "poetry"}, template=template)
