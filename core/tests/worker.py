"""The real task worker in tests: django-tasks-db's db_worker, in-process (--batch) or as a subprocess."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from portal.settings.base import tasks_config

SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]


def database_tasks():
    """Tasks go to the database queue (the default in production) instead of running in the request."""
    return override_settings(TASKS=tasks_config("database"))


def run_worker():
    """Run db_worker until no task is ready (its --batch mode); returns how many tasks it ran."""
    from django_tasks_db.models import DBTaskResult

    before = DBTaskResult.objects.finished().count()
    saved = {number: signal.getsignal(number) for number in SIGNALS}
    try:
        call_command("db_worker", batch=True, startup_delay=False, reload=False, interval=0, verbosity=0)
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)
    return DBTaskResult.objects.finished().count() - before


def worker_environment():
    """Environment for a worker subprocess that opens this test database."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="portal.settings.test", TASKS_BACKEND="database",
               PYTHONUNBUFFERED="1")
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(name)
    else:
        params = connection.settings_dict
        env["DATABASE_URL"] = (f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:"
                               f"{params['PORT'] or 5432}/{name}")
    return env


@contextmanager
def worker_process():
    """`manage.py db_worker` in its own process (as in production), stopped with SIGTERM afterwards."""
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.2", "--no-startup-delay", "--no-reload"],
        cwd=settings.BASE_DIR, env=worker_environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(condition, timeout=60, what="the worker"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
