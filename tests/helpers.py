"""Test helpers: one command runner, rendering, Docker builds, a build-once cache.

Plain functions and classes, imported by test modules, fixtures and benchmarks (as copier's own
tests/helpers.py is); the pytest fixtures that use them live in conftest.py.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, Protocol

import yaml
from copier import run_copy
from filelock import FileLock

TEMPLATE = Path(__file__).resolve().parents[1]
# The one answer without a default; every rendered test project is called this.
PROJECT_NAME = "My Tool"
# Copier, pytest-copie and the update tests commit in temporary repositories: the identity they
# commit with, on machines with or without one of their own.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "copier-poetry-docker tests",
    "GIT_AUTHOR_EMAIL": "tests@copier-poetry-docker.invalid",
    "GIT_COMMITTER_NAME": "copier-poetry-docker tests",
    "GIT_COMMITTER_EMAIL": "tests@copier-poetry-docker.invalid",
}
for _variable, _value in GIT_IDENTITY.items():
    os.environ.setdefault(_variable, _value)
DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")
BUILD_LOCK = Path(tempfile.gettempdir()) / "copier-poetry-docker-build.lock"


def tool_env(**overrides: str) -> dict[str, str]:
    """The environment for Poetry and generated projects: not inside the template's own venv."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["POETRY_VIRTUALENVS_IN_PROJECT"] = "true"
    env.setdefault("DOCKER_BUILDKIT", "1")
    # `git status` in a shared project must not take .git/index.lock while another worker copies it.
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env.update(overrides)
    return env


def run(
    command: Sequence[str | Path],
    cwd: Path | None = None,
    *,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capture its output, and fail with that output when `check` and it fails."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=dict(env) if env is not None else tool_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"command failed ({result.returncode}): {' '.join(map(str, command))}\n"
            f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
        )
    return result


def env(**overrides: str) -> dict[str, str]:
    """Tool environment plus the tests' git identity, whatever the machine's: Copier commits."""
    return tool_env(**GIT_IDENTITY, **overrides)


def git(repo: Path, *args: str) -> str:
    return run(["git", *args], cwd=repo, env=env()).stdout


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", message)


def copier(
    *args: str, cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Copier as a user runs it: the CLI, stdin closed (no TTY), the tests' git identity."""
    return run([sys.executable, "-m", "copier", *args], cwd=cwd, env=env(), input="", check=check)


def tree(project: Path) -> dict[str, bytes]:
    """Every file of the work tree (untracked ones included), with its bytes."""
    listed = git(project, "ls-files", "--cached", "--others", "-z").split("\0")
    return {name: (project / name).read_bytes() for name in filter(None, listed)}


def template_files() -> list[str]:
    """The template's files as a commit of this working tree would hold them (untracked too)."""
    listed = run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=TEMPLATE).stdout
    return [name for name in listed.split("\0") if name and (TEMPLATE / name).is_file()]


@functools.cache
def template_snapshot() -> Path:
    """A plain copy of the working tree's template files, made once per test process.

    Copier renders a git source by cloning it (and committing a dirty tree) on every copy, about
    0.4 s; from a plain directory it renders the same files. Only `.copier-answers.yml` differs
    (no `_commit`), so tests of the answers file or of updates use the git checkout itself.
    """
    root = Path(tempfile.mkdtemp(prefix="cpd-template-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    for name in template_files():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(TEMPLATE / name, root / name)
    return root


def render(
    dest: Path, answers: Mapping[str, Any], *, lock: bool = False, template: Path | None = None
) -> Path:
    """Render the template's working tree (or `template`) into `dest` with default answers plus
    `answers`.

    `lock=True` runs the copy-time task (`poetry lock`), as a user's `copier copy` does.
    """
    data = {"project_name": PROJECT_NAME, **answers}
    run_copy(
        str(template or template_snapshot()),
        str(dest),
        data=data,
        defaults=True,
        unsafe=True,
        skip_tasks=not lock,
        quiet=True,
    )
    if lock:
        assert (dest / "poetry.lock").is_file(), "the copy task did not write poetry.lock"
    return dest


def _key(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


# The repository of this checkout's test images: keyed by the checkout, so that test runs in two
# checkouts (git worktrees) on one engine never use, or remove, each other's images.
IMAGE_REPOSITORY = f"cpd-test-{_key(str(TEMPLATE))[:6]}"


def image_tag(answers: Mapping[str, Any]) -> str:
    """A test image's tag: keyed by the answers and by this checkout."""
    return f"{IMAGE_REPOSITORY}:{_key(dict(answers))}"


def remove_images(repository: str) -> list[str]:
    """Remove every tag of `repository`, then the dangling images left behind; BuildKit's cache
    stays, so the next build of the same steps is still cached. Returns the removed tags."""
    listed = run([DOCKER, "images", "--format", "{{.Repository}}:{{.Tag}}", repository])
    tags = listed.stdout.split()
    if tags:
        run([DOCKER, "rmi", "--force", *tags], check=False)
    run([DOCKER, "image", "prune", "--force"], check=False)
    return tags


class SharedCache:
    """Build-once storage shared by the xdist workers of one test run."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def get(self, kind: str, payload: Any, make: Callable[[Path], object]) -> Path:
        """The directory for `payload`, created by `make(path)` the first time it is asked for."""
        path = self.root / f"{kind}-{_key(payload)}"
        with FileLock(str(path) + ".lock"):
            done = path.with_suffix(".done")
            if not done.exists():
                shutil.rmtree(path, ignore_errors=True)
                make(path)
                done.write_text(json.dumps(payload, sort_keys=True, default=str))
        return path


def copy_project(source: Path, dest: Path) -> Path:
    """A private, modifiable copy of a shared project (without its venv, or a git lock file that a
    command in another worker may hold and drop while the copy runs)."""
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(".venv", "index.lock"))
    return dest


def read_answers(project: Path) -> dict[str, Any]:
    answers: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


def pypi_simple_url() -> str:
    """The simple index every download goes through: the one `./dev` resolved for Poetry.

    `./dev` computes pip's default index (so no host is written in the repo) or keeps the
    POETRY_PYPI_MIRROR_URL a user set; tests and benchmarks run under it and read it here.
    """
    url = os.environ.get("POETRY_PYPI_MIRROR_URL")
    assert url, "POETRY_PYPI_MIRROR_URL is not set: run through ./dev (or eval $(./dev shell))"
    return url


def template_default(question: str) -> str:
    """A question's default in copier.yml, as written there."""
    questions: dict[str, Any] = yaml.safe_load((TEMPLATE / "copier.yml").read_text())
    return str(questions[question]["default"])


# This machine's HTTPS proxy refuses some connections when uv opens its default 50 at once, and uv
# waits 5-12 s before each retry: Poetry's ~50 files took 1.5 s, or 6.5-13.5 s in 3 builds of 8.
# At 16, no stall in 8 builds (1.7 s). Passed to every build as the Dockerfile's own argument.
UV_CONCURRENT_DOWNLOADS = 16
# Wheel platform tag -> Docker platform of the uv stand-ins.
UV_WHEEL_PLATFORMS = {"amd64": "manylinux_2_17_x86_64", "arm64": "manylinux_2_17_aarch64"}


def uv_image(architecture: str = "amd64") -> str:
    """The local stand-in for the Dockerfile's UV_IMAGE (ghcr.io/astral-sh/uv), built once.

    No container registry is reachable here. Like the official image, the stand-in is FROM scratch
    with `/uv` and `/uvx`, taken from the same uv release's wheel on PyPI (through the simple index
    every download here uses); building it runs nothing, so the arm64 one needs no emulation.
    """
    version = template_default("uv_version")
    tag = f"cpd-uv-stand-in:{version}-{architecture}"
    with FileLock(str(BUILD_LOCK)):
        if run([DOCKER, "image", "inspect", tag], check=False).returncode == 0:
            return tag
        with tempfile.TemporaryDirectory() as tmp:
            context = Path(tmp)
            run(
                [
                    "python", "-m", "pip", "download", "--quiet", "--no-deps",
                    "--only-binary=:all:", "--platform", UV_WHEEL_PLATFORMS[architecture],
                    "--python-version", "3.13", "--index-url", pypi_simple_url(),
                    "--dest", context, f"uv=={version}",
                ]
            )  # fmt: skip
            [wheel] = context.glob("uv-*.whl")
            with zipfile.ZipFile(wheel) as archive:
                for name in archive.namelist():
                    if name.endswith(("/scripts/uv", "/scripts/uvx")):
                        binary = context / name.rsplit("/", 1)[1]
                        binary.write_bytes(archive.read(name))
                        binary.chmod(0o755)
            (context / "Dockerfile").write_text("FROM scratch\nCOPY uv uvx /\n")
            (context / ".dockerignore").write_text("*\n!uv\n!uvx\n")
            platform = f"linux/{architecture}"
            run(
                [DOCKER, "build", "--quiet", "--platform", platform, "-t", tag, context],
                env=tool_env(DOCKER_BUILDKIT="1"),
            )
    return tag


def missing_for_docker_tier(reason: str) -> NoReturn:
    """A docker-tier test lacks what it needs: fail under REQUIRE_DOCKER=1 (CI), else skip.

    A skipped docker test proves nothing, so CI must not pass by skipping one.
    """
    import pytest

    if os.environ.get("REQUIRE_DOCKER") == "1":
        pytest.fail(f"REQUIRE_DOCKER=1 but {reason}")
    pytest.skip(reason)


def docker_build(
    context: Path, tag: str, *args: str, check: bool = True, target: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`docker build` with BuildKit, plain progress (parsed by tests) and two machine arguments.

    Poetry cannot use PyPI's JSON API on these machines, so every build resolves through the
    simple index by the Dockerfile's own PYPI_MIRROR_URL argument, exactly as a user behind a
    mirror would build. No registry is reachable either: UV_IMAGE names the local stand-in for
    uv's image, as a user's registry mirror would serve it.
    """
    command = [DOCKER, "build", "--progress=plain", "-t", tag]
    if not any(arg.startswith("PYPI_MIRROR_URL=") for arg in args):
        command += ["--build-arg", f"PYPI_MIRROR_URL={pypi_simple_url()}"]
    if not any(arg.startswith("UV_IMAGE=") for arg in args):
        architecture = "arm64" if "linux/arm64" in args else "amd64"
        command += ["--build-arg", f"UV_IMAGE={uv_image(architecture)}"]
    command += ["--build-arg", f"UV_CONCURRENT_DOWNLOADS={UV_CONCURRENT_DOWNLOADS}"]
    if target:
        command += ["--target", target]
    # Engine 20.10's BuildKit panics ("failed to get edge") when parallel builds share steps.
    with FileLock(str(BUILD_LOCK)):
        return run([*command, *args, context], check=check, env=tool_env(DOCKER_BUILDKIT="1"))


def docker_run(image: str, *args: str, check: bool = True, options: Sequence[str] = ()) -> str:
    """Run a container to completion and return its stdout."""
    result = run([DOCKER, "run", "--rm", *options, image, *args], check=check)
    return result.stdout


def cached_steps(log: str) -> dict[str, bool]:
    """BuildKit plain progress -> {step description: was it cached}."""
    names: dict[str, str] = {}
    cached: set[str] = set()
    for line in log.splitlines():
        if match := re.match(r"#(\d+) \[(?:builder|runtime)[^\]]*\] (.*)", line):
            names[match.group(1)] = match.group(2)
        elif match := re.match(r"#(\d+) CACHED", line):
            cached.add(match.group(1))
    # FROM is resolved again on every build, and BuildKit marks it CACHED only sometimes.
    return {
        description: step in cached
        for step, description in names.items()
        if not description.startswith("FROM ")
    }


def dependency_step(steps: dict[str, bool]) -> bool:
    installs = ("poetry install", "poetry export", "-r build-tools/lock-export.txt")
    matches = [cached for d, cached in steps.items() if any(i in d for i in installs)]
    assert len(matches) == 1, steps
    return matches[0]


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    project: Path
    log: str


class ProjectFactory(Protocol):
    """A fixture that makes (or finds in the run's cache) the project of some answers."""

    def __call__(self, **answers: Any) -> Path: ...


class ImageFactory(Protocol):
    """A fixture that builds (or finds in the run's cache) the image of some answers."""

    def __call__(self, **answers: Any) -> BuiltImage: ...


class EditedImageFactory(Protocol):
    """A fixture that builds (or finds in the run's cache) the image of some answers after
    `edit(project)` changed the rendered project (then `poetry lock`)."""

    def __call__(self, edit: Callable[[Path], object], **answers: Any) -> BuiltImage: ...


ProjectCopier = Callable[[Path], Path]


# Prompts as a terminal shows them: "🎤 <help>" (colour codes between), then the default or choices.
_ANSI = r"(?:\x1b\[[0-9;?]*[A-Za-z])*"
_PROMPT = "🎤" + _ANSI + r" ([^\x1b\r\n]+)"
# prompt_toolkit ends every drawing of a prompt by turning line wrapping back on.
_DRAWN = "\x1b[?7h"
# Keys a terminal sends: a choice list moves with the arrow keys.
DOWN = "\x1b[B"


class Questionnaire:
    """Copier's questionnaire in a pseudo-terminal, answered prompt by prompt as a person does.

    `answers` maps the start of a prompt's help text to the keys typed there (then Enter); any
    other prompt gets Enter alone, its default; keys before a "\\r" are an answer the validator must
    refuse first. `prompts` lists the help texts in order; `output` is the whole transcript.
    """

    def __init__(self, *args: str | Path, cwd: Path, answers: Mapping[str, str] = {}) -> None:
        import pexpect  # only the questionnaire tests need a pseudo-terminal

        self.prompts: list[str] = []
        child = pexpect.spawn(
            sys.executable,
            ["-m", "copier", *map(str, args)],
            cwd=str(cwd),
            # No cursor-position request: a real terminal answers it, a pseudo-terminal does not,
            # and prompt_toolkit would wait for the answer while keys arrive.
            env={**env(), "TERM": "xterm-256color", "COLUMNS": "100", "PROMPT_TOOLKIT_NO_CPR": "1"},
            dimensions=(50, 100),
            encoding="utf-8",
            timeout=300,
        )
        transcript = io.StringIO()
        child.logfile_read = transcript
        while child.expect([_PROMPT, pexpect.EOF]) == 0:
            help_text = child.match.group(1).strip()
            if self.prompts and help_text == self.prompts[-1]:
                # The answered question drawn again (prompt_toolkit may draw a question more than
                # once): keys sent now could reach no prompt at all, so wait for the next one.
                continue
            self.prompts.append(help_text)
            keys = next((k for start, k in answers.items() if help_text.startswith(start)), "")
            # The prompt drawn to its end: it now reads the keys.
            child.expect(re.escape(_DRAWN))
            *refused, keys = keys.split("\r")
            for attempt in refused:  # each submitted, and refused by the validator
                child.send(attempt + "\r")
                child.expect("Validation error")
                child.expect(re.escape(_DRAWN))
            child.send(keys + "\r")
        child.close()
        self.output = transcript.getvalue()
        self.returncode = child.exitstatus
        assert self.returncode == 0, f"copier exited {self.returncode}:\n{self.output[-6000:]}"


# --- A template history for update tests: three tagged versions of this working tree ----------

# The line 0.2.0 changes, which the conflict test also changes on the user's side.
UNBUFFERED = "ENV PYTHONUNBUFFERED=1"
TEMPLATE_FIX = "ENV PYTHONUNBUFFERED=1 PYTHONFAULTHANDLER=1"


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path.name}: expected one {old!r} to edit"
    path.write_text(text.replace(old, new))


# How a template renames a question without losing the answer: migrations/answers_file.py before
# the update. This history's 0.1.0 renames `hash_mode` (its 0.0.1) to `hash_policy`.
RENAME_MIGRATION = """\
  - version: "0.1.0"
    command:
      - "{{ _copier_python }}"
      - "{{ _copier_conf.src_path }}/migrations/answers_file.py"
      - rename
      - "{{ _copier_conf.answers_file }}"
      - hash_mode
      - hash_policy
    when: "{{ _stage == 'before' }}"
"""


# --- The template's history -----------------------------------------------------------------------


def build_history(repo: Path) -> None:
    # Tracked and untracked-but-not-ignored files: the template as this working tree has it.
    listed = template_files()

    def snapshot() -> None:
        for relative in listed:
            (repo / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(TEMPLATE / relative, repo / relative)

    snapshot()
    git(repo, "init", "--quiet", "--initial-branch=main")
    for path in [
        repo / "copier.yml",
        *(repo / "template").rglob("*"),
        *(repo / "includes").rglob("*"),
    ]:
        if path.is_file() and "hash_policy" in path.read_text():
            path.write_text(path.read_text().replace("hash_policy", "hash_mode"))
    # File names hold the question's name too (files rendered for one policy only).
    renamed = [
        path.rename(path.with_name(path.name.replace("hash_policy", "hash_mode")))
        for path in sorted((repo / "template").rglob("*hash_policy*"), reverse=True)
    ]
    commit(repo, "0.0.1: the hash question is still called hash_mode")
    git(repo, "tag", "0.0.1")

    for path in renamed:
        path.unlink()
    snapshot()
    # The rename's migration, as a template that renames a question ships it (migrations/).
    replace_once(repo / "copier.yml", "\n_migrations:\n", "\n_migrations:\n" + RENAME_MIGRATION)
    commit(repo, "0.1.0: the template as in the working tree, with the rename's migration")
    git(repo, "tag", "0.1.0")

    replace_once(repo / "template" / "Dockerfile.jinja", f"\n{UNBUFFERED}\n", f"\n{TEMPLATE_FIX}\n")
    replace_once(
        repo / "template" / "pyproject.toml.jinja",
        "[tool.mypy]\n",
        "[tool.mypy]\nwarn_unreachable = true\n",
    )
    commit(repo, "0.2.0: a template fix in the Dockerfile and the mypy configuration")
    git(repo, "tag", "0.2.0")


def generate(history: Path, dest: Path, ref: str, *data: str, lock: bool = False) -> Path:
    """`copier copy` at `ref` (with the copy-time `poetry lock` if `lock`), `git init`, commit."""
    options = [arg for answer in ("project_name=Round Trip", *data) for arg in ("--data", answer)]
    skip = [] if lock else ["--skip-tasks"]
    copier(
        "copy", "--trust", "--defaults", "--vcs-ref", ref, *skip, *options, str(history), str(dest)
    )
    git(dest, "init", "--quiet", "--initial-branch=main")
    commit(dest, f"Generated from template {ref}")
    return dest
