"""Delivery in generated projects: the release and audit workflows, action pins, least privilege.

Every workflow is checked with check-jsonschema and zizmor, and its `run:` steps are replayed here
as tests/test_ci_files.py replays the CI workflow; what needs GitHub or a registry (pushing to
GHCR, signing, uploading to PyPI, creating the release) is replaced by a dry run, named in
RELEASE_ACTION_REASONS. The arm64 image is built and run under emulation in the docker tier.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import shutil
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from answer_sets import answers as answer_set
from answer_sets import default
from helpers import (
    DOCKER,
    ProjectFactory,
    SharedCache,
    docker_build,
    missing_for_docker_tier,
    read_answers,
    render,
    run,
    tool_env,
)
from workflow_replay import (
    ACTION_REASONS,
    Runner,
    action_name,
    build_push_action,
    checkout,
    github_expression,
    hadolint_action,
    host_env,
    replay_job,
    workflow,
)

WORKFLOWS = Path(".github/workflows")
RELEASE = WORKFLOWS / "release.yml"
CI = WORKFLOWS / "ci.yml"
AUDIT = WORKFLOWS / "audit.yml"

# Named answer sets (tests/answer_sets.py): every workflow, with and without the PyPI job, a flat
# project behind a private index without pre-commit, and a deps-only environment.
VARIANTS = [
    "app-src",
    "app-src+pypi",
    "app-flat+py310+private-index+no-pre-commit",
    "deps-only+pyyaml",
]
DEFAULT = VARIANTS[0]

# Where each action of the release and audit workflows does its work on this machine.
RELEASE_ACTION_REASONS = {
    **ACTION_REASONS,
    "docker/login-action": "dry run: no registry is reachable from this machine",
    "docker/metadata-action": "metadata_tags(): the three tag rules the workflow uses",
    "actions/attest-build-provenance": "dry run: signing needs GitHub's OIDC token",
    "actions/upload-artifact": "a directory shared by the jobs of one replay",
    "actions/download-artifact": "a directory shared by the jobs of one replay",
    "pypa/gh-action-pypi-publish": "dry run: the dists it would upload are checked instead",
}
# Jobs that write, and exactly what each may write; every other job reads at most.
WRITE_PERMISSIONS = {
    ("release.yml", "image"): {"packages", "id-token", "attestations"},
    ("release.yml", "pypi"): {"id-token"},
    ("release.yml", "release"): {"contents"},
    ("template-update.yml", "update"): {"contents", "pull-requests"},
}
PINNED_USES = re.compile(r"^\s*(?:- )?uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)$")


@pytest.fixture(scope="session")
def rendered(shared_cache: SharedCache) -> dict[str, Path]:
    return {
        name: shared_cache.get(
            "release-render", answers, functools.partial(render, answers=answers)
        )
        for name in VARIANTS
        for answers in [answer_set(name)]
    }


def triggers(project: Path, path: Path) -> Any:
    """The `on:` mapping (PyYAML reads the key `on` as the boolean True)."""
    return yaml.safe_load((project / path).read_text())[True]


def workflow_files(project: Path) -> list[Path]:
    return sorted((project / WORKFLOWS).glob("*.yml"))


# --- Every workflow: valid, clean under zizmor, pinned, least privilege --------------------------


def test_every_workflow_validates_against_the_github_schema(rendered: dict[str, Path]) -> None:
    files = [path for project in rendered.values() for path in workflow_files(project)]
    assert {path.name for path in files} == {
        "ci.yml",
        "audit.yml",
        "release.yml",
        "template-update.yml",
        # hash_policy export's (the default): re-exports poetry.lock on Renovate's branches.
        "lock-export.yml",
    }
    run(["check-jsonschema", "--builtin-schema", "vendor.github-workflows", *files])


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_workflow_is_clean_under_zizmor(rendered: dict[str, Path], variant: str) -> None:
    result = run(["zizmor", "--offline", "--no-progress", rendered[variant] / WORKFLOWS])
    assert "No findings to report" in result.stdout + result.stderr


def test_zizmor_catches_an_unpinned_action(rendered: dict[str, Path], tmp_path: Path) -> None:
    # The check above can fail: a tag instead of a SHA is a finding.
    text = (rendered[DEFAULT] / RELEASE).read_text()
    broken = tmp_path / ".github" / "workflows" / "release.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(re.sub(r"actions/checkout@[0-9a-f]{40}", "actions/checkout@v4", text))
    result = run(["zizmor", "--offline", "--no-progress", broken], check=False)
    assert result.returncode != 0 and "unpinned-uses" in result.stdout


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_action_is_pinned_by_commit_sha_with_its_version(
    rendered: dict[str, Path], variant: str
) -> None:
    pins: dict[str, set[tuple[str, str]]] = {}
    for path in workflow_files(rendered[variant]):
        for line in path.read_text().splitlines():
            if re.match(r"^\s*(- )?uses:", line):
                if re.match(r"\s*uses: \./\.github/workflows/[\w.-]+\.yml\b", line):
                    continue  # this repository's own workflow, at the run's commit
                match = PINNED_USES.match(line)
                assert match, f"{path.name}: not pinned by SHA with a # vX.Y.Z comment: {line}"
                pins.setdefault(match.group(1), set()).add((match.group(2), match.group(3)))
    assert pins, "no action found"
    for action, versions in pins.items():
        assert len(versions) == 1, f"{action} pinned to different commits: {versions}"


@pytest.mark.parametrize("variant", VARIANTS)
def test_only_publishing_jobs_can_write_and_only_what_they_need(
    rendered: dict[str, Path], variant: str
) -> None:
    for path in workflow_files(rendered[variant]):
        data = yaml.safe_load(path.read_text())
        assert data["permissions"] in ({}, {"contents": "read"}), f"{path.name}: top level"
        for name, job in data["jobs"].items():
            permissions = job.get("permissions", {})
            writes = {scope for scope, level in permissions.items() if level == "write"}
            assert writes == WRITE_PERMISSIONS.get((path.name, name), set()), f"{path.name}:{name}"
            assert set(permissions.values()) <= {"read", "write"}
            for step in job.get("steps", []):
                if action_name(step.get("uses", "")) == "actions/checkout":
                    assert step["with"]["persist-credentials"] is False, f"{path.name}:{name}"


# --- The release workflow ---------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_release_runs_on_version_tags_and_builds_both_platforms_with_attestations(
    rendered: dict[str, Path], variant: str
) -> None:
    project = rendered[variant]
    data = workflow(project, RELEASE)
    assert triggers(project, RELEASE) == {"push": {"tags": ["v*"]}}
    steps = {action_name(s.get("uses", "")): s for s in data["jobs"]["image"]["steps"]}
    build = steps["docker/build-push-action"]["with"]
    assert build["platforms"] == "linux/amd64,linux/arm64"
    assert build["push"] is True and build["sbom"] is True
    assert build["provenance"] == "mode=max"
    assert steps["docker/login-action"]["with"]["registry"] == "ghcr.io"
    assert steps["actions/attest-build-provenance"]["with"]["push-to-registry"] is True
    build_args = dict(line.split("=", 1) for line in build["build-args"].splitlines())
    dockerfile_args = re.findall(r"^ARG (\w+)", (project / "Dockerfile").read_text(), re.M)
    assert set(build_args) <= set(dockerfile_args)
    publishes_to_pypi = read_answers(project).get("publish_to_pypi", False)
    assert ("pypi" in data["jobs"]) is publishes_to_pypi
    assert ("pypi" in data["jobs"]["release"]["needs"]) is publishes_to_pypi


def version_check(project: Path) -> Mapping[str, Any]:
    steps = workflow(project, RELEASE)["jobs"]["version"]["steps"]
    return next(step for step in steps if step.get("id") == "check")


@pytest.mark.parametrize(
    ("tag", "accepted"),
    [("v0.1.0", True), ("v0.1.1", False), ("0.1.0", False), ("v0.1", False), ("v0.1.0rc1", False)],
)
def test_release_version_check_refuses_a_tag_that_does_not_name_the_version(
    rendered: dict[str, Path], tmp_path: Path, tag: str, accepted: bool
) -> None:
    project = rendered[DEFAULT]
    output = tmp_path / "github_output"
    output.write_text("")
    result = run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", version_check(project)["run"]],
        cwd=project,
        env=tool_env(GITHUB_REF_NAME=tag, GITHUB_OUTPUT=str(output)),
        check=False,
    )
    if accepted:
        assert result.returncode == 0, result.stdout + result.stderr
        assert output.read_text() == "version=0.1.0\n"
    else:
        assert result.returncode != 0
        assert f"The tag {tag} does not match the project version 0.1.0" in result.stdout
        assert output.read_text() == "", "a refused tag gives later jobs no version"


def test_publish_to_pypi_is_refused_where_there_is_no_app_or_workflow(tmp_path: Path) -> None:
    cases: dict[str, dict[str, Any]] = {
        "deps-only": {"project_type": "deps-only", "publish_to_pypi": True},
        "no-ci": {"ci": "none", "publish_to_pypi": True},
    }
    for name, answers in cases.items():
        dest = tmp_path / name
        with pytest.raises(SystemExit, match="publish_to_pypi needs ci: github and project_type"):
            render(dest, answers)
        assert not dest.exists() or not any(dest.iterdir()), "a refused answer writes nothing"


def metadata_tags(options: Mapping[str, Any], version: str, commit: str) -> list[str]:
    """docker/metadata-action for the rules the workflow uses (asserted, so they cannot drift).

    `flavor: latest=true|false` adds `latest` or not (the action's `auto`, its default, would add
    it for every final version, a backport included).
    """
    rules = options["tags"].splitlines()
    assert rules == [
        "type=pep440,pattern={{version}}",
        "type=pep440,pattern={{major}}.{{minor}}",
        "type=sha,format=long",
    ]
    assert re.fullmatch(r"latest=(true|false)", options["flavor"].strip()), options["flavor"]
    major, minor = version.split(".")[:2]
    tags = [version, f"{major}.{minor}", f"sha-{commit}"]
    if options["flavor"].strip() == "latest=true":
        tags.append("latest")
    return [f"{options['images']}:{tag}" for tag in tags]


def tagged_checkout(source: Path, dest: Path, tags: list[str]) -> Path:
    """checkout() with `fetch-depth: 0`: one commit and the repository's tags."""
    project = checkout(source, dest)
    run(["git", "commit", "--quiet", "--message", "Release"], cwd=project)
    for tag in tags:
        run(["git", "tag", tag], cwd=project)
    return project


def fake_gh(directory: Path) -> Path:
    """A `gh` that records its arguments: the release step's dry run."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "gh"
    script.write_text('#!/bin/sh\nprintf "%s\\0" "$@" > "$GH_ARGS_FILE"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return directory / "gh-args"


@pytest.mark.docker
@pytest.mark.slow
def test_release_jobs_run_here(
    docker_engine: str, locked_project: Any, shared_cache: SharedCache, tmp_path: Path
) -> None:
    answers = {"project_name": "Release Replay"}
    source = locked_project(**answers)
    commit = "0123456789abcdef0123456789abcdef01234567"
    base_env = host_env(shared_cache.root / "pre-commit-home")
    # Mixed case on purpose: registry names must come out lowercase.
    base_env.update(
        GITHUB_REF_NAME="v0.1.0", GITHUB_REPOSITORY="Example/Project", GITHUB_SHA=commit
    )

    project = tagged_checkout(source, tmp_path / "version" / "project", ["v0.1.0"])
    runner = Runner(tmp_path / "version", project, base_env)
    replay_job(project, "version", runner, path=RELEASE, reasons=RELEASE_ACTION_REASONS)
    version = runner.outputs["check"]["version"]
    assert version == "0.1.0"
    assert runner.outputs["channel"] == {"prerelease": "false", "latest": "true"}

    project = checkout(source, tmp_path / "image" / "project")
    runner = Runner(tmp_path / "image", project, base_env)
    runner.contexts["needs.version.outputs.version"] = version
    runner.contexts["needs.version.outputs.latest"] = "true"
    client = tmp_path / "docker-client"
    client.mkdir()
    (client / "docker").symlink_to(docker_engine)
    runner.paths.append(str(client))
    built: list[str] = []

    def metadata(runner: Runner, step: Mapping[str, Any], env: dict[str, str]) -> None:
        options = {key: runner.expand(str(value)) for key, value in step["with"].items()}
        runner.outputs[step["id"]] = {"tags": "\n".join(metadata_tags(options, version, commit))}

    def build_push(runner: Runner, step: Mapping[str, Any], env: dict[str, str]) -> None:
        # One platform into the local store (engine 20.10 has no multi-platform builder; arm64
        # is built by ci.yml's arm64 leg, test_arm64_image_runs_under_emulation); pushing is the
        # dry-run part.
        options = step["with"]
        tags = runner.expand(options["tags"]).splitlines()
        build_args = runner.expand(options["build-args"]).splitlines()
        tag_options = [part for tag in tags for part in ("-t", tag)]
        docker_build(
            runner.workspace / options["context"],
            tags[0],
            *tag_options[2:],
            *(part for arg in build_args for part in ("--build-arg", arg)),
        )
        built.extend(tags)
        digest = run([docker_engine, "image", "inspect", "--format", "{{.Id}}", tags[0]]).stdout
        runner.outputs[step["id"]] = {"digest": digest.strip()}

    try:
        replay_job(
            project,
            "image",
            runner,
            uses={
                "docker/metadata-action": metadata,
                "docker/build-push-action": build_push,
            },
            path=RELEASE,
            reasons=RELEASE_ACTION_REASONS,
        )
        name = runner.outputs["image"]["name"]
        assert name == "ghcr.io/example/project"
        assert built == [f"{name}:0.1.0", f"{name}:0.1", f"{name}:sha-{commit}", f"{name}:latest"]
        assert run([docker_engine, "run", "--rm", built[0], "--version"]).stdout == (
            "release-replay 0.1.0\n"
        )
        labels = yaml.safe_load(
            run(
                [docker_engine, "image", "inspect", "--format", "{{json .Config.Labels}}", built[0]]
            ).stdout
        )
        assert labels["org.opencontainers.image.version"] == "0.1.0"
        digest = runner.outputs["build"]["digest"]

        project = checkout(source, tmp_path / "release" / "project")
        runner = Runner(tmp_path / "release", project, base_env)
        args_file = fake_gh(tmp_path / "gh-bin")
        runner.paths.append(str(tmp_path / "gh-bin"))
        runner.base_env["GH_ARGS_FILE"] = str(args_file)
        runner.contexts.update(
            {
                "github.token": "dry-run-token",
                "needs.version.outputs.version": version,
                "needs.image.outputs.name": name,
                "needs.image.outputs.digest": digest,
                "needs.image.outputs.attested": "true",
                "needs.version.outputs.prerelease": "false",
                "needs.version.outputs.latest": "true",
            }
        )
        replay_job(project, "release", runner, path=RELEASE, reasons=RELEASE_ACTION_REASONS)
        args = args_file.read_text().split("\0")[:-1]
        assert args[:3] == ["release", "create", "v0.1.0"]
        assert {"--verify-tag", "--generate-notes", "--latest=true"} <= set(args)
        assert "--prerelease" not in args
        assert args[args.index("--repo") + 1] == "Example/Project"
        notes = args[args.index("--notes") + 1]
        assert f"`{name}:0.1.0`" in notes and digest in notes
        assert f"gh attestation verify oci://{name}:0.1.0 --repo Example/Project" in notes
    finally:
        if built:
            run([docker_engine, "image", "rm", "--force", *built], check=False)


@pytest.mark.slow
def test_pypi_jobs_build_the_dists_they_would_publish(
    locked_project: Any, shared_cache: SharedCache, tmp_path: Path
) -> None:
    source = locked_project(publish_to_pypi=True)
    artifacts = tmp_path / "artifacts"
    base_env = host_env(shared_cache.root / "pre-commit-home")
    base_env["GITHUB_REF_NAME"] = "v0.1.0"

    def upload(runner: Runner, step: Mapping[str, Any], env: dict[str, str]) -> None:
        shutil.copytree(runner.workspace / step["with"]["path"], artifacts / step["with"]["name"])

    def download(runner: Runner, step: Mapping[str, Any], env: dict[str, str]) -> None:
        shutil.copytree(artifacts / step["with"]["name"], runner.workspace / step["with"]["path"])

    def publish(runner: Runner, step: Mapping[str, Any], env: dict[str, str]) -> None:
        # What the action would upload: dist/ (its default packages-dir), one wheel and one sdist.
        names = sorted(path.name for path in (runner.workspace / "dist").iterdir())
        assert names == ["my_tool-0.1.0-py3-none-any.whl", "my_tool-0.1.0.tar.gz"], names

    for job in ("dist", "pypi"):
        project = checkout(source, tmp_path / job / "project")
        runner = Runner(tmp_path / job, project, base_env)
        replay_job(
            project,
            job,
            runner,
            uses={
                "actions/upload-artifact": upload,
                "actions/download-artifact": download,
                "pypa/gh-action-pypi-publish": publish,
            },
            path=RELEASE,
            reasons=RELEASE_ACTION_REASONS,
        )
    assert workflow(project, RELEASE)["jobs"]["pypi"]["environment"]["name"] == "pypi"


# --- Publishing order, attestation where GitHub offers it, no shared cache, latest -------------


def jobs_needed(jobs: Mapping[str, Any], name: str) -> set[str]:
    """Every job `name` waits for, directly or through another."""
    needs = jobs[name].get("needs", [])
    direct = {needs} if isinstance(needs, str) else set(needs)
    return direct.union(*(jobs_needed(jobs, job) for job in direct)) if direct else set()


def job_using(jobs: Mapping[str, Any], action: str) -> str:
    (name,) = [
        name
        for name, job in jobs.items()
        if any(action_name(step.get("uses", "")) == action for step in job.get("steps", []))
    ]
    return name


@pytest.mark.parametrize("variant", VARIANTS)
def test_attestation_runs_only_where_github_offers_it(
    rendered: dict[str, Path], variant: str
) -> None:
    # Free, Pro and Team plans attest public repositories only; Enterprise Cloud private ones too
    # (docs.github.com, "Using artifact attestations to establish provenance for builds").
    jobs = workflow(rendered[variant], RELEASE)["jobs"]
    (attest,) = [
        step
        for step in jobs[job_using(jobs, "actions/attest-build-provenance")]["steps"]
        if action_name(step.get("uses", "")) == "actions/attest-build-provenance"
    ]
    assert "if" in attest, "a private repository on a Free/Pro/Team plan fails the release here"
    cases = {
        ("public", None): True,
        ("private", None): False,
        ("internal", None): False,
        ("private", "true"): True,  # Enterprise Cloud: the repository variable opts in
        ("private", "false"): False,
    }
    for (visibility, setting), runs in cases.items():
        contexts = {"github.event.repository.visibility": visibility}
        if setting is not None:
            contexts["vars.ATTEST_BUILD_PROVENANCE"] = setting
        assert github_expression(attest["if"], contexts) is runs, (visibility, setting)
    assert attest["id"] == "attest"
    assert jobs["image"]["outputs"]["attested"] == "${{ steps.attest.outcome == 'success' }}"


@pytest.mark.parametrize("variant", VARIANTS)
def test_pypi_upload_waits_for_the_image_and_its_attestation(
    rendered: dict[str, Path], variant: str
) -> None:
    jobs = workflow(rendered[variant], RELEASE)["jobs"]
    uploads = [
        name
        for name, job in jobs.items()
        if any(
            action_name(s.get("uses", "")) == "pypa/gh-action-pypi-publish"
            for s in job.get("steps", [])
        )
    ]
    assert uploads == (["pypi"] if read_answers(rendered[variant]).get("publish_to_pypi") else [])
    for name in uploads:
        # An image or attestation failure must stop the release before the irreversible upload.
        assert {
            job_using(jobs, "docker/build-push-action"),
            job_using(jobs, "actions/attest-build-provenance"),
            "version",
            "dist",
        } <= jobs_needed(jobs, name)


def job_closure(project: Path, path: Path, name: str) -> dict[str, dict[str, Any]]:
    """Every job that must succeed before `name` of workflow `path` starts: its `needs`, and
    those of theirs, with every job of a reusable workflow a needed job calls (`uses:`).

    Keys are `workflow:job`; a called workflow's jobs are read from the project's files.
    """
    jobs = workflow(project, path)["jobs"]
    found: dict[str, dict[str, Any]] = {}
    for needed in jobs_needed(jobs, name):
        job = jobs[needed]
        found[f"{path.name}:{needed}"] = job
        called = job.get("uses", "")
        if called:
            # A workflow of this repository, read at the run's commit.
            assert called.startswith("./.github/workflows/"), called
            called_path = Path(called.removeprefix("./"))
            for called_name, called_job in workflow(project, called_path)["jobs"].items():
                found[f"{called_path.name}:{called_name}"] = called_job
                found.update(job_closure(project, called_path, called_name))
    return found


def matrix_values(job: Mapping[str, Any], text: str) -> list[str]:
    """`text` with `${{ matrix.KEY }}` (and a job-level `${{ env.NAME }}`) substituted, once
    per value of the job's matrix (list-valued keys only, as the generated workflows use)."""
    matrix = job.get("strategy", {}).get("matrix", {})
    keys = [key for key, values in matrix.items() if isinstance(values, list)]
    combinations = [
        dict(zip(keys, values, strict=True))
        for values in itertools.product(*(matrix[key] for key in keys))
    ]

    def expand(value: str, combination: Mapping[str, Any]) -> str:
        def lookup(match: re.Match[str]) -> str:
            scope, _, key = match.group(1).partition(".")
            if scope == "matrix":
                return str(combination[key])
            assert scope == "env", match.group(0)
            return expand(str(job["env"][key]), combination)

        return re.sub(r"\$\{\{\s*((?:matrix|env)\.[\w-]+)\s*\}\}", lookup, value)

    return [expand(text, combination) for combination in combinations]


def publishing_jobs(jobs: Mapping[str, Any]) -> set[str]:
    """Jobs that publish: push an image, upload to PyPI, or create the GitHub release."""
    found = set()
    for name, job in jobs.items():
        for step in job.get("steps", []):
            uses = action_name(step.get("uses", ""))
            if uses == "docker/build-push-action" and step["with"].get("push") is True:
                found.add(name)
            if uses == "pypa/gh-action-pypi-publish" or "gh release create" in step.get("run", ""):
                found.add(name)
    return found


@pytest.mark.parametrize("variant", VARIANTS)
def test_nothing_is_published_before_the_tests_pass_and_arm64_is_built(
    rendered: dict[str, Path], variant: str
) -> None:
    project = rendered[variant]
    jobs = workflow(project, RELEASE)["jobs"]
    publishing = publishing_jobs(jobs)
    expected = {"image", "release"} | ({"pypi"} if "pypi" in jobs else set())
    assert publishing == expected
    for name in publishing:
        before = job_closure(project, RELEASE, name)
        tests = [
            key
            for key, job in before.items()
            if any("poetry run pytest" in step.get("run", "") for step in job.get("steps", []))
        ]
        assert tests, f"{name} publishes without waiting for the tests"
        platforms = {
            platform
            for job in before.values()
            for step in job.get("steps", [])
            if action_name(step.get("uses", "")) == "docker/build-push-action"
            for value in matrix_values(job, str(step["with"].get("platforms", "linux/amd64")))
            for platform in value.split(",")
        }
        assert {"linux/amd64", "linux/arm64"} <= platforms, (
            f"{name} publishes before an image was built for both platforms: {platforms}"
        )


@pytest.mark.parametrize("variant", VARIANTS)
def test_ci_called_by_the_release_has_a_concurrency_group_of_its_own(
    rendered: dict[str, Path], variant: str
) -> None:
    # In a called workflow github.workflow is the caller's name, and group names are compared
    # without case: ci.yml's group built from it would be release.yml's own, a deadlock.
    project = rendered[variant]
    callers = [job for job in workflow(project, RELEASE)["jobs"].values() if job.get("uses", "")]
    assert [job["uses"] for job in callers] == ["./.github/workflows/ci.yml"]
    assert "workflow_call" in triggers(project, CI)
    assert "tags" not in triggers(project, CI)["push"], "the release runs CI on its tag"
    group = workflow(project, CI)["concurrency"]["group"]
    assert "github.workflow" not in group
    release_group = workflow(project, RELEASE)["concurrency"]["group"]
    assert group.split("$")[0].lower() != release_group.split("$")[0].lower()


@pytest.mark.parametrize("variant", VARIANTS)
def test_release_build_shares_no_cache_with_other_jobs(
    rendered: dict[str, Path], variant: str
) -> None:
    jobs = workflow(rendered[variant], RELEASE)["jobs"]
    for job in jobs.values():
        for step in job.get("steps", []):
            if action_name(step.get("uses", "")) == "docker/build-push-action":
                options = step["with"]
                assert "cache-from" not in options and "cache-to" not in options, options
                assert options["no-cache"] is True
            if action_name(step.get("uses", "")) == "docker/setup-qemu-action":
                # setup-qemu-action restores its binfmt image from the Actions cache by default.
                assert step["with"]["cache-image"] is False
    assert "type=gha" not in (rendered[variant] / RELEASE).read_text()


@pytest.mark.parametrize("variant", VARIANTS)
def test_arm64_emulators_come_from_an_image_pinned_by_digest(
    rendered: dict[str, Path], variant: str
) -> None:
    # docker/setup-qemu-action runs its `image` privileged, by default tonistiigi/binfmt:latest.
    qemu = [
        step
        for path in (RELEASE, CI)
        for job in workflow(rendered[variant], path)["jobs"].values()
        for step in job.get("steps", [])
        if action_name(step.get("uses", "")) == "docker/setup-qemu-action"
    ]
    assert len(qemu) == 2, "arm64 is built under emulation in CI and the release: both set it up"
    for step in qemu:
        image = step["with"].get("image", "")
        assert re.fullmatch(
            r"docker\.io/tonistiigi/binfmt:qemu-v[\d.]+@sha256:[0-9a-f]{64}", image
        ), step
        assert step["with"]["platforms"] == "arm64"


def release_channel(project: Path, tmp_path: Path, tag: str, tags: list[str]) -> dict[str, str]:
    """The version job's `channel` step in a checkout holding `tags` (the pushed one included)."""
    step = next(
        s
        for s in workflow(project, RELEASE)["jobs"]["version"]["steps"]
        if s.get("id") == "channel"
    )
    repository = tmp_path / tag
    repository.mkdir()
    run(["git", "init", "--quiet"], cwd=repository)
    run(["git", "commit", "--quiet", "--allow-empty", "--message", "History"], cwd=repository)
    for name in tags:
        run(["git", "tag", name], cwd=repository)
    output = repository / "github_output"
    output.write_text("")
    assert step["env"] == {"VERSION": "${{ steps.check.outputs.version }}"}
    run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=repository,
        env=tool_env(VERSION=tag.removeprefix("v"), GITHUB_OUTPUT=str(output)),
    )
    return dict(line.split("=", 1) for line in output.read_text().splitlines())


# (pushed tag, tags in the repository before it) -> pre-release, latest
CHANNELS = [
    ("v0.1.0", [], "false", "true"),
    ("v1.2.1", ["v1.0.0", "v1.1.0", "v1.2.0"], "false", "true"),
    ("v1.1.5", ["v1.0.0", "v1.1.0", "v1.2.0"], "false", "false"),  # a backport
    ("v1.10.0", ["v1.9.0", "v1.2.0"], "false", "true"),  # versions, not text, compared
    ("v1.0.0.post1", ["v1.0.0"], "false", "true"),  # a post-release is final
    ("v1.3.0rc1", ["v1.2.0"], "true", "false"),
    ("v1.3.0.dev1", ["v1.2.0"], "true", "false"),
    ("v1.3.0", ["v1.2.0", "v1.3.0rc1"], "false", "true"),
    ("v2.0.0a1", ["v1.2.0"], "true", "false"),
    ("v2.0.0b2", ["v1.2.0"], "true", "false"),
]


@pytest.mark.parametrize("variant", VARIANTS)
def test_release_marks_pre_releases_and_moves_latest_only_forward(
    rendered: dict[str, Path], tmp_path: Path, variant: str
) -> None:
    project = rendered[variant]
    for tag, earlier, prerelease, latest in CHANNELS:
        got = release_channel(project, tmp_path, tag, [*earlier, tag])
        assert got == {"prerelease": prerelease, "latest": latest}, tag
    # Those decisions reach the image tags and the GitHub release.
    jobs = workflow(project, RELEASE)["jobs"]
    meta = next(s for s in jobs["image"]["steps"] if s.get("id") == "meta")
    assert meta["with"]["flavor"].strip() == "latest=${{ needs.version.outputs.latest }}"
    release_env = jobs["release"]["steps"][-1]["env"]
    assert release_env["LATEST"] == "${{ needs.version.outputs.latest }}"
    assert release_env["PRERELEASE"] == "${{ needs.version.outputs.prerelease }}"


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(
    ("latest", "prerelease", "attested"),
    [("true", "false", "true"), ("false", "false", "false"), ("false", "true", "true")],
    ids=["latest-attested", "backport-private", "prerelease"],
)
def test_release_step_follows_the_channel_and_the_attestation(
    rendered: dict[str, Path],
    tmp_path: Path,
    variant: str,
    latest: str,
    prerelease: str,
    attested: str,
) -> None:
    step = workflow(rendered[variant], RELEASE)["jobs"]["release"]["steps"][-1]
    args_file = fake_gh(tmp_path / "bin")
    values = {
        "github.token": "dry-run-token",
        "needs.version.outputs.version": "1.1.5",
        "needs.image.outputs.name": "ghcr.io/example/project",
        "needs.image.outputs.digest": "sha256:" + "0" * 64,
        "needs.image.outputs.attested": attested,
        "needs.version.outputs.prerelease": prerelease,
        "needs.version.outputs.latest": latest,
    }
    env = {
        name: re.sub(r"\$\{\{\s*(.+?)\s*\}\}", lambda m: values[m.group(1)], str(value))
        for name, value in step["env"].items()
    }
    path = f"{tmp_path / 'bin'}:{tool_env()['PATH']}"
    run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=tmp_path,
        env=tool_env(
            PATH=path,
            GH_ARGS_FILE=str(args_file),
            GITHUB_REF_NAME="v1.1.5",
            GITHUB_REPOSITORY="example/project",
            **env,
        ),
    )
    args = args_file.read_text().split("\0")[:-1]
    assert f"--latest={latest}" in args
    assert ("--prerelease" in args) is (prerelease == "true")
    notes = args[args.index("--notes") + 1]
    assert ("gh attestation verify" in notes) is (attested == "true"), notes


# --- The audit workflow -------------------------------------------------------------------------


def test_audit_runs_on_every_push_and_weekly(rendered: dict[str, Path]) -> None:
    data = workflow(rendered[DEFAULT], AUDIT)
    on = triggers(rendered[DEFAULT], AUDIT)
    assert set(on) == {"push", "schedule", "workflow_dispatch"}
    assert on["push"] is None, "every branch and tag"
    assert len(on["schedule"]) == 1
    assert "env" not in data, "the audit job's tools are pinned in .github/tools/audit.txt"


def steps_after_export(project: Path) -> tuple[str, list[dict[str, Any]]]:
    """The audit job's export command, and the `run:` steps after it (pip-audit's among them)."""
    steps = workflow(project, AUDIT)["jobs"]["dependencies"]["steps"]
    (index,) = [i for i, s in enumerate(steps) if s.get("run", "").startswith("poetry export")]
    return steps[index]["run"], [step for step in steps[index + 1 :] if "run" in step]


@pytest.fixture(scope="session")
def pip_audit(shared_cache: SharedCache) -> Path:
    """The audit workflow's pip-audit (copier.yml's pin), in a venv of its own: its bin folder."""

    def install(path: Path) -> None:
        run(["python3", "-m", "venv", path])
        run(
            [
                path / "bin" / "pip",
                "install",
                "--quiet",
                f"pip-audit=={default('pip_audit_version')}",
            ]
        )

    return shared_cache.get("pip-audit", default("pip_audit_version"), install) / "bin"


@pytest.mark.parametrize("variant", [*VARIANTS, "app-src+extras"])
def test_audit_exports_what_the_image_installs(
    rendered: dict[str, Path], rendered_project: ProjectFactory, variant: str
) -> None:
    project = rendered.get(variant) or rendered_project(**answer_set(variant))
    export, _ = steps_after_export(project)
    assert export.startswith("poetry export --only main ")
    # The Dockerfile's install (poetry install or poetry export) names the extras it installs;
    # under hash_policy export, the script that writes the image's export does.
    script = project / "build-tools" / "export_lock.py"
    if script.is_file():
        (listed,) = re.findall(r"^EXTRAS: list\[str\] = (.*)$", script.read_text(), re.MULTILINE)
        image_extras = json.loads(listed)
    else:
        image_extras = re.findall(r"--extras (\S+)", (project / "Dockerfile").read_text())
    assert set(re.findall(r"--extras (\S+)", export)) == set(image_extras)
    assert set(image_extras) == set(read_answers(project).get("extras", []))


@pytest.mark.parametrize("variant", VARIANTS)
def test_audit_fails_on_an_export_this_python_cannot_use(
    rendered: dict[str, Path], pip_audit: Path, tmp_path: Path, variant: str
) -> None:
    _, steps = steps_after_export(rendered[variant])
    hashes = "    --hash=sha256:" + "0" * 64
    six, attrs = "six==1.16.0 ; python_version < '3.0'", "attrs==23.1.0"
    exports = {
        # Every marker excludes this Python: pip-audit skips both and finds nothing, exit 0.
        "excluded": (
            f"{six} \\\n{hashes}\n{attrs} ; python_version >= '4.0' \\\n{hashes}\n",
            False,
        ),
        "applies": (f"{six} \\\n{hashes}\n{attrs} ; python_version >= '3' \\\n{hashes}\n", True),
        "unmarked": (f"{attrs} \\\n{hashes}\n", True),
        "no-dependencies": ("", True),
    }
    for name, (text, passes) in exports.items():
        temp = tmp_path / name
        temp.mkdir()
        (temp / "requirements.txt").write_text(text)
        # pip-audit itself only where it needs no network (it would ask PyPI about the packages).
        replayed = [s for s in steps if passes is False or not s["run"].startswith("pip-audit")]
        returncode, output = 0, ""
        for step in replayed:
            result = run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                cwd=temp,
                env=tool_env(RUNNER_TEMP=str(temp), PATH=f"{pip_audit}:{tool_env()['PATH']}"),
                check=False,
            )
            returncode, output = result.returncode, output + result.stdout + result.stderr
            if returncode != 0:
                break
        assert (returncode == 0) is passes, (name, output)
        if not passes:
            assert "::error::None of the 2 exported requirements applies to Python" in output


@pytest.mark.slow
@pytest.mark.parametrize(
    ("dependencies", "passes"), [([], True), (["requests>=2"], False)], ids=["none", "requests"]
)
def test_audit_job_runs_here(
    locked_project: Any,
    shared_cache: SharedCache,
    tmp_path: Path,
    dependencies: list[str],
    passes: bool,
) -> None:
    source = locked_project(dependencies=dependencies) if dependencies else locked_project()
    project = checkout(source, tmp_path / "project")
    runner = Runner(tmp_path, project, host_env(shared_cache.root / "pre-commit-home"))
    job = workflow(project, AUDIT)["jobs"]["dependencies"]
    *setup, audit = job["steps"]
    replay = {**workflow(project, AUDIT), "jobs": {"setup": {**job, "steps": setup}}}
    (tmp_path / "setup.yml").write_text(yaml.safe_dump(replay))
    replay_job(project, "setup", runner, path=tmp_path / "setup.yml")
    exported = (runner.temp / "requirements.txt").read_text()
    lock = tomllib.loads((project / "poetry.lock").read_text())
    main = {p["name"] for p in lock["package"] if "main" in p.get("groups", ["main"])}
    assert set(re.findall(r"^([\w.-]+)==", exported, re.M)) == main
    env = runner.env(workflow(project, AUDIT).get("env", {}))
    if passes:
        output = runner.run_step(audit, env)
        assert "No known vulnerabilities found" in output
    else:
        # PyPI's JSON API answers 404 on this machine, so the first package pip-audit asks about
        # is "not found" and --strict fails the job, as it would on GitHub for any package that
        # cannot be audited: the exported, hashed pins were read and sent to the service.
        with pytest.raises(AssertionError) as failure:
            runner.run_step(audit, env)
        not_audited = re.findall(
            r"([\w.-]+): Dependency not found on PyPI and could not be audited", str(failure.value)
        )
        assert not_audited and set(not_audited) <= main, str(failure.value)


# --- arm64, built and run under emulation ------------------------------------------------------

ARM64_BASE = "arm64v8/python:3.13-slim-trixie"


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.arm64
def test_arm64_image_runs_under_emulation(
    docker_engine: str, locked_project: Any, pre_commit_home: Path, tmp_path: Path
) -> None:
    """ci.yml's docker job, its arm64 leg: replayed here under emulation, as on a runner."""
    present = run([docker_engine, "image", "inspect", ARM64_BASE], check=False).returncode == 0
    if not present:
        missing_for_docker_tier(
            f"no {ARM64_BASE} stand-in: run ../shared/tools/docker-sandbox {ARM64_BASE}"
        )
    source = locked_project(project_name="Arm Probe")
    project = checkout(source, tmp_path / "project")
    runner = Runner(tmp_path, project, host_env(pre_commit_home))
    runner.contexts["matrix.arch"] = "arm64"
    client = tmp_path / "docker-client"
    client.mkdir()
    (client / "docker").symlink_to(docker_engine)
    runner.paths.append(str(client))
    tag = read_answers(project)["project_slug"] + ":ci"

    def build_arm64(runner: Runner, step: Mapping[str, Any], env: dict[str, str]) -> None:
        # The stand-in base images are one platform each (Docker Hub's are multi-platform):
        # name the arm64 one, as MACHINE_ADAPTATIONS names uv's stand-in.
        options = dict(step["with"])
        options["build-args"] = f"{options['build-args'].rstrip()}\nPYTHON_IMAGE={ARM64_BASE}"
        build_push_action(runner, {**step, "with": options}, env)

    try:
        done = replay_job(
            project,
            "docker",
            runner,
            uses={
                "hadolint/hadolint-action": hadolint_action,
                "docker/build-push-action": build_arm64,
            },
        )
        assert "uses docker/setup-qemu-action" in done, "the arm64 leg sets up the emulator"
        architecture = run(
            [DOCKER, "image", "inspect", "--format", "{{.Architecture}}", tag]
        ).stdout.strip()
        assert architecture == "arm64"
        job = workflow(project)["jobs"]["docker"]
        smoke = runner.run_step(job["steps"][-1], runner.env(job["env"]))
        assert "arm-probe 0.1.0\n" in smoke
        options = ["--platform", "linux/arm64"]
        machine = run([DOCKER, "run", "--rm", *options, "--entrypoint", "uname", tag, "-m"]).stdout
        assert machine == "aarch64\n"
    finally:
        run([DOCKER, "image", "rm", "--force", tag], check=False)
