"""Versions written in more than one place agree: the tooling the template is tested with
(pyproject.toml's dev group) is the tooling it gives projects."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from answer_sets import answers, default
from helpers import TEMPLATE, ProjectFactory

TOOLING: dict[str, str] = tomllib.loads((TEMPLATE / "pyproject.toml").read_text())["tool"][
    "poetry"
]["group"]["dev"]["dependencies"]


def pinned_requirements(text: str) -> dict[str, str]:
    """`name==version` pins written in a file, by name."""
    return dict(re.findall(r"([A-Za-z0-9][\w.-]*)==([\w.]+)", text))


def test_copier_yml_pins_the_poetry_and_plugins_the_template_is_tested_with() -> None:
    assert {
        "poetry": default("poetry_version"),
        "poetry-plugin-export": default("poetry_plugin_export_version"),
        "poetry-plugin-pypi-mirror": default("poetry_plugin_pypi_mirror_version"),
    } == {
        name: TOOLING[name]
        for name in ("poetry", "poetry-plugin-export", "poetry-plugin-pypi-mirror")
    }


def test_update_workflow_installs_the_copier_the_template_is_tested_with(
    rendered_project: ProjectFactory,
) -> None:
    workflow = rendered_project(**answers("app-src")) / ".github/workflows/template-update.yml"
    steps: list[dict[str, Any]] = yaml.safe_load(workflow.read_text())["jobs"]["update"]["steps"]
    step = next(step for step in steps if step.get("name") == "Install Copier")
    # The pins are in a hashed requirements file the template ships (./dev build-tools).
    assert step["run"] == "python -m pip install --require-hashes -r .github/tools/copier.txt"
    install = (workflow.parents[1] / "tools" / "copier.txt").read_text()
    assert {
        name: pinned_requirements(install)[name]
        for name in ("copier", "copier-template-extensions", "poetry-core")
    } == {name: TOOLING[name] for name in ("copier", "copier-template-extensions", "poetry-core")}


def pre_commit_pins(config: Path) -> dict[str, str]:
    hooks = yaml.safe_load(config.read_text())["repos"][0]["hooks"]
    return {
        name: version
        for hook in hooks
        for requirement in hook.get("additional_dependencies", [])
        for name, version in pinned_requirements(requirement).items()
    }


def test_generated_pre_commit_hooks_pin_what_the_template_repository_pins(
    rendered_project: ProjectFactory,
) -> None:
    generated = pre_commit_pins(rendered_project(**answers("app-src")) / ".pre-commit-config.yaml")
    own = pre_commit_pins(TEMPLATE / ".pre-commit-config.yaml")
    shared = generated.keys() & own.keys()
    assert shared, "no hook dependency in common: compare something else"
    assert {name: generated[name] for name in shared} == {name: own[name] for name in shared}
