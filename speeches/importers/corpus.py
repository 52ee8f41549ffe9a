"""Parse the speech-template corpus format into clean speeches.

The format: a promo line, then entries that each start with a heading line
``工会工作会议讲话内容篇一`` … and hold one or more speeches with site boilerplate,
pagination debris and broken lines. See corpus/README.md.

Files are read twice, one entry at a time: a first pass checks the whole file and keeps a compact fingerprint
of each speech (paragraph hashes, a MinHash sketch), duplicates are found from indexes over those, and the
second pass yields the speeches to import. Only the few duplicate candidates are read a third time.
"""

import re
from array import array
from collections import OrderedDict
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import eq
from pathlib import Path

from speeches.importers.blocks import build_blocks
from speeches.importers.text_rules import (
    CLOSING,
    OPENING,
    PLACEHOLDER,
    SALUTATION,
    Paragraph,
    chinese_number,
    clean_inline,
    find_date,
    find_level,
    find_meeting,
    find_region,
    find_topics,
    heading_style,
    jaccard,
    normalise,
    shingle_set,
)

ENTRY_HEADING = re.compile(r"^工会工作会议讲话内容篇([一二三四五六七八九十百千万〇零]+)\s*$")
ADDRESS_LINE = re.compile(r"^【本文地址[:：].*】$")
PAGINATION = re.compile(r"^(共|页|页[,，]当前第。?|当前第.*页|[\d\s]{1,12})$")
PROMO_FRAGMENTS = {"讲话稿。", "材料讲话,仅供参考。", "材料讲话，仅供参考。"}
BOILERPLATE = re.compile(r"本站小编|仅供参考|本文地址")
LINK_FRAGMENT = re.compile(r"^[\u4e00-\u9fff]{1,6}。$")
GARBLED = "^v^"

class CorpusFormatError(Exception):
    def __init__(self, message, line=None):
        self.line = line
        super().__init__(f"第{line}行：{message}" if line else message)


@dataclass
class Notice:
    line: int
    message: str

    def __str__(self):
        return f"第{self.line}行：{self.message}"


@dataclass
class ParsedSpeech:
    number: str
    part: int
    paragraphs: list
    start_line: int
    end_line: int
    parts_in_entry: int = 1
    title: str = ""
    meeting: str = ""
    org_level: str = ""
    region: str = ""
    date: object = None
    topics: list = field(default_factory=list)
    blocks: list = field(default_factory=list)

    @property
    def label(self):
        return f"篇{self.number}" + (f"（{self.part}）" if self.parts_in_entry > 1 else "")

    @property
    def key_suffix(self):
        return f"{self.number}-{self.part}"

    @property
    def slug(self):
        return f"speech-{chinese_number(self.number):02d}" + (f"-{self.part}" if self.parts_in_entry > 1 else "")

    @property
    def text(self):
        return "\n".join(p.text for p in self.paragraphs)


@dataclass
class Duplicate:
    label: str
    of_label: str
    similarity: float
    line: int
    kind: str = "duplicate"

    def __str__(self):
        if self.kind == "contained":
            return f"{self.label} 的一部分与 {self.of_label} 全文相同，只导入一次"
        return f"{self.label} 与 {self.of_label} 重复（相似度 {self.similarity:.0%}），未重复导入"


@dataclass
class ParseResult:
    speeches: list
    duplicates: list
    warnings: list
    removed_lines: int = 0


def decode(raw: bytes) -> str:
    if b"\x00" in raw:
        raise CorpusFormatError("文件包含空字节，不是文本文件")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CorpusFormatError("文件不是 UTF-8 编码的文本", line) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_entries(lines):
    entries, current = [], None
    preamble = []
    for number, line in enumerate(lines, 1):
        match = ENTRY_HEADING.match(line.strip())
        if match:
            current = {"number": match.group(1), "line": number, "lines": []}
            entries.append(current)
        elif current is None:
            if line.strip():
                preamble.append(number)
        else:
            current["lines"].append((number, line))
    return entries, preamble


def clean_entry(entry, warnings):
    """Drop boilerplate and debris, repair broken lines; return paragraphs."""
    kept = []
    removed = 0
    for number, raw in entry["lines"]:
        line = raw.strip().strip("\u3000")
        if not line:
            continue
        if ADDRESS_LINE.match(line) or line in PROMO_FRAGMENTS or BOILERPLATE.search(line) or PAGINATION.match(line):
            removed += 1
            continue
        kept.append(Paragraph(line, number))

    joined = []
    i = 0
    while i < len(kept):
        para = kept[i]
        if (
            joined
            and i + 1 < len(kept)
            and LINK_FRAGMENT.match(para.text)
            and not heading_style(para.text)
            and joined[-1].text.endswith("。")
        ):
            previous = joined[-1]
            nxt = kept[i + 1]
            previous.text = previous.text[:-1] + para.text[:-1] + nxt.text
            warnings.append(Notice(para.line, f"修复断行：“{para.text}”与上下行合并"))
            i += 2
            continue
        if joined and joined[-1].text[-1] in ",，、" and not heading_style(para.text):
            joined[-1].text += para.text
            i += 1
            continue
        joined.append(Paragraph(para.text, para.line))
        i += 1

    for para in joined:
        if GARBLED in para.text:
            count = para.text.count(GARBLED)
            para.text = para.text.replace(GARBLED, PLACEHOLDER)
            warnings.append(Notice(para.line, f"乱码“^v^”{count}处，已替换为“{PLACEHOLDER}”，请编辑核对原文"))
        para.text = clean_inline(para.text)
    return [p for p in joined if p.text], removed


def split_speeches(paragraphs):
    """Split an entry where a new speech clearly begins: a fresh salutation after
    content, or an opening about convening a meeting right after a closing remark."""
    parts, current, content = [], [], 0
    for index, para in enumerate(paragraphs):
        starts_new = False
        if SALUTATION.match(para.text) and content >= 3:
            starts_new = True
        elif (
            index > 0
            and CLOSING.match(paragraphs[index - 1].text)
            and OPENING.match(para.text)
            and content >= 3
        ):
            starts_new = True
        if starts_new:
            parts.append(current)
            current, content = [], 0
        current.append(para)
        if not SALUTATION.match(para.text):
            content += 1
    if current:
        parts.append(current)
    return parts




# --- reading: one line at a time from a file, or from a decoded string --------------------------------------

BOM = b"\xef\xbb\xbf"


class TextLines:
    """Lines of a decoded text; a position is a line index."""

    size = None

    def __init__(self, text):
        self._lines = text.split("\n")

    def read(self, pos=None):
        for index in range(pos or 0, len(self._lines)):
            yield index + 1, self._lines[index], index

    def changed(self):
        return False


class FileLines:
    """Lines of a UTF-8 file, decoded one at a time with the same rules as decode(); a position is
    (byte offset, number of its first line)."""

    def __init__(self, path):
        self.path = Path(path)
        try:
            stat = self.path.stat()
        except OSError as exc:
            raise CorpusFormatError(f"无法读取文件 {path}：{exc.strerror}") from exc
        self.size, self._stamp = stat.st_size, (stat.st_size, stat.st_mtime_ns)
        self.offset = 0  # bytes read so far by the current read()

    def changed(self):
        try:
            stat = self.path.stat()
        except OSError:
            return True
        return (stat.st_size, stat.st_mtime_ns) != self._stamp

    def read(self, pos=None):
        offset, number = pos or (0, 1)
        try:
            handle = open(self.path, "rb")
        except OSError as exc:
            raise CorpusFormatError(f"无法读取文件 {self.path}：{exc.strerror}") from exc
        with handle:
            handle.seek(offset)
            for raw in handle:
                start = offset
                offset += len(raw)
                self.offset = offset
                if start == 0 and raw.startswith(BOM):
                    raw = raw[len(BOM):]
                if b"\x00" in raw:
                    raise CorpusFormatError("文件包含空字节，不是文本文件", number)
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    line = number + raw[: exc.start].count(b"\r")
                    raise CorpusFormatError("文件不是 UTF-8 编码的文本", line) from exc
                if text.endswith("\n"):
                    text = text[:-1]
                if text.endswith("\r"):
                    text = text[:-1]
                first = number
                for piece in text.split("\r"):
                    yield number, piece, (start, first)
                    number += 1


def read_entries(source, preamble=None, pos=None, first_line=None):
    """Entries (dicts as split_entries makes them, plus "pos") in file order, each yielded once it is complete.
    With first_line, only the entry whose heading is on that line."""
    current = None
    for number, line, here in source.read(pos):
        if first_line is not None and number < first_line:
            continue
        match = ENTRY_HEADING.match(line.strip())
        if match:
            if current is not None:
                yield current
                if first_line is not None:
                    return
            current = {"number": match.group(1), "line": number, "lines": [], "pos": here}
        elif current is None:
            if line.strip() and preamble is not None:
                preamble.append(number)
        else:
            current["lines"].append((number, line))
    if current is not None:
        yield current


def entry_hash(entry):
    return hash((entry["line"], *entry["lines"]))


def entry_speeches(entry, warnings):
    """The speeches of one entry, before duplicate detection."""
    paragraphs, removed = clean_entry(entry, warnings)
    if not any(not SALUTATION.match(p.text) for p in paragraphs):
        raise CorpusFormatError(f"篇{entry['number']}没有正文", entry["line"])
    parts = split_speeches(paragraphs)
    if len(parts) > 1:
        warnings.append(Notice(entry["line"], f"篇{entry['number']}包含{len(parts)}篇讲话，已拆分"))
    speeches = [
        ParsedSpeech(number=entry["number"], part=index, paragraphs=part, start_line=part[0].line,
                     end_line=part[-1].line, parts_in_entry=len(parts))
        for index, part in enumerate(parts, 1)
    ]
    return speeches, removed


def finish(speech):
    """Blocks and metadata of a speech that will be imported."""
    speech.blocks = build_blocks([p.text for p in speech.paragraphs])
    speech.meeting = find_meeting(speech.paragraphs)
    speech.org_level = find_level(speech.meeting)
    speech.region = find_region([p.text for p in speech.paragraphs if not SALUTATION.match(p.text)][:2])
    speech.date = find_date(speech.paragraphs)
    speech.topics = find_topics(speech.text)
    speech.title = f"在{speech.meeting}上的讲话" if speech.meeting else f"工会工作会议讲话（{speech.label}）"
    return speech


# --- fingerprints and duplicate detection --------------------------------------------------------------------

# LSH: 40 bands of 5 sketch values. A pair with Jaccard similarity 0.85 shares a band with probability
# > 1 - 1e-10; of the pairs that do, only those whose sketches agree in ESTIMATE_AT of their 200 values are
# compared exactly (a pair at 0.85 agrees in fewer with probability < 1e-6; unrelated speeches sharing a
# paragraph or two, common in real archives, almost never get that far).
BANDS, ROWS, ESTIMATE_AT = 40, 5, 0.7
SKETCH = BANDS * ROWS
SAMPLE_ABOVE = 800  # shingles
VERIFY_CACHE = 64  # shingle sets kept while candidates are checked (about 170 KB each)


def band_keys(norm):
    """One-permutation MinHash of the shingles (the least hash in each of SKETCH buckets, empty buckets filled
    from the next one), hashed in BANDS bands of ROWS. Long texts are sketched from the quarter of their shingles
    whose hash has two given bits clear: the similarity of those samples follows the whole texts' closely."""
    hashes = list(map(hash, shingle_set(norm)))
    if len(hashes) > SAMPLE_ABOVE:
        hashes = [h for h in hashes if not h >> 40 & 3]  # a quarter, the same shingles in every speech
    hashes.sort(reverse=True)
    least = dict(zip(map(SKETCH.__rmod__, hashes), hashes, strict=True))  # smaller hashes come later and win
    values = list(map(least.get, range(SKETCH), repeat(None)))
    if len(least) < SKETCH:
        carry = next(v for v in chain(values, values) if v is not None)
        for index in range(SKETCH - 1, -1, -1):
            if values[index] is None:
                values[index] = carry
            else:
                carry = values[index]
    keys = [hash(tuple(values[start:start + ROWS])) for start in range(0, SKETCH, ROWS)]
    return keys, array("H", (value & 0xFFFF for value in values))


class SpeechPrint:
    """What the first pass keeps of a speech: where it is, its paragraphs' hashes, lines and sizes."""

    __slots__ = ("index", "number", "part", "parts_in_entry", "start_line", "end_line", "entry_line", "pos",
                 "entry_hash", "count", "hashes", "lines", "sizes", "keep", "text_hash", "duplicate")

    def __init__(self, index, speech, entry, norms):
        self.index = index
        self.number, self.part, self.parts_in_entry = speech.number, speech.part, speech.parts_in_entry
        self.start_line, self.end_line = speech.start_line, speech.end_line
        self.entry_line, self.pos, self.entry_hash = entry["line"], entry["pos"], entry_hash(entry)
        self.count = len(speech.paragraphs)
        self.hashes = array("q", map(hash, norms))
        self.lines = array("l", (p.line for p in speech.paragraphs))
        self.sizes = array("l", (len(p.text) for p in speech.paragraphs))
        self.keep = None  # original positions of the paragraphs left after a contained speech was cut out
        self.text_hash = hash("".join(norms))
        self.duplicate = False

    label = ParsedSpeech.label


def _pair_keys(hashes):
    return {hash((hashes[i], hashes[i + 1])) for i in range(len(hashes) - 1)}


class CorpusScan:
    """The first pass over a corpus (raises CorpusFormatError on the first problem, with its line), the
    duplicates found, and speeches() for the second pass."""

    def __init__(self, source, threshold=0.85, progress=None):
        self.source, self.threshold = source, threshold
        self.warnings, self.duplicates, self.prints = [], [], []
        self.removed_lines = 0
        self.paragraphs = 0  # paragraphs normalised in the first pass
        self.rereads = 0  # speeches read again to check a duplicate candidate or after a cut
        self.renormalised = 0  # paragraphs of those, normalised again
        self.verified = 0  # candidate pairs compared shingle by shingle
        self._bands = [array("q") for _ in range(BANDS + 1)]  # the last one holds the whole text's hash
        self._sketches = array("H")  # SKETCH values (16 bits of each) per speech
        self._first_pass(progress)
        self._remove_contained()
        self._remove_near_duplicates()
        self.total = sum(1 for p in self.prints if p.hashes and not p.duplicate)

    # first pass ------------------------------------------------------------------------------------------------

    def _first_pass(self, progress):
        preamble, seen = [], {}
        for entry in read_entries(self.source, preamble):
            if entry["number"] in seen:
                raise CorpusFormatError(
                    f"分篇标题“篇{entry['number']}”重复（第{seen[entry['number']]}行已出现）", entry["line"]
                )
            seen[entry["number"]] = entry["line"]
            if len(seen) == 1:
                self.warnings += [Notice(n, "站点推广文字，不属于任何讲话，已忽略") for n in preamble]
            speeches, removed = entry_speeches(entry, self.warnings)
            self.removed_lines += removed
            for speech in speeches:
                norms = [normalise(p.text) for p in speech.paragraphs]
                self.paragraphs += len(norms)
                fingerprint = SpeechPrint(len(self.prints), speech, entry, norms)
                self.prints.append(fingerprint)
                self._store_bands(fingerprint.index, "".join(norms))
                if progress and len(self.prints) % 1000 == 0:
                    progress(len(self.prints), getattr(self.source, "offset", None))
        if not seen:
            raise CorpusFormatError("未找到讲话分篇标题（如“工会工作会议讲话内容篇一”），文件格式不符")

    def _store_bands(self, index, norm):
        keys, sketch = band_keys(norm)
        for band, key in zip(self._bands, [*keys, hash(norm)], strict=True):
            if index < len(band):
                band[index] = key
            else:
                band.append(key)
        if index * SKETCH < len(self._sketches):
            self._sketches[index * SKETCH:(index + 1) * SKETCH] = sketch
        else:
            self._sketches.extend(sketch)

    # re-reading one speech -------------------------------------------------------------------------------------

    def _paragraphs(self, fingerprint):
        """The speech's paragraphs as they are now (after any cut), read again from the source."""
        self.rereads += 1
        entry = next(read_entries(self.source, pos=fingerprint.pos, first_line=fingerprint.entry_line))
        speeches, _removed = entry_speeches(entry, [])
        paragraphs = speeches[fingerprint.part - 1].paragraphs
        if fingerprint.keep is not None:
            paragraphs = [paragraphs[k] for k in fingerprint.keep]
        return paragraphs

    def _norm(self, fingerprint):
        paragraphs = self._paragraphs(fingerprint)
        self.renormalised += len(paragraphs)
        return "".join(normalise(p.text) for p in paragraphs)

    # contained speeches: an index of consecutive paragraph pairs -------------------------------------------

    def _remove_contained(self):
        """If a whole speech appears as a run of paragraphs inside another, keep it once: cut the run out of the
        larger one (the corpus appends 篇十七 to 篇十一). The same speeches in the same order as comparing every
        speech with every other; only speeches sharing the smaller one's rarest paragraph pair are compared."""
        postings = {}

        def add(index, keys):
            for key in keys:
                postings.setdefault(key, []).append(index)

        def remove(index, keys):
            for key in keys:
                postings[key].remove(index)

        for fingerprint in self.prints:
            if len(fingerprint.hashes) >= 3:  # a larger speech has at least one paragraph more than 2
                add(fingerprint.index, _pair_keys(fingerprint.hashes))
        for small in self.prints:
            n = len(small.hashes)
            if n < 2:
                continue
            lists = [postings.get(key) for key in _pair_keys(small.hashes)]
            if not all(lists):
                continue
            for index in sorted(min(lists, key=len)):
                big = self.prints[index]
                if big is small or len(big.hashes) <= n:
                    continue
                for start in range(len(big.hashes) - n + 1):
                    if big.hashes[start] == small.hashes[0] and big.hashes[start:start + n] == small.hashes:
                        before = _pair_keys(big.hashes)
                        self._cut(big, small, start, n)
                        after = _pair_keys(big.hashes) if len(big.hashes) >= 3 else set()
                        remove(big.index, before - after)
                        add(big.index, after - before)
                        break

    def _cut(self, big, small, start, n):
        first, last = big.lines[start], big.lines[start + n - 1]
        chars = sum(big.sizes[start:start + n])
        if big.keep is None:
            big.keep = list(range(big.count))
        for column in (big.hashes, big.lines, big.sizes, big.keep):
            del column[start:start + n]
        self.warnings.append(
            Notice(first, f"{big.label} 第{first}–{last}行（{chars}字）与 {small.label} 全文相同，"
                          f"已从{big.label}中移除，只作为{small.label}导入一次")
        )
        self.duplicates.append(Duplicate(big.label, small.label, 1.0, first, "contained"))

    # near duplicates: MinHash bands, then the exact Jaccard of the candidates -----------------------------

    def _remove_near_duplicates(self):
        """Each speech is a duplicate of the first earlier kept speech whose shingles have Jaccard similarity
        >= threshold (as comparing with every kept speech does); only speeches sharing a band are compared."""
        for fingerprint in self.prints:
            if fingerprint.keep is not None and fingerprint.hashes:
                self._store_bands(fingerprint.index, self._norm(fingerprint))
        groups, member_of = [], {}
        live = [bool(p.hashes) for p in self.prints]
        for band in self._bands:
            order = sorted((i for i in range(len(band)) if live[i]), key=band.__getitem__)
            start = 0
            for end in range(1, len(order) + 1):
                if end == len(order) or band[order[end]] != band[order[start]]:
                    if end - start > 1:
                        for i in order[start:end]:
                            member_of.setdefault(i, []).append(len(groups))
                        groups.append([])  # kept members, filled in file order below
                    start = end
        text_hash, sketches = self._bands[-1], self._sketches
        agree_at = ESTIMATE_AT * SKETCH
        cache = OrderedDict()

        def shingles_of(index):
            found = cache.get(index)
            if found is None:
                found = cache[index] = shingle_set(self._norm(self.prints[index]))
                if len(cache) > VERIFY_CACHE:
                    cache.popitem(last=False)
            else:
                cache.move_to_end(index)
            return found

        for index in sorted(member_of):
            fingerprint = self.prints[index]
            match = None
            for other in sorted(set(chain.from_iterable(groups[g] for g in member_of[index]))):
                if text_hash[other] == text_hash[index]:
                    similarity = 1.0
                elif sum(map(eq, sketches[index * SKETCH:(index + 1) * SKETCH],
                             sketches[other * SKETCH:(other + 1) * SKETCH])) < agree_at:
                    continue
                else:
                    self.verified += 1
                    similarity = jaccard(shingles_of(index), shingles_of(other))
                if similarity >= self.threshold:
                    match = (other, similarity)
                    break
            if match:
                fingerprint.duplicate = True
                original = self.prints[match[0]]
                self.duplicates.append(Duplicate(fingerprint.label, original.label, match[1], fingerprint.start_line))
            else:
                for g in member_of[index]:
                    groups[g].append(index)

    # second pass -----------------------------------------------------------------------------------------------

    def speeches(self):
        """The speeches to import, in file order, with blocks and metadata; one entry in memory at a time."""
        if self.source.changed():
            raise CorpusFormatError("文件在检查之后被改动过，请重新导入")
        prints = iter(self.prints)
        changed = "文件在导入过程中被改动过，请重新导入"
        entries = read_entries(self.source)
        while True:
            try:
                entry = next(entries, None)
                speeches = entry_speeches(entry, [])[0] if entry is not None else []
            except CorpusFormatError as exc:  # the first pass found none: the file is not the one checked
                raise CorpusFormatError(f"{changed}（{exc}）") from exc
            if entry is None:
                if next(prints, None) is not None:
                    raise CorpusFormatError(changed)
                return
            check = entry_hash(entry)
            for speech in speeches:
                fingerprint = next(prints, None)
                if fingerprint is None or fingerprint.entry_hash != check:
                    raise CorpusFormatError(changed, speech.start_line)
                if fingerprint.duplicate:
                    continue
                if fingerprint.keep is not None:
                    speech.paragraphs = [speech.paragraphs[k] for k in fingerprint.keep]
                if speech.paragraphs:
                    yield finish(speech)


def scan_corpus(source, threshold=0.85, progress=None) -> CorpusScan:
    """First pass over a corpus file path, or over decoded text."""
    if isinstance(source, str):
        source = TextLines(source)
    elif isinstance(source, Path):
        source = FileLines(source)
    return CorpusScan(source, threshold, progress)


def parse_corpus(text: str, threshold: float = 0.85) -> ParseResult:
    scan = scan_corpus(TextLines(text), threshold)
    return ParseResult(list(scan.speeches()), scan.duplicates, scan.warnings, scan.removed_lines)
