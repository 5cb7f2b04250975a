"""Unit tests of adoption's reading of an existing project (extensions/existing.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from extensions import existing
from extensions.filters import PYTHON_VERSIONS

# A 2023 lock, as `poetry lock` wrote it for `python = "^3.8"`: frozenlist 1.3.3 publishes wheels
# up to CPython 3.11 only; six is pure Python; cryptography's abi3 wheel serves every CPython.
OLD_LOCK = """
[[package]]
name = "frozenlist"
version = "1.3.3"
groups = ["main"]
files = [
    {file = "frozenlist-1.3.3-cp311-cp311-manylinux_2_5_x86_64.manylinux1_x86_64.manylinux_2_17_x86_64.manylinux2014_x86_64.whl", hash = "sha256:00"},
    {file = "frozenlist-1.3.3-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", hash = "sha256:01"},
    {file = "frozenlist-1.3.3.tar.gz", hash = "sha256:02"},
]

[[package]]
name = "six"
version = "1.16.0"
groups = ["main"]
files = [{file = "six-1.16.0-py2.py3-none-any.whl", hash = "sha256:03"}]

[[package]]
name = "cryptography"
version = "41.0.0"
groups = ["main"]
files = [{file = "cryptography-41.0.0-cp37-abi3-manylinux_2_28_x86_64.whl", hash = "sha256:04"}]

[[package]]
name = "numpy"
version = "1.24.0"
groups = ["dev"]
files = [{file = "numpy-1.24.0-cp311-cp311-manylinux_2_17_x86_64.whl", hash = "sha256:05"}]

[[package]]
name = "pure-sdist"
version = "1.0"
groups = ["main"]
files = [{file = "pure-sdist-1.0.tar.gz", hash = "sha256:06"}]
"""  # noqa: E501 - file names as Poetry writes them


def project(tmp_path: Path, python: str, lock: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.poetry]\nname = "old"\nversion = "1.0"\n\n'
        f'[tool.poetry.dependencies]\npython = "{python}"\n'
    )
    if lock:
        (tmp_path / "poetry.lock").write_text(lock)
    return tmp_path


@pytest.mark.parametrize(
    ("constraint", "allowed"),
    [
        ("3.11.*", ["3.11"]),
        ("^3.10", ["3.10", "3.11", "3.12", "3.13", "3.14"]),
        ("~3.11", ["3.11"]),
        (">=3.11,<3.13", ["3.11", "3.12"]),
        (">=3.10 <3.12", ["3.10", "3.11"]),
        ("~=3.12", ["3.12", "3.13", "3.14"]),
        (">=3.11.4", ["3.11", "3.12", "3.13", "3.14"]),
        ("<3.11 || >=3.13", ["3.10", "3.13", "3.14"]),
        ("*", ["3.10", "3.11", "3.12", "3.13", "3.14"]),
    ],
)
def test_python_constraints_are_read_as_poetry_reads_them(
    constraint: str, allowed: list[str]
) -> None:
    parsed = existing.python_constraint(constraint)
    assert [v for v in PYTHON_VERSIONS if existing.allows_python(parsed, v)] == allowed


def test_an_unparsable_or_empty_constraint_bounds_nothing() -> None:
    assert existing.python_constraint("") is None
    assert existing.python_constraint("not a constraint") is None
    assert existing.allows_python(None, "3.13")


def test_a_bound_of_one_minor_version_is_the_images_python(tmp_path: Path) -> None:
    assert existing.supported_python(project(tmp_path, "3.11.*"), "3.13", PYTHON_VERSIONS) == "3.11"
    assert existing.existing_python_error("3.12", tmp_path)
    assert not existing.existing_python_error("3.11", tmp_path)


def test_locked_packages_without_a_wheel_for_the_python_are_named(tmp_path: Path) -> None:
    old = project(tmp_path, "^3.8", OLD_LOCK)
    # Only the main group counts, and a package with no wheel at all (an sdist) is not judged.
    assert existing.locked_packages_without_wheels(old, "3.11") == []
    assert existing.locked_packages_without_wheels(old, "3.13") == ["frozenlist 1.3.3"]


def test_adoption_chooses_the_newest_python_the_lock_installs_and_says_why(
    tmp_path: Path,
) -> None:
    old = project(tmp_path, "^3.8", OLD_LOCK)
    assert existing.supported_python(old, "3.13", PYTHON_VERSIONS) == "3.11"
    reason = existing.python_choice_reason(old, "3.11", "3.13")
    assert "frozenlist 1.3.3" in reason and "3.13" in reason
    # Without a lock, only the bound decides, and there is nothing to say.
    new = tmp_path / "new"
    new.mkdir()
    assert existing.supported_python(project(new, "^3.8"), "3.13", PYTHON_VERSIONS) == "3.13"
    assert existing.python_choice_reason(new, "3.13", "3.13") == ""


def test_the_pyproject_is_parsed_once_per_version_of_the_file(tmp_path: Path) -> None:
    # Every default and validator reads the project's facts: one parse while the file is unchanged.
    project(tmp_path, "^3.11")
    existing._parsed.cache_clear()
    for _ in range(5):
        assert existing.existing_facts(tmp_path)["requires_python"] == "^3.11"
    assert existing._parsed.cache_info().misses == 1
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "new"\nrequires-python = ">=3.12"\n'
    )
    assert existing.existing_facts(tmp_path)["requires_python"] == ">=3.12"


def write_pyproject(root: Path, text: str) -> Path:
    (root / "pyproject.toml").write_text(text)
    return root


@pytest.mark.parametrize(
    ("license", "expression"),
    [
        ('"MIT"', "MIT"),
        ('"mit OR apache-2.0"', "MIT OR Apache-2.0"),
        ('{ text = "BSD-3-Clause" }', "BSD-3-Clause"),
        # No SPDX identifier: nothing, never a guess (Expat is Debian's name for MIT).
        ('"Expat"', ""),
        ('{ file = "LICENSE" }', ""),
        ('""', ""),
    ],
)
def test_the_license_expression_is_the_projects_when_spdx_knows_it(
    tmp_path: Path, license: str, expression: str
) -> None:
    write_pyproject(tmp_path, f'[project]\nname = "p"\nlicense = {license}\n')
    assert existing.existing_license_expression(tmp_path) == expression


@pytest.mark.parametrize(
    ("scripts", "targets", "extras"),
    [
        ('p = "p.cli:main [cli]"', {"p": "p.cli:main"}, {"p": ["cli"]}),
        ('p = "p.cli:main [Cli, web_ui ]"', {"p": "p.cli:main"}, {"p": ["cli", "web-ui"]}),
        ('p = "p:main"', {"p": "p:main"}, {"p": []}),
    ],
)
def test_a_scripts_extras_suffix_is_read_apart_from_its_target(
    tmp_path: Path, scripts: str, targets: dict[str, str], extras: dict[str, list[str]]
) -> None:
    write_pyproject(tmp_path, f'[project]\nname = "p"\n[project.scripts]\n{scripts}\n')
    found = existing.existing_facts(tmp_path)
    assert (found["scripts"], found["script_extras"]) == (targets, extras)


def test_a_single_module_project_is_its_module(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[tool.poetry]\npackages = [{ include = "tool.py" }]\n')
    assert existing.package_location(tmp_path, "ignored") == ("tool", "flat")
    assert existing.existing_build_context(tmp_path, "tool")[-1] == "tool.py"


def test_uncommitted_files_leave_out_what_adoption_adds(tmp_path: Path) -> None:
    from helpers import commit, git

    git(tmp_path, "init", "--quiet")
    (tmp_path / "kept.txt").write_text("kept\n")
    (tmp_path / "renamed.txt").write_text("renamed\n")
    commit(tmp_path, "the team's files")
    git(tmp_path, "mv", "renamed.txt", "moved.txt")
    for name in ("draft.txt", "Dockerfile", ".copier-answers.yml", ".gitignore"):
        (tmp_path / name).write_text("new\n")
    # .gitignore was the team's (existing_files): uncommitted; the Dockerfile is the template's.
    found = existing.uncommitted_files(tmp_path, [".gitignore"], ".copier-answers.yml")
    assert found == [".gitignore", "draft.txt", "moved.txt"]
    assert existing.uncommitted_files(tmp_path / "nowhere", [], ".copier-answers.yml") == []


# --- The test command: how the project's own tests run ------------------------------------------

UNITTEST_MODULE = "import unittest\n\n\nclass T(unittest.TestCase):\n    pass\n"
PYTEST_GROUP = '[dependency-groups]\ndev = ["pytest>=8"]\n'
DISCOVER = "python -m unittest discover -s"


@pytest.mark.parametrize(
    ("files", "package_dir", "command"),
    [
        # pytest declared anywhere: a Poetry group, Poetry 1's dev-dependencies, PEP 735 groups,
        # an extra.
        ({"pyproject.toml": '[tool.poetry.group.test.dependencies]\nPyTest = "8"'}, "", "pytest"),
        ({"pyproject.toml": '[tool.poetry.dev-dependencies]\npytest = "^7"\n'}, "", "pytest"),
        ({"pyproject.toml": PYTEST_GROUP}, "", "pytest"),
        ({"pyproject.toml": '[project.optional-dependencies]\nt = ["pytest"]\n'}, "", "pytest"),
        # pytest wins over unittest files (pytest runs them too).
        ({"pyproject.toml": PYTEST_GROUP, "tests/test_a.py": UNITTEST_MODULE}, "", "pytest"),
        # Django's runner, for a site with manage.py.
        (
            {"pyproject.toml": '[project]\ndependencies = ["Django>=5"]\n', "manage.py": ""},
            "", "python manage.py test",
        ),
        # unittest files: tests/ as a folder, as a package (imported from the root), test/.
        ({"pyproject.toml": "", "tests/test_a.py": UNITTEST_MODULE}, "", f"{DISCOVER} tests"),
        (
            {"pyproject.toml": "", "tests/__init__.py": "", "tests/test_a.py": UNITTEST_MODULE},
            "", f"{DISCOVER} tests -t .",
        ),
        ({"pyproject.toml": "", "test/test_a.py": "from unittest import TestCase\n"}, "",
         f"{DISCOVER} test"),
        # shortuuid's shape: tests.py inside the package; under src/, imported from src.
        (
            {"pyproject.toml": "", "ids/__init__.py": "", "ids/tests.py": UNITTEST_MODULE},
            "ids", f"{DISCOVER} ids -t .",
        ),
        (
            {"pyproject.toml": "", "src/ids/__init__.py": "", "src/ids/tests.py": UNITTEST_MODULE},
            "src/ids", f"{DISCOVER} src/ids -t src",
        ),
        # pytest-style tests without pytest, or none at all: no command CI could run.
        ({"pyproject.toml": "", "tests/test_a.py": "def test_a():\n    assert True\n"}, "", ""),
        ({"pyproject.toml": ""}, "", ""),
    ],
    ids=[
        "poetry-group", "dev-dependencies", "dependency-groups", "extra", "pytest-over-unittest",
        "django", "unittest-folder", "unittest-package", "test-folder", "in-package",
        "in-src-package", "pytest-style-undeclared", "no-tests",
    ],
)  # fmt: skip
def test_the_test_command_is_how_the_projects_tests_run(
    tmp_path: Path, files: dict[str, str], package_dir: str, command: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert existing.existing_test_command(tmp_path, package_dir) == command


def test_without_poetry_core_adoption_exits_with_the_sentence_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # SystemExit, which Copier does not wrap: a RuntimeError reached the user under a traceback.
    monkeypatch.setitem(sys.modules, "poetry.core.constraints.version", None)
    with pytest.raises(SystemExit, match=r"install it next to Copier \(`pipx inject copier"):
        existing.python_constraint(">=3.11")


@pytest.mark.parametrize(
    ("paths", "accepted"),
    [
        (["manage.py", "mysite/", "polls", "src/web/", "static/site-1.0.css"], True),
        ([], True),
        (["../shared/"], False),
        (["mysite/../../etc/"], False),
        (["./manage.py"], False),
        (["/srv/site/"], False),
        (["polls/*.py"], False),
        (["site[12]/"], False),
        (["my site/"], False),
        (["."], False),
        ([""], False),
        ([".venv/"], False),
        (["mysite/__pycache__/"], False),
        (["manage.py", 3], False),
        # A line break would end the COPY instruction and start another.
        (["manage.py\n"], False),
        (["mysite\nRUN id"], False),
        ("manage.py", False),
    ],
)
def test_app_files_are_literal_relative_paths_inside_the_project(
    paths: object, accepted: bool
) -> None:
    # A fresh project: the paths are checked, not looked up (the team writes the code next).
    error = existing.app_files_error(paths, "/nonexistent", adopting=False)
    assert (error == "") is accepted, error
    if not accepted:
        assert error.startswith("app_files "), error


def test_adopted_app_files_must_exist_inside_the_project(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.poetry]\npackage-mode = false\n")
    (tmp_path / "mysite").mkdir()
    (tmp_path / "outside").symlink_to(tmp_path.parent)
    assert existing.app_files_error(["mysite/"], tmp_path, adopting=True) == ""
    for missing in (["blog/"], ["outside/"]):
        error = existing.app_files_error(missing, tmp_path, adopting=True)
        assert "are not files or folders inside the project" in error, error


@pytest.mark.parametrize(
    ("check", "path"),
    [
        (existing.build_context_error, "src/\n"),
        (existing.build_context_error, "README.md\nRUN id"),
        (existing.load_files_error, "LICENSE\n"),
    ],
    ids=["context-newline", "context-instruction", "load-newline"],
)
def test_a_path_answer_with_a_line_break_is_refused(
    check: Callable[[list[str]], str], path: str
) -> None:
    # `re.match(...$)` let a trailing newline through: it would end a .dockerignore line or the
    # dependency step's mount option and start another.
    assert check([path]) != ""
    assert check([path.split("\n")[0]]) == ""
