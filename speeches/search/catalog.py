"""What speech search needs to know about every live, public speech, held per process.

Keyed by the speech's search index entry for the database backends (FTS5 and tsvector matches come back as
entry ids) or by page id (Elasticsearch, and browsing by filters alone). Counting a query's matches by year,
speaker, level and topic then costs a dictionary lookup per match instead of three row lookups in the database.
Database triggers (migration portal_search 0002) replace a random token whenever anything held here may have
changed; every search reads the token (one primary-key lookup) and rebuilds the catalog when it differs, so
every process sees a publish at once.
"""

import datetime
import random
import threading
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from modelsearch.utils import get_descendants_content_types_pks
from wagtail.models import Page, PageViewRestriction

from search.backends.common import IndexEntry
from search.models import IndexGeneration
from speeches.models import Speaker, SpeechPage


@dataclass(frozen=True)
class SpeechCatalog:
    token: int | None
    page: dict  # key (entry id or page id) -> page id; only public speeches are keys
    # The rest are read with [key] for keys of `page` only: lists indexed by key, or dicts (see _dense).
    year: dict  # key -> "2024", or "" without a date
    date: dict  # key -> ISO date or ""
    date_key: dict  # key -> sort key putting later dates first, missing dates last
    speaker: dict  # key -> speaker id or None
    level: dict  # key -> org level or "unknown"
    topics: dict  # key -> tuple of tag ids
    speaker_names: dict  # speaker id -> name
    tag_names: dict  # tag id -> name

    def speaker_ids(self, name):
        return {pk for pk, value in self.speaker_names.items() if value == name}

    def tag_ids(self, name):
        return {pk for pk, value in self.tag_names.items() if value == name}


_catalogs = {}
_lock = threading.Lock()


def current_token(using=DEFAULT_DB_ALIAS):
    """The generation token, creating its row if it is missing (e.g. after a test database flush)."""
    table = IndexGeneration._meta.db_table
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT token FROM {table} WHERE id = 1")
        row = cursor.fetchone()
        if row is None:
            cursor.execute(f"INSERT INTO {table} (id, token) VALUES (1, %s) ON CONFLICT (id) DO NOTHING",
                           [random.getrandbits(62)])
            cursor.execute(f"SELECT token FROM {table} WHERE id = 1")
            row = cursor.fetchone()
    return row[0] if row else None


def speech_catalog(by_entry=True, using=DEFAULT_DB_ALIAS):
    """The current catalog, keyed by index entry id (by_entry) or by page id."""
    token = current_token(using)
    catalog = _catalogs.get((using, by_entry))
    if catalog is not None and token is not None and catalog.token == token:
        return catalog
    catalog = _build(token, by_entry, using)
    with _lock:
        _catalogs[using, by_entry] = catalog
    return catalog


def _build(token, by_entry, using):
    link_t = SpeechPage.topics.through._meta.db_table
    tag_t = SpeechPage.topics.through.tag.field.related_model._meta.db_table
    content_types = list(get_descendants_content_types_pks(SpeechPage))
    entries, page_t = IndexEntry._meta.db_table, Page._meta.db_table
    page, year, date, date_key, speaker, level, topics = {}, {}, {}, {}, {}, {}, {}
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(f"SELECT path FROM {page_t} WHERE id IN "
                       f"(SELECT page_id FROM {PageViewRestriction._meta.db_table})")
        restricted = tuple(row[0] for row in cursor.fetchall())
        # SQLite picks the covering index only after ANALYZE: without it, the table row (and the body) is read.
        indexed = " INDEXED BY speech_catalog" if connections[using].vendor == "sqlite" else ""
        select = f"FROM {SpeechPage._meta.db_table} sp{indexed} JOIN {page_t} p ON p.id = sp.page_ptr_id"
        if by_entry:
            sql = (f"SELECT e.id, p.id, p.path, sp.date_delivered, sp.speaker_id, sp.org_level {select} "
                   f"JOIN {entries} e ON e.object_id = CAST(p.id AS varchar(255)) "
                   f"AND e.content_type_id IN ({', '.join(['%s'] * len(content_types))}) WHERE p.live = %s")
            params = [*content_types, True]
        else:
            sql = (f"SELECT p.id, p.id, p.path, sp.date_delivered, sp.speaker_id, sp.org_level {select} "
                   "WHERE p.live = %s")
            params = [True]
        by_page, canonical = {}, {}

        def same(value):
            """One object per distinct value, so counting compares identities and stays in cache."""
            return canonical.setdefault(value, value)

        # Streamed (a server-side cursor on PostgreSQL), so no list of every row is held at once.
        with connections[using].chunked_cursor() as rows:
            rows.execute(sql, params)
            while chunk := rows.fetchmany(2000):
                for entry_id, page_id, path, delivered, speaker_id, org_level in chunk:
                    if restricted and path.startswith(restricted):
                        continue
                    if isinstance(delivered, str):
                        delivered = same(delivered[:10])
                        day = same(datetime.date.fromisoformat(delivered))
                    else:
                        day = same(delivered)
                        delivered = same(day.isoformat()) if day else ""
                    page[entry_id] = page_id
                    by_page[page_id] = entry_id
                    date[entry_id] = delivered if day else ""
                    year[entry_id] = same(f"{day.year:04d}" if day else "")
                    date_key[entry_id] = same(-day.toordinal() if day else 0)
                    speaker[entry_id] = same(speaker_id)
                    level[entry_id] = same(org_level or "unknown")
        cursor.execute(f"SELECT content_object_id, tag_id FROM {link_t} ORDER BY id")
        tagged = {}
        for page_id, tag_id in cursor.fetchall():
            entry_id = by_page.get(page_id)
            if entry_id is not None:
                tagged.setdefault(entry_id, []).append(tag_id)
        cursor.execute(f"SELECT id, name FROM {Speaker._meta.db_table}")
        speaker_names = dict(cursor.fetchall())
        cursor.execute(f"SELECT id, name FROM {tag_t} WHERE id IN (SELECT tag_id FROM {link_t})")
        tag_names = dict(cursor.fetchall())
    for entry_id in page:
        topics[entry_id] = same(tuple(tagged.get(entry_id, ())))
    return SpeechCatalog(token, page, *map(_dense, (year, date, date_key, speaker, level, topics)), speaker_names,
                         tag_names)


def _dense(mapping):
    """A list indexed by key when the keys are dense enough (index entry and page ids usually are): lookups then
    skip hashing and the values sit together in memory. Otherwise the dict itself."""
    if not mapping or max(mapping) > 4 * len(mapping) + 4096:
        return mapping
    values = [None] * (max(mapping) + 1)
    for key, value in mapping.items():
        values[key] = value
    return values
