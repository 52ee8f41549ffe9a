"""What visitors search for, without personal data: the normalised query, its result count, whether a result was
opened, the day. Feeds the admin report 搜索统计 (search/reports.py); rows older than SEARCH_LOG_DAYS are pruned.

A search never writes in its request: ``record`` adds one to a bounded per-process buffer (no I/O, no lock but
the buffer's own), a thread of each web process appends the buffer to ``QueryEvent`` every
SEARCH_LOG_FLUSH_SECONDS (a crash loses at most that much; a failed append is kept for the next one), and the
roll-up task (``rollup``, via search.tasks) sums the events into QueryLog's daily rows. It deletes the events it
counts in the same transaction, so a retried or concurrent roll-up never counts an event twice. After a flush the
roll-up is enqueued at most once per SEARCH_LOG_ROLLUP_SECONDS (a cache key guards it across processes); the
``rollup_search_log`` command does the same from cron. SEARCH_LOG_FLUSH_SECONDS = 0 appends in the caller instead
(tests)."""

import atexit
import datetime
import logging
import os
import re
import threading

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from search.analysis import fold

logger = logging.getLogger(__name__)
MAX_LENGTH = 100
# ID numbers, phone numbers, bank cards: never written to the log.
PERSONAL = re.compile(r"\d{6,}|\d{5,}[\dXx]|1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}|@")
ROLLUP_KEY = "search:querylog-rollup"
ROLLUP_BATCH = 2000  # event rows per roll-up transaction
ROLLUP_MAX_BATCHES = 50  # per task run; the next run takes the rest


def normalise(query):
    text = re.sub(r"\s+", " ", fold(query or "")).strip().lower()
    if not text or PERSONAL.search(text):
        return ""
    return text[:MAX_LENGTH]


# The per-process buffer ------------------------------------------------------------------------------------------

class _State:
    def __init__(self):
        self.lock = threading.Lock()
        self.pending = {}  # (day, query) -> [searches, zero_results, results of the last search or None, opens]
        self.thread = None
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.dropped = 0  # events refused because the buffer was full


_state = _State()


def _after_fork():
    # A forked web worker starts empty: the parent's events are the parent's to flush.
    global _state
    _state = _State()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def _merge(pending, key, row, newer=True):
    """Add ``row`` into ``pending`` (``newer``: its result count replaces the one there); False when full."""
    current = pending.get(key)
    if current is None:
        if len(pending) >= settings.SEARCH_LOG_BUFFER:
            return False
        pending[key] = list(row)
        return True
    current[0] += row[0]
    current[1] += row[1]
    current[3] += row[3]
    if row[2] is not None and (newer or current[2] is None):
        current[2] = row[2]
    return True


def _add(key, row):
    state = _state
    background = settings.SEARCH_LOG_FLUSH_SECONDS > 0
    with state.lock:
        if not _merge(state.pending, key, row):
            state.dropped += 1
            return
        half_full = len(state.pending) * 2 >= settings.SEARCH_LOG_BUFFER
        if background and (state.thread is None or not state.thread.is_alive()):
            state.stop.clear()
            state.thread = threading.Thread(target=_flush_loop, args=(state,), name="search-log", daemon=True)
            state.thread.start()
    if not background:
        flush()
    elif half_full:
        state.wake.set()


def record(query, results, day=None):
    """Count one search (page 1 of a query); never raises."""
    try:
        text = normalise(query)
        if text:
            _add((day or timezone.localdate(), text), (1, 0 if results else 1, int(results), 0))
    except Exception:  # logging must never break a search
        logger.warning("search log: a search was not counted", exc_info=True)


def record_open(query, day=None):
    """Count that a result of the query was opened (only for a query searched that day); never raises."""
    try:
        text = normalise(query)
        if text:
            _add((day or timezone.localdate(), text), (0, 0, None, 1))
    except Exception:
        logger.warning("search log: an opened result was not counted", exc_info=True)


def pending_count():
    """Events in this process's buffer (not yet appended)."""
    state = _state
    with state.lock:
        return sum(row[0] + row[3] for row in state.pending.values())


def flush():
    """Append this process's buffer to QueryEvent (one transaction); returns how many rows. On failure the rows go
    back into the buffer for the next flush, and nothing is raised."""
    from search.models import QueryEvent

    state = _state
    with state.lock:
        rows, state.pending = state.pending, {}
    if not rows:
        return 0
    try:
        with transaction.atomic():
            QueryEvent.objects.bulk_create(
                [QueryEvent(day=day, query=query, searches=s, zero_results=z, results=r or 0, opens=o)
                 for (day, query), (s, z, r, o) in rows.items()], batch_size=500)
    except Exception:
        logger.warning("search log: %s rows kept for the next flush", len(rows), exc_info=True)
        with state.lock:
            for key, row in rows.items():
                if not _merge(state.pending, key, row, newer=False):
                    state.dropped += row[0] + row[3]
        return 0
    schedule_rollup()
    return len(rows)


def _flush_loop(state):
    from django.db import close_old_connections

    while not state.stop.is_set():
        state.wake.wait(settings.SEARCH_LOG_FLUSH_SECONDS)
        state.wake.clear()
        try:
            if flush():
                close_old_connections()  # kept for the next flush within CONN_MAX_AGE
            else:
                connection.close()  # idle: no connection held
        except Exception:  # the thread must keep running
            logger.warning("search log: flush thread error", exc_info=True)
    flush()
    connection.close()


def stop(timeout=10):
    """Flush what is buffered and end the flush thread (at exit, and in tests)."""
    state = _state
    thread = state.thread
    if thread is not None and thread.is_alive():
        state.stop.set()
        state.wake.set()
        thread.join(timeout)
    else:
        flush()


atexit.register(stop)  # gunicorn's graceful shutdown runs it; a crash loses one flush interval at most


def schedule_rollup():
    """Enqueue the roll-up unless one was enqueued in the last SEARCH_LOG_ROLLUP_SECONDS (0: never from here)."""
    from django.core.cache import cache

    seconds = settings.SEARCH_LOG_ROLLUP_SECONDS
    if seconds <= 0:
        return False
    try:
        if not cache.add(ROLLUP_KEY, 1, timeout=seconds):
            return False
        from search.tasks import rollup_search_log

        rollup_search_log.enqueue()
        return True
    except Exception:  # the next interval, the report or cron rolls up
        logger.warning("search log: roll-up not enqueued", exc_info=True)
        return False


# The roll-up -----------------------------------------------------------------------------------------------------

def _claim(limit):
    """Delete up to ``limit`` of the oldest events and return them: the deleting transaction owns them (PostgreSQL
    skips rows another roll-up holds; SQLite runs one writer at a time)."""
    from search.models import QueryEvent

    quote = connection.ops.quote_name
    table = quote(QueryEvent._meta.db_table)
    columns = ", ".join(quote(name) for name in ("id", "day", "query", "searches", "zero_results", "results", "opens"))
    pk = quote("id")
    skip = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {pk} IN (SELECT {pk} FROM {table} ORDER BY {pk} LIMIT %s{skip}) "
                       f"RETURNING {columns}", [limit])
        rows = cursor.fetchall()
    return sorted(rows)


def _add_to_day(day, query, searches, zero_results, results, opens):
    from search.models import QueryLog

    changes = {}
    if searches:
        changes.update(searches=F("searches") + searches, zero_results=F("zero_results") + zero_results,
                       results=results)
    if opens:
        changes["opens"] = F("opens") + opens
    rows = QueryLog.objects.filter(day=day, query=query)
    if rows.update(**changes) or not searches:
        return  # opens of a query nobody searched that day are not counted
    try:
        with transaction.atomic():
            QueryLog.objects.create(day=day, query=query, searches=searches, zero_results=zero_results,
                                    results=results, opens=opens)
    except IntegrityError:  # another roll-up created the row first
        rows.update(**changes)


def rollup_batch(limit=ROLLUP_BATCH):
    """Count up to ``limit`` events into QueryLog in one transaction; returns how many event rows."""
    with transaction.atomic():
        events = _claim(limit)
        totals = {}
        for _id, day, query, searches, zero_results, results, opens in events:
            if not isinstance(day, datetime.date):
                day = datetime.date.fromisoformat(str(day))
            total = totals.setdefault((day, query), [0, 0, 0, 0])
            total[0] += searches
            total[1] += zero_results
            total[3] += opens
            if searches:
                total[2] = results  # events are in id order: the last one wins
        if totals:
            _add_totals(totals)
    return len(events)


def _add_totals(totals):
    from search.models import QueryLog

    existing = set(QueryLog.objects.filter(day__in={day for day, _ in totals}, query__in={q for _, q in totals})
                   .values_list("day", "query"))
    new = [QueryLog(day=day, query=query, searches=s, zero_results=z, results=r, opens=o)
           for (day, query), (s, z, r, o) in sorted(totals.items()) if (day, query) not in existing and s]
    if new:
        try:
            with transaction.atomic():
                QueryLog.objects.bulk_create(new, batch_size=500)
            for row in new:
                del totals[row.day, row.query]
        except IntegrityError:  # another roll-up created one of them first: row by row below
            pass
    for (day, query), (searches, zero_results, results, opens) in sorted(totals.items()):
        _add_to_day(day, query, searches, zero_results, results, opens)  # sorted: no deadlock between two


def rollup(limit=ROLLUP_BATCH, max_batches=ROLLUP_MAX_BATCHES):
    """Count the appended events into QueryLog, batch by batch; returns how many event rows."""
    done = 0
    for _batch in range(max_batches):
        counted = rollup_batch(limit)
        done += counted
        if counted < limit:
            break
    return done


def prune(days=None, today=None):
    """Delete rows older than ``days`` (SEARCH_LOG_DAYS); returns how many went."""
    from search.models import QueryLog

    days = settings.SEARCH_LOG_DAYS if days is None else days
    cutoff = (today or timezone.localdate()) - datetime.timedelta(days=days)
    deleted, _ = QueryLog.objects.filter(day__lt=cutoff).delete()
    return deleted
