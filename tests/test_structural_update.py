"""An update that would move or remove the package is refused before anything is written.

Changing `layout`, `project_type` or `package_name` in `copier update` would render a fresh stub at
the new place and leave (or delete) the user's code at the old one. The update refuses with a
message saying how to make the change, and the project is byte-identical afterwards; following
the message, the next update keeps every user byte.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from helpers import commit, env, generate, git, replace_once, run, tree

pytestmark = pytest.mark.slow

USER_CODE = (
    '\n\ndef shout(text: str) -> str:\n    """Added by the team."""\n    return text.upper()\n'
)
EXTRA_MODULE = '"""A module the team added."""\n\nANSWER = 42\n'
EXTRA_TEST = (
    "from round_trip.extra import ANSWER\n\n\ndef test_answer() -> None:\n    assert ANSWER == 42\n"
)


def user_project(history: Path, dest: Path) -> Path:
    """Generated at 0.1.0, then the team's work: an edit, a module and a test, committed."""
    generate(history, dest, "0.1.0")
    package = dest / "src" / "round_trip"
    with (package / "cli.py").open("a") as cli:
        cli.write(USER_CODE)
    (package / "extra.py").write_text(EXTRA_MODULE)
    (dest / "tests" / "test_extra.py").write_text(EXTRA_TEST)
    commit(dest, "The team's code")
    return dest


def copier_update(project: Path, *data: str) -> tuple[int, str]:
    options = [arg for answer in data for arg in ("--data", answer)]
    command = [sys.executable, "-m", "copier", "update", "--trust", "--defaults"]
    result = run([*command, "--vcs-ref", "0.2.0", *options], cwd=project, env=env(), check=False)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize(
    "change", ["layout=flat", "project_type=deps-only", "package_name=renamed"]
)
def test_a_structural_change_is_refused_and_nothing_is_written(
    history: Path, tmp_path: Path, change: str
) -> None:
    project = user_project(history, tmp_path / "project")
    before, head = tree(project), git(project, "rev-parse", "HEAD")
    code, output = copier_update(project, change)
    assert code != 0
    question, value = change.split("=")
    assert f"Validation error for question '{question}'" in output
    # The sentence alone: no traceback (extensions/answers.py: refused).
    assert "Traceback" not in output, output
    assert f"{question} " in output and f"-> '{value}'" in output
    assert "moves or removes your package code" in output and "git mv" in output
    assert tree(project) == before, "the refused update changed files"
    assert git(project, "rev-parse", "HEAD") == head
    assert git(project, "status", "--porcelain") == ""


def test_following_the_message_moves_the_layout_and_keeps_every_user_byte(
    history: Path, tmp_path: Path
) -> None:
    project = user_project(history, tmp_path / "project")
    team = {
        name: data
        for name, data in tree(project).items()
        if name.startswith("src/round_trip/") or name == "tests/test_extra.py"
    }
    # What the refusal says to do, by hand.
    git(project, "mv", "src/round_trip", "round_trip")
    replace_once(project / "pyproject.toml", ', from = "src" }]', " }]")
    replace_once(project / "pyproject.toml", '"src/round_trip", "tests"', '"round_trip", "tests"')
    replace_once(project / ".dockerignore", "!src/\n", "!round_trip/\n")
    replace_once(project / ".copier-answers.yml", "layout: src", "layout: flat")
    commit(project, "Flat layout")

    code, output = copier_update(project)
    assert code == 0, output
    after = tree(project)
    for name, data in team.items():
        moved = name.removeprefix("src/")
        assert after[moved] == data, f"{moved} lost the team's bytes"
    assert not [name for name in after if name.startswith("src/")], "the src layout came back"
    assert not list(project.rglob("*.rej"))
    run(["poetry", "build", "--format", "wheel", "--no-interaction"], cwd=project)
    (wheel,) = (project / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("round_trip/cli.py") == team["src/round_trip/cli.py"]
        assert archive.read("round_trip/extra.py") == EXTRA_MODULE.encode()
