"""Suggestions as you type, from an in-process prefix index with full pinyin and initials.

Apps register sources (``register_source``) — speech titles and speakers, merchant names — so this library
imports no app; the union dictionary (words and synonyms) is a built-in source. Every text is indexed from the
start of each of its words (jieba search mode, so 服务卡 inside 会员服务卡 counts) under three keys: the folded
characters, the full pinyin (fuwuka) and the initials (fwk); a query is looked up with ``bisect`` in each
source's sorted keys. A source is rebuilt only when its ``version()`` changes (the speech catalog token, the
dictionary version, …), in a thread while the previous index answers; the keys of texts seen before are reused,
and when few texts changed the previous index is patched (their rows dropped or merged in) instead of sorted anew.
"""

import bisect
import functools
import heapq
import re
import threading
from dataclasses import dataclass, field

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


@dataclass
class _Index:
    version: object = None
    texts: list = field(default_factory=list)
    keys: list = field(default_factory=list)  # sorted
    refs: list = field(default_factory=list)  # (text index, start offset, key type), parallel to keys
    # Parallel to keys: an int ordering matches as suggest() ranks them within a source after whole matches
    # (from the start first, then shorter texts, then by text), so a range is ranked in C (heapq with a key).
    order: list = field(default_factory=list)


_sources = {}
_indexes = {}
_rebuilding = set()
_lock = threading.Lock()
BACKGROUND_REBUILD = True  # tests set False to see a change at once


def register_source(name, kind, label, items, version, priority=50):
    """Add (or replace) a suggestion source; `items()` returns the texts, `version()` when to rebuild them."""
    _sources[name] = Source(name, kind, label, items, version, priority)
    _indexes.pop(name, None)


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


@functools.lru_cache(maxsize=100_000)
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


PATCH_SHARE = 0.05  # a rebuild that adds or removes at most this share of the texts patches the previous index


def _build(source, version, previous=None):
    texts = list(dict.fromkeys(t.strip() for t in source.items() if t and t.strip()))
    if previous is not None:
        index = _patched(previous, texts, version)
        if index is not None:
            return index
    rows = []
    for number, text in enumerate(texts):
        for key, start, kind in _text_keys(text):
            rows.append((key, number, start, kind))
    rows.sort()
    return _from_rows(version, texts, rows)


def _from_rows(version, texts, rows):
    live = [number for number, text in enumerate(texts) if text is not None]
    text_rank = {number: rank for rank, number in enumerate(sorted(live, key=texts.__getitem__))}
    order = [((start != 0) << 56) | (len(texts[number]) << 32) | text_rank[number]
             for _key, number, start, _kind in rows]
    return _Index(version, texts, [row[0] for row in rows], [row[1:] for row in rows], order)


def _patched(previous, texts, version):
    """The previous index with the rows of removed texts dropped and those of new texts merged in (one merge of two
    sorted runs instead of sorting every row again: a publish costs milliseconds, not a full sort holding the
    interpreter lock), or None when too much changed. Removed texts leave a gap in the numbering."""
    old = {text: number for number, text in enumerate(previous.texts) if text is not None}
    wanted = set(texts)
    gone = {number for text, number in old.items() if text not in wanted}
    added = [text for text in texts if text not in old]
    holes = len(previous.texts) - len(old) + len(gone)
    if len(gone) + len(added) > PATCH_SHARE * max(len(texts), 1) or holes > PATCH_SHARE * len(previous.texts) + 50:
        return None
    all_texts = list(previous.texts)
    for number in gone:
        all_texts[number] = None
    rows = [(key, *ref) for key, ref in zip(previous.keys, previous.refs, strict=True) if ref[0] not in gone]
    extra = []
    for text in added:
        extra += [(key, len(all_texts), start, kind) for key, start, kind in _text_keys(text)]
        all_texts.append(text)
    extra.sort()
    rows += extra
    rows.sort()  # two sorted runs: timsort merges them in one pass
    return _from_rows(version, all_texts, rows)


def _index(name):
    """The source's index; when its version changed, the previous index answers while a thread rebuilds it (only
    the first build is waited for)."""
    source = _sources[name]
    try:
        version = source.version()
    except Exception:  # noqa: BLE001 - a source that cannot answer (e.g. before migrate) suggests nothing
        return None
    index = _indexes.get(name)
    if index is not None and index.version == version:
        return index
    if index is not None and BACKGROUND_REBUILD:
        with _lock:
            if name not in _rebuilding:
                _rebuilding.add(name)
                threading.Thread(target=_rebuild, args=(source, version), daemon=True).start()
        return index
    with _lock:
        index = _indexes.get(name)
        if index is None or index.version != version:
            try:
                index = _indexes[name] = _build(source, version, index)
            except Exception:  # noqa: BLE001
                return None
    return index


def _rebuild(source, version):
    from django.db import connections

    try:
        _indexes[source.name] = _build(source, version, _indexes.get(source.name))
    except Exception:  # noqa: BLE001 - the previous index keeps answering
        pass
    finally:
        _rebuilding.discard(source.name)
        connections.close_all()


def normalise_query(text):
    text = analysis.fold(text or "").strip().lower()[:MAX_QUERY_CHARS]
    return _SEPARATORS.sub("", text)


def _matches(key):
    """(source, index, text number, start, key type, whole) for indexed keys starting with `key`."""
    for name, source in list(_sources.items()):
        index = _index(name)
        if index is None:
            continue
        position = bisect.bisect_left(index.keys, key)
        end = min(len(index.keys), position + MAX_SCAN)
        while position < end and index.keys[position].startswith(key):
            number, start, kind = index.refs[position]
            yield source, index, number, start, kind, index.keys[position] == key
            position += 1


def _smallest(index, start, stop, limit):
    """The positions in [start, stop) with the smallest `order`, enough of them to hold `limit` distinct texts."""
    want = limit * 3
    while True:
        best = heapq.nsmallest(want, range(start, stop), key=index.order.__getitem__)
        if len(best) == stop - start or len({index.refs[i][0] for i in best}) >= limit:
            return best
        want *= 4


def _best_of_source(index, key, limit):
    """Positions of the keys starting with `key` (among the first MAX_SCAN of them) that can be among the source's
    best `limit` distinct texts: the best of the whole matches and the best of the rest, ranked in C."""
    position = bisect.bisect_left(index.keys, key)
    end = min(len(index.keys), position + MAX_SCAN)
    whole_end = bisect.bisect_right(index.keys, key, position, end)
    stop = bisect.bisect_left(index.keys, key + "\U0010ffff", whole_end, end)
    return _smallest(index, position, whole_end, limit) + _smallest(index, whole_end, stop, limit)


def suggest(text, limit=MAX_SUGGESTIONS):
    """[{"kind", "label", "text"}]: whole-text matches first, then texts starting with the query, then texts with
    a word starting with it; by source priority, then shorter texts."""
    key = normalise_query(text)
    if not key:
        return []
    best = {}
    for name, source in list(_sources.items()):
        index = _index(name)
        if index is None:
            continue
        for position in _best_of_source(index, key, limit):
            number, start, _kind = index.refs[position]
            value, whole = index.texts[number], index.keys[position] == key
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
    for source, index, number, start, kind, whole in _matches(key):
        if kind != PINYIN or start != 0:
            continue
        value = index.texts[number]
        rank = (0 if whole else 1, source.priority, len(value), value)
        if best is None or rank < best[0]:
            best = (rank, value)
    return best[1] if best else None


def clear():
    """Forget every built index (tests, and after bulk changes a version does not show)."""
    with _lock:
        _indexes.clear()
