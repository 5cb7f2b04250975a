"""Adoption: applying the template around a Poetry project that already exists.

The questions read their defaults from the project's pyproject.toml (PEP 621 `[project]` or
Poetry's own `[tool.poetry]` table), and the validators check the answers the image depends on
(console script, Python bound, extras, package location) against it. Functions here never fail
on a missing or unreadable pyproject.toml: the update renders the template in empty temporary
folders too, where there is nothing to read (and nothing to check).
"""

from __future__ import annotations

import functools
import posixpath
import re
import subprocess
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, pass_context
from jinja2.ext import Extension
from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression
from packaging.requirements import InvalidRequirement, Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

if TYPE_CHECKING:
    from poetry.core.constraints.version import VersionConstraint

PYPROJECT = "pyproject.toml"
# What the template renders at fixed paths (every file but the package, the tests and the
# answers file). Adoption keeps each one the project already has; tests/test_adopt.py checks
# this list against what the template renders.
TEMPLATE_FILES = (
    "pyproject.toml",
    "README.md",
    "LICENSE",
    ".gitignore",
    ".dockerignore",
    "Dockerfile",
    "build-tools/poetry.txt",
    "build-tools/backend.txt",
    "build-tools/export_lock.py",
    "build-tools/poetry-core.txt",
    ".pre-commit-config.yaml",
    ".github/renovate.json",
    ".github/tools/poetry.txt",
    ".github/tools/audit.txt",
    ".github/tools/copier.txt",
    ".github/workflows/ci.yml",
    ".github/workflows/audit.yml",
    ".github/workflows/release.yml",
    ".github/workflows/template-update.yml",
    ".github/workflows/lock-export.yml",
)
# The files poetry-core puts in a wheel's metadata when pyproject names none (its default globs).
DEFAULT_LICENSE_GLOBS = ("LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*")
# A `module:function` object reference (the function may be an attribute path).
_DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_OBJECT_REFERENCE = re.compile(rf"^{_DOTTED}:{_DOTTED}$")
# A path or glob that .dockerignore reads literally or as globs: no spaces, escapes or `..`.
_PATH_GLOB = r"(?!.*(?:^|/)\.\.(?:/|$))[A-Za-z0-9_.\-/*?\[\]]+$"
# A build-context path: relative.
_CONTEXT_PATH = re.compile(rf"^(?!/){_PATH_GLOB}")
# A file a bind mount names: relative, literal (no glob), no `..`.
_MOUNT_PATH = re.compile(r"^(?!/)(?!.*(?:^|/)\.\.(?:/|$))[A-Za-z0-9_.\-/]+$")


def pyproject(project: Any) -> dict[str, Any]:
    """The project's pyproject.toml as a dict; empty when there is none or it does not parse.

    Read once per version of the file: every default and validator of a copy asks for it, and
    gets the same parse while the file is unchanged (keyed by its path, size and mtime).
    """
    path = Path(str(project), PYPROJECT)
    try:
        stat = path.stat()
    except OSError:
        return {}
    return _parsed(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _parsed(path: str, size: int, mtime_ns: int) -> dict[str, Any]:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def is_adoptable(project: Any, answers_file: Any) -> bool:
    """A Poetry project the template has not been applied to: pyproject.toml, no answers file."""
    root = Path(str(project))
    return (root / PYPROJECT).is_file() and not (root / str(answers_file)).exists()


def _tables(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    project = data.get("project")
    poetry = data.get("tool", {}).get("poetry") if isinstance(data.get("tool"), dict) else None
    return (
        project if isinstance(project, dict) else {},
        poetry if isinstance(poetry, dict) else {},
    )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def existing_facts(project: Any) -> dict[str, Any]:
    """What the template needs to know of an existing project, from either pyproject flavour.

    Keys: name, description, author_name, author_email, license, requires_python, package_mode,
    scripts ({name: "module:function"}), script_extras ({name: [extras its entry point names]}),
    extras, readme (files), license_files (globs),
    license_file (the file a PEP 621 `license = { file = ... }` table names), packages
    ([{"include", "from"}]), includes (paths). Missing values are empty.
    """
    data = pyproject(project)
    pep621, poetry = _tables(data)
    authors = pep621.get("authors") or []
    author_name = author_email = ""
    if authors and isinstance(authors[0], dict):
        author_name = str(authors[0].get("name", ""))
        author_email = str(authors[0].get("email", ""))
    elif _strings(poetry.get("authors")):
        match = re.match(r"^\s*(.*?)\s*(?:<([^>]*)>)?\s*$", _strings(poetry["authors"])[0])
        if match:
            author_name, author_email = match.group(1), match.group(2) or ""
    license = pep621.get("license", poetry.get("license", ""))
    scripts: dict[str, str] = {}
    script_extras: dict[str, list[str]] = {}
    for name, target in {**poetry.get("scripts", {}), **pep621.get("scripts", {})}.items():
        extras_of = []
        if isinstance(target, dict):  # Poetry 1's {callable = ..., extras = [...]} / reference
            extras_of = _strings(target.get("extras"))
            target = target.get("callable") or target.get("reference") or ""
        if isinstance(target, str):
            # Entry-point syntax allows `module:function [extra, ...]`: the extras the script needs.
            reference, _, suffix = target.partition("[")
            scripts[str(name)] = reference.strip()
            extras_of += [extra.strip() for extra in suffix.rstrip().rstrip("]").split(",")]
            script_extras[str(name)] = sorted(
                {canonicalize_name(extra) for extra in extras_of if extra}
            )
    extras = [
        *pep621.get("optional-dependencies", {}),
        *poetry.get("extras", {}),
    ]
    readme = pep621.get("readme", poetry.get("readme", []))
    readme_files = [readme["file"]] if isinstance(readme, dict) and "file" in readme else []
    license_files = _strings(pep621.get("license-files"))
    license_file = ""
    if isinstance(license, dict) and isinstance(license.get("file"), str):
        license_file = license["file"]
        license_files.append(license_file)
    packages = [
        {"include": str(entry["include"]), "from": str(entry.get("from", ""))}
        for entry in poetry.get("packages", [])
        if isinstance(entry, dict) and isinstance(entry.get("include"), str)
    ]
    includes = [
        entry if isinstance(entry, str) else str(entry.get("path", ""))
        for entry in poetry.get("include", [])
        if isinstance(entry, str) or (isinstance(entry, dict) and entry.get("path"))
    ]
    python = poetry.get("dependencies", {}).get("python", "")
    return {
        "name": str(pep621.get("name", poetry.get("name", ""))),
        "description": str(pep621.get("description", poetry.get("description", ""))),
        "author_name": author_name,
        "author_email": author_email,
        "license": license if isinstance(license, str) else "",
        "requires_python": str(
            pep621.get("requires-python", python if isinstance(python, str) else "")
        ),
        "package_mode": poetry.get("package-mode", True) is not False,
        "scripts": scripts,
        "script_extras": script_extras,
        "extras": sorted({canonicalize_name(str(name)) for name in extras}),
        "readme": [*_strings(readme), *readme_files],
        "license_files": license_files,
        "license_file": license_file,
        "packages": packages,
        "includes": [path for path in includes if path],
    }


def python_constraint(constraint: str) -> VersionConstraint | None:
    """`requires-python`, or Poetry's `python` constraint, parsed as Poetry parses it (every form
    Poetry accepts: `^3.10`, `~3.11`, `3.11.*`, `>=3.10 <4`, `>=3.8 || <2`); None when empty or
    not a constraint."""
    if not str(constraint).strip():
        return None
    try:
        return _parse_constraint(str(constraint))
    except ValueError:  # poetry-core's ParseConstraintError
        return None


def allows_python(constraint: VersionConstraint | None, version: str) -> bool:
    """Whether the constraint allows some release of Python `version` (3.11: any 3.11.x)."""
    return constraint is None or constraint.allows_any(_parse_constraint(f"~{version}"))


def _parse_constraint(constraint: str) -> VersionConstraint:
    # Imported here: only adoption reads constraints, and poetry-core is one more package in
    # Copier's environment (README: `pipx inject copier copier-template-extensions poetry-core`).
    try:
        from poetry.core.constraints.version import parse_constraint
    except ModuleNotFoundError as missing:
        # SystemExit: the sentence alone, never Copier's traceback (see answers.py: refused).
        raise SystemExit(
            "Adopting a project reads its Python constraint with poetry-core, as Poetry does: "
            "install it next to Copier (`pipx inject copier poetry-core`), then run copier again."
        ) from missing
    return parse_constraint(constraint)


# Linux platforms the image's glibc (Debian 12 and 13: 2.36 and newer) installs wheels for.
_MANYLINUX = [f"manylinux_2_{minor}_x86_64" for minor in range(36, 4, -1)] + [
    "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64", "linux_x86_64",
]  # fmt: skip


def wheel_tags(version: str) -> set[Tag]:
    """The wheel tags CPython `version` installs on the image's linux/amd64 platform."""
    python = tuple(int(part) for part in version.split("."))
    interpreter = f"cp{python[0]}{python[1]}"
    return {
        *cpython_tags(python, platforms=_MANYLINUX),
        *compatible_tags(python, interpreter, _MANYLINUX),
    }


def locked_packages_without_wheels(project: Any, version: str) -> list[str]:
    """The main-group packages of the project's poetry.lock that publish wheels, none of them for
    Python `version` on the image's platform: each would be compiled from its sdist, which fails
    in a builder without a compiler. `frozenlist 1.3.3`-style entries; [] without a lock."""
    try:
        lock = tomllib.loads(Path(str(project), "poetry.lock").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    supported = wheel_tags(version)
    blocked = []
    for package in lock.get("package", []):
        # Poetry 2 locks name the groups; Poetry 1 locks the category.
        if "main" not in package.get("groups", [package.get("category", "main")]):
            continue
        wheels = [f["file"] for f in package.get("files", []) if f.get("file", "").endswith(".whl")]
        tags: set[Tag] = set()
        for wheel in wheels:
            try:
                tags |= set(parse_wheel_filename(wheel)[3])
            except InvalidWheelFilename:
                continue
        if wheels and not tags & supported:
            blocked.append(f"{package.get('name')} {package.get('version')}")
    return blocked


def supported_python(project: Any, preferred: str, versions: Iterable[str]) -> str:
    """The image's Python for an existing project: `preferred` if its bound allows it and every
    locked package has a wheel for it, else the newest python_version choice that has both, else
    the newest the bound allows (else `preferred`, and the validator explains). `versions`: the
    python_version choices, oldest first."""
    constraint = python_constraint(existing_facts(project)["requires_python"])
    allowed = [version for version in versions if allows_python(constraint, version)]
    if not allowed:
        return preferred
    installable = [v for v in allowed if not locked_packages_without_wheels(project, v)]
    for candidates in (installable, allowed):
        if preferred in candidates:
            return preferred
        if candidates:
            return candidates[-1]
    return preferred


def python_choice_reason(project: Any, python_version: str, preferred: str) -> str:
    """Why adoption chose `python_version` over `preferred`, in one sentence; "" when it did not,
    or did for the project's bound alone."""
    if python_version == preferred:
        return ""
    blocked = locked_packages_without_wheels(project, preferred)
    if not blocked:
        return ""
    return (
        f"python_version {python_version}, not {preferred}: poetry.lock pins "
        f"{', '.join(blocked)}, with no wheel for Python {preferred} (the builder has no compiler)."
    )


def license_choice(project: Any, fallback: str, licenses: Iterable[str]) -> str:
    """The project's license if it is one of the license choices, else `fallback`."""
    license = existing_facts(project)["license"]
    return license if license in licenses else fallback


def existing_license_expression(project: Any) -> str:
    """The project's license as a canonical SPDX expression (`mit` -> `MIT`), or "" when it names
    none SPDX knows (`Expat`, a `{ file = ... }` table): the image label is then left out rather
    than claiming a license the project does not state."""
    license = existing_facts(project)["license"]
    if not license:
        table = pyproject(project).get("project", {}).get("license")
        license = table.get("text", "") if isinstance(table, dict) else ""
    try:
        return canonicalize_license_expression(str(license)) if str(license).strip() else ""
    except InvalidLicenseExpression:
        return ""


def package_location(project: Any, package_name: str) -> tuple[str, str]:
    """(package name, "src" or "flat") where the existing project keeps its code."""
    root = Path(str(project))
    packages = existing_facts(project)["packages"]
    if packages:
        first = packages[0]
        top = first["include"].split("/")[0]
        # A single-module project (`include = "tool.py"`) imports as `tool`.
        name = top.removesuffix(".py") if top.endswith(".py") else top
        return name, "src" if first["from"] == "src" else "flat"
    return package_name, "src" if (root / "src" / package_name).is_dir() else "flat"


def existing_build_context(project: Any, package_dir: str) -> list[str]:
    """The .dockerignore allow-list of an existing app: what building its wheel reads."""
    found = existing_facts(project)
    tops = [entry["from"] or entry["include"].split("/")[0] for entry in found["packages"]]
    if not tops and package_dir:
        tops = [package_dir.split("/")[0]]
    paths = [
        *found["readme"],
        *(found["license_files"] or DEFAULT_LICENSE_GLOBS),
        *(top if top.endswith(".py") else f"{top}/" for top in tops),
        *found["includes"],
    ]
    return list(dict.fromkeys(path for path in paths if path))


def poetry_load_files(project: Any) -> list[str]:
    """What Poetry reads to load the project besides pyproject.toml and poetry.lock: the file of a
    PEP 621 `license = { file = ... }` table (poetry-core reads it for the License field and stops
    if it is missing). Readmes, `license-files` globs and includes are read only to build a wheel.
    The dependency step bind-mounts these; a path a mount option cannot name (absolute, `..`,
    spaces, commas, globs) is left out, and Poetry's own error then names the file."""
    path = existing_facts(project)["license_file"]
    if not _MOUNT_PATH.fullmatch(path) or path.endswith("/") or posixpath.normpath(path) == ".":
        return []
    return [posixpath.normpath(path)]


# Top-level modules of a repository that are its tooling, not the application's code.
_TOOLING_MODULES = {"setup.py", "conftest.py", "noxfile.py", "fabfile.py", "tasks.py", "dodo.py"}
# Top-level folders that are never an application's code.
_NOT_APP_FOLDERS = {"tests", "test", "docs", "doc", "build", "dist", "node_modules"}
# Top-level folders Django and Flask read at run time by default (templates, static files).
_APP_DATA_FOLDERS = {"templates", "static", "locale"}
# A file or folder of the application in a package-mode=false project: a literal relative path of
# letters, digits, _ . - / (no glob, no `..`), which COPY takes as its source and its destination.
# (fullmatch: `$` alone would let a trailing newline through into the Dockerfile.)
_APP_PATH = re.compile(r"(?!/)(?!.*(?:^|/)\.\.?(?:/|$))[A-Za-z0-9_.\-/]+")
# What the template's .dockerignore never lets in, whatever app_files says.
_NEVER_IN_CONTEXT = {".git", ".venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


def proposed_app_files(project: Any) -> list[str]:
    """The code a package-mode=false application runs from source, as adoption proposes it: the
    top-level modules (`manage.py`, `app.py`; not setup.py, conftest.py or tests), and the
    top-level folders that hold a package (`__init__.py`: a Django app) or a site's settings or
    WSGI/ASGI module (`mysite/`), and `templates/`, `static/`, `locale/` beside them. Files git
    ignores are left out; [] for an app (package mode), whose wheel holds its code."""
    root = Path(str(project))
    if not pyproject(project) or existing_facts(project)["package_mode"]:
        return []
    try:
        entries = sorted(root.iterdir(), key=lambda path: path.name)
    except OSError:
        return []
    markers = ("__init__.py", "settings.py", "wsgi.py", "asgi.py")
    candidates = [
        entry.name
        for entry in entries
        if entry.is_file()
        and entry.suffix == ".py"
        and entry.name not in _TOOLING_MODULES
        and not entry.name.startswith(("test_", "."))
        and not entry.name.endswith("_test.py")
    ] + [
        f"{entry.name}/"
        for entry in entries
        if entry.is_dir()
        and not entry.name.startswith((".", "_"))
        and entry.name not in _NOT_APP_FOLDERS
        and (
            entry.name in _APP_DATA_FOLDERS or any((entry / marker).is_file() for marker in markers)
        )
    ]
    ignored = _git_ignored(root, candidates)
    return [path for path in candidates if path.rstrip("/") not in ignored]


def _git_ignored(root: Path, paths: list[str]) -> set[str]:
    """Those of `paths` git ignores in `root` (git's own answer, every ignore source it reads; a
    committed file is not ignored); none outside a git repository."""
    if not paths:
        return set()
    result = subprocess.run(
        ["git", "check-ignore", "-z", "--stdin"],
        cwd=str(root), input="\0".join(path.rstrip("/") for path in paths).encode(),
        capture_output=True, check=False,
    )  # fmt: skip
    # 0: some ignored, 1: none; anything else (not a repository): none known.
    if result.returncode not in (0, 1):
        return set()
    return {path for path in result.stdout.decode("utf-8", "replace").split("\0") if path}


def kept_files(project: Any) -> list[str]:
    """The template's files the existing project already has: adoption leaves them alone."""
    root = Path(str(project))
    return [path for path in TEMPLATE_FILES if (root / path).exists()]


def team_workflows(project: Any) -> list[str]:
    """The GitHub Actions workflows the project already has (`main.yml`, `tests.yml`): its own
    CI, which the template's workflows would double."""
    folder = Path(str(project), ".github", "workflows")
    try:
        return sorted(path.name for path in folder.iterdir() if path.suffix in {".yml", ".yaml"})
    except OSError:
        return []


def uncommitted_files(project: Any, existing_files: Iterable[str], answers_file: Any) -> list[str]:
    """The project's files git sees as uncommitted, but those adoption itself added (the
    template's files it did not have, and the answers file): what the team had not committed.
    [] outside a git repository."""
    try:
        status = subprocess.run(
            ["git", "status", "--porcelain=v1", "-z", "--untracked-files=all"],
            cwd=str(project), capture_output=True, check=True,
        ).stdout.decode("utf-8", "replace")  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return []
    added = {*TEMPLATE_FILES, str(answers_file)} - set(existing_files)
    entries = iter(status.split("\0"))
    paths = []
    for entry in entries:
        if not entry:
            continue
        if entry[0] in "RC":  # a rename's or copy's source path follows: not a file of the tree
            next(entries, None)
        if entry[3:] not in added:
            paths.append(entry[3:])
    return sorted(paths)


def declared_requirements(project: Any) -> set[str]:
    """The canonical names of every distribution the project declares, in any group: [project]
    dependencies and optional dependencies, PEP 735 [dependency-groups], Poetry's main and
    dev dependencies and its groups."""
    data = pyproject(project)
    pep621, poetry = _tables(data)
    strings = [*_strings(pep621.get("dependencies"))]
    for table in (pep621.get("optional-dependencies"), data.get("dependency-groups")):
        if isinstance(table, dict):
            strings += [item for group in table.values() for item in _strings(group)]
    names = {_requirement_name(item) for item in strings}
    tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
    groups = poetry.get("group")
    if isinstance(groups, dict):
        tables += [
            group.get("dependencies") for group in groups.values() if isinstance(group, dict)
        ]
    for table in tables:
        if isinstance(table, dict):
            names |= {canonicalize_name(str(name)) for name in table}
    return names - {""}


def _requirement_name(requirement: str) -> str:
    try:
        return canonicalize_name(Requirement(requirement).name)
    except InvalidRequirement:
        return ""


# unittest's discovery pattern (test*.py), and a module that uses unittest.
_UNITTEST_IMPORT = re.compile(r"^\s*(?:import unittest\b|from unittest\b)", re.MULTILINE)


def existing_test_command(project: Any, package_dir: str = "") -> str:
    """The command the project's tests run with, as `poetry run` takes it: `pytest` when pytest
    is declared in any group; Django's `python manage.py test` for a site with manage.py;
    `python -m unittest discover` over the folder (tests/, test/ or the package) whose test*.py
    files use unittest; else "" (no test job: the project has no tests CI could run)."""
    root = Path(str(project))
    declared = declared_requirements(project)
    if "pytest" in declared:
        return "pytest"
    if "django" in declared and (root / "manage.py").is_file():
        return "python manage.py test"
    for folder in ("tests", "test", package_dir):
        if folder and _uses_unittest(root / folder):
            return _discover_command(root, folder)
    return ""


def _uses_unittest(folder: Path) -> bool:
    try:
        modules = sorted(folder.rglob("test*.py"))
    except OSError:
        return False
    for module in modules:
        try:
            if _UNITTEST_IMPORT.search(module.read_text(encoding="utf-8")):
                return True
        except (OSError, UnicodeDecodeError):
            continue
    return False


def _discover_command(root: Path, folder: str) -> str:
    """`python -m unittest discover -s FOLDER`; a folder that is a package is imported from the
    folder above its outermost package (`-t`), so its modules keep their package names."""
    command = f"python -m unittest discover -s {folder}"
    if not (root / folder / "__init__.py").is_file():
        return command
    top = Path(folder)
    while top.parent != Path(".") and (root / top.parent / "__init__.py").is_file():
        top = top.parent
    return f"{command} -t {top.parent.as_posix()}"


# The PEP 517 backends whose wheel the image builds, each from the hash-pinned tools that hold it
# (includes/build-tools/): build_backend's answer -> (the backends' import names, the file).
BUILD_BACKENDS = {
    # poetry-core, from the builder's Poetry (Poetry 1 projects name Poetry's re-export).
    "poetry-core": (("poetry.core.masonry.api", "poetry.masonry.api"), "poetry.txt"),
    # A version computed from git tags: the plugin's backend, around poetry-core.
    "poetry-dynamic-versioning": (("poetry_dynamic_versioning.backend",), "dynamic-versioning.txt"),
}
_BUILD_TOOLS = Path(__file__).resolve().parents[1] / "includes" / "build-tools"


def existing_build_backend(project: Any) -> str:
    """build_backend's default: the answer whose backend the project's [build-system] names
    (poetry-core where it names none), else the backend it names, which the validator refuses."""
    build_system = pyproject(project).get("build-system")
    backend = build_system.get("build-backend", "") if isinstance(build_system, dict) else ""
    if not backend:
        return "poetry-core"
    for answer, (backends, _) in BUILD_BACKENDS.items():
        if backend in backends:
            return answer
    return str(backend)


def pinned_build_tools(answer: str) -> dict[str, str]:
    """{canonical name: version} of the hash-pinned file that holds build_backend `answer`."""
    text = (_BUILD_TOOLS / BUILD_BACKENDS[answer][1]).read_text(encoding="utf-8")
    return {
        canonicalize_name(name): version
        for name, version in re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", text, re.MULTILINE)
    }


def build_backend_error(answer: str, project: Any) -> str:
    """The image builds the app's wheel with the backend the project declares, from hash-pinned
    tools: refused when they cannot be (another backend, or requires the pins do not meet)."""
    accepted = ", ".join(BUILD_BACKENDS)
    if answer not in BUILD_BACKENDS:
        return (
            f"The project's [build-system] names build-backend {answer}: the image builds the "
            "wheel with the backend the project declares, from hash-pinned tools, and the "
            f"template pins these only: {accepted} (poetry.core.masonry.api, "
            "poetry_dynamic_versioning.backend). Build with one of them to adopt the project."
        )
    build_system = pyproject(project).get("build-system")
    requires = build_system.get("requires", []) if isinstance(build_system, dict) else []
    pins = pinned_build_tools(answer)
    for text in _strings(requires):
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            return f"[build-system] requires '{text}', which is not a PEP 508 requirement."
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned, prereleases=True):
            offered = ", ".join(
                f"{name}=={version}"
                for name, version in sorted(pins.items())
                if name.startswith("poetry")
            )
            return (
                f"[build-system] requires {text}, which the image's hash-pinned build tools for "
                f"build_backend {answer} do not meet ({offered}): widen the requirement to "
                "allow them, or the template cannot build the wheel as the project declares."
            )
    return ""


def declared_scripts(project: Any) -> list[str]:
    """The console scripts the project declares, in pyproject.toml's order."""
    return list(existing_facts(project)["scripts"])


@pass_context
def cli_name_hint(context: Any) -> str:
    """The end of cli_name's help: when adopting, the scripts the project declares, any of them
    accepted (`(declared: greet, greetd)`); else an example."""
    scripts = (
        declared_scripts(context["_copier_conf"]["dst_path"])
        if context.get("existing_project")
        else []
    )
    return f"(declared: {', '.join(scripts)})" if scripts else "(e.g. my-tool)"


def absent_files(project: Any, answers_file: Any, paths: Iterable[str]) -> list[str]:
    """Those of `paths` a generated project does not have: its team deleted them.

    Only in a project that has an answers file. An update also renders the old and the new
    template into empty temporary folders, and Copier deletes from the project what the old
    render has and the new one lacks: there, nothing may count as deleted.
    """
    root = Path(str(project))
    if not (root / str(answers_file)).is_file():
        return []
    return [path for path in paths if path and not (root / path).exists()]


# --- Validators: "" when the answer fits the existing project, else what does and why -----------


def existing_project_error(adopt: bool, project: Any, answers_file: Any) -> str:
    root = Path(str(project))
    if not adopt or (root / str(answers_file)).exists() or (root / PYPROJECT).is_file():
        return ""
    # An empty folder is also what the update's temporary renders look like: nothing to check.
    if root.is_dir() and not any(root.iterdir()):
        return ""
    return (
        f"existing_project is true but {root} has no pyproject.toml: adoption applies the "
        "template around an existing Poetry project. Answer false for a new project."
    )


def cli_target_error(target: str, package_name: str, adopt: bool) -> str:
    if not _OBJECT_REFERENCE.match(str(target)):
        return (
            f"cli_target must be an object reference module:function, such as "
            f"{package_name}.cli:main or {package_name}.__main__:main (dotted Python names)."
        )
    module = str(target).split(":")[0]
    if not adopt and module != package_name and not module.startswith(f"{package_name}."):
        return (
            f"cli_target's module {module} is not in the package {package_name}: the wheel "
            f"holds only the package, so name a module of it ({package_name}.cli:main)."
        )
    return ""


def existing_script_error(cli_name: str, target: str, project: Any) -> str:
    """The console script must be one pyproject.toml declares, with the same target."""
    scripts = existing_facts(project)["scripts"]
    if not pyproject(project):
        return ""
    if cli_name not in scripts:
        declared = ", ".join(f"{name} ({value})" for name, value in scripts.items()) or "none"
        return (
            f"pyproject.toml declares no console script {cli_name}; the image runs one it "
            f"declares ([project.scripts] or [tool.poetry.scripts]: {declared}). Answer one "
            "of those as cli_name, or add the script to pyproject.toml first."
        )
    if scripts[cli_name] != target:
        return (
            f"pyproject.toml maps the console script {cli_name} to {scripts[cli_name]}, not "
            f"{target}: answer cli_target={scripts[cli_name]} (the image runs what "
            "pyproject.toml declares), or change pyproject.toml first."
        )
    return ""


def existing_python_error(python_version: str, project: Any) -> str:
    constraint = existing_facts(project)["requires_python"]
    if allows_python(python_constraint(constraint), python_version):
        return ""
    return (
        f"The project's Python bound ({constraint}) excludes Python {python_version}, which "
        "the image would run: answer a python_version the bound allows, or change it first."
    )


def existing_extras_error(extras: Any, project: Any) -> str:
    if not pyproject(project) or not isinstance(extras, list):
        return ""
    declared = existing_facts(project)["extras"]
    unknown = [name for name in extras if canonicalize_name(str(name)) not in declared]
    if not unknown:
        return ""
    return (
        f"pyproject.toml declares no extra {', '.join(map(str, unknown))}; it declares: "
        f"{', '.join(declared) or 'none'} ([project.optional-dependencies] or "
        "[tool.poetry.extras]). Answer extras from that list."
    )


def existing_package_error(package_name: str, layout: str, project: Any) -> str:
    """An app's code must be where the answers say (the package the wheel is built from)."""
    found = existing_facts(project)
    if not pyproject(project) or not found["package_mode"]:
        return ""
    where = Path("src" if layout == "src" else "", package_name)
    declared = package_location(project, package_name)
    if (found["packages"] and (package_name, layout) == declared) or (
        not found["packages"] and Path(str(project), where).is_dir()
    ):
        return ""
    return (
        f"The existing project has no package at {where}"
        + (
            f" (pyproject.toml declares {declared[0]}, layout {declared[1]})"
            if found["packages"]
            else ""
        )
        + ": answer the package_name and layout (src or flat) where its code is."
    )


def _path_list_error(
    value: Any, name: str, example: str, accepted: Callable[[str], bool], what: str
) -> str:
    """A YAML list of strings each `accepted`, or a sentence naming the others and `what` fits."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return f"{name} must be a YAML list of paths, e.g. {example}."
    refused = [item for item in value if not accepted(item)]
    if refused:
        return f"{name} entries {refused} are not accepted: {what}."
    return ""


def existing_files_error(paths: Any) -> str:
    return _path_list_error(
        paths, "existing_files", '["Dockerfile", ".gitignore"]', TEMPLATE_FILES.__contains__,
        f"it names files the template writes, among: {', '.join(TEMPLATE_FILES)}",
    )  # fmt: skip


def build_context_error(paths: Any) -> str:
    return _path_list_error(
        paths, "build_context", '["README.rst", "LICENSE", "src/"]',
        lambda item: bool(_CONTEXT_PATH.fullmatch(item)),
        "relative paths (a folder ends with /) of letters, digits, _ . - / and the globs "
        "* ? [ ], without `..`",
    )  # fmt: skip


def image_license_error(expression: Any) -> str:
    if not str(expression) or license_expression_is_valid(str(expression)):
        return ""
    return (
        f"image_license '{expression}' is not an SPDX license expression (e.g. MIT, "
        "Apache-2.0 OR MIT, LicenseRef-Proprietary): answer one, or leave it empty for no label."
    )


def license_expression_is_valid(expression: str) -> bool:
    try:
        canonicalize_license_expression(expression)
    except InvalidLicenseExpression:
        return False
    return True


def app_files_error(paths: Any, project: Any, adopting: bool) -> str:
    """The application's code in a package-mode=false project: literal relative paths (COPY's
    sources and destinations) inside the repository; when adopting, paths that exist."""
    error = _path_list_error(
        paths, "app_files", '["manage.py", "mysite/", "polls/"]',
        lambda item: bool(_APP_PATH.fullmatch(item))
        and not _NEVER_IN_CONTEXT & set(item.rstrip("/").split("/")),
        "relative paths of files or folders (a folder may end with /) of letters, digits, "
        "_ . - /, without globs, `..`, a leading /, or .git, .venv and cache folders",
    )  # fmt: skip
    if error or not adopting or not pyproject(project):
        return error
    root = Path(str(project)).resolve()
    missing = [
        path for path in paths
        if not (root / path).exists() or not (root / path).resolve().is_relative_to(root)
    ]  # fmt: skip
    if missing:
        return (
            f"app_files entries {missing} are not files or folders inside the project: name "
            "the application's code as it is in the repository (e.g. manage.py, mysite/)."
        )
    return ""


def load_files_error(paths: Any) -> str:
    return _path_list_error(
        paths, "load_files", '["LICENSE"]',
        lambda item: bool(_MOUNT_PATH.fullmatch(item)) and not item.endswith("/"),
        "relative file paths of letters, digits, _ . - / without `..` or globs (bind mounts)",
    )  # fmt: skip


GLOBALS = {
    "is_adoptable": is_adoptable,
    "existing_facts": existing_facts,
    "supported_python": supported_python,
    "python_choice_reason": python_choice_reason,
    "package_location": package_location,
    "license_choice": license_choice,
    "existing_license_expression": existing_license_expression,
    "image_license_error": image_license_error,
    "existing_build_context": existing_build_context,
    "poetry_load_files": poetry_load_files,
    "proposed_app_files": proposed_app_files,
    "kept_files": kept_files,
    "uncommitted_files": uncommitted_files,
    "team_workflows": team_workflows,
    "existing_test_command": existing_test_command,
    "existing_build_backend": existing_build_backend,
    "cli_name_hint": cli_name_hint,
    "absent_files": absent_files,
    "existing_project_error": existing_project_error,
    "build_context_error": build_context_error,
    "load_files_error": load_files_error,
    "existing_files_error": existing_files_error,
}


class ExistingProject(Extension):
    """Registers the adoption functions as Jinja globals."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals.update(GLOBALS)
