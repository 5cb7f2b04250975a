"""`.ci/run`: a failed Docker provisioning stops CI at once, with its message, before any test."""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers import TEMPLATE, run


def ci_tree(tmp_path: Path, sandbox: str) -> Path:
    """A checkout beside a `shared/` whose docker-sandbox is `sandbox`, and a `dev` that records
    that it ran."""
    checkout = tmp_path / "checkout"
    (checkout / ".ci").mkdir(parents=True)
    shutil.copy2(TEMPLATE / ".ci" / "run", checkout / ".ci" / "run")
    dev = checkout / "dev"
    dev.write_text('#!/bin/sh\necho "dev $* DOCKER=$DOCKER REQUIRE_DOCKER=$REQUIRE_DOCKER" > ran\n')
    dev.chmod(0o755)
    tool = tmp_path / "shared" / "tools" / "docker-sandbox"
    tool.parent.mkdir(parents=True)
    tool.write_text(sandbox)
    tool.chmod(0o755)
    return checkout


def test_a_failed_provisioning_fails_ci_before_the_tests(tmp_path: Path) -> None:
    sandbox = "#!/bin/sh\necho '[docker-sandbox] dockerd did not come up' >&2\nexit 3\n"
    checkout = ci_tree(tmp_path, sandbox)
    result = run(["bash", checkout / ".ci" / "run"], check=False)
    assert result.returncode != 0
    assert "dockerd did not come up" in result.stderr
    assert "docker-sandbox failed" in result.stderr
    assert not (checkout / "ran").exists(), "the tests ran after a failed provisioning"


def test_a_provisioned_engine_runs_the_tests_with_docker_required(tmp_path: Path) -> None:
    sandbox = "#!/bin/sh\necho 'export DOCKER=/usr/bin/docker DOCKER_BUILDKIT=1'\n"
    checkout = ci_tree(tmp_path, sandbox)
    run(["bash", checkout / ".ci" / "run"])
    assert (checkout / "ran").read_text() == "dev test DOCKER=/usr/bin/docker REQUIRE_DOCKER=1\n"
