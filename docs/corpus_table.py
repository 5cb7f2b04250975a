"""The README's table of project shapes adoption supports, written from the adoption corpus
(`./dev readme`): each fixture of tests/fixtures/adopt/ opens its README.md with YAML front matter
naming its shape, the real project it imitates, the `sources` it was checked against (each a
GitHub repository, the full commit read and the files read there) and the `--data` a user passes
(none: the README's command alone). tests/test_adopt.py adopts, builds, runs and updates each with
exactly that; `--check` changes nothing and fails when the README differs from what would be
written.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from docs import readme_block

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "adopt"
BEGIN = "<!-- corpus:begin (written by ./dev readme from tests/fixtures/adopt/*/README.md) -->"
END = "<!-- corpus:end -->"
# GitHub's spelling of owner/name, and a full commit id: a short one can become ambiguous.
REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
COMMIT = re.compile(r"[0-9a-f]{40}")


def front_matter(fixture: Path) -> dict[str, Any]:
    """The YAML between the `---` lines that open the fixture's README.md."""
    text = (fixture / "README.md").read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise SystemExit(f"{fixture}/README.md must open with front matter (---)")
    data: dict[str, Any] = yaml.safe_load(text.split("---\n", 2)[1])
    missing = {"shape", "imitates", "sources", "prints"} - data.keys()
    if missing:
        raise SystemExit(f"{fixture}/README.md's front matter lacks {sorted(missing)}")
    problems = source_problems(data["sources"])
    if problems:
        raise SystemExit(f"{fixture}/README.md's sources: " + "; ".join(problems) + ".")
    return data


def source_problems(sources: Any) -> list[str]:
    """What is wrong with a front matter's `sources`: a non-empty list of {repo, commit, read},
    `repo` a GitHub owner/name, `commit` a full commit id, `read` the repository-relative files
    read at that commit."""
    if not isinstance(sources, list) or not sources:
        return ["give a list of {repo, commit, read}, at least one"]
    problems = []
    for number, source in enumerate(sources, 1):
        if not isinstance(source, dict) or set(source) != {"repo", "commit", "read"}:
            problems.append(f"source {number} must have exactly the keys repo, commit and read")
            continue
        if not isinstance(source["repo"], str) or not REPOSITORY.fullmatch(source["repo"]):
            problems.append(f"source {number}'s repo {source['repo']!r} is not a GitHub owner/name")
        if not isinstance(source["commit"], str) or not COMMIT.fullmatch(source["commit"]):
            problems.append(
                f"source {number}'s commit {source['commit']!r} is not a full 40-hex commit id"
            )
        read = source["read"]
        if not isinstance(read, list) or not read:
            problems.append(f"source {number}'s read must list the files read, at least one")
            continue
        for path in read:
            parts = PurePosixPath(path).parts if isinstance(path, str) else ("..",)
            if not parts or PurePosixPath(path).is_absolute() or ".." in parts:
                problems.append(f"source {number}'s read has {path!r}: not a repository path")
    return problems


def source_cell(sources: list[dict[str, Any]]) -> str:
    """Each source as a link to the tree at its commit, then the files read there."""
    return "<br>".join(
        f"[{source['repo']}@{source['commit'][:7]}]"
        f"(https://github.com/{source['repo']}/tree/{source['commit']}): "
        + ", ".join(f"`{path}`" for path in source["read"])
        for source in sources
    )


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
        rows.append(
            f"| `{name}` | {matter['shape']} | {matter['imitates']} "
            f"| {source_cell(matter['sources'])} | {needs} |"
        )
    return "\n".join(
        [BEGIN,
         "| fixture | shape | imitates | read at | what adoption needs besides the command |",
         "|---|---|---|---|---|", *rows, END]
    )  # fmt: skip


def written(readme: str) -> str:
    return readme_block.written(readme, BEGIN, END, table())


if __name__ == "__main__":
    raise SystemExit(readme_block.main(sys.argv[1:], "corpus table", written))
