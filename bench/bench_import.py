"""Parts of make bench-search that go through the real importer and a real web worker.

- import_generated(index, n): writes n generated speeches in the corpus format (bench/corpus_file.py) and runs
  `manage.py import_speeches` on it (search index left to update_index, as for any large import).
- raw_index_limit(): one process doing only what update_index cannot avoid: rjieba search-mode analysis of the
  same title and body text (all of it) and an FTS5 insert of it (a scratch SQLite file, WAL, 500 rows a transaction).
- worker_memory(queries): a gunicorn worker serving /api/search/ for the query mix; its peak resident memory
  (VmHWM) and HTTP latency, and the size of this process's speech catalog.
"""

import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import _db
from corpus_file import pool, write_corpus

RAW_SAMPLE_MB = 50  # also reported: the raw limit over the first this many MB (what the benchmark measured before)


def import_generated(index, n):
    """(MB of speech text, MB of the file) after importing n generated speeches through import_speeches."""
    from django.core.management import call_command

    from speeches.models import SpeechPage

    folder = Path(tempfile.mkdtemp(prefix="bench-corpus-"))
    t0 = time.perf_counter()
    made = write_corpus(folder / "archive.txt", n)
    file_mb, text_mb = made.bytes / 1e6, made.text_bytes / 1e6
    print(f"生成语料文件 {n} 篇（{len(pool())} 个真实段落重组），{file_mb:.1f} MB（讲话正文 {text_mb:.1f} MB），"
          f"{time.perf_counter() - t0:.1f} s（不计入导入时间）")
    cpu0, t0 = _cpu_seconds(), time.perf_counter()
    call_command("import_speeches", str(made.path), "--no-index", verbosity=0)
    wall, cpu = time.perf_counter() - t0, _cpu_seconds() - cpu0
    count = SpeechPage.objects.child_of(index).count()
    print(f"导入（import_speeches --no-index）：{count} 篇，{wall:.1f} s，文件 {file_mb / wall:.2f} MB/s"
          f"（正文 {text_mb / wall:.2f} MB/s）；CPU {cpu:.1f} s，{file_mb / cpu:.2f} MB/CPU·s；"
          f"本进程内存峰值 {_peak_rss_mb():.0f} MB")
    made.path.unlink()
    folder.rmdir()
    return text_mb, file_mb


def _cpu_seconds():
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def raw_index_limit():
    """MB/s of analysis + FTS5 insert in this one process, on the speeches' own title and body text: all of it, and
    (as the benchmark measured before) its first RAW_SAMPLE_MB. Returns (MB, wall, CPU) for both."""
    from search.analysis import _analyse_for_index, check_version
    from speeches.models import SpeechPage

    check_version()
    texts, size, sample = [], 0, None
    for page in SpeechPage.objects.live().only("title", "body").iterator(chunk_size=2000):
        body = page.plain_text()
        texts.append((page.title, body, len(page.title.encode()) + len(body.encode())))
    folder = Path(tempfile.mkdtemp(prefix="bench-raw-"))
    db = sqlite3.connect(folder / "raw.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE VIRTUAL TABLE raw_fts USING fts5(autocomplete, body, title)")
    cpu0, t0 = _cpu_seconds(), time.perf_counter()
    for start in range(0, len(texts), 500):
        part = texts[start:start + 500]
        rows = [("", _analyse_for_index(body), _analyse_for_index(title)) for title, body, _size in part]
        db.execute("BEGIN")
        db.executemany("INSERT INTO raw_fts (autocomplete, body, title) VALUES (?, ?, ?)", rows)
        db.execute("COMMIT")
        size += sum(n for _t, _b, n in part)
        if sample is None and size >= RAW_SAMPLE_MB * 1e6:
            sample = (size / 1e6, time.perf_counter() - t0, _cpu_seconds() - cpu0)
    wall, cpu = time.perf_counter() - t0, _cpu_seconds() - cpu0
    db.close()
    for name in os.listdir(folder):
        os.unlink(folder / name)
    folder.rmdir()
    whole = (size / 1e6, wall, cpu)
    return whole, sample or whole


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid):
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _status_kb(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def worker_memory(queries, rounds=3):
    """Serve the query mix from one gunicorn worker; print its peak memory and HTTP latency."""
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(_db.ROOT), DJANGO_SETTINGS_MODULE="portal.settings.test")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--workers", "1", "--bind",
         f"127.0.0.1:{port}", "--timeout", "300", "--preload"],
        cwd=_db.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/api/search/?"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(base + urllib.parse.urlencode({"q": "工会"}), timeout=300) as response:
                    response.read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn 未能启动") from None
                time.sleep(0.5)
        workers = _children(server.pid)
        after_start = max(_status_kb(pid, "VmHWM") for pid in workers) / 1024
        times = []
        for round_number in range(rounds):
            for query in queries:
                params = {"q": query}
                if round_number == 1:
                    params["page"] = "2"
                t0 = time.perf_counter()
                with urllib.request.urlopen(base + urllib.parse.urlencode(params), timeout=300) as response:
                    response.read()
                times.append((time.perf_counter() - t0) * 1000)
        after_api = max(_status_kb(pid, "VmHWM") for pid in workers) / 1024
        # Speech pages as a visitor opens them: each renders its related speeches (cached afterwards).
        page_times = []
        for path in speech_paths():
            t0 = time.perf_counter()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=300) as response:
                response.read()
            page_times.append((time.perf_counter() - t0) * 1000)
        peak = max(_status_kb(pid, "VmHWM") for pid in workers) / 1024
        rss = max(_status_kb(pid, "VmRSS") for pid in workers) / 1024
        print(f"Web 工作进程（gunicorn，1 个）：峰值内存 VmHWM {peak:.0f} MB（第一次搜索后 {after_start:.0f} MB，"
              f"搜索之后 {after_api:.0f} MB，再打开 {len(page_times)} 篇讲话页之后 {peak:.0f} MB），当前 RSS {rss:.0f} MB；"
              f"HTTP /api/search/ {len(times)} 次 p50 {_db.percentile(times, 50):.1f} ms，"
              f"p95 {_db.percentile(times, 95):.1f} ms；讲话页（第一次，含相关讲话）p50 "
              f"{_db.percentile(page_times, 50):.0f} ms，最慢 {max(page_times):.0f} ms")
    finally:
        server.terminate()
        server.wait(30)


def speech_paths(n=8):
    """URL paths of n live speeches spread over the archive."""
    from speeches.models import SpeechPage

    pks = list(SpeechPage.objects.live().order_by("pk").values_list("pk", flat=True))
    chosen = pks[:: max(1, len(pks) // n)][:n]
    return [page.url for page in SpeechPage.objects.filter(pk__in=chosen)]


def deep_size(obj, seen=None):
    """Bytes held by obj and everything it refers to (each object counted once)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, list | tuple | set | frozenset):
        size += sum(deep_size(item, seen) for item in obj)
    elif hasattr(obj, "__dict__"):
        size += deep_size(vars(obj), seen)
    return size


def catalog_size():
    from speeches.search import catalog

    entries = sum(len(c.page) for c in catalog._catalogs.values())
    size = deep_size(catalog._catalogs)
    print(f"讲话目录（speeches/search/catalog.py，本进程）：{len(catalog._catalogs)} 份，{entries} 条，"
          f"约 {size / 1e6:.1f} MB（每篇 {size / max(entries, 1):.0f} 字节）")


def print_raw_limit(update_index_mb_s):
    (raw_mb, raw_wall, raw_cpu), (sample_mb, sample_wall, _cpu) = raw_index_limit()
    limit = raw_mb / raw_wall
    print(f"  原始上限（单进程：rjieba 搜索模式分词 + FTS5 插入，同样的全部标题与正文 {raw_mb:.1f} MB）：{limit:.2f} MB/s，"
          f"{raw_mb / raw_cpu:.2f} MB/CPU·s；update_index 为其 {update_index_mb_s / limit:.2f}×")
    if sample_mb < raw_mb:
        print(f"  （其中前 {sample_mb:.1f} MB 写入空表时：{sample_mb / sample_wall:.2f} MB/s，update_index 为其 "
              f"{update_index_mb_s * sample_wall / sample_mb:.2f}×）")


