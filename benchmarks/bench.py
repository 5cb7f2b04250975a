"""Benchmark the template's Dockerfile against three common alternatives.

For each workload (an app with `requests`, a deps-only `pandas` environment, an app with
`psycopg2` built from its sdist) the image is built five ways: this template's Dockerfile (the
default `hash_policy: export`, and `hash_policy: poetry`), the multi-stage pattern of uv's Docker
guide (the reference: ratios are against it), the two-stage Poetry pattern many blogs publish,
and a naive single-stage `pip install`. Each way is measured for image size, cold build, rebuild
after a source edit, rebuild after adding a dependency and container start-to-output time; the
template's default and the uv way also for an arm64 cold build under emulation (workload a).
Results go to benchmarks/results/ and README.md's marked block.

Run with `./dev bench [--runs N | --quick] [--workloads a,b,c]` (needs a Docker engine).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any, NoReturn

from filelock import FileLock

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE.parent
sys.path.insert(0, str(TEMPLATE / "tests"))
from helpers import (  # noqa: E402
    BUILD_LOCK,
    DOCKER,
    UV_CONCURRENT_DOWNLOADS,
    pypi_simple_url,
    template_default,
    uv_image,
)
from helpers import run as helpers_run  # noqa: E402

ALTERNATIVES = HERE / "alternatives"
RESULTS = HERE / "results"
WORK = HERE / "work"
README = TEMPLATE / "README.md"
BASE_IMAGE = "python:3.13-slim-trixie"
PYTHON_VERSION = "3.13"
TAG_PREFIX = "bench"
# The stand-in for the uv way's builder image (uv's Python image), built once per run outside the
# timing; the template's Dockerfile takes uv from helpers.uv_image(), the stand-in for uv's image.
UV_BUILDER_IMAGE = f"{TAG_PREFIX}-uv-image"
MB = 1_000_000
# arm64 under emulation (qemu binfmt, as the release workflow builds it): the suite's stand-in.
ARM64_BASE_IMAGE = "arm64v8/python:3.13-slim-trixie"
ARM64_WORKLOADS = ("a",)
# The export policy's committed export, which follows poetry.lock in every edit.
EXPORT = "build-tools/lock-export.txt"

# The template's image stays at its floor (the locked packages in a bare venv).
MAX_OVERHEAD_OVER_FLOOR = 1.1
# Against the reference way (uv's guide): figure -> the largest ratio that meets the target.
REFERENCE_TARGETS = {
    "image size over base": 1.0,
    "cold build": 1.0,
    "rebuild, source edit": 1.0,
    "rebuild, dependency added": 1.0,
}


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    project_type: str
    dependencies: tuple[str, ...]
    probe: str  # Python code run in the container: imports the dependencies and prints a line
    apt_build_packages: tuple[str, ...] = ()
    apt_runtime_packages: tuple[str, ...] = ()
    added_dependency: str = "attrs"  # in none of the workloads' locks

    @property
    def name(self) -> str:
        return f"bench-{self.key}"

    @property
    def package(self) -> str:
        return self.name.replace("-", "_")

    @property
    def source_file(self) -> str | None:
        """The file a one-line edit goes to; a deps-only image holds no source (only the lock)."""
        return f"src/{self.package}/cli.py" if self.project_type == "app" else None


def app_probe(module: str, package: str) -> str:
    return f"import {module}; from {package}.cli import main; main([])"


WORKLOADS = (
    Workload("a", "app + requests", "app", ("requests",), app_probe("requests", "bench_a")),
    Workload(
        "b",
        "deps-only pandas",
        "deps-only",
        ("pandas",),
        "import pandas; print(pandas.__version__)",
    ),
    Workload(
        "c",
        "app + psycopg2 (sdist)",
        "app",
        ("psycopg2",),
        app_probe("psycopg2", "bench_c"),
        # The official images ship Python's headers; the stand-in base images take them from Debian.
        apt_build_packages=("gcc", "libpq-dev", "libpython3-dev"),
        apt_runtime_packages=("libpq5",),
    ),
)


@dataclass(frozen=True)
class Way:
    key: str
    title: str
    dockerfile: Callable[[Workload, Path], Path]


def poetry_dockerfile(_: Workload, project: Path) -> Path:
    """The Dockerfile of hash_policy poetry, rendered beside the project's."""
    return project.parent / "poetry.Dockerfile"


def default_dockerfile(_: Workload, project: Path) -> Path:
    """The project is rendered with the default answers (hash_policy export): its own Dockerfile."""
    return project / "Dockerfile"


def alternative(prefix: str) -> Callable[[Workload, Path], Path]:
    def dockerfile(workload: Workload, _: Path) -> Path:
        kind = "app" if workload.project_type == "app" else "deps"
        return ALTERNATIVES / f"{prefix}-{kind}.Dockerfile"

    return dockerfile


def uv_guide_dockerfile(_: Workload, __: Path) -> Path:
    return ALTERNATIVES / "uv-guide.Dockerfile"


TEMPLATE_WAY = Way("template", "1. this template (default: hash_policy export)", default_dockerfile)
UV_WAY = Way("uv", "2. uv guide pattern", uv_guide_dockerfile)
BLOG_WAY = Way("blog", "3. blog Poetry pattern", alternative("blog-poetry"))
NAIVE_WAY = Way("naive", "4. naive pip install", alternative("naive-pip"))
POETRY_WAY = Way("poetry", "5. this template, hash_policy poetry", poetry_dockerfile)
WAYS = (TEMPLATE_WAY, UV_WAY, BLOG_WAY, NAIVE_WAY, POETRY_WAY)
# The ways built for arm64 under emulation too.
ARM64_WAYS = (TEMPLATE_WAY, UV_WAY)
# Ratios are against this way.
REFERENCE_WAY = UV_WAY


@dataclass
class Measurement:
    """Everything measured for one workload built one way; times are lists of samples (seconds)."""

    workload: str
    way: str
    size_over_base: int = 0
    cold_build: list[float] = field(default_factory=list)
    source_rebuild: list[float] = field(default_factory=list)
    dependency_rebuild: list[float] = field(default_factory=list)
    start_to_output: list[float] = field(default_factory=list)
    # Seconds per build step of the cold builds (BuildKit's DONE times), step -> samples.
    cold_steps: dict[str, list[float]] = field(default_factory=dict)
    # Cold builds for linux/arm64 under emulation (only some ways and workloads), and their steps.
    arm64_cold_build: list[float] = field(default_factory=list)
    arm64_cold_steps: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class Floor:
    """The least an image of the workload can add to the base image."""

    workload: str
    venv_bytes: int  # du -sb of a --without-pip venv holding only the locked deps and the project
    image_over_base: int  # that venv plus the run-time apt packages, as an image layer


@dataclass(frozen=True)
class Figure:
    """A column of the results: how to read it from a measurement, its unit, its label."""

    label: str
    unit: str
    value: Callable[[Measurement], float]


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


FIGURES = (
    Figure("image size over base", "MB", lambda m: m.size_over_base / MB),
    Figure("cold build", "s", lambda m: median(m.cold_build)),
    Figure("rebuild, source edit", "s", lambda m: median(m.source_rebuild)),
    Figure("rebuild, dependency added", "s", lambda m: median(m.dependency_rebuild)),
    Figure("start to output", "s", lambda m: median(m.start_to_output)),
)


# --- Running commands ---------------------------------------------------------------------------


def execute(command: Sequence[str | Path], cwd: Path | None = None) -> CompletedProcess[str]:
    """The suite's runner (helpers.run): Poetry and copier outside the tooling venv; no check."""
    return helpers_run(command, cwd, check=False, timeout=3600)


def fail(command: Sequence[str | Path], result: CompletedProcess[str]) -> NoReturn:
    sys.exit(
        f"failed ({result.returncode}): {' '.join(map(str, command))}\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    )


def run(command: Sequence[str | Path], cwd: Path | None = None) -> str:
    """Run a command and return its stdout; on failure show the end of its output and stop."""
    result = execute(command, cwd)
    if result.returncode:
        fail(command, result)
    return result.stdout


def timed_build(command: Sequence[str | Path]) -> tuple[float, str]:
    """Wall time and log of a build, retried once: other users of the engine can break a build.

    The build lock is held (as by every build on these machines) and taken before the clock starts.
    """
    for attempt in ("first", "retry"):
        with FileLock(str(BUILD_LOCK)):
            start = time.monotonic()
            result = execute(command)
            elapsed = time.monotonic() - start
        if result.returncode == 0:
            return elapsed, result.stderr
        log(f"{attempt} attempt failed: {result.stderr.strip().splitlines()[-1:]}")
        wait_for_engine()
    fail(command, result)


_STEP = re.compile(r"^#(\d+) \[([^\]]+)\] (.*)$")
_DONE = re.compile(r"^#(\d+) DONE (\d+(?:\.\d+)?)s$")


def step_times(log_text: str) -> dict[str, float]:
    """BuildKit plain progress -> {"stage: instruction" (shortened): seconds} for RUN and COPY."""
    names: dict[str, str] = {}
    times: dict[str, float] = {}
    for line in log_text.splitlines():
        if match := _STEP.match(line):
            stage = match.group(2).split()[0]
            instruction = " ".join(match.group(3).split())
            if instruction.startswith(("RUN ", "COPY ")):
                names[match.group(1)] = f"{stage}: {short_instruction(instruction)}"
        elif (match := _DONE.match(line)) and match.group(1) in names:
            times[names[match.group(1)]] = float(match.group(2))
    return times


def short_instruction(instruction: str) -> str:
    """An instruction without its --mount options, cut to a readable length."""
    words = [word for word in instruction.split() if not word.startswith("--mount=")]
    text = " ".join(words)
    return text if len(text) <= 70 else text[:67] + "..."


def wait_for_engine(timeout: float = 300) -> None:
    """Wait until the engine answers again (someone may restart the shared daemon)."""
    deadline = time.monotonic() + timeout
    while execute([DOCKER, "info"]).returncode and time.monotonic() < deadline:
        time.sleep(5)


def log(message: str) -> None:
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", flush=True)


def mirror_url() -> str:
    """PyPI's simple index, from the environment or pip's own default (no host written here)."""
    return os.environ.get("POETRY_PYPI_MIRROR_URL") or pypi_simple_url()


def uv_version() -> str:
    """The uv release the template's builder installs (copier.yml), also in the uv way's image."""
    return template_default("uv_version")


# --- Projects -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Project:
    """A rendered, locked workload project and the files of its one-dependency-more variant."""

    workload: Workload
    path: Path
    pristine: Path
    with_added_dependency: Path


def yaml_list(items: Iterable[str]) -> str:
    return json.dumps(list(items))


def render(workload: Workload, dest: Path, **answers: str) -> None:
    """`copier copy` with default answers plus the workload's; the copy task runs `poetry lock`."""
    data = {
        **answers,
        "project_name": workload.name,
        "project_type": workload.project_type,
        "dependencies": yaml_list(workload.dependencies),
        "apt_build_packages": yaml_list(workload.apt_build_packages),
        "apt_runtime_packages": yaml_list(workload.apt_runtime_packages),
    }
    options = [part for key, value in data.items() for part in ("--data", f"{key}={value}")]
    run(["copier", "copy", "--trust", "--defaults", "--vcs-ref", "HEAD", *options, TEMPLATE, dest])
    if not (dest / "poetry.lock").is_file():
        sys.exit(f"copier did not lock {dest}: is Poetry on PATH, and Python {PYTHON_VERSION}?")


def prepare(workload: Workload) -> Project:
    root = WORK / workload.key
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    path = root / "project"
    # One context for both template ways: rendered with the default answers (hash_policy export:
    # its build-tools/ hold the export), and hash_policy poetry's Dockerfile beside it. The two
    # .dockerignore are equal.
    render(workload, path)
    render(workload, root / "poetry", hash_policy="poetry")
    shutil.copy2(root / "poetry" / "Dockerfile", root / "poetry.Dockerfile")
    shutil.rmtree(root / "poetry")
    ignore = shutil.ignore_patterns(".venv")
    added = shutil.copytree(path, root / "added", ignore=ignore, symlinks=True)
    run(["poetry", "add", "--lock", workload.added_dependency], cwd=added)
    run(["python3", "build-tools/export_lock.py"], cwd=added)
    for project in (path, added):
        uv_lock(project)
    pristine = shutil.copytree(path, root / "pristine", ignore=ignore)
    return Project(workload, path, pristine, added)


def uv_lock(project: Path) -> None:
    """The uv way's uv.lock, made by `uv lock` from the same pyproject.toml.

    Run in the uv image, whose Python is the workload's (the host may have none). The template's
    .dockerignore is an allow-list: the lock joins it, for the uv way's bind mount and COPY.
    """
    run(
        [
            DOCKER, "run", "--rm", "-v", f"{project}:/project", "-w", "/project",
            "-e", "UV_PYTHON_DOWNLOADS=never", UV_BUILDER_IMAGE,
            "uv", "lock", "--quiet", "--default-index", mirror_url(),
        ]
    )  # fmt: skip
    ignore = project / ".dockerignore"
    if "!uv.lock" not in ignore.read_text().split():
        ignore.write_text(ignore.read_text() + "\n# Added by bench.py for the uv way.\n!uv.lock\n")


def reset(project: Project) -> None:
    names = ["pyproject.toml", "poetry.lock", "uv.lock", EXPORT]
    if project.workload.source_file:
        names.append(project.workload.source_file)
    for name in names:
        shutil.copy2(project.pristine / name, project.path / name)


def append_line(path: Path, nonce: str) -> None:
    """A comment unique to this repetition: no earlier build's layer cache can match the edit."""
    with path.open("a") as file:
        file.write(f"# benchmark edit {nonce}\n")


def add_dependency(project: Project, nonce: str) -> None:
    for name in ("pyproject.toml", "poetry.lock", "uv.lock", EXPORT):
        shutil.copy2(project.with_added_dependency / name, project.path / name)
    # In each way's dependency inputs: the export policy's dependency step reads the export, not
    # pyproject.toml, and an earlier repetition's layer for the same export would match.
    append_line(project.path / "pyproject.toml", nonce)
    append_line(project.path / EXPORT, nonce)


def locked_requirements(project: Path, workload: Workload) -> list[str]:
    """`name==version` of the main group for the image's Python on Linux, exported from the lock."""
    from packaging.requirements import Requirement

    exported = run(["poetry", "export", "--only", "main", "--without-hashes"], cwd=project)
    environment = {
        "python_version": PYTHON_VERSION,
        "python_full_version": f"{PYTHON_VERSION}.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
    }
    pins = []
    for line in exported.splitlines():
        if not line.strip() or line.startswith(("#", "-")):
            continue
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            pins.append(f"{requirement.name}{requirement.specifier}")
    return [*pins, "."] if workload.project_type == "app" else pins


# --- Docker -------------------------------------------------------------------------------------


def tag(workload: Workload, way: str) -> str:
    return f"{TAG_PREFIX}-{workload.key}-{way}"


def build_args(project: Project, dockerfile: Path) -> list[str]:
    workload = project.workload
    args = {
        "PYPI_MIRROR_URL": mirror_url(),
        "APT_BUILD_PACKAGES": " ".join(workload.apt_build_packages),
        "APT_RUNTIME_PACKAGES": " ".join(workload.apt_runtime_packages),
        "UV_BUILDER_IMAGE": UV_BUILDER_IMAGE,
        "UV_IMAGE": uv_image(),
        # For both ways that download with uv: this machine's proxy refuses bursts (helpers.py).
        "UV_CONCURRENT_DOWNLOADS": str(UV_CONCURRENT_DOWNLOADS),
    }
    # Exporting the pins runs Poetry: only for the Dockerfiles that take them.
    if "LOCKED_REQUIREMENTS" in dockerfile.read_text():
        args["LOCKED_REQUIREMENTS"] = " ".join(locked_requirements(project.path, workload))
    return [part for key, value in args.items() for part in ("--build-arg", f"{key}={value}")]


def build(
    project: Project, dockerfile: Path, image: str, *, cold: bool = False
) -> tuple[float, str]:
    """Build; return the wall time and the log. Each Dockerfile ignores the args it lacks."""
    command: list[str | Path] = [
        DOCKER,
        "build",
        "--progress=plain",
        "-f",
        dockerfile,
        "-t",
        image,
        *build_args(project, dockerfile),
        *(["--no-cache"] if cold else []),
        project.path,
    ]
    return timed_build(command)


def build_uv_images(arm64: bool = False) -> None:
    """The stand-ins for uv's images, built before (and outside) any timing."""
    uv_image()
    command: list[str | Path] = [
        DOCKER, "build", "-f", ALTERNATIVES / "uv-image.Dockerfile", "-t", UV_BUILDER_IMAGE,
        "--build-arg", f"PYPI_MIRROR_URL={mirror_url()}",
        "--build-arg", f"UV_VERSION={uv_version()}", ALTERNATIVES,
    ]  # fmt: skip
    timed_build(command)
    if arm64:
        uv_image("arm64")
        timed_build(
            [
                DOCKER, "build", "--platform", "linux/arm64", "-f",
                ALTERNATIVES / "uv-image.Dockerfile", "-t", f"{UV_BUILDER_IMAGE}-arm64",
                "--build-arg", f"PYTHON_IMAGE={ARM64_BASE_IMAGE}",
                "--build-arg", f"PYPI_MIRROR_URL={mirror_url()}",
                "--build-arg", f"UV_VERSION={uv_version()}", ALTERNATIVES,
            ]
        )  # fmt: skip


def arm64_cold_build(project: Project, way: Way) -> tuple[float, dict[str, float]]:
    """One cold build for linux/arm64 under emulation, as the release workflow's QEMU builds."""
    workload = project.workload
    image = tag(workload, f"{way.key}-arm64")
    dockerfile = way.dockerfile(workload, project.path)
    reset(project)
    prune_cache_mounts()
    arm64_args = {
        "PYTHON_IMAGE": ARM64_BASE_IMAGE,
        "UV_IMAGE": uv_image("arm64"),
        "UV_BUILDER_IMAGE": f"{UV_BUILDER_IMAGE}-arm64",
    }
    command: list[str | Path] = [
        DOCKER, "build", "--progress=plain", "--platform", "linux/arm64", "-f", dockerfile,
        "-t", image, *build_args(project, dockerfile),
        *(part for key, value in arm64_args.items() for part in ("--build-arg", f"{key}={value}")),
        "--no-cache", project.path,
    ]  # fmt: skip
    elapsed, log_text = timed_build(command)
    machine = run([DOCKER, "run", "--rm", "--entrypoint", "python", image, "-c",
                   "import platform; print(platform.machine())"]).strip()  # fmt: skip
    if machine != "aarch64":
        sys.exit(f"{image} is not an arm64 image ({machine})")
    subprocess.run([DOCKER, "image", "rm", "-f", image], capture_output=True, check=False)
    return elapsed, step_times(log_text)


def prune_cache_mounts() -> None:
    """Empty BuildKit's cache mounts (pip/Poetry/apt caches) so a --no-cache build is really cold.

    Only cache mounts: --no-cache already ignores layers, and the engine is shared with test runs.
    """
    with FileLock(str(BUILD_LOCK)):
        run([DOCKER, "builder", "prune", "-af", "--filter", "type=exec.cachemount"])


def image_size(image: str) -> int:
    return int(run([DOCKER, "image", "inspect", "--format", "{{.Size}}", image]))


def start_to_output(image: str, probe: str) -> float:
    """Wall time from `docker run` to the container's first line of output."""
    command = [DOCKER, "run", "--rm", "--entrypoint", "python", image, "-c", probe]
    start = time.monotonic()
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        elapsed = time.monotonic() - start
        process.stdout.read()
    if process.returncode or not first_line:
        sys.exit(f"{image}: the probe printed nothing or failed ({process.returncode})")
    return elapsed


def engine_version() -> str:
    return run([DOCKER, "version", "--format", "{{.Server.Version}}"]).strip()


# --- Measuring ----------------------------------------------------------------------------------


def measure_floor(project: Project) -> Floor:
    image = tag(project.workload, "floor")
    build(project, ALTERNATIVES / "floor.Dockerfile", image)
    du = run([DOCKER, "run", "--rm", image, "sh", "-c", "du -sb /app/.venv"]).split()[0]
    return Floor(project.workload.key, int(du), image_size(image) - image_size(BASE_IMAGE))


def measure_once(
    project: Project, way: Way, result: Measurement, run_index: int, start_runs: int
) -> None:
    """One repetition: cold build, start-to-output, then the two rebuilds on top of it."""
    workload = project.workload
    image = tag(workload, way.key)
    dockerfile = way.dockerfile(workload, project.path)
    reset(project)
    prune_cache_mounts()
    elapsed, log_text = build(project, dockerfile, image, cold=True)
    result.cold_build.append(elapsed)
    for step, seconds in step_times(log_text).items():
        result.cold_steps.setdefault(step, []).append(seconds)
    result.size_over_base = image_size(image) - image_size(BASE_IMAGE)
    result.start_to_output += [start_to_output(image, workload.probe) for _ in range(start_runs)]
    nonce = f"{run_index}-{time.time_ns()}"
    if workload.source_file:
        append_line(project.path / workload.source_file, nonce)
        result.source_rebuild.append(build(project, dockerfile, image)[0])
    add_dependency(project, nonce)
    result.dependency_rebuild.append(build(project, dockerfile, image)[0])
    reset(project)


def measure_workload(project: Project, runs: int, start_runs: int) -> list[Measurement]:
    results = [Measurement(project.workload.key, way.key) for way in WAYS]
    for run_index in range(runs):
        # Ways interleaved, so a slow spell on the shared machine does not hit one way only.
        for way, result in zip(WAYS, results, strict=True):
            log(f"workload {project.workload.key}, {way.key}: run {run_index + 1}/{runs}")
            measure_once(project, way, result, run_index, start_runs)
    return results


def measure_arm64(project: Project, results: Sequence[Measurement], runs: int) -> None:
    for run_index in range(runs):
        for way in ARM64_WAYS:
            log(f"workload {project.workload.key}, {way.key}, arm64: run {run_index + 1}/{runs}")
            result = way_result(results, way)
            elapsed, steps = arm64_cold_build(project, way)
            result.arm64_cold_build.append(elapsed)
            for step, seconds in steps.items():
                result.arm64_cold_steps.setdefault(step, []).append(seconds)


# --- Reporting ----------------------------------------------------------------------------------

README_BEGIN = "<!-- bench:begin (written by ./dev bench from benchmarks/results/results.md) -->"
README_END = "<!-- bench:end -->"


@dataclass
class Report:
    """One run's measurements and how they were taken: what every results file is made from."""

    stamp: str
    runs: int
    results: dict[str, list[Measurement]]
    floors: dict[str, Floor]

    def to_json(self) -> str:
        return json.dumps(
            {
                "stamp": self.stamp,
                "runs": self.runs,
                "workloads": {
                    key: {"floor": asdict(self.floors[key]), "ways": [asdict(m) for m in ms]}
                    for key, ms in self.results.items()
                },
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> Report:
        data: dict[str, Any] = json.loads(text)
        workloads: dict[str, Any] = data["workloads"]
        return cls(
            stamp=data["stamp"],
            runs=data["runs"],
            results={k: [Measurement(**m) for m in w["ways"]] for k, w in workloads.items()},
            floors={k: Floor(**w["floor"]) for k, w in workloads.items()},
        )


def ratio(value: float, reference: float) -> float:
    return value / reference if reference else float("inf")


def cell(value: float, reference: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1f} ({ratio(value, reference):.2f}x)"


def way_result(measurements: Sequence[Measurement], way: Way) -> Measurement:
    return next(m for m in measurements if m.way == way.key)


def measured_ways(measurements: Sequence[Measurement]) -> list[Way]:
    """The ways of WAYS a report holds (one from before a way was added holds fewer)."""
    keys = {m.way for m in measurements}
    return [way for way in WAYS if way.key in keys]


def table(workload: Workload, results: Sequence[Measurement], floor: Floor) -> list[str]:
    reference = way_result(results, REFERENCE_WAY)
    header = ["way", *(f"{f.label} ({f.unit})" for f in FIGURES), "x floor"]
    lines = [
        f"### ({workload.key}) {workload.title}",
        "",
        f"Floor: {floor.image_over_base / MB:.1f} MB over the base image "
        f"(locked deps + project in a --without-pip venv: {floor.venv_bytes / MB:.1f} MB, "
        f"du -sb; the rest is the run-time apt packages).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for way in measured_ways(results):
        m = way_result(results, way)
        cells = [way.title]
        for figure in FIGURES:
            cells.append(cell(figure.value(m), figure.value(reference)))
        cells.append(f"{ratio(m.size_over_base, floor.image_over_base):.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, "", *step_table(results)]


def step_table(
    results: Sequence[Measurement],
    ways: Sequence[Way] = (TEMPLATE_WAY, REFERENCE_WAY, POETRY_WAY),
    steps: Callable[[Measurement], dict[str, list[float]]] = lambda m: m.cold_steps,
    label: str = "cold build step",
) -> list[str]:
    """Where the cold builds of the template and the reference way spend their time."""
    rows = []
    for column, way in enumerate(ways):
        found = [m for m in results if m.way == way.key]  # reports from before the export way
        for step, samples in (steps(found[0]) if found else {}).items():
            cells = [""] * len(ways)
            cells[column] = f"{median(samples):.1f}"
            rows.append(f"| `{step.replace('|', '/')}` | " + " | ".join(cells) + " |")
    if not rows:
        return []
    header = f"| {label} | " + " | ".join(f"{way.title} (s)" for way in ways) + " |"
    return [header, "|" + "---|" * (len(ways) + 1), *rows, ""]


def arm64_table(results: Mapping[str, list[Measurement]]) -> list[str]:
    """Cold builds for linux/arm64 under emulation, where they were measured."""
    rows, steps = [], []
    for key, measurements in results.items():
        reference = way_result(measurements, REFERENCE_WAY).arm64_cold_build
        ways = [way for way in ARM64_WAYS if way in measured_ways(measurements)]
        for way in ways:
            samples = way_result(measurements, way).arm64_cold_build
            if samples and reference:
                rows.append(
                    f"| ({key}) | {way.title} | {cell(median(samples), median(reference))} |"
                )
        steps += step_table(
            measurements, ways, lambda m: m.arm64_cold_steps, f"({key}) arm64 cold build step"
        )
    if not rows:
        return []
    return [
        "### arm64 under emulation",
        "",
        "Cold builds for `linux/arm64` on this amd64 machine through qemu (binfmt), as the "
        f"release workflow builds arm64, from the `{ARM64_BASE_IMAGE}` stand-in; same cache "
        "pruning.",
        "",
        "| workload | way | cold build, arm64 (s) |",
        "|---|---|---|",
        *rows,
        "",
        *steps,
    ]


@dataclass(frozen=True)
class TargetCheck:
    description: str
    value: float
    limit: float

    @property
    def met(self) -> bool:
        return self.value <= self.limit

    def line(self) -> str:
        verdict = "met" if self.met else f"MISSED by {self.value / self.limit - 1:.0%}"
        return f"- {self.description}: {self.value:.2f} (limit {self.limit:.2f}) — {verdict}"


def target_checks(
    results: Mapping[str, list[Measurement]], floors: Mapping[str, Floor]
) -> list[TargetCheck]:
    checks = []
    figures = {figure.label: figure for figure in FIGURES}
    for key, measurements in results.items():
        template = way_result(measurements, TEMPLATE_WAY)
        reference = way_result(measurements, REFERENCE_WAY)
        checks.append(
            TargetCheck(
                f"({key}) template size over base ÷ floor",
                ratio(template.size_over_base, floors[key].image_over_base),
                MAX_OVERHEAD_OVER_FLOOR,
            )
        )
        for label, limit in REFERENCE_TARGETS.items():
            value = figures[label].value
            checks.append(
                TargetCheck(
                    f"({key}) template {label} ÷ {REFERENCE_WAY.title[3:]}",
                    ratio(value(template), value(reference)),
                    limit,
                )
            )
    # A deps-only image holds no source, so it has no source-rebuild figure to check.
    return [check for check in checks if not math.isnan(check.value)]


def stamp(runs: int) -> str:
    commit = run(["git", "-C", TEMPLATE, "describe", "--always", "--dirty"]).strip()
    return (
        f"{datetime.date.today().isoformat()}, Docker Engine {engine_version()}, "
        f"base {BASE_IMAGE}, template {commit}, medians of {runs} run(s)"
    )


def markdown(report: Report) -> str:
    """results.md: the stamp, one table per workload with its cold-build steps, the targets."""
    lines = [
        "# Benchmark results",
        "",
        f"_{report.stamp}._",
        "",
        f"Times are medians; ratios in brackets are against way {REFERENCE_WAY.title[:1]} "
        f"({REFERENCE_WAY.title[3:]}), measured in the same run (absolute times on these shared "
        "machines are noisy). Cold builds run with `--no-cache` after "
        "`docker builder prune -af --filter type=exec.cachemount` "
        "(BuildKit cache mounts otherwise survive `--no-cache`); the local stand-ins for uv's "
        "images (the uv way's builder, the template's `UV_IMAGE`) are built before the timing, "
        "as a registry would serve them, and both ways download with `UV_CONCURRENT_DOWNLOADS="
        f"{UV_CONCURRENT_DOWNLOADS}` (this machine's proxy refuses bursts of connections). "
        "Rebuilds reuse the cold build's "
        "cache; the source edit appends one line to the app's cli.py (a deps-only image holds no "
        "source), the dependency edit adds `attrs` to pyproject.toml, poetry.lock, uv.lock and "
        "the export policy's export. "
        "Start to output: `docker run --rm` until the first line printed by a probe that imports "
        "the dependencies. Step times are BuildKit's, from the cold builds.",
        "",
    ]
    for workload in WORKLOADS:
        if workload.key in report.results:
            lines += table(workload, report.results[workload.key], report.floors[workload.key])
    lines += arm64_table(report.results)
    checks = target_checks(report.results, report.floors)
    lines += ["### Targets", "", *(check.line() for check in checks), ""]
    return "\n".join(lines)


def readme_block(results_markdown: str) -> str:
    """README.md's benchmark block: results.md without its title."""
    body = results_markdown.split("\n", 2)[2]
    return f"{README_BEGIN}\n{body.strip()}\n{README_END}"


def with_readme_block(readme: str, block: str) -> str:
    """README.md with its marked benchmark block replaced by `block`."""
    start, end = readme.index(README_BEGIN), readme.index(README_END) + len(README_END)
    return readme[:start] + block + readme[end:]


def write_chart(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(report.results)
    figure, axes = plt.subplots(1, len(FIGURES), figsize=(4 * len(FIGURES), 4))
    ways = measured_ways(report.results[keys[0]])
    width = 0.8 / len(ways)
    for axis, measure in zip(axes, FIGURES, strict=True):
        for offset, way in enumerate(ways):
            values = [measure.value(way_result(report.results[k], way)) for k in keys]
            axis.bar([i + offset * width for i in range(len(keys))], values, width, label=way.title)
        axis.set_title(f"{measure.label} ({measure.unit})", fontsize=10)
        middle = (len(ways) - 1) / 2 * width
        axis.set_xticks([i + middle for i in range(len(keys))], [f"({k})" for k in keys])
    axes[0].legend(fontsize=8)
    figure.suptitle(report.stamp, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write_results(report: Report, results_dir: Path = RESULTS, readme: Path = README) -> bool:
    """raw.json, results.md, results.png and README.md's block; True if every target is met."""
    results_dir.mkdir(exist_ok=True)
    (results_dir / "raw.json").write_text(report.to_json() + "\n")
    text = markdown(report)
    (results_dir / "results.md").write_text(text)
    write_chart(report, results_dir / "results.png")
    readme.write_text(with_readme_block(readme.read_text(), readme_block(text)))
    return all(check.met for check in target_checks(report.results, report.floors))


def clean_up(workloads: Iterable[Workload]) -> None:
    """Remove the images and the rendered projects (mypy would find their duplicate packages)."""
    for workload in workloads:
        images = [tag(workload, way) for way in (*(w.key for w in WAYS), "floor")]
        subprocess.run([DOCKER, "image", "rm", "-f", *images], capture_output=True, check=False)
        shutil.rmtree(WORK / workload.key, ignore_errors=True)
    subprocess.run(
        [DOCKER, "image", "rm", "-f", f"{UV_BUILDER_IMAGE}-arm64"], capture_output=True, check=False
    )


# --- Entry point --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="repetitions per figure (default 3)")
    parser.add_argument("--quick", action="store_true", help="one repetition (for development)")
    parser.add_argument("--workloads", default="a,b,c", help="comma-separated keys (default a,b,c)")
    parser.add_argument("--no-arm64", action="store_true", help="skip the arm64 cold builds")
    parser.add_argument(
        "--arm64-runs", type=int, default=1, help="arm64 cold builds per way (default 1)"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the bench-* images and the projects under benchmarks/work/",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="measure nothing: rewrite results.md, the chart and README.md from results/raw.json",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = 1
    return args


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    if args.report_only:
        report = Report.from_json((RESULTS / "raw.json").read_text())
        met = write_results(report)
        print((RESULTS / "results.md").read_text())
        return 0 if met else 1
    by_key = {workload.key: workload for workload in WORKLOADS}
    selected = [by_key[key] for key in args.workloads.split(",")]
    start_runs = 1 if args.quick else 5
    report = Report(stamp(args.runs), args.runs, {}, {})
    met = False
    try:
        log("building the stand-ins for uv's images (not timed)")
        build_uv_images(arm64=not args.no_arm64)
        for workload in selected:
            log(f"workload {workload.key}: rendering and locking")
            project = prepare(workload)
            report.floors[workload.key] = measure_floor(project)
            report.results[workload.key] = measure_workload(project, args.runs, start_runs)
            if workload.key in ARM64_WORKLOADS and not args.no_arm64:
                measure_arm64(project, report.results[workload.key], args.arm64_runs)
            # Written after each workload, so an interrupted run still leaves its results.
            met = write_results(report)
    finally:
        if not args.keep:
            clean_up(selected)
    print((RESULTS / "results.md").read_text())
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
