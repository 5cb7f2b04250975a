"""Record an answer the project's answers file lacks, before `copier update` reads it.

    python record_answer.py ANSWERS_FILE NAME VALUE

Copier runs this from a `_migrations` entry of copier.yml (stage "before") when a question's default
changed: a project whose answers file has no NAME (edited by hand, or made before the question was
recorded) keeps VALUE, the default it was made with, instead of silently getting the new default.
A file that records NAME, whatever its value, is left unchanged; the line is appended, so the
file's comments and order survive.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def with_answer(text: str, name: str, value: str) -> str:
    """`text`, a flat YAML mapping as Copier writes answers files, with `name: value` if absent."""
    if re.search(rf"^{re.escape(name)}:(?=\s|$)", text, re.MULTILINE):
        return text
    separator = "" if text.endswith("\n") or not text else "\n"
    return f"{text}{separator}{name}: {value}\n"


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    answers_file, name, value = Path(argv[0]), argv[1], argv[2]
    if not answers_file.is_file():
        print(f"record_answer: {answers_file} does not exist; nothing to migrate.", file=sys.stderr)
        return 0
    text = answers_file.read_text(encoding="utf-8")
    recorded = with_answer(text, name, value)
    if recorded != text:
        answers_file.write_text(recorded, encoding="utf-8")
        print(
            f"Migrated {answers_file}: it recorded no '{name}'; '{value}', the default it was"
            " made with, is kept.",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
