"""make bench-search-es: 10,000 speeches recombined from the corpus's real paragraphs, on Elasticsearch.

Starts (or reuses) the test server with scripts/elasticsearch.sh unless ELASTICSEARCH_URL is set. Pages are
created in a throw-away SQLite database (not timed); then ``update_index`` bulk-indexes them into a new index and
switches the alias (timed: MB of body text per second), and a fixed query mix runs through Wagtail search as a
visitor's search does (query, count, year facet, page of 10, highlighted snippets): p50/p95. Also prints the same
figures for the SQLite FTS5 backend on the same pages.
"""

import datetime
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
N_SPEECHES = int(os.environ.get("BENCH_SPEECHES", "10000"))
ROUNDS = 3
SEED = 20261125
QUERIES = ["服务卡", "食堂", "师德", "工资集体协商", "职代会", "工会 职工", "服务卡 年度", '"工会工作"',
           "职工 权益 维护", "劳模", "困难职工 帮扶", "安全生产", "女职工", "农民工", "教育 培训", "送温暖"]


def percentile(values, pct):
    values = sorted(values)
    k = (len(values) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def setup():
    url = os.environ.get("ELASTICSEARCH_URL")
    if not url:
        url = subprocess.run(["bash", str(ROOT / "scripts" / "elasticsearch.sh"), "start"], check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()[-1]
    tmp = Path(tempfile.mkdtemp(prefix="es-bench-"))
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(SQLITE_PATH=str(tmp / "db.sqlite3"), PORTAL_VAR_DIR=str(tmp), LOG_LEVEL="WARNING",
                      DJANGO_SETTINGS_MODULE="portal.settings.test", ELASTICSEARCH_URL=url,
                      ELASTICSEARCH_INDEX_PREFIX=f"bench_{uuid.uuid4().hex[:6]}_")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return url


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
    locale, now = Locale.get_default(), timezone.now()
    levels = OrgLevel.values + [""]
    local_fields = list(SpeechPage._meta.local_concrete_fields)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in local_fields)
    insert = (f"INSERT INTO {SpeechPage._meta.db_table} ({columns}) "
              f"VALUES ({', '.join(['%s'] * len(local_fields))})")
    body_bytes = 0
    with transaction.atomic():
        for start in range(0, N_SPEECHES, 1000):
            pages, speeches = [], []
            for i in range(start, min(start + 1000, N_SPEECHES)):
                chosen = rng.sample(paragraphs, rng.randint(4, 12))
                body_bytes += sum(len(text.encode()) for text in chosen)
                title, slug = f"{rng.choice(titles)}（{i + 1}）", f"bench-{i + 1}"
                pages.append(Page(
                    title=title, draft_title=title, slug=slug, content_type=ct, live=True, locale=locale,
                    path=index._get_path(index.path, index.depth + 1, i + 1), depth=index.depth + 1, numchild=0,
                    url_path=f"{index.url_path}{slug}/", translation_key=uuid.uuid4(), first_published_at=now,
                    last_published_at=now, has_unpublished_changes=False,
                ))
                year = rng.choice([2019, 2020, 2021, 2022, 2023, 2024, None])
                speeches.append(dict(
                    speaker=rng.choice([*speakers, None]), org_level=rng.choice(levels),
                    body=[("paragraph", f"<p>{text}</p>") for text in chosen],
                    date_delivered=year and datetime.date(year, rng.randint(1, 12), rng.randint(1, 28)),
                ))
            Page.objects.bulk_create(pages)
            rows = []
            for page, fields in zip(pages, speeches, strict=True):
                speech = SpeechPage(page_ptr_id=page.pk, **fields)
                rows.append([f.get_db_prep_save(getattr(speech, f.attname), connection) for f in local_fields])
            with connection.cursor() as cursor:
                cursor.executemany(insert, rows)
        Page.objects.filter(pk=index.pk).update(numchild=N_SPEECHES)
    return body_bytes


def run_queries(backend_name):
    from wagtail.search.backends import get_search_backend

    from search.backends.elasticsearch import highlight
    from speeches.models import SpeechPage

    backend = get_search_backend(backend_name)
    times = []
    for round_no in range(ROUNDS + 1):
        for query in QUERIES:
            t0 = time.perf_counter()
            results = backend.search(query, SpeechPage.objects.live())
            results.count()
            results.facet("org_level")
            page = results[:10]
            list(page)
            highlight(page)
            if round_no:  # the first round warms caches
                times.append((time.perf_counter() - t0) * 1000)
    return percentile(times, 50), percentile(times, 95), statistics.mean(times)


def main():
    url = setup()
    from django.conf import settings
    from django.core.management import call_command
    from wagtail.search.backends import get_search_backend

    from home.models import HomePage
    from speeches.importing.corpus import decode, parse_corpus
    from speeches.models import SpeechIndexPage

    home = HomePage.objects.get()
    index = SpeechIndexPage(title="讲话稿库", slug="speeches")
    home.add_child(instance=index)
    parsed = parse_corpus(decode((ROOT / "corpus" / "000_1f37454ad7433800.txt").read_bytes()))
    paragraphs = [b["value"] for s in parsed.speeches for b in s.blocks
                  if b["type"] == "paragraph" and len(b["value"]) > 20]
    titles = [s.title for s in parsed.speeches]
    t0 = time.perf_counter()
    body_bytes = create_speeches(index, paragraphs, titles)
    mb = body_bytes / 1e6
    print(f"生成 {N_SPEECHES} 篇讲话（{len(paragraphs)} 个真实段落重组），正文 {mb:.1f} MB，"
          f"建页 {time.perf_counter() - t0:.1f} s（不计入索引时间）")

    es = get_search_backend()
    info = es.es.nodes.info(filter_path="nodes.*.version")
    version = next(iter(info["nodes"].values()))["version"]
    import elasticsearch

    print(f"Elasticsearch 服务器 {version}（{url}），Python 客户端 {elasticsearch.__versionstr__}")
    settings.WAGTAILSEARCH_BACKENDS["sqlite"] = {"BACKEND": "search.backends", "AUTO_UPDATE": False}
    t0 = time.perf_counter()
    call_command("update_index", backend_name="default", verbosity=0)
    wall = time.perf_counter() - t0
    print(f"Elasticsearch 索引（update_index，bulk + 别名切换）：{wall:.1f} s，{mb / wall:.2f} MB/s")
    t0 = time.perf_counter()
    call_command("update_index", backend_name="sqlite", verbosity=0)
    wall = time.perf_counter() - t0
    print(f"SQLite FTS5 索引（update_index）：{wall:.1f} s，{mb / wall:.2f} MB/s")

    print(f"查询 {len(QUERIES)} 条 × {ROUNDS} 轮（检索 + 计数 + 分面 + 前 10 条 + 高亮摘要）：")
    for name, label in (("default", "Elasticsearch"), ("sqlite", "SQLite FTS5")):
        p50, p95, mean = run_queries(name)
        print(f"  {label}：p50 {p50:.1f} ms，p95 {p95:.1f} ms（均值 {mean:.1f} ms）")
    alias = es.get_index_for_model(SpeechIndexPage)
    for index_obj in alias.aliased_indices():
        index_obj.delete()


if __name__ == "__main__":
    main()
