"""Traditional → simplified folding (OpenCC ``t2s``, phrase-aware) for the index and for queries.

Only text holding a character t2s always changes, or a phrase it changes, is converted, so simplified text
costs one regex scan. t2s maps every character and phrase to one of the same length, so the folded text lines up
with the original character for character (snippets and highlights cut the original at the folded text's positions).
Those characters and phrases are listed in ``dictionaries/opencc_t2s_chars.txt``, written from the installed
OpenCC's own dictionaries by ``python -m search.folding`` (a test checks it is current).
"""

import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

CHARS_FILE = Path(__file__).resolve().parent / "dictionaries" / "opencc_t2s_chars.txt"
# t2s's dictionaries (see opencc's t2s.json): phrases, then characters, plus the compatibility-ideograph fold.
T2S_DICTIONARIES = ("TSPhrases", "TSCharactersExt", "TSCharacters", "CJK_Compatibility_Ideographs")

_lock = threading.Lock()
_converter = None
_changeable = None  # compiled regex: a character t2s may change
_single = frozenset()  # characters t2s changes wherever they stand
_phrases = None  # compiled regex: phrases whose change rests on characters that change only inside them
_astral = frozenset()  # changeable characters outside the BMP (a BMP-only class keeps the regex fast)
_ANY_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
PHRASE_WINDOW = 8


def _load():
    global _converter, _changeable, _single, _phrases, _astral
    with _lock:
        if _changeable is None:
            import opencc

            single, phrases = read_characters_file()
            _converter = opencc.OpenCC("t2s")
            phrase_chars = {k for phrase in phrases for k, v in zip(phrase, _converter.convert(phrase), strict=False)
                            if k != v} - set(single)
            _single = frozenset(single)
            _phrases = re.compile("|".join(map(re.escape, sorted(phrases, key=len, reverse=True))) or "(?!)")
            chars = sorted(set(single) | phrase_chars)
            # A class of BMP characters is a bitmap (fast); the few astral ones are matched as alternatives.
            _astral = frozenset(c for c in chars if c > "\uffff")
            _changeable = re.compile(f"[{re.escape(''.join(c for c in chars if c <= chr(0xFFFF)))}]")
    return _changeable


def needs_folding(text):
    """True when t2s would change the text: a character that always changes, or one of the phrases that change
    characters common in simplified text (甚麼 → 甚么, but 什么 stays)."""
    changeable = _changeable or _load()
    match = changeable.search(text or "")
    while match is not None:
        if match.group(0) in _single:
            return True
        if _phrases.search(text, max(0, match.start() - PHRASE_WINDOW), match.end() + PHRASE_WINDOW):
            return True
        match = changeable.search(text, match.end())
    return bool(_astral) and _ANY_ASTRAL.search(text or "") is not None and not _astral.isdisjoint(text)


def to_simplified(text):
    """The text with traditional characters and phrases folded to simplified; same length as the input."""
    if not text or not needs_folding(text):
        return text
    out = _converter.convert(text)
    if len(out) != len(text):  # never seen with t2s; keep positions aligned all the same
        out = "".join(c if len(c) == 1 else char for char, c in ((char, _converter.convert(char)) for char in text))
    return out


# --- the list of changeable characters, from OpenCC's dictionaries ---------------------------------------


def opencc_dictionary(name):
    """[(key, [values])] of one of the installed OpenCC's dictionaries (its own opencc_dict tool reads them)."""
    import opencc

    base = Path(opencc.__file__).resolve().parent / "clib"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{name}.txt"
        subprocess.run([str(base / "bin" / "opencc_dict"), "-i", str(base / "share" / "opencc" / f"{name}.ocd2"),
                        "-o", str(out), "-f", "ocd2", "-t", "text"], check=True, capture_output=True)
        rows = []
        for line in out.read_text(encoding="utf-8").splitlines():
            key, _tab, values = line.partition("\t")
            rows.append((key, values.split()))
        return rows


def changeable_characters():
    """(characters t2s changes on their own, phrases that change characters which do not change on their own)."""
    import opencc

    converter = opencc.OpenCC("t2s")
    candidates, phrase_rows = set(), []
    for name in T2S_DICTIONARIES:
        for key, values in opencc_dictionary(name):
            if len(key) == 1:
                candidates.add(key)
            else:
                phrase_rows.append((key, values))
                candidates.update(key)
    single = "".join(sorted(c for c in candidates if converter.convert(c) != c))
    phrases = set()
    for key, values in phrase_rows:
        for value in values:
            changed = [k for k, v in zip(key, value, strict=False) if k != v] if len(value) == len(key) else list(key)
            if any(c not in single for c in changed):
                phrases.add(key)
    return single, sorted(phrases)


def read_characters_file():
    single, phrases, section = [], [], None
    for line in CHARS_FILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            section = line
        elif line.strip():
            (phrases if section and "词" in section else single).append(line.strip())
    return "".join(single), " ".join(phrases).split()


def write_characters_file():
    single, phrases = changeable_characters()
    lines = ["# 单字：t2s 总会转换的字"] + [single[i : i + 80] for i in range(0, len(single), 80)]
    lines += ["# 词：只在这些词里才转换的字所在的词"]
    lines += [" ".join(phrases[i : i + 20]) for i in range(0, len(phrases), 20)]
    CHARS_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(single) + len(phrases)


if __name__ == "__main__":
    print(f"{write_characters_file()} 个字写入 {CHARS_FILE}", file=sys.stderr)
