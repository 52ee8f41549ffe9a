"""make bench-search [N=10000]: speeches recombined from the corpus's real paragraphs, imported, indexed, queried.

Prints indexing throughput (MB of body text per second, and per CPU-second), query latency p50/p95 through
the JSON API's code path (segmentation, filters, facets, snippets), the same queries as a raw FTS5
``MATCH … ORDER BY bm25 LIMIT 10`` on the same index, and the ratio. SQLite (FTS5) only: the raw
comparison is an FTS5 statement. The speeches are written as a corpus file and imported with import_speeches
(bench/bench_import.py: import MB/s, the one-process raw indexing limit, a web worker's peak memory).
"""

import os
import resource
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _db  # noqa: E402
import bench_import  # noqa: E402

N_SPEECHES = _db.N_SPEECHES
ROUNDS = 3


def cpu_seconds():
    """CPU time of this process and of its finished children (update_index's analysis processes)."""
    return sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))




def main():
    drop = _db.configure("sqlite", "search_bench")
    try:
        index = _db.migrate_and_create_index()
        from django.core.management import call_command
        from django.db import connection
        from django.http import QueryDict
        from eval_queries import QUERIES

        from search.analysis import analyse_query
        from search.backends.sqlite import fts5_expression
        from speeches.search.service import parse_params, search_speeches

        mb, _file_mb = bench_import.import_generated(index, N_SPEECHES)

        cpu0, t0 = cpu_seconds(), time.perf_counter()
        call_command("update_index", verbosity=0)
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
        print(f"索引（update_index）：{wall:.1f} s，{mb / wall:.2f} MB/s；每核 {mb / cpu:.2f} MB/CPU·s "
              f"（本机 {os.cpu_count()} 核；分词分给每个核）")
        bench_import.print_raw_limit(mb / wall)

        queries = [q for q, _ in QUERIES] + ["工会 职工", "服务卡 年度", '"工会工作"', "职工 权益 维护"]
        from search.backends.common import IndexEntry

        fts = f"{IndexEntry._meta.db_table}_fts"
        raw_sql = f"SELECT rowid, bm25({fts}) AS r FROM {fts} WHERE {fts} MATCH %s ORDER BY r LIMIT 10"

        cpu = {"api": [], "raw": [], "cold api": [], "cold raw": [], "changed": []}  # CPU ms of this thread, beside wall ms

        def api(query, kind="api"):
            t0, c0 = time.perf_counter(), time.thread_time()
            data = search_speeches(parse_params(QueryDict(mutable=True) | {"q": query}), with_pages=False)
            assert data["count"] >= 0
            cpu[kind].append((time.thread_time() - c0) * 1000)
            return (time.perf_counter() - t0) * 1000

        def raw(query, kind="raw"):
            expression = fts5_expression(analyse_query(query))
            t0, c0 = time.perf_counter(), time.thread_time()
            with connection.cursor() as cursor:
                cursor.execute(raw_sql, [f"{{title body}} : ({expression})"])
                cursor.fetchall()
            cpu[kind].append((time.thread_time() - c0) * 1000)
            return (time.perf_counter() - t0) * 1000

        # The process's one-off work (catalog, site roots, compiled templates) happens on a query not in the mix.
        from search.backends import sqlite_tops

        threshold, sqlite_tops.MIN_MATCHES = sqlite_tops.MIN_MATCHES, 10**12
        search_speeches(parse_params(QueryDict(mutable=True) | {"q": "工会"}), with_pages=False)
        # Right after an index change no term scores are stored: every query is ranked by the full MATCH.
        changed = [api(query, "changed") for query in queries]
        # What the worker does when those searches ask for it (search.tasks.build_term_tops).
        broad = sorted({t for q in queries if search_speeches(parse_params(QueryDict(mutable=True) | {"q": q}),
                                                                 with_pages=False)["count"] >= threshold
                        for t in sqlite_tops.expression_terms(analyse_query(q))})
        t0 = time.perf_counter()
        sqlite_tops.build(broad)
        sqlite_tops.MIN_MATCHES = threshold
        print(f"常用词得分（search.tasks.build_term_tops，工作进程）：{len(broad)} 个词，{time.perf_counter() - t0:.1f} s；"
              f"索引刚变化、得分未建时 API p50 {_db.percentile(changed, 50):.1f} ms，"
              f"p95 {_db.percentile(changed, 95):.1f} ms")
        # First pass over every query: each path meets its query cold (the API path first, so the raw MATCH
        # finds the index pages the API has just read: this pass favours the raw figure).
        cold_api, cold_raw = [], []
        for query in queries:
            cold_api.append(api(query, "cold api"))
            cold_raw.append(raw(query, "cold raw"))
        # Timed rounds, steady state; which path goes first alternates from round to round.
        api_times, raw_times = [], []
        for round_number in range(ROUNDS):
            for query in queries:
                if round_number % 2:
                    raw_times.append(raw(query))
                    api_times.append(api(query))
                else:
                    api_times.append(api(query))
                    raw_times.append(raw(query))
        api50, api95 = _db.percentile(api_times, 50), _db.percentile(api_times, 95)
        raw50, raw95 = _db.percentile(raw_times, 50), _db.percentile(raw_times, 95)
        print(f"查询 {len(queries)} 条 × {ROUNDS} 轮：")
        print(f"  JSON API 路径：p50 {api50:.1f} ms，p95 {api95:.1f} ms（均值 {statistics.mean(api_times):.1f} ms）")
        print(f"  原始 FTS5 MATCH：p50 {raw50:.2f} ms，p95 {raw95:.2f} ms")
        print(f"  比值（API/原始）：p50 {api50 / raw50:.1f}×，p95 {api95 / raw95:.1f}×")
        print(f"  CPU 时间（本线程，不受机器负载影响）：API p50 {_db.percentile(cpu['api'], 50):.1f} ms，"
              f"p95 {_db.percentile(cpu['api'], 95):.1f} ms；原始 p50 {_db.percentile(cpu['raw'], 50):.2f} ms，"
              f"p95 {_db.percentile(cpu['raw'], 95):.2f} ms；比值 p50 "
              f"{_db.percentile(cpu['api'], 50) / _db.percentile(cpu['raw'], 50):.1f}×，p95 "
              f"{_db.percentile(cpu['api'], 95) / _db.percentile(cpu['raw'], 95):.1f}×"
              f"（首轮 {_db.percentile(cpu['cold api'], 50) / _db.percentile(cpu['cold raw'], 50):.1f}× / "
              f"{_db.percentile(cpu['cold api'], 95) / _db.percentile(cpu['cold raw'], 95):.1f}×）")
        c50, c95 = _db.percentile(cold_api, 50), _db.percentile(cold_api, 95)
        r50, r95 = _db.percentile(cold_raw, 50), _db.percentile(cold_raw, 95)
        print(f"  首轮（每条查询第一次）：API p50 {c50:.1f} ms，p95 {c95:.1f} ms；原始 p50 {r50:.2f} ms，"
              f"p95 {r95:.2f} ms；比值 p50 {c50 / r50:.1f}×，p95 {c95 / r95:.1f}×")

        # Suggestions as you type, through the view (version checks, prefix lookups, ranking, JSON).
        from django.test import RequestFactory

        from speeches.search.views import suggest_api

        typed = []
        for word in ["服务卡", "fuwuka", "职代会", "zhidaihui", "劳模", "laomo", "疗休养", "lxy", "工会", "gh",
                     "张明", "zhangming", "金秋助学", "jqzx", "在全省", "zq"]:
            typed += [word[:n] for n in range(1, len(word) + 1)]
        factory = RequestFactory()
        t0 = time.perf_counter()
        suggest_api(factory.get("/api/search/suggest/", {"q": "f"}))
        build = (time.perf_counter() - t0) * 1000
        times, cpus = {"first": [], "steady": []}, {"first": [], "steady": []}
        for round_number in range(ROUNDS + 1):
            for prefix in typed:
                t0, c0 = time.perf_counter(), time.thread_time()
                response = suggest_api(factory.get("/api/search/suggest/", {"q": prefix}))
                assert response.status_code == 200
                kind = "first" if round_number == 0 else "steady"
                times[kind].append((time.perf_counter() - t0) * 1000)
                cpus[kind].append((time.thread_time() - c0) * 1000)
        print(f"输入提示（/api/search/suggest/，{len(typed)} 个前缀，汉字与拼音；首次建立前缀索引 {build:.0f} ms，"
              "不计入）：")
        for kind, label in (("first", "每个前缀第一次"), ("steady", f"之后 {ROUNDS} 轮")):
            print(f"  {label}：p50 {_db.percentile(times[kind], 50):.2f} ms，p95 {_db.percentile(times[kind], 95):.2f} ms"
                  f"（CPU p50 {_db.percentile(cpus[kind], 50):.2f} ms，p95 {_db.percentile(cpus[kind], 95):.2f} ms）")
        bench_import.catalog_size()
        bench_import.worker_memory(queries)
    finally:
        drop()


if __name__ == "__main__":
    main()
