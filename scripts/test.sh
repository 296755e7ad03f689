#!/usr/bin/env bash
# Install the project with its test and ocr extras into ./.venv and run the whole test suite.
# Usage: scripts/test.sh [pytest args...]   (the corpus is read from ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# tests/browser: Debian's headless Chromium and its WebDriver (no browser download at test time), and a CJK
# font so the page's Chinese renders in the screenshots kept as test artefacts
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    chromium chromium-driver fonts-wqy-microhei fontconfig >/dev/null
fi
.venv/bin/python -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install --quiet -e '.[test,ocr]'
# jobs (#13): the Redis job store is tested against a real redis-server (Debian package), started by the tests
if ! command -v redis-server >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  else
    echo "scripts/test.sh: redis-server is missing (apt-get install redis-server); tests/app/test_jobs_redis.py will fail" >&2
  fi
fi
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
# pytest's 5 means "no tests collected": that is a failure here, not a pass
exit $rc
