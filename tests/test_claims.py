"""The folklore docs/dockerfile.md settles, each claim checked against the pinned tools.

Poetry is the template's locked Poetry (next to the interpreter running the tests), pip is that
interpreter's pip, both started in an environment built here: the shell presets variables such as
PYTHONDONTWRITEBYTECODE and PIP_DISABLE_PIP_VERSION_CHECK, and the host has a pip configuration.
Everything is offline: packages are wheels written here, indexes are served on 127.0.0.1.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import http.server
import os
import pty
import signal
import subprocess
import sys
import threading
import time
import tomllib
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from answer_sets import DEFAULT_BASE_IMAGE
from helpers import run

POETRY = Path(sys.executable).with_name("poetry")
# Prints one line, then dies the way an OOM kill or `docker kill` ends a process: no flush at exit.
PRINT_THEN_SIGKILL = (
    "import os, signal; print('printed before the kill'); os.kill(os.getpid(), signal.SIGKILL)"
)
PRINTED = "printed before the kill"
# The same in a container, where the kill comes from outside once the marker file exists.
PRINT_THEN_WAIT = (
    "import pathlib, time; print('printed before the kill'); "
    "pathlib.Path('{marker}').touch(); time.sleep(600)"
)
CONTAINER_MARKER = "/tmp/printed"


def isolated_env(**overrides: str) -> dict[str, str]:
    """The caller's environment without Python/pip/Poetry settings or pip's host configuration."""
    prefixes = ("PIP_", "PYTHON", "POETRY_")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(prefixes) and key != "VIRTUAL_ENV"
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env.update(overrides)
    return env


def make_wheel(dest: Path, name: str, version: str = "0.1") -> Path:
    """A minimal pure-Python wheel with one module: no build backend, no network."""
    files = {
        f"{name}/__init__.py": "VALUE = 1\n",
        f"{name}-{version}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        ),
        f"{name}-{version}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test_claims\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = f"{name}-{version}.dist-info/RECORD"
    lines = []
    for path, text in files.items():
        digest = hashlib.sha256(text.encode()).digest()
        encoded = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        lines.append(f"{path},sha256={encoded},{len(text.encode())}")
    lines.append(f"{record},,")
    dest.mkdir(parents=True, exist_ok=True)
    wheel = dest / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
        archive.writestr(record, "\n".join(lines) + "\n")
    return wheel


def compiled_files(venv: Path, package: str) -> list[Path]:
    return sorted(venv.glob(f"lib/python*/site-packages/{package}/__pycache__/*.pyc"))


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@dataclass
class LocalIndex:
    """A PEP 503 index on 127.0.0.1 (directory listings) that records the paths it was asked for."""

    url: str
    requested: list[str] = field(default_factory=list)


@pytest.fixture
def local_index(tmp_path: Path) -> Iterator[LocalIndex]:
    root = tmp_path / "index"
    make_wheel(root / "simple" / "tinydep", "tinydep")
    # A newer pip than any real one, so a version check that runs has something to report.
    make_wheel(root / "simple" / "pip", "pip", "999.0")
    requested: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def end_headers(self) -> None:
            # Cacheable like a real index's files, so pip's HTTP cache has something to keep.
            self.send_header("Cache-Control", "max-age=600")
            super().end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            requested.append(self.path)

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LocalIndex(f"http://127.0.0.1:{server.server_address[1]}/simple/", requested)
    finally:
        server.shutdown()
        server.server_close()


def pip_download(
    index: LocalIndex, dest: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`pip download tinydep` from the local index (plain HTTP, so it must be a trusted host)."""
    return run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--dest",
            dest,
            "--index-url",
            index.url,
            "--trusted-host",
            "127.0.0.1",
            "tinydep",
        ],
        env=env,
        check=False,
        timeout=120,
    )


# --- POETRY_NO_INTERACTION --------------------------------------------------------------------

# Answers to `poetry init`: name, version, description, author ("n" skips), license, Python,
# no interactive main/dev dependencies, confirm.
INIT_ANSWERS = "answered-name\n\n\nn\n\n\nno\nno\nyes\n"


@pytest.mark.slow
def test_poetry_no_interaction_variable_is_ignored(tmp_path: Path) -> None:
    project = tmp_path / "folklore"
    project.mkdir()
    result = run(
        [POETRY, "init"],
        cwd=project,
        env=isolated_env(POETRY_NO_INTERACTION="1"),
        input=INIT_ANSWERS,
        timeout=120,
    )
    assert "Package name [folklore]:" in result.stderr, "poetry init did not prompt"
    # The typed answer, not the directory name: Poetry read the questions' answers from stdin.
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "answered-name"


@pytest.mark.slow
def test_poetry_no_interaction_flag_does_not_prompt(tmp_path: Path) -> None:
    project = tmp_path / "folklore"
    project.mkdir()
    result = run(
        [POETRY, "--no-interaction", "init"],
        cwd=project,
        env=isolated_env(),
        input=INIT_ANSWERS,
        timeout=120,
    )
    assert "Package name" not in result.stderr + result.stdout
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "folklore"


# --- PYTHONDONTWRITEBYTECODE and compiling at install time ---------------------------------------


@pytest.mark.parametrize(
    ("pip_flags", "compiled"),
    [([], True), (["--no-compile"], False)],
    ids=["default", "no-compile"],
)
def test_pip_compiles_at_install_despite_pythondontwritebytecode(
    tmp_path: Path, pip_flags: list[str], compiled: bool
) -> None:
    wheel = make_wheel(tmp_path / "dist", "tinydep")
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], env=isolated_env())
    # The Dockerfile's form: the builder's pip installs into a venv that has no pip.
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            venv / "bin" / "python",
            "install",
            "--no-index",
            "--no-deps",
            *pip_flags,
            wheel,
        ],
        env=isolated_env(PYTHONDONTWRITEBYTECODE="1"),
    )
    assert bool(compiled_files(venv, "tinydep")) is compiled


@pytest.mark.slow
@pytest.mark.parametrize(
    ("poetry_flags", "env_overrides", "compiled"),
    [
        # Not compiled, and not because of the variable: it is unset.
        ([], {}, False),
        # Compiled when asked, the variable notwithstanding.
        (["--compile"], {"PYTHONDONTWRITEBYTECODE": "1"}, True),
    ],
    ids=["default", "compile"],
)
def test_poetry_compiles_only_when_asked(
    tmp_path: Path, poetry_flags: list[str], env_overrides: dict[str, str], compiled: bool
) -> None:
    wheel = make_wheel(tmp_path / "dist", "tinydep")
    project = tmp_path / "consumer"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        "[project]\n"
        'name = "consumer"\n'
        'version = "0.1.0"\n'
        'requires-python = ">=3.10"\n'
        f'dependencies = ["tinydep @ {wheel.as_uri()}"]\n'
        "\n[tool.poetry]\npackage-mode = false\n"
    )
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], env=isolated_env())
    # As in the builder stage: Poetry installs into the active venv named by VIRTUAL_ENV.
    env = isolated_env(
        VIRTUAL_ENV=str(venv), POETRY_CACHE_DIR=str(tmp_path / "poetry-cache"), **env_overrides
    )
    run([POETRY, "lock", "--no-interaction"], cwd=project, env=env, timeout=120)
    run(
        [POETRY, "install", "--only", "main", "--no-root", "--no-interaction", *poetry_flags],
        cwd=project,
        env=env,
        timeout=120,
    )
    installed = [*venv.glob("lib/python*/site-packages/tinydep/__init__.py")]
    assert installed, "Poetry did not install into the active venv"
    assert bool(compiled_files(venv, "tinydep")) is compiled


# --- PYTHONUNBUFFERED ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "env_overrides", "arrives"),
    [
        ([], {}, False),
        ([], {"PYTHONUNBUFFERED": "1"}, True),
        # What "the text layer is unbuffered since 3.7" in the docs of -u describes: the flag.
        (["-u"], {}, True),
    ],
    ids=["default", "PYTHONUNBUFFERED=1", "-u"],
)
def test_stdout_to_a_pipe_is_block_buffered(
    flags: list[str], env_overrides: dict[str, str], arrives: bool
) -> None:
    result = subprocess.run(
        [sys.executable, *flags, "-c", PRINT_THEN_SIGKILL],
        env=isolated_env(**env_overrides),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == -signal.SIGKILL
    assert (PRINTED in result.stdout) is arrives


def test_stdout_to_a_terminal_is_line_buffered() -> None:
    # Why the loss goes unnoticed: `docker run -t` and a developer's shell give Python a TTY.
    controller, terminal = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-c", PRINT_THEN_SIGKILL],
            env=isolated_env(),
            stdout=terminal,
            stderr=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
        os.close(terminal)
        output = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the terminal has no writer left
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(controller)
    assert process.returncode == -signal.SIGKILL
    assert PRINTED in output.decode()


@contextlib.contextmanager
def started_container(docker: str, run_flags: list[str]) -> Iterator[str]:
    """A container of the base image running PRINT_THEN_WAIT, yielded once it has printed."""
    name = f"claims-{uuid.uuid4().hex[:12]}"
    app = PRINT_THEN_WAIT.format(marker=CONTAINER_MARKER)
    try:
        command = [docker, "run", "--detach", "--name", name, *run_flags, DEFAULT_BASE_IMAGE]
        run([*command, "python3", "-c", app])
        deadline = time.monotonic() + 60
        probe = [docker, "exec", name, "test", "-f", CONTAINER_MARKER]
        while run(probe, check=False, timeout=60).returncode != 0:
            assert time.monotonic() < deadline, "the container never got past its print()"
            time.sleep(0.2)
        yield name
    finally:
        run([docker, "rm", "--force", name], check=False, timeout=120)


@pytest.mark.docker
@pytest.mark.parametrize(
    ("run_flags", "arrives"),
    [([], False), (["--env", "PYTHONUNBUFFERED=1"], True), (["--tty"], True)],
    ids=["default", "PYTHONUNBUFFERED=1", "tty"],
)
def test_docker_logs_lose_output_of_a_killed_container(
    docker_engine: str, run_flags: list[str], arrives: bool
) -> None:
    # PID 1 cannot SIGKILL itself, so the kill comes from outside, as `docker kill` or OOM does.
    with started_container(docker_engine, run_flags) as name:
        run([docker_engine, "kill", "--signal", "KILL", name], timeout=60)
        status = run([docker_engine, "wait", name], timeout=120).stdout.strip()
        assert status == str(128 + signal.SIGKILL)
        logs = run([docker_engine, "logs", name], timeout=120)
        assert (PRINTED in logs.stdout) is arrives


@pytest.mark.docker
@pytest.mark.parametrize(
    ("run_flags", "exit_signal"),
    [([], signal.SIGKILL), (["--init"], signal.SIGTERM)],
    ids=["python-is-pid-1", "init"],
)
def test_python_as_pid_1_ignores_sigterm(
    docker_engine: str, run_flags: list[str], exit_signal: int
) -> None:
    # PID 1 gets no default SIGTERM action: `docker stop` ends in SIGKILL after the grace time.
    with started_container(docker_engine, run_flags) as name:
        run([docker_engine, "stop", "--time", "2", name], timeout=60)
        status = run([docker_engine, "wait", name], timeout=120).stdout.strip()
        assert status == str(128 + exit_signal)


# --- PIP_NO_CACHE_DIR ---------------------------------------------------------------------------

BOOLEANS = ["1", "0", "true", "false", "on", "off", "yes", "no"]


@pytest.mark.parametrize(
    ("value", "cached"), [(None, True), ("", True), *((value, False) for value in BOOLEANS)]
)
def test_pip_no_cache_dir_any_boolean_disables_the_cache(
    tmp_path: Path, local_index: LocalIndex, value: str | None, cached: bool
) -> None:
    cache = tmp_path / "pip-cache"
    env = isolated_env(PIP_CACHE_DIR=str(cache), PIP_DISABLE_PIP_VERSION_CHECK="1")
    if value is not None:
        env["PIP_NO_CACHE_DIR"] = value
    pip_download(local_index, tmp_path / "downloads", env).check_returncode()
    assert [*(tmp_path / "downloads").glob("tinydep-*.whl")], "the download itself failed"
    assert bool(files_under(cache)) is cached


def test_pip_no_cache_dir_rejects_a_non_boolean(tmp_path: Path, local_index: LocalIndex) -> None:
    env = isolated_env(PIP_CACHE_DIR=str(tmp_path / "pip-cache"), PIP_NO_CACHE_DIR="foo")
    result = pip_download(local_index, tmp_path / "downloads", env)
    assert result.returncode == 2
    assert "--no-cache-dir error: invalid truth value 'foo'" in result.stderr
    assert local_index.requested == [], "pip went on despite the invalid value"


@pytest.mark.docker
def test_image_pip_reads_pip_no_cache_dir_the_same_way(docker_engine: str) -> None:
    # The pip that runs in the builder is the base image's, not the host's: ask it too.
    script = (
        "python3 -m venv /tmp/pip && for value in '' " + " ".join(BOOLEANS) + " foo; do "
        'PIP_NO_CACHE_DIR="$value" /tmp/pip/bin/pip cache dir >/dev/null 2>&1; '
        'echo "[$value] $?"; done'
    )
    command = [
        docker_engine,
        "run",
        "--rm",
        "--env",
        f"PIP_CONFIG_FILE={os.devnull}",
        DEFAULT_BASE_IMAGE,
    ]
    result = run([*command, "sh", "-c", script], timeout=300)
    statuses = dict(line.rsplit(" ", 1) for line in result.stdout.splitlines())
    # `pip cache dir` exits 1 when pip considers the cache disabled, 2 on a usage error.
    disabled = {f"[{value}]": "1" for value in BOOLEANS}
    assert statuses == {"[]": "0", **disabled, "[foo]": "2"}


# --- PIP_DISABLE_PIP_VERSION_CHECK --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "checks"),
    [(None, True), ("0", True), ("off", True), ("false", True), ("1", False), ("yes", False)],
)
def test_pip_disable_pip_version_check_is_a_boolean(
    tmp_path: Path, local_index: LocalIndex, value: str | None, checks: bool
) -> None:
    # The check asks the index for pip's releases: a request for /simple/pip/ is the observable.
    env = isolated_env(PIP_CACHE_DIR=str(tmp_path / "pip-cache"))
    if value is not None:
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = value
    result = pip_download(local_index, tmp_path / "downloads", env)
    result.check_returncode()
    assert ("/simple/pip/" in local_index.requested) is checks
    assert ("A new release of pip is available" in result.stderr) is checks
