#!/usr/bin/env bash
# Install the project with its test and ocr extras into ./.venv and run the whole test suite.
# Usage: scripts/test.sh [pytest args...]   (the corpus is read from ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# Debian packages the tests use for real (nothing is downloaded at test time), installed with apt when missing:
# - tests/browser: headless Chromium, its WebDriver and a CJK font (the page's Chinese in the screenshots)
# - tests/app/test_jobs_redis.py: a real redis-server, started by the tests on a loopback port
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-wqy-microhei fontconfig)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
.venv/bin/python -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install --quiet -e '.[test,ocr]'
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
# pytest's 5 means "no tests collected": that is a failure here, not a pass
exit $rc
