"""Concurrent enrolments against a real server process.

Starts gunicorn (several worker processes and threads) on a fresh database (a file SQLite database in WAL
mode, or a new PostgreSQL database when DATABASE_URL is postgres), fires submissions from concurrent
clients, then counts the rows the server stored. Run: `make bench-enrolment`.
"""

import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BLOCK_ID = "33333333-3333-4333-8333-333333333333"

SETUP = f"""
import datetime
from django.utils import timezone
from home.models import HomePage
from campaigns.models import CampaignIndexPage, CampaignPage
home = HomePage.objects.get()
index = CampaignIndexPage(title="活动专题", slug="campaigns")
home.add_child(instance=index)
index.save_revision().publish()
today = timezone.localdate()
page = CampaignPage(title="压力测试活动", slug="load", start_date=today - datetime.timedelta(days=1),
    end_date=today + datetime.timedelta(days=1), contact_email="load@example.org", body=[
    {{"type": "enrolment_form", "id": "{BLOCK_ID}", "value": {{"form_kind": "mutual_aid", "title": "医疗互助",
      "intro": "", "plan_options": ["住院医疗互助"], "max_shares": 5, "pickup_note": "",
      "consent_text": "同意", "closing_date": None}}}}])
index.add_child(instance=page)
page.save_revision().publish()
print("URL", page.url)
"""

COUNT = """
from campaigns.models import Enrolment
refs = list(Enrolment.objects.values_list("reference", flat=True))
print("ROWS", len(refs), len(set(refs)), sum(1 for r in refs if r))
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_id(n):
    import datetime

    from campaigns.idcard import make_id_number

    born = datetime.date(1970, 1, 1) + datetime.timedelta(days=n * 7)
    return make_id_number(f"420106{born:%Y%m%d}{n % 1000:03d}")


def manage(env, *args, stdin=None):
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, input=stdin, capture_output=True,
                            text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr[-3000:]}")
    return result.stdout


class PostgresDatabase:
    def __init__(self, url):
        import dj_database_url

        self.config = dj_database_url.parse(url)
        self.name = f"{self.config['NAME']}_load_{secrets.token_hex(3)}"
        self.url = url.rsplit("/", 1)[0] + "/" + self.name

    def _admin(self, sql):
        import psycopg

        with psycopg.connect(host=self.config["HOST"] or "127.0.0.1", port=self.config["PORT"] or 5432,
                             user=self.config["USER"], password=self.config["PASSWORD"] or None,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(sql)

    def create(self):
        self._admin(f'CREATE DATABASE "{self.name}"')

    def drop(self):
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def client_run(base_url, path, ids, results, lock):
    session = requests.Session()
    page = session.get(base_url + path, timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    for number in ids:
        data = {"csrfmiddlewaretoken": token, "block_id": BLOCK_ID, "name": "压测", "id_number": number,
                "mobile": "13800000000", "employer": "压测单位", "branch": "压测工会", "plan": "住院医疗互助",
                "shares": "1", "consent": "on", "website": ""}
        try:
            response = session.post(base_url + path, data=data, allow_redirects=False, timeout=120,
                                    headers={"Referer": base_url + path})
            outcome = response.status_code
        except requests.RequestException as error:
            outcome = f"{type(error).__name__}"
        with lock:
            results.append((number, outcome))


class Server:
    def __init__(self, env, base_url, path, backend):
        self.env, self.base_url, self.path, self.backend = env, base_url, path, backend

    def manage(self, *args, stdin=None):
        return manage(self.env, *args, stdin=stdin)

    def count_rows(self):
        return tuple(map(int, re.search(r"ROWS (\d+) (\d+) (\d+)", self.manage("shell", stdin=COUNT)).groups()))


@contextmanager
def running_server(database_url="", workers=3, threads=4, rate_limit="1000000/60"):
    """gunicorn on a fresh database holding one open campaign with a 医疗互助 form block."""
    from cryptography.fernet import Fernet

    tmp = Path(tempfile.mkdtemp(prefix="enrol-server-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SQLITE_PATH"}}
    env.update(DJANGO_SETTINGS_MODULE="portal.settings.test", PORTAL_VAR_DIR=str(tmp),
               ENROLMENT_KEY=Fernet.generate_key().decode(), ENROLMENT_RATE_LIMIT=rate_limit, LOG_LEVEL="WARNING")
    pg = None
    if database_url.startswith(("postgres://", "postgresql://")):
        pg = PostgresDatabase(database_url)
        pg.create()
        env["DATABASE_URL"] = pg.url
        backend = "PostgreSQL"
    else:
        backend = "SQLite (WAL)"
    server = None
    try:
        manage(env, "migrate", "--noinput", "-v0")
        path = re.search(r"URL (\S+)", manage(env, "shell", stdin=SETUP)).group(1)
        port = free_port()
        server_log = open(tmp / "server.log", "w")  # noqa: SIM115
        server = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "portal.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers),
             "-k", "gthread", "--threads", str(threads), "--timeout", "120"],
            cwd=ROOT, env=env, stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True)
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(base_url + path, timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start:\n" + (tmp / "server.log").read_text()[-3000:])
            time.sleep(0.3)
        yield Server(env, base_url, path, backend)
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        if pg is not None:
            pg.drop()


def run(clients=20, per_client=10, duplicates=20, database_url=None, workers=3, threads=4, log=print):
    """Return the figures; duplicates are IDs sent twice by different clients at the same time."""
    database_url = database_url if database_url is not None else os.environ.get("DATABASE_URL", "")
    with running_server(database_url, workers, threads) as server:
        base_url, path, backend = server.base_url, server.path, server.backend
        unique = [make_id(n) for n in range(clients * per_client)]
        assert len(set(unique)) == len(unique)
        shares = [unique[i::clients] for i in range(clients)]
        rng = random.Random(7)
        for k in range(duplicates):  # the same ID also sent by the next client
            position = (k * len(unique) // duplicates) if duplicates else 0
            shares[(position % clients + 1) % clients].insert(rng.randrange(per_client), unique[position])
        results, lock = [], threading.Lock()
        workers_threads = [threading.Thread(target=client_run, args=(base_url, path, ids, results, lock))
                           for ids in shares]
        started = time.perf_counter()
        for thread in workers_threads:
            thread.start()
        for thread in workers_threads:
            thread.join()
        elapsed = time.perf_counter() - started
        rows, distinct, referenced = server.count_rows()
        accepted = sum(1 for _, outcome in results if outcome == 302)
        refused_duplicates = sum(1 for _, outcome in results if outcome == 409)
        errors = [outcome for _, outcome in results if outcome not in (302, 409)]
        figures = {
            "backend": backend, "clients": clients, "submissions": len(results), "seconds": round(elapsed, 2),
            "per_second": round(len(results) / elapsed, 1), "accepted": accepted,
            "duplicates_refused": refused_duplicates, "errors": len(errors),
            "error_kinds": sorted(set(map(str, errors))),
            "rows": rows, "distinct_references": distinct, "rows_with_reference": referenced,
            "unique_ids_sent": len(unique),
        }
        log(f"[{backend}] {figures['submissions']} submissions from {clients} concurrent clients in "
            f"{figures['seconds']} s = {figures['per_second']} submissions/s; accepted {accepted}, "
            f"duplicates refused {refused_duplicates}, errors {len(errors)}; rows stored {rows} "
            f"(distinct references {distinct})")
        return figures


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    import django

    django.setup()
    run(database_url="")
    pg_url = os.environ.get("PG_BENCH_URL", "")
    if pg_url:
        run(database_url=pg_url)
