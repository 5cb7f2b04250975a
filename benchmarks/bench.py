"""Benchmark the template's Dockerfile against two common alternatives.

For each workload (an app with `requests`, a deps-only `pandas` environment, an app with
`psycopg2` built from its sdist) the image is built three ways: this template's Dockerfile, the
two-stage Poetry pattern many blogs publish, and a naive single-stage `pip install`. Each way is
measured for image size, cold build, rebuild after a source edit, rebuild after adding a
dependency and container start-to-output time; results go to benchmarks/results/.

Run with `./dev bench [--runs N | --quick] [--workloads a,b,c]` (needs a Docker engine).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from subprocess import CompletedProcess
from typing import NoReturn

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE.parent
ALTERNATIVES = HERE / "alternatives"
RESULTS = HERE / "results"
WORK = HERE / "work"
DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")
BASE_IMAGE = "python:3.13-slim-trixie"
PYTHON_VERSION = "3.13"
TAG_PREFIX = "bench"
MB = 1_000_000

# Targets of issue 6.
MAX_OVERHEAD_OVER_FLOOR = 1.1
MAX_SOURCE_REBUILD_RATIO = 0.2


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


def template_dockerfile(_: Workload, project: Path) -> Path:
    return project / "Dockerfile"


def alternative(prefix: str) -> Callable[[Workload, Path], Path]:
    def dockerfile(workload: Workload, _: Path) -> Path:
        kind = "app" if workload.project_type == "app" else "deps"
        return ALTERNATIVES / f"{prefix}-{kind}.Dockerfile"

    return dockerfile


TEMPLATE_WAY = Way("template", "1. this template", template_dockerfile)
BLOG_WAY = Way("blog", "2. blog Poetry pattern", alternative("blog-poetry"))
NAIVE_WAY = Way("naive", "3. naive pip install", alternative("naive-pip"))
WAYS = (TEMPLATE_WAY, BLOG_WAY, NAIVE_WAY)


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


def tool_env() -> dict[str, str]:
    """Poetry and copier outside the tooling venv, so Poetry finds a Python 3.13 for the project."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["POETRY_VIRTUALENVS_IN_PROJECT"] = "true"
    env["DOCKER_BUILDKIT"] = "1"
    return env


def execute(command: Sequence[str | Path], cwd: Path | None = None) -> CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )


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


def timed(command: Sequence[str | Path]) -> float:
    """Wall time of a command, retried once: other users of the shared engine can break a build."""
    for attempt in ("first", "retry"):
        start = time.monotonic()
        result = execute(command)
        if result.returncode == 0:
            return time.monotonic() - start
        log(f"{attempt} attempt failed: {result.stderr.strip().splitlines()[-1:]}")
        wait_for_engine()
    fail(command, result)


def wait_for_engine(timeout: float = 300) -> None:
    """Wait until the engine answers again (someone may restart the shared daemon)."""
    deadline = time.monotonic() + timeout
    while execute([DOCKER, "info"]).returncode and time.monotonic() < deadline:
        time.sleep(5)


def log(message: str) -> None:
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", flush=True)


def mirror_url() -> str:
    """PyPI's simple index, from the environment or pip's own default (no host written here)."""
    url = os.environ.get("POETRY_PYPI_MIRROR_URL")
    if url:
        return url
    from pip._internal.models.index import PyPI

    return str(PyPI.simple_url)


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


def render(workload: Workload, dest: Path) -> None:
    """`copier copy` with default answers plus the workload's; the copy task runs `poetry lock`."""
    data = {
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
    render(workload, path)
    ignore = shutil.ignore_patterns(".venv")
    pristine = shutil.copytree(path, root / "pristine", ignore=ignore)
    added = shutil.copytree(path, root / "added", ignore=ignore, symlinks=True)
    run(["poetry", "add", "--lock", workload.added_dependency], cwd=added)
    return Project(workload, path, pristine, added)


def reset(project: Project) -> None:
    names = ["pyproject.toml", "poetry.lock"]
    if project.workload.source_file:
        names.append(project.workload.source_file)
    for name in names:
        shutil.copy2(project.pristine / name, project.path / name)


def append_line(path: Path, nonce: str) -> None:
    """A comment unique to this repetition: no earlier build's layer cache can match the edit."""
    with path.open("a") as file:
        file.write(f"# benchmark edit {nonce}\n")


def add_dependency(project: Project, nonce: str) -> None:
    for name in ("pyproject.toml", "poetry.lock"):
        shutil.copy2(project.with_added_dependency / name, project.path / name)
    append_line(project.path / "pyproject.toml", nonce)


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


def build_args(project: Project) -> list[str]:
    workload = project.workload
    args = {
        "PYPI_MIRROR_URL": mirror_url(),
        "APT_BUILD_PACKAGES": " ".join(workload.apt_build_packages),
        "APT_RUNTIME_PACKAGES": " ".join(workload.apt_runtime_packages),
        "LOCKED_REQUIREMENTS": " ".join(locked_requirements(project.path, workload)),
    }
    return [part for key, value in args.items() for part in ("--build-arg", f"{key}={value}")]


def build(project: Project, dockerfile: Path, image: str, *, cold: bool = False) -> float:
    """Build and return the wall time; the template ignores the build args it does not declare."""
    command: list[str | Path] = [
        DOCKER,
        "build",
        "--progress=plain",
        "-f",
        dockerfile,
        "-t",
        image,
        *build_args(project),
        *(["--no-cache"] if cold else []),
        project.path,
    ]
    return timed(command)


def prune_cache_mounts() -> None:
    """Empty BuildKit's cache mounts (pip/Poetry/apt caches) so a --no-cache build is really cold.

    Only cache mounts: --no-cache already ignores layers, and the engine is shared with test runs.
    """
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
    result.cold_build.append(build(project, dockerfile, image, cold=True))
    result.size_over_base = image_size(image) - image_size(BASE_IMAGE)
    result.start_to_output += [start_to_output(image, workload.probe) for _ in range(start_runs)]
    nonce = f"{run_index}-{time.time_ns()}"
    if workload.source_file:
        append_line(project.path / workload.source_file, nonce)
        result.source_rebuild.append(build(project, dockerfile, image))
    add_dependency(project, nonce)
    result.dependency_rebuild.append(build(project, dockerfile, image))
    reset(project)


def measure_workload(project: Project, runs: int, start_runs: int) -> list[Measurement]:
    results = [Measurement(project.workload.key, way.key) for way in WAYS]
    for run_index in range(runs):
        # Ways interleaved, so a slow spell on the shared machine does not hit one way only.
        for way, result in zip(WAYS, results, strict=True):
            log(f"workload {project.workload.key}, {way.key}: run {run_index + 1}/{runs}")
            measure_once(project, way, result, run_index, start_runs)
    return results


# --- Reporting ----------------------------------------------------------------------------------


def ratio(value: float, reference: float) -> float:
    return value / reference if reference else float("inf")


def cell(value: float, reference: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1f} ({ratio(value, reference):.2f}x)"


def table(workload: Workload, results: Sequence[Measurement], floor: Floor) -> list[str]:
    blog = next(m for m in results if m.way == BLOG_WAY.key)
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
    for way, m in zip(WAYS, results, strict=True):
        cells = [way.title]
        for figure in FIGURES:
            cells.append(cell(figure.value(m), figure.value(blog)))
        cells.append(f"{ratio(m.size_over_base, floor.image_over_base):.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


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
    for key, measurements in results.items():
        template = next(m for m in measurements if m.way == TEMPLATE_WAY.key)
        blog = next(m for m in measurements if m.way == BLOG_WAY.key)
        checks.append(
            TargetCheck(
                f"({key}) template size over base ÷ floor",
                ratio(template.size_over_base, floors[key].image_over_base),
                MAX_OVERHEAD_OVER_FLOOR,
            )
        )
        checks.append(
            TargetCheck(
                f"({key}) template source rebuild ÷ way-2 source rebuild",
                ratio(median(template.source_rebuild), median(blog.source_rebuild)),
                MAX_SOURCE_REBUILD_RATIO,
            )
        )
        checks += [
            TargetCheck(
                f"({key}) template {f.label} ÷ way 2", ratio(f.value(template), f.value(blog)), 1.0
            )
            for f in FIGURES
        ]
    # A deps-only image holds no source, so it has no source-rebuild figure to check.
    return [check for check in checks if not math.isnan(check.value)]


def stamp(runs: int) -> str:
    commit = run(["git", "-C", TEMPLATE, "describe", "--always", "--dirty"]).strip()
    return (
        f"{datetime.date.today().isoformat()}, Docker Engine {engine_version()}, "
        f"base {BASE_IMAGE}, template {commit}, medians of {runs} run(s)"
    )


def write_markdown(
    results: Mapping[str, list[Measurement]], floors: Mapping[str, Floor], runs: int, path: Path
) -> list[TargetCheck]:
    checks = target_checks(results, floors)
    lines = [
        "# Benchmark results",
        "",
        f"_{stamp(runs)}._",
        "",
        "Ratios in brackets are against way 2. Cold builds run with `--no-cache` after "
        "`docker builder prune -af --filter type=exec.cachemount` (BuildKit cache mounts "
        "otherwise survive `--no-cache`). Rebuilds reuse the cold build's cache; the source "
        "edit appends one line to the app's cli.py (a deps-only image holds no source), "
        "the dependency edit adds `attrs` to pyproject.toml and poetry.lock. Start to output: "
        "`docker run --rm` until the first line printed by a probe that imports the "
        "dependencies.",
        "",
    ]
    for workload in WORKLOADS:
        if workload.key in results:
            lines += table(workload, results[workload.key], floors[workload.key])
    lines += ["## Targets", "", *(check.line() for check in checks), ""]
    path.write_text("\n".join(lines))
    return checks


def write_chart(results: Mapping[str, list[Measurement]], runs: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(results)
    figure, axes = plt.subplots(1, len(FIGURES), figsize=(4 * len(FIGURES), 4))
    width = 0.8 / len(WAYS)
    for axis, measure in zip(axes, FIGURES, strict=True):
        for offset, way in enumerate(WAYS):
            values = [measure.value(next(m for m in results[k] if m.way == way.key)) for k in keys]
            axis.bar([i + offset * width for i in range(len(keys))], values, width, label=way.title)
        axis.set_title(f"{measure.label} ({measure.unit})", fontsize=10)
        axis.set_xticks([i + width for i in range(len(keys))], [f"({k})" for k in keys])
    axes[0].legend(fontsize=8)
    figure.suptitle(stamp(runs), fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def save_raw(results: Mapping[str, list[Measurement]], floors: Mapping[str, Floor]) -> None:
    raw = {
        key: {"floor": asdict(floors[key]), "ways": [asdict(m) for m in ms]}
        for key, ms in results.items()
    }
    (WORK / "raw.json").write_text(json.dumps(raw, indent=2))


def clean_up(workloads: Iterable[Workload]) -> None:
    """Remove the images and the rendered projects (mypy would find their duplicate packages)."""
    for workload in workloads:
        images = [tag(workload, way) for way in (*(w.key for w in WAYS), "floor")]
        subprocess.run([DOCKER, "image", "rm", "-f", *images], capture_output=True, check=False)
        shutil.rmtree(WORK / workload.key, ignore_errors=True)


# --- Entry point --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="repetitions per figure (default 3)")
    parser.add_argument("--quick", action="store_true", help="one repetition (for development)")
    parser.add_argument("--workloads", default="a,b,c", help="comma-separated keys (default a,b,c)")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the bench-* images and the projects under benchmarks/work/",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = 1
    return args


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    by_key = {workload.key: workload for workload in WORKLOADS}
    selected = [by_key[key] for key in args.workloads.split(",")]
    start_runs = 1 if args.quick else 5
    results: dict[str, list[Measurement]] = {}
    floors: dict[str, Floor] = {}
    checks: list[TargetCheck] = []
    try:
        for workload in selected:
            log(f"workload {workload.key}: rendering and locking")
            project = prepare(workload)
            floors[workload.key] = measure_floor(project)
            results[workload.key] = measure_workload(project, args.runs, start_runs)
            # Written after each workload, so an interrupted run still leaves its results.
            checks = write_results(results, floors, args.runs)
    finally:
        if not args.keep:
            clean_up(selected)
    print((RESULTS / "results.md").read_text())
    return 0 if all(check.met for check in checks) else 1


def write_results(
    results: Mapping[str, list[Measurement]], floors: Mapping[str, Floor], runs: int
) -> list[TargetCheck]:
    save_raw(results, floors)
    RESULTS.mkdir(exist_ok=True)
    write_chart(results, runs, RESULTS / "results.png")
    return write_markdown(results, floors, runs, RESULTS / "results.md")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
