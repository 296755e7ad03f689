# syntax=docker/dockerfile:1
# Image for the govreport-extract HTTP service (`python -m app`).
# Two stages: the builder turns the project into a wheel and installs it with its
# dependencies into a virtualenv; the runtime stage copies only that virtualenv,
# so no build tooling, source tree or pip cache reaches the final image.
# The [ocr] extra (rapidocr + onnxruntime + OpenCV headless, models inside the wheel) reads scans.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Only what the wheel is built from; everything else is excluded by .dockerignore.
COPY pyproject.toml README.md ./
COPY extractors ./extractors
COPY app ./app
RUN python -m venv /opt/venv \
    && python -m pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/venv/bin/pip install "$(echo /wheels/*.whl)[ocr]" \
    && /opt/venv/bin/python -m compileall -q /opt/venv/lib

FROM ${PYTHON_IMAGE} AS runtime
# PATH puts the venv first, so `python` below is the venv interpreter.
# Bytecode was compiled in the builder; the root filesystem is read-only in Kubernetes.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin app
COPY --from=builder /opt/venv /opt/venv
WORKDIR /srv
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=4)"]
CMD ["python", "-m", "app"]
