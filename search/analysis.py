"""The one owner of Chinese text analysis: jieba, the union dictionary, synonyms and stop words.

Segmentation for the index and for queries uses rjieba (a Rust port of jieba, same dictionary format and
near-identical output, ~20x faster); both sides always go through ``_engine()`` so they can never disagree.
jieba itself stays the reference and is used for keyword extraction and POS tagging.
Everything is loaded once per process, lazily, under a lock; ``reload()`` picks up editor-managed words.
"""

import bisect
import contextlib
import functools
import multiprocessing
import os
import re
import threading
import time
import unicodedata
from array import array
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from search.folding import to_simplified

DICTIONARY_DIR = Path(__file__).resolve().parent / "dictionaries"
USER_DICT = DICTIONARY_DIR / "union_words.txt"
SYNONYMS_FILE = DICTIONARY_DIR / "synonyms.txt"
STOP_WORDS_FILE = DICTIONARY_DIR / "stop_words.txt"

MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 16

_lock = threading.RLock()
_tokenizer = None
_engine_instance = None
_synonyms = None
_stop_words = None
_extra_words = None  # editor-managed words (term, freq) loaded from the database
_tfidf = None
_union_set = None
_pos_tagger = None
VERSION_CHECK_SECONDS = 5  # how often a process asks the cache whether editors changed the dictionary
_loaded_version = None
_version_checked_at = 0.0

_CJK_RE = re.compile(r"[\u4e00-\u9fff]+$")
_WORD_RE = re.compile(r"[^\W_]+")
_NON_WORD_RE = re.compile(r"[\W_]+")
_ACCENTED_RE = re.compile(r"[\u00c0-\u024f\u1e00-\u1eff]")
_QUOTE_RE = re.compile(r'"([^"]*)"|“([^”]*)”|「([^」]*)」|『([^』]*)』')
_STRAY_QUOTES = re.compile(r'["“”「」『』]')


def _read_lines(path):
    if not path.exists():
        return []
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def user_dictionary_entries():
    """(word, freq, tag) from the shipped union dictionary plus editor-added words."""
    entries = []
    for line in _read_lines(USER_DICT):
        parts = line.split()
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 20000
        tag = parts[2] if len(parts) > 2 else "n"
        entries.append((parts[0], freq, tag))
    for word, freq in _editor_words():
        entries.append((word, freq, "n"))
    known = {entry[0] for entry in entries}
    for word in sorted(synonyms()):
        # Every synonym must be one token, or the synonym could never match the index.
        if word not in known and len(word) > 1:
            entries.append((word, 20000, "n"))
    return entries


def _editor_words():
    global _extra_words
    if _extra_words is None:
        _extra_words = []
        try:
            from search.models import SearchTerm

            _extra_words = [(w, 20000) for w in SearchTerm.objects.values_list("word", flat=True)]
        except Exception:  # tables may not exist yet (before migrate)
            _extra_words = []
    return _extra_words


def tokenizer():
    """The process-wide jieba tokenizer with the union dictionary loaded."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import logging

                import jieba

                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.initialize()
                for word, freq, tag in user_dictionary_entries():
                    tok.add_word(word, freq, tag)
                _tokenizer = tok
    return _tokenizer


def check_version():
    """Reload when another process bumped the dictionary version (asks the cache at most every few seconds)."""
    global _loaded_version, _version_checked_at
    now = time.monotonic()
    if now - _version_checked_at < VERSION_CHECK_SECONDS:
        return
    _version_checked_at = now
    try:
        from search.dictionary import current_version

        version = current_version()
    except Exception:
        return
    if _loaded_version is None:
        _loaded_version = version
    elif version != _loaded_version:
        reload(version=version)


def _engine():
    """The process-wide rjieba segmenter used for BOTH the index and queries."""
    global _engine_instance
    if _engine_instance is None:
        with _lock:
            if _engine_instance is None:
                import rjieba

                engine = rjieba.Jieba()
                for word, freq, tag in user_dictionary_entries():
                    engine.add_word(word, freq, tag)
                _engine_instance = engine
    return _engine_instance


def reload(version=None):
    """Forget everything loaded so the next call re-reads dictionaries (after editors change words)."""
    global _tokenizer, _engine_instance, _synonyms, _stop_words, _extra_words, _tfidf, _loaded_version, _union_set
    global _pos_tagger
    with _lock:
        _tokenizer = _engine_instance = _synonyms = _stop_words = _extra_words = _tfidf = _union_set = None
        _pos_tagger = None
        if version is not None:
            _loaded_version = version
    _subwords.cache_clear()
    _compound_parts.cache_clear()


def _pos_tokenizer():
    """The process-wide POS tagger (building one reads the whole dictionary: about a second)."""
    global _pos_tagger
    if _pos_tagger is None:
        with _lock:
            if _pos_tagger is None:
                import jieba.posseg

                _pos_tagger = jieba.posseg.POSTokenizer(tokenizer())
    return _pos_tagger


def place_names(text):
    """Place names (jieba POS tag ``ns``) in order of appearance."""
    return [pair.word for pair in _pos_tokenizer().cut(text) if pair.flag == "ns"]


def synonyms():
    """Map each word to the set of its equivalents (shipped file plus editor-managed groups)."""
    global _synonyms
    if _synonyms is None:
        with _lock:
            groups = [line.split() for line in _read_lines(SYNONYMS_FILE)]
            try:
                from search.models import SynonymGroup

                groups += [g.word_list() for g in SynonymGroup.objects.all()]
            except Exception:
                pass
            mapping = {}
            for group in groups:
                words = {normalize_token(w) for w in group} - {""}
                for word in words:
                    mapping.setdefault(word, set()).update(words)
            _synonyms = mapping
    return _synonyms


def stop_words():
    global _stop_words
    if _stop_words is None:
        _stop_words = frozenset(_read_lines(STOP_WORDS_FILE))
    return _stop_words


_FOLD = {0x3000: " ", **{c: " " for c in range(0x20) if c not in (9, 10, 13)}, 0x7F: " "}
_FOLD.update({c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})
# The same folding as a table indexed by code point: str.translate reads a list twice as fast as a dict (code
# points past the table, such as emoji, raise IndexError, which translate takes as "unchanged").
_FOLD_TABLE = list(range(0x10000))
for _code, _char in _FOLD.items():
    _FOLD_TABLE[_code] = ord(_char)


def clean_text(text):
    """Full-width letters, digits and punctuation to half-width; no control characters or NUL."""
    if not text:
        return ""
    return str(text).translate(_FOLD_TABLE)


def fold(text):
    """clean_text, then traditional → simplified (OpenCC t2s, phrase-aware): what the index and queries see.

    The result has the same length as the input, position for position (see search.folding)."""
    return to_simplified(clean_text(text))


def normalize_token(token):
    """Lower case, no diacritics: the same folding SQLite's unicode61 and PostgreSQL's simple config apply."""
    token = token.lower()
    if not token.isascii():
        decomposed = unicodedata.normalize("NFKD", token)
        token = unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))
    return token


@functools.lru_cache(maxsize=200_000)
def _word_parts(token):
    """Split a segment into index-safe parts (letters/digits only), normalised."""
    if _CJK_RE.match(token):
        return (token,)
    return tuple(p for p in (normalize_token(part) for part in _WORD_RE.findall(token)) if p)


def segment(text):
    """Precise-mode segmentation (what a query is cut into), normalised, punctuation dropped."""
    text = fold(text)
    out = []
    for token in _engine().cut(text):
        out.extend(_word_parts(token))
    return out


@functools.lru_cache(maxsize=100_000)
def _subwords(word):
    """Dictionary words inside a longer word (what jieba's search mode adds, plus longer parts)."""
    if len(word) < 3 or word.isascii():
        return ()
    engine = _engine()
    n = len(word)
    parts = (word[i : i + size] for size in range(2, n) for i in range(0, n - size + 1))
    return tuple(part for part in parts if engine.has_word(part))


def _index_segments(text):
    """(precise tokens in order, sub-words): jieba's search mode, with parts of any length.

    Search mode emits, for each precise-mode word, its 2- and 3-character dictionary parts; we add longer
    ones too so 工会会员服务卡 is found by 会员服务卡.
    """
    precise = _engine().cut(text)
    extra = [part for word in precise if len(word) > 2 for part in _subwords(word)]
    return precise, extra


def index_tokens(text):
    return analyse_for_index(text).replace("|", " ").split()


def _normalise_joined(text):
    """The same folding as ``_word_parts`` applied to a whole space-joined string at once (fast path)."""
    text = _NON_WORD_RE.sub(" ", text)
    if not text.isascii():
        text = text.lower()
        if _ACCENTED_RE.search(text):
            text = " ".join(normalize_token(t) for t in text.split())
        return text
    return text.lower()


def analyse_for_index(text):
    """Text as space-separated tokens for the full-text index.

    The precise-mode tokens come first in reading order (so ``phrase_key`` of the text is recoverable by
    removing spaces), then the sub-words search mode adds (服务卡 inside 会员服务卡), each fenced by "|"
    (a separator to both databases' tokenizers) so they never run into each other when an exact phrase
    is checked against the text with spaces removed.
    """
    check_version()
    return _analyse_for_index(text)


def _analyse_for_index(text):
    text = fold(text)
    if not text.strip():
        return ""
    precise, subwords = _index_segments(text)
    head = _normalise_joined(" ".join(precise))
    if not subwords:
        return head + " |"
    tail = " | ".join(p for word in subwords for p in _word_parts(word))
    return f"{head} | {tail} |"


# --- batches: update_index analyses on every core ---------------------------------------------

PARALLEL_MIN_CHARS = 1_000_000  # smaller batches (a publish, a small import) are analysed in-process
PART_CHARS = 20_000  # a batch is shared out in parts of about this size
_SLOTS = 8  # batches in flight at once (update_index has two); more are analysed in-process
_pool = None
_pool_workers = 0
_claims = None  # per slot: [next part from the front (other processes), end of the parts not taken from the back]
_free_slots = []


@contextlib.contextmanager
def parallel_analysis(workers=None):
    """Inside this block, large batches of index text (analyse_many_for_index, submit_many_for_index) are shared
    between this process and `workers` forked processes (default: one per extra core). For management commands
    such as update_index; web workers never fork. The segmenter is loaded before the fork, so every process uses
    the same dictionary; the forked processes only segment text (no database, no cache)."""
    global _pool, _pool_workers, _claims, _free_slots
    workers = (os.cpu_count() or 1) - 1 if workers is None else workers
    if workers < 1 or _pool is not None:
        yield
        return
    check_version()
    _engine()
    context = multiprocessing.get_context("fork")
    _claims = context.Array("i", 2 * _SLOTS)  # shared with the forked processes (created before them)
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        _pool, _pool_workers, _free_slots = pool, workers, list(range(_SLOTS))
        try:
            yield
        finally:
            _pool, _pool_workers, _free_slots = None, 0, []


def _analyse_texts(texts):
    return [_analyse_for_index(text) for text in texts]


def _claim(slot, from_front, keep=0):
    """Index of a part of the batch in `slot` nobody has taken yet (the first one left, or the last one unless only
    `keep` are left), or None."""
    with _claims.get_lock():
        front, back = _claims[2 * slot], _claims[2 * slot + 1]
        if back - front <= (0 if from_front else keep):
            return None
        if from_front:
            _claims[2 * slot] = front + 1
            return front
        _claims[2 * slot + 1] = back - 1
        return back - 1


def _analyse_claimed(slot, parts):
    """In a forked process: analyse the parts of a batch taken from the front, {part index: analysed texts}."""
    done = {}
    while (index := _claim(slot, from_front=True)) is not None:
        done[index] = _analyse_texts(parts[index])
    return done


class _Analysed:
    def __init__(self, results):
        self._results = results

    def result(self):
        return self._results


class _PendingAnalysis:
    """A batch shared out as parts: the other processes take parts from the front (one task each, so one message
    per batch), ``result()`` takes the rest from the back and analyses them here, then collects the others'. The
    first part is always left to them, so the batch really is shared."""

    def __init__(self, parts):
        self._parts = parts
        self._slot = _free_slots.pop()
        _claims[2 * self._slot], _claims[2 * self._slot + 1] = 0, len(parts)
        self._futures = [_pool.submit(_analyse_claimed, self._slot, parts) for _worker in range(_pool_workers)]

    def result(self):
        results = {}
        while (index := _claim(self._slot, from_front=False, keep=1)) is not None:
            results[index] = _analyse_texts(self._parts[index])
        try:
            for future in self._futures:
                results.update(future.result())
        finally:
            _free_slots.append(self._slot)
        return [text for index in range(len(self._parts)) for text in results[index]]


def submit_many_for_index(texts):
    """Start analyse_for_index on a list of texts; ``.result()`` gives them in the same order. Inside
    parallel_analysis() a large batch is shared with the other processes, which start on it at once, so the
    caller can load and write other batches meanwhile; otherwise (or for a small batch) it is analysed here now."""
    check_version()
    if _pool is None or not _free_slots or sum(map(len, texts)) < PARALLEL_MIN_CHARS:
        return _Analysed(_analyse_texts(texts))
    parts, current, size = [], [], 0
    for text in texts:
        current.append(text)
        size += len(text)
        if size >= PART_CHARS:
            parts.append(current)
            current, size = [], 0
    if current:
        parts.append(current)
    return _PendingAnalysis(parts)


def analyse_many_for_index(texts):
    """analyse_for_index for a list of texts, in the same order; parallel inside parallel_analysis()."""
    return submit_many_for_index(texts).result()


def phrase_key(text):
    """The normalised character sequence an exact phrase is checked against."""
    return "".join(_word_parts(fold(text)))


@dataclass
class QueryPhrase:
    text: str
    tokens: tuple
    key: str


@dataclass
class ParsedQuery:
    text: str
    groups: list = field(default_factory=list)  # each: tuple of alternatives (word + synonyms)
    phrases: list = field(default_factory=list)  # QueryPhrase
    words: list = field(default_factory=list)  # what the visitor typed, segmented (for highlighting)
    # Beside each group: () or the dictionary parts of its compound word, all required, each a tuple of
    # alternatives (part + synonyms): 学校食堂 → (("学校",), ("食堂",)); 劳模精神 → (("劳动模范", "劳模"), ("精神",)).
    parts: list = field(default_factory=list)

    @property
    def is_empty(self):
        return not self.groups and not self.phrases

    def group_parts(self, index):
        return self.parts[index] if index < len(self.parts) else ()

    @property
    def has_parts(self):
        return any(self.parts)

    def highlight_terms(self):
        terms = set()
        for group in self.groups:
            terms.update(group)
        for parts in self.parts:
            for part in parts:
                terms.update(part)
        for phrase in self.phrases:
            terms.add(phrase.text)
        return sorted((t for t in terms if t), key=len, reverse=True)


def _token_group(token):
    alternatives = {token}
    alternatives.update(synonyms().get(token, ()))
    return tuple(sorted(alternatives))


def _union_words():
    """Words the union dictionary, editors or synonym groups define: always whole tokens, never split."""
    global _union_set
    if _union_set is None:
        _union_set = frozenset(entry[0] for entry in user_dictionary_entries())
    return _union_set


@functools.lru_cache(maxsize=20_000)
def _compound_parts(token):
    """The dictionary parts that stand in for a compound query word the index may not hold, or ().

    Parts are jieba's sub-words of the word (search mode) and synonym words inside it, chosen to cover most of
    the word with the fewest parts; single characters left over are dropped (永修县 → 永修). Union-dictionary
    words are not split, nor words whose parts would cover less than two thirds of them.
    """
    n = len(token)
    if n < 3 or not _CJK_RE.match(token) or token in _union_words():
        return ()
    candidates = set(_subwords(token)) | {w for w in synonyms() if 2 <= len(w) < n and w in token}
    if not candidates:
        return ()
    # best[i]: (covered chars, -parts, parts) for token[:i]
    best = [(0, 0, ())] + [None] * n
    for i in range(n):
        if best[i] is None:
            continue
        covered, negparts, parts = best[i]
        options = [(i + 1, None)] + [(i + len(w), w) for w in candidates if token.startswith(w, i)]
        for end, word in options:
            value = (covered + (len(word) if word else 0), negparts - (1 if word else 0),
                     parts + ((word,) if word else ()))
            if best[end] is None or value[:2] > best[end][:2]:
                best[end] = value
    covered, _negparts, parts = best[n]
    if not parts or covered * 3 < n * 2:
        return ()
    return tuple(_token_group(part) for part in parts)


def analyse_query(text):
    """Turn whatever a visitor typed into a ParsedQuery. Never raises; quotes mean exact phrases."""
    check_version()
    text = fold(text)[:MAX_QUERY_CHARS]
    parsed = ParsedQuery(text=text.strip())
    plain_parts = []
    last = 0
    for match in _QUOTE_RE.finditer(text):
        plain_parts.append(text[last : match.start()])
        last = match.end()
        inner = next((g for g in match.groups() if g is not None), "")
        tokens = tuple(segment(inner))
        key = phrase_key(inner)
        if not tokens or not key:
            continue
        if len(tokens) == 1:
            plain_parts.append(" " + inner + " ")
            continue
        parsed.phrases.append(QueryPhrase(text=" ".join(inner.split()), tokens=tokens, key=key))
    plain_parts.append(text[last:])
    plain = _STRAY_QUOTES.sub(" ", " ".join(plain_parts))

    tokens = segment(plain)
    stops = stop_words()
    meaningful = [t for t in tokens if t not in stops]
    if meaningful or parsed.phrases:
        tokens = meaningful
    seen = set()
    for token in tokens:
        if token in seen:
            continue
        seen.add(token)
        parsed.words.append(token)
        parsed.groups.append(_token_group(token))
        parsed.parts.append(_compound_parts(token))
        if len(parsed.groups) >= MAX_QUERY_TERMS:
            break
    parsed.phrases = parsed.phrases[:4]
    return parsed


def _tfidf_extractor():
    """jieba's TF-IDF extractor, for keywords of given parts of speech (it loads jieba and its POS tagger)."""
    global _tfidf
    if _tfidf is None:
        with _lock:
            if _tfidf is None:
                import jieba.analyse

                extractor = jieba.analyse.TFIDF()
                extractor.tokenizer = tokenizer()
                extractor.postokenizer = _pos_tokenizer()
                extractor.stop_words = set(extractor.stop_words) | set(stop_words())
                _tfidf = extractor
    return _tfidf


# jieba.analyse's own stop words (KeywordExtractor.STOP_WORDS), beside the union's.
JIEBA_STOP_WORDS = frozenset(("the", "of", "is", "and", "to", "in", "that", "we", "for", "an", "are", "by", "be",
                              "as", "on", "with", "can", "if", "from", "which", "you", "it", "this", "then", "at",
                              "have", "all", "not", "one", "has", "or"))


class IdfTable:
    """jieba's IDF table (jieba/analyse/idf.txt, 270,000 words) in about 5 MB: the words sorted as one UTF-8 blob
    with offsets, looked up by binary search (as a dict it takes some 40 MB)."""

    def __init__(self, path):
        lines = Path(path).read_bytes().split(b"\n")
        lines.sort()  # "word value" lines sort by word: the space sorts before any character of a word
        words, self.offsets, self.values = [], array("I", [0]), array("d")
        for line in lines:
            word, _, value = line.strip().partition(b" ")
            if not value:
                continue
            if words and words[-1] == word:  # a repeated word: one value (jieba's file has none)
                self.offsets.pop()
                self.values.pop()
                words.pop()
            words.append(word)
            self.offsets.append(self.offsets[-1] + len(word))
            self.values.append(float(value))
        del lines
        self.blob = b"".join(words)
        self.median = sorted(self.values)[len(self.values) // 2]

    def __len__(self):
        return len(self.values)

    def __getitem__(self, i):
        return self.blob[self.offsets[i]:self.offsets[i + 1]]

    def get(self, word, default=None):
        key = word.encode()
        i = bisect.bisect_left(self, key)
        return self.values[i] if i < len(self) and self[i] == key else default


_idf_table = None


def idf_table():
    global _idf_table
    if _idf_table is None:
        with _lock:
            if _idf_table is None:
                import importlib.util

                jieba_dir = importlib.util.find_spec("jieba").submodule_search_locations[0]
                _idf_table = IdfTable(Path(jieba_dir) / "analyse" / "idf.txt")
    return _idf_table


def _tfidf_tags(text, topk):
    """jieba.analyse.TFIDF.extract_tags without parts of speech, cutting with rjieba: the same words, scores and
    order, without loading jieba's dictionary and POS tagger into the process (some 200 MB)."""
    stop = JIEBA_STOP_WORDS | stop_words()
    freq = {}
    for word in _engine().cut(text):
        if len(word.strip()) < 2 or word.lower() in stop:
            continue
        freq[word] = freq.get(word, 0.0) + 1.0
    total = sum(freq.values())
    idf = idf_table()
    for word in freq:
        freq[word] *= idf.get(word, idf.median) / total
    return sorted(freq, key=freq.__getitem__, reverse=True)[:topk]


def extract_keywords(text: str, topk: int = 8, allow_pos=()) -> list[str]:
    """Top keywords by jieba TF-IDF with the union dictionary and stop words (for topics and related speeches);
    ``allow_pos`` keeps only those parts of speech (jieba tags such as ``n``, ``nz``, ``vn``)."""
    text = fold(text)
    if not text.strip() or topk <= 0:
        return []
    if allow_pos:
        words = _tfidf_extractor().extract_tags(text, topK=topk * 3, allowPOS=tuple(allow_pos))
    else:
        words = _tfidf_tags(text, topk * 3)
    out = []
    for word in words:
        if len(word) < 2 or word in stop_words() or not any("\u4e00" <= c <= "\u9fff" for c in word):
            continue
        out.append(word)
        if len(out) >= topk:
            break
    return out
