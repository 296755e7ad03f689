#!/usr/bin/env bash
# Install the project (with the [ocr] extra for scans and images) into ./.venv and run the service on $HOST:$PORT (default 0.0.0.0:8000).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet -e '.[ocr]'
exec .venv/bin/python -m app
