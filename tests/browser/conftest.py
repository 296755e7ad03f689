"""Fixtures of the browser tests: `python -m app` in a subprocess and one headless Debian Chromium.

The browser is Debian's `chromium` driven through Debian's `chromedriver`
(Selenium; nothing is downloaded at test time — scripts/test.sh installs both).
It runs with a fresh profile and a host resolver that knows no name at all, so
the page and the docs must work as in a closed network: the only server it
can reach is the service on 127.0.0.1. Screenshots go to `test-artifacts/browser/`
(ignored by git; `GOVREPORT_TEST_ARTIFACTS` moves it).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as DriverService

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # no other host resolves: a CDN would fail
    "--window-size=1280,1400", "--lang=zh-CN",
)


def _loadtest():
    name = "govreport_loadtest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / "loadtest.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def artifacts() -> Path:
    root = Path(os.environ.get("GOVREPORT_TEST_ARTIFACTS") or REPO / "test-artifacts") / "browser"
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture(scope="module")
def page_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    tmp = tmp_path_factory.mktemp("page-service")
    (tmp / "cwd").mkdir()
    env = {"GOVREPORT_WORKERS": "1", "GOVREPORT_JOB_DIR": str(tmp), "TMPDIR": str(tmp)}
    service = _loadtest().Service(env, cwd=tmp / "cwd", log=tmp / "service.log").start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def keyed_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, str]]:
    """The service with an API key, and the key."""
    tmp = tmp_path_factory.mktemp("keyed-service")
    (tmp / "cwd").mkdir()
    key = "page-test-key-5d41402abc4b2a76"
    env = {"GOVREPORT_WORKERS": "1", "GOVREPORT_JOB_DIR": str(tmp), "TMPDIR": str(tmp), "GOVREPORT_API_KEYS": key}
    service = _loadtest().Service(env, cwd=tmp / "cwd", log=tmp / "service.log").start()
    try:
        yield service, key
    finally:
        service.stop()


def _executables() -> tuple[str, str]:
    binary = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or shutil.which("chromium-browser")
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    if not binary or not driver:
        pytest.fail("Debian chromium and chromium-driver are needed (scripts/test.sh installs them)", pytrace=False)
    return binary, driver


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")  # freed as soon as the browser tests are done
def browser(tmp_path_factory: pytest.TempPathFactory, downloads: Path) -> Iterator[webdriver.Chrome]:
    binary, driver_path = _executables()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=DriverService(driver_path))
    driver.set_page_load_timeout(60)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()
