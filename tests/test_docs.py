"""docs/dockerfile.md stays true to the Dockerfile it explains and to the tests it cites."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from answer_sets import ASKED, answers
from dockerfile_syntax import instructions
from docs import corpus_table, question_table
from helpers import TEMPLATE, ProjectFactory

DOC = TEMPLATE / "docs" / "dockerfile.md"
README = TEMPLATE / "README.md"
CLAIMS = TEMPLATE / "tests" / "test_claims.py"
FENCED_DOCKERFILE = re.compile(r"^```dockerfile\n(.*?)^```", re.MULTILINE | re.DOTALL)
CLAIM_REFERENCE = re.compile(r"tests/test_claims\.py::(\w+)")
PROPERTY_NAME = re.compile(r"`([a-z]+(?:-[a-z]+)+)`")
PROPERTY_TESTS = [TEMPLATE / "tests" / "test_docker.py", TEMPLATE / "tests" / "test_dockerfile.py"]


def test_instructions_splits_on_continuations_and_skips_comments() -> None:
    text = "# note\nRUN a \\\n    && b\n\nENV X=1\n"
    assert instructions(text) == ["RUN a && b", "ENV X=1"]


@pytest.fixture(scope="module")
def doc_text() -> str:
    return DOC.read_text()


# The default answers, then each variant the page explains in "What the other answers change".
DOCUMENTED = [
    "app-src",
    "app-src+hash-poetry",
    "app-src+hash-pip",
    "app-src+hash-none",
    "app-src+private-index+hash-poetry",
    "deps-only",
    "deps-only+hash-poetry",
    "app-src+no-bytecode",
    "app-src+apt",
    "app-src+private-index",
    "app-src+private-index+hash-pip",
    "app-src+service+serve-args",
    "app-src+extras",
    "app-src+extras+hash-pip",
]


@pytest.mark.parametrize("variant", DOCUMENTED)
def test_every_instruction_is_quoted(
    rendered_project: ProjectFactory, doc_text: str, variant: str
) -> None:
    # Rendering without the lock task is enough: the Dockerfile does not depend on poetry.lock.
    dockerfile = (rendered_project(**answers(variant)) / "Dockerfile").read_text()
    quoted = {
        instruction
        for block in FENCED_DOCKERFILE.findall(doc_text)
        for instruction in instructions(block)
    }
    assert instructions(dockerfile), "the rendered Dockerfile has no instructions"
    missing = [line for line in instructions(dockerfile) if line not in quoted]
    assert not missing, (
        "docs/dockerfile.md does not quote (and so does not explain) these instructions of the "
        f"Dockerfile rendered as {variant}:\n" + "\n".join(missing)
    )


def claim_tests() -> set[str]:
    tree = ast.parse(CLAIMS.read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def test_cited_claim_tests_exist(doc_text: str) -> None:
    cited = set(CLAIM_REFERENCE.findall(doc_text))
    assert cited, "docs/dockerfile.md cites no test of tests/test_claims.py"
    assert not cited - claim_tests(), f"cited but not defined: {sorted(cited - claim_tests())}"


def test_every_claim_test_is_cited(doc_text: str) -> None:
    # A claim the suite checks but the docs never mention is evidence nobody will find.
    uncited = claim_tests() - set(CLAIM_REFERENCE.findall(doc_text))
    assert not uncited, f"tests/test_claims.py tests missing from docs/dockerfile.md: {uncited}"


def readme_question_names() -> list[str]:
    """The questions named in the first column of the README's question table."""
    section = README.read_text().split("\n## Questions\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [name for row in rows for name in re.findall(r"`(\w+)`", row.split("|")[1])]


def test_readme_question_table_is_written_from_copier_yml() -> None:
    # Generated, not checked after the fact: `./dev readme` writes it; it must be current.
    readme = README.read_text()
    assert question_table.written(readme) == readme, "run ./dev readme"


def test_readme_corpus_table_is_written_from_the_fixture_readmes() -> None:
    # The shapes adoption supports: one row per fixture of tests/fixtures/adopt/, from its front
    # matter, which tests/test_adopt.py adopts, builds and runs with exactly that --data.
    readme = README.read_text()
    assert corpus_table.written(readme) == readme, "run ./dev readme"
    assert readme.count("\n| `", readme.index(corpus_table.BEGIN)) >= 10


def test_every_corpus_fixture_names_the_commit_and_files_it_was_checked_against() -> None:
    # The provenance the issue asks for ("name the real project it imitates"), in a form a
    # reader can follow: each source links the repository's tree at the full commit read.
    for name, matter in corpus_table.corpus().items():
        assert corpus_table.source_problems(matter["sources"]) == [], name
        cell = corpus_table.source_cell(matter["sources"])
        for source in matter["sources"]:
            assert f"https://github.com/{source['repo']}/tree/{source['commit']})" in cell


BLACK_COMMIT = "8947c48ef2077c3a301b03c1e814dc2e3f78436e"


@pytest.mark.parametrize(
    ("sources", "problem"),
    [
        (None, "give a list of {repo, commit, read}, at least one"),
        ([], "give a list of {repo, commit, read}, at least one"),
        ([{"repo": "psf/black", "commit": "8947c48"}], "exactly the keys repo, commit and read"),
        (
            [{"repo": "black", "commit": BLACK_COMMIT, "read": ["a"]}],
            "repo 'black' is not a GitHub owner/name",
        ),
        (
            [{"repo": "psf/black", "commit": "8947c48", "read": ["pyproject.toml"]}],
            "commit '8947c48' is not a full 40-hex commit id",
        ),
        (
            [{"repo": "psf/black", "commit": BLACK_COMMIT, "read": []}],
            "read must list the files read, at least one",
        ),
        (
            [
                {
                    "repo": "psf/black",
                    "commit": BLACK_COMMIT,
                    "read": ["../pyproject.toml", "/etc/passwd"],
                }
            ],
            "read has '../pyproject.toml': not a repository path",
        ),
    ],
)
def test_a_fixture_without_checkable_sources_stops_the_corpus_table(
    tmp_path: Path, sources: object, problem: str
) -> None:
    fixture = tmp_path / "shapeless"
    fixture.mkdir()
    matter = {"shape": "s", "imitates": "i", "prints": "p", "sources": sources}
    (fixture / "README.md").write_text(f"---\n{yaml.safe_dump(matter)}---\n# shapeless\n")
    with pytest.raises(SystemExit) as stopped:
        corpus_table.front_matter(fixture)
    assert problem in str(stopped.value)
    assert str(stopped.value).startswith(f"{fixture}/README.md's sources: ")


def test_a_fixture_without_sources_is_named_with_what_its_front_matter_lacks(
    tmp_path: Path,
) -> None:
    (tmp_path / "README.md").write_text("---\nshape: s\nimitates: i\nprints: p\n---\n")
    with pytest.raises(SystemExit, match=r"front matter lacks \['sources'\]"):
        corpus_table.front_matter(tmp_path)


def test_readme_question_table_lists_every_question_once_in_copier_yml_order() -> None:
    # A question missing from the table is an answer nobody learns how to give.
    assert readme_question_names() == ASKED


def test_every_property_the_page_cites_is_a_section_of_the_tests(doc_text: str) -> None:
    legend = doc_text.split("- **a property by name**", 1)[1].split("\n- **", 1)[0]
    named = set(PROPERTY_NAME.findall(legend))
    assert len(named) > 10, f"the legend of property names did not parse: {named}"
    tests = "\n".join(path.read_text() for path in PROPERTY_TESTS)
    unsectioned = {name for name in named if not re.search(rf"^\s*# {name}\b", tests, re.M)}
    assert not unsectioned, f"no `# name` section or comment in the tests: {unsectioned}"
    cited = {
        name
        for evidence in re.findall(r"\*Evidence:\*([^.(]*)", doc_text)
        for name in PROPERTY_NAME.findall(evidence)
    }
    assert cited == named, f"in the legend only: {named - cited}; cited only: {cited - named}"
