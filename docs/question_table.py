"""The README's question table, written from copier.yml and docs/questions.yml (`./dev readme`).

copier.yml gives the questions, their order and when each is asked; docs/questions.yml gives each
one's default and what it changes, in words. `--check` changes nothing and fails when the README
differs from what would be written (tests/test_docs.py runs it).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from docs import readme_block

ROOT = Path(__file__).resolve().parents[1]
BEGIN = "<!-- questions:begin (written by ./dev readme from copier.yml and docs/questions.yml) -->"
END = "<!-- questions:end -->"
# copier.yml's `when:` and `ask:` conditions, in words (the start of each expression suffices).
CONDITIONS = {
    "{{ advanced_options or": "advanced (or when its default would be refused)",
    "{{ advanced_options }}": "advanced",
    "{{ is_adoptable(": "where there is a project to adopt",
    "{{ project_type == 'app' }}": "apps",
    "{{ project_type == 'deps-only' }}": "environments (deps-only)",
    "{{ existing_project }}": "adoption",
    "{{ existing_project and project_type == 'app' }}": "adopted apps",
    "{{ service_port != 0 }}": "services",
    "{{ ci == 'github' and project_type == 'app' }}": "apps with `ci: github`",
}


def questions() -> dict[str, dict[str, Any]]:
    """copier.yml's questions in order, derived values (`when: false`) left out."""
    data = yaml.safe_load((ROOT / "copier.yml").read_text())
    return {
        name: spec
        for name, spec in data.items()
        if not name.startswith("_") and spec.get("when") is not False
    }


def condition(expression: str) -> str:
    for start, words in CONDITIONS.items():
        if expression.strip().startswith(start):
            return words
    raise SystemExit(f"docs/question_table.py: say in CONDITIONS when {expression!r} asks")


def asked(spec: dict[str, Any]) -> str:
    parts = [condition(spec[key]) for key in ("ask", "when") if isinstance(spec.get(key), str)]
    return ", ".join(parts) or "always"


def table() -> str:
    words = yaml.safe_load((ROOT / "docs" / "questions.yml").read_text())
    asked_questions = questions()
    missing = sorted(asked_questions.keys() - words.keys())
    extra = sorted(words.keys() - asked_questions.keys())
    if missing or extra:
        raise SystemExit(
            f"docs/questions.yml must describe exactly copier.yml's questions: missing {missing}, "
            f"not in copier.yml {extra}"
        )
    rows = [
        f"| `{name}` | {words[name]['default']} | {asked(spec)} | {words[name]['changes']} |"
        for name, spec in asked_questions.items()
    ]
    return "\n".join(
        [BEGIN, "| question | default | asked | what it changes |", "|---|---|---|---|", *rows, END]
    )


def written(readme: str) -> str:
    return readme_block.written(readme, BEGIN, END, table())


if __name__ == "__main__":
    raise SystemExit(readme_block.main(sys.argv[1:], "question table", written))
