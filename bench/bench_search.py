"""make bench-search: 10,000 speeches recombined from the corpus's real paragraphs, indexed and queried.

Prints indexing throughput (MB of body text per second, and per CPU-second), query latency p50/p95 through
the JSON API's code path (segmentation, filters, facets, snippets), the same queries as a raw FTS5
``MATCH … ORDER BY bm25 LIMIT 10`` on the same index, and the ratio. SQLite (FTS5) only: the raw
comparison is an FTS5 statement. Page creation is excluded from the indexing time.
"""

import os
import random
import resource
import statistics
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _db  # noqa: E402

N_SPEECHES = int(os.environ.get("BENCH_SPEECHES", "10000"))
ROUNDS = 3
SEED = 20261125


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values, pct):
    values = sorted(values)
    k = (len(values) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def create_speeches(index, paragraphs, titles):
    """Insert pages in bulk (treebeard paths computed here); no search indexing happens."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction
    from django.utils import timezone
    from wagtail.models import Locale, Page

    from speeches.models import OrgLevel, Speaker, SpeechPage

    rng = random.Random(SEED)
    speakers = [Speaker.objects.create(name=name, post="主席", organisation="总工会")
                for name in ["张明", "李华", "王强", "赵敏", "陈静", "刘洋", "杨帆", "黄磊"]]
    ct = ContentType.objects.get_for_model(SpeechPage)
    locale = Locale.get_default()
    now = timezone.now()
    levels = OrgLevel.values + [""]
    local_fields = [f for f in SpeechPage._meta.local_concrete_fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in local_fields)
    placeholders = ", ".join(["%s"] * len(local_fields))
    insert = f"INSERT INTO {SpeechPage._meta.db_table} ({columns}) VALUES ({placeholders})"
    body_bytes = 0
    batch = 1000
    with transaction.atomic():
        for start in range(0, N_SPEECHES, batch):
            pages, speeches = [], []
            for i in range(start, min(start + batch, N_SPEECHES)):
                chosen = rng.sample(paragraphs, rng.randint(4, 12))
                body = [("paragraph", f"<p>{text}</p>") for text in chosen]
                body_bytes += sum(len(text.encode()) for text in chosen)
                title = f"{rng.choice(titles)}（{i + 1}）"
                slug = f"bench-{i + 1}"
                page = Page(
                    title=title, draft_title=title, slug=slug, content_type=ct, live=True, locale=locale,
                    path=index._get_path(index.path, index.depth + 1, i + 1), depth=index.depth + 1, numchild=0,
                    url_path=f"{index.url_path}{slug}/", translation_key=uuid.uuid4(), first_published_at=now,
                    last_published_at=now, has_unpublished_changes=False,
                )
                pages.append(page)
                year = rng.choice([2019, 2020, 2021, 2022, 2023, 2024, None])
                speeches.append(
                    dict(speaker=rng.choice(speakers + [None]), org_level=rng.choice(levels), body=body,
                         date_delivered=None if year is None else __import__("datetime").date(year, rng.randint(1, 12),
                                                                                              rng.randint(1, 28)))
                )
            Page.objects.bulk_create(pages)
            rows = []
            for page, fields in zip(pages, speeches, strict=True):
                speech = SpeechPage(page_ptr_id=page.pk, **fields)
                rows.append([f.get_db_prep_save(getattr(speech, f.attname), connection) for f in local_fields])
            with connection.cursor() as cursor:
                cursor.executemany(insert, rows)
        Page.objects.filter(pk=index.pk).update(numchild=N_SPEECHES)
    return body_bytes


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
        from search.service import parse_params, search_speeches
        from speeches.importing.corpus import decode, parse_corpus

        parsed = parse_corpus(decode((_db.ROOT / "corpus" / "000_1f37454ad7433800.txt").read_bytes()))
        paragraphs = [b["value"] for s in parsed.speeches for b in s.blocks if b["type"] == "paragraph"
                      and len(b["value"]) > 20]
        titles = [s.title for s in parsed.speeches]
        t0 = time.perf_counter()
        body_bytes = create_speeches(index, paragraphs, titles)
        print(f"生成 {N_SPEECHES} 篇讲话（{len(paragraphs)} 个真实段落重组），正文 {body_bytes / 1e6:.1f} MB，"
              f"建页 {time.perf_counter() - t0:.1f} s（不计入索引时间）")

        cpu0, t0 = cpu_seconds(), time.perf_counter()
        call_command("update_index", verbosity=0)
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
        mb = body_bytes / 1e6
        print(f"索引（update_index）：{wall:.1f} s，{mb / wall:.2f} MB/s；每核 {mb / cpu:.2f} MB/CPU·s "
              f"（本机 {os.cpu_count()} 核，单进程）")

        queries = [q for q, _ in QUERIES] + ["工会 职工", "服务卡 年度", '"工会工作"', "职工 权益 维护"]
        search_speeches(parse_params(QueryDict(mutable=True) | {"q": "工会"}), with_pages=False)  # warm-up (templates, site roots)
        api_times, raw_times = [], []
        from search.backends.common import IndexEntry

        fts = f"{IndexEntry._meta.db_table}_fts"
        raw_sql = f"SELECT rowid, bm25({fts}) AS r FROM {fts} WHERE {fts} MATCH %s ORDER BY r LIMIT 10"
        for _ in range(ROUNDS):
            for query in queries:
                t0 = time.perf_counter()
                data = search_speeches(parse_params(QueryDict(mutable=True) | {"q": query}), with_pages=False)
                api_times.append((time.perf_counter() - t0) * 1000)
                assert data["count"] >= 0
                expression = fts5_expression(analyse_query(query))
                t0 = time.perf_counter()
                with connection.cursor() as cursor:
                    cursor.execute(raw_sql, [f"{{title body}} : ({expression})"])
                    cursor.fetchall()
                raw_times.append((time.perf_counter() - t0) * 1000)
        api50, api95 = percentile(api_times, 50), percentile(api_times, 95)
        raw50, raw95 = percentile(raw_times, 50), percentile(raw_times, 95)
        print(f"查询 {len(queries)} 条 × {ROUNDS} 轮：")
        print(f"  JSON API 路径：p50 {api50:.1f} ms，p95 {api95:.1f} ms（均值 {statistics.mean(api_times):.1f} ms）")
        print(f"  原始 FTS5 MATCH：p50 {raw50:.2f} ms，p95 {raw95:.2f} ms")
        print(f"  比值（API/原始）：p50 {api50 / raw50:.1f}×，p95 {api95 / raw95:.1f}×")
    finally:
        drop()


if __name__ == "__main__":
    main()
