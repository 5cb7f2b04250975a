"""What the template asks (read from copier.yml) and the named answer sets the tests render.

One vocabulary for every test module: a project is named by a shape (`app-src`, `app-flat`,
`deps-only`) followed by `+feature` names, e.g. `app-src+requests+hash-pip`; `answers(name)` merges
the sets left to right. Defaults and choices come from copier.yml, never restated in a test.
"""

from __future__ import annotations

from typing import Any

import jinja2
import yaml

from extensions.existing import ExistingProject
from extensions.filters import TemplateFilters, package_name, slugify
from helpers import PROJECT_NAME, TEMPLATE

_COPIER_YML: dict[str, Any] = yaml.safe_load((TEMPLATE / "copier.yml").read_text())
# Questions in copier.yml order, settings (`_tasks`, ...) left out.
QUESTIONS: dict[str, dict[str, Any]] = {
    name: spec for name, spec in _COPIER_YML.items() if not name.startswith("_")
}
# Values computed from the answers (`when: false`): never asked, never stored.
DERIVED = {name for name, spec in QUESTIONS.items() if spec.get("when") is False}
ASKED = [name for name in QUESTIONS if name not in DERIVED]
# Copier's Jinja environment for the template's own filters and globals.
_JINJA = jinja2.Environment(
    extensions=[TemplateFilters, ExistingProject], undefined=jinja2.StrictUndefined
)


def choices(question: str) -> list[Any]:
    """The accepted values of a question (the values of a `label: value` mapping)."""
    listed = QUESTIONS[question]["choices"]
    return list(listed.values()) if isinstance(listed, dict) else list(listed)


def default(question: str) -> Any:
    """The default of a question for a new project (not an adoption).

    A default that is a plain value is returned as it is; one computed from nothing but
    `existing_project` (adoption reads the existing pyproject.toml) is rendered for a new project.
    """
    value = QUESTIONS[question]["default"]
    if not (isinstance(value, str) and "{{" in value):
        return value
    # Derived values with a plain default (`preferred_python`) are in the context, as in Copier.
    derived = {
        name: spec["default"]
        for name, spec in QUESTIONS.items()
        if spec.get("when") is False and "{{" not in str(spec.get("default", "{{"))
    }
    context = {**derived, "existing_project": False, "_copier_conf": {"dst_path": "/nonexistent"}}
    rendered = _JINJA.from_string(value).render(context)
    assert rendered.strip(), f"{question}'s default depends on other answers"
    # As Copier casts it: a str question keeps the text ("3.13" is not a float).
    return (
        rendered.strip() if QUESTIONS[question].get("type") == "str" else yaml.safe_load(rendered)
    )


PYTHON_VERSIONS: list[str] = choices("python_version")
DEFAULT_PYTHON: str = default("python_version")
DEFAULT_DEBIAN: str = default("debian_release")
DEFAULT_POETRY: str = default("poetry_version")
DEFAULT_BASE_IMAGE = f"python:{DEFAULT_PYTHON}-slim-{DEFAULT_DEBIAN}"
# The slug (and default console script) and import name copier.yml derives from PROJECT_NAME.
PROJECT_SLUG = slugify(PROJECT_NAME)
PACKAGE_NAME = package_name(PROJECT_SLUG)

SHAPES: dict[str, dict[str, Any]] = {
    "app-src": {},
    "app-flat": {"layout": "flat", "cli_name": "mt"},
    "deps-only": {"project_type": "deps-only", "dependencies": ["six>=1.16"]},
}
FEATURES: dict[str, dict[str, Any]] = {
    "requests": {"dependencies": ["requests>=2.31"]},
    "pyyaml": {"dependencies": ["PyYAML>=6"]},
    "no-dependencies": {"dependencies": []},
    "hash-poetry": {"hash_policy": "poetry"},
    "hash-pip": {"hash_policy": "pip"},
    "hash-none": {"hash_policy": "none"},
    "hash-export": {"hash_policy": "export"},
    "apt": {"apt_build_packages": ["gcc", "libpq-dev"], "apt_runtime_packages": ["libpq5"]},
    "apt-pinned": {"apt_build_packages": ["gcc=4:14.2.0-1"]},
    "private-index": {"package_index_url": "https://pypi.example.com/simple/"},
    "no-bytecode": {"compile_bytecode": False},
    "py310": {"python_version": "3.10"},
    "py312": {"python_version": "3.12"},
    "py314": {"python_version": "3.14"},
    "py310-bookworm": {"python_version": "3.10", "debian_release": "bookworm"},
    "py311-bookworm": {"python_version": "3.11", "debian_release": "bookworm"},
    "poetry-2.1.3": {"poetry_version": "2.1.3"},
    "no-pre-commit": {"use_pre_commit": False},
    "no-ci": {"ci": "none"},
    "pypi": {"publish_to_pypi": True},
    # A service: the port and health path, and the console script's default arguments.
    "service": {"service_port": 8000, "healthcheck_path": "/health"},
    # gunicorn's heartbeat files in /dev/shm (a tmpfs in Docker and Kubernetes): the image then
    # runs with a read-only root file system.
    "serve-args": {
        "image_cmd": ["serve", "--bind", "0.0.0.0:8000", "--worker-tmp-dir", "/dev/shm"]
    },
    "gunicorn": {"dependencies": ["gunicorn>=23"]},
    "uvicorn": {"dependencies": ["uvicorn>=0.30"]},
    "uvicorn-args": {"image_cmd": ["serve", "--host", "0.0.0.0", "--port", "8000"]},
    "hypercorn": {"dependencies": ["hypercorn>=0.17"]},
    # Hypercorn drops requests still running 3 s after the stop signal unless told otherwise.
    "hypercorn-args": {
        "image_cmd": ["serve", "--bind", "0.0.0.0:8000", "--graceful-timeout", "30"]
    },
    "waitress": {"dependencies": ["waitress>=3"]},
    "waitress-args": {"image_cmd": ["serve", "--listen=0.0.0.0:8000"]},
    # deps-only: a command in place of python.
    "http-server": {"image_cmd": ["python", "-m", "http.server", "8000"]},
    "extras": {"extras": ["compat"]},
    # deps-only: the application's code, run from source (a module and a folder).
    "app-files": {"app_files": ["manage.py", "site/"]},
}


def answers(name: str) -> dict[str, Any]:
    """The answers of `shape+feature+...`, merged left to right."""
    shape, *features = name.split("+")
    merged = dict(SHAPES[shape])
    for feature in features:
        merged.update(FEATURES[feature])
    return merged


def answer(answers: dict[str, Any], question: str) -> Any:
    """An answer as the template sees it: given, or copier.yml's default."""
    return answers[question] if question in answers else default(question)


def is_app(answers: dict[str, Any]) -> bool:
    return bool(answer(answers, "project_type") == "app")


def cli_name(answers: dict[str, Any]) -> str:
    """The console script: the answer, or copier.yml's default (the project slug)."""
    return str(answers.get("cli_name", PROJECT_SLUG))
