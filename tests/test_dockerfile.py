"""The rendered Dockerfile and .dockerignore for every strategy, checked without an engine.

Properties checked here: `hadolint-clean`, `no-syntax-line` (no frontend pulled from a registry),
`no-folklore` (and a reason above every ENV), `secret-credentials` (none as ARG or ENV),
`mirror-argument`, `exec-entrypoint`, `oci-labels`, `apt-per-stage`. The docker tier proves the
same files build and run.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
from pathlib import Path

import pytest

from answer_sets import (
    PACKAGE_NAME,
    SHAPES,
    answer,
    answers,
    choices,
    cli_name,
    default,
    is_app,
)
from dockerfile_syntax import stages
from extensions.filters import python_image
from helpers import TEMPLATE, ProjectFactory, run

EXTRAS = [
    "apt",
    "apt-pinned",
    "private-index",
    "no-bytecode",
    "py310-bookworm",
    "service+serve-args",
    "extras",
]


def with_policy(name: str, policy: str) -> str:
    return name if policy == default("hash_policy") else f"{name}+hash-{policy}"


# Every shape and policy; each extra with every policy on app-src; apt and index on deps-only.
VARIANTS = sorted(
    with_policy(name, policy)
    for name, policy in itertools.product(
        [
            *SHAPES,
            *(f"app-src+{extra}" for extra in EXTRAS),
            "deps-only+apt",
            "deps-only+private-index",
            "deps-only+service+http-server",
            "deps-only+extras",
            "deps-only+app-files",
        ],
        choices("hash_policy"),
    )
)


def dockerfile(rendered_project: ProjectFactory, variant: str) -> str:
    return (rendered_project(**answers(variant)) / "Dockerfile").read_text()


# hadolint-clean
@pytest.mark.parametrize("variant", VARIANTS)
def test_hadolint_reports_nothing(rendered_project: ProjectFactory, variant: str) -> None:
    path = rendered_project(**answers(variant)) / "Dockerfile"
    result = run(["hadolint", "--no-color", path], check=False)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_hadolint_catches_what_it_should(tmp_path: Path) -> None:
    # The lint gate is real: a missing --no-install-recommends is reported.
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:12\nRUN apt-get update && apt-get install -y curl\n")
    result = run(["hadolint", "--no-color", dockerfile], check=False)
    assert result.returncode != 0 and "DL3015" in result.stdout


@pytest.mark.parametrize("variant", VARIANTS)
def test_structure_and_no_folklore(rendered_project: ProjectFactory, variant: str) -> None:
    given = answers(variant)
    text = dockerfile(rendered_project, variant)
    parsed = stages(text)
    # uv's image, the builder's tools (Poetry; under hash_policy export, poetry-core for an app's
    # wheel alone), the build-only system packages (if any), the builder (the dependencies), the
    # project (an app's own code), the runtime.
    system = ["build-system"] if answer(given, "apt_build_packages") else []
    project = ["project"] if is_app(given) else []
    uses_tools = answer(given, "hash_policy") != "export" or bool(project)
    tools_stage = ["tools"] if uses_tools else []
    assert list(parsed) == ["preamble", "uv", *tools_stage, *system, "builder", *project, "runtime"]
    image = python_image(answer(given, "python_version"), answer(given, "debian_release"))
    uv_version, uv_digest = default("uv_version"), default("uv_image_digest")
    uv = f"ghcr.io/astral-sh/uv:{uv_version}@{uv_digest}"
    assert parsed["preamble"] == [f"ARG PYTHON_IMAGE={image}", f"ARG UV_IMAGE={uv}"]
    assert parsed["uv"] == ["FROM ${UV_IMAGE} AS uv"]
    if uses_tools:
        assert parsed["tools"][0] == "FROM ${PYTHON_IMAGE} AS tools"
        assert "ARG PYPI_MIRROR_URL=" in parsed["tools"]
    base = "build-system" if system else "${PYTHON_IMAGE}"
    assert parsed["builder"][0] == f"FROM {base} AS builder"
    if project:
        assert parsed["project"][0] == f"FROM {base} AS project"
    assert parsed["runtime"][0] == "FROM ${PYTHON_IMAGE} AS runtime"
    # no-syntax-line: no frontend image pulled from a registry.
    assert not re.search(r"^#\s*syntax\s*=", text, re.MULTILINE | re.IGNORECASE)
    # no-folklore: none of the folklore settings.
    assert "POETRY_NO_INTERACTION" not in text
    assert not any("PYTHONDONTWRITEBYTECODE" in line for line in parsed["builder"])
    assert "PIP_NO_CACHE_DIR" not in text
    # no-folklore: every ENV has a comment right above it saying why.
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line.startswith("ENV "):
            assert lines[number - 1].startswith("# "), f"ENV without a reason: {line}"
    # secret-credentials: credentials never travel as ARG or ENV.
    for instruction in parsed.get("tools", []) + parsed["builder"] + parsed["runtime"]:
        if instruction.startswith(("ARG ", "ENV ")):
            assert not re.search(r"PASSWORD|TOKEN|USERNAME|AUTH", instruction, re.IGNORECASE)
    # mirror-argument: it exists and is empty by default, in each stage that downloads.
    assert "ARG PYPI_MIRROR_URL=" in parsed["builder"]
    # Poetry pinned to the answer, in the builder's tools file.
    tools = (rendered_project(**given) / "build-tools" / "poetry.txt").read_text()
    assert f"\npoetry=={answer(given, 'poetry_version')} " in tools


@pytest.mark.parametrize("variant", VARIANTS)
def test_strategy_matches_hash_policy(rendered_project: ProjectFactory, variant: str) -> None:
    given = answers(variant)
    parsed = stages(dockerfile(rendered_project, variant))
    builder_steps = parsed["builder"]
    # The dependency step (the build tools' own install is hash-pinned for every policy).
    [dependencies] = [i for i in builder_steps if "poetry.lock" in i]
    policy = answer(given, "hash_policy")
    installs_with_poetry = "poetry install --only main --no-root" in dependencies
    assert installs_with_poetry is (policy == "poetry")
    assert ("--require-hashes" in dependencies) is (policy in ("pip", "export"))
    assert ("--without-hashes" in dependencies) is (policy == "none")
    # export: uv installs the committed export after the script's staleness and hash check, and
    # nothing in the image build runs Poetry (the tools stage holds poetry-core alone).
    installs_the_export = "-r build-tools/lock-export.txt" in dependencies
    assert installs_the_export is (policy == "export")
    if policy == "export":
        assert "python build-tools/export_lock.py --verify" in dependencies
        assert "--no-deps" in dependencies
        text = "\n".join(parsed.get("tools", []) + builder_steps + parsed.get("project", []))
        assert "/opt/poetry/bin/poetry" not in text
        built_by_poetry_core = "-r /tmp/poetry-core.txt" in "\n".join(parsed.get("tools", []))
        assert built_by_poetry_core is is_app(given)
        poetry_core_txt = rendered_project(**given) / "build-tools" / "poetry-core.txt"
        assert poetry_core_txt.is_file() is is_app(given)
    assert ("poetry export" in dependencies) is (policy in ("pip", "none"))
    # Every policy installs the answered extras (the project wheel is --no-deps either way); the
    # export policy's script exports them.
    if policy == "export":
        script = rendered_project(**given) / "build-tools" / "export_lock.py"
        wanted = json.dumps(answer(given, "extras"))
        assert f"\nEXTRAS: list[str] = {wanted}\n" in script.read_text()
    else:
        tool = "poetry install" if policy == "poetry" else "poetry export"
        extras = "".join(f" --extras {extra}" for extra in answer(given, "extras"))
        pattern = rf"{tool} --only main( --no-root --no-interaction)?{extras} --"
        assert re.search(pattern, dependencies)
    # An app's own code: a wheel built and installed --no-deps in the project stage, whose venv
    # the runtime copies over the dependencies'.
    if is_app(given):
        project = " ".join(parsed["project"])
        assert "from poetry.core.masonry.api import build_wheel" in project
        assert re.search(r"install .*--no-deps .*/tmp/dist/\*\.whl", project)
        assert "COPY --from=project /app/.venv /app/.venv" in parsed["runtime"]
    else:
        assert "project" not in parsed
        assert "build_wheel" not in " ".join(builder_steps)
    compile_flag = (
        "--compile" in dependencies if policy == "poetry" else "--compile-bytecode" in dependencies
    )
    assert compile_flag is answer(given, "compile_bytecode")


# app-code: an environment's own code (app_files), after its dependencies, without --chown.
@pytest.mark.parametrize("variant", ["deps-only", "deps-only+app-files", "app-src"])
def test_an_environments_code_is_copied_after_its_dependencies_owned_by_root(
    rendered_project: ProjectFactory, variant: str
) -> None:
    given = answers(variant)
    project = rendered_project(**given)
    runtime = stages((project / "Dockerfile").read_text())["runtime"]
    code = [path.rstrip("/") for path in given.get("app_files", [])]
    copies = [i for i in runtime if i.startswith("COPY ")]
    venv = copies[: 2 if is_app(given) else 1]
    assert copies == [*venv, *(f"COPY {path} /app/{path}" for path in code)]
    # Importable from /app only where there is code of the project's own there.
    assert ("ENV PYTHONPATH=/app" in runtime) is bool(code)
    # The build context lets exactly those paths in, before the exclusions that apply inside them.
    lines = (project / ".dockerignore").read_text().splitlines()
    allowed = [line[1:] for line in lines if line.startswith("!")]
    assert allowed[: len(allowed) - len(code)] == (
        ["pyproject.toml", "poetry.lock", "build-tools/", "README.md", "LICENSE", "src/"]
        if is_app(given)
        else ["pyproject.toml", "poetry.lock", "build-tools/"]
    )
    assert allowed[len(allowed) - len(code) :] == given.get("app_files", [])
    assert lines.index("**/.env") > max(lines.index(f"!{path}") for path in allowed)


@pytest.mark.parametrize("variant", VARIANTS)
def test_runtime_stage_user_entrypoint_labels(
    rendered_project: ProjectFactory, variant: str
) -> None:
    given = answers(variant)
    runtime = stages(dockerfile(rendered_project, variant))["runtime"]
    assert "USER 10001:10001" in runtime
    assert "COPY --from=builder /app/.venv /app/.venv" in runtime
    assert 'ENV PATH="/app/.venv/bin:$PATH"' in runtime
    # exec-entrypoint: JSON form, which receives signals and takes `docker run IMAGE ARGS`
    # (json.loads refuses the shell form); image_cmd is an app's default arguments, or the
    # environment's command.
    entry = [i.split(" ", 1) for i in runtime if i.startswith(("ENTRYPOINT ", "CMD "))]
    forms = {keyword: json.loads(form) for keyword, form in entry}
    assert len(forms) == len(entry)
    image_cmd = answer(given, "image_cmd")
    if is_app(given):
        assert forms == {
            "ENTRYPOINT": [cli_name(given)],
            **({"CMD": image_cmd} if image_cmd else {}),
        }
    else:
        assert forms == {"CMD": image_cmd or ["python"]}
    label = next(i for i in runtime if i.startswith("LABEL "))
    for key in ("title", "description", "source", "licenses", "version"):
        assert f"org.opencontainers.image.{key}=" in label


@pytest.mark.parametrize("variant", [v for v in VARIANTS if "apt" in v.split("+")])
def test_apt_packages_go_to_their_stage_only(
    rendered_project: ProjectFactory, variant: str
) -> None:
    given = answers(variant)
    parsed = stages(dockerfile(rendered_project, variant))
    build_apt = [i for i in parsed["build-system"] if "apt-get install" in i]
    run_apt = [i for i in parsed["runtime"] if "apt-get install" in i]
    assert len(build_apt) == 1 and len(run_apt) == 1
    build_packages = " ".join(given["apt_build_packages"])
    assert f"--no-install-recommends {build_packages}" in build_apt[0]
    assert "--mount=type=cache,target=/var/lib/apt/lists" in build_apt[0]
    assert run_apt[0].endswith(
        f"--no-install-recommends {' '.join(given['apt_runtime_packages'])}"
        " && apt-get clean && rm -rf /var/lib/apt/lists/*"
    )
    for package in given["apt_build_packages"]:
        assert package not in " ".join(parsed["runtime"])


def test_pinned_apt_packages_need_no_lint_exception(rendered_project: ProjectFactory) -> None:
    assert "hadolint ignore" not in dockerfile(rendered_project, "app-src+apt-pinned")
    assert "hadolint ignore=DL3008" in dockerfile(rendered_project, "app-src+apt")


@pytest.mark.parametrize("shape", SHAPES)
def test_dockerignore_is_an_allow_list(rendered_project: ProjectFactory, shape: str) -> None:
    lines = [
        line
        for line in (rendered_project(**answers(shape)) / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == "*"
    allowed = {line[1:] for line in lines if line.startswith("!")}
    expected = {"pyproject.toml", "poetry.lock", "build-tools/"}
    if shape == "app-src":
        expected |= {"README.md", "LICENSE", "src/"}
    elif shape == "app-flat":
        expected |= {"README.md", "LICENSE", f"{PACKAGE_NAME}/"}
    assert allowed == expected
    assert {"**/.env", "**/__pycache__"} <= set(lines)


# service-healthcheck: a service exposes its port and checks its health with what the image has.
@pytest.mark.parametrize("variant", VARIANTS)
def test_service_port_gives_expose_and_a_python_healthcheck(
    rendered_project: ProjectFactory, variant: str
) -> None:
    given = answers(variant)
    runtime = stages(dockerfile(rendered_project, variant))["runtime"]
    exposed = [i for i in runtime if i.startswith("EXPOSE ")]
    checks = [i for i in runtime if i.startswith("HEALTHCHECK ")]
    port = answer(given, "service_port")
    if not port:
        assert exposed == checks == []
        return
    assert exposed == [f"EXPOSE {port}"]
    [check] = checks
    options, form = check.removeprefix("HEALTHCHECK ").split(" CMD ", 1)
    assert options.split() == [
        "--interval=30s", "--timeout=5s", "--start-period=10s", "--retries=3"
    ]  # fmt: skip
    python, flag, source = json.loads(form)
    # The venv's interpreter, no curl or wget; the probe is valid Python fetching the answer.
    assert (python, flag) == ("/app/.venv/bin/python", "-c")
    urls = [
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    assert urls == [f"http://127.0.0.1:{port}{answer(given, 'healthcheck_path')}"]


# graceful-stop, as rendered: a service stops on SIGTERM, the signal servers drain on; anything
# else on SIGINT, which Python as PID 1 acts on (it has no default action for SIGTERM).
@pytest.mark.parametrize("variant", VARIANTS)
def test_stop_signal_is_sigterm_for_a_service_and_sigint_otherwise(
    rendered_project: ProjectFactory, variant: str
) -> None:
    runtime = stages(dockerfile(rendered_project, variant))["runtime"]
    serves = bool(answer(answers(variant), "service_port"))
    signals = [i for i in runtime if i.startswith("STOPSIGNAL ")]
    assert signals == ["STOPSIGNAL SIGTERM" if serves else "STOPSIGNAL SIGINT"]


def test_the_dockerfile_template_keeps_one_branch_per_decision() -> None:
    # Readable as a Dockerfile: what a choice renders lives in includes/dockerfile/, and the
    # template keeps only the decisions (STYLE.md); 16 control lines today, 16 at most.
    text = (TEMPLATE / "template" / "Dockerfile.jinja").read_text()
    assert len(re.findall(r"\{%", text)) <= 16
