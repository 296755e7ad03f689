"""Fixtures of the reliability suite (helpers live in `rel_support`)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from rel_support import Hosted, hosted_service, summary_notes


@pytest.fixture(scope="session")
def hosted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosted]:
    """The service with production defaults (upload limit, page limit, deadline) and two workers."""
    with hosted_service(tmp_path_factory, "service", {"GOVREPORT_WORKERS": "2"}) as hosted:
        yield hosted


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    notes = summary_notes()
    if notes:
        terminalreporter.section("reliability notes")
        for line in notes:
            terminalreporter.write_line(line)
