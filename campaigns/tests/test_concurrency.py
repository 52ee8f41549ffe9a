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


CONFLICTS = """
from campaigns.models import Enrolment
rows = list(Enrolment.objects.values_list("pk", "id_number_hash", "conflict_of_id", "status", "name"))
first = {pk: h for pk, h, c, s, n in rows if c is None}
linked = sum(1 for pk, h, c, s, n in rows if c is not None and first.get(c) == h and s == "conflict")
print("CONFLICTS", len(rows), len(first), len(set(first.values())), linked)
"""


def test_simultaneous_submissions_of_one_id_under_two_names_keep_both():
    """Two visitors send the same ID number at the same moment under different names: one becomes the first
    enrolment, the other a 待核实 conflict linked to it; nothing lost, no 5xx, on SQLite and PostgreSQL."""
    import re
    import threading

    import requests

    from bench.enrolment_load import BLOCK_ID, make_id, running_server

    with running_server(os.environ.get("DATABASE_URL", ""), workers=3, threads=4) as server:
        numbers = [make_id(n) for n in range(20)]
        barrier, results, lock = threading.Barrier(2), [], threading.Lock()

        def visitor(name, mobile):
            session = requests.Session()
            page = session.get(server.base_url + server.path, timeout=60)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            for number in numbers:
                data = {"csrfmiddlewaretoken": token, "block_id": BLOCK_ID, "name": name, "id_number": number,
                        "mobile": mobile, "employer": "单位", "branch": "工会", "plan": "住院医疗互助",
                        "shares": "1", "consent": "on", "website": ""}
                barrier.wait(timeout=60)
                response = session.post(server.base_url + server.path, data=data, allow_redirects=False,
                                        timeout=120, headers={"Referer": server.base_url + server.path})
                with lock:
                    results.append(response.status_code)

        threads = [threading.Thread(target=visitor, args=args)
                   for args in (("张三", "13800000001"), ("李四", "13900000002"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results == [302] * 40
        counts = re.search(r"CONFLICTS (\d+) (\d+) (\d+) (\d+)", server.manage("shell", stdin=CONFLICTS)).groups()
        assert tuple(map(int, counts)) == (40, 20, 20, 20)
