"""Replaying a generated project's GitHub workflow jobs on this machine, step by step.

`run:` steps run as written, in GitHub's default shell, with the runner's variables; each `uses:`
action is done by a local equivalent (or needs none), which ACTION_REASONS names. Shared by the
CI, release and adoption tests.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import findpython
import yaml
from filelock import FileLock

from answer_sets import DEFAULT_PYTHON, default
from helpers import BUILD_LOCK, TEMPLATE, copy_project, docker_build, run, tool_env

WORKFLOW = Path(".github/workflows/ci.yml")

# `${{ matrix.python-version }}` in a replayed job: the default Python, which this machine has;
# `${{ matrix.arch }}` (the docker job's platform): this machine's own, amd64 (the arm64 image is
# built and run under emulation in tests/test_release.py's docker tier).
MATRIX_PYTHON = DEFAULT_PYTHON
MATRIX_ARCH = "amd64"

# Where each `uses:` action's work is done on this machine, or why it needs no equivalent here.
ACTION_REASONS = {
    "actions/checkout": "the project copy is the checkout: a git repository with every file added",
    "actions/setup-python": "a venv of that CPython (found as Poetry finds one) first on PATH",
    "hadolint/hadolint-action": "the template's hadolint binary lints the same Dockerfile",
    "docker/setup-buildx-action": "the local engine builds with BuildKit (DOCKER_BUILDKIT=1)",
    "docker/setup-qemu-action": "binfmt_misc already runs arm64 binaries here "
    "(../shared/tools/docker-sandbox arm64v8/...); test_arm64_image_runs_under_emulation",
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
            "matrix.arch": MATRIX_ARCH,
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

    def condition(self, expression: str) -> bool:
        """A step's `if:`, from the known contexts and the step outputs so far."""
        values = dict(self.contexts)
        for step, outputs in self.outputs.items():
            values.update({f"steps.{step}.outputs.{k}": v for k, v in outputs.items()})
        return github_expression(expression, values)

    def setup_python(self, version: str) -> None:
        """actions/setup-python: that CPython first on PATH, with pip and nothing else."""
        found = findpython.find(version)
        assert found is not None, f"no CPython {version} on this machine"
        venv = self.temp / f"python-{version}"
        run([found.executable, "-m", "venv", venv], env=self.base_env)
        self.paths.append(str(venv / "bin"))


def github_expression(expression: str, contexts: Mapping[str, str]) -> bool:
    """A job or step `if:` of comparisons joined by || and && (GitHub's precedence: && first).

    A context this test does not give is null, which equals no string, as on GitHub.
    """

    def comparison(text: str) -> bool:
        match = re.fullmatch(r"\s*([\w.-]+)\s*(==|!=)\s*'([^']*)'\s*", text)
        assert match, f"not a comparison this helper reads: {text}"
        name, operator, literal = match.groups()
        equal = contexts.get(name) == literal
        return equal if operator == "==" else not equal

    return any(
        all(comparison(part) for part in alternative.split("&&"))
        for alternative in expression.split("||")
    )


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
    for layer in (data.get("env", {}), job.get("env", {})):
        runner.contexts.update({f"env.{k}": runner.expand(str(v)) for k, v in layer.items()})
    for step in job["steps"]:
        if "if" in step and not runner.condition(step["if"]):
            continue
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
    platform = ["--platform", runner.expand(options["platforms"])] if "platforms" in options else []
    # docker_build adds PYPI_MIRROR_URL, UV_IMAGE and UV_CONCURRENT_DOWNLOADS (MACHINE_ADAPTATIONS)
    # and serialises builds on 20.10.
    docker_build(
        runner.workspace / options["context"],
        options["tags"],
        *platform,
        *(part for arg in build_args for part in ("--build-arg", arg)),
    )


def docker_client(runner: Runner, engine: str) -> None:
    """`docker` in run: steps is the engine's own client, as on a runner."""
    client = runner.temp / "docker-client"
    client.mkdir(exist_ok=True)
    if not (client / "docker").exists():
        (client / "docker").symlink_to(engine)
    runner.paths.append(str(client))


def step_named(project: Path, job: str, prefix: str) -> Mapping[str, Any]:
    steps = workflow(project)["jobs"][job]["steps"]
    return next(step for step in steps if str(step.get("name", "")).startswith(prefix))


IMAGE_FILES_CHECK = "Check that the image gets exactly the files"


def image_files_check(runner: Runner, project: Path, steps_from: Path | None = None) -> str:
    """Runs ci.yml's check that the image's project files are the committed tree's wheel, in
    `project` (the wheel tools installed once per runner), with the steps of `steps_from`'s
    ci.yml (default: the project's own); its output, or AssertionError."""
    steps_from = steps_from or project
    if not any(Path(path).name.startswith("python-") for path in runner.paths):
        # The job's setup-python and Install Poetry (its .github/tools/poetry.txt), once.
        runner.workspace = steps_from
        steps = workflow(steps_from)["jobs"]["docker"]["steps"]
        setup = next(step for step in steps if "setup-python" in step.get("uses", ""))
        runner.setup_python(str(setup["with"]["python-version"]))
        install = step_named(steps_from, "docker", "Install Poetry")
        runner.run_step(install, runner.env(install.get("env", {})))
    runner.workspace = project
    check = step_named(steps_from, "docker", IMAGE_FILES_CHECK)
    with FileLock(str(BUILD_LOCK)):  # the FROM-scratch export is a BuildKit build
        return runner.run_step(check, runner.env(check.get("env", {})))
