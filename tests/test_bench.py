"""The benchmark's reporting, on canned measurements, and README.md's block against results.md.

Measuring needs an engine and half an hour; what is written from the measurements (ratios against
the reference way, target verdicts, step times, the README block) is checked here without one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import bench
from helpers import TEMPLATE

STAMP = (
    "2026-01-01, Docker Engine 20.10, base python:3.13-slim-trixie, template abc1234, "
    "medians of 3 run(s)"
)

BUILDKIT_LOG = """\
#5 [builder 1/6] FROM docker.io/library/python:3.13-slim-trixie
#5 DONE 0.0s
#7 [builder 2/6] RUN --mount=type=bind,source=build-tools,target=/t     python -m pip install uv
#7 1.018 Collecting uv==0.13.9
#7 DONE 4.7s
#8 [builder 3/6] RUN python -m venv --without-pip /app/.venv || true
#8 DONE 0.4s
#9 [runtime 2/3] COPY --from=builder /app/.venv /app/.venv
#9 DONE 0.1s
#10 [builder 4/6] WORKDIR /src
#10 DONE 0.0s
"""


def measurement(
    workload: str, way: str, cold: float, source: float | None, size: float
) -> bench.Measurement:
    return bench.Measurement(
        workload=workload,
        way=way,
        size_over_base=int(size * bench.MB),
        cold_build=[cold - 1, cold, cold + 5],
        source_rebuild=[] if source is None else [source, source, source],
        dependency_rebuild=[2.0, 2.0, 2.0],
        start_to_output=[0.3],
        cold_steps={f"builder: RUN {way} install": [cold / 2, cold / 2, cold / 2]},
    )


def canned_report() -> bench.Report:
    """Workload a (app) and b (deps-only): the template 2x the uv way's cold build, its poetry
    policy 0.8x, else equal; arm64 cold builds of a for the template and the uv way."""
    sizes = {"template": 3.1, "uv": 3.3, "blog": 13.4, "naive": 3.2, "poetry": 3.1}
    colds = {"template": 10.0, "poetry": 4.0}
    results = {
        "a": [measurement("a", way, colds.get(way, 5.0), 1.5, sizes[way]) for way in sizes],
        "b": [measurement("b", way, 6.0, None, 140.0) for way in sizes],
    }
    for m in results["a"]:
        m.arm64_cold_build = {"template": [30.0], "uv": [40.0]}.get(m.way, [])
    floors = {
        "a": bench.Floor("a", venv_bytes=3_100_000, image_over_base=3_100_000),
        "b": bench.Floor("b", venv_bytes=140_000_000, image_over_base=140_000_000),
    }
    return bench.Report(STAMP, 3, results, floors)


def test_table_gives_medians_and_ratios_against_the_uv_way() -> None:
    text = bench.markdown(canned_report())
    assert f"_{STAMP}._" in text
    rows = [line for line in text.splitlines() if line.startswith("| 1. this template")]
    assert len(rows) == 2  # one per workload, (a) first
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    # Medians of [9, 10, 15] and [4, 5, 10]; sizes 3.1 MB against 3.3 MB; floor 3.1 MB.
    assert cells == [
        "1. this template (default: hash_policy export)",
        "3.1 (0.94x)",
        "10.0 (2.00x)",
        "1.5 (1.00x)",
        "2.0 (1.00x)",
        "0.3 (1.00x)",
        "1.00",
    ]
    starts = [line.split(" | ")[0] for line in text.splitlines()]
    assert starts.count("| 2. uv guide pattern") == 2
    assert starts.count("| 5. this template, hash_policy poetry") == 2
    # arm64 under emulation: the template and the uv way, against the uv way.
    assert "| (a) | 1. this template (default: hash_policy export) | 30.0 (0.75x) |" in text
    assert "| (a) | 2. uv guide pattern | 40.0 (1.00x) |" in text


def test_targets_say_by_how_much_a_target_is_missed() -> None:
    report = canned_report()
    checks = {
        check.description: check for check in bench.target_checks(report.results, report.floors)
    }
    cold = checks["(a) template cold build ÷ uv guide pattern"]
    assert (cold.value, cold.limit, cold.met) == (2.0, 1.0, False)
    assert cold.line().endswith("MISSED by 100%")
    assert checks["(a) template rebuild, source edit ÷ uv guide pattern"].met
    assert checks["(a) template image size over base ÷ uv guide pattern"].met
    assert checks["(a) template size over base ÷ floor"].met
    # A deps-only image has no source to edit: no source-rebuild target for it.
    assert "(b) template rebuild, source edit ÷ uv guide pattern" not in checks
    assert "(b) template cold build ÷ uv guide pattern" in checks
    assert (
        "- (a) template cold build ÷ uv guide pattern: 2.00 (limit 1.00) — MISSED by 100%"
        in bench.markdown(report)
    )
    # The template's default is held to the uv way on every figure; hash_policy poetry is reported.
    assert {check.limit for check in checks.values() if "÷ uv" in check.description} == {1.0}
    assert not any("poetry" in description for description in checks)


def test_step_times_come_from_buildkit_progress() -> None:
    assert bench.step_times(BUILDKIT_LOG) == {
        "builder: RUN python -m pip install uv": 4.7,
        "builder: RUN python -m venv --without-pip /app/.venv || true": 0.4,
        "runtime: COPY --from=builder /app/.venv /app/.venv": 0.1,
    }
    steps = bench.step_table(canned_report().results["a"])
    assert "| `builder: RUN template install` | 5.0 |  |  |" in steps
    assert "| `builder: RUN uv install` |  | 2.5 |  |" in steps
    assert "| `builder: RUN poetry install` |  |  | 2.0 |" in steps


def test_results_files_and_readme_block_are_written_from_one_report(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        f"# Title\n\n{bench.README_BEGIN}\nold figures\n{bench.README_END}\n\nAfter.\n"
    )
    met = bench.write_results(canned_report(), tmp_path / "results", readme)
    assert met is False  # the cold build misses its target
    results = (tmp_path / "results" / "results.md").read_text()
    text = readme.read_text()
    assert (
        "old figures" not in text and text.startswith("# Title\n") and text.endswith("\nAfter.\n")
    )
    assert bench.readme_block(results) in text
    assert (tmp_path / "results" / "results.png").stat().st_size > 0
    again = bench.Report.from_json((tmp_path / "results" / "raw.json").read_text())
    assert bench.markdown(again) == results


def test_readme_block_matches_the_results_file() -> None:
    results = (TEMPLATE / "benchmarks" / "results" / "results.md").read_text()
    readme = (TEMPLATE / "README.md").read_text()
    assert bench.readme_block(results) in readme, (
        "README.md's benchmark block is stale: ./dev bench --report-only"
    )


def test_results_file_is_the_report_of_the_stored_measurements() -> None:
    raw = TEMPLATE / "benchmarks" / "results" / "raw.json"
    report = bench.Report.from_json(raw.read_text())
    assert bench.markdown(report) == (raw.parent / "results.md").read_text()
    assert set(report.results) == {"a", "b", "c"}
    for measurements in report.results.values():
        assert [m.way for m in measurements] == [way.key for way in bench.WAYS]
    assert f"medians of {report.runs} run(s)" in report.stamp


@pytest.mark.parametrize("text", ["", "no markers here"])
def test_readme_without_markers_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        bench.with_readme_block(text, "block")
