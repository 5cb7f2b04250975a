"""The rendered Dockerfile and .dockerignore for every strategy, checked without an engine.

Lint (property 12), no registry-pulled frontend (13), no folklore and a reason for every ENV (10),
JSON-form entry points (5), labels (14), apt placement (3). The docker tier proves the same files
build and run.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from dockerfile_syntax import stages
from helpers import SharedCache, render, run

POLICIES = ["poetry", "pip", "none"]
SHAPES: dict[str, dict[str, Any]] = {
    "app-src": {},
    "app-flat": {"layout": "flat"},
    "deps-only": {"project_type": "deps-only", "dependencies": ["six"]},
}
EXTRAS: dict[str, dict[str, Any]] = {
    "plain": {},
    "apt": {"apt_build_packages": ["gcc", "libpq-dev"], "apt_runtime_packages": ["libpq5"]},
    "apt-pinned": {"apt_build_packages": ["gcc=4:14.2.0-1"]},
    "index": {"package_index_url": "https://packages.example.com/simple/"},
    "no-bytecode": {"compile_bytecode": False},
    "py310-bookworm": {"python_version": "3.10", "debian_release": "bookworm"},
}
# Every shape and policy; each extra with every policy on app-src; apt and index on deps-only.
COMBINATIONS = [
    *itertools.product(SHAPES, POLICIES, ["plain"]),
    *itertools.product(["app-src"], POLICIES, [extra for extra in EXTRAS if extra != "plain"]),
    *itertools.product(["deps-only"], POLICIES, ["apt", "index"]),
]
VARIANTS = {
    f"{shape}-{policy}-{extra}": {**SHAPES[shape], "hash_policy": policy, **EXTRAS[extra]}
    for shape, policy, extra in COMBINATIONS
}


class Rendered:
    """Projects rendered on first use, shared by the xdist workers."""

    def __init__(self, cache: SharedCache) -> None:
        self.cache = cache

    def __getitem__(self, name: str) -> Path:
        answers = VARIANTS[name]
        return self.cache.get("render", answers, lambda path: render(path, answers))


@pytest.fixture(scope="session")
def rendered(shared_cache: SharedCache) -> Rendered:
    return Rendered(shared_cache)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_hadolint_reports_nothing(rendered: Rendered, variant: str) -> None:
    result = run(["hadolint", "--no-color", rendered[variant] / "Dockerfile"], check=False)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_hadolint_catches_what_it_should(tmp_path: Path) -> None:
    # The lint gate is real: a missing --no-install-recommends is reported.
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:12\nRUN apt-get update && apt-get install -y curl\n")
    result = run(["hadolint", "--no-color", dockerfile], check=False)
    assert result.returncode != 0 and "DL3015" in result.stdout


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_structure_and_no_folklore(rendered: Rendered, variant: str) -> None:
    answers = VARIANTS[variant]
    text = (rendered[variant] / "Dockerfile").read_text()
    parsed = stages(text)
    assert list(parsed) == ["preamble", "builder", "runtime"]
    version = answers.get("python_version", "3.13")
    release = answers.get("debian_release", "trixie")
    image = f"python:{version}-slim-{release}"
    assert parsed["preamble"] == [f"ARG PYTHON_IMAGE={image}"]
    assert parsed["builder"][0] == "FROM ${PYTHON_IMAGE} AS builder"
    assert parsed["runtime"][0] == "FROM ${PYTHON_IMAGE} AS runtime"
    # 13: no frontend image pulled from a registry.
    assert not re.search(r"^#\s*syntax\s*=", text, re.MULTILINE | re.IGNORECASE)
    # 10: none of the folklore settings.
    assert "POETRY_NO_INTERACTION" not in text
    assert not any("PYTHONDONTWRITEBYTECODE" in line for line in parsed["builder"])
    assert "PIP_NO_CACHE_DIR" not in text
    # 10: every ENV has a comment right above it saying why.
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line.startswith("ENV "):
            assert lines[number - 1].startswith("# "), f"ENV without a reason: {line}"
    # 9: credentials never travel as ARG or ENV.
    for instruction in parsed["builder"] + parsed["runtime"]:
        if instruction.startswith(("ARG ", "ENV ")):
            assert not re.search(r"PASSWORD|TOKEN|USERNAME|AUTH", instruction, re.IGNORECASE)
    # 8: the mirror argument exists and is empty by default.
    assert "ARG PYPI_MIRROR_URL=" in parsed["builder"]
    # Poetry pinned to the answer, in the builder's tools file.
    tools = (rendered[variant] / "build-tools" / "poetry.txt").read_text()
    assert f"\npoetry=={answers.get('poetry_version', '2.5.1')} " in tools


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_strategy_matches_hash_policy(rendered: Rendered, variant: str) -> None:
    answers = VARIANTS[variant]
    builder = " ".join(stages((rendered[variant] / "Dockerfile").read_text())["builder"])
    # The dependency step (the build tools' own install is hash-pinned for every policy).
    [dependencies] = [
        i
        for i in stages((rendered[variant] / "Dockerfile").read_text())["builder"]
        if "poetry.lock" in i
    ]
    policy = answers["hash_policy"]
    installs_with_poetry = "poetry install --only main --no-root" in dependencies
    assert installs_with_poetry is (policy == "poetry")
    assert ("--require-hashes" in dependencies) is (policy == "pip")
    assert ("--without-hashes" in dependencies) is (policy == "none")
    assert ("poetry export" in dependencies) is (policy != "poetry")
    if answers.get("project_type", "app") == "app":
        assert "from poetry.core.masonry.api import build_wheel" in builder
        assert re.search(r"install .*--no-deps .*/tmp/dist/\*\.whl", builder)
    else:
        assert "build_wheel" not in builder
    compile_flag = (
        "--compile" in dependencies if policy == "poetry" else "--compile-bytecode" in dependencies
    )
    assert compile_flag is answers.get("compile_bytecode", True)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_runtime_stage_user_entrypoint_labels(rendered: Rendered, variant: str) -> None:
    answers = VARIANTS[variant]
    runtime = stages((rendered[variant] / "Dockerfile").read_text())["runtime"]
    assert "USER 10001:10001" in runtime
    assert "COPY --from=builder /app/.venv /app/.venv" in runtime
    assert 'ENV PATH="/app/.venv/bin:$PATH"' in runtime
    # 5: exec (JSON) form, which receives signals and takes `docker run IMAGE ARGS`.
    entry = [i for i in runtime if i.startswith(("ENTRYPOINT", "CMD"))]
    if answers.get("project_type", "app") == "app":
        assert entry == ['ENTRYPOINT ["my-tool"]']
    else:
        assert entry == ['CMD ["python"]']
    assert json.loads(entry[0].split(" ", 1)[1])
    label = next(i for i in runtime if i.startswith("LABEL "))
    for key in ("title", "description", "source", "licenses", "version"):
        assert f"org.opencontainers.image.{key}=" in label


@pytest.mark.parametrize("variant", [v for v in sorted(VARIANTS) if v.endswith("-apt")])
def test_apt_packages_go_to_their_stage_only(rendered: Rendered, variant: str) -> None:
    parsed = stages((rendered[variant] / "Dockerfile").read_text())
    build_apt = [i for i in parsed["builder"] if "apt-get install" in i]
    run_apt = [i for i in parsed["runtime"] if "apt-get install" in i]
    assert len(build_apt) == 1 and len(run_apt) == 1
    assert "--no-install-recommends gcc libpq-dev" in build_apt[0]
    assert "--mount=type=cache,target=/var/lib/apt/lists" in build_apt[0]
    assert run_apt[0].endswith(
        "--no-install-recommends libpq5 && apt-get clean && rm -rf /var/lib/apt/lists/*"
    )
    assert "gcc" not in " ".join(parsed["runtime"])


def test_pinned_apt_packages_need_no_lint_exception(rendered: Rendered) -> None:
    text = (rendered["app-src-poetry-apt-pinned"] / "Dockerfile").read_text()
    assert "hadolint ignore" not in text
    assert "hadolint ignore=DL3008" in (rendered["app-src-poetry-apt"] / "Dockerfile").read_text()


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_dockerignore_is_an_allow_list(rendered: Rendered, shape: str) -> None:
    lines = [
        line
        for line in (rendered[f"{shape}-poetry-plain"] / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == "*"
    allowed = {line[1:] for line in lines if line.startswith("!")}
    expected = {"pyproject.toml", "poetry.lock", "build-tools/"}
    if shape == "app-src":
        expected |= {"README.md", "LICENSE", "src/"}
    elif shape == "app-flat":
        expected |= {"README.md", "LICENSE", "my_tool/"}
    assert allowed == expected
    assert {"**/.env", "**/__pycache__"} <= set(lines)
