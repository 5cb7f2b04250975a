# Way 3 for a deps-only environment: one stage, `pip install` of the locked versions (name==version).
ARG PYTHON_IMAGE=python:3.13-slim-trixie
FROM ${PYTHON_IMAGE}
ARG APT_BUILD_PACKAGES=
ARG APT_RUNTIME_PACKAGES=
# hadolint ignore=DL3008
RUN if [ -n "$APT_BUILD_PACKAGES$APT_RUNTIME_PACKAGES" ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends $APT_BUILD_PACKAGES $APT_RUNTIME_PACKAGES \
        && rm -rf /var/lib/apt/lists/*; \
    fi
ARG PYPI_MIRROR_URL
WORKDIR /app
COPY . .
# The pins exported from poetry.lock by bench.py, space-separated (hence DL3013 ignored).
ARG LOCKED_REQUIREMENTS
# --ignore-installed: the stand-in base images' Debian packages cannot be upgraded by pip (no RECORD files).
# hadolint ignore=DL3013
RUN pip install --no-cache-dir --ignore-installed --index-url "$PYPI_MIRROR_URL" $LOCKED_REQUIREMENTS
CMD ["python"]
