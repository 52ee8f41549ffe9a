"""Generated speeches written in the corpus format (corpus/README.md), so the real importer reads them.

Each speech is bench/_db.py's recombination of the real corpus's paragraphs (4–12 of them, same seed), under an
entry heading 工会工作会议讲话内容篇… with a salutation, and now and then the site debris the importer removes (a
promo line, pagination, the 本文地址 line) and a closing date. With ``plant``, that many exact, near and contained
duplicates of earlier speeches are planted; ``expected`` lists them as the importer reports them.

    python bench/corpus_file.py OUT.txt 10000 [--plant 20]
"""

import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEED = 20261125  # bench/_db.py's
SALUTATIONS = ["同志们:", "各位领导、同志们:", "同志们：", "各位代表:"]
PROMO = "下面是本站小编给大家整理的工会工作会议讲话，仅供参考。"
DEBRIS = ["共", "3", "页,当前第。", "1 2 3", "页"]
DIGITS = "零一二三四五六七八九"


def chinese_numeral(n):
    """12 -> 十二, 105 -> 一百零五, 10001 -> 一万零一 (what chinese_number() reads back)."""
    if n == 0:
        return "零"

    def section(value, leading):
        out, zero = "", False
        for unit_value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            digit = value // unit_value % 10
            if digit:
                if zero and out:
                    out += "零"
                out += ("" if (digit == 1 and unit == "十" and leading and not out) else DIGITS[digit]) + unit
                zero = False
            elif out or not leading:
                zero = True
        return out

    high, low = divmod(n, 10000)
    if not high:
        return section(low, True)
    text = section(high, True) + "万"
    if low:
        text += ("零" if low < 1000 else "") + section(low, False).lstrip("零")
    return text


def pool():
    """Paragraphs of the real corpus (as bench/_db.py picks them), minus any that would start, end or join a
    speech (salutations, closing remarks, lines ending in a comma): every generated entry is one speech."""
    from speeches.importers.corpus import decode, parse_corpus
    from speeches.importers.text_rules import CLOSING, SALUTATION

    parsed = parse_corpus(decode((ROOT / "corpus" / "000_1f37454ad7433800.txt").read_bytes()))
    paragraphs = [b["value"] for s in parsed.speeches for b in s.blocks
                  if b["type"] == "paragraph" and len(b["value"]) > 20]
    return [p for p in dict.fromkeys(paragraphs)
            if not SALUTATION.match(p) and not CLOSING.match(p) and p[-1] not in ",，、"]


@dataclass
class Generated:
    path: Path
    speeches: int
    bytes: int
    paragraphs: int
    text_bytes: int = 0  # of the lines that become speech text
    expected: set = field(default_factory=set)  # (label, of_label, kind) as the importer reports them


def _near_copy(rng, lines):
    """The same speech with a few characters changed (Jaccard similarity of the shingles stays above 0.9)."""
    out = list(lines)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(out))
        text = out[i]
        pos = rng.randrange(len(text))
        if "\u4e00" <= text[pos] <= "\u9fff":
            out[i] = text[:pos] + ("某" if text[pos] != "某" else "甲") + text[pos + 1:]
    return out


def _exact_copy(lines):
    """The same speech with its commas written differently (a republished copy)."""
    return [line[:-1].replace("，", ",") + line[-1] if len(line) > 2 else line for line in lines]


def write_corpus(path, n, plant=0, seed=SEED):
    from speeches.importers.text_rules import jaccard, normalise, shingles

    rng = random.Random(seed)
    paragraphs = pool()
    speeches = []  # (salutation or None, content lines, date line or None)
    for _ in range(n):
        chosen = rng.sample(paragraphs, rng.randint(4, 12))
        year = rng.choice([2019, 2020, 2021, 2022, 2023, 2024, None])
        date = f"{year}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日" if year else None
        speeches.append([rng.choice(SALUTATIONS), chosen, date])

    expected = set()
    if plant:
        # Sources in the first half, plants in the second; no speech is both.
        sources = rng.sample(range(n // 2), 3 * plant)
        targets = rng.sample(range(n // 2, n), 3 * plant)
        for k, (source, target) in enumerate(zip(sources, targets, strict=True)):
            label, of = f"篇{chinese_numeral(target + 1)}", f"篇{chinese_numeral(source + 1)}"
            salutation, lines, date = speeches[source]
            if k < plant:
                speeches[target] = [salutation, _exact_copy(lines), date]
                expected.add((label, of, "duplicate"))
            elif k < 2 * plant:
                original = normalise("".join(lines))
                while True:
                    copy = _near_copy(rng, lines)
                    if 0.85 <= jaccard(shingles(original), shingles("".join(copy))) < 1:
                        break
                speeches[target] = [salutation, copy, date]
                expected.add((label, of, "duplicate"))
            else:
                # The whole source speech (no salutation of its own) appended to another one.
                speeches[source] = [None, lines, date]
                host = rng.sample(paragraphs, rng.randint(4, 8))
                speeches[target] = [rng.choice(SALUTATIONS), host + lines + ([date] if date else []), None]
                expected.add((label, of, "contained"))

    path = Path(path)
    count = text_bytes = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write("通过总结,我们可以更好地总结经验,提高工作和学习的效果。小编为大家精选了一些优秀的总结范文。\n")
        for i, (salutation, lines, date) in enumerate(speeches):
            out.write(f"工会工作会议讲话内容篇{chinese_numeral(i + 1)}\n")
            if salutation:
                out.write(salutation + "\n")
            if i % 7 == 3:
                out.write(PROMO + "\n")
            for j, line in enumerate(lines):
                out.write(line + "\n")
                if i % 5 == 1 and j == len(lines) // 2:
                    out.write("\n".join(DEBRIS) + "\n")
            count += len(lines) + (1 if date else 0) + (1 if salutation else 0)
            text_bytes += sum(len(line.encode()) for line in lines) + len((salutation or "").encode())
            if date:
                out.write(date + "\n")
            if i % 10 == 9:
                out.write(f"【本文地址:http://www.example.cn/zuowen/{i + 1}.html】\n")
    return Generated(path, n, path.stat().st_size, count, text_bytes, expected)


if __name__ == "__main__":
    import os

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    import django

    django.setup()
    args = sys.argv[1:]
    plant = int(args[args.index("--plant") + 1]) if "--plant" in args else 0
    made = write_corpus(args[0], int(args[1]), plant)
    print(f"{made.path}：{made.speeches} 篇，{made.bytes / 1e6:.1f} MB，预置重复 {len(made.expected)} 处")
