"""Arbitrary answers are refused with a message, or encoded for every file they reach.

Property-based: hypothesis draws single-line Unicode (and ASCII with every punctuation mark) for
each free-text answer and renders a project. Either Copier refuses the answer with the
validator's sentence and writes nothing, or every generated file parses in its own syntax, passes
the project's own linters, and carries the answer back exactly (pyproject metadata, the answers
file, the Python constants, the README title).
"""

from __future__ import annotations

import ast
import json
import os
import re
import tomllib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from answer_sets import PACKAGE_NAME
from extensions.filters import DEV_TOOL_NAMES
from helpers import ProjectFactory, render, run

# BuildKit reads `# key=value` lines at the top of a Dockerfile as parser directives.
DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
# Answers a person types freely; the others are choices, booleans or lists.
FREE_TEXT = (
    "project_name",
    "description",
    "author_name",
    "author_email",
    "cli_name",
    "cli_target",
    "project_slug",
    "package_name",
    "package_index_url",
)
# Every code point but surrogates (which no file can hold), and ASCII with all its punctuation,
# where the syntax-breaking characters are dense.
ANY_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=30),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=30),
)
# Questions whose defaults derive from an answer: a drawn answer may be refused through them
# (project_name "0" gives package_name "0", which is not an identifier).
DERIVED = {
    "project_name": ("project_slug", "package_name", "cli_name"),
    "project_slug": ("package_name", "cli_name"),
}
# 15 draws per answer keep the fast tier fast; HYPOTHESIS_EXAMPLES=500 searches harder.
PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


Render = Callable[[dict[str, Any]], "Path | str"]


@pytest.fixture
def render_or_refuse(tmp_path: Path) -> Render:
    """Renders the answers: the project's path, or Copier's refusal message (nothing written)."""

    def render_answers(answers: dict[str, Any]) -> Path | str:
        dest = tmp_path / uuid.uuid4().hex
        try:
            render(dest, answers)
        except (ValueError, SystemExit) as refusal:  # the template's refusals exit (answers.py)
            assert not dest.exists() or not any(dest.iterdir()), "a refused answer wrote files"
            return str(refusal)
        return dest

    return render_answers


def assert_refusal_explains(message: str, question: str) -> None:
    refused = re.match(r"Validation error for question '(\w+)': ", message)
    assert refused, message
    assert refused[1] in (question, *DERIVED.get(question, ())), message
    reason = message.split(": ", 1)[1]
    assert reason.endswith(".") and len(reason.split()) >= 5, f"not a sentence: {reason!r}"


def assert_project_is_sound(project: Path, answers: dict[str, Any]) -> None:
    """Every file parses in its own syntax and lints clean; each answer reads back exactly."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    for name, value in answers.items():
        assert recorded[name] == value, f"{name} does not read back from .copier-answers.yml"
    metadata = pyproject["project"]
    assert metadata["name"] == recorded["project_slug"]
    assert metadata["description"] == recorded["description"]
    author = metadata.get("authors", [{}])[0]
    assert author.get("name", "") == recorded["author_name"]
    assert author.get("email", "") == recorded["author_email"]
    assert metadata["scripts"] == {recorded["cli_name"]: recorded["cli_target"]}
    sources = pyproject["tool"]["poetry"].get("source", [{"url": ""}])
    assert sources[0]["url"] == recorded["package_index_url"]

    package = project / "src" / recorded["package_name"]
    stub = recorded["cli_target"] == f"{recorded['package_name']}.cli:main"
    assert (package / "cli.py").is_file() is stub, "the stub CLI exists only as the target"
    if stub:
        cli = ast.parse((package / "cli.py").read_text(encoding="utf-8"))
        constants = {
            node.targets[0].id: ast.literal_eval(node.value)
            for node in cli.body
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
        }
        assert constants["PROJECT_NAME"] == recorded["project_name"]
    init = ast.parse((package / "__init__.py").read_text(encoding="utf-8"))
    assert ast.get_docstring(init, clean=False) == recorded["project_name"] + "."
    for source in project.rglob("*.py"):
        ast.parse(source.read_text(encoding="utf-8"), str(source))
    for document in [*project.rglob("*.yml"), *project.rglob("*.yaml")]:
        yaml.safe_load(document.read_text(encoding="utf-8"))

    title = MarkdownIt().parse((project / "README.md").read_text(encoding="utf-8"))
    assert title[0].tag == "h1" and title[1].children is not None
    assert "".join(child.content for child in title[1].children) == recorded["project_name"]

    first_line = (project / "Dockerfile").read_text(encoding="utf-8").splitlines()[0]
    assert not DIRECTIVE.match(first_line), f"a parser directive: {first_line!r}"
    run(["hadolint", "--no-color", project / "Dockerfile"])
    run(["ruff", "check", "--no-cache", "--quiet", "."], cwd=project)
    run(["ruff", "format", "--no-cache", "--check", "--quiet", "."], cwd=project)


@pytest.mark.parametrize("question", FREE_TEXT)
@PROPERTY_SETTINGS
@given(value=ANY_TEXT)
def test_any_answer_is_refused_or_reaches_every_file_intact(
    render_or_refuse: Render, question: str, value: str
) -> None:
    answers = {question: value}
    if question == "package_index_url" and not value.startswith("http"):
        answers[question] = "https://pypi.example.com/" + value
    if question == "cli_target":
        # In the package, so that accepted targets are drawn too (any module:function of it).
        answers[question] = f"{PACKAGE_NAME}.{value}"
    outcome = render_or_refuse(answers)
    if isinstance(outcome, str):
        assert_refusal_explains(outcome, question)
    else:
        assert_project_is_sound(outcome, answers)


def exec_forms(project: Path) -> dict[str, list[str]]:
    """The rendered Dockerfile's runtime CMD and HEALTHCHECK commands, read from the raw lines
    (a JSON array must survive exactly as written: no whitespace collapsed)."""
    lines = (project / "Dockerfile").read_text(encoding="utf-8").splitlines()
    forms: dict[str, list[str]] = {}
    for number, line in enumerate(lines):
        if line.startswith("CMD "):
            forms["CMD"] = json.loads(line.removeprefix("CMD "))
        elif line.startswith("HEALTHCHECK "):
            forms["HEALTHCHECK"] = json.loads(lines[number + 1].strip().removeprefix("CMD "))
    return forms


def probed_url(probe: list[str]) -> str:
    """The one string literal of the health probe's Python source: the URL it fetches."""
    [url] = [
        node.value
        for node in ast.walk(ast.parse(probe[2]))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    return url


@pytest.mark.parametrize("project_type", ["app", "deps-only"])
@PROPERTY_SETTINGS
@given(value=st.lists(ANY_TEXT, min_size=1, max_size=3))
def test_any_image_cmd_is_refused_or_reaches_the_dockerfile_intact(
    render_or_refuse: Render, project_type: str, value: list[str]
) -> None:
    answers: dict[str, Any] = {"image_cmd": value}
    if project_type == "deps-only":
        answers["project_type"] = project_type
    outcome = render_or_refuse(answers)
    if isinstance(outcome, str):
        assert_refusal_explains(outcome, "image_cmd")
        return
    assert exec_forms(outcome)["CMD"] == value
    if project_type == "app":
        assert_project_is_sound(outcome, answers)
    else:
        run(["hadolint", "--no-color", outcome / "Dockerfile"])


@PROPERTY_SETTINGS
@given(value=st.one_of(ANY_TEXT, ANY_TEXT.map(lambda text: "/" + text)))
def test_any_healthcheck_path_is_refused_or_reaches_every_file_intact(
    render_or_refuse: Render, value: str
) -> None:
    answers = {"service_port": 8000, "healthcheck_path": value}
    outcome = render_or_refuse(answers)
    if isinstance(outcome, str):
        assert_refusal_explains(outcome, "healthcheck_path")
        return
    assert_project_is_sound(outcome, answers)
    assert_service_reads_back(outcome, answers)


@PROPERTY_SETTINGS
@given(
    value=st.lists(
        st.one_of(ANY_TEXT, st.from_regex(r"[a-z0-9][a-z0-9._-]{0,12}", fullmatch=True)),
        min_size=1,
        max_size=3,
    )
)
def test_any_extras_are_refused_or_reach_every_file_intact(
    render_or_refuse: Render, value: list[str]
) -> None:
    # Where each policy names the extras: Poetry's install in the Dockerfile, or the export script.
    for policy in ("export", "poetry"):
        answers = {"extras": value, "hash_policy": policy}
        outcome = render_or_refuse(answers)
        if isinstance(outcome, str):
            assert_refusal_explains(outcome, "extras")
            return
        assert_project_is_sound(outcome, answers)
        pyproject = (outcome / "pyproject.toml").read_text(encoding="utf-8")
        metadata = tomllib.loads(pyproject)["project"]
        assert metadata["optional-dependencies"] == {extra: [] for extra in value}
        if policy == "poetry":
            flags = "".join(f" --extras {extra}" for extra in value)
            assert f"--no-interaction{flags} --compile" in (outcome / "Dockerfile").read_text()
        else:
            script = ast.parse((outcome / "build-tools" / "export_lock.py").read_text())
            [extras] = [
                node.value
                for node in script.body
                if isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == "EXTRAS"
            ]
            assert extras is not None and ast.literal_eval(extras) == value


def assert_service_reads_back(project: Path, answers: dict[str, Any]) -> None:
    """The health probe fetches exactly the answered URL; the README shows it in a code span."""
    url = f"http://127.0.0.1:{answers['service_port']}{answers['healthcheck_path']}"
    assert probed_url(exec_forms(project)["HEALTHCHECK"]) == url
    readme = MarkdownIt().parse((project / "README.md").read_text(encoding="utf-8"))
    spans = {
        child.content
        for token in readme
        for child in token.children or []
        if child.type == "code_inline"
    }
    assert url in spans


# The cases the first release let through, each a class of its own.
@pytest.mark.parametrize(
    "answers",
    [
        {"project_name": 'Tool "quoted" \\ back\\slash """ triple'},
        {"project_name": "Trailing backslash \\"},
        {"project_name": "syntax=evil/x"},
        {"project_name": "Müller 山田 Tool *bold* [link](x) <b>"},
        {"description": "Costs $5 ${HOME} $(id) `id` \"q\" back\\slash 'single'"},
        {"cli_name": "my.tool"},
        {"cli_name": "my..tool"},
        {"author_name": 'O\'Brien "Bob" \\ Ünïcödé'},
        {"image_cmd": ['say "hi"', "$HOME", "back\\slash", "ünï  山田", "`id`", "#x", "]"]},
        {"service_port": 8000, "healthcheck_path": "/a?b=$c&d=(e)*%20"},
    ],
    ids=lambda answers: next(iter(answers)),
)
def test_known_hostile_answers_are_encoded(
    render_or_refuse: Render, answers: dict[str, Any]
) -> None:
    project = render_or_refuse(answers)
    assert isinstance(project, Path), project
    assert_project_is_sound(project, answers)
    if "image_cmd" in answers:
        assert exec_forms(project)["CMD"] == answers["image_cmd"]
    if "healthcheck_path" in answers:
        assert_service_reads_back(project, answers)


@pytest.mark.parametrize(
    ("answers", "question", "reason"),
    [
        ({"project_name": "A\u0085B"}, "project_name", "single line"),
        ({"description": "line\u2028separator"}, "description", "single line"),
        ({"author_name": "tab\there"}, "author_name", "single line"),
        ({"project_name": " padded "}, "project_name", "spaces"),
        ({"description": "ends with a backslash\\"}, "description", "backslash"),
        ({"cli_name": "python"}, "cli_name", "every virtual environment has"),
        ({"cli_name": "python3.13"}, "cli_name", "every virtual environment has"),
        ({"cli_name": "pip3"}, "cli_name", "every virtual environment has"),
        ({"cli_name": "activate"}, "cli_name", "every virtual environment has"),
        ({"project_slug": "pytest"}, "project_slug", "a tool the project installs"),
        ({"project_slug": "Ruff"}, "project_slug", "a tool the project installs"),
        ({"project_slug": "requests", "dependencies": ["requests>=2"]}, "dependencies", "itself"),
        ({"package_index_url": "https://example.com:99999/simple/"}, "package_index_url", "port"),
        ({"package_index_url": "https://example.com/<b>/simple/"}, "package_index_url", "ASCII"),
        ({"package_index_url": "https://exämple.com/simple/"}, "package_index_url", "ASCII"),
        ({"dependencies": ["six", "Six>=1"]}, "dependencies", "more than once"),
        (
            {"service_port": 8000, "healthcheck_path": '/");import os;("'},
            "healthcheck_path",
            "quotes",
        ),
        ({"service_port": 8000, "healthcheck_path": "/a b"}, "healthcheck_path", "spaces"),
        ({"service_port": 8000, "healthcheck_path": "health"}, "healthcheck_path", "start with"),
        ({"image_cmd": ["serve", "two\nlines"]}, "image_cmd", "single line"),
        ({"image_cmd": ["echo", "ends\\"]}, "image_cmd", "backslash"),
        ({"image_cmd": ["serve", 8000]}, "image_cmd", "quote numbers"),
        ({"extras": ["pg; rm -rf /"]}, "extras", "PEP 685"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_careless_answers_are_refused_with_the_reason(
    render_or_refuse: Render, answers: dict[str, Any], question: str, reason: str
) -> None:
    message = render_or_refuse(answers)
    assert isinstance(message, str), f"accepted: {answers}"
    assert_refusal_explains(message, question)
    assert reason in message


def test_marker_split_requirements_are_accepted(render_or_refuse: Render) -> None:
    split = ['numpy>=2; python_version>="3.12"', 'numpy<2; python_version<"3.12"']
    project = render_or_refuse({"dependencies": split})
    assert isinstance(project, Path), project
    assert (
        tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"] == split
    )


def test_uppercase_slug_gives_a_lowercase_image_name(render_or_refuse: Render) -> None:
    project = render_or_refuse({"project_slug": "MyTool"})
    assert isinstance(project, Path), project
    readme = (project / "README.md").read_text()
    dockerfile = (project / "Dockerfile").read_text()
    assert "docker build -t mytool ." in readme and "docker build -t mytool ." in dockerfile
    assert "-t MyTool" not in readme + dockerfile


def test_slug_transliterates_latin_letters(render_or_refuse: Render) -> None:
    project = render_or_refuse({"project_name": "Müller 山田 Straße Tool"})
    assert isinstance(project, Path), project
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert (recorded["project_slug"], recorded["package_name"]) == (
        "muller-strasse-tool",
        "muller_strasse_tool",
    )


@pytest.mark.slow
def test_dev_tool_names_cover_the_generated_lock(locked_project: ProjectFactory) -> None:
    """A project named like anything its dev group installs cannot be locked: the refused names
    must include every package of a default project's lock (a new dev tool brings new ones)."""
    lock = tomllib.loads((locked_project() / "poetry.lock").read_text())
    locked = {package["name"] for package in lock["package"]}
    assert locked <= DEV_TOOL_NAMES, (
        f"not refused as project_slug: {sorted(locked - DEV_TOOL_NAMES)}"
    )


def test_look_alike_letters_of_the_name_pass_the_projects_lint(render_or_refuse: Render) -> None:
    # Greek capital zeta and alpha, and the acute accent, are ruff confusables (RUF001, RUF002).
    answers = {"project_name": "\u0396eta\u00b4s \u0391pp M\u00fcller"}
    project = render_or_refuse(answers)
    assert isinstance(project, Path), project
    assert_project_is_sound(project, answers)
    allowed = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert set(allowed["allowed-confusables"]) == {"\u0396", "\u00b4", "\u0391", "\u00fc"}
