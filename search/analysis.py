"""The one owner of Chinese text analysis: jieba, the union dictionary, synonyms and stop words.

The segmenter is loaded once per process, lazily, under a lock.
"""

import threading
from pathlib import Path

DICTIONARY_DIR = Path(__file__).resolve().parent / "dictionaries"
USER_DICT = DICTIONARY_DIR / "union_words.txt"

_lock = threading.Lock()
_tokenizer = None


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
                tok.load_userdict(str(USER_DICT))
                _tokenizer = tok
    return _tokenizer


def place_names(text):
    """Place names (jieba POS tag ``ns``) in order of appearance."""
    import jieba.posseg

    tagger = jieba.posseg.POSTokenizer(tokenizer())
    return [pair.word for pair in tagger.cut(text) if pair.flag == "ns"]


STOP_WORDS = DICTIONARY_DIR / "stop_words.txt"
_tfidf = None


def extract_keywords(text: str, topk: int = 8) -> list[str]:
    """TF-IDF keywords (jieba.analyse) segmented by the shared tokenizer, stop words removed."""
    global _tfidf
    tok = tokenizer()
    if _tfidf is None:
        with _lock:
            if _tfidf is None:
                import jieba.analyse

                extractor = jieba.analyse.TFIDF()
                extractor.tokenizer = tok
                if STOP_WORDS.exists():
                    extractor.set_stop_words(str(STOP_WORDS))
                _tfidf = extractor
    return _tfidf.extract_tags(text, topK=topk)
