# A local stand-in for the builder image of uv's Docker guide (ghcr.io/astral-sh/uv:python3.13-*-slim:
# the Python slim image with uv's binaries in /usr/local/bin). No container registry is reachable
# here, so bench.py builds it once, outside the timing, from the pinned uv wheel.
ARG PYTHON_IMAGE=python:3.13-slim-trixie
FROM ${PYTHON_IMAGE}
ARG PYPI_MIRROR_URL
ARG UV_VERSION
RUN python -m pip install --no-cache-dir --root-user-action=ignore --target /tmp/uv \
        --index-url "$PYPI_MIRROR_URL" "uv==${UV_VERSION}" \
    && cp /tmp/uv/bin/uv /tmp/uv/bin/uvx /usr/local/bin/ \
    && rm -rf /tmp/uv
