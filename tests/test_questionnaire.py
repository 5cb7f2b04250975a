"""The questionnaire as people meet it: `copier copy` and `copier update` in a terminal.

Every other module renders with `--defaults` or `--data`; these tests drive Copier's prompts in a
pseudo-terminal (`helpers.Questionnaire`, as copier's own suite does with pexpect), answer the few
prompts a person would, press Enter on the rest, and then run the generated project's own tests.
"""

from __future__ import annotations

import re
import shutil
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from jinja2 import Environment

from answer_sets import PYTHON_VERSIONS, QUESTIONS, default
from extensions.existing import ExistingProject
from extensions.filters import display_width
from helpers import (
    DOWN,
    TEMPLATE,
    Questionnaire,
    commit,
    copier,
    git,
    read_answers,
    run,
    template_snapshot,
    tree,
)

# The prompts a newcomer meets making a new app (README, "To generate a project of your own").
NEWCOMER_PROMPTS = 14
HOST_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
UP = "\x1b[A"
# Ctrl-U clears the default a text prompt offers, so the typed answer replaces it.
CLEAR = "\x15"
FIXTURES = Path(__file__).parent / "fixtures" / "adopt"


def python_keys() -> str:
    """Arrow keys from the default Python to this machine's, so the project installs here."""
    steps = PYTHON_VERSIONS.index(HOST_PYTHON) - PYTHON_VERSIONS.index(default("python_version"))
    return (DOWN if steps > 0 else UP) * abs(steps)


def help_of(question: str) -> str:
    """The help text as copier.yml writes it, up to any rendered part (`{{ ... }}`)."""
    return str(QUESTIONS[question]["help"]).split("{{")[0]


def own_tests_pass(project: Path) -> str:
    """`poetry install` and the project's own tests, as its README says; pytest's summary."""
    run(["poetry", "install", "--no-interaction"], cwd=project)
    return run(["poetry", "run", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project).stdout


def test_every_help_is_one_line_that_fits_100_columns() -> None:
    for name, spec in QUESTIONS.items():
        if spec.get("when") is False:
            continue  # derived, never shown
        help_text = str(spec.get("help", ""))
        assert help_text, f"{name} has no help"
        assert "\n" not in help_text.strip(), f"{name}'s help is more than one line"
        # Copier shows "🎤 <help>  " then the answer, in a 100-column terminal.
        assert display_width(f"🎤 {help_text}  ") <= 100, f"{name}'s help is wider than 100 columns"


def test_the_readme_documents_the_newcomers_prompt_count() -> None:
    readme = (TEMPLATE / "README.md").read_text()
    assert f"asks a new app {NEWCOMER_PROMPTS} questions" in readme


@pytest.mark.slow
def test_a_new_app_asks_only_what_shapes_it_and_its_tests_pass(tmp_path: Path) -> None:
    session = Questionnaire(
        "copy", "--trust", template_snapshot(), "my-tool",
        cwd=tmp_path,
        answers={
            help_of("project_name"): CLEAR + "My Tool",
            help_of("python_version"): python_keys(),
        },
    )  # fmt: skip
    project = tmp_path / "my-tool"
    # No adoption in a new folder; no expert choice behind advanced_options.
    assert session.prompts[0] == help_of("project_name")
    assert help_of("existing_project") not in session.prompts
    assert help_of("hash_policy") not in session.prompts
    assert len(session.prompts) <= NEWCOMER_PROMPTS, session.prompts
    answers = read_answers(project)
    # Unasked questions still record their defaults, so an update keeps them.
    assert answers["hash_policy"] == default("hash_policy")
    assert answers["poetry_version"] == default("poetry_version")
    assert answers["python_version"] == HOST_PYTHON
    assert (project / "poetry.lock").is_file(), "the copy task did not lock the project"
    assert re.search(r"\d+ passed", own_tests_pass(project))
    greeting = run(["poetry", "run", "my-tool"], cwd=project).stdout
    assert greeting.strip() == "Hello, world! This is My Tool."


@pytest.mark.slow
def test_a_deps_only_environment_from_the_prompts(tmp_path: Path) -> None:
    session = Questionnaire(
        "copy", "--trust", template_snapshot(), "analysis",
        cwd=tmp_path,
        answers={help_of("project_type"): DOWN, help_of("python_version"): python_keys()},
    )  # fmt: skip
    project = tmp_path / "analysis"
    # The folder's name is the offered project name; an environment has no layout or command.
    assert read_answers(project)["project_name"] == "analysis"
    assert read_answers(project)["project_type"] == "deps-only"
    assert help_of("layout") not in session.prompts
    assert not [prompt for prompt in session.prompts if prompt.startswith(help_of("cli_name"))]
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["tool"]["poetry"]["package-mode"] is False
    assert re.search(r"\d+ passed", own_tests_pass(project))


@pytest.mark.slow
def test_a_refused_default_is_never_offered_and_the_answer_is_asked_for(tmp_path: Path) -> None:
    # "___" is no project name: no default is offered, Enter is refused with the validator's
    # sentence, and the typed name is taken (not a crash before the first prompt).
    session = Questionnaire(
        "copy", "--trust", "--skip-tasks", template_snapshot(), "___",
        cwd=tmp_path,
        answers={help_of("project_name"): "\rMy Tool"},
    )  # fmt: skip
    assert "project_name is required" in session.output
    assert read_answers(tmp_path / "___")["project_name"] == "My Tool"


@pytest.mark.slow
def test_adoption_is_asked_first_where_there_is_a_project_and_keeps_its_files(
    tmp_path: Path,
) -> None:
    project = tmp_path / "greeter"
    shutil.copytree(FIXTURES / "greeter", project)
    git(project, "init", "--quiet", "--initial-branch=main")
    commit(project, "The team's project")
    before = tree(project)
    session = Questionnaire(
        "copy", "--trust", template_snapshot(), ".",
        cwd=project,
        answers={help_of("python_version"): python_keys()},
    )  # fmt: skip
    assert session.prompts[0] == help_of("existing_project")
    answers = read_answers(project)
    assert answers["existing_project"] is True
    assert answers["project_slug"] == "greeter"
    assert answers["cli_name"] == "greet"
    after = tree(project)
    assert {name: after[name] for name in before} == before, "a team file changed"
    assert (project / "Dockerfile").is_file()
    assert re.search(r"\d+ passed", own_tests_pass(project))


@pytest.mark.parametrize(
    ("fixture", "adopting", "shown"),
    [("inkwell", True, "(declared: inkwell, inkwelld)"), ("inkwell", False, "(e.g. my-tool)")],
    ids=["adoption", "new-project"],
)
def test_the_cli_name_prompt_offers_the_scripts_an_adopted_project_declares(
    fixture: str, adopting: bool, shown: str
) -> None:
    # Copier renders a help text like any value; inkwell declares two scripts (psf/black's
    # shape): the first is the default, either is accepted (tests/test_adopt.py adopts both).
    environment = Environment(extensions=[ExistingProject])
    rendered = environment.from_string(str(QUESTIONS["cli_name"]["help"])).render(
        existing_project=adopting, _copier_conf={"dst_path": FIXTURES / fixture}
    )
    assert rendered == help_of("cli_name") + shown
    assert display_width(f"🎤 {rendered}  ") <= 100


@pytest.mark.slow
def test_an_interactive_update_keeps_unasked_answers_and_takes_new_ones(tmp_path: Path) -> None:
    template = tmp_path / "template"
    shutil.copytree(template_snapshot(), template)
    git(template, "init", "--quiet", "--initial-branch=main")
    commit(template, "template")
    git(template, "tag", "1.0.0")
    project = tmp_path / "project"
    copier(
        "copy", "--trust", "--defaults", "--data", "project_name=My Tool",
        "--data", f"python_version={HOST_PYTHON}", "--data", "hash_policy=pip",
        "--data", 'dependencies=["six"]', str(template), str(project),
    )  # fmt: skip
    git(project, "init", "--quiet", "--initial-branch=main")
    commit(project, "generated")
    # Copier re-asks every question with the recorded answer as its default: Enter keeps it.
    session = Questionnaire(
        "update", "--trust", "--skip-tasks",
        cwd=project,
        answers={help_of("description"): "Says hello"},
    )  # fmt: skip
    assert help_of("hash_policy") not in session.prompts
    answers = read_answers(project)
    assert answers["hash_policy"] == "pip", "an unasked answer was lost by the update"
    assert answers["dependencies"] == ["six"]
    assert answers["description"] == "Says hello"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == "Says hello"
    assert not list(project.rglob("*.rej"))
    assert re.search(r"\d+ passed", own_tests_pass(project))
    # The recorded answers file is what the next update starts from.
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "1.0.0"
