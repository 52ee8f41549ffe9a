import pytest


@pytest.fixture(autouse=True)
def suggestions_rebuild_at_once(monkeypatch):
    """A rebuild thread would not see the test's uncommitted rows: rebuild in the request instead."""
    from search import suggest

    monkeypatch.setattr(suggest, "BACKGROUND_REBUILD", False)
