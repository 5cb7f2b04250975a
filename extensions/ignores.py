"""What git ignores, said the way .dockerignore reads it: the image gets what a clean clone has.

The generated .dockerignore has the template's part (an allow-list of what building the wheel
reads) and a block written here from every ignore source git reads: git's global excludes file,
.git/info/exclude, then every .gitignore of the tree, shallowest first (last match wins in git and
in Docker alike), each pattern anchored at its own directory, negations kept. Then caches and
secret-like names, at any depth; then `!path` for every committed file those lines would drop:
git has it, so a clean clone's wheel and the image have it too.

Git's answers come from git itself (`git ls-files`, `git config`, `git rev-parse`); which committed
files the lines drop, from pathspec (Copier's own dependency). Run as a script by the update's
migration, in the project: `python ignores.py .dockerignore [--check]`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pathspec
from jinja2 import Environment
from jinja2.ext import Extension

BEGIN = (
    "# >>> git's ignore rules, written by copier copy and copier update: edit .gitignore, not here"
)
END = "# <<< end of git's ignore rules"
# Environments and caches: never part of a wheel, and never committed.
CACHES = (".venv", "__pycache__", "*.py[cod]", ".pytest_cache", ".mypy_cache", ".ruff_cache",
          "*.egg-info")  # fmt: skip
# Characters Docker's matcher passes to a regular expression unescaped (it escapes . and $).
_REGEX_ONLY = frozenset("()+{}|^")


@dataclass
class Block:
    """The generated lines, and what a person must hear about them."""

    lines: list[str] = field(default_factory=list)
    unexpressed: list[str] = field(default_factory=list)
    committed: list[str] = field(default_factory=list)
    escaping_links: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join([BEGIN, *self.lines, END])


def _git(project: Path, *args: str) -> str | None:
    try:
        return subprocess.run(
            ["git", *args], cwd=project, capture_output=True, check=True
        ).stdout.decode("utf-8", "surrogateescape")
    except (OSError, subprocess.CalledProcessError):
        return None


def _read(path: Path) -> list[str] | None:
    try:
        return path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    except OSError:
        return None


def ignore_sources(project: Any, own_gitignore: str = "") -> list[tuple[str, str, list[str]]]:
    """(label, directory relative to the project, lines) of every ignore file git reads, lowest
    precedence first. Outside a git work tree: the root .gitignore only, or `own_gitignore` (the
    template's, about to be written) when there is none yet."""
    root = Path(str(project))
    sources: list[tuple[str, str, list[str]]] = []
    top = _git(root, "rev-parse", "--show-toplevel")
    in_git = top is not None and Path(top.strip()).resolve() == root.resolve()
    if in_git:
        configured = (_git(root, "config", "--path", "core.excludesFile") or "").strip()
        if configured:
            excludes = Path(configured).expanduser()
        else:
            config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
            excludes = Path(config_home, "git", "ignore")
        lines = _read(excludes)
        if lines:
            sources.append(("git's global excludes file (core.excludesFile)", "", lines))
        info = (_git(root, "rev-parse", "--git-path", "info/exclude") or "").strip()
        lines = _read(root / info) if info else None
        if lines:
            sources.append((".git/info/exclude", "", lines))
    listed = (
        _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        if in_git
        else None
    )
    names = {path for path in (listed or "").split("\0") if path.rsplit("/", 1)[-1] == ".gitignore"}
    names.add(".gitignore")
    for name in sorted(names, key=lambda path: (path.count("/"), path)):
        lines = _read(root / name)
        if lines is None and name == ".gitignore" and own_gitignore:
            lines = own_gitignore.splitlines()
        if lines:
            sources.append((name, name.rpartition("/")[0], lines))
    return sources


def _escape_literal(path: str) -> str:
    """A directory name as a .dockerignore pattern that matches it literally."""
    return "".join(
        f"\\{char}" if char in "*?[]\\" or char in _REGEX_ONLY else char for char in path
    )


def _glob(body: str) -> str | None:
    """A gitignore glob as Docker's matcher reads it, or None when it has no such form."""
    out: list[str] = []
    index, in_class = 0, False
    while index < len(body):
        char = body[index]
        if char == "\\":
            if index + 1 == len(body):
                return None
            escaped = body[index + 1]
            # Docker turns `\x` into the regular expression `\x`: `\n` would be a newline.
            out.append(escaped if escaped.isalnum() else f"\\{escaped}")
            index += 2
            continue
        if in_class:
            in_class = char != "]"
            out.append(char)
        elif char == "[":
            in_class = True
            out.append("[")
            if body[index + 1 : index + 2] in ("!", "^"):
                out.append("^")
                index += 1
            if body[index + 1 : index + 2] == "]":
                out.append("\\]")
                index += 1
        elif char in _REGEX_ONLY:
            out.append(f"\\{char}")
        else:
            out.append(char)
        index += 1
    if in_class:
        return None
    # `**` is special in git only as a whole path segment; elsewhere it is `*`.
    segments = "".join(out).split("/")
    return "/".join(
        segment if segment == "**" or "**" not in segment else segment.replace("**", "*")
        for segment in segments
    )


def dockerignore_line(directory: str, line: str) -> str | None:
    """One .gitignore line of `directory` as a .dockerignore line: "" for a comment, a blank line
    or a directory-only negation (git needs those to walk into a folder; Docker walks into every
    folder), None when Docker's matcher cannot express it."""
    text = line.rstrip("\r")
    # Git drops trailing spaces unless escaped; Docker drops them always.
    stripped = text.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(text):
        return None
    text = stripped
    if not text or text.startswith("#"):
        return ""
    negate = text.startswith("!")
    if negate:
        text = text[1:]
    directory_only = text.endswith("/")
    body = text.rstrip("/")
    if not body:
        return ""
    if negate and directory_only:
        return ""
    anchored = "/" in body
    body = body.lstrip("/")
    glob = _glob(body)
    if glob is None:
        return None
    prefix = f"{_escape_literal(directory)}/" if directory else ""
    pattern = f"{prefix}{glob}" if anchored else f"{prefix}**/{glob}"
    # A leading / keeps a root pattern from reading as a comment (`#*#`); Docker drops it.
    return f"{'!' if negate else ''}{pattern if '/' in pattern else '/' + pattern}"


def _spec(lines: Iterable[str]) -> pathspec.GitIgnoreSpec:
    """.dockerignore lines (every one anchored at the root) as a gitignore matcher."""
    anchored = []
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        negate, pattern = line.startswith("!"), line.lstrip("!").strip()
        if not pattern.startswith(("/", "**/")):
            pattern = "/" + pattern
        # Docker's class negation is `[^`; gitignore's (and pathspec's) is `[!`.
        anchored.append(("!" if negate else "") + pattern.replace("[^", "[!"))
    return pathspec.GitIgnoreSpec.from_lines(anchored)


def dockerignore_block(
    project: Any, head: str, secret_patterns: Sequence[str], own_gitignore: str = ""
) -> Block:
    """The block of .dockerignore after `head` (the template's allow-list): git's ignore sources,
    caches and secrets at any depth, then the committed files all that would drop."""
    root = Path(str(project))
    block = Block()
    for label, directory, lines in ignore_sources(root, own_gitignore):
        translated = []
        for number, line in enumerate(lines, 1):
            pattern = dockerignore_line(directory, line)
            if pattern is None:
                block.unexpressed.append(f"{label}:{number}: {line.strip()}")
            elif pattern:
                translated.append(pattern)
        if translated:
            block.lines.extend([f"# {label}", *translated])
    never = [f"**/{pattern.rstrip('/')}" for pattern in (*CACHES, *secret_patterns)]
    if not any(line.startswith("!") for line in block.lines):
        never = [line for line in never if line not in block.lines]  # nothing re-includes them
    if never:
        block.lines.append(
            "# Never, at any depth, even where a line above re-includes them: caches, secrets"
        )
        block.lines.extend(never)
    listed = _git(root, "ls-files", "-z", "--cached")
    committed = sorted(path for path in (listed or "").split("\0") if path)
    if committed:
        head_lines = head.splitlines()
        outside = _spec(head_lines)
        dropped = _spec([*head_lines, *block.lines])
        ignored = set(
            (
                _git(root, "ls-files", "-z", "--cached", "--ignored", "--exclude-standard") or ""
            ).split("\0")
        )
        block.committed = [
            path
            for path in committed
            if not outside.match_file(path)
            and (dropped.match_file(path) or path in ignored)
            and (root / path).exists()
        ]
    block.escaping_links = escaping_links(root, head)
    if block.committed:
        block.lines.append(
            "# Committed, so in a clean clone's wheel: the lines above must not drop them"
        )
        block.lines.extend(f"!{_escape_literal(path)}" for path in block.committed)
    return block


def escaping_links(project: Any, head: str) -> list[str]:
    """Committed symlinks the build context lets in whose target is outside the repository
    (`path -> target`). Docker sends a link as a link, so its target never reaches the builder;
    poetry-core refuses a file outside the project, so the wheel and the image build stop."""
    root = Path(str(project))
    staged = _git(root, "ls-files", "-z", "--stage") or ""
    outside = _spec(head.splitlines())
    found = []
    for entry in filter(None, staged.split("\0")):
        meta, _, path = entry.partition("\t")
        if not meta.startswith("120000 ") or outside.match_file(path):
            continue
        try:
            target = os.readlink(root / path)
        except OSError:
            continue
        inside = os.path.normpath(os.path.join(os.path.dirname(path), target))
        if os.path.isabs(target) or inside == ".." or inside.startswith("../"):
            found.append(f"{path} -> {target}")
    return found


def warnings(block: Block) -> list[str]:
    """What a person must hear at copy and update about the generated block."""
    said = []
    if block.unexpressed:
        said.append(
            ".dockerignore cannot express these ignore patterns, so files they match may reach "
            "the image: " + "; ".join(block.unexpressed) + ". Rewrite each in a form both read "
            "(no escaped trailing space, brackets closed), then run copier update."
        )
    for link in block.escaping_links:
        said.append(
            f"Committed symlink {link} points outside the repository: Docker sends the link, "
            "never its target, and poetry-core refuses a file outside the project, so the wheel "
            "and the image build stop on it. Commit the file itself instead of the link."
        )
    for path in block.committed:
        said.append(
            f"Committed file {path} matches an ignore or secret-like pattern; it goes into the "
            "image, as git has it. If it is a secret, remove it from git (git rm --cached) and "
            "rotate it."
        )
    return said


def team_dockerignore_lacks(project: Any, block: Block) -> list[str]:
    """The generated lines a team's own .dockerignore does not have."""
    own = set(_read(Path(str(project), ".dockerignore")) or [])
    return [line for line in block.lines if line and not line.startswith("#") and line not in own]


def split(text: str) -> tuple[str, str, str]:
    """A .dockerignore's text before the generated block, the block's lines, and after it."""
    head, _, rest = text.partition(BEGIN)
    block, _, tail = rest.partition(END)
    return head, block.strip("\n"), tail


def copier_operation() -> str:
    """ "copy" or "update": Copier puts `_copier_operation` in the context of tasks and exclusions
    only, so a file's render asks Copier's own context variable."""
    try:
        from copier._main import _operation

        return str(_operation.get("copy"))
    except (ImportError, AttributeError):  # another Copier: treat as a copy (the full block)
        return "copy"


def git_ignore_block(
    project: Any, head: str, secret_patterns: Sequence[str], own_gitignore: str
) -> str:
    """The block as `copier copy` renders it. An update renders only the markers, in the project
    and in Copier's empty folders alike (so its merge moves nothing), and its migration writes
    the block from the merged tree."""
    if copier_operation() == "update":
        return Block().text
    return dockerignore_block(project, head, secret_patterns, own_gitignore).text


class GitIgnores(Extension):
    """Registers the block and the script that rewrites it as Jinja globals."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["git_ignore_block"] = git_ignore_block
        environment.globals["ignores_command"] = [sys.executable, str(Path(__file__).resolve())]


def main(argv: Sequence[str]) -> int:
    """`ignores.py .dockerignore [--warn | --check]`: rewrite the generated block (an update), only
    name what a person must hear about it (a copy), or say what a team's own file lacks."""
    target = Path(argv[0])
    mode = argv[1] if len(argv) > 1 else ""
    project = target.parent.resolve()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from filters import SECRET_FILE_PATTERNS

    text = target.read_text(encoding="utf-8")
    if mode == "--check":
        block = dockerignore_block(project, "", SECRET_FILE_PATTERNS)
        lacks = team_dockerignore_lacks(project, block)
        if lacks:
            print(
                "The project keeps its own .dockerignore (existing_files), and the image is built "
                f"with it as it is. It lacks {len(lacks)} lines of git's ignore rules, the secret "
                "list and the committed files they drop, so the image may get files git ignores, "
                "or lack committed ones: "
                + ", ".join(lacks[:10])
                + (" ..." if len(lacks) > 10 else "")
                + ". To use the template's: git rm .dockerignore, then copier update with "
                "existing_files less .dockerignore (README, 'What reaches the image')."
            )
        return 0
    head, _, tail = split(text)
    block = dockerignore_block(project, head, SECRET_FILE_PATTERNS)
    if mode != "--warn":
        if BEGIN not in text:
            head = head.rstrip("\n") + "\n\n"
        target.write_text(head + block.text + (tail if tail.strip() else "\n"), encoding="utf-8")
    for message in warnings(block):
        print(message)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
