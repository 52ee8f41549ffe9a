"""Enrolment exports at scale through the task code path: rows/s, peak memory and file size.

For each row count (default 100,000 and 1,000,000) the rows are generated into a scratch test database, then
each format is exported the way the admin does it: ``start_export`` queues the job and the real worker
(``manage.py db_worker --batch``, in its own process) writes the file. The worker process reports its peak RSS
(ru_maxrss, which on SQLite includes the database file mapped by PRAGMA mmap_size, and RssAnon, which
does not); a second run of the same job with tracemalloc on reports the peak of Python allocations
(tracemalloc slows the run, so rows/s comes from the first).

    python bench/export_large.py [ROWS ...]
"""

import datetime
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH_DB = ROOT / "var" / "bench-export.sqlite3"
FILES_DIR = ROOT / "var" / "bench-exports"


def make_rows(campaign, count, batch=5000):
    from campaigns import crypto
    from campaigns.idcard import make_id_number, mask_id_number
    from campaigns.models import Enrolment

    token = crypto.encrypt(make_id_number("42010619900307123"))
    objects = []
    for n in range(count):
        number = make_id_number(f"420106{datetime.date(1950, 1, 1) + datetime.timedelta(days=n % 20000):%Y%m%d}"
                                f"{n // 20000:03d}")
        objects.append(Enrolment(
            campaign=campaign, block_id="bench", form_kind="mutual_aid", form_title="医疗互助",
            reference=f"HZ-B-{n:07d}",
            name=f"职工{n}", id_number_encrypted=token, id_number_hash=crypto.lookup_hash(number),
            id_number_masked=mask_id_number(number), mobile=f"138{n:08d}", employer="武汉船舶工业公司",
            branch=f"工会{n % 50}", plan="住院医疗互助（每份30元）", shares=1, consent=True))
        if len(objects) == batch:
            Enrolment.objects.bulk_create(objects)
            objects = []
    Enrolment.objects.bulk_create(objects)


def worker_main(trace):
    """Inside the worker process: run db_worker --batch, then print its peak memory as JSON."""
    import tracemalloc

    import django

    django.setup()
    from django.core.management import call_command

    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    call_command("db_worker", batch=True, startup_delay=False, reload=False, interval=0, verbosity=0)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    anon = int(status.get("RssAnon", "0 kB").split()[0]) * 1024  # RSS without mapped files (SQLite mmap)
    print(json.dumps({"seconds": elapsed, "tracemalloc_peak": peak, "rss_anon": anon,
                      "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


def run_worker(trace=False):
    from core.tests.worker import worker_environment

    env = worker_environment() | {"JOB_FILES_DIR": str(FILES_DIR)}
    proc = subprocess.run([sys.executable, __file__, "--worker", "trace" if trace else "plain"], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stdout + proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def export(user, fmt, trace=False):
    from django.http import QueryDict

    from campaigns.exports import start_export
    from core.jobs import job_file_path
    from core.models import BackgroundJob

    job = start_export(user, QueryDict(), fmt)
    figures = run_worker(trace)
    job = BackgroundJob.objects.get(pk=job.pk)
    if job.status != "succeeded":
        raise SystemExit(f"export failed: {job.error}")
    path = job_file_path(job)
    figures.update(rows=job.result["rows"], expected=job.result["expected"], bytes=path.stat().st_size)
    path.unlink()
    return figures


def main(counts):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.test.utils import override_settings, setup_test_environment, teardown_test_environment

    from portal.settings.base import tasks_config

    setup_test_environment()
    FILES_DIR.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(SCRATCH_DB)
    old = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from campaigns.models import CampaignIndexPage, CampaignPage, Enrolment
        from home.models import HomePage

        with override_settings(TASKS=tasks_config("database"), JOB_FILES_DIR=FILES_DIR):
            home = HomePage.objects.get()
            index = home.add_child(instance=CampaignIndexPage(title="活动专题", slug="campaigns"))
            user = get_user_model().objects.create_user("bench", "b@example.org", "x" * 12)
            user.user_permissions.add(Permission.objects.get(codename="view_id_number"))
            run_worker()  # page indexing tasks
            idle = run_worker()
            print(f"[{connection.vendor}] idle worker (empty queue): peak RSS {idle['maxrss'] / 2**20:.0f} MB",
                  flush=True)
            made = 0
            for count in sorted(counts):
                campaign = index.add_child(instance=CampaignPage(
                    title="导出测试", slug=f"export-{count}", start_date=datetime.date(2026, 1, 1)))
                Enrolment.objects.all().delete()
                started = time.perf_counter()
                make_rows(campaign, count)
                made = count
                print(f"[{connection.vendor}] {made:,} rows generated in {time.perf_counter() - started:.0f} s",
                      flush=True)
                run_worker()
                for fmt in ("csv", "xlsx"):
                    plain = export(user, fmt)
                    traced = export(user, fmt, trace=True)
                    assert plain["rows"] == plain["expected"] == count, plain
                    print(f"[{connection.vendor}] {count:,} rows → {fmt}: {plain['seconds']:.1f} s, "
                          f"{count / plain['seconds']:,.0f} rows/s, {plain['bytes'] / 2**20:.1f} MB, "
                          f"worker peak RSS {plain['maxrss'] / 2**20:.0f} MB "
                          f"(of which anonymous at the end {plain['rss_anon'] / 2**20:.0f} MB; the rest is the "
                          f"SQLite file mapped by mmap_size), "
                          f"tracemalloc peak {traced['tracemalloc_peak'] / 2**20:.1f} MB "
                          f"(row count {plain['rows']:,} = listing {plain['expected']:,})", flush=True)
    finally:
        connection.creation.destroy_test_db(old, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    if sys.argv[1:2] == ["--worker"]:
        worker_main(sys.argv[2] == "trace")
    else:
        import django

        django.setup()
        main([int(arg) for arg in sys.argv[1:]] or [100_000, 1_000_000])
