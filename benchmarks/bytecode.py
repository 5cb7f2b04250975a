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
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from answer_sets import DEFAULT_BASE_IMAGE, PACKAGE_NAME, answers  # noqa: E402
from helpers import DOCKER, docker_build, docker_run, render, run  # noqa: E402

WORK = ROOT / "benchmarks" / "work" / "bytecode"
RESULTS = ROOT / "benchmarks" / "results" / "bytecode.md"
IMPORT_LOOP = (
    'for i in $(seq "$RUNS"); do s=$(date +%s%N); '
    f'python -c "import requests, {PACKAGE_NAME}.cli"; '
    "e=$(date +%s%N); echo $(( (e - s) / 1000 )); done"
)


def build(compile_bytecode: bool) -> str:
    """The image of an app depending on requests, with or without shipped bytecode."""
    flag = str(compile_bytecode).lower()
    project = WORK / f"compile-{flag}"
    if not (project / "poetry.lock").exists():
        shutil.rmtree(project, ignore_errors=True)
        name = "app-src+requests" if compile_bytecode else "app-src+requests+no-bytecode"
        render(project, answers(name), lock=True)
    tag = f"bench-bytecode:{flag}"
    docker_build(project, tag)
    return tag


def start_to_output(tag: str, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        docker_run(tag, options=["--read-only"])
        samples.append(time.perf_counter() - start)
    return samples


def import_times(tag: str, runs: int) -> list[float]:
    out = docker_run(
        tag, "-c", IMPORT_LOOP, options=["--read-only", "-e", f"RUNS={runs}", "--entrypoint", "sh"]
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
    engine = run([DOCKER, "version", "--format", "{{.Server.Version}}"]).stdout.strip()
    text = "\n".join(
        [
            "# Start-up with and without shipped bytecode",
            "",
            f"_{datetime.date.today()}, Docker Engine {engine}, {DEFAULT_BASE_IMAGE}, app with "
            f"`requests`, medians of {args.runs} runs, `--read-only`, ratios against "
            "`compile_bytecode: true`._",
            "",
            "| compile_bytecode | docker run to greeting (ms) | "
            f"`import requests, {PACKAGE_NAME}.cli` in "
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
