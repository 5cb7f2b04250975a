"""Adopting an existing Poetry project: the template applied around it, never over it.

Fixture projects in tests/fixtures/adopt/, modelled on real ones (not the template's stub):
- `greeter`: a PEP 621 CLI, src layout, `greeter.__main__:main`, README.rst, LICENSE.txt, a
  `greeter/cli/` package (where the stub `cli.py` would clash), its own CI workflow and .gitignore;
- `hello-service`: `[tool.poetry]` metadata (Poetry 1 style, which Poetry 2 warns about), a WSGI
  app served by gunicorn through `svc serve --bind ...`;
- `dbtool`: a flat app whose PostgreSQL driver (psycopg2, built from source) is an extra;
- `notary`: a PEP 621 `license = { file = "LICENSE" }` table, which Poetry reads whenever it loads
  the project, even only to install its dependencies;
- `tally`: a standard-library-only app whose `[project]` has no `dependencies` key, so Poetry has
  no main group;
- `ledger`: both at once in a `package-mode = false` environment, its license file in `legal/`;
- `inkwell`: psf/black's shape, several console scripts, the second behind an extra in entry-point
  syntax (black's `blackd = "blackd:patched_main [d]"`), two packages under `src/`, its own CI in
  `test.yml` and `lint.yml`;
- `tabulator`: a single module, not a package (tabulate's shape: `tabulate.py` and a console
  script), as Poetry's `packages = [{ include = "tabulator.py" }]`, with no authors and its
  license under Debian's name for MIT, `Expat`, which is no SPDX identifier;
- `stamper`: a version computed from git tags, poetry-dynamic-versioning's documented setup
  (`dynamic = ["version"]`, a `0.0.0` placeholder, the plugin's build backend);
- `tinyid`: shortuuid's shape, `[tool.poetry]` metadata with no dev group, its unittest tests in
  the package (`tinyid/tests.py`): no pytest anywhere;
- `pollsite`: a Django site run from source in `package-mode = false` (Django's tutorial shape:
  `manage.py`, the project folder `mysite/`, the app `polls/`), served by gunicorn.
- `keeper`: a service repository grown over years: a `secrets` vault-client module and a CA `.pem`
  committed, a negated `keep.sqlite3`, a package folder's own `.gitignore`, a whitelist-style
  templates folder, GitHub's Python `.gitignore` patterns; the tests add `.git/info/exclude`.

Each fixture's README.md opens with front matter (docs/corpus_table.py): its shape, the real
project it imitates, the commit and files of that project it was checked against (`sources`), the
--data a user passes and what its image prints.

Each is adopted as a user would: in its git repository, `copier copy --trust --defaults TEMPLATE .`
with stdin closed. Every file it had must be byte-identical afterwards; the image must build and
run its real entry point; a `copier update` across a template change must keep all of it.
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
import shutil
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dockerfile_syntax import instructions, stages
from docs import corpus_table
from extensions.existing import TEMPLATE_FILES, poetry_load_files, proposed_app_files
from extensions.ignores import split
from helpers import (
    DOCKER,
    PROJECT_NAME,
    SharedCache,
    cached_steps,
    commit,
    copier,
    copy_project,
    dependency_step,
    docker_build,
    docker_run,
    git,
    image_tag,
    read_answers,
    render,
    run,
    template_snapshot,
    tree,
)
from workflow_replay import (
    Runner,
    build_push_action,
    checkout,
    docker_client,
    git_changes,
    hadolint_action,
    host_env,
    image_files_check,
    replay_job,
    workflow,
)

FIXTURES = Path(__file__).parent / "fixtures" / "adopt"


@dataclass(frozen=True)
class Fixture:
    name: str
    # Answers the template must read from the project's pyproject.toml.
    detected: Mapping[str, Any] = field(default_factory=dict)

    @property
    def matter(self) -> dict[str, Any]:
        """The front matter of the fixture's README.md: its shape, the real project it imitates,
        what a user passes with --data (only what pyproject.toml cannot say) and what its image
        prints (docs/corpus_table.py writes the README's table from it)."""
        return corpus_table.front_matter(FIXTURES / self.name)

    @property
    def data(self) -> Mapping[str, Any]:
        data: Mapping[str, Any] = self.matter.get("data", {})
        return data


GREETER = Fixture(
    "greeter",
    detected={
        "project_slug": "greeter",
        "package_name": "greeter",
        "layout": "src",
        "project_type": "app",
        "cli_name": "greet",
        "cli_target": "greeter.__main__:main",
        "description": "Greets people from the command line",
        "build_context": ["README.rst", "LICENSE.txt", "src/"],
        # README.md describes the fixture (its readme is README.rst): kept like any team file.
        "existing_files": ["pyproject.toml", "README.md", ".gitignore", ".github/workflows/ci.yml"],
        "use_pre_commit": False,
    },
)
SERVICE = Fixture(
    "hello-service",
    detected={
        "project_slug": "hello-service",
        "package_name": "svc",
        "layout": "flat",
        "cli_name": "svc",
        "cli_target": "svc.cli:cli",
        "author_email": "service@hello.invalid",
        "build_context": ["README.md", *("LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*"), "svc/"],
    },
)
# psycopg2 is built from source: its README's --data names a compiler, libpq's headers and
# pg_config, Python's headers (the stand-in base images lack them; the official ones ship them).
DBTOOL = Fixture(
    "dbtool",
    detected={
        "package_name": "dbtool",
        "layout": "flat",
        "cli_name": "dbtool",
        "cli_target": "dbtool.cli:cli",
        "license": "Apache-2.0",
        "build_context": [
            "README.md",
            *("LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*"),
            "dbtool/",
        ],
    },
)
NOTARY = Fixture(
    "notary",
    detected={
        "package_name": "notary",
        "layout": "flat",
        "cli_name": "notary",
        "cli_target": "notary.cli:main",
        # The license table's file: the wheel's License-File, and what Poetry reads to load.
        "build_context": ["README.md", "LICENSE", "notary/"],
    },
)
TALLY = Fixture(
    "tally",
    detected={
        "package_name": "tally",
        "layout": "flat",
        "cli_name": "tally",
        "cli_target": "tally.cli:main",
    },
)
# Scripts in a folder that is no package: nothing is proposed as the application's code.
LEDGER = Fixture("ledger", detected={"project_type": "deps-only", "app_files": []})
# What the README tells a site's team to pass (its adoption example, in its README's front
# matter): the port, and the command that serves the site.
POLLSITE = Fixture(
    "pollsite",
    detected={
        "project_type": "deps-only",
        "app_files": ["manage.py", "mysite/", "polls/"],
        # Django's test runner: manage.py and django declared, no pytest.
        "test_command": "python manage.py test",
    },
)
INKWELL = Fixture(
    "inkwell",
    detected={
        "package_name": "inkwell",
        "layout": "src",
        # The first script by default; the other one is offered too (see the tests below).
        "cli_name": "inkwell",
        "cli_target": "inkwell:main",
        "extras": [],
        "image_license": "MIT",
        # Its own workflows are its CI: the template's would double it.
        "ci": "none",
        "build_context": ["README.md", *("LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*"), "src/"],
    },
)
TABULATOR = Fixture(
    "tabulator",
    detected={
        "package_name": "tabulator",
        "layout": "flat",
        "cli_name": "tabulator",
        "cli_target": "tabulator:_main",
        # The module itself, not a `tabulator/` folder the project does not have.
        "build_context": [
            "README.md",
            *("LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*"),
            "tabulator.py",
        ],
        # `Expat` is no SPDX identifier: no license label rather than a wrong one.
        "image_license": "",
        # The project names no author: none, whatever the machine's git identity.
        "author_name": "",
        "author_email": "",
    },
)
STAMPER = Fixture(
    "stamper",
    detected={
        "package_name": "stamper",
        "cli_name": "stamper",
        "cli_target": "stamper:main",
        "build_backend": "poetry-dynamic-versioning",
    },
)
TINYID = Fixture(
    "tinyid",
    detected={
        "package_name": "tinyid",
        "layout": "flat",
        "cli_name": "tinyid",
        "cli_target": "tinyid.cli:cli",
        "license": "BSD-3-Clause",
        # Its tests are unittest's, and it declares no pytest: CI runs them as unittest does.
        "test_command": "python -m unittest discover -s tinyid -t .",
    },
)
KEEPER = Fixture(
    "keeper",
    detected={"package_name": "keeper", "layout": "src", "cli_target": "keeper.cli:main"},
)
FIXTURE_LIST = [
    GREETER, SERVICE, DBTOOL, NOTARY, TALLY, LEDGER, INKWELL, TABULATOR, STAMPER, TINYID,
    POLLSITE, KEEPER,
]  # fmt: skip
# Files git ignores (or, id_rsa, only the secret list), planted in the package before a build.
IGNORED_FILES = {
    "greeter": ["src/greeter/data.sqlite3", "src/greeter/local_settings.py"],
    "pollsite": ["mysite/db.sqlite3", "polls/.env"],
    "keeper": [
        "src/keeper/cli.py~",  # *~
        "src/keeper/.#cli.py",  # .#*
        "src/keeper/cli.py,cover",  # *.py,cover
        "src/keeper/#cli.py#",  # \#*#
        "src/keeper/local settings.py",
        "src/keeper/données/notes.txt",
        "src/keeper/data/cache.sqlite3",  # *.sqlite3 (keep.sqlite3 is negated and committed)
        "src/keeper/local_settings.py",  # the package's own .gitignore
        "src/keeper/data/app.db",
        "src/keeper/templates/draft.html",  # the whitelist keeps *.txt only
        "src/keeper/scratch/try.py",  # .git/info/exclude
        "src/keeper/.env",
        "src/keeper/id_rsa",
    ],
}
# .git/info/exclude as a developer writes it (git never commits it).
INFO_EXCLUDE = {"keeper": "scratch/\n"}
IGNORED_MARKER = "ignored-by-git-7f3a"
BY_NAME = {fixture.name: fixture for fixture in FIXTURE_LIST}


def data_options(answers: Mapping[str, Any]) -> list[str]:
    return [
        arg for option in corpus_table.data_options(dict(answers)) for arg in ("--data", option)
    ]


def existing_repository(fixture: Fixture, dest: Path) -> Path:
    """The fixture as a team has it: a git repository with one commit."""
    shutil.copytree(FIXTURES / fixture.name, dest)
    git(dest, "init", "--quiet", "--initial-branch=main")
    # The machine's git identity, which is not the project's authors (tabulator has none).
    git(dest, "config", "user.name", "Someone Else")
    git(dest, "config", "user.email", "someone@machine.invalid")
    commit(dest, "The team's project")
    # A release tag, where the version is computed from tags (stamper).
    if "tag" in fixture.matter:
        git(dest, "tag", fixture.matter["tag"])
    if fixture.name in INFO_EXCLUDE:
        with (dest / ".git/info/exclude").open("a") as exclude:
            exclude.write(INFO_EXCLUDE[fixture.name])
    return dest


@dataclass(frozen=True)
class Adopted:
    project: Path
    before: dict[str, bytes]
    output: str


def adopt(fixture: Fixture, dest: Path, source: str, *options: str) -> Adopted:
    project = existing_repository(fixture, dest)
    before = tree(project)
    result = copier(
        "copy", "--trust", "--defaults", *options, *data_options(fixture.data), source, ".",
        cwd=project, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"adoption failed:\n{result.stdout}\n{result.stderr}"
    return Adopted(project, before, result.stdout + result.stderr)


@pytest.fixture(scope="session")
def adopted(shared_cache: SharedCache) -> Any:
    """`adopted(name)`: the fixture adopted from the working tree's template, once per run."""

    def make(name: str) -> Adopted:
        fixture = BY_NAME[name]

        def build(path: Path) -> None:
            result = adopt(fixture, path / "project", str(template_snapshot()))
            (path / "before.json").write_text(
                json.dumps({name: data.decode("latin-1") for name, data in result.before.items()})
            )
            (path / "output.txt").write_text(result.output)

        path = shared_cache.get("adopted", {"fixture": name}, build)
        before = json.loads((path / "before.json").read_text())
        return Adopted(
            path / "project",
            {name: text.encode("latin-1") for name, text in before.items()},
            (path / "output.txt").read_text(),
        )

    return make


# --- Adoption: nothing of the team's is touched, the rest is added around it --------------------


@pytest.mark.parametrize("name", BY_NAME)
def test_adoption_keeps_every_existing_file_byte_identical(adopted: Any, name: str) -> None:
    result = adopted(name)
    after = tree(result.project)
    changed = [path for path, data in result.before.items() if after.get(path) != data]
    assert not changed, f"adoption changed or removed the team's files: {changed}"
    added = set(after) - set(result.before)
    # What the template brings, and nothing else: no pyproject, README, LICENSE, stub or test.
    assert added <= {*TEMPLATE_FILES, ".copier-answers.yml"}, sorted(added)
    assert {"Dockerfile", ".dockerignore", ".copier-answers.yml"} <= added
    assert not added & {"pyproject.toml", "README.md", "LICENSE"}
    assert not [path for path in added if path.endswith(".py")], "a stub module or test was added"
    # Adoption's default policy needs nothing in the team's pyproject.toml (export would need
    # [tool.poetry.requires-plugins]): poetry, and none of export's files.
    assert read_answers(result.project)["hash_policy"] == "poetry"
    assert not added & {"build-tools/export_lock.py", "build-tools/lock-export.txt"}


@pytest.mark.parametrize("name", BY_NAME)
def test_adoption_reads_its_answers_from_the_existing_pyproject(adopted: Any, name: str) -> None:
    answers = read_answers(adopted(name).project)
    assert answers["existing_project"] is True
    for question, value in BY_NAME[name].detected.items():
        assert answers[question] == value, question


def test_the_dockerignore_allows_what_the_wheel_reads(adopted: Any) -> None:
    # README.rst is the declared readme: without it, "Readme path ... does not exist".
    text = (adopted("greeter").project / ".dockerignore").read_text()
    allowed = [line[1:] for line in split(text)[0].splitlines() if line.startswith("!")]
    assert allowed == [
        "pyproject.toml",
        "poetry.lock",
        "build-tools/",
        "README.rst",
        "LICENSE.txt",
        "src/",
    ]


@pytest.mark.parametrize(
    ("name", "loaded"),
    [("greeter", []), ("notary", ["LICENSE"]), ("ledger", ["legal/LICENSE.txt"])],
)
def test_the_dependency_step_mounts_what_poetry_loads_and_nothing_more(
    adopted: Any, name: str, loaded: list[str]
) -> None:
    # greeter's README.rst and license-files are read only to build its wheel: not mounted, so
    # editing them never reruns the dependency step.
    project = adopted(name).project
    step = next(
        line
        for line in instructions((project / "Dockerfile").read_text())
        if "poetry install" in line or "poetry export" in line
    )
    mounted = re.findall(r"--mount=type=bind,source=([^,]+),target=\1 ", step)
    assert mounted == ["pyproject.toml", "poetry.lock", *loaded]
    # And the build context lets each in, even where no wheel is built (ledger is deps-only).
    allowed = [line[1:] for line in (project / ".dockerignore").read_text().splitlines()]
    assert set(loaded) <= set(allowed)


def test_the_dockerignore_holds_the_teams_gitignore_anchored_with_its_negation(
    adopted: Any,
) -> None:
    block = split((adopted("greeter").project / ".dockerignore").read_text())[1]
    translated = block.partition("# Never")[0].splitlines()
    # Unanchored patterns match at any depth in .gitignore, so they get `**/` here; the negation
    # stays in its place (last match wins in both).
    assert translated == [
        "# .gitignore",
        "**/.venv",
        "**/__pycache__",
        "**/dist",
        "**/*.sqlite3",
        "src/greeter/local_settings.py",
        "!**/keep.sqlite3",
    ]


def image_labels(dockerfile: str) -> tuple[dict[str, str], str]:
    """The runtime stage's LABEL pairs and its VERSION build argument's default."""
    runtime = list(stages(dockerfile).values())[-1]
    label = next(line for line in runtime if line.startswith("LABEL "))
    pairs = dict(word.split("=", 1) for word in shlex.split(label.removeprefix("LABEL ")))
    version = next(line for line in runtime if line.startswith("ARG VERSION"))
    return pairs, version.removeprefix("ARG VERSION").removeprefix("=")


@pytest.mark.parametrize(
    ("name", "license"),
    [("greeter", "MIT"), ("dbtool", "Apache-2.0"), ("notary", None), ("tabulator", None)],
    ids=["mit", "apache", "license-file-table", "expat"],
)
def test_the_image_labels_say_only_what_the_project_states(
    adopted: Any, name: str, license: str | None
) -> None:
    # notary's `{ file = "LICENSE" }` and tabulator's `Expat` name no SPDX license: no label,
    # rather than LicenseRef-Proprietary for an open-source project.
    labels, version = image_labels((adopted(name).project / "Dockerfile").read_text())
    assert labels.get("org.opencontainers.image.licenses") == license
    # No version is guessed: empty unless the build passes VERSION (CI passes the project's).
    assert version == ""
    assert labels["org.opencontainers.image.version"] == "${VERSION}"


def test_a_script_behind_an_extra_is_adopted_with_that_extra(tmp_path: Path) -> None:
    # inkwelld's entry point is `inkwelld:main [d]`: the script runs inkwelld:main and needs `d`.
    result = adopt(
        INKWELL, tmp_path / "inkwell", str(template_snapshot()), "--data", "cli_name=inkwelld"
    )
    answers = read_answers(result.project)
    assert (answers["cli_name"], answers["cli_target"], answers["extras"]) == (
        "inkwelld", "inkwelld:main", ["d"],
    )  # fmt: skip
    dockerfile = instructions((result.project / "Dockerfile").read_text())
    assert 'ENTRYPOINT ["inkwelld"]' in dockerfile


def test_an_undeclared_script_is_refused_naming_every_declared_one(tmp_path: Path) -> None:
    project = existing_repository(INKWELL, tmp_path / "inkwell")
    result = copier(
        "copy", "--trust", "--defaults", "--data", "cli_name=inkd", str(template_snapshot()), ".",
        cwd=project, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "inkwell (inkwell:main), inkwelld (inkwelld:main)" in result.stdout + result.stderr


def test_a_project_with_its_own_workflows_gets_no_second_ci(adopted: Any) -> None:
    result = adopted("inkwell")
    workflows = sorted(path.name for path in (result.project / ".github" / "workflows").iterdir())
    assert workflows == ["lint.yml", "test.yml"]
    assert not (result.project / ".github" / "renovate.json").exists()
    assert "ci is none: the project has workflows of its own (lint.yml, test.yml)" in " ".join(
        result.output.split()
    )
    # Where there are none (hello-service), the template's CI is added as before.
    assert read_answers(adopted("hello-service").project)["ci"] == "github"


def test_adoption_names_the_files_the_team_had_not_committed(tmp_path: Path) -> None:
    project = existing_repository(TALLY, tmp_path / "tally")
    (project / "notes.txt").write_text("a draft\n")
    with (project / "tally" / "cli.py").open("a") as cli:
        cli.write("# an edit in progress\n")
    result = copier(
        "copy", "--trust", "--defaults", str(template_snapshot()), ".", cwd=project, check=False
    )
    assert result.returncode == 0, result.stderr
    warning = next(
        line for line in (result.stdout + result.stderr).splitlines() if "uncommitted" in line
    )
    # The team's two files, not the template's (Dockerfile, answers file...), which are new too.
    assert "uncommitted files before adoption: notes.txt, tally/cli.py." in warning


def test_a_clean_tree_is_adopted_without_a_warning(adopted: Any) -> None:
    assert "uncommitted" not in adopted("tally").output


def ci_version(project: Path) -> tuple[str, str]:
    """The generated CI's "Read the project version" step run in the project: its output, log."""
    steps = workflow(project)["jobs"]["docker"]["steps"]
    step = next(step for step in steps if step.get("id") == "project")
    with tempfile.TemporaryDirectory() as temp:
        output = Path(temp, "github-output.txt")
        output.write_text("")
        log = run(
            ["bash", "-e", "-c", step["run"]], cwd=project, env={"GITHUB_OUTPUT": str(output)}
        )
        return output.read_text(), log.stdout


def test_ci_reads_a_version_computed_from_git_tags(tmp_path: Path) -> None:
    # stamper's pyproject has no version (dynamic, a 0.0.0 placeholder): CI's step failed with
    # KeyError: 'version', or would have labelled the image 0.0.0.
    project = adopt(STAMPER, tmp_path / "stamper", str(template_snapshot())).project
    git(project, "tag", "--delete", STAMPER.matter["tag"])
    commit(project, "Adopted")
    output, log = ci_version(project)
    assert output == "version=\n"
    assert "no v* tag is reachable: the image's version label stays empty" in log
    git(project, "tag", "v2.1.0")
    assert ci_version(project)[0] == "version=2.1.0\n"
    (project / "NEWS.md").write_text("A change after the release.\n")
    commit(project, "After the release")
    head = git(project, "rev-parse", "--short=7", "HEAD").strip()
    assert ci_version(project)[0] == f"version=2.1.0.post1.dev0+{head}\n"


@pytest.mark.docker
def test_a_version_computed_from_git_tags_is_the_installed_packages(
    docker_engine: str, tmp_path: Path
) -> None:
    # The wheel is built by the project's own backend (poetry-dynamic-versioning's), given the
    # version CI reads from the tags; poetry-core's build_wheel, called directly, installed 0.0.0.
    project = adopt(STAMPER, tmp_path / "stamper", str(template_snapshot())).project
    assert read_answers(project)["build_backend"] == "poetry-dynamic-versioning"
    commit(project, "Adopted")
    git(project, "tag", "v2.1.0")
    output, _ = ci_version(project)
    version = output.removeprefix("version=").strip()
    assert version == "2.1.0"
    tag = image_tag({"adopted": "stamper", "version": version})
    docker_build(project, tag, "--build-arg", f"VERSION={version}")
    assert docker_run(tag) == "stamper 2.1.0\n"
    labels = json.loads(
        run([DOCKER, "image", "inspect", "--format", "{{json .Config.Labels}}", tag]).stdout
    )
    assert labels["org.opencontainers.image.version"] == "2.1.0"
    # Without the version (a local build), the build stops and says what to pass.
    failed = docker_build(project, image_tag({"adopted": "stamper"}), check=False)
    assert failed.returncode != 0
    assert "pass the version a clean clone has" in failed.stdout + failed.stderr


def test_the_release_takes_a_computed_version_from_its_tag(adopted: Any, tmp_path: Path) -> None:
    # The release's check compared the tag with pyproject.toml's version, which stamper has not:
    # KeyError, no release. The tag is the version, which the image build is then given.
    project = adopted("stamper").project
    steps = workflow(project, Path(".github/workflows/release.yml"))["jobs"]["version"]["steps"]
    check = next(step for step in steps if step.get("id") == "check")
    output = tmp_path / "github_output"
    output.write_text("")
    run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", check["run"]],
        cwd=project,
        env={"GITHUB_REF_NAME": "v1.3.0", "GITHUB_OUTPUT": str(output)},
    )
    assert output.read_text() == "version=1.3.0\n"


def test_a_build_backend_the_template_cannot_pin_is_refused(tmp_path: Path) -> None:
    project = existing_repository(TALLY, tmp_path / "tally")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"poetry.core.masonry.api"', '"hatchling.build"')
    )
    commit(project, "Built by hatchling")
    before = tree(project)
    result = copier(
        "copy", "--trust", "--defaults", str(template_snapshot()), ".", cwd=project, check=False
    )
    assert result.returncode != 0
    assert "names build-backend hatchling.build" in result.stderr.strip().splitlines()[-1]
    assert tree(project) == before


def test_the_template_files_list_is_what_the_template_renders(adopted: Any, tmp_path: Path) -> None:
    # Adoption keeps an existing file only if TEMPLATE_FILES names it: the list must be complete.
    project = render(tmp_path / "p", {"publish_to_pypi": True})
    rendered = {
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file() and path.parts[len(project.parts)] not in {"src", "tests"}
    }
    # And what only an adopted app built by poetry-dynamic-versioning's backend gets.
    stamper = adopted("stamper")
    rendered |= set(tree(stamper.project)) - set(stamper.before)
    assert rendered - {".copier-answers.yml"} == set(TEMPLATE_FILES)


def adopt_in_place(project: Path, message: str) -> dict[str, bytes]:
    """Commits the tree as the team's, adopts it with the defaults; the files afterwards."""
    git(project, "init", "--quiet", "--initial-branch=main")
    commit(project, message)
    before = tree(project)
    result = copier(
        "copy", "--trust", "--defaults", str(template_snapshot()), ".", cwd=project, check=False
    )
    assert result.returncode == 0, result.stderr
    after = tree(project)
    assert {path: after[path] for path in before} == before, "adoption changed the team's files"
    return after


def test_a_team_dockerfile_is_kept_without_the_templates_context_and_tools(tmp_path: Path) -> None:
    project = tmp_path / "greeter"
    shutil.copytree(FIXTURES / "greeter", project)
    (project / "Dockerfile").write_text("FROM python:3.13-slim\nCOPY . /src\n")
    git(project, "init", "--quiet", "--initial-branch=main")
    commit(project, "The team's own Dockerfile, which sends the whole folder")
    result = copier("copy", "--trust", "--defaults", str(template_snapshot()), ".", cwd=project)
    after = tree(project)
    assert "Dockerfile" in read_answers(project)["existing_files"]
    # Said at copy: the image answers are recorded but reach no file.
    assert "keeps its own Dockerfile: the image answers" in result.stdout + result.stderr
    # An allow-list .dockerignore would change what their Dockerfile's COPY sends.
    assert not [path for path in after if path == ".dockerignore" or path.startswith("build-tools")]


def test_a_package_mode_false_project_is_adopted_as_deps_only(tmp_path: Path) -> None:
    project = tmp_path / "analysis"
    project.mkdir()
    # A bound that excludes the template's default Python: the image takes the newest it allows.
    (project / "pyproject.toml").write_text(
        '[project]\nname = "analysis"\nrequires-python = ">=3.11,<3.13"\n'
        'dependencies = ["six>=1.16"]\n\n[tool.poetry]\npackage-mode = false\n'
    )
    (project / "tests").mkdir()
    (project / "tests" / "test_data.py").write_text("def test_data() -> None:\n    pass\n")
    after = adopt_in_place(project, "An environment, not a package")
    assert read_answers(project)["project_type"] == "deps-only"
    assert read_answers(project)["python_version"] == "3.12"
    assert [path for path in after if path.endswith(".py")] == ["tests/test_data.py"]
    assert 'CMD ["python"]' in after["Dockerfile"].decode()


# The application's code adoption proposes for a package-mode=false project, from its tree.
APP_TREES = {
    # Django: manage.py, the project folder, its app, its templates; not tests, docs or tooling.
    "django": (
        [
            "manage.py", "mysite/__init__.py", "mysite/settings.py", "mysite/wsgi.py",
            "polls/__init__.py", "polls/views.py", "templates/base.html", "tests/__init__.py",
            "conftest.py", "setup.py", "docs/conf.py", "scripts/seed.py", ".github/x.py",
        ],
        ["manage.py", "mysite/", "polls/", "templates/"],
    ),
    # Flask in one module and its config, with its static files; not its test module.
    "flask": (
        ["app.py", "config.py", "static/site.css", "test_app.py", "notes/todo.txt"],
        ["app.py", "config.py", "static/"],
    ),
    # What git ignores is no code of the project's (.gitignore: local_settings.py, generated/).
    "ignored": (
        ["wsgi.py", "local_settings.py", "generated/__init__.py"],
        ["wsgi.py"],
    ),
}  # fmt: skip


def test_adoption_prints_the_code_it_proposes_to_copy(adopted: Any) -> None:
    proposed = "app_files: manage.py, mysite/, polls/ are copied into the image's /app"
    assert proposed in " ".join(adopted("pollsite").output.split())
    # Nothing proposed, nothing said (ledger's scripts folder is no package).
    assert "app_files:" not in adopted("ledger").output


@pytest.mark.parametrize("shape", APP_TREES)
def test_adoption_proposes_an_environments_code_from_its_tree(tmp_path: Path, shape: str) -> None:
    files, proposed = APP_TREES[shape]
    for path in files:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    (tmp_path / ".gitignore").write_text("local_settings.py\ngenerated/\n")
    git(tmp_path, "init", "--quiet")
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "site"\n\n[tool.poetry]\npackage-mode = false\n')
    assert proposed_app_files(tmp_path) == proposed
    # A package's code is in its wheel: nothing is proposed.
    pyproject.write_text('[project]\nname = "site"\n')
    assert proposed_app_files(tmp_path) == []


@pytest.mark.parametrize(
    ("license", "files"),
    [
        ('{ file = "LICENSE" }', ["LICENSE"]),
        ('{ file = "./legal/COPYING.txt" }', ["legal/COPYING.txt"]),
        ('{ text = "MIT" }', []),
        ('"MIT"', []),
        # Paths a mount option cannot name: Poetry's own error names the file instead.
        ('{ file = "../LICENSE" }', []),
        ('{ file = "/etc/LICENSE" }', []),
        ('{ file = "MY LICENSE" }', []),
        ('{ file = "a,b" }', []),
        ('{ file = "." }', []),
    ],
)
def test_load_files_are_what_poetry_reads_to_load_the_project(
    tmp_path: Path, license: str, files: list[str]
) -> None:
    # Readmes, license-files globs and includes are read only to build a wheel.
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "p"\nreadme = "README.rst"\nlicense = {license}\n'
        '[tool.poetry]\nreadme = ["A.md", "B.md"]\ninclude = ["data/"]\n'
    )
    assert poetry_load_files(tmp_path) == files


def test_load_files_of_a_folder_without_pyproject_are_none(tmp_path: Path) -> None:
    # What the update's temporary renders look like.
    assert poetry_load_files(tmp_path) == []


# --- What does not fit is refused before anything is written ------------------------------------


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"cli_name": "hello"}, "declares no console script hello"),
        ({"cli_target": "greeter.cli:main"}, "answer cli_target=greeter.__main__:main"),
        ({"python_version": "3.10"}, "Python bound (>=3.11) excludes Python 3.10"),
        ({"layout": "flat"}, "no package at greeter"),
        ({"extras": ["postgres"]}, "declares no extra postgres"),
        ({"existing_files": ["src"]}, "it names files the template writes"),
        ({"build_context": ["../secrets/"]}, "without `..`"),
    ],
    ids=["script", "target", "python", "package", "extra", "kept", "context"],
)
def test_an_answer_that_does_not_fit_the_project_is_refused(
    tmp_path: Path, answers: dict[str, Any], message: str
) -> None:
    project = existing_repository(GREETER, tmp_path / "greeter")
    before = tree(project)
    result = copier(
        "copy", "--trust", "--defaults", *data_options(answers), str(template_snapshot()), ".",
        cwd=project, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    # The sentence alone, last, without Copier's traceback (extensions/answers.py: refused).
    assert message in result.stderr.strip().splitlines()[-1]
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert tree(project) == before, "a refused adoption wrote files"


@pytest.mark.parametrize(
    ("app_files", "message"),
    [
        ('["../shared/"]', "without globs, `..`, a leading /"),
        ('["polls/*.py"]', "without globs, `..`, a leading /"),
        ('["/srv/site/"]', "without globs, `..`, a leading /"),
        ('[".venv/"]', "or .git, .venv and cache folders"),
        ('["blog/"]', "are not files or folders inside the project"),
        ("manage.py", "app_files must be a YAML list of paths"),
    ],
    ids=["parent", "glob", "absolute", "venv", "missing", "not-a-list"],
)
def test_app_files_that_the_image_cannot_copy_are_refused(
    tmp_path: Path, app_files: str, message: str
) -> None:
    project = existing_repository(POLLSITE, tmp_path / "pollsite")
    before = tree(project)
    result = copier(
        "copy", "--trust", "--defaults", "--data", f"app_files={app_files}",
        str(template_snapshot()), ".", cwd=project, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert tree(project) == before, "a refused adoption wrote files"


def test_a_folder_without_pyproject_cannot_be_adopted(tmp_path: Path) -> None:
    project = tmp_path / "notes"
    project.mkdir()
    (project / "notes.txt").write_text("not a Poetry project\n")
    result = copier(
        "copy", "--trust", "--defaults", "--data", f"project_name={PROJECT_NAME}",
        "--data", "existing_project=true", str(template_snapshot()), ".",
        cwd=project, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "has no pyproject.toml" in result.stdout + result.stderr
    assert sorted(path.name for path in project.iterdir()) == ["notes.txt"]


# --- The images: each project's real entry point runs --------------------------------------------


@pytest.fixture(scope="session")
def adopted_image(shared_cache: SharedCache, adopted: Any, docker_engine: str) -> Any:
    def make(name: str) -> str:
        tag = image_tag({"adopted": name})

        def build(path: Path) -> None:
            project = copy_project(adopted(name).project, path / "project")
            # The team's ignored files lie in the working tree, as they do on a developer's disk.
            for ignored in IGNORED_FILES.get(name, ()):
                (project / ignored).parent.mkdir(parents=True, exist_ok=True)
                (project / ignored).write_text(f"{IGNORED_MARKER} {ignored}\n")
            args = []
            if read_answers(project).get("build_backend") == "poetry-dynamic-versioning":
                # As CI builds it: VERSION from its "Read the project version" step (the tags).
                version = ci_version(project)[0].removeprefix("version=").strip()
                args = ["--build-arg", f"VERSION={version}"]
            log = docker_build(project, tag, *args)
            (path / "build.log").write_text(log.stdout + log.stderr)

        shared_cache.get("adopted-image", {"fixture": name, "tag": tag}, build)
        return tag

    return make


@pytest.mark.docker
def test_the_adopted_cli_runs_its_own_entry_point(adopted_image: Any) -> None:
    tag = adopted_image("greeter")
    assert docker_run(tag, "Ada") == "Greetings, Ada (greeter 1.4.2)\n"
    assert docker_run(tag, "--version") == "greet 1.4.2\n"
    # The wheel holds the declared readme and license file (their metadata, not the stub's).
    code = "from importlib.metadata import metadata; m = metadata('greeter'); "
    code += "print(m['License-File'], m['Description-Content-Type'])"
    metadata = docker_run(tag, "-c", code, options=["--entrypoint", "python"])
    assert metadata == "LICENSE.txt text/x-rst\n"
    # Files git ignores inside the package stayed out of the build context, so out of the wheel.
    search = f"grep -rl {IGNORED_MARKER} /app || echo none"
    assert docker_run(tag, "-c", search, options=["--entrypoint", "sh"]) == "none\n"


def wheel_files(project: Path, package: str, dest: Path) -> list[str]:
    """The files under `package/` of the wheel `poetry build` makes in a clean clone."""
    run(["git", "clone", "--quiet", project, dest])
    run(["poetry", "build", "--format", "wheel", "--no-interaction"], cwd=dest)
    (wheel,) = (dest / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    return sorted(name for name in names if name.startswith(f"{package}/"))


@pytest.mark.docker
def test_the_image_holds_exactly_the_wheel_of_a_clean_clone(
    adopted: Any, adopted_image: Any, tmp_path: Path
) -> None:
    # Every ignore source git reads, its negations and its escapes, and committed files with
    # secret-like names (a vault client module, a CA bundle, .env.example).
    tag = adopted_image("keeper")
    listing = "cd /app/.venv/lib/python3*/site-packages && find keeper -type f ! -name '*.pyc'"
    image = sorted(docker_run(tag, "-c", listing, options=["--entrypoint", "sh"]).splitlines())
    expected = wheel_files(adopted("keeper").project, "keeper", tmp_path / "clone")
    assert image == expected
    assert {"keeper/secrets/__init__.py", "keeper/data/internal-ca.pem"} <= set(image)
    out = docker_run(tag, "db")
    assert out == "Credential db at vault://kv/keeper/db -----BEGIN CERTIFICATE----- 20\n"


def test_committed_secret_like_files_are_named_at_adoption(adopted: Any) -> None:
    output = adopted("keeper").output
    for path in ("src/keeper/secrets/__init__.py", "src/keeper/data/internal-ca.pem"):
        assert f"Committed file {path} matches an ignore or secret-like pattern" in output


@pytest.mark.docker
def test_ci_image_files_check_passes_on_every_adopted_app(
    adopted: Any, docker_engine: str, pre_commit_home: Path, tmp_path: Path
) -> None:
    # Fixtures that keep their own CI get no ci.yml: the step is the same for all (keeper's).
    runner = Runner(tmp_path, tmp_path, host_env(pre_commit_home))
    docker_client(runner, docker_engine)
    steps_from = adopted("keeper").project
    checked = []
    for name in BY_NAME:
        project = checkout(adopted(name).project, tmp_path / name)
        answers = read_answers(project)
        if answers["project_type"] != "app" or "Dockerfile" in answers["existing_files"]:
            continue
        # The team's ignored files lie in the tree, as on a developer's disk.
        for ignored in IGNORED_FILES.get(name, ()):
            (project / ignored).parent.mkdir(parents=True, exist_ok=True)
            (project / ignored).write_text(f"{IGNORED_MARKER} {ignored}\n")
        output = image_files_check(runner, project, steps_from)
        assert "files of the committed tree's wheel" in output, name
        checked.append(name)
    assert len(checked) >= 8, checked


@pytest.mark.docker
def test_a_single_module_app_is_built_and_runs_labelled_only_with_what_it_states(
    adopted_image: Any,
) -> None:
    tag = adopted_image("tabulator")
    assert docker_run(tag, "a,bb", "ccc,d") == "a    bb\nccc  d\n"
    labels = json.loads(
        run([DOCKER, "image", "inspect", "--format", "{{json .Config.Labels}}", tag]).stdout
    )
    # Expat is no SPDX identifier, and a local build is given no version.
    assert "org.opencontainers.image.licenses" not in labels
    assert labels["org.opencontainers.image.version"] == ""


@pytest.mark.docker
def test_a_script_behind_an_extra_runs_with_its_extra(docker_engine: str, tmp_path: Path) -> None:
    result = adopt(
        INKWELL, tmp_path / "inkwell", str(template_snapshot()), "--data", "cli_name=inkwelld"
    )
    tag = image_tag({"adopted": "inkwell", "cli_name": "inkwelld"})
    docker_build(result.project, tag)
    # inkwelld imports six, which only its `d` extra installs.
    assert docker_run(tag).startswith("inkwelld with six 1.")


def adopted_image_under(policy: str, name: str, dest: Path) -> str:
    """The fixture adopted with hash_policy=`policy`, built; its tag."""
    result = adopt(
        BY_NAME[name], dest / name, str(template_snapshot()), "--data", f"hash_policy={policy}"
    )
    tag = image_tag({"adopted": name, "hash_policy": policy})
    docker_build(result.project, tag)
    return tag


INSTALLED = (
    "from importlib.metadata import distributions; "
    "print(' '.join(sorted(d.metadata['Name'] for d in distributions())))"
)


@pytest.mark.docker
@pytest.mark.parametrize("policy", ["poetry", "pip", "none"])
def test_the_license_file_poetry_loads_is_mounted_into_the_dependency_step(
    docker_engine: str, tmp_path: Path, policy: str
) -> None:
    # Without it Poetry stops: "license file '/src/LICENSE' not found".
    tag = adopted_image_under(policy, "notary", tmp_path)
    stamp = docker_run(tag, "hello")
    assert stamp.startswith(
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 (six 1."
    )
    assert docker_run(tag, "-c", INSTALLED, options=["--entrypoint", "python"]) == "notary six\n"
    # Mounted, not copied: the runtime has no /src, and the license is only the wheel's own.
    found = "find / -xdev -name LICENSE -path '*notary*' 2>/dev/null; ls /src 2>&1 || true"
    listing = docker_run(tag, "-c", found, options=["--entrypoint", "sh"])
    assert listing.splitlines()[0].endswith(".dist-info/licenses/LICENSE"), listing
    assert "No such file" in listing.splitlines()[-1], listing


@pytest.mark.docker
@pytest.mark.parametrize("policy", ["poetry", "pip", "none"])
def test_an_app_without_dependencies_builds_under_every_policy(
    docker_engine: str, tmp_path: Path, policy: str
) -> None:
    # No main group: `--only main` alone would stop with "Group(s) not found: main".
    tag = adopted_image_under(policy, "tally", tmp_path)
    assert docker_run(tag, "one two", "three") == "3 words\n"
    assert docker_run(tag, "-c", INSTALLED, options=["--entrypoint", "python"]) == "tally\n"


@pytest.mark.docker
@pytest.mark.parametrize("policy", ["poetry", "pip", "none"])
def test_a_deps_only_environment_gets_its_license_file_and_an_empty_venv(
    docker_engine: str, tmp_path: Path, policy: str
) -> None:
    # No wheel is built, so only the load files put the license in the build context.
    tag = adopted_image_under(policy, "ledger", tmp_path)
    assert docker_run(tag, "python", "-c", INSTALLED) == "\n"
    assert docker_run(tag, "python", "-c", "print(sum([1, 2]))") == "3\n"


def wait_for_health(container: str, timeout: float = 90) -> str:
    """The container's health once decided, or "exited" when its command stopped first."""
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        state, status = run(
            [DOCKER, "inspect", "--format", "{{.State.Status}} {{.State.Health.Status}}", container]
        ).stdout.split()
        if status in {"healthy", "unhealthy"}:
            return status
        if state == "exited":
            return state
        time.sleep(0.5)
    return status


@pytest.mark.docker
def test_the_adopted_service_is_healthy_and_answers_on_its_published_port(
    adopted_image: Any,
) -> None:
    tag = adopted_image("hello-service")
    # Docker picks the host port; the health check runs the image's command, only more often.
    container = run(
        [DOCKER, "run", "-d", "--rm", "-p", "127.0.0.1::8000", "--health-interval", "1s", tag]
    ).stdout.strip()
    try:
        status = wait_for_health(container)
        logs = run([DOCKER, "logs", container])
        assert status == "healthy", logs.stdout + logs.stderr
        port = run([DOCKER, "port", container, "8000/tcp"]).stdout.split(":")[-1].strip()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/hello", timeout=10) as response:
            assert response.read() == b"Hello from hello-service\n"
        config = json.loads(run([DOCKER, "inspect", tag]).stdout)[0]["Config"]
        assert config["Entrypoint"] == ["svc"]
        assert config["Cmd"] == ["serve", "--bind", "0.0.0.0:8000"]
        assert "8000/tcp" in config["ExposedPorts"]
    finally:
        run([DOCKER, "rm", "--force", container], check=False)


# --- The corpus: each fixture's image runs as its README says ----------------------------------


def test_every_fixture_is_in_the_corpus() -> None:
    # docs/corpus_table.py writes the README's table from the same READMEs.
    assert sorted(BY_NAME) == sorted(corpus_table.corpus())


@pytest.mark.docker
@pytest.mark.parametrize("name", BY_NAME)
def test_each_adopted_image_runs_as_its_readme_says(adopted_image: Any, name: str) -> None:
    matter = BY_NAME[name].matter
    tag = adopted_image(name)
    if "request" not in matter:
        output = docker_run(tag, *matter["run"])
        assert output.startswith(matter["prints"]), output
        return
    # A service: healthy, then one request through the port Docker published.
    port = BY_NAME[name].data["service_port"]
    container = run(
        [DOCKER, "run", "-d", "--rm", "-p", f"127.0.0.1::{port}", "--health-interval", "1s", tag]
    ).stdout.strip()
    try:
        status = wait_for_health(container)
        logs = run([DOCKER, "logs", container])
        assert status == "healthy", logs.stdout + logs.stderr
        published = run([DOCKER, "port", container, f"{port}/tcp"]).stdout.split(":")[-1].strip()
        url = f"http://127.0.0.1:{published}{matter['request']}"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.read().decode().startswith(matter["prints"])
    finally:
        run([DOCKER, "rm", "--force", container], check=False)


@pytest.mark.docker
def test_the_adopted_apps_extra_driver_is_built_and_imports(adopted_image: Any) -> None:
    output = docker_run(adopted_image("dbtool"), "drivers")
    assert output.startswith("psycopg2 2."), output
    assert "(libpq " in output
    # The build tools stayed in the builder.
    tools = "command -v gcc pg_config poetry uv || echo none"
    assert (
        docker_run(adopted_image("dbtool"), "-c", tools, options=["--entrypoint", "sh"]) == "none\n"
    )


def published_get(container: str, port: int, path: str) -> bytes:
    """GET `path` through the container's published `port` (no proxy from this machine)."""
    address = run([DOCKER, "port", container, f"{port}/tcp"]).stdout.split()[0]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://{address}{path}", timeout=10) as response:
        body: bytes = response.read()
    return body


@pytest.mark.docker
def test_the_adopted_site_runs_from_source_and_is_healthy_on_its_published_port(
    adopted_image: Any,
) -> None:
    # gunicorn imports mysite.wsgi from the copied code: without it, ModuleNotFoundError.
    tag = adopted_image("pollsite")
    # Not --rm: the logs of a command that stopped say why. Hardened, as the README's example runs.
    hardened = ["--read-only", "--user", "12345:12345", "--cap-drop", "ALL"]
    container = run(
        [DOCKER, "run", "-d", "-p", "127.0.0.1::8000", "--health-interval", "1s", *hardened, tag]
    ).stdout.strip()
    try:
        status = wait_for_health(container)
        logs = run([DOCKER, "logs", container])
        assert status == "healthy", logs.stdout + logs.stderr
        assert published_get(container, 8000, "/") == b"Hello from pollsite\n"
    finally:
        run([DOCKER, "rm", "--force", container], check=False)


@pytest.mark.docker
def test_the_adopted_sites_code_is_root_owned_read_only_and_only_what_was_named(
    adopted: Any, adopted_image: Any
) -> None:
    script = (
        "id -u; ls -A /app | tr '\\n' ' '; echo; "
        "find /app -path /app/.venv -prune -o -printf '%u:%g %m %p\\n' | sort; "
        "find /app -writable | wc -l; "
        "touch /app/mysite/x /app/polls/views.py 2>/dev/null || echo denied; "
        f"grep -rl {IGNORED_MARKER} /app || echo none"
    )
    out = docker_run(adopted_image("pollsite"), "sh", "-c", script).splitlines()
    assert out[:2] == ["10001", ".venv manage.py mysite polls "], out
    listing = out[2:-3]
    # Owned by root, not writable by the app user (nor by its group or others).
    assert {line.split()[0] for line in listing} == {"root:root"}, listing
    assert all(int(line.split()[1][-2:], 8) & 0o22 == 0 for line in listing), listing
    # The team's committed code, and none of what git ignores inside it (a database, an .env).
    assert sorted(line.split()[2] for line in listing) == sorted(
        ["/app"]
        + [
            f"/app/{path}"
            for path in git(adopted("pollsite").project, "ls-files").split()
            if path.startswith(("manage.py", "mysite/", "polls/"))
        ]
        + ["/app/mysite", "/app/polls"]
    )
    assert out[-3:] == ["0", "denied", "none"], out


@pytest.mark.docker
def test_a_code_change_of_the_adopted_site_keeps_the_dependency_layer(
    adopted: Any, docker_engine: str, tmp_path: Path
) -> None:
    project = copy_project(adopted("pollsite").project, tmp_path / "pollsite")
    tag = image_tag({"adopted": "pollsite", "edited": True})
    docker_build(project, tag)
    # A greeting no earlier run used: BuildKit's cache is content-addressed and outlives runs.
    greeting = f"Howdy-{secrets.token_hex(4)}"
    views = project / "polls" / "views.py"
    views.write_text(views.read_text().replace("Hello from pollsite", greeting))
    steps = cached_steps(docker_build(project, tag).stderr)
    assert dependency_step(steps), "a code-only change reinstalled the dependencies"
    assert {step: cached for step, cached in steps.items() if step.startswith("COPY ")} == {
        "COPY --from=builder /app/.venv /app/.venv": True,
        "COPY manage.py /app/manage.py": True,
        "COPY mysite /app/mysite": True,
        "COPY polls /app/polls": False,
    }
    # Importable whatever the working directory.
    code = "from polls.views import GREETING; print(GREETING)"
    assert docker_run(tag, "python", "-c", code, options=["-w", "/tmp"]) == f"{greeting}\n"


# --- Updates keep all of it -----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", BY_NAME)
def test_an_update_of_an_adopted_project_keeps_the_teams_files_quietly(
    history: Path, tmp_path: Path, name: str
) -> None:
    result = adopt(BY_NAME[name], tmp_path / name, str(history), "--vcs-ref", "0.1.0")
    git(result.project, "add", "--all")
    commit(result.project, "Adopt the template")
    adopted_files = tree(result.project)
    update = copier(
        "update", "--trust", "--defaults", "--vcs-ref", "0.2.0", cwd=result.project, check=False
    )
    output = update.stdout + update.stderr
    assert update.returncode == 0, output
    assert "Warning" not in result.output and "deprecated" not in result.output, result.output
    after = tree(result.project)
    changed = {path for path, data in adopted_files.items() if after.get(path) != data}
    # Only the template's own files take the template's change; the team's are as they were.
    assert changed == {"Dockerfile", ".copier-answers.yml"}, changed
    assert set(after) == set(adopted_files)
    assert "<<<<<<<" not in after["Dockerfile"].decode()
    # The files Poetry loads stay mounted, though the update's temporary renders cannot read them.
    for path in poetry_load_files(result.project):
        assert f"--mount=type=bind,source={path},target={path}" in after["Dockerfile"].decode()
    # Poetry's deprecation warnings ([tool.poetry] metadata) stay out of the update's output.
    assert "Warning" not in output and "deprecated" not in output, output
    # The lock check's one line (after Copier's echo of the command) is not printed: the lock fits.
    assert not [line for line in output.splitlines() if line.startswith("poetry.lock does not")]


@pytest.mark.slow
def test_an_answers_file_without_app_files_updates_quietly_then_takes_them_when_answered(
    history: Path, tmp_path: Path
) -> None:
    # Adopted before the question existed: no app_files in its answers, no code in its image.
    result = adopt(POLLSITE, tmp_path / "pollsite", str(history), "--vcs-ref", "0.1.0",
                   "--data", "app_files=[]")  # fmt: skip
    project = result.project
    answers_file = project / ".copier-answers.yml"
    lines = answers_file.read_text().splitlines(keepends=True)
    answers_file.write_text("".join(line for line in lines if not line.startswith("app_files:")))
    commit(project, "Adopt the template (before app_files)")
    adopted_files = tree(project)
    update = copier("update", "--trust", "--defaults", "--vcs-ref", "0.2.0", cwd=project)
    after = tree(project)
    changed = {path for path, data in adopted_files.items() if after.get(path) != data}
    # The template's change only: nothing is proposed at update, the answer is recorded as [].
    assert changed == {"Dockerfile", ".copier-answers.yml"}, update.stdout + update.stderr
    assert read_answers(project)["app_files"] == []
    assert "/app/mysite" not in after["Dockerfile"].decode()
    commit(project, "Update the template")
    # The README's way to name the code afterwards.
    copier(
        "update", "--trust", "--defaults", "--data",
        'app_files=["manage.py", "mysite/", "polls/"]', cwd=project,
    )  # fmt: skip
    runtime = stages((project / "Dockerfile").read_text())["runtime"]
    assert [i for i in runtime if i.startswith("COPY ") and "--from" not in i] == [
        "COPY manage.py /app/manage.py", "COPY mysite /app/mysite", "COPY polls /app/polls",
    ]  # fmt: skip
    dockerignore = (project / ".dockerignore").read_text().splitlines()
    assert {"!manage.py", "!mysite/", "!polls/"} <= set(dockerignore)
    assert not [path for path in git(project, "status", "--porcelain").split() if ".rej" in path]


@pytest.mark.slow
def test_a_team_dockerfile_is_switched_to_the_templates_by_the_documented_update(
    history: Path, tmp_path: Path
) -> None:
    # README, "Adopting an existing Poetry project": git rm Dockerfile, commit, then update with
    # existing_files less Dockerfile; the template's Dockerfile, .dockerignore and tools arrive.
    project = existing_repository(GREETER, tmp_path / "greeter")
    (project / "Dockerfile").write_text("FROM python:3.13-slim\nCOPY . /src\n")
    commit(project, "The team's own Dockerfile")
    copier("copy", "--trust", "--defaults", "--vcs-ref", "0.1.0", str(history), ".", cwd=project)
    commit(project, "Adopt the template")
    assert not (project / ".dockerignore").exists()
    kept = [path for path in read_answers(project)["existing_files"] if path != "Dockerfile"]
    git(project, "rm", "--quiet", "Dockerfile")
    commit(project, "Use the template's Dockerfile")
    copier(
        "update", "--trust", "--defaults", "--vcs-ref", "0.2.0",
        "--data", f"existing_files={json.dumps(kept)}", cwd=project,
    )  # fmt: skip
    dockerfile = (project / "Dockerfile").read_text()
    assert "FROM ${PYTHON_IMAGE} AS runtime" in dockerfile and "<<<<<<<" not in dockerfile
    assert (project / ".dockerignore").is_file() and (project / "build-tools/poetry.txt").is_file()
    assert "Dockerfile" not in read_answers(project)["existing_files"]


# --- The CI workflow the template added runs on the adopted project -------------------------------


# The test command each fixture's CI runs (tinyid declares no pytest: `poetry run pytest` failed,
# none in the venv, and tests.py is not a name pytest collects).
CI_TESTS = {"tinyid": "poetry run python -m unittest discover -s tinyid -t ."}


@pytest.mark.slow
@pytest.mark.parametrize("name", BY_NAME)
def test_the_added_ci_lint_and_test_jobs_run_on_the_adopted_project(
    adopted: Any, pre_commit_home: Path, tmp_path: Path, name: str
) -> None:
    source = adopted(name).project
    answers = read_answers(source)
    if answers["ci"] == "none":
        # Its own workflows are its CI: the template added none to replay.
        assert not (source / ".github" / "workflows" / "audit.yml").exists()
        return
    # No CI of its own: the template's ci.yml was added (and no pre-commit).
    assert "ci.yml" not in str(answers["existing_files"])
    jobs = workflow(source)["jobs"]
    for job in ("lint", "test"):
        if job not in jobs:
            # No test command (ledger: no tests, no pytest): no test job, said at copy.
            assert job == "test" and answers["test_command"] == ""
            assert "test_command is empty" in adopted(name).output
            continue
        project = checkout(source, tmp_path / job / "project")
        runner = Runner(tmp_path / job, project, host_env(pre_commit_home))
        steps = replay_job(project, job, runner)
        assert git_changes(project) == "", f"the {job} job changed the team's files"
        if job == "test":
            tests = CI_TESTS.get(name, f"poetry run {answers['test_command']}")
            assert steps[-1] == tests
            # The project's own tests ran (unittest reports on stderr).
            output = runner.run_step({"run": tests}, runner.env())
            assert re.search(r"(Ran [1-9]\d* tests?|[1-9]\d* passed)", output), output


@pytest.mark.docker
def test_the_added_ci_docker_job_runs_on_the_adopted_project(
    adopted: Any, docker_engine: str, pre_commit_home: Path, tmp_path: Path
) -> None:
    project = checkout(adopted("hello-service").project, tmp_path / "project")
    runner = Runner(tmp_path, project, host_env(pre_commit_home))
    client = tmp_path / "docker-client"
    client.mkdir()
    (client / "docker").symlink_to(docker_engine)
    runner.paths.append(str(client))
    uses = {
        "hadolint/hadolint-action": hadolint_action,
        "docker/build-push-action": build_push_action,
    }
    replay_job(project, "docker", runner, uses=uses)
    job = workflow(project)["jobs"]["docker"]
    assert "usage: svc" in runner.run_step(job["steps"][-1], runner.env(job["env"]))
    labels = json.loads(
        run(
            [
                DOCKER,
                "image",
                "inspect",
                "--format",
                "{{ json .Config.Labels }}",
                "hello-service:ci",
            ]
        ).stdout
    )
    # The version of a [tool.poetry] project's pyproject.toml.
    assert labels["org.opencontainers.image.version"] == "0.3.0"
