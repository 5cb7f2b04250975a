"""git's ignore rules as .dockerignore says them (extensions/ignores.py), checked without an engine.

What Docker itself does with the result is proven by building: tests/test_adopt.py
(`test_the_image_holds_exactly_the_wheel_of_a_clean_clone`) and ci.yml's own check
(tests/test_ci_files.py, tests/test_adopt.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from extensions.filters import SECRET_FILE_PATTERNS
from extensions.ignores import (
    _spec,
    dockerignore_block,
    dockerignore_line,
    split,
    warnings,
)
from helpers import commit, git

KEEPER = Path(__file__).parent / "fixtures" / "adopt" / "keeper"
HEAD = "*\n!pyproject.toml\n!poetry.lock\n!README.md\n!src/\n"


@pytest.mark.parametrize(
    ("directory", "line", "expected"),
    [
        ("", "*.sqlite3", "**/*.sqlite3"),
        ("", "!keep.sqlite3", "!**/keep.sqlite3"),
        ("", "/dist/", "/dist"),
        ("", "docs/_build/", "docs/_build"),
        ("src/app", "local_settings.py", "src/app/**/local_settings.py"),
        ("src/app", "/cache", "src/app/cache"),
        ("", "*~", "**/*~"),
        ("", ".#*", "**/.#*"),
        ("", "*.py,cover", "**/*.py,cover"),
        ("", "\\#*#", "**/\\#*#"),  # escaped: a comment otherwise, in git and Docker alike
        ("", "local settings.py", "**/local settings.py"),
        ("", "données/", "**/données"),
        ("", "*.py[codz]", "**/*.py[codz]"),
        ("", "[!a]*.log", "**/[^a]*.log"),  # git's class negation is Docker's [^
        ("", "c++/", "**/c\\+\\+"),  # Docker passes + to a regular expression
        ("", "a**b", "**/a*b"),  # ** is special only as a whole segment
        ("", "\\!important", "**/\\!important"),
        ("", "trailing   ", "**/trailing"),
        ("", "!*/", ""),  # git needs it to walk into folders; Docker walks into every folder
        ("", "# comment", ""),
        ("", "", ""),
        ("", "escaped\\ ", None),  # Docker trims the space git keeps
        ("", "[abc", None),
        ("we[ir]d", "*.db", "we\\[ir\\]d/**/*.db"),
    ],
)
def test_a_gitignore_line_as_dockerignore_reads_it(
    directory: str, line: str, expected: str | None
) -> None:
    assert dockerignore_line(directory, line) == expected


@pytest.fixture
def keeper(tmp_path: Path) -> Path:
    """The keeper fixture as a team has it: committed, an info/exclude, and ignored files lying
    in the package (every ignore source but the global one, which the machine's user owns)."""
    project = tmp_path / "keeper"
    shutil.copytree(KEEPER, project)
    git(project, "init", "--quiet", "--initial-branch=main")
    commit(project, "The team's project")
    (project / ".git/info/exclude").write_text("scratch/\n")
    for name in [
        "src/keeper/cli.py~", "src/keeper/.#cli.py", "src/keeper/cli.py,cover",
        "src/keeper/#cli.py#", "src/keeper/local settings.py", "src/keeper/données/notes.txt",
        "src/keeper/data/cache.sqlite3", "src/keeper/local_settings.py", "src/keeper/data/app.db",
        "src/keeper/templates/draft.html", "src/keeper/scratch/try.py", "src/keeper/.env",
    ]:  # fmt: skip
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("ignored\n")
    return project


def test_the_block_drops_exactly_what_git_ignores_and_keeps_every_committed_file(
    keeper: Path,
) -> None:
    block = dockerignore_block(keeper, HEAD, SECRET_FILE_PATTERNS)
    spec = _spec([*HEAD.splitlines(), *block.lines])
    listed = git(keeper, "ls-files", "-z", "--cached", "--others").split("\0")
    ignored = set(git(keeper, "ls-files", "-z", "--others", "-i", "--exclude-standard").split("\0"))
    in_package = sorted(path for path in filter(None, listed) if path.startswith("src/"))
    assert in_package and ignored
    sent = {path for path in in_package if not spec.match_file(path)}
    committed = set(git(keeper, "ls-files", "-z").split("\0"))
    assert sent == {path for path in in_package if path in committed}
    assert block.committed == [
        "src/keeper/data/.env.example",
        "src/keeper/data/internal-ca.pem",
        "src/keeper/secrets/__init__.py",
    ]
    assert "# .git/info/exclude" in block.lines and "# src/keeper/.gitignore" in block.lines


def test_what_cannot_be_said_and_escaping_links_are_named(keeper: Path) -> None:
    with (keeper / ".gitignore").open("a") as gitignore:
        gitignore.write("notes\\ \n[abc\n")
    (keeper / "src/keeper/host").symlink_to("/etc/hostname")
    (keeper / "src/keeper/alias.py").symlink_to("cli.py")
    git(keeper, "add", "--all")
    said = "\n".join(warnings(dockerignore_block(keeper, HEAD, SECRET_FILE_PATTERNS)))
    assert ".gitignore:20: notes\\" in said and ".gitignore:21: [abc" in said
    assert "Committed symlink src/keeper/host -> /etc/hostname points outside" in said
    assert "alias.py" not in said  # inside the repository: poetry-core reads the file
    assert "Committed file src/keeper/secrets/__init__.py matches" in said


def test_the_block_is_found_between_its_markers() -> None:
    text = f"{HEAD}\n{dockerignore_block(Path('/nonexistent'), HEAD, ['.env']).text}\n"
    head, block, tail = split(text)
    assert head == HEAD + "\n" and "**/.env" in block.splitlines() and tail == "\n"


def test_the_global_excludes_file_comes_first_and_the_nearest_gitignore_last(
    keeper: Path, tmp_path: Path
) -> None:
    (tmp_path / "global-ignore").write_text("*.swp\n")
    git(keeper, "config", "core.excludesFile", str(tmp_path / "global-ignore"))
    labels = [
        line
        for line in dockerignore_block(keeper, HEAD, SECRET_FILE_PATTERNS).lines
        if line.startswith("# ") and not line.startswith("# Never")
    ]
    # Lowest precedence first: last match wins in git and in Docker alike.
    assert labels[:5] == [
        "# git's global excludes file (core.excludesFile)",
        "# .git/info/exclude",
        "# .gitignore",
        "# src/keeper/.gitignore",
        "# src/keeper/templates/.gitignore",
    ]
