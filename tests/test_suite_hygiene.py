"""The suite's own hygiene: what it builds on the engine does not pile up run after run."""

from __future__ import annotations

from pathlib import Path

import pytest

from answer_sets import DEFAULT_DEBIAN, DEFAULT_PYTHON
from extensions.filters import python_image
from helpers import IMAGE_REPOSITORY, docker_build, remove_images, run

pytestmark = pytest.mark.docker


def test_remove_images_removes_the_tags_and_the_dangling_images_they_left(
    docker_engine: str, tmp_path: Path
) -> None:
    repository = f"{IMAGE_REPOSITORY}-hygiene"
    base = python_image(DEFAULT_PYTHON, DEFAULT_DEBIAN)
    built = []
    # The same tag built twice: the first image is left dangling, as the suite's rebuilds leave.
    for build in ("first", "second"):
        (tmp_path / "Dockerfile").write_text(f"FROM {base}\nLABEL hygiene={build}\n")
        docker_build(tmp_path, f"{repository}:one")
        built.append(run([docker_engine, "images", "--quiet", f"{repository}:one"]).stdout.strip())
    docker_build(tmp_path, f"{repository}:two")
    assert built[0] != built[1]

    assert sorted(remove_images(repository)) == [f"{repository}:one", f"{repository}:two"]
    assert not run([docker_engine, "images", "--quiet", repository]).stdout.strip()
    for image in built:
        assert run([docker_engine, "image", "inspect", image], check=False).returncode != 0
    # The base image is no test image: it stays.
    assert run([docker_engine, "image", "inspect", base], check=False).returncode == 0
