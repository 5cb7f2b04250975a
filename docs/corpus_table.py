"""The README's table of project shapes adoption supports, written from the adoption corpus
(`./dev readme`): each fixture of tests/fixtures/adopt/ opens its README.md with YAML front matter
naming its shape, the real project it imitates and the `--data` a user passes (none: the README's
command alone). tests/test_adopt.py adopts, builds, runs and updates each with exactly that;
`--check` changes nothing and fails when the README differs from what would be written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from docs import readme_block

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "adopt"
BEGIN = "<!-- corpus:begin (written by ./dev readme from tests/fixtures/adopt/*/README.md) -->"
END = "<!-- corpus:end -->"


def front_matter(fixture: Path) -> dict[str, Any]:
    """The YAML between the `---` lines that open the fixture's README.md."""
    text = (fixture / "README.md").read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise SystemExit(f"{fixture}/README.md must open with front matter (---)")
    data: dict[str, Any] = yaml.safe_load(text.split("---\n", 2)[1])
    missing = {"shape", "imitates", "prints"} - data.keys()
    if missing:
        raise SystemExit(f"{fixture}/README.md's front matter lacks {sorted(missing)}")
    return data


def corpus() -> dict[str, dict[str, Any]]:
    """Every fixture's front matter, by fixture name."""
    return {path.name: front_matter(path) for path in sorted(FIXTURES.iterdir()) if path.is_dir()}


def data_options(data: dict[str, Any]) -> list[str]:
    """The `--data` arguments of a front matter's `data` (lists as JSON, as the README writes)."""
    return [
        f"{name}={value if isinstance(value, str) else json.dumps(value)}"
        for name, value in data.items()
    ]


def table() -> str:
    rows = []
    for name, matter in corpus().items():
        data = " ".join(f"`--data '{option}'`" for option in data_options(matter.get("data", {})))
        needs = "; ".join(part for part in (data, matter.get("needs", "")) if part) or "nothing"
        rows.append(f"| `{name}` | {matter['shape']} | {matter['imitates']} | {needs} |")
    return "\n".join(
        [BEGIN, "| fixture | shape | imitates | what adoption needs besides the command |",
         "|---|---|---|---|", *rows, END]
    )  # fmt: skip


def written(readme: str) -> str:
    return readme_block.written(readme, BEGIN, END, table())


if __name__ == "__main__":
    raise SystemExit(readme_block.main(sys.argv[1:], "corpus table", written))
