"""Rename a question in a project's answers file, before `copier update` reads it.

    python rename_answer.py ANSWERS_FILE OLD_NAME NEW_NAME

Copier runs this from a `_migrations` entry of copier.yml (stage "before") when a project is updated
from a template version that still used OLD_NAME. The answer's value is kept, so the update renders
the project with the user's original choice instead of the new question's default. The file is
edited line by line, so its comments and order survive; a file without OLD_NAME is left unchanged.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def rename_key(text: str, old: str, new: str) -> str:
    """`text`, a flat YAML mapping as Copier writes answers files, with top-level key `old` renamed.

    When `new` is already there, the user answered the new question: that answer wins and nothing
    changes (Copier drops the unknown `old` answer when it rewrites the file).
    """
    if re.search(rf"^{re.escape(new)}:(?=\s|$)", text, re.MULTILINE):
        return text
    return re.sub(rf"^{re.escape(old)}:(?=\s|$)", f"{new}:", text, count=1, flags=re.MULTILINE)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    answers_file, old, new = Path(argv[0]), argv[1], argv[2]
    if not answers_file.is_file():
        print(f"rename_answer: {answers_file} does not exist; nothing to migrate.", file=sys.stderr)
        return 0
    text = answers_file.read_text(encoding="utf-8")
    renamed = rename_key(text, old, new)
    if renamed != text:
        answers_file.write_text(renamed, encoding="utf-8")
        print(f"Migrated {answers_file}: answer '{old}' is now '{new}'.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
