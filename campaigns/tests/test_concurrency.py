"""At least 200 submissions from 20 concurrent clients against a real gunicorn server process.

Runs on a file SQLite database in WAL mode, or on a fresh PostgreSQL database when DATABASE_URL is postgres
(so `make test` covers both). Duplicated ID numbers are sent by two clients at once: exactly one is stored.
"""

import os

import pytest

from bench.enrolment_load import run

pytestmark = pytest.mark.slow


def test_every_accepted_submission_is_stored_exactly_once(capsys):
    figures = run(clients=20, per_client=10, duplicates=20, database_url=os.environ.get("DATABASE_URL", ""))
    print(figures)
    assert figures["submissions"] == 220
    assert figures["errors"] == 0, figures["error_kinds"]
    assert figures["accepted"] == 200
    assert figures["duplicates_refused"] == 20
    assert figures["rows"] == figures["accepted"] == figures["distinct_references"] == figures["rows_with_reference"]
