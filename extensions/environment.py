"""What the machine says, for defaults: the user's git identity and today's year."""

from __future__ import annotations

import datetime
import subprocess

from jinja2 import Environment
from jinja2.ext import Extension


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


class MachineFacts(Extension):
    """Registers `git_config` and `current_year` as Jinja globals."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["git_config"] = git_config
        environment.globals["current_year"] = current_year
