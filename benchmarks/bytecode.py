"""Start-up cost of `compile_bytecode`: the same app image with and without shipped .pyc files.

    ./dev bench-bytecode [--runs N]      (needs a Docker engine: ../shared/tools/docker-sandbox)

Renders the template twice (an app depending on `requests`), builds both images, then measures
(a) `docker run --rm IMAGE` until the greeting, and (b) inside one running container, the wall
time of `python -c "import requests, my_tool.cli"` repeated N times, which leaves out the
container's own start. Without shipped bytecode the non-root user cannot write `__pycache__` into
the read-only venv, so every start compiles again. Medians, with the ratio against the image with
bytecode. Writes benchmarks/results/bytecode.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from filelock import FileLock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from helpers import BUILD_LOCK, DOCKER, pypi_simple_url  # noqa: E402

WORK = ROOT / "benchmarks" / "work" / "bytecode"
RESULTS = ROOT / "benchmarks" / "results" / "bytecode.md"
IMPORT_LOOP = (
    'for i in $(seq "$RUNS"); do s=$(date +%s%N); python -c "import requests, my_tool.cli"; '
    "e=$(date +%s%N); echo $(( (e - s) / 1000 )); done"
)


def run(*command: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},  # the Dockerfile uses RUN --mount
    )
    if result.returncode:
        sys.exit(f"failed: {' '.join(map(str, command))}\n{result.stdout}\n{result.stderr}")
    return result.stdout


def build(compile_bytecode: bool) -> str:
    project = WORK / f"compile-{str(compile_bytecode).lower()}"
    if not (project / "poetry.lock").exists():
        run(
            sys.executable,
            "-m",
            "copier",
            "copy",
            "--trust",
            "--defaults",
            "--vcs-ref",
            "HEAD",
            "--data",
            "project_name=My Tool",
            "--data",
            'dependencies=["requests>=2.31"]',
            "--data",
            f"compile_bytecode={str(compile_bytecode).lower()}",
            ROOT,
            project,
        )
    tag = f"bench-bytecode:{str(compile_bytecode).lower()}"
    # Every build on these machines holds the one build lock (see tests/helpers.py).
    with FileLock(str(BUILD_LOCK)):
        mirror = f"PYPI_MIRROR_URL={pypi_simple_url()}"
        run(DOCKER, "build", "-q", "--build-arg", mirror, "-t", tag, project)
    return tag


def start_to_output(tag: str, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run(DOCKER, "run", "--rm", "--read-only", tag)
        samples.append(time.perf_counter() - start)
    return samples


def import_times(tag: str, runs: int) -> list[float]:
    out = run(
        DOCKER,
        "run",
        "--rm",
        "--read-only",
        "-e",
        f"RUNS={runs}",
        "--entrypoint",
        "sh",
        tag,
        "-c",
        IMPORT_LOOP,
    )
    return [int(line) / 1e6 for line in out.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    rows = []
    figures: dict[bool, tuple[float, float]] = {}
    for compile_bytecode in (True, False):
        tag = build(compile_bytecode)
        figures[compile_bytecode] = (
            statistics.median(start_to_output(tag, args.runs)),
            statistics.median(import_times(tag, args.runs)),
        )
    with_pyc = figures[True]
    for compile_bytecode, (start, imports) in figures.items():
        rows.append(
            f"| {str(compile_bytecode).lower()} | {start * 1000:.0f} ({start / with_pyc[0]:.2f}x) "
            f"| {imports * 1000:.0f} ({imports / with_pyc[1]:.2f}x) |"
        )
    engine = run(DOCKER, "version", "--format", "{{.Server.Version}}").strip()
    text = "\n".join(
        [
            "# Start-up with and without shipped bytecode",
            "",
            f"_{datetime.date.today()}, Docker Engine {engine}, python:3.13-slim-trixie, app with "
            f"`requests`, medians of {args.runs} runs, `--read-only`, ratios against "
            "`compile_bytecode: true`._",
            "",
            "| compile_bytecode | docker run to greeting (ms) | `import requests, my_tool.cli` in "
            "a running container (ms) |",
            "|---|---|---|",
            *rows,
            "",
        ]
    )
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
