"""The generated CI workflow, dependabot and pre-commit files: valid, and their commands work here.

The workflow is not only parsed: its lint and test jobs (and, with Docker, its docker job) are
replayed step by step in a fresh copy of a generated project, the way a GitHub runner would.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import findpython
import pytest
import yaml

from answer_sets import DEFAULT_PYTHON, PACKAGE_NAME, PYTHON_VERSIONS, answers, default
from extensions.filters import later_python_versions
from helpers import (
    TEMPLATE,
    ProjectFactory,
    SharedCache,
    copy_project,
    docker_build,
    read_answers,
    run,
    tool_env,
)

WORKFLOW = Path(".github/workflows/ci.yml")
PRE_COMMIT_CONFIG = Path(".pre-commit-config.yaml")

VARIANTS = [
    "app-src+py310",
    "app-flat+py312",
    "app-src+poetry-2.1.3+no-pre-commit",
    "deps-only+py314+pyyaml",
    "deps-only+no-dependencies+no-pre-commit",
]

# `${{ matrix.python-version }}` in a replayed job: the default Python, which this machine has.
MATRIX_PYTHON = DEFAULT_PYTHON
# Where each `uses:` action's work is done on this machine, or why it needs no equivalent here.
ACTION_REASONS = {
    "actions/checkout": "the project copy is the checkout: a git repository with every file added",
    "actions/setup-python": "a venv of that CPython (found as Poetry finds one) first on PATH",
    "hadolint/hadolint-action": "the template's hadolint binary lints the same Dockerfile",
    "docker/setup-buildx-action": "the local engine builds with BuildKit (DOCKER_BUILDKIT=1)",
    "docker/build-push-action": "`docker build` with the step's context, tags and build-args; "
    "the gha cache exists only on GitHub",
}
# The only ways this machine differs from a GitHub runner, each needed by its network.
MACHINE_ADAPTATIONS = {
    "poetry-plugin-pypi-mirror": "PyPI's JSON API answers 404 here; Poetry reads the simple index "
    "through this plugin (POETRY_PYPI_MIRROR_URL), next to the Poetry the step installed",
    "PYPI_MIRROR_URL": "the image build downloads from the same simple index as the host",
    "UV_IMAGE": "no registry is reachable here: a local stand-in for uv's image (same files)",
    "UV_CONCURRENT_DOWNLOADS": "the proxy here refuses bursts of connections (helpers.py)",
}

MIRROR_PLUGIN = f"poetry-plugin-pypi-mirror=={default('poetry_plugin_pypi_mirror_version')}"


def workflow(project: Path, path: Path = WORKFLOW) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((project / path).read_text())
    return data


def action_name(uses: str) -> str:
    return uses.split("@", 1)[0]


@pytest.fixture(scope="session")
def ci_projects(rendered_project: ProjectFactory) -> dict[str, Path]:
    """Every variant, rendered once per run (no lock: these tests only read the files)."""
    return {name: rendered_project(**answers(name)) for name in VARIANTS}


# --- The files are valid --------------------------------------------------------------------


def test_workflow_files_validate_against_their_schema(ci_projects: dict[str, Path]) -> None:
    projects = list(ci_projects.values())
    run(
        [
            "check-jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *(project / WORKFLOW for project in projects),
        ]
    )


def test_schema_check_rejects_a_broken_workflow(
    ci_projects: dict[str, Path], tmp_path: Path
) -> None:
    # The validation above can fail: a job without runs-on is refused.
    data = workflow(ci_projects["app-src+py310"])
    del data["jobs"]["test"]["runs-on"]
    broken = tmp_path / "ci.yml"
    broken.write_text(yaml.safe_dump(data))
    result = run(
        ["check-jsonschema", "--builtin-schema", "vendor.github-workflows", broken], check=False
    )
    assert result.returncode != 0


@pytest.mark.parametrize("variant", VARIANTS)
def test_versions_follow_the_answers(ci_projects: dict[str, Path], variant: str) -> None:
    project = ci_projects[variant]
    answers = read_answers(project)
    data = workflow(project)
    assert data["env"]["POETRY_VERSION"] == answers["poetry_version"]
    assert data["jobs"]["test"]["strategy"]["matrix"]["python-version"] == later_python_versions(
        answers["python_version"]
    )
    assert data["jobs"]["test"]["strategy"]["matrix"]["python-version"][-1] == PYTHON_VERSIONS[-1]
    lint_python = [
        step["with"]["python-version"]
        for step in data["jobs"]["lint"]["steps"]
        if action_name(step.get("uses", "")) == "actions/setup-python"
    ]
    assert lint_python == [answers["python_version"]]


@pytest.mark.parametrize("variant", VARIANTS)
def test_workflow_is_least_privilege_and_fork_safe(
    ci_projects: dict[str, Path], variant: str
) -> None:
    project = ci_projects[variant]
    text = (project / WORKFLOW).read_text()
    data = workflow(project)
    # PyYAML reads the `on:` key as the boolean True (YAML 1.1).
    triggers = yaml.safe_load(text)[True]
    assert set(triggers) == {"push", "pull_request", "workflow_dispatch"}, "no pull_request_target"
    assert data["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in data["jobs"].values())
    assert "secrets." not in text, "a fork's pull request gets no secrets"
    assert {"group", "cancel-in-progress"} <= set(data["concurrency"])
    for job in data["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                # Pinned by commit SHA (tests/test_release.py checks the version comments).
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
                assert action_name(step["uses"]) in ACTION_REASONS, f"no local equivalent: {step}"
            if action_name(step.get("uses", "")) == "actions/checkout":
                assert step["with"]["persist-credentials"] is False


def dockerfile_args(project: Path) -> set[str]:
    return set(re.findall(r"^ARG (\w+)", (project / "Dockerfile").read_text(), re.MULTILINE))


@pytest.mark.parametrize("variant", VARIANTS)
def test_docker_job_builds_with_gha_cache_and_declared_build_args(
    ci_projects: dict[str, Path], variant: str
) -> None:
    project = ci_projects[variant]
    steps = workflow(project)["jobs"]["docker"]["steps"]
    build = next(s for s in steps if action_name(s.get("uses", "")) == "docker/build-push-action")
    build_args = dict(line.split("=", 1) for line in build["with"]["build-args"].splitlines())
    assert set(build_args) == {"VERSION", "SOURCE_URL"}
    assert set(build_args) <= dockerfile_args(project), "the Dockerfile must declare each build arg"
    assert build["with"]["cache-from"] == "type=gha"
    assert build["with"]["cache-to"].startswith("type=gha")
    assert build["with"]["load"] is True and "push" not in build["with"]
    smoke = steps[-1]["run"]
    assert smoke.startswith(f"docker run --rm {build['with']['tags']} ") or smoke.startswith(
        f"docker run --rm -i {build['with']['tags']} "
    )


def test_pre_commit_config_is_valid_and_all_hooks_are_local(ci_projects: dict[str, Path]) -> None:
    project = ci_projects["app-src+py310"]
    run(["pre-commit", "validate-config", project / PRE_COMMIT_CONFIG])
    config = yaml.safe_load((project / PRE_COMMIT_CONFIG).read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hook_ids = {hook["id"] for hook in config["repos"][0]["hooks"]}
    assert hook_ids == {
        "trailing-whitespace",
        "end-of-file-fixer",
        "check-toml",
        "check-yaml",
        "poetry-check",
        "ruff-check",
        "ruff-format",
        "mypy",
        "hadolint",
    }
    for hook in config["repos"][0]["hooks"]:
        for requirement in hook.get("additional_dependencies", []):
            assert re.fullmatch(r"[\w.-]+==[\w.]+", requirement), f"unpinned: {requirement}"


@pytest.mark.parametrize(
    ("variant", "has_workflow", "has_pre_commit"),
    [
        ("app-src+no-ci+no-pre-commit", False, False),
        ("app-src+no-ci", False, True),
        ("app-src+no-pre-commit", True, False),
    ],
)
def test_answers_switch_the_files_off(
    rendered_project: ProjectFactory, variant: str, has_workflow: bool, has_pre_commit: bool
) -> None:
    project = rendered_project(**answers(variant))
    assert (project / ".github").exists() is has_workflow
    assert (project / PRE_COMMIT_CONFIG).exists() is has_pre_commit
    if has_workflow and not has_pre_commit:
        commands = [step.get("run", "") for step in workflow(project)["jobs"]["lint"]["steps"]]
        assert not any("pre-commit" in command for command in commands)


# --- The commands work: replaying the jobs on this machine -----------------------------------


@pytest.fixture(scope="session")
def pre_commit_home(shared_cache: SharedCache) -> Path:
    """One pre-commit store for the whole run, so hook environments are built once."""
    path = shared_cache.root / "pre-commit-home"
    path.mkdir(parents=True, exist_ok=True)
    return path


def host_env(pre_commit_home: Path) -> dict[str, str]:
    """tool_env() without the template's own tooling on PATH: the steps must bring their tools."""
    env = tool_env(PRE_COMMIT_HOME=str(pre_commit_home))
    own_bin = str(TEMPLATE / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != own_bin)
    return env


def checkout(source: Path, dest: Path) -> Path:
    """What actions/checkout leaves: the project's files in a git repository."""
    project = copy_project(source, dest)
    run(["git", "init", "--quiet"], cwd=project)
    run(["git", "add", "--all"], cwd=project)
    return project


class Runner:
    """One GitHub-hosted runner for one job: PATH additions, step outputs, expression values."""

    def __init__(self, root: Path, workspace: Path, env: Mapping[str, str]) -> None:
        self.temp = root / "runner-temp"
        self.temp.mkdir(parents=True)
        self.workspace = workspace
        self.paths: list[str] = []
        self.outputs: dict[str, dict[str, str]] = {}
        self.base_env = dict(env)
        self.contexts = {
            "matrix.python-version": MATRIX_PYTHON,
            "github.server_url": "https://example.test",
            "github.repository": "example/project",
        }

    def env(self, *layers: Mapping[str, str]) -> dict[str, str]:
        env = dict(self.base_env)
        for layer in layers:
            env.update({key: self.expand(str(value)) for key, value in layer.items()})
        env["PATH"] = os.pathsep.join([*reversed(self.paths), env["PATH"]])
        env.update(
            CI="true",
            GITHUB_ACTIONS="true",
            RUNNER_TEMP=str(self.temp),
            GITHUB_WORKSPACE=str(self.workspace),
        )
        return env

    def expand(self, text: str) -> str:
        """Substitutes `${{ ... }}` from known values; an unknown expression fails the test."""

        def value(match: re.Match[str]) -> str:
            expression = match.group(1)
            step_output = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression)
            if step_output:
                return self.outputs[step_output.group(1)][step_output.group(2)]
            assert expression in self.contexts, f"no local value for ${{{{ {expression} }}}}"
            return self.contexts[expression]

        return re.sub(r"\$\{\{\s*(.+?)\s*\}\}", value, text)

    def run_step(self, step: Mapping[str, Any], env: Mapping[str, str]) -> str:
        github_path = self.temp / "github_path"
        github_output = self.temp / "github_output"
        github_path.write_text("")
        github_output.write_text("")
        step_env = dict(env)
        step_env.update(GITHUB_PATH=str(github_path), GITHUB_OUTPUT=str(github_output))
        # GitHub's default shell on Linux runners.
        result = run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", self.expand(step["run"])],
            cwd=self.workspace,
            env=step_env,
        )
        self.paths += github_path.read_text().split()
        if "id" in step:
            self.outputs[step["id"]] = dict(
                line.split("=", 1) for line in github_output.read_text().splitlines()
            )
        return result.stdout + result.stderr

    def setup_python(self, version: str) -> None:
        """actions/setup-python: that CPython first on PATH, with pip and nothing else."""
        found = findpython.find(version)
        assert found is not None, f"no CPython {version} on this machine"
        venv = self.temp / f"python-{version}"
        run([found.executable, "-m", "venv", venv], env=self.base_env)
        self.paths.append(str(venv / "bin"))


UsesHandler = Callable[[Runner, Mapping[str, Any], dict[str, str]], None]


def replay_job(
    project: Path,
    job_name: str,
    runner: Runner,
    uses: Mapping[str, UsesHandler] | None = None,
    *,
    path: Path = WORKFLOW,
    reasons: Mapping[str, str] = ACTION_REASONS,
) -> list[str]:
    """Runs a job's steps in order: `run:` as written, `uses:` through its local equivalent.

    `path` is the workflow file; `reasons` says where each of its actions' work is done here.
    """
    data = workflow(project, path)
    job = data["jobs"][job_name]
    done: list[str] = []
    for step in job["steps"]:
        env = runner.env(data.get("env", {}), job.get("env", {}), step.get("env", {}))
        if "uses" in step:
            name = action_name(step["uses"])
            assert name in reasons, f"{job_name}: no local equivalent for {step['uses']}"
            if name == "actions/setup-python":
                runner.setup_python(runner.expand(str(step["with"]["python-version"])))
            elif uses and name in uses:
                uses[name](runner, step, env)
            done.append(f"uses {name}")
            continue
        runner.run_step(step, env)
        done.append(step["run"])
        if step.get("name") == "Install Poetry":
            # See MACHINE_ADAPTATIONS: the plugin goes into the interpreter that got Poetry.
            run(
                [
                    "python",
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    MIRROR_PLUGIN,
                ],
                env=env,
            )
    return done


def git_changes(project: Path) -> str:
    """Files changed or created since checkout() added everything to the index."""
    changed = run(["git", "diff", "--name-only"], cwd=project).stdout
    return changed + run(["git", "ls-files", "--others", "--exclude-standard"], cwd=project).stdout


@pytest.mark.slow
# The lint job runs ruff and mypy (through pre-commit, or directly without it): on the answer set
# whose Python changes their targets, as the shapes' own pre-commit runs are tested below.
@pytest.mark.parametrize(
    "variant", ["app-src+py311-bookworm", "deps-only+no-dependencies+no-pre-commit"]
)
def test_lint_and_test_jobs_run_here(
    locked_project: ProjectFactory, pre_commit_home: Path, tmp_path: Path, variant: str
) -> None:
    source = locked_project(**answers(variant))
    for job in ("lint", "test"):
        # Each job gets its own runner and checkout, as on GitHub.
        project = checkout(source, tmp_path / job / "project")
        runner = Runner(tmp_path / job, project, host_env(pre_commit_home))
        steps = replay_job(project, job, runner)
        assert any(step.startswith("poetry install") for step in steps)
        assert git_changes(project) == "", f"the {job} job changed files of a fresh project"
    assert "poetry run pytest" in steps


# --- pre-commit on generated projects ----------------------------------------------------------


def pre_commit(project: Path, env: Mapping[str, str]) -> tuple[int, dict[str, str], str]:
    """Runs every hook on every file; returns the exit code, each hook's status and the output."""
    result = run(
        ["poetry", "run", "pre-commit", "run", "--all-files", "--color", "never"],
        cwd=project,
        env=env,
        check=False,
    )
    output = result.stdout + result.stderr
    statuses = {
        match.group(1).strip(): match.group(2)
        for match in re.finditer(
            r"^(.+?)\.{3,}(?:\(no files to check\))?(Passed|Failed|Skipped)$", output, re.MULTILINE
        )
    }
    return result.returncode, statuses, output


@pytest.mark.slow
@pytest.mark.parametrize(
    ("variant", "bad_module"),
    [
        ("app-src", f"src/{PACKAGE_NAME}/unused.py"),
        ("app-flat", f"{PACKAGE_NAME}/unused.py"),
        ("deps-only", "tests/test_unused.py"),
    ],
)
def test_pre_commit_passes_on_a_fresh_project_and_catches_bad_files(
    locked_project: ProjectFactory,
    pre_commit_home: Path,
    tmp_path: Path,
    variant: str,
    bad_module: str,
) -> None:
    project = checkout(locked_project(**answers(variant)), tmp_path / "project")
    env = tool_env(PRE_COMMIT_HOME=str(pre_commit_home))
    run(["poetry", "install", "--no-interaction"], cwd=project, env=env)

    code, statuses, output = pre_commit(project, env)
    assert code == 0, output
    hooks = {
        hook["id"]
        for hook in yaml.safe_load((project / PRE_COMMIT_CONFIG).read_text())["repos"][0]["hooks"]
    }
    assert len(statuses) == len(hooks), output
    assert set(statuses.values()) == {"Passed"}, output
    # The ruff-format hook passed and changed nothing: the rendered Python is already formatted.
    assert git_changes(project) == "", "pre-commit changed a freshly generated project"

    (project / bad_module).write_text('"""Imports what it never uses."""\n\nimport os\n')
    with (project / "Dockerfile").open("a") as dockerfile:
        dockerfile.write("RUN apt-get update && apt-get install -y curl\n")
    run(["git", "add", "--all"], cwd=project)
    code, statuses, output = pre_commit(project, env)
    assert code != 0
    assert statuses["ruff check"] == "Failed" and "F401" in output, output
    assert statuses["hadolint"] == "Failed" and "DL3015" in output, output
    assert statuses["mypy"] == "Passed", "only the hooks about the bad lines fail"


# --- The docker job ------------------------------------------------------------------------------


def hadolint_action(runner: Runner, step: Mapping[str, Any], env: dict[str, str]) -> None:
    run(
        [TEMPLATE / ".venv" / "bin" / "hadolint", step["with"]["dockerfile"]],
        cwd=runner.workspace,
        env=env,
    )


def build_push_action(runner: Runner, step: Mapping[str, Any], env: dict[str, str]) -> None:
    options = step["with"]
    assert options["load"] is True
    build_args = runner.expand(options["build-args"]).splitlines()
    # docker_build adds PYPI_MIRROR_URL, UV_IMAGE and UV_CONCURRENT_DOWNLOADS (MACHINE_ADAPTATIONS)
    # and serialises builds on 20.10.
    docker_build(
        runner.workspace / options["context"],
        options["tags"],
        *(part for arg in build_args for part in ("--build-arg", arg)),
    )


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize(
    ("variant", "project_name", "smoke_output"),
    [
        ("app-src", "CI Smoke", "ci-smoke 0.1.0"),
        ("deps-only+pyyaml", "CI Smoke Deps", "imported yaml"),
    ],
)
def test_docker_job_runs_here(
    docker_engine: str,
    locked_project: ProjectFactory,
    pre_commit_home: Path,
    tmp_path: Path,
    variant: str,
    project_name: str,
    smoke_output: str,
) -> None:
    # The workflow tags the image after the project slug; each case has its own, so parallel
    # workers never remove each other's image.
    source = locked_project(**answers(variant), project_name=project_name)
    project = checkout(source, tmp_path / "project")
    runner = Runner(tmp_path, project, host_env(pre_commit_home))
    # `docker` in run: steps is the engine's own client, as on a runner.
    client = tmp_path / "docker-client"
    client.mkdir()
    (client / "docker").symlink_to(docker_engine)
    runner.paths.append(str(client))
    image = read_answers(project)["project_slug"] + ":ci"
    try:
        replay_job(
            project,
            "docker",
            runner,
            uses={
                "hadolint/hadolint-action": hadolint_action,
                "docker/build-push-action": build_push_action,
            },
        )
        smoke = workflow(project)["jobs"]["docker"]["steps"][-1]
        assert smoke_output in runner.run_step(smoke, runner.env())
        labels = run(
            [docker_engine, "image", "inspect", "--format", "{{ json .Config.Labels }}", image]
        ).stdout
        assert yaml.safe_load(labels)["org.opencontainers.image.version"] == "0.1.0"
        assert yaml.safe_load(labels)["org.opencontainers.image.source"] == (
            "https://example.test/example/project"
        )
    finally:
        run([docker_engine, "image", "rm", "--force", image], check=False)
