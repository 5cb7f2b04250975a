"""A block of README.md written from the repository's own data (`./dev readme`): the text
between a BEGIN and an END marker line is replaced by a generated table; `--check` changes
nothing and fails when the README differs from what would be written."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def written(readme: str, begin: str, end: str, block: str) -> str:
    """`readme` with the text from `begin` to `end` (both kept) replaced by `block`."""
    start, stop = readme.index(begin), readme.index(end) + len(end)
    return readme[:start] + block + readme[stop:]


def main(argv: list[str], what: str, write: Callable[[str], str]) -> int:
    """Write README.md as `write` makes it from the current text, or with `--check` report
    (naming `what`) that it is not current."""
    current = README.read_text()
    wanted = write(current)
    if "--check" in argv:
        if wanted != current:
            print(f"README.md's {what} is not current: run ./dev readme", file=sys.stderr)
            return 1
        return 0
    README.write_text(wanted)
    return 0
