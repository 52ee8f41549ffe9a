"""Throw-away databases for the search benchmarks (a temp SQLite file or a fresh PostgreSQL database)."""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("PG_BENCH_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def configure(vendor, name):
    """Point Django at a new empty database of the given vendor before django.setup()."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.test"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if vendor == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix=f"{name}-"))
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = str(tmp / "db.sqlite3")
        os.environ["PORTAL_VAR_DIR"] = str(tmp)
        return lambda: None
    import psycopg

    db = f"portal_{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    os.environ["DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + db

    def drop():
        from django.db import connections

        connections.close_all()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

    return drop


def pg_available():
    try:
        import psycopg

        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
        return True
    except Exception:
        return False


def migrate_and_create_index():
    """Migrate, then return the speech index page (created under the home page)."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from home.models import HomePage
    from speeches.models import SpeechIndexPage

    home = HomePage.objects.get()
    index = SpeechIndexPage.objects.first()
    if index is None:
        index = SpeechIndexPage(title="讲话稿库", slug="speeches")
        home.add_child(instance=index)
        index.save_revision().publish()
    return index
