"""Where a web worker's memory goes at BENCH_SPEECHES (default 100,000) speeches, step by step.

    BENCH_KEEP_DB=var/bench-100k BENCH_SPEECHES=100000 python bench/bench_memory.py [--no-gunicorn]

The first run imports the generated speeches through the real importer (bench/bench_import.py) and indexes them
with update_index, its analysis memoised per paragraph (the generated speeches recombine a few thousand real
paragraphs, so this takes minutes instead of most of an hour; the index holds the same tokens). With
BENCH_KEEP_DB the database is kept and later runs start at once. Then, in this process, each step's peak
resident memory (VmHWM reset before it through /proc/self/clear_refs) and its own allocations (tracemalloc,
with BENCH_TRACE=1): the catalog build, the suggestion prefix index, the first search, related speeches; the
suggestion latency; and a gunicorn worker serving the query mix (bench_import.worker_memory).
"""

import functools
import os
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _db  # noqa: E402
import bench_import  # noqa: E402

N_SPEECHES = int(os.environ.get("BENCH_SPEECHES", "100000"))
_db.N_SPEECHES = N_SPEECHES
TRACE = os.environ.get("BENCH_TRACE") == "1"


def status():
    """{field: MB} of this process's VmHWM, VmRSS, RssAnon and RssFile."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
            out[name] = int(value.split()[0]) / 1024
    return out


def reset_peak():
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def step(label, function):
    reset_peak()
    before = status()
    if TRACE:
        tracemalloc.start()
    t0 = time.perf_counter()
    result = function()
    wall = (time.perf_counter() - t0) * 1000
    traced = ""
    if TRACE:
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        traced = f"，Python 分配峰值 {peak / 1e6:.0f} MB"
    after = status()
    print(f"  {label}：{wall:.0f} ms；VmHWM {after['VmHWM']:.0f} MB（开始时 RSS {before['VmRSS']:.0f} MB，"
          f"峰值增加 {after['VmHWM'] - before['VmRSS']:.0f} MB），之后 RSS {after['VmRSS']:.0f} MB"
          f"（匿名 {after['RssAnon']:.0f} MB，文件映射 {after['RssFile']:.0f} MB）{traced}")
    return result


def fast_index():
    """update_index with analyse_many_for_index memoised per line (same tokens, a fraction of the time)."""
    from django.core.management import call_command

    from search import analysis
    from search.backends import common

    cached = functools.lru_cache(maxsize=None)(analysis._analyse_for_index)

    def analyse_many(texts):
        analysis.check_version()
        return [" ".join(cached(line) for line in text.split("\n") if line.strip()) if "\n" in text
                else cached(text) for text in texts]

    common.analyse_many_for_index = analyse_many
    t0 = time.perf_counter()
    call_command("update_index", verbosity=0)
    print(f"索引（update_index，分析按段落缓存）：{time.perf_counter() - t0:.0f} s，{cached.cache_info().currsize} 段")


def main():
    drop = _db.configure("sqlite", "memory_bench")
    try:
        index = _db.migrate_and_create_index()
        if _db.kept_database(N_SPEECHES):
            print(f"沿用已有数据库 {os.environ['SQLITE_PATH']}（{N_SPEECHES} 篇，已建索引）")
        else:
            bench_import.import_generated(index, N_SPEECHES)
            fast_index()
        run()
    finally:
        drop()


def run():
    from django.db import connections
    from django.http import QueryDict
    from django.test import RequestFactory
    from eval_queries import QUERIES

    from search import suggest
    from speeches.models import SpeechPage
    from speeches.search import catalog
    from speeches.search.related import related_speeches
    from speeches.search.service import parse_params, search_speeches
    from speeches.search.views import suggest_api

    connections.close_all()
    print(f"本进程（{N_SPEECHES} 篇）：")
    step("启动后", lambda: None)
    step("讲话目录（按索引条目）", lambda: catalog.speech_catalog(by_entry=True))
    step("讲话目录（按页面）", lambda: catalog.speech_catalog(by_entry=False))
    factory = RequestFactory()
    if hasattr(suggest, "build"):
        step("前缀键入库（build_suggestions 任务，全部来源）", lambda: [suggest.build(name) for name in suggest._sources])
    step("第一次输入提示（/api/search/suggest/?q=f）", lambda: suggest_api(factory.get("/api/search/suggest/", {"q": "f"})))
    step("前缀索引全部就绪", wait_for_suggestions)
    step("第一次搜索（工会）", lambda: search_speeches(parse_params(QueryDict(mutable=True) | {"q": "工会"}),
                                                   with_pages=False))
    page = SpeechPage.objects.live().order_by("pk")[N_SPEECHES // 2]
    step("相关讲话（一篇）", lambda: related_speeches(page))
    bench_import.catalog_size()
    suggestion_latency(factory, suggest_api)
    if hasattr(suggest, "_indexes"):
        print(f"前缀索引（进程内）：{sum(len(i.keys) for i in suggest._indexes.values())} 个键")
    else:
        from search.models import SuggestionKey, SuggestionText

        print(f"前缀键（数据库）：{SuggestionText.objects.count()} 条文字，{SuggestionKey.objects.count()} 个键")
    if "--no-gunicorn" not in sys.argv:
        queries = [q for q, _ in QUERIES] + ["工会 职工", "服务卡 年度", '"工会工作"', "职工 权益 维护"]
        bench_import.worker_memory(queries)


def wait_for_suggestions():
    from django.test import RequestFactory

    from speeches.search.views import suggest_api

    deadline = time.monotonic() + 600
    request = RequestFactory().get("/api/search/suggest/", {"q": "gonghui"})
    while time.monotonic() < deadline:
        suggest_api(request)
        if _ready():
            return
        time.sleep(0.2)


def _ready():
    from search import suggest

    ready = getattr(suggest, "ready", None)
    if ready is not None:
        return ready()
    return not suggest._rebuilding and all(name in suggest._indexes for name in suggest._sources)


def suggestion_latency(factory, suggest_api, rounds=3):
    typed = []
    for word in ["服务卡", "fuwuka", "职代会", "zhidaihui", "劳模", "laomo", "疗休养", "lxy", "工会", "gh",
                 "张明", "zhangming", "金秋助学", "jqzx", "在全省", "zq", "工会工作会议讲话内容篇一万"]:
        typed += [word[:n] for n in range(1, len(word) + 1)]
    times = []
    for _ in range(rounds):
        for prefix in typed:
            t0 = time.perf_counter()
            response = suggest_api(factory.get("/api/search/suggest/", {"q": prefix}))
            assert response.status_code == 200
            times.append((time.perf_counter() - t0) * 1000)
    print(f"输入提示 {len(typed)} 个前缀 × {rounds} 轮：p50 {_db.percentile(times, 50):.2f} ms，"
          f"p95 {_db.percentile(times, 95):.2f} ms，最慢 {max(times):.1f} ms")


if __name__ == "__main__":
    main()
