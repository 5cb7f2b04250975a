# The floor: the locked dependencies (and the project) in a --without-pip venv, plus the run-time
# apt packages with nothing left behind (lists and .deb files stay in cache mounts).
ARG PYTHON_IMAGE=python:3.13-slim-trixie

FROM ${PYTHON_IMAGE} AS builder
ARG APT_BUILD_PACKAGES=
# hadolint ignore=DL3008
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    if [ -n "$APT_BUILD_PACKAGES" ]; then \
        apt-get update && apt-get install -y --no-install-recommends $APT_BUILD_PACKAGES; \
    fi
ARG PYPI_MIRROR_URL
# The locked pins, space-separated, plus "." for an app (bench.py passes them).
ARG LOCKED_REQUIREMENTS
WORKDIR /src
RUN --mount=type=bind,target=/src,rw \
    python -m venv --without-pip /app/.venv \
    && python -m pip --python /app/.venv/bin/python install --no-cache-dir --no-deps \
        --index-url "$PYPI_MIRROR_URL" $LOCKED_REQUIREMENTS

FROM ${PYTHON_IMAGE}
ARG APT_RUNTIME_PACKAGES=
# hadolint ignore=DL3008
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    if [ -n "$APT_RUNTIME_PACKAGES" ]; then \
        rm -f /etc/apt/apt.conf.d/docker-clean \
        && apt-get update && apt-get install -y --no-install-recommends $APT_RUNTIME_PACKAGES; \
    fi
COPY --from=builder /app/.venv /app/.venv
CMD ["/app/.venv/bin/python"]
