"""The image builder's own tools are pinned by hash: uv by its image's digest, Poetry and its
plugins by hash-pinned requirements.

The template keeps the requirements in includes/build-tools/ (`./dev build-tools` regenerates
them from copier.yml's versions) and renders them as the project's build-tools/poetry.txt, so
`copier update` refreshes them, as it does the uv image's version and digest. A tampered hash must
stop the build with the installer's own hash error.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from packaging.requirements import Requirement

from answer_sets import default
from dockerfile_syntax import stages
from helpers import (
    DOCKER,
    copy_project,
    docker_build,
    image_tag,
    missing_for_docker_tier,
    render,
    run,
    uv_image,
)

HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def requirements(text: str) -> dict[str, list[str]]:
    """A hashed requirements file -> {requirement: its hashes} (continuation lines joined)."""
    joined = re.sub(r"\\\n\s*", " ", text)
    entries: dict[str, list[str]] = {}
    for line in joined.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            requirement, *_ = line.split(" --hash=")
            entries[requirement.strip()] = HASH.findall(line)
    return entries


def tools_step(project: Path) -> str:
    [step] = [i for i in stages((project / "Dockerfile").read_text())["tools"] if "RUN " in i]
    return step


def test_every_build_tool_is_pinned_by_hash_at_the_template_versions(tmp_path: Path) -> None:
    # The tools stage that installs build-tools/poetry.txt: every policy's but export's.
    project = render(tmp_path / "project", {"hash_policy": "poetry"})
    tools = requirements((project / "build-tools" / "poetry.txt").read_text())
    pins = {Requirement(line).name: str(Requirement(line).specifier) for line in tools}
    assert pins["poetry"] == f"=={default('poetry_version')}"
    assert pins["poetry-plugin-export"] == f"=={default('poetry_plugin_export_version')}"
    assert pins["poetry-plugin-pypi-mirror"] == f"=={default('poetry_plugin_pypi_mirror_version')}"
    # Every dependency is pinned too, with at least one hash: --require-hashes accepts no less.
    assert len(tools) > 30
    for line, hashes in tools.items():
        assert str(Requirement(line).specifier).startswith("=="), line
        assert hashes, f"{line} has no hash"
    step = tools_step(project)
    assert re.search(r"uv pip install .*--require-hashes .*-r /tmp/build-tools/poetry.txt", step)


def test_uv_comes_from_its_image_pinned_by_version_and_digest(tmp_path: Path) -> None:
    project = render(tmp_path / "project", {})
    dockerfile = (project / "Dockerfile").read_text()
    [image] = re.findall(r"^ARG UV_IMAGE=(\S+)$", dockerfile, re.MULTILINE)
    assert image == f"ghcr.io/astral-sh/uv:{default('uv_version')}@{default('uv_image_digest')}"
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", default("uv_image_digest"))
    assert "FROM ${UV_IMAGE} AS uv" in dockerfile.splitlines()
    # Bind-mounted where it runs, never copied: no layer of the builder holds uv.
    for instructions in stages(dockerfile).values():
        for instruction in instructions:
            assert not re.search(r"^COPY .*--from=uv", instruction), instruction
            if re.search(r"\buv (venv|pip)\b", instruction):
                assert "--mount=type=bind,from=uv,source=/uv,target=/usr/local/bin/uv " in (
                    instruction
                )


def test_another_poetry_release_is_installed_by_version_and_said_so(tmp_path: Path) -> None:
    project = render(tmp_path / "project", {"poetry_version": "2.4.0", "hash_policy": "poetry"})
    text = (project / "build-tools" / "poetry.txt").read_text()
    assert "hash-pins only the Poetry release it" in text
    assert requirements(text) == {
        "poetry==2.4.0": [],
        f"poetry-plugin-export=={default('poetry_plugin_export_version')}": [],
        f"poetry-plugin-pypi-mirror=={default('poetry_plugin_pypi_mirror_version')}": [],
    }
    # uv's image stays pinned by digest; Poetry's set cannot be hash-pinned.
    assert "--require-hashes" not in tools_step(project)


def tamper(path: Path) -> None:
    """Replace every hash of the file's first requirement with one no file has."""
    text = path.read_text()
    first = re.search(r"^[a-z].*(?:\n[ \t].*)*", text, re.MULTILINE)
    assert first and HASH.search(first.group()), text[:500]
    tampered = HASH.sub("--hash=sha256:" + "0" * 64, first.group())
    path.write_text(text[: first.start()] + tampered + text[first.end() :])


TOOL_HASH_ERRORS = {
    # hash_policy poetry: uv installs Poetry and its plugins.
    "poetry.txt": re.compile(r"Hash mismatch for `anyio==[^`]+`"),
    # hash_policy export (the default): uv installs poetry-core alone.
    "poetry-core.txt": re.compile(r"Hash mismatch for `poetry-core==[^`]+`"),
}
# The answers whose tools stage installs each file (the default is hash_policy export).
TOOL_ANSWERS: dict[str, dict[str, Any]] = {
    "poetry.txt": {"hash_policy": "poetry"},
    "poetry-core.txt": {},
}


@pytest.mark.docker
@pytest.mark.usefixtures("docker_engine")
@pytest.mark.parametrize("tools_file", sorted(TOOL_HASH_ERRORS))
def test_tampered_build_tool_hash_fails_the_build(
    locked_project: Any, tools_file: str, tmp_path: Path
) -> None:
    project = copy_project(locked_project(**TOOL_ANSWERS[tools_file]), tmp_path / "project")
    tamper(project / "build-tools" / tools_file)
    tag = image_tag({"tampered_tools": tools_file})
    result = docker_build(project, tag, check=False, target="tools")
    assert result.returncode != 0
    assert TOOL_HASH_ERRORS[tools_file].search(result.stderr), result.stderr[-3000:]


# --- uv's image by digest, through a registry ---------------------------------------------------

REGISTRY_CONFIG = """\
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {root}
http:
  addr: {address}
"""


class Registry(NamedTuple):
    address: str
    access_log: Path  # what the registry served, one request a line


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    """A container registry on 127.0.0.1, as a team's registry mirror: Debian's docker-registry.

    The engine pulls from a registry on 127.0.0.0/8 over plain HTTP without configuration.
    """
    binary = shutil.which("docker-registry")
    if binary is None:
        missing_for_docker_tier(
            "no docker-registry: apt-get install docker-registry (.ci/run does)"
        )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    config = tmp_path / "registry.yml"
    config.write_text(REGISTRY_CONFIG.format(root=tmp_path / "storage", address=address))
    access_log = tmp_path / "access.log"
    with (
        access_log.open("wb") as log,
        subprocess.Popen(
            [binary, "serve", str(config)], stdout=log, stderr=subprocess.PIPE
        ) as server,
    ):
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"http://{address}/v2/", timeout=2).close()
                    break
                except OSError:
                    assert server.poll() is None and time.monotonic() < deadline, "no registry"
                    time.sleep(0.2)
            yield Registry(address, access_log)
        finally:
            server.terminate()


@pytest.mark.docker
@pytest.mark.usefixtures("docker_engine")
def test_uv_image_comes_by_digest_through_a_registry_mirror(
    locked_project: Any, registry: Registry, tmp_path: Path
) -> None:
    """What README.md tells a team behind a registry mirror: UV_IMAGE names the mirror's copy by
    the same digest. The stand-in for uv's image is pushed to a registry and pulled by its digest;
    any other digest under that name fails the build: the content is pinned, not the name."""
    name = f"{registry.address}/astral-sh/uv:{default('uv_version')}"
    run([DOCKER, "tag", uv_image(), name])
    pushed = run([DOCKER, "push", name]).stdout
    [digest] = re.findall(r"digest: (sha256:[0-9a-f]{64})", pushed)
    # Only the registry has it now: the build must resolve the reference there.
    run([DOCKER, "image", "rm", name])
    project = copy_project(locked_project(), tmp_path / "project")
    tag = image_tag({"uv_image": "registry"})
    pushed_requests = len(registry.access_log.read_text())
    docker_build(project, tag, "--build-arg", f"UV_IMAGE={name}@{digest}", target="tools")
    # The registry's own log, not BuildKit's wording ("resolve … 0.1s done" on a busy machine).
    served = registry.access_log.read_text()[pushed_requests:]
    assert re.search(rf'"(GET|HEAD) /v2/astral-sh/uv/manifests/{digest} HTTP/1.1" 200 ', served), (
        served
    )
    tampered = digest[:-1] + ("0" if digest[-1] != "0" else "1")
    failed = docker_build(
        project, tag, "--build-arg", f"UV_IMAGE={name}@{tampered}", target="tools", check=False
    )
    assert failed.returncode != 0
    assert f"{name}@{tampered}: not found" in failed.stderr, failed.stderr[-2000:]
