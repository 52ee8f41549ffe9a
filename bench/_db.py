"""Throw-away databases for the search benchmarks (a temp SQLite file or a fresh PostgreSQL database)."""

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("PG_BENCH_URL", "postgres://postgres@127.0.0.1:5432/postgres")


KEEP_DB = os.environ.get("BENCH_KEEP_DB", "")  # SQLite: a folder whose db.sqlite3 is kept (and reused) between runs


def configure(vendor, name):
    """Point Django at a new empty database of the given vendor before django.setup(). With BENCH_KEEP_DB (SQLite),
    the database in that folder is used and kept: see kept_database()."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.test"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if vendor == "sqlite" and KEEP_DB:
        folder = Path(KEEP_DB).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = str(folder / "db.sqlite3")
        os.environ["PORTAL_VAR_DIR"] = str(folder)
        return lambda: None
    if vendor == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix=f"{name}-"))
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = str(tmp / "db.sqlite3")
        os.environ["PORTAL_VAR_DIR"] = str(tmp)
        return lambda: shutil.rmtree(tmp, ignore_errors=True)
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


def kept_database(n):
    """True when BENCH_KEEP_DB holds a database already filled with n indexed speeches, less the few duplicates the
    importer skips (call after django.setup())."""
    if not KEEP_DB or not (Path(KEEP_DB) / "db.sqlite3").exists():
        return False
    from search.backends.common import IndexEntry
    from speeches.models import SpeechPage

    try:
        speeches = SpeechPage.objects.count()
        return speeches >= n - n // 100 and IndexEntry.objects.count() >= speeches
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


# --- generated speeches for the search benchmarks ----------------------------------------------------------

SEED = 20261125
N_SPEECHES = int(os.environ.get("BENCH_SPEECHES", "10000"))


def percentile(values, pct):
    values = sorted(values)
    k = (len(values) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def generate_speeches(index):
    """N_SPEECHES speeches recombined from the real corpus's paragraphs, inserted without search indexing.

    Returns (MB of body text, number of distinct corpus paragraphs, seconds taken).
    """
    import time

    from speeches.importers.corpus import decode, parse_corpus

    parsed = parse_corpus(decode((ROOT / "corpus" / "000_1f37454ad7433800.txt").read_bytes()))
    paragraphs = [b["value"] for s in parsed.speeches for b in s.blocks
                  if b["type"] == "paragraph" and len(b["value"]) > 20]
    titles = [s.title for s in parsed.speeches]
    started = time.perf_counter()
    body_bytes = create_speeches(index, paragraphs, titles)
    return body_bytes / 1e6, len(paragraphs), time.perf_counter() - started


def create_speeches(index, paragraphs, titles):
    """Insert pages in bulk (treebeard paths computed here); no search indexing happens."""
    import datetime
    import random
    import uuid

    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction
    from django.utils import timezone
    from wagtail.models import Locale, Page

    from speeches.models import OrgLevel, Speaker, SpeechPage

    rng = random.Random(SEED)
    speakers = [Speaker.objects.create(name=name, post="主席", organisation="总工会")
                for name in ["张明", "李华", "王强", "赵敏", "陈静", "刘洋", "杨帆", "黄磊"]]
    ct = ContentType.objects.get_for_model(SpeechPage)
    locale, now = Locale.get_default(), timezone.now()
    levels = OrgLevel.values + [""]
    local_fields = list(SpeechPage._meta.local_concrete_fields)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in local_fields)
    insert = (f"INSERT INTO {SpeechPage._meta.db_table} ({columns}) "
              f"VALUES ({', '.join(['%s'] * len(local_fields))})")
    body_bytes = 0
    with transaction.atomic():
        for start in range(0, N_SPEECHES, 1000):
            pages, speeches = [], []
            for i in range(start, min(start + 1000, N_SPEECHES)):
                chosen = rng.sample(paragraphs, rng.randint(4, 12))
                body_bytes += sum(len(text.encode()) for text in chosen)
                title, slug = f"{rng.choice(titles)}（{i + 1}）", f"bench-{i + 1}"
                pages.append(Page(
                    title=title, draft_title=title, slug=slug, content_type=ct, live=True, locale=locale,
                    path=index._get_path(index.path, index.depth + 1, i + 1), depth=index.depth + 1, numchild=0,
                    url_path=f"{index.url_path}{slug}/", translation_key=uuid.uuid4(), first_published_at=now,
                    last_published_at=now, has_unpublished_changes=False,
                ))
                year = rng.choice([2019, 2020, 2021, 2022, 2023, 2024, None])
                speeches.append(dict(
                    speaker=rng.choice([*speakers, None]), org_level=rng.choice(levels),
                    body=[("paragraph", f"<p>{text}</p>") for text in chosen],
                    date_delivered=year and datetime.date(year, rng.randint(1, 12), rng.randint(1, 28)),
                ))
            Page.objects.bulk_create(pages)
            rows = []
            for page, fields in zip(pages, speeches, strict=True):
                speech = SpeechPage(page_ptr_id=page.pk, **fields)
                rows.append([f.get_db_prep_save(getattr(speech, f.attname), connection) for f in local_fields])
            with connection.cursor() as cursor:
                cursor.executemany(insert, rows)
        Page.objects.filter(pk=index.pk).update(numchild=N_SPEECHES)
    return body_bytes
