"""Reading rendered Dockerfiles in tests: one parser for every test module."""

from __future__ import annotations


def instructions(dockerfile: str) -> list[str]:
    """Instructions with continuation lines joined and whitespace collapsed; comments dropped."""
    result: list[str] = []
    current: list[str] = []
    for line in dockerfile.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        current.append(stripped.removesuffix("\\").strip())
        if not stripped.endswith("\\"):
            result.append(" ".join(" ".join(current).split()))
            current = []
    assert not current, f"dangling continuation line: {current[-1]!r}"
    return result


def stages(dockerfile: str) -> dict[str, list[str]]:
    """Instructions by stage name (`FROM ... AS name`); those before the first FROM: "preamble"."""
    result: dict[str, list[str]] = {}
    current = "preamble"
    for instruction in instructions(dockerfile):
        if instruction.startswith("FROM "):
            current = instruction.split(" AS ")[-1]
        result.setdefault(current, []).append(instruction)
    return result
