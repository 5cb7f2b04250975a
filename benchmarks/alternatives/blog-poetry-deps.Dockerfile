# Way 2 for a deps-only environment: the two-stage Poetry pattern many blog posts publish, reproduced for comparison.
# Only deviations from the blog: pinned versions (fair comparison), a mirror index, the workload's apt packages.
ARG PYTHON_IMAGE=python:3.13-slim-trixie

FROM ${PYTHON_IMAGE} AS builder
ARG APT_BUILD_PACKAGES=
# hadolint ignore=DL3008
RUN if [ -n "$APT_BUILD_PACKAGES" ]; then \
        apt-get update && apt-get install -y --no-install-recommends $APT_BUILD_PACKAGES \
        && rm -rf /var/lib/apt/lists/*; \
    fi
ARG PYPI_MIRROR_URL
# Poetry cannot use PyPI's JSON API on the benchmark machines: the mirror plugin points it at the simple index.
# As published, pip keeps its cache in the layer (DL3042).
# --ignore-installed: the stand-in base images' Debian packages cannot be upgraded by pip (no RECORD files).
# hadolint ignore=DL3042
RUN pip install --ignore-installed --index-url "$PYPI_MIRROR_URL" \
    poetry==2.5.1 poetry-plugin-export==1.10.1 poetry-plugin-pypi-mirror==0.6.5
ENV POETRY_VIRTUALENVS_IN_PROJECT=1 \
    POETRY_PYPI_MIRROR_URL=${PYPI_MIRROR_URL}
WORKDIR /app
# The blog habit: all source first, then the dependencies, so any edit reinstalls everything.
COPY . .
RUN poetry install --only main --no-root --no-interaction

FROM ${PYTHON_IMAGE}
ARG APT_RUNTIME_PACKAGES=
# hadolint ignore=DL3008
RUN if [ -n "$APT_RUNTIME_PACKAGES" ]; then \
        apt-get update && apt-get install -y --no-install-recommends $APT_RUNTIME_PACKAGES \
        && rm -rf /var/lib/apt/lists/*; \
    fi
COPY --from=builder /app/.venv /app/.venv
ENV PATH="/app/.venv/bin:$PATH"
CMD ["python"]
