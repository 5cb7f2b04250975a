"""`copier update` end to end, on a template history built in a temporary git repository.

The history copies this working tree three times: 0.0.1 names the hash question `hash_mode` (the
migration example), 0.1.0 is the template as it is, 0.2.0 adds a template fix to the Dockerfile and
to pyproject.toml. Projects are generated from a tag, committed, edited like a user would, committed
again and updated with the Copier CLI, as a user runs it.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2
import pytest
import yaml

from dockerfile_syntax import stages
from extensions.existing import ExistingProject
from extensions.ignores import split
from helpers import (
    TEMPLATE,
    TEMPLATE_FIX,
    UNBUFFERED,
    ProjectCopier,
    SharedCache,
    commit,
    copier,
    docker_build,
    env,
    generate,
    git,
    read_answers,
    replace_once,
    run,
    template_files,
)

BIN = Path(sys.executable).parent
# The line the post-update lock check prints (copier.yml, `_migrations`).
STALE_LOCK_LINE = (
    "poetry.lock does not match pyproject.toml after the update: run 'poetry lock' in this project."
)


def update(project: Path, ref: str, *data: str) -> subprocess.CompletedProcess[str]:
    options = [arg for answer in data for arg in ("--data", answer)]
    return copier(
        "update",
        "--trust",
        "--defaults",
        "--conflict",
        "inline",
        "--vcs-ref",
        ref,
        *options,
        cwd=project,
    )


def changed_files(project: Path) -> set[str]:
    """Paths that differ from the last commit, untracked ones included."""
    status = git(project, "status", "--porcelain", "--untracked-files=all", "-z")
    return {entry[3:] for entry in status.split("\0") if entry}


def conflict_markers(project: Path) -> list[str]:
    found = []
    for path in project.rglob("*"):
        if ".git" in path.parts or ".venv" in path.parts or not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if re.search(r"^(<<<<<<<|>>>>>>>) ", text, re.MULTILINE):
            found.append(str(path.relative_to(project)))
    return found


def dockerfile_stages(project: Path) -> dict[str, list[tuple[str, str]]]:
    """(INSTRUCTION, arguments) by stage name; continuations joined, comments dropped."""
    return {
        name: [(i.partition(" ")[0].upper(), i.partition(" ")[2]) for i in stage]
        for name, stage in stages((project / "Dockerfile").read_text()).items()
        if name != "preamble"
    }


def pyproject(project: Path) -> dict[str, Any]:
    return tomllib.loads((project / "pyproject.toml").read_text())


# --- Projects updated once and shared by several tests --------------------------------------------

USER_FUNCTION = '''

def shout(text: str) -> str:
    """Added by the user after generation."""
    return text.upper()
'''
USER_TEST = """from round_trip.cli import shout


def test_shout() -> None:
    assert shout("hi") == "HI"
"""
USER_README = "\n## Team notes\n\nDeployed by the platform team.\n"
USER_DOCKERFILE_LINE = "ENV APP_ENV=production"


def make_round_trip(history: Path) -> Callable[[Path], None]:
    def make(project: Path) -> None:
        generate(history, project, "0.1.0", lock=True)
        with (project / "src/round_trip/cli.py").open("a") as cli:
            cli.write(USER_FUNCTION)
        (project / "tests/test_shout.py").write_text(USER_TEST)
        with (project / "README.md").open("a") as readme:
            readme.write(USER_README)
        replace_once(
            project / "pyproject.toml", "dependencies = []", 'dependencies = ["attrs>=23"]'
        )
        replace_once(
            project / "Dockerfile",
            "USER 10001:10001\n",
            f"USER 10001:10001\n{USER_DOCKERFILE_LINE}\n",
        )
        run(["poetry", "lock", "--no-interaction"], cwd=project)
        # What the project's poetry-export hook does on commit (hash_policy export, the default).
        run(["python3", "build-tools/export_lock.py"], cwd=project)
        commit(project, "User edits: code, test, README, a dependency, the Dockerfile")
        result = update(project, "0.2.0")
        project.with_name(project.name + ".log").write_text(result.stdout + result.stderr)

    return make


def make_new_answers(history: Path) -> Callable[[Path], None]:
    def make(project: Path) -> None:
        generate(history, project, "0.1.0", lock=True)
        with (project / "src/round_trip/cli.py").open("a") as cli:
            cli.write(USER_FUNCTION)
        commit(project, "User edits the CLI")
        update(project, "0.2.0", "hash_policy=pip", 'apt_runtime_packages=["libpq5"]')

    return make


@pytest.fixture(scope="session")
def round_trip(shared_cache: SharedCache, history: Path) -> Path:
    """Generated at 0.1.0 and locked, edited by the user, updated to 0.2.0; do not modify it."""
    return shared_cache.get("update-round-trip", {}, make_round_trip(history))


@pytest.fixture(scope="session")
def new_answers(shared_cache: SharedCache, history: Path) -> Path:
    """Generated at 0.1.0, locked, updated to 0.2.0 with hash_policy=pip and libpq5; read only."""
    return shared_cache.get("update-new-answers", {}, make_new_answers(history))


# --- 1. A template fix arrives, user edits survive ------------------------------------------------


@pytest.mark.slow
def test_update_brings_the_template_fix_and_keeps_every_user_edit(round_trip: Path) -> None:
    assert read_answers(round_trip)["_commit"] == "0.2.0"
    # Only merged infrastructure changed: user code, tests, README and lock are as committed.
    assert changed_files(round_trip) == {".copier-answers.yml", "Dockerfile", "pyproject.toml"}
    assert not list(round_trip.rglob("*.rej"))
    assert conflict_markers(round_trip) == []
    assert git(round_trip, "diff", "--name-only", "--diff-filter=U") == ""

    runtime = dockerfile_stages(round_trip)["runtime"]
    assert ("ENV", "PYTHONUNBUFFERED=1 PYTHONFAULTHANDLER=1") in runtime
    assert ("ENV", "APP_ENV=production") in runtime
    metadata = pyproject(round_trip)
    assert metadata["tool"]["mypy"]["warn_unreachable"] is True
    assert metadata["project"]["dependencies"] == ["attrs>=23"]
    # The post-update lock check ran and found the user's lock still matching, and the image's
    # export still follows it.
    run(["poetry", "check", "--lock"], cwd=round_trip)
    run(["python3", "build-tools/export_lock.py", "--check"], cwd=round_trip)
    assert (
        STALE_LOCK_LINE
        not in round_trip.with_name(round_trip.name + ".log").read_text().splitlines()
    )


@pytest.mark.slow
def test_user_owned_files_are_skipped_even_when_the_template_changes_them(
    history: Path, tmp_path: Path
) -> None:
    project = generate(history, tmp_path / "project", "0.1.0")
    (project / "README.md").write_text("# Our own README\n")
    commit(project, "User rewrites the README")
    # A new answer changes the rendered README (its hash-checking paragraph); the user's file wins.
    update(project, "0.2.0", "hash_policy=pip")
    assert (project / "README.md").read_text() == "# Our own README\n"
    assert "README.md" not in changed_files(project)


def test_every_user_owned_file_stays_deleted_once_deleted(tmp_path: Path) -> None:
    # copier.yml names the user-owned files twice: in _skip_if_exists, and in the _exclude entry
    # that keeps a deleted one deleted on update. Both must list the same files.
    spec = yaml.safe_load((TEMPLATE / "copier.yml").read_text())
    (tmp_path / ".copier-answers.yml").write_text("{}\n")  # a project with nothing of its own
    jinja = jinja2.Environment(extensions=[ExistingProject])
    context = {
        "package_dir": "src/pkg",
        "_copier_operation": "update",
        "_copier_conf": {"dst_path": tmp_path, "answers_file": ".copier-answers.yml"},
    }
    skipped = {jinja.from_string(pattern).render(context) for pattern in spec["_skip_if_exists"]}
    excluded = {
        line
        for entry in spec["_exclude"]
        if "absent_files" in entry
        for line in jinja.from_string(entry).render(context).splitlines()
    }
    assert excluded == skipped


@pytest.mark.slow
def test_a_deleted_user_owned_file_stays_deleted(history: Path, tmp_path: Path) -> None:
    project = generate(history, tmp_path / "project", "0.1.0")
    deleted = ["LICENSE", "tests/test_cli.py", "src/round_trip/__main__.py"]
    for path in deleted:
        (project / path).unlink()
    commit(project, "User deletes the LICENSE, the stub CLI test and `python -m`")
    result = update(project, "0.2.0")
    # Copier alone recreates missing skip-if-exists files; the template excludes them on update.
    assert not [path for path in deleted if (project / path).exists()], result.stderr
    assert "Dockerfile" in changed_files(project), "the update itself did not happen"
    assert changed_files(project) == {"Dockerfile", "pyproject.toml", ".copier-answers.yml"}


@pytest.mark.slow
def test_a_deleted_build_tools_folder_comes_back_on_update(history: Path, tmp_path: Path) -> None:
    # build-tools/ is the template's: the Dockerfile needs it, so the update restores it.
    fresh = generate(history, tmp_path / "fresh", "0.2.0")
    project = generate(history, tmp_path / "project", "0.1.0")
    shutil.rmtree(project / "build-tools")
    commit(project, "User deletes build-tools/")
    result = update(project, "0.2.0")
    tools = project / "build-tools" / "poetry.txt"
    assert tools.is_file(), result.stderr
    assert tools.read_bytes() == (fresh / "build-tools" / "poetry.txt").read_bytes()
    assert "build-tools/poetry.txt was missing: restored" in result.stdout + result.stderr


# --- 2. New answers during an update --------------------------------------------------------------


@pytest.mark.slow
def test_update_with_new_answers_rewrites_the_dockerfile_and_the_answers(new_answers: Path) -> None:
    answers = read_answers(new_answers)
    assert answers["hash_policy"] == "pip"
    assert answers["apt_runtime_packages"] == ["libpq5"]
    assert answers["project_type"] == "app"
    assert answers["_commit"] == "0.2.0"

    parsed = dockerfile_stages(new_answers)
    builder, runtime = parsed["builder"], parsed["runtime"]
    builder_runs = [arguments.split() for keyword, arguments in builder if keyword == "RUN"]
    assert any("--require-hashes" in words for words in builder_runs)
    runtime_runs = [arguments.split() for keyword, arguments in runtime if keyword == "RUN"]
    apt_installs = [words for words in runtime_runs if "apt-get" in words and "install" in words]
    assert len(apt_installs) == 1 and "libpq5" in apt_installs[0]

    assert "src/round_trip/cli.py" not in changed_files(new_answers)
    assert (new_answers / "src/round_trip/cli.py").read_text().endswith(USER_FUNCTION)
    assert conflict_markers(new_answers) == []


@pytest.mark.slow
@pytest.mark.parametrize("recorded", [True, False], ids=["recorded", "answer-missing"])
def test_a_project_on_poetry_keeps_its_policy_through_an_update(
    history: Path, tmp_path: Path, recorded: bool
) -> None:
    # A new project's default is export: the update must not carry it to a project on poetry.
    fresh = generate(history, tmp_path / "fresh", "0.2.0")
    assert read_answers(fresh)["hash_policy"] == "export"
    # A project made before export was the default: its answers file records `hash_policy:
    # poetry` (every release recorded it), or, edited by hand, nothing (the migration keeps poetry).
    project = generate(history, tmp_path / "project", "0.1.0", "hash_policy=poetry", lock=True)
    answers_file = project / ".copier-answers.yml"
    assert "\nhash_policy: poetry\n" in answers_file.read_text()
    if not recorded:
        answers_file.write_text(answers_file.read_text().replace("\nhash_policy: poetry\n", "\n"))
        commit(project, "The answers file loses its hash_policy")
    result = update(project, "0.2.0")
    assert read_answers(project)["hash_policy"] == "poetry"
    assert read_answers(project)["_commit"] == "0.2.0"
    assert changed_files(project) == {".copier-answers.yml", "Dockerfile", "pyproject.toml"}, (
        result.stdout + result.stderr
    )
    [dependencies] = [a for k, a in dockerfile_stages(project)["builder"] if "poetry.lock" in a]
    assert "poetry install --only main --no-root" in dependencies


@pytest.mark.slow
@pytest.mark.docker
def test_switching_to_the_export_policy_by_answer_writes_the_export_and_builds(
    history: Path, tmp_path: Path, docker_engine: str
) -> None:
    project = generate(history, tmp_path / "project", "0.1.0", "hash_policy=poetry", lock=True)
    result = update(project, "0.2.0", "hash_policy=export")
    output = result.stdout + result.stderr
    assert read_answers(project)["hash_policy"] == "export"
    assert conflict_markers(project) == []
    # The update's migration wrote the export from the project's own lock.
    assert "build-tools/lock-export.txt written from poetry.lock." in output, output
    run(["python3", "build-tools/export_lock.py", "--check"], cwd=project)
    added = {path for path in changed_files(project) if path not in git(project, "ls-files")}
    assert added >= {
        "build-tools/lock-export.txt",
        "build-tools/export_lock.py",
        "build-tools/poetry-core.txt",
        ".github/workflows/lock-export.yml",
    }, added
    hooks = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    assert "poetry-export" in {hook["id"] for hook in hooks}
    [dependencies] = [a for k, a in dockerfile_stages(project)["builder"] if "poetry.lock" in a]
    assert "-r build-tools/lock-export.txt" in dependencies and "poetry install" not in dependencies
    tag = "cpd-test:update-to-export"
    try:
        docker_build(project, tag)
        assert run([docker_engine, "run", "--rm", tag, "--version"]).stdout == "round-trip 0.1.0\n"
    finally:
        run([docker_engine, "image", "rm", "--force", tag], check=False)


# --- 3. A genuine conflict is visible -------------------------------------------------------------


@pytest.mark.slow
def test_a_conflicting_dockerfile_edit_leaves_inline_markers(history: Path, tmp_path: Path) -> None:
    project = generate(history, tmp_path / "project", "0.1.0")
    user_line = "ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1"
    replace_once(project / "Dockerfile", f"\n{UNBUFFERED}\n", f"\n{user_line}\n")
    commit(project, "User edits the line the template fixes")
    update(project, "0.2.0")

    assert conflict_markers(project) == ["Dockerfile"]
    lines = (project / "Dockerfile").read_text().splitlines()
    start = lines.index("<<<<<<< before updating")
    middle = lines.index("=======", start)
    end = lines.index(">>>>>>> after updating", middle)
    assert lines[start + 1 : middle] == [user_line]
    assert lines[middle + 1 : end] == [TEMPLATE_FIX]
    # Copier records the conflict in git's index, so `git status` lists the file as unmerged.
    assert git(project, "diff", "--name-only", "--diff-filter=U").split() == ["Dockerfile"]
    assert not list(project.rglob("*.rej"))


# --- 4. The migration -----------------------------------------------------------------------------


@pytest.mark.slow
def test_migration_renames_the_old_answer_and_the_update_applies_it(
    history: Path, tmp_path: Path
) -> None:
    project = generate(history, tmp_path / "project", "0.0.1", "hash_mode=pip")
    assert read_answers(project)["hash_mode"] == "pip"
    update(project, "0.1.0")

    answers = read_answers(project)
    assert "hash_mode" not in answers
    assert answers["hash_policy"] == "pip", "the answer fell back to the default: no migration ran"
    builder = dockerfile_stages(project)["builder"]
    assert any(
        "--require-hashes" in arguments.split()
        for keyword, arguments in builder
        if keyword == "RUN"
    )


MIGRATION = TEMPLATE / "migrations" / "answers_file.py"


def load_migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("answers_file", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ANSWERS = """# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY
_commit: 0.0.1
apt_runtime_packages:
- libpq5
hash_mode: pip
hash_mode_extra: kept
"""


def test_rename_key_renames_only_the_exact_top_level_key() -> None:
    renamed = load_migration().rename_key(ANSWERS, "hash_mode", "hash_policy")
    assert yaml.safe_load(renamed) == {
        "_commit": "0.0.1",
        "apt_runtime_packages": ["libpq5"],
        "hash_policy": "pip",
        "hash_mode_extra": "kept",
    }
    assert renamed.startswith("# Changes here will be overwritten")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("_commit: 0.1.0\nhash_policy: poetry\n", id="already-migrated"),
        pytest.param(ANSWERS + "hash_policy: none\n", id="new-answer-wins"),
    ],
)
def test_rename_key_leaves_an_answered_new_question_alone(text: str) -> None:
    assert load_migration().rename_key(text, "hash_mode", "hash_policy") == text


def test_migration_script_edits_the_file_in_place(tmp_path: Path) -> None:
    answers = tmp_path / ".copier-answers.yml"
    answers.write_text(ANSWERS)
    result = run([sys.executable, MIGRATION, "rename", answers, "hash_mode", "hash_policy"])
    assert yaml.safe_load(answers.read_text())["hash_policy"] == "pip"
    assert "answer 'hash_mode' is now 'hash_policy'" in result.stderr
    # A project without an answers file is not an error: there is nothing to migrate.
    run([sys.executable, MIGRATION, "rename", tmp_path / "missing.yml", "hash_mode", "x"])
    # Anything but the two commands is refused with the usage.
    refused = run([sys.executable, MIGRATION, "delete", answers, "a", "b"], check=False)
    assert refused.returncode == 2 and "answers_file.py record" in refused.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "_commit: 0.1.0\nci: github\n",
            {"_commit": "0.1.0", "ci": "github", "hash_policy": "poetry"},
            id="missing",
        ),
        pytest.param(
            "_commit: 0.1.0\nci: github",
            {"_commit": "0.1.0", "ci": "github", "hash_policy": "poetry"},
            id="no-final-newline",
        ),
        pytest.param(
            "_commit: 0.1.0\nhash_policy: pip\n",
            {"_commit": "0.1.0", "hash_policy": "pip"},
            id="recorded-kept",
        ),
        pytest.param(
            "_commit: 0.1.0\nhash_policy_note: x\n",
            {"_commit": "0.1.0", "hash_policy_note": "x", "hash_policy": "poetry"},
            id="longer-key-is-not-it",
        ),
    ],
)
def test_record_answer_adds_only_a_missing_answer(text: str, expected: dict[str, str]) -> None:
    assert yaml.safe_load(load_migration().with_answer(text, "hash_policy", "poetry")) == (expected)


def test_record_answer_script_edits_the_file_in_place(tmp_path: Path) -> None:
    answers = tmp_path / ".copier-answers.yml"
    answers.write_text("# Changes here will be overwritten by Copier\n_commit: 0.1.0\n")
    script: list[str | Path] = [sys.executable, MIGRATION, "record"]
    result = run([*script, answers, "hash_policy", "poetry"])
    assert answers.read_text().startswith("# Changes here will be overwritten by Copier\n")
    assert yaml.safe_load(answers.read_text())["hash_policy"] == "poetry"
    assert "recorded no 'hash_policy'" in result.stderr
    # Run again (every update runs it): nothing changes, nothing is said.
    again = run([*script, answers, "hash_policy", "pip"])
    assert yaml.safe_load(answers.read_text())["hash_policy"] == "poetry" and again.stderr == ""
    run([*script, tmp_path / "missing.yml", "hash_policy", "poetry"])


# --- The post-update lock check and check-update --------------------------------------------------


@pytest.mark.slow
def test_update_says_to_relock_when_the_lock_is_stale_without_failing(
    round_trip: Path, project_copy: ProjectCopier
) -> None:
    project = project_copy(round_trip)
    commit(project, "The round trip's update")
    replace_once(project / "pyproject.toml", '"attrs>=23"', '"attrs>=23", "six>=1.16"')
    commit(project, "User adds a dependency and forgets to lock")
    result = update(project, "0.2.0")
    assert STALE_LOCK_LINE in (result.stdout + result.stderr).splitlines()
    assert pyproject(project)["project"]["dependencies"] == ["attrs>=23", "six>=1.16"]


@pytest.mark.slow
def test_check_update_reports_the_newer_template_version(
    history: Path, round_trip: Path, tmp_path: Path
) -> None:
    outdated = generate(history, tmp_path / "project", "0.1.0")
    for project, expected in [
        (
            outdated,
            {"update_available": True, "current_version": "0.1.0", "latest_version": "0.2.0"},
        ),
        (
            round_trip,
            {"update_available": False, "current_version": "0.2.0", "latest_version": "0.2.0"},
        ),
    ]:
        result = copier("check-update", "--output-format", "json", cwd=project)
        assert json.loads(result.stdout) == expected


# --- The scheduled update workflow ----------------------------------------------------------------


def workflow(project: Path) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(
        (project / ".github/workflows/template-update.yml").read_text()
    )
    return loaded


@pytest.mark.slow
def test_update_workflow_is_a_valid_scheduled_github_workflow(round_trip: Path) -> None:
    path = round_trip / ".github/workflows/template-update.yml"
    run([BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", path])
    triggers = workflow(round_trip)[True]  # YAML 1.1 reads the key `on` as a boolean.
    assert triggers["schedule"] and "workflow_dispatch" in triggers


@pytest.mark.slow
def test_update_workflow_script_updates_an_outdated_project_once(
    history: Path, tmp_path: Path
) -> None:
    project = generate(history, tmp_path / "project", "0.1.0")
    step = next(s for s in workflow(project)["jobs"]["update"]["steps"] if s.get("id") == "update")
    outputs = tmp_path / "github-output"
    step_env = env(
        GITHUB_OUTPUT=str(outputs),
        # The step sets a bot identity with `git config --global`.
        GIT_CONFIG_GLOBAL=str(tmp_path / "gitconfig"),
        PATH=os.pathsep.join([str(BIN), os.environ["PATH"]]),
    )

    run(["bash", "-c", step["run"]], cwd=project, env=step_env)
    assert dict(line.split("=", 1) for line in outputs.read_text().splitlines()) == {
        "version": "0.2.0",
        "conflicts": "",
        # 0.2.0 changes [tool.mypy]: the job's next steps relock.
        "pyproject": "changed",
    }
    assert read_answers(project)["_commit"] == "0.2.0"

    commit(project, "Template update")
    outputs.write_text("")
    run(["bash", "-c", step["run"]], cwd=project, env=step_env)
    assert outputs.read_text() == "", "an up-to-date project must not open a pull request"


# --- 5. The updated project still works -----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("updated", ["round_trip", "new_answers"])
def test_updated_project_passes_its_own_tests(
    updated: str, request: pytest.FixtureRequest, project_copy: ProjectCopier
) -> None:
    project = project_copy(request.getfixturevalue(updated))
    run(["poetry", "check", "--lock"], cwd=project)
    run(["poetry", "install", "--no-interaction"], cwd=project)
    run(["poetry", "run", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)
    if updated == "round_trip":
        collected = run(["poetry", "run", "pytest", "--collect-only", "-q"], cwd=project).stdout
        assert "tests/test_shout.py::test_shout" in collected, "the user's own test is gone"


@pytest.mark.docker
@pytest.mark.parametrize("updated", ["round_trip", "new_answers"])
def test_updated_project_image_builds_and_runs(
    updated: str, request: pytest.FixtureRequest, project_copy: ProjectCopier, docker_engine: str
) -> None:
    project = project_copy(request.getfixturevalue(updated))
    tag = f"update-{updated.replace('_', '-')}:test"
    docker_build(project, tag)
    try:
        version = run([docker_engine, "run", "--rm", tag, "--version"]).stdout
        assert version.strip() == "round-trip 0.1.0"
        inspect = json.loads(run([docker_engine, "image", "inspect", tag]).stdout)
        image_env = set(inspect[0]["Config"]["Env"])
        assert "PYTHONFAULTHANDLER=1" in image_env, "the template fix did not reach the image"
        if updated == "round_trip":
            assert "APP_ENV=production" in image_env, (
                "the user's Dockerfile edit did not reach the image"
            )
        else:
            # The runtime package from the new answer is installed in the final image.
            run(
                [
                    docker_engine,
                    "run",
                    "--rm",
                    "--entrypoint",
                    "dpkg-query",
                    tag,
                    "--status",
                    "libpq5",
                ]
            )
    finally:
        run([docker_engine, "image", "rm", "--force", tag], check=False)


# --- 4. From the first release to this working tree -----------------------------------------------

# The commit released as 0.1.0 (CHANGELOG.md); its projects' answers files lack every question
# added since (existing_project, cli_target, ...), and their stubs must survive the update.
RELEASE_0_1_0 = "8376525"
# The last commit whose builder installed uv with pip from build-tools/uv.txt.
PIP_INSTALLED_UV = "4a63ca7"


def release_history(shared_cache: SharedCache, old: str) -> Path:
    """A template repository: `old` (from this checkout's history) as 0.1.0, this tree as 0.2.0."""
    return shared_cache.get(
        "release-history", {"release": old}, functools.partial(build_release_history, old)
    )


def build_release_history(old: str, repo: Path) -> None:
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    # The old tree, from this checkout's history (CI clones it in full).
    tar = subprocess.run(
        ["git", "archive", old], cwd=TEMPLATE, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(repo)], input=tar, check=True)
    commit(repo, "0.1.0 as released")
    git(repo, "tag", "0.1.0")
    git(repo, "rm", "--quiet", "-r", ".")
    for relative in template_files():
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(TEMPLATE / relative, repo / relative)
    commit(repo, "0.2.0: this working tree")
    git(repo, "tag", "0.2.0")


@pytest.mark.slow
def test_a_project_of_the_first_release_updates_cleanly(
    shared_cache: SharedCache, tmp_path: Path
) -> None:
    project = generate(release_history(shared_cache, RELEASE_0_1_0), tmp_path / "project", "0.1.0")
    owned = ["README.md", "LICENSE", "tests/test_cli.py"]
    owned += [str(p.relative_to(project)) for p in (project / "src").rglob("*") if p.is_file()]
    before = {path: (project / path).read_bytes() for path in owned}
    result = update(project, "0.2.0")
    assert not conflict_markers(project), result.stderr
    # Nothing of the user's is deleted or rewritten; the stub CLI stays the console script.
    assert {path: (project / path).read_bytes() for path in owned} == before
    deleted = {
        line[3:] for line in git(project, "status", "--porcelain").splitlines() if "D" in line[:2]
    }
    # The one file the template itself dropped since (Renovate replaced Dependabot).
    assert deleted == {".github/dependabot.yml"}
    answers = read_answers(project)
    assert answers["cli_target"] == "round_trip.cli:main"
    assert answers["existing_project"] is False
    assert pyproject(project)["project"]["scripts"] == {"round-trip": "round_trip.cli:main"}


@pytest.mark.slow
def test_an_update_from_the_pip_installed_uv_takes_it_from_its_image(
    shared_cache: SharedCache, tmp_path: Path
) -> None:
    history = release_history(shared_cache, PIP_INSTALLED_UV)
    project = generate(history, tmp_path / "project", "0.1.0", "hash_policy=pip")
    assert (project / "build-tools" / "uv.txt").is_file()
    result = update(project, "0.2.0")
    assert not conflict_markers(project), result.stderr
    # The file the builder no longer reads is deleted; the pinned image replaces it.
    deleted = {
        line[3:] for line in git(project, "status", "--porcelain").splitlines() if "D" in line[:2]
    }
    assert deleted == {"build-tools/uv.txt"}
    parsed = dockerfile_stages(project)
    assert list(parsed) == ["uv", "tools", "builder", "project", "runtime"]
    runs = " ".join(arguments for stage in parsed.values() for _, arguments in stage)
    assert "pip install --root-user-action" not in runs and "/opt/uv" not in runs
    assert read_answers(project)["hash_policy"] == "pip"


# --- 5. From the hand-written .gitignore translation to git's own rules ---------------------------

# main before .dockerignore read git's ignore sources: it recorded ignored_patterns at adoption.
BEFORE_GIT_IGNORE_RULES = "6611481"


@pytest.mark.slow
def test_a_project_of_the_gitignore_translation_updates_to_gits_own_rules(
    shared_cache: SharedCache, tmp_path: Path
) -> None:
    history = release_history(shared_cache, BEFORE_GIT_IGNORE_RULES)
    # Adopted at the old state, which recorded ignored_patterns from the team's .gitignore.
    project = tmp_path / "greeter"
    shutil.copytree(TEMPLATE / "tests/fixtures/adopt/greeter", project)
    git(project, "init", "--quiet", "--initial-branch=main")
    commit(project, "The team's project")
    copier("copy", "--trust", "--defaults", "--vcs-ref", "0.1.0", str(history), ".", cwd=project)
    assert "ignored_patterns" in read_answers(project)
    commit(project, "Adopted at 0.1.0")
    result = update(project, "0.2.0")
    assert not conflict_markers(project), result.stderr
    assert "ignored_patterns" not in read_answers(project)
    head, block, _ = split((project / ".dockerignore").read_text())
    assert "!src/" in head.splitlines()
    assert "!**/keep.sqlite3" in block.splitlines()  # the negation the old translation dropped
    assert "**/.env" in block.splitlines()
    commit(project, "Updated to 0.2.0")
    # A folder's own .gitignore added later: the next update writes it in, and nothing conflicts.
    (project / "src/greeter/.gitignore").write_text("*.db\n")
    commit(project, "The package's own ignores")
    result = update(project, "0.2.0")
    assert not conflict_markers(project), result.stderr
    lines = split((project / ".dockerignore").read_text())[1].splitlines()
    assert "src/greeter/**/*.db" in lines
    assert [line for line in lines if line.startswith("# >>>")] == []


@pytest.mark.slow
def test_a_fresh_project_of_the_gitignore_translation_updates_cleanly(
    shared_cache: SharedCache, tmp_path: Path
) -> None:
    history = release_history(shared_cache, BEFORE_GIT_IGNORE_RULES)
    project = generate(history, tmp_path / "project", "0.1.0")
    result = update(project, "0.2.0")
    assert not conflict_markers(project), result.stderr
    fresh = generate(history, tmp_path / "fresh", "0.2.0")
    updated = (project / ".dockerignore").read_text()
    assert updated == (fresh / ".dockerignore").read_text()
    # The template's .gitignore now ignores secrets/ at the root only: a package's module is code.
    assert "/secrets/" in (project / ".gitignore").read_text().splitlines()
