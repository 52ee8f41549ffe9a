"""Suggestions as you type, from a prefix index with full pinyin and initials kept in the database.

Apps register sources (``register_source``) — speech titles and speakers, merchant names — so this library
imports no app; the union dictionary (words and synonyms) is a built-in source. Every text is indexed from the
start of each of its words (jieba search mode, so 服务卡 inside 会员服务卡 counts) under three keys: the folded
characters, the full pinyin (fuwuka) and the initials (fwk), stored as ``SuggestionKey`` rows; a query reads the
first MAX_SCAN keys of each source starting with it (one indexed range query) and ranks them here. A request only
compares each source's ``version()`` (the speech catalog token, the dictionary version, …) with the version the
stored keys were built from; when it changed, it enqueues one ``build_suggestions`` task and answers from the
stored keys meanwhile. The task adds the keys of new texts and deletes those of removed ones (batches of
BUILD_BATCH texts, each committed on its own), so no web process ever holds or builds the index.
"""

import datetime
import functools
import re
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from search import analysis

MAX_SUGGESTIONS = 10
MAX_QUERY_CHARS = 50
MAX_KEY_CHARS = 40
MAX_SCAN = 2000  # matching keys read per source and query
CHARS, PINYIN, INITIALS = 0, 1, 2

_PINYIN_QUERY = re.compile(r"[a-z][a-z\s']*$")
_SEPARATORS = re.compile(r"[\s'’·]+")


@dataclass
class Source:
    name: str
    kind: str  # "title", "speaker", "merchant", "term" …
    label: str  # shown beside the suggestion (Chinese)
    items: object  # () -> iterable of texts
    version: object  # () -> any value that changes when the texts may have changed
    priority: int = 50  # lower comes first among equally good matches


_sources = {}
BACKGROUND_REBUILD = True  # False: a changed source is rebuilt inside the request (tests)
BUILD_BATCH = 1000  # texts per transaction of a build
REQUEUE_AFTER = datetime.timedelta(minutes=10)  # a build enqueued this long ago and not done is enqueued again
MAX_TEXT_CHARS = 255


def register_source(name, kind, label, items, version, priority=50):
    """Add (or replace) a suggestion source; `items()` returns the texts, `version()` when to rebuild them."""
    _sources[name] = Source(name, kind, label, items, version, priority)


def _dictionary_words():
    words = {entry[0] for entry in analysis.user_dictionary_entries()} | set(analysis.synonyms())
    return sorted(w for w in words if len(w) > 1)


def _dictionary_version():
    from search.dictionary import current_version

    return current_version(), analysis._loaded_version


register_source("dictionary", "term", "关键词", _dictionary_words, _dictionary_version, priority=30)


@functools.lru_cache(maxsize=50_000)
def _word_pinyin(word):
    """(full pinyin, initial) for each character of a word (phrase-aware for polyphones: 银行 → yin hang)."""
    from pypinyin import lazy_pinyin

    full = lazy_pinyin(word, errors=lambda chars: list(chars))
    if len(full) != len(word):
        full = [lazy_pinyin(char, errors=lambda chars: list(chars))[0] for char in word]
    initials = [p[0] if p and p[0].isalpha() else p for p in full]
    return tuple(p.lower() for p in full), tuple(p.lower() for p in initials)


def _text_keys(text):
    """[(key, start, key type)] for one text: from each word start, its characters, pinyin and initials."""
    folded = analysis.fold(text).lower()
    if not folded.strip():
        return ()
    engine = analysis._engine()
    full, initials = [""] * len(folded), [""] * len(folded)
    for word, start, _end in engine.tokenize(folded):  # precise mode: pinyin word by word
        word_full, word_initials = _word_pinyin(word)
        full[start : start + len(word)], initials[start : start + len(word)] = word_full, word_initials
    starts = {start for _word, start, _end in engine.tokenize(folded, "search")}
    keys = []
    for start in sorted(starts):
        if not folded[start].isalnum():
            continue
        chars = _SEPARATORS.sub("", folded[start:])[:MAX_KEY_CHARS]
        keys.append((chars, start, CHARS))
        pinyin = "".join(p for p in full[start:] if p.isalnum())[: MAX_KEY_CHARS * 3]
        if pinyin and pinyin != chars:
            keys.append((pinyin, start, PINYIN))
            keys.append(("".join(p for p in initials[start:] if p.isalnum())[:MAX_KEY_CHARS], start, INITIALS))
    return tuple(keys)


def _version_text(source):
    return repr(source.version())


def build(name, version=None):
    """Bring the stored keys of source `name` up to date (the build_suggestions task). Texts already stored keep
    their keys; removed texts lose theirs; new texts are added a batch at a time. Returns counts."""
    from search.models import SuggestionKey, SuggestionSource, SuggestionText

    source = _sources[name]
    if name == "dictionary":
        analysis.check_version()  # this worker may have loaded the dictionary before the change
    version = _version_text(source) if version is None else version
    row, _created = SuggestionSource.objects.get_or_create(name=name)
    texts = dict.fromkeys(t.strip()[:MAX_TEXT_CHARS] for t in source.items() if t and t.strip())
    stored = dict(SuggestionText.objects.filter(source=row).values_list("text", "id").iterator(chunk_size=5000))
    gone = [pk for text, pk in stored.items() if text not in texts]
    added = [text for text in texts if text not in stored]
    del stored, texts
    for start in range(0, len(gone), BUILD_BATCH):
        with transaction.atomic():
            batch = gone[start : start + BUILD_BATCH]
            SuggestionKey.objects.filter(text_id__in=batch).delete()
            SuggestionText.objects.filter(pk__in=batch).delete()
    key_table = SuggestionKey._meta.db_table
    insert = f"INSERT INTO {key_table} (source_id, text_id, {connection.ops.quote_name('key')}, start, kind) " \
             "VALUES (%s, %s, %s, %s, %s)"
    for start in range(0, len(added), BUILD_BATCH):
        batch = added[start : start + BUILD_BATCH]
        try:
            with transaction.atomic():
                made = SuggestionText.objects.bulk_create([SuggestionText(source=row, text=t) for t in batch])
                keys = [(row.pk, text.pk, key, offset, kind)
                        for text in made for key, offset, kind in _text_keys(text.text)]
                with connection.cursor() as cursor:
                    cursor.executemany(insert, keys)
        except IntegrityError:  # another build stored some of these texts (with their keys) meanwhile
            continue
    SuggestionSource.objects.filter(pk=row.pk).update(version=version)
    return {"added": len(added), "removed": len(gone)}


def _schedule(name, version, rows):
    """Enqueue one build for this version of the source (or build now, BACKGROUND_REBUILD False)."""
    from search.models import SuggestionSource

    if not BACKGROUND_REBUILD:
        build(name, version)
        return
    now = timezone.now()
    if name not in rows:
        SuggestionSource.objects.get_or_create(name=name)
    claimed = (SuggestionSource.objects.filter(name=name).exclude(pending=version, pending_at__gt=now - REQUEUE_AFTER)
               .update(pending=version, pending_at=now))
    if claimed:
        from search.tasks import build_suggestions

        build_suggestions.enqueue(name, version)


def _ready_sources():
    """[(source, source row id)] of the sources with stored keys; enqueues a build for each changed source."""
    from search.models import SuggestionSource

    rows = {name: (pk, version) for pk, name, version in SuggestionSource.objects.values_list("pk", "name", "version")}
    out = []
    for name, source in list(_sources.items()):
        try:
            version = _version_text(source)
        except Exception:  # noqa: BLE001 - a source that cannot answer (e.g. before migrate) suggests nothing
            continue
        if rows.get(name, (None, None))[1] != version:
            try:
                with transaction.atomic():
                    _schedule(name, version, rows)
            except Exception:  # noqa: BLE001 - the stored keys keep answering
                pass
            # A build that ran at once (BACKGROUND_REBUILD False, an immediate task backend) answers already.
            row = SuggestionSource.objects.filter(name=name).values_list("pk", "version").first()
            if row is not None:
                rows[name] = row
        if name in rows:
            out.append((source, rows[name][0]))
    return out


def ready():
    """True when every source's stored keys are of its current version (benchmarks wait for it)."""
    from search.models import SuggestionSource

    stored = dict(SuggestionSource.objects.values_list("name", "version"))
    return all(stored.get(name) == _version_text(source) for name, source in _sources.items())


def _successor(key):
    last = ord(key[-1])
    return key[:-1] + chr(last + 1) if last < 0x10FFFF else key + "\U0010ffff"


def _rows(source_id, key):
    """[(key, start, key type, text)]: the first MAX_SCAN stored keys of the source starting with `key`."""
    from search.models import SuggestionKey, SuggestionText

    collate = ' COLLATE "C"' if connection.vendor == "postgresql" else ""
    key_column = f"k.{connection.ops.quote_name('key')}"
    column = key_column + collate
    sql = (f"SELECT {key_column}, k.start, k.kind, t.text FROM {SuggestionKey._meta.db_table} k "
           f"JOIN {SuggestionText._meta.db_table} t ON t.id = k.text_id "
           f"WHERE k.source_id = %s AND {column} >= %s AND {column} < %s ORDER BY {column} LIMIT %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [source_id, key, _successor(key), MAX_SCAN])
        return cursor.fetchall()


def normalise_query(text):
    text = analysis.fold(text or "").strip().lower()[:MAX_QUERY_CHARS]
    return _SEPARATORS.sub("", text)


def _matches(key):
    """(source, text, start, key type, whole) for stored keys starting with `key` (the first MAX_SCAN a source)."""
    for source, source_id in _ready_sources():
        for found, start, kind, text in _rows(source_id, key):
            yield source, text, start, kind, found == key


def suggest(text, limit=MAX_SUGGESTIONS):
    """[{"kind", "label", "text"}]: whole-text matches first, then texts starting with the query, then texts with
    a word starting with it; by source priority, then shorter texts."""
    key = normalise_query(text)
    if not key:
        return []
    best = {}
    for source, value, start, _kind, whole in _matches(key):
        rank = (0 if whole and start == 0 else 1, 0 if start == 0 else 1, source.priority, len(value), value)
        if value not in best or rank < best[value][0]:
            best[value] = (rank, source)
    ordered = sorted(best.items(), key=lambda item: item[1][0])[:limit]
    return [{"kind": source.kind, "label": source.label, "text": value} for value, (_rank, source) in ordered]


def did_you_mean(text):
    """For a query typed in pinyin (letters and spaces only): the indexed word or name whose full pinyin is the
    query (fuwuka, fu wu ka → 服务卡), or that starts with it; None otherwise."""
    raw = analysis.clean_text(text or "").strip().lower()
    if not _PINYIN_QUERY.match(raw):
        return None
    key = _SEPARATORS.sub("", raw)
    if len(key) < 2:
        return None
    best = None
    for source, value, start, kind, whole in _matches(key):
        if kind != PINYIN or start != 0:
            continue
        rank = (0 if whole else 1, source.priority, len(value), value)
        if best is None or rank < best[0]:
            best = (rank, value)
    return best[1] if best else None


def clear():
    """Mark every stored source out of date, so the next suggestion enqueues a build (after bulk changes a version
    does not show)."""
    from search.models import SuggestionSource

    SuggestionSource.objects.update(version="", pending="")
