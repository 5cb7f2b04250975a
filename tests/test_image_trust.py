"""What reaches the image is exactly what should: no secret file, answers intact, prompt stops.

- Secret-like and ignored files planted at the root and deep in the package never reach the build
  context, any layer (`docker save`) or the image; the project files in the image are exactly the
  wheel `poetry build` makes from a clean clone.
- Labels carry hostile and drawn answers exactly (`docker inspect`).
- `docker stop` ends a container of an image that serves nothing in under 2 s (STOPSIGNAL SIGINT;
  Python as PID 1 ignores SIGTERM). Services stop on SIGTERM: tests/test_docker.py, `graceful-stop`.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
import uuid
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from extensions.filters import label_text_error
from helpers import DOCKER, ImageFactory, copy_project, docker_build, docker_run, render, run

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("docker_engine")]

# Each holds a unique marker, searched for in the context, the image and every layer.
PLANTED = [
    ".env",
    "id_rsa",
    "secrets/cert.pem",
    "deploy.secret",
    ".npmrc",
    "src/.npmrc",
    "src/my_tool/id_rsa",
    "src/my_tool/id_ed25519.pub",
    "src/my_tool/secrets/cert.pem",
    "src/my_tool/.env.production",
    "src/my_tool/sub/.netrc",
    "src/my_tool/x.secret",
    "src/my_tool/server.key",
    "src/my_tool/.env.local",
    "src/my_tool/.pypirc",
    "src/my_tool/store.p12",
    "src/my_tool/.aws/credentials",
    "src/my_tool/.venv/pyvenv.cfg",
    "src/my_tool/.mypy_cache/x.json",
]
MARKER = "planted-secret-{index}-must-not-ship"
CONTEXT_PROBE = "FROM python:3.13-slim-trixie\nCOPY . /context\n"


def plant(project: Path) -> dict[str, str]:
    markers = {}
    for index, name in enumerate(PLANTED):
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        markers[name] = MARKER.format(index=index)
        path.write_text(markers[name] + "\n")
    return markers


def files_in(image: str, directory: str) -> set[str]:
    listing = docker_run(
        image, directory, "-type", "f", options=["--entrypoint", "find", "--user", "0"]
    )
    return {line[len(directory) + 1 :] for line in listing.splitlines()}


def saved_layers(image: str, tmp_path: Path) -> bytes:
    """Every byte of every file of every layer of the image (`docker save`)."""
    run([DOCKER, "save", "--output", tmp_path / "image.tar", image])
    contents = []
    with tarfile.open(tmp_path / "image.tar") as outer:
        for member in outer.getmembers():
            extracted = outer.extractfile(member) if member.isfile() else None
            if extracted is None:
                continue
            blob = extracted.read()
            try:
                with tarfile.open(fileobj=io.BytesIO(blob)) as layer:
                    for inner in layer.getmembers():
                        data = layer.extractfile(inner) if inner.isfile() else None
                        if data is not None:
                            contents.append(data.read())
            except tarfile.ReadError:  # the manifest and config JSON
                contents.append(blob)
    return b"\n".join(contents)


def clean_clone_wheel(project: Path, tmp_path: Path) -> set[str]:
    """The package files of the wheel `poetry build` makes in a clean clone of the project."""
    run(["git", "init", "--quiet"], cwd=project)
    run(["git", "add", "--all"], cwd=project)
    run(["git", "commit", "--quiet", "--message", "project with planted files"], cwd=project)
    clone = tmp_path / "clone"
    run(["git", "clone", "--quiet", project, clone])
    run(["poetry", "build", "--format", "wheel", "--no-interaction"], cwd=clone)
    (wheel,) = (clone / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    return {name.split("/", 1)[1] for name in names if name.startswith("my_tool/")}


# The default answers (hash_policy export: its build-tools/ hold the committed export), and poetry.
POLICIES = [{}, {"hash_policy": "poetry"}]
EXPORT_FILES = {
    "build-tools/lock-export.txt",
    "build-tools/export_lock.py",
    "build-tools/poetry-core.txt",
}


@pytest.fixture(scope="module", params=POLICIES, ids=["default-export", "poetry"])
def planted_image(
    request: pytest.FixtureRequest,
    built_image: ImageFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, Path, dict[str, str]]:
    """The app, with every secret-like file planted, built (after the shared image, so the
    dependency layers come from the cache)."""
    tmp_path = tmp_path_factory.mktemp("planted")
    image = built_image(**request.param)
    project = copy_project(image.project, tmp_path / "project")
    markers = plant(project)
    tag = f"{image.tag}-planted"
    docker_build(project, tag)
    return tag, project, markers


def test_planted_secrets_never_reach_the_build_context(
    planted_image: tuple[str, Path, dict[str, str]], tmp_path: Path
) -> None:
    _, project, markers = planted_image
    probe = tmp_path / "probe.Dockerfile"
    probe.write_text(CONTEXT_PROBE)
    tag = f"{planted_image[0]}-context"
    docker_build(project, tag, "-f", str(probe))
    context = files_in(tag, "/context")
    assert not {name for name in markers if name in context}
    exported = EXPORT_FILES if (project / "build-tools" / "export_lock.py").exists() else set()
    assert exported <= context
    assert context - exported == {
        "pyproject.toml",
        "poetry.lock",
        "build-tools/poetry.txt",
        "README.md",
        "LICENSE",
        "src/my_tool/__init__.py",
        "src/my_tool/__main__.py",
        "src/my_tool/cli.py",
        "src/my_tool/py.typed",
    }


def test_planted_secrets_are_in_no_layer_of_the_image(
    planted_image: tuple[str, Path, dict[str, str]], tmp_path: Path
) -> None:
    tag, _, markers = planted_image
    layers = saved_layers(tag, tmp_path)
    assert b"Hello, " in layers, "the search does not see file contents"
    leaked = [name for name, marker in markers.items() if marker.encode() in layers]
    assert not leaked, f"in the image's layers: {leaked}"


def test_project_files_in_the_image_are_the_clean_clone_wheel(
    planted_image: tuple[str, Path, dict[str, str]], tmp_path: Path
) -> None:
    tag, project, _ = planted_image
    wheel = clean_clone_wheel(copy_project(project, tmp_path / "repo"), tmp_path)
    site = docker_run(
        tag, "-c", "import my_tool, os; print(os.path.dirname(my_tool.__file__))",
        options=["--entrypoint", "python"],
    ).strip()  # fmt: skip
    in_image = {name for name in files_in(tag, site) if "__pycache__/" not in name}
    assert in_image == wheel


def test_a_link_out_of_the_repository_stops_the_image_build_as_it_stops_the_wheel(
    built_image: ImageFactory, tmp_path: Path
) -> None:
    # Docker sends a symlink as a link, never its target; poetry-core refuses a file outside
    # the project, in the image build and in `poetry build` of a clean clone alike.
    project = copy_project(built_image().project, tmp_path / "project")
    (tmp_path / "outside.txt").write_text("outside-the-repository-must-not-ship\n")
    (project / "src/my_tool/outside.txt").symlink_to("../../../outside.txt")
    tag = f"{built_image().tag}-link-out"
    result = docker_build(project, tag, check=False)
    assert result.returncode != 0, "an image was built with a link out of the repository"
    assert "/outside.txt' is not in the subpath of '/src'" in result.stdout + result.stderr
    run(["git", "init", "--quiet"], cwd=project)
    run(["git", "add", "--all"], cwd=project)
    run(["git", "commit", "--quiet", "--message", "a link out"], cwd=project)
    clone = tmp_path / "clone"
    run(["git", "clone", "--quiet", project, clone])
    built = run(
        ["poetry", "build", "--format", "wheel", "--no-interaction"], cwd=clone, check=False
    )
    assert built.returncode != 0 and "is not in the subpath of" in built.stdout + built.stderr


def test_a_link_inside_the_package_is_left_out_of_the_wheel_and_the_image_alike(
    built_image: ImageFactory, tmp_path: Path
) -> None:
    # poetry-core 2.5 resolves a link and keeps one copy of each file: the target's.
    project = copy_project(built_image().project, tmp_path / "project")
    (project / "src/my_tool/alias.py").symlink_to("cli.py")
    tag = f"{built_image().tag}-link-in"
    docker_build(project, tag)
    site = docker_run(
        tag, "-c", "import my_tool, os; print(os.path.dirname(my_tool.__file__))",
        options=["--entrypoint", "python"],
    ).strip()  # fmt: skip
    in_image = {name for name in files_in(tag, site) if "__pycache__/" not in name}
    # The project itself (a copy would turn the link into a file), committed and cloned.
    wheel = clean_clone_wheel(project, tmp_path)
    assert in_image == wheel and "cli.py" in wheel and "alias.py" not in wheel


def labels(tag: str) -> dict[str, str]:
    data = json.loads(run([DOCKER, "image", "inspect", tag]).stdout)
    found: dict[str, str] = data[0]["Config"]["Labels"]
    return found


def build_with_answers(
    built_image: ImageFactory, tmp_path: Path, description: str, slug: str
) -> str:
    """The default project with the Dockerfile rendered for another description and
    distribution name: every step but the labels comes from the layer cache."""
    work = tmp_path / uuid.uuid4().hex
    project = copy_project(built_image().project, work / "project")
    fresh = render(work / "render", {"description": description, "project_slug": slug})
    (project / "Dockerfile").write_text((fresh / "Dockerfile").read_text())
    tag = f"{built_image().tag}-labels-{uuid.uuid4().hex[:12]}"
    docker_build(project, tag)
    return tag


HOSTILE_DESCRIPTIONS = [
    "Costs $5 ${HOME} $(id) `id` \"q\" back\\slash 'single'",
    "Ünïcödé — 山田 \u200d emoji 🐍",
    "# not a comment \\ \" ' $",
]


@pytest.mark.parametrize("description", HOSTILE_DESCRIPTIONS)
def test_hostile_answers_reach_the_labels_exactly(
    built_image: ImageFactory, tmp_path: Path, description: str
) -> None:
    tag = build_with_answers(built_image, tmp_path, description, "My.Tool_x")
    found = labels(tag)
    assert found["org.opencontainers.image.description"] == description
    assert found["org.opencontainers.image.title"] == "My.Tool_x"


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(description=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=24))
def test_drawn_descriptions_reach_the_labels_exactly(
    built_image: ImageFactory, tmp_path: Path, description: str
) -> None:
    assume(not label_text_error(description, "description"))
    tag = build_with_answers(built_image, tmp_path, description, "my-tool")
    assert labels(tag)["org.opencontainers.image.description"] == description


def stop_time(tag: str, *command: str, options: tuple[str, ...] = ()) -> tuple[float, int]:
    container = run([DOCKER, "run", "--detach", *options, tag, *command]).stdout.strip()
    try:
        time.sleep(1.5)  # the process is up and waiting
        assert run([DOCKER, "inspect", "-f", "{{.State.Running}}", container]).stdout.strip() == (
            "true"
        )
        started = time.monotonic()
        run([DOCKER, "stop", container])
        elapsed = time.monotonic() - started
        code = int(run([DOCKER, "inspect", "-f", "{{.State.ExitCode}}", container]).stdout)
        return elapsed, code
    finally:
        run([DOCKER, "rm", "--force", container], check=False)


def test_a_long_running_process_stops_at_once(built_image: ImageFactory) -> None:
    image = built_image()
    elapsed, code = stop_time(
        image.tag,
        "-c",
        "import time; time.sleep(600)",
        options=("--entrypoint", "python"),
    )
    assert elapsed < 2, f"docker stop took {elapsed:.1f} s"
    assert code != 137, "killed by SIGKILL after the grace period"


def test_a_job_in_the_deps_only_image_stops_at_once(built_image: ImageFactory) -> None:
    image = built_image(project_type="deps-only", dependencies=["six>=1.16"])
    elapsed, code = stop_time(image.tag, "python", "-c", "import six, time; time.sleep(600)")
    assert elapsed < 2, f"docker stop took {elapsed:.1f} s"
    assert code != 137, "killed by SIGKILL after the grace period"
