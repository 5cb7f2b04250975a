"""The generated CI workflow, dependabot and pre-commit files: valid, and their commands work here.

The workflow is not only parsed: its lint and test jobs (and, with Docker, its docker job) are
replayed step by step in a fresh copy of a generated project, the way a GitHub runner would.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from answer_sets import PACKAGE_NAME, PYTHON_VERSIONS, answer, answers, default
from extensions.filters import later_python_versions
from helpers import (
    ProjectFactory,
    env,
    read_answers,
    run,
    template_snapshot,
    tool_env,
)
from workflow_replay import (
    ACTION_REASONS,
    WORKFLOW,
    Runner,
    action_name,
    build_push_action,
    checkout,
    docker_client,
    git_changes,
    hadolint_action,
    host_env,
    image_files_check,
    replay_job,
    workflow,
)

PRE_COMMIT_CONFIG = Path(".pre-commit-config.yaml")

VARIANTS = [
    "app-src+py310",
    "app-flat+py312",
    "app-src+poetry-2.1.3+no-pre-commit",
    "deps-only+py314+pyyaml",
    "deps-only+no-dependencies+no-pre-commit",
]


@pytest.fixture(scope="session")
def ci_projects(rendered_project: ProjectFactory) -> dict[str, Path]:
    """Every variant, rendered once per run (no lock: these tests only read the files)."""
    return {name: rendered_project(**answers(name)) for name in VARIANTS}


# --- The files are valid --------------------------------------------------------------------


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a requirements file, continuations joined, comments dropped."""
    text = path.read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


@pytest.mark.parametrize("variant", ["app-src+pypi", "deps-only"])
def test_workflow_tools_install_only_by_hash(
    rendered_project: ProjectFactory, variant: str
) -> None:
    # pip --require-hashes refuses a file with a requirement that has no hash, or is not pinned.
    project = rendered_project(**answers(variant))
    installs = [
        (path.name, step["run"])
        for path in sorted((project / ".github/workflows").glob("*.yml"))
        for job in yaml.safe_load(path.read_text())["jobs"].values()
        for step in job.get("steps", [])
        if "pip install" in step.get("run", "")
    ]
    # The release's dist job (an app published to PyPI) builds what is uploaded.
    expected = {"ci.yml", "audit.yml", "template-update.yml"}
    if "pypi" in variant:
        expected.add("release.yml")
    # hash_policy export re-exports the lock on Renovate's branches.
    if answer(answers(variant), "hash_policy") == "export":
        expected.add("lock-export.yml")
    assert {name for name, _ in installs} == expected
    for name, command in installs:
        assert re.fullmatch(r"python -m pip install --require-hashes -r (\S+)", command), (
            name,
            command,
        )
        lines = requirement_lines(project / command.split()[-1])
        assert lines, command
        for line in lines:
            assert re.match(r"[A-Za-z0-9][\w.-]*==\S+", line), line
            assert "--hash=sha256:" in line, f"{name}: {line.split()[0]} has no hash"


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


@pytest.mark.parametrize("variant", ["app-src+private-index", "app-src"])
def test_private_index_credentials_reach_poetry_and_the_image_build(
    rendered_project: ProjectFactory, variant: str
) -> None:
    # The names must be the ones the project reads: Poetry's variables for the source that
    # pyproject.toml names, and the secret id the Dockerfile mounts.
    project = rendered_project(**answers(variant))
    sources = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["poetry"]
    names = [source["name"] for source in sources.get("source", [])]
    secret_ids = re.findall(r"--mount=type=secret,id=(\w+)", (project / "Dockerfile").read_text())
    steps = [
        (path.name, step)
        for path in sorted((project / ".github/workflows").glob("*.yml"))
        for job in yaml.safe_load(path.read_text())["jobs"].values()
        for step in job.get("steps", [])
    ]
    installs = [step for _, step in steps if step.get("run", "").startswith("poetry install")]
    builds = [
        (name, step)
        for name, step in steps
        if action_name(step.get("uses", "")) == "docker/build-push-action"
    ]
    assert len(installs) == 2 and {name for name, _ in builds} == {"ci.yml", "release.yml"}
    if "private-index" not in variant:
        assert not names and not secret_ids
        assert all("env" not in step for step in installs)
        assert all("secrets" not in step["with"] for _, step in builds)
        return
    (name,) = names
    (secret_id,) = secret_ids
    variable = f"POETRY_HTTP_BASIC_{name.upper()}"
    for step in installs:
        assert step["env"] == {
            f"{variable}_USERNAME": "${{ secrets.PRIVATE_INDEX_USERNAME }}",
            f"{variable}_PASSWORD": "${{ secrets.PRIVATE_INDEX_PASSWORD }}",
        }
    for _, step in builds:
        # The Dockerfile reads the secret as "user:password".
        assert step["with"]["secrets"].splitlines() == [
            f'"{secret_id}=${{{{ secrets.PRIVATE_INDEX_USERNAME }}}}'
            ':${{ secrets.PRIVATE_INDEX_PASSWORD }}"'
        ]


@pytest.mark.parametrize("variant", VARIANTS)
def test_versions_follow_the_answers(ci_projects: dict[str, Path], variant: str) -> None:
    project = ci_projects[variant]
    answers = read_answers(project)
    data = workflow(project)
    tools = (project / ".github/tools/poetry.txt").read_text()
    assert re.search(rf"^poetry=={re.escape(answers['poetry_version'])}\b", tools, re.M)
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
    assert set(triggers) == {"push", "pull_request", "workflow_dispatch", "workflow_call"}, (
        "no pull_request_target"
    )
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
    # One cache scope per platform: the two matrix jobs would overwrite each other's.
    scope = "scope=image-${{ matrix.arch }}"
    assert build["with"]["cache-from"] == f"type=gha,{scope}"
    assert build["with"]["cache-to"] == f"type=gha,mode=max,{scope}"
    assert build["with"]["load"] is True and "push" not in build["with"]
    assert build["with"]["platforms"] == "${{ env.PLATFORM }}"
    job = workflow(project)["jobs"]["docker"]
    assert job["strategy"]["matrix"]["arch"] == ["amd64", "arm64"]
    assert job["env"]["PLATFORM"] == "linux/${{ matrix.arch }}"
    # The smoke test runs the image of the job's platform (arm64 under the emulator).
    smoke = steps[-1]["run"]
    tag = build["with"]["tags"]
    assert smoke.startswith(f'docker run --rm --platform "$PLATFORM" {tag} ') or smoke.startswith(
        f'docker run --rm --platform "$PLATFORM" -i {tag} '
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
        # hash_policy export, the default: the export follows the lock.
        *(["poetry-export"] if answer(answers("app-src+py310"), "hash_policy") == "export" else []),
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


@pytest.mark.parametrize(
    ("test_command", "run"),
    [
        ("pytest", "poetry run pytest"),
        # Quoted for the shell as shlex reads it; a YAML string wherever a plain one would not be.
        ('pytest -k "fast and not db" -x', "poetry run pytest -k 'fast and not db' -x"),
        ("python tests/run.py --tag: #slow", "poetry run python tests/run.py --tag: '#slow'"),
        ("", None),
    ],
    ids=["default", "quoted", "yaml-specials", "empty"],
)
def test_the_test_job_runs_the_projects_test_command(
    rendered_project: ProjectFactory, test_command: str, run: str | None
) -> None:
    project = rendered_project(test_command=test_command)
    jobs = workflow(project)["jobs"]
    if run is None:
        # No command: no test job (and the README lists none).
        assert set(jobs) == {"lint", "docker"}
        assert "| `test` |" not in (project / "README.md").read_text()
        return
    assert jobs["test"]["steps"][-1] == {"name": "Run the tests", "run": run}
    assert f"\n{run}" in (project / "README.md").read_text()


# --- The commands work: replaying the jobs on this machine -----------------------------------


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
        job = workflow(project)["jobs"]["docker"]
        assert smoke_output in runner.run_step(job["steps"][-1], runner.env(job["env"]))
        labels = run(
            [docker_engine, "image", "inspect", "--format", "{{ json .Config.Labels }}", image]
        ).stdout
        assert yaml.safe_load(labels)["org.opencontainers.image.version"] == "0.1.0"
        assert yaml.safe_load(labels)["org.opencontainers.image.source"] == (
            "https://example.test/example/project"
        )
    finally:
        run([docker_engine, "image", "rm", "--force", image], check=False)


# --- hash_policy=export: the export follows the lock in pre-commit and in CI ---------------------

EXPORT_SCRIPT = ["python3", "build-tools/export_lock.py"]


def renovate_like_lock_change(project: Path) -> None:
    """A new constraint and the lock Poetry makes for it, as a bot's pull request brings them."""
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"requests>=2.31"', '"requests>=2.32"'))
    run(["poetry", "lock"], cwd=project)


@pytest.mark.slow
def test_the_export_hook_rewrites_an_export_the_lock_left_behind(
    locked_project: ProjectFactory, pre_commit_home: Path, tmp_path: Path
) -> None:
    project = checkout(locked_project(**answers("app-src+requests+hash-export")), tmp_path / "p")
    env = tool_env(PRE_COMMIT_HOME=str(pre_commit_home))
    hook = ["pre-commit", "run", "poetry-export", "--all-files", "--color", "never"]
    fresh = run(hook, cwd=project, env=env, check=False)
    assert fresh.returncode == 0 and "Passed" in fresh.stdout, fresh.stdout + fresh.stderr

    renovate_like_lock_change(project)
    run(["git", "add", "--all"], cwd=project)
    assert run([*EXPORT_SCRIPT, "--verify"], cwd=project, check=False).returncode != 0
    # The hook rewrites the export and fails, as a fixer does, so the commit is redone with it.
    fixed = run(hook, cwd=project, env=env, check=False)
    assert fixed.returncode != 0 and "files were modified by this hook" in fixed.stdout, (
        fixed.stdout + fixed.stderr
    )
    assert run(["git", "diff", "--name-only"], cwd=project).stdout.split() == [
        "build-tools/lock-export.txt"
    ]
    run([*EXPORT_SCRIPT, "--verify"], cwd=project)
    run(["git", "add", "--all"], cwd=project)
    assert run(hook, cwd=project, env=env, check=False).returncode == 0


@pytest.mark.slow
def test_a_poetry_without_the_export_plugin_writes_the_export_and_its_hook_needs_none(
    plain_poetry: Path, pre_commit_home: Path, tmp_path: Path
) -> None:
    # A developer's Poetry from `pip install poetry`, first on PATH; no other Poetry there.
    tooling = str(Path(sys.executable).parent)
    path = [str(plain_poetry), *(p for p in os.environ["PATH"].split(os.pathsep) if p != tooling)]
    user = env(PATH=os.pathsep.join(path), PRE_COMMIT_HOME=str(pre_commit_home))
    assert run(["poetry", "--version"], env=user).stdout.startswith("Poetry (version 2.")
    missing = run(["poetry", "export", "--help"], env=user, check=False)
    assert "The requested command export does not exist." in missing.stderr

    # copier copy with the defaults: hash_policy export, the copy's tasks run with that Poetry.
    project = tmp_path / "project"
    copied = run(
        [
            sys.executable,
            "-m",
            "copier",
            "copy",
            "--trust",
            "--defaults",
            "--data",
            "project_name=Plain Poetry",
            "--data",
            'dependencies=["six>=1.16"]',
            str(template_snapshot()),
            str(project),
        ],
        env=user,
        input="",
    )
    assert read_answers(project)["hash_policy"] == "export"
    requires = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["poetry"]
    assert requires["requires-plugins"] == {
        "poetry-plugin-export": default("poetry_plugin_export_version")
    }
    output = copied.stdout + copied.stderr
    assert "build-tools/lock-export.txt written from poetry.lock." in output, output
    # Poetry installed the plugin for this project only, and keeps it out of git (and so out of
    # .dockerignore's allow-list and the build context).
    plugins = project / ".poetry" / "plugins"
    assert [d.name for d in plugins.glob("poetry_plugin_export-*.dist-info")] == [
        f"poetry_plugin_export-{default('poetry_plugin_export_version')}.dist-info"
    ]
    run(["git", "init", "--quiet"], cwd=project, env=user)
    run(["git", "add", "--all"], cwd=project, env=user)
    assert ".poetry" not in run(["git", "ls-files"], cwd=project, env=user).stdout
    run([*EXPORT_SCRIPT, "--check"], cwd=project, env=user)

    # The hook brings its own Poetry and plugin: it works with the project's plugins gone.
    shutil.rmtree(project / ".poetry")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"six>=1.16"', '"six>=1.17"'))
    run(["poetry", "lock"], cwd=project, env=user)
    run(["git", "add", "--all"], cwd=project, env=user)
    assert run([*EXPORT_SCRIPT, "--verify"], cwd=project, env=user, check=False).returncode != 0
    hook = [
        sys.executable,
        "-m",
        "pre_commit",
        "run",
        "poetry-export",
        "--all-files",
        "--color",
        "never",
    ]
    fixed = run(hook, cwd=project, env=user, check=False)
    assert fixed.returncode != 0 and "files were modified by this hook" in fixed.stdout, (
        fixed.stdout + fixed.stderr
    )
    assert not (project / ".poetry").exists()
    run([*EXPORT_SCRIPT, "--verify"], cwd=project, env=user)


def test_ci_without_pre_commit_checks_the_export(
    locked_project: ProjectFactory, tmp_path: Path
) -> None:
    variant = "app-src+requests+hash-export+no-pre-commit"
    project = checkout(locked_project(**answers(variant)), tmp_path / "p")
    [step] = [s for s in workflow(project)["jobs"]["lint"]["steps"] if "export" in s.get("run", "")]
    assert step["run"] == "python3 build-tools/export_lock.py --check"
    assert run(["bash", "-eo", "pipefail", "-c", step["run"]], cwd=project).returncode == 0
    renovate_like_lock_change(project)
    stale = run(["bash", "-eo", "pipefail", "-c", step["run"]], cwd=project, check=False)
    assert stale.returncode != 0
    assert "run `python3 build-tools/export_lock.py` and commit the file" in stale.stderr


@pytest.mark.docker
def test_the_image_files_check_passes_then_names_an_ignored_file_and_a_dropped_module(
    docker_engine: str, rendered_project: ProjectFactory, pre_commit_home: Path, tmp_path: Path
) -> None:
    project = checkout(rendered_project(), tmp_path / "project")
    runner = Runner(tmp_path, project, host_env(pre_commit_home))
    docker_client(runner, docker_engine)
    package = read_answers(project)["package_name"]
    assert "The image gets the 4 files of the committed tree's wheel." in image_files_check(
        runner, project
    )
    # After the last update the team adds a folder's own .gitignore (a local database beside it)
    # and a committed module under a secret-like name: both differ until `copier update`.
    folder = project / "src" / package
    (folder / ".gitignore").write_text("*.db\n")
    (folder / "secrets").mkdir()
    (folder / "secrets" / "__init__.py").write_text("VAULT = 'vault://kv'\n")
    run(["git", "add", "--all"], cwd=project)
    (folder / "local.db").write_text("rows\n")
    with pytest.raises(AssertionError) as failed:
        image_files_check(runner, project)
    output = str(failed.value)
    extra, missing = f"+ {package}/local.db", f"- {package}/secrets/__init__.py"
    assert extra in output and missing in output
    assert output.index(extra) < output.index(missing), "extra files come first"
    assert "run `copier update --trust --defaults`" in output
