"""Traditional → simplified folding (OpenCC ``t2s``, phrase-aware) for the index and for queries.

Only runs of CJK text holding a character that t2s can change are converted, so simplified text costs one regex
scan. t2s maps every character and phrase to one of the same length, so the folded text lines up with the
original character for character (snippets and highlights cut the original at the folded text's positions).
The characters that can change are listed in ``dictionaries/opencc_t2s_chars.txt``, written from the installed
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
_changeable = None  # compiled regex: a CJK run holding a character t2s can change
_CJK_RUN = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+"


def _load():
    global _converter, _changeable
    with _lock:
        if _changeable is None:
            import opencc

            chars = "".join(CHARS_FILE.read_text(encoding="utf-8").split())
            _converter = opencc.OpenCC("t2s")
            _changeable = re.compile(f"[{re.escape(chars)}]")
    return _changeable


def _convert_run(match):
    run = match.group(0)
    out = _converter.convert(run)
    if len(out) != len(run):  # never seen with t2s; keep positions aligned all the same
        out = "".join(_converter.convert(char) if len(_converter.convert(char)) == 1 else char for char in run)
    return out


_RUN_RE = re.compile(_CJK_RUN)


def to_simplified(text):
    """The text with traditional characters and phrases folded to simplified; same length as the input."""
    if not text:
        return text
    changeable = _changeable or _load()
    if changeable.search(text) is None:
        return text
    return _RUN_RE.sub(lambda m: _convert_run(m) if changeable.search(m.group(0)) else m.group(0), text)


def needs_folding(text):
    changeable = _changeable or _load()
    return changeable.search(text or "") is not None


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
    """Every character t2s may change: keys mapped to something else, and the changed places of phrase keys."""
    chars = set()
    for name in T2S_DICTIONARIES:
        for key, values in opencc_dictionary(name):
            for value in values:
                if len(value) == len(key):
                    chars.update(k for k, v in zip(key, value, strict=True) if k != v)
                else:
                    chars.update(key)
    return "".join(sorted(chars))


def write_characters_file():
    chars = changeable_characters()
    lines = [chars[i : i + 80] for i in range(0, len(chars), 80)]
    CHARS_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(chars)


if __name__ == "__main__":
    print(f"{write_characters_file()} 个字写入 {CHARS_FILE}", file=sys.stderr)
