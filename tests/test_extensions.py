"""Unit tests of the template's Jinja filters (extensions/filters.py)."""

from __future__ import annotations

import ast
import http.server
import json
import os
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest

from answer_sets import PYTHON_VERSIONS
from extensions import environment, filters


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("My Tool", "my-tool"),
        ("  Data__Pipeline 2 ", "data-pipeline-2"),
        ("ACME: the API!", "acme-the-api"),
        ("già fatto", "gia-fatto"),
        ("Müller 山田 Straße", "muller-strasse"),
        ("Łódź Æble", "lodz-aeble"),
    ],
)
def test_slugify_gives_a_normalised_distribution_name(name: str, slug: str) -> None:
    assert filters.slugify(name) == slug
    assert filters.project_slug_error(slug) == ""


def test_package_name_is_an_identifier_derived_from_the_slug() -> None:
    assert filters.package_name("my-tool") == "my_tool"
    assert filters.package_name("data.pipeline-2") == "data_pipeline_2"


def test_python_image_names_the_official_slim_image() -> None:
    assert filters.python_image("3.12", "bookworm") == "python:3.12-slim-bookworm"


def test_later_python_versions_start_at_the_answer() -> None:
    # The CI matrix: copier.yml's python_version choices from the answer on.
    assert list(filters.PYTHON_VERSIONS) == PYTHON_VERSIONS
    assert filters.later_python_versions(PYTHON_VERSIONS[0]) == PYTHON_VERSIONS
    assert filters.later_python_versions(PYTHON_VERSIONS[2]) == PYTHON_VERSIONS[2:]
    assert filters.later_python_versions(PYTHON_VERSIONS[-1]) == PYTHON_VERSIONS[-1:]
    # Numeric order, not string order: 3.10 comes after 3.9.
    assert filters.later_python_versions("3.9") == PYTHON_VERSIONS


def test_requirement_entry_is_one_package_with_its_hashes() -> None:
    hashed = (
        "poetry==2.5.1 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n"
        "poetry-core==2.5.0 \\\n    --hash=sha256:cc \\\n    --hash=sha256:dd\n"
        "pycparser==3.12 ; implementation_name != 'PyPy' \\\n    --hash=sha256:ee\n"
    )
    assert filters.requirement_entry(hashed, "poetry-core") == (
        "poetry-core==2.5.0 \\\n    --hash=sha256:cc \\\n    --hash=sha256:dd\n"
    )
    assert filters.requirement_entry(hashed, "pycparser").endswith("--hash=sha256:ee\n")
    assert filters.requirement_entry(hashed, "core") == ""
    # The template's own file pins poetry-core by hash: the export policy's wheel backend.
    tools = (Path(__file__).parents[1] / "includes" / "build-tools" / "poetry.txt").read_text()
    assert filters.requirement_entry(tools, "poetry-core").count("--hash=sha256:") >= 1


def test_url_host_is_a_netrc_machine() -> None:
    assert filters.url_host("http://127.0.0.1:8080/simple/") == "127.0.0.1"
    assert filters.url_host("https://pypi.example.com/simple/") == "pypi.example.com"


def test_requirement_names_are_canonical() -> None:
    assert filters.requirement_names(["Pandas[performance]>=2", "ruamel.yaml"]) == [
        "pandas",
        "ruamel-yaml",
    ]


@pytest.mark.parametrize("value", ['say "hi"', "back\\slash", "ünïcode", "tab-free 'quote'"])
def test_toml_string_round_trips_through_a_toml_parser(value: str) -> None:
    assert tomllib.loads(f"key = {filters.toml_string(value)}")["key"] == value


def test_license_spdx_is_the_answer_or_a_license_ref() -> None:
    assert filters.license_spdx("MIT") == "MIT"
    assert filters.license_spdx("Apache-2.0") == "Apache-2.0"
    assert filters.license_spdx("Proprietary") == "LicenseRef-Proprietary"


def test_apt_pinned_needs_every_package_pinned() -> None:
    assert filters.apt_pinned(["libpq5=15.8-0+deb12u1"])
    assert not filters.apt_pinned(["libpq5=15.8-0+deb12u1", "curl"])


def test_git_config_reads_the_users_git_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "gitconfig"
    subprocess.run(["git", "config", "--file", str(config), "user.name", "Ada L"], check=True)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.chdir(tmp_path)
    assert environment.git_config("user.name") == "Ada L"
    assert environment.git_config("user.email") == ""


def test_git_config_is_empty_without_git(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert environment.git_config("user.name") == ""


# Validators: "" accepts; a sentence naming the problem and what is accepted rejects.


@pytest.mark.parametrize("name", ["my_tool", "tool2", "_private"])
def test_package_name_accepts_lowercase_identifiers(name: str) -> None:
    assert filters.package_name_error(name) == ""


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("my-tool", "not a valid import name"),
        ("2fast", "not a valid import name"),
        ("MyTool", "not a valid import name"),
        ("class", "Python keyword"),
        ("match", "Python keyword"),
        ("json", "shadow the standard library"),
        ("asyncio", "shadow the standard library"),
    ],
)
def test_package_name_rejects_with_reason(name: str, expected: str) -> None:
    assert expected in filters.package_name_error(name)


@pytest.mark.parametrize("slug", ["a", "my-tool", "My.Tool_2"])
def test_project_slug_accepts_pep508_names(slug: str) -> None:
    assert filters.project_slug_error(slug) == ""


@pytest.mark.parametrize("slug", ["-tool", "tool-", "my tool", "tööl", ""])
def test_project_slug_rejects_invalid_names(slug: str) -> None:
    assert "not a valid distribution name" in filters.project_slug_error(slug)


@pytest.mark.parametrize("name", ["my tool", "-x", "tool;rm", ""])
def test_cli_name_rejects_spaces_and_shell_characters(name: str) -> None:
    assert "not a valid command name" in filters.cli_name_error(name)


def test_email_is_optional_but_validated() -> None:
    assert filters.email_error("") == ""
    assert filters.email_error("ada@example.com") == ""
    for bad in ("ada", "ada@", "ada@localhost", "a b@example.com", "<ada@example.com>"):
        assert "not an email address" in filters.email_error(bad), bad


@pytest.mark.parametrize(
    ("version", "ok"),
    [
        ("2.5.1", True),
        ("2.0.0", True),
        ("1.8.5", False),
        ("2.5", False),
        ("latest", False),
        ("2.5.1; rm", False),
    ],
)
def test_poetry_version_must_be_a_pinned_2x_release(version: str, ok: bool) -> None:
    assert (filters.poetry_version_error(version) == "") is ok


def test_requirements_accept_pep508_and_reject_the_rest() -> None:
    assert filters.requirements_error([]) == ""
    assert filters.requirements_error(["pandas>=2", "requests[socks]~=2.32"]) == ""
    assert "not a PEP 508 requirement" in filters.requirements_error(["pandas>>2"])
    assert "YAML list of strings" in filters.requirements_error("pandas")
    assert "listed more than once" in filters.requirements_error(["Pandas", "pandas>=2"])


@pytest.mark.parametrize("package", ["gcc", "libpq-dev", "libstdc++6", "curl=8.14.1-2", "g++"])
def test_apt_packages_accept_debian_names(package: str) -> None:
    assert filters.apt_packages_error([package], "apt_build_packages") == ""


@pytest.mark.parametrize(
    "package", ["; rm -rf /", "gcc && curl x", "Gcc", "a", "$(id)", "gcc=`id`"]
)
def test_apt_packages_reject_anything_else(package: str) -> None:
    error = filters.apt_packages_error([package], "apt_runtime_packages")
    assert "is not a Debian package name" in error
    assert "apt_runtime_packages" in error


def test_index_url_rules() -> None:
    assert filters.index_url_error("") == ""
    assert filters.index_url_error("https://pypi.example.com/simple/") == ""
    assert filters.index_url_error("http://127.0.0.1:8080/simple/") == ""
    assert "not an http(s) URL" in filters.index_url_error("ftp://example.com/simple")
    assert "not an http(s) URL" in filters.index_url_error("https://example.com/$(id)")
    assert "--secret" in filters.index_url_error("https://user:pass@example.com/simple/")
    assert "must not contain credentials" in filters.index_url_error("https://token@example.com/")


def test_single_line_rejects_control_characters() -> None:
    assert filters.single_line_error("plain text", "description") == ""
    assert "single line" in filters.single_line_error("two\nlines", "description")


def test_project_name_rules() -> None:
    assert filters.project_name_error("My Tool") == ""
    assert "required" in filters.project_name_error("  ")
    assert "at least one ASCII letter" in filters.project_name_error("☃☃")
    assert "at most 60 characters" in filters.project_name_error("x" * 61)


def test_structural_change_error_compares_with_the_answers_file(tmp_path: Path) -> None:
    (tmp_path / ".copier-answers.yml").write_text("layout: src\nproject_type: app\n")
    assert filters.structural_change_error({"layout": "src"}, tmp_path, ".copier-answers.yml") == ""
    message = filters.structural_change_error({"layout": "flat"}, tmp_path, ".copier-answers.yml")
    assert "layout 'src' -> 'flat'" in message and "git mv" in message
    # No answers file: a first copy, nothing to compare.
    assert (
        filters.structural_change_error({"layout": "flat"}, tmp_path / "new", ".copier-answers.yml")
        == ""
    )


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("My Tool", '"My Tool"'),
        ('say "hi"', "'say \"hi\"'"),
        ("it's", '"it\'s"'),
        ("a\\b", '"a\\\\b"'),
    ],
)
def test_python_string_is_the_literal_ruff_format_keeps(value: str, literal: str) -> None:
    assert filters.python_string(value) == literal
    assert ast.literal_eval(literal) == value


def test_dockerfile_string_escapes_what_the_builder_would_expand() -> None:
    assert filters.dockerfile_string('Costs $5 "q" \\ x') == '"Costs \\$5 \\"q\\" \\\\ x"'


def test_display_width_counts_wide_characters_twice() -> None:
    assert filters.display_width("abc") == 3
    assert filters.display_width("山田") == 4


@pytest.mark.parametrize(
    "arguments",
    [
        ["serve", "--bind", "0.0.0.0:8000"],
        ['say "hi"', "back\\slash", "$HOME", "ünï 山田", "a  b"],
        [],
    ],
)
def test_exec_form_is_the_json_array_of_the_arguments(arguments: list[str]) -> None:
    form = filters.exec_form(arguments)
    assert json.loads(form) == arguments
    assert form.startswith("[") and form.endswith("]") and "\n" not in form


def test_health_probe_fetches_the_path_with_the_venvs_python() -> None:
    python, flag, source = filters.health_probe(8000, "/status?full=1&x=$y")
    assert (python, flag) == ("/app/.venv/bin/python", "-c")
    # Valid Python whose one string literal is exactly the address the app serves.
    strings = [
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    assert strings == ["http://127.0.0.1:8000/status?full=1&x=$y"]
    assert f"timeout={filters.HEALTH_PROBE_TIMEOUT}" in source


@pytest.mark.parametrize(
    ("port", "ok"),
    [(0, True), (1, True), (8000, True), (65535, True), (-1, False), (65536, False), (True, False)],
)
def test_service_port_is_a_tcp_port_or_zero(port: object, ok: bool) -> None:
    error = filters.service_port_error(port)
    assert (error == "") is ok
    assert ok or "from 1 to 65535" in error


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("/", True),
        ("/health", True),
        ("/status?full=1&x=%20y", True),
        ("/a:b@c;d=e,f+g*h!i$j(k)l~m", True),
        ("health", False),
        ("/a b", False),
        ('/"x"', False),
        ("/'x'", False),
        ("/a\\b", False),
        ("/a#frag", False),
        ("/%zz", False),
        ("/ünï", False),
        ("/a\nb", False),
        ("", False),
    ],
)
def test_healthcheck_path_is_a_url_path(path: str, ok: bool) -> None:
    error = filters.healthcheck_path_error(path)
    assert (error == "") is ok
    assert ok or "start with '/'" in error


def test_image_cmd_is_a_list_of_single_line_strings() -> None:
    assert filters.image_cmd_error([]) == ""
    assert filters.image_cmd_error(["serve", "--bind", "0.0.0.0:8000", "ü $x"]) == ""
    assert "YAML list of strings" in filters.image_cmd_error("serve --bind 0.0.0.0:8000")
    assert "quote numbers" in filters.image_cmd_error(["--port", 8000])
    assert "non-empty" in filters.image_cmd_error(["serve", ""])
    assert "single line" in filters.image_cmd_error(["two\nlines"])
    assert "spaces" in filters.image_cmd_error([" padded"])
    assert filters.image_cmd_error(["a\\b", 'say "hi"', "a\\ b"]) == ""
    for argument in ("ends\\", 'a\\"b'):
        assert "backslash" in filters.image_cmd_error([argument]), argument


def test_extras_are_distinct_pep685_names() -> None:
    assert filters.extras_error([]) == ""
    assert filters.extras_error(["postgres", "s3", "aws-v2"]) == ""
    assert "e.g. 'postgres'" in filters.extras_error(["Postgres"])
    assert "e.g. 'aws-v2'" in filters.extras_error(["aws_v2"])
    assert "not a normalised extra name" in filters.extras_error(["a--b"])
    assert "not a normalised extra name" in filters.extras_error(["-x"])
    assert "not a normalised extra name" in filters.extras_error(["a b"])
    assert "more than once" in filters.extras_error(["s3", "s3"])
    assert "YAML list of strings" in filters.extras_error("postgres")


def test_health_probe_passes_on_2xx_and_3xx_without_following_and_fails_otherwise() -> None:
    elsewhere: list[str] = []

    class Elsewhere(http.server.BaseHTTPRequestHandler):
        """Where the redirect points: the probe must never reach it."""

        def do_GET(self) -> None:
            elsewhere.append(self.path)
            self.send_response(500)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    def app(target: int) -> type[http.server.BaseHTTPRequestHandler]:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status = {"/health": 200, "/moved": 301, "/see": 303, "/broken": 500}
                self.send_response(status.get(self.path, 404))
                # An app behind TLS termination redirects to https, or to another host.
                self.send_header("Location", f"http://127.0.0.1:{target}/elsewhere")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def probe(port: int, path: str) -> int:
        _, flag, source = filters.health_probe(port, path)
        # A proxy in the environment must not see the probe.
        env = {**os.environ, "http_proxy": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
        return subprocess.run([sys.executable, flag, source], env=env, check=False).returncode

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere) as other:
        threading.Thread(target=other.serve_forever, daemon=True).start()
        handler = app(other.server_address[1])
        with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
            threading.Thread(target=server.serve_forever, daemon=True).start()
            port = server.server_address[1]
            assert probe(port, "/health") == 0
            assert probe(port, "/moved") == 0
            assert probe(port, "/see") == 0
            assert probe(port, "/missing") != 0
            assert probe(port, "/broken") != 0
            server.shutdown()
        other.shutdown()
    assert elsewhere == [], "the probe followed a redirect"
    assert probe(port, "/health") != 0


@pytest.mark.parametrize(
    ("value", "question", "affixes", "offered"),
    [
        ("my_tool", "package_name", ("_app", "app_"), "my_tool"),
        # A stdlib module or a keyword would be refused: the suffix makes a name that is not.
        ("json", "package_name", ("_app", "app_"), "json_app"),
        ("class", "package_name", ("_app", "app_"), "class_app"),
        ("3d_viewer", "package_name", ("_app", "app_"), "app_3d_viewer"),
        ("ruff", "project_slug", ("-app",), "ruff-app"),
        ("python3", "cli_name", ("-app",), "python3-app"),
        # Nothing valid to offer: "" (copier.yml renders UNSET, the question is asked).
        ("3d_viewer", "package_name", ("_app",), ""),
        ("___", "project_name", (), ""),
        ("not an email", "author_email", (), ""),
        ("ada@example.org", "author_email", (), "ada@example.org"),
    ],
)
def test_valid_default_offers_only_what_the_validator_accepts(
    value: str, question: str, affixes: tuple[str, ...], offered: str
) -> None:
    assert filters.valid_default(value, question, *affixes) == offered
    if offered:
        assert filters.DEFAULT_VALIDATORS[question](offered) == ""


def test_folder_name_is_the_destinations_last_component(tmp_path: Path) -> None:
    (tmp_path / "my-tool").mkdir()
    assert filters.folder_name(tmp_path / "my-tool") == "my-tool"
    assert filters.folder_name(tmp_path / "my-tool" / ".") == "my-tool"


@pytest.mark.parametrize("name", ["my-tool", "a", "My.Tool_2"])
def test_distribution_names_are_validated_by_packaging(name: str) -> None:
    assert filters.is_distribution_name(name)
    assert filters.project_slug_error(name) == ""


@pytest.mark.parametrize("name", ["-x", "x-", "a b", "tool\n", ""])
def test_what_packaging_refuses_is_no_project_slug(name: str) -> None:
    # "tool\n" passed the hand-written regex (its `$` matches before a final newline).
    assert not filters.is_distribution_name(name)
    assert filters.project_slug_error(name)
