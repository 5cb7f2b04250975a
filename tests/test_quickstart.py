"""The README quickstart: exactly two commands, and the first really produces a working demo."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from helpers import TEMPLATE, read_answers, run, tool_env


def quickstart_commands() -> list[str]:
    readme = (TEMPLATE / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the quickstart has no shell block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_quickstart_is_two_commands_and_ci_runs_the_second() -> None:
    assert quickstart_commands() == ["./dev demo", "./dev test"]
    ci_script = (TEMPLATE / ".ci" / "run").read_text().splitlines()
    assert "./dev test" in ci_script
    assert "export REQUIRE_DOCKER=1" in ci_script
    assert any("../shared/tools/docker-sandbox" in line for line in ci_script)


@pytest.mark.slow
def test_dev_demo_generates_installs_and_runs_a_project(tmp_path: Path) -> None:
    dest = tmp_path / "demo"
    # From outside the template's venv, as a newcomer's shell would be.
    result = run([sys.executable, TEMPLATE / "dev", "demo", dest], cwd=tmp_path, env=tool_env())
    output = result.stdout + result.stderr
    assert "Hello, world! This is Demo App." in output
    assert "demo-app 0.1.0" in output
    assert re.search(r"\d+ passed", output)
    assert f"Demo project ready in {dest}" in output
    answers = read_answers(dest)
    assert answers["project_name"] == "Demo App"
    assert answers["python_version"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert (dest / "poetry.lock").is_file() and (dest / ".venv").is_dir()


def test_dev_demo_refuses_to_overwrite_a_directory_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = run([sys.executable, TEMPLATE / "dev", "demo", tmp_path / "mine"], check=False)
    assert result.returncode != 0
    assert "is not a generated project" in result.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
