"""Edit a project's answers file before `copier update` reads it.

    python answers_file.py rename ANSWERS_FILE OLD_NAME NEW_NAME
    python answers_file.py record ANSWERS_FILE NAME VALUE

Copier runs this from a `_migrations` entry of copier.yml (stage "before"):
- `rename`, when a question was renamed: a project updated from a template version that still used
  OLD_NAME keeps its answer under NEW_NAME, instead of the new question's default.
- `record`, when a question's default changed: a project whose answers file has no NAME (edited
  by hand, or made before the question was recorded) keeps VALUE, the default it was made with,
  instead of silently getting the new default. A recorded NAME, whatever its value, is kept.

The file is edited line by line, so its comments and order survive; a file the command does not
apply to is left unchanged.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def _has_key(text: str, name: str) -> bool:
    return re.search(rf"^{re.escape(name)}:(?=\s|$)", text, re.MULTILINE) is not None


def rename_key(text: str, old: str, new: str) -> str:
    """`text`, a flat YAML mapping as Copier writes answers files, with top-level key `old` renamed.

    When `new` is already there, the user answered the new question: that answer wins and nothing
    changes (Copier drops the unknown `old` answer when it rewrites the file).
    """
    if _has_key(text, new):
        return text
    return re.sub(rf"^{re.escape(old)}:(?=\s|$)", f"{new}:", text, count=1, flags=re.MULTILINE)


def with_answer(text: str, name: str, value: str) -> str:
    """`text`, a flat YAML mapping as Copier writes answers files, with `name: value` if absent."""
    if _has_key(text, name):
        return text
    separator = "" if text.endswith("\n") or not text else "\n"
    return f"{text}{separator}{name}: {value}\n"


COMMANDS = {
    "rename": (rename_key, "answer '{0}' is now '{1}'."),
    "record": (with_answer, "it recorded no '{0}'; '{1}', the default it was made with, is kept."),
}


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    (edit, said), answers_file, first, second = COMMANDS[argv[0]], Path(argv[1]), argv[2], argv[3]
    if not answers_file.is_file():
        print(f"answers_file: {answers_file} does not exist; nothing to migrate.", file=sys.stderr)
        return 0
    text = answers_file.read_text(encoding="utf-8")
    edited = edit(text, first, second)
    if edited != text:
        answers_file.write_text(edited, encoding="utf-8")
        print(f"Migrated {answers_file}: " + said.format(first, second), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
