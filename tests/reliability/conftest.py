"""Fixtures of the reliability suite (helpers live in `rel_support`)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from rel_support import Hosted, loadtest, summary_notes


@pytest.fixture(scope="session")
def hosted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosted]:
    """The service with production defaults (upload limit, page limit, deadline) and two workers."""
    tmpdir = tmp_path_factory.mktemp("service-tmp")
    cwd = tmp_path_factory.mktemp("service-cwd")
    env = {"GOVREPORT_WORKERS": "2", "TMPDIR": str(tmpdir)}
    service = loadtest.Service(env, cwd=cwd).start()
    service.wait_workers(2)
    try:
        yield Hosted(service, service.url, tmpdir, cwd)
    finally:
        service.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    notes = summary_notes()
    if notes:
        terminalreporter.section("reliability notes")
        for line in notes:
            terminalreporter.write_line(line)
