"""Pure functions the template uses, registered as Jinja filters and globals.

Validators return an empty string when the answer is accepted and a full sentence saying
what is wrong and what is accepted otherwise: that is the contract of Copier's `validator:`.
"""

from __future__ import annotations

import datetime
import json
import keyword
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from jinja2 import Environment
from jinja2.ext import Extension
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

# The python_version choices of copier.yml, the one list of supported versions.
PYTHON_VERSIONS: tuple[str, ...] = tuple(
    yaml.safe_load((Path(__file__).resolve().parents[1] / "copier.yml").read_text())[
        "python_version"
    ]["choices"]
)
# PEP 508 distribution names (case-insensitive).
_DIST_NAME = re.compile(r"^([a-z0-9]|[a-z0-9][a-z0-9._-]*[a-z0-9])$", re.IGNORECASE)
_PACKAGE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_CLI_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_EMAIL = re.compile(
    r"^[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
# Debian policy 5.6.1 (package names) and 5.6.12 (versions), optionally `name=version`.
_APT_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]+(=[0-9][A-Za-z0-9.+~:-]*)?$")
_POETRY_VERSION = re.compile(r"^2\.\d+\.\d+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def slugify(text: str) -> str:
    """`My Tool` -> `my-tool`: a normalised distribution name (PEP 503)."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def package_name(slug: str) -> str:
    """`my-tool` -> `my_tool`: the import name derived from a distribution name."""
    return re.sub(r"[^a-z0-9_]", "_", str(slug).lower())


def python_image(python_version: str, debian_release: str) -> str:
    """The official slim base image for an interpreter and a Debian release."""
    return f"python:{python_version}-slim-{debian_release}"


def later_python_versions(python_version: str) -> list[str]:
    """The supported versions from `python_version` up (CI test matrix)."""
    return [v for v in PYTHON_VERSIONS if _version_key(v) >= _version_key(python_version)]


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def license_spdx(license: str) -> str:
    """The SPDX expression of a `license` answer (`Proprietary` -> `LicenseRef-Proprietary`)."""
    return "LicenseRef-Proprietary" if license == "Proprietary" else str(license)


def requirement_names(requirements: Iterable[str]) -> list[str]:
    """Canonical distribution names of PEP 508 strings (`pandas>=2` -> `pandas`)."""
    return [canonicalize_name(Requirement(req).name) for req in requirements]


def toml_string(value: Any) -> str:
    """A TOML basic string (JSON string escapes are a subset TOML accepts)."""
    return json.dumps(str(value), ensure_ascii=False)


def apt_pinned(packages: Iterable[str]) -> bool:
    """True when every apt package carries a `=version` pin."""
    return all("=" in package for package in packages)


def current_year() -> int:
    """The year a project is generated in (LICENSE copyright line)."""
    return datetime.date.today().year


def git_config(key: str) -> str:
    """A value of the user's git configuration, or "" when git or the key is missing."""
    try:
        result = subprocess.run(
            ["git", "config", "--get", key], capture_output=True, text=True, check=False
        )
    except OSError:
        return ""
    return result.stdout.strip()


# Validators ---------------------------------------------------------------------------------


def single_line_error(value: str, what: str) -> str:
    if _CONTROL.search(str(value)):
        return f"{what} must be a single line of text without control characters."
    return ""


def project_name_error(name: str) -> str:
    if not str(name).strip():
        return "project_name is required: a human-readable name such as 'My Tool'."
    if not slugify(name):
        return "project_name must contain at least one ASCII letter or digit, e.g. 'My Tool'."
    if len(str(name)) > 60:
        return "project_name must be at most 60 characters; put the rest in description."
    return single_line_error(name, "project_name")


def project_slug_error(slug: str) -> str:
    if not _DIST_NAME.match(str(slug)):
        return (
            f"project_slug '{slug}' is not a valid distribution name: use ASCII letters, digits, "
            "'-', '_' or '.', starting and ending with a letter or digit (e.g. 'my-tool')."
        )
    return ""


def package_name_error(name: str) -> str:
    name = str(name)
    if not _PACKAGE_NAME.match(name):
        return (
            f"package_name '{name}' is not a valid import name: use lowercase letters, digits and "
            "'_', not starting with a digit (e.g. 'my_tool')."
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"package_name '{name}' is a Python keyword: choose another name, e.g. '{name}_app'."
    if name in sys.stdlib_module_names:
        return (
            f"package_name '{name}' would shadow the standard library module of the same name: "
            f"choose another name, e.g. '{name}_app'."
        )
    return ""


def cli_name_error(name: str) -> str:
    if not _CLI_NAME.match(str(name)):
        return (
            f"cli_name '{name}' is not a valid command name: use letters, digits, '.', '_' or '-', "
            "starting with a letter or digit, no spaces (e.g. 'my-tool')."
        )
    return ""


def email_error(email: str) -> str:
    if email and not _EMAIL.match(str(email)):
        return f"author_email '{email}' is not an email address: expected 'name@example.com'."
    return ""


def poetry_version_error(version: str) -> str:
    if not _POETRY_VERSION.match(str(version)):
        return (
            f"poetry_version '{version}' is not a pinned Poetry 2 release: "
            "expected MAJOR.MINOR.PATCH starting with 2, e.g. '2.5.1'."
        )
    return ""


def _list_error(value: Any, name: str, example: str) -> str:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return f"{name} must be a YAML list of strings, e.g. {example}."
    return ""


def requirements_error(requirements: Any) -> str:
    error = _list_error(requirements, "dependencies", '["requests>=2.32", "pandas"]')
    if error:
        return error
    for requirement in requirements:
        try:
            Requirement(requirement)
        except InvalidRequirement as exc:
            return (
                f"dependencies: '{requirement}' is not a PEP 508 requirement ({exc}); "
                "expected e.g. 'requests>=2.32' or 'pandas[performance]'."
            )
    names = requirement_names(requirements)
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        return f"dependencies: {', '.join(duplicates)} listed more than once; list each once."
    return ""


def apt_packages_error(packages: Any, name: str) -> str:
    error = _list_error(packages, name, '["libpq5", "curl=8.14.1-2"]')
    if error:
        return error
    for package in packages:
        if not _APT_PACKAGE.match(package):
            return (
                f"{name}: '{package}' is not a Debian package name: use lowercase letters, digits, "
                "'+', '-' and '.', at least two characters, optionally pinned as 'name=version' "
                "(e.g. 'libpq5' or 'curl=8.14.1-2')."
            )
    return ""


def index_url_error(url: str) -> str:
    url = str(url)
    if not url:
        return ""
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or re.search(r"[\s\"'`$\\]", url)
    ):
        return (
            f"package_index_url '{url}' is not an http(s) URL of a simple (PEP 503) index: "
            "expected e.g. 'https://pypi.example.com/simple/'."
        )
    if parts.username is not None or parts.password is not None:
        return (
            "package_index_url must not contain credentials (user:password@): they would be "
            "written to pyproject.toml and the image. Give the URL without them and pass "
            "credentials at build time with `docker build --secret id=index_auth,...` "
            "(see the generated README)."
        )
    return ""


FILTERS = {
    "slugify": slugify,
    "package_name": package_name,
    "python_image": python_image,
    "later_python_versions": later_python_versions,
    "license_spdx": license_spdx,
    "requirement_names": requirement_names,
    "toml_string": toml_string,
    "apt_pinned": apt_pinned,
    "project_name_error": project_name_error,
    "project_slug_error": project_slug_error,
    "package_name_error": package_name_error,
    "cli_name_error": cli_name_error,
    "email_error": email_error,
    "poetry_version_error": poetry_version_error,
    "requirements_error": requirements_error,
    "apt_packages_error": apt_packages_error,
    "index_url_error": index_url_error,
    "single_line_error": single_line_error,
}


class TemplateFilters(Extension):
    """Registers FILTERS and `git_config` with Copier's Jinja environment."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters.update(FILTERS)
        environment.globals["git_config"] = git_config
        environment.globals["current_year"] = current_year
