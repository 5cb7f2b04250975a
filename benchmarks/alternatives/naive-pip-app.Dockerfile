# Way 3 for an app: one stage, `pip install .` into the system interpreter; the lock is not used.
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
# --ignore-installed: the stand-in base images' Debian packages cannot be upgraded by pip (no RECORD files).
RUN pip install --no-cache-dir --ignore-installed --index-url "$PYPI_MIRROR_URL" .
CMD ["python"]
