"""Each question's validator in copier.yml: one function per question, composing the checks of a
single value (filters.py) with what an adopted project says (existing.py) and the other answers.

A validator returns "" when the answer is accepted, else a sentence saying what is accepted.
Answers that do not apply to the project's shape are not checked (an environment's package name).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from jinja2 import Environment, pass_context
from jinja2.ext import Extension


def _sibling(name: str) -> ModuleType:
    """A module of this folder, by path: Copier loads extensions as files, not as a package."""
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_copier_poetry_docker_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


filters = _sibling("filters")
existing = _sibling("existing")


def package_name_answer_error(
    package_name: str, adopting: bool, project: Any, answers_file: Any
) -> str:
    # A deps-only project adopted as it is builds no package: its package name is not used.
    if adopting and not existing.existing_facts(project)["package_mode"]:
        return ""
    return str(
        filters.package_name_error(package_name)
        or filters.structural_change_error({"package_name": package_name}, project, answers_file)
    )


def project_type_answer_error(project_type: str, project: Any, answers_file: Any) -> str:
    return str(
        filters.structural_change_error({"project_type": project_type}, project, answers_file)
    )


def layout_answer_error(
    layout: str, package_name: str, project_type: str, adopting: bool, project: Any,
    answers_file: Any,
) -> str:  # fmt: skip
    structural = filters.structural_change_error({"layout": layout}, project, answers_file)
    if structural or not (adopting and project_type == "app"):
        return str(structural)
    return str(existing.existing_package_error(package_name, layout, project))


def cli_name_answer_error(cli_name: str, project_type: str) -> str:
    return str(filters.cli_name_error(cli_name)) if project_type == "app" else ""


def cli_target_answer_error(
    cli_target: str, cli_name: str, package_name: str, project_type: str, adopting: bool,
    project: Any,
) -> str:  # fmt: skip
    if project_type != "app":
        return ""
    return str(
        existing.cli_target_error(cli_target, package_name, adopting)
        or (existing.existing_script_error(cli_name, cli_target, project) if adopting else "")
    )


def python_version_answer_error(python_version: str, adopting: bool, project: Any) -> str:
    return str(existing.existing_python_error(python_version, project)) if adopting else ""


def extras_answer_error(extras: Any, adopting: bool, project: Any) -> str:
    return str(
        filters.extras_error(extras)
        or (existing.existing_extras_error(extras, project) if adopting else "")
    )


def build_backend_answer_error(build_backend: str, adopting: bool, project: Any) -> str:
    return str(existing.build_backend_error(build_backend, project)) if adopting else ""


def app_files_answer_error(app_files: Any, project_type: str, adopting: bool, project: Any) -> str:
    # Only an environment (package-mode = false) has code outside a wheel.
    if project_type != "deps-only":
        return ""
    return str(existing.app_files_error(app_files, project, adopting))


def publish_to_pypi_answer_error(publish: bool, ci: str, project_type: str) -> str:
    if publish and not (ci == "github" and project_type == "app"):
        return (
            "publish_to_pypi needs ci: github and project_type: app (the release workflow "
            "publishes the app)."
        )
    return ""


@pass_context
def refused(context: Any, message: Any, question: str) -> str:
    """A validator's message, as the user should see it.

    In a prompt it is returned: Copier shows it under the answer and asks again. Anywhere else
    (an answer given with --data, a default Copier checks before using or offering it) Copier
    raises it as a ValueError, the sentence last under a ~40-line traceback: the run ends here
    instead, with the sentence alone (SystemExit, which Copier and Jinja do not catch; nothing
    has been written yet). An update's recorded answer is only checked for Copier to ask again
    or take the default: its message is returned.
    """
    text = str(message or "")
    if not text or _prompt_on_screen() or _recorded_answer(context, question):
        return text
    # Copier's own wording, without its traceback.
    raise SystemExit(f"Validation error for question '{question}': {text}")


def _prompt_on_screen() -> bool:
    """Whether a questionary prompt is running (it validates what the user typed)."""
    try:
        from prompt_toolkit.application.current import get_app_or_none
    except ModuleNotFoundError:
        return False
    return get_app_or_none() is not None


def _recorded_answer(context: Any, question: str) -> bool:
    """Whether an update is checking the answer its answers file records for `question`."""
    conf = context.get("_copier_conf")
    if context.get("_copier_operation") != "update" or conf is None:
        return False
    try:
        recorded = yaml.safe_load(
            Path(str(conf["dst_path"]), str(conf["answers_file"])).read_text()
        )
    except (OSError, yaml.YAMLError):
        return False
    return (
        isinstance(recorded, dict)
        and question in recorded
        and recorded[question] == context.get(question)
    )


VALIDATORS = {
    function.__name__: function
    for function in (
        package_name_answer_error,
        project_type_answer_error,
        layout_answer_error,
        cli_name_answer_error,
        cli_target_answer_error,
        python_version_answer_error,
        extras_answer_error,
        app_files_answer_error,
        publish_to_pypi_answer_error,
        build_backend_answer_error,
    )
}


class AnswerValidators(Extension):
    """Registers each question's validator as a Jinja global of its own name."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals.update(VALIDATORS)
        environment.filters["refused"] = refused
