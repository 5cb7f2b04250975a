# Way 2: the multi-stage pattern of uv's Docker guide (astral-sh/uv-docker-example,
# multistage.Dockerfile), from a uv.lock that `uv lock` made from the same PEP 621 pyproject.toml.
# Adaptations for these machines only, each marked "Adapted:".
# Adapted: the base images are parameters, and the builder is bench.py's local stand-in for
# ghcr.io/astral-sh/uv:python3.13-... (no registry is reachable here).
ARG PYTHON_IMAGE=python:3.13-slim-trixie
ARG UV_BUILDER_IMAGE=bench-uv-image

FROM ${UV_BUILDER_IMAGE} AS builder
# Adapted: the workload's build-only apt packages (psycopg2 builds from its sdist).
ARG APT_BUILD_PACKAGES=
# hadolint ignore=DL3008
RUN if [ -n "$APT_BUILD_PACKAGES" ]; then \
        apt-get update && apt-get install -y --no-install-recommends $APT_BUILD_PACKAGES \
        && rm -rf /var/lib/apt/lists/*; \
    fi
# As in the guide: bytecode compiled at install time, files copied out of the cache mount.
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
# As in the guide: the base image's interpreter, never a downloaded one.
ENV UV_PYTHON_DOWNLOADS=0
# Adapted: uv's concurrent downloads, limited as for the template (this machine's proxy refuses
# bursts of connections); empty keeps uv's default.
ARG UV_CONCURRENT_DOWNLOADS=
WORKDIR /app
# The dependencies alone first, from the lock and pyproject.toml bound in.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --locked --no-install-project --no-dev
# Then the source and the project itself (a deps-only project is virtual: nothing more to install).
COPY . /app
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev

FROM ${PYTHON_IMAGE}
# Adapted: the workload's run-time apt packages, cleaned up in the same layer.
ARG APT_RUNTIME_PACKAGES=
# hadolint ignore=DL3008
RUN if [ -n "$APT_RUNTIME_PACKAGES" ]; then \
        apt-get update && apt-get install -y --no-install-recommends $APT_RUNTIME_PACKAGES \
        && apt-get clean && rm -rf /var/lib/apt/lists/*; \
    fi
# As in the guide: a non-root user owns the copied /app (venv and source).
RUN groupadd --system --gid 999 nonroot \
    && useradd --system --gid 999 --uid 999 --create-home nonroot
COPY --from=builder --chown=nonroot:nonroot /app /app
ENV PATH="/app/.venv/bin:$PATH"
USER nonroot
CMD ["python"]
