"""make bench-search-es: 10,000 speeches recombined from the corpus's real paragraphs, on Elasticsearch.

Starts (or reuses) the test server with scripts/elasticsearch.sh unless ELASTICSEARCH_URL is set. Pages are
created in a throw-away SQLite database (not timed); then ``update_index`` bulk-indexes them into a new index and
switches the alias (timed: MB of body text per second), and a fixed query mix runs through Wagtail search as a
visitor's search does (query, count, year facet, page of 10, highlighted snippets): p50/p95. Also prints the same
figures for the SQLite FTS5 backend on the same pages.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _db import N_SPEECHES, generate_speeches, percentile  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 3
QUERIES = ["服务卡", "食堂", "师德", "工资集体协商", "职代会", "工会 职工", "服务卡 年度", '"工会工作"',
           "职工 权益 维护", "劳模", "困难职工 帮扶", "安全生产", "女职工", "农民工", "教育 培训", "送温暖"]


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
    from speeches.models import SpeechIndexPage

    home = HomePage.objects.get()
    index = SpeechIndexPage(title="讲话稿库", slug="speeches")
    home.add_child(instance=index)
    mb, n_paragraphs, seconds = generate_speeches(index)
    print(f"生成 {N_SPEECHES} 篇讲话（{n_paragraphs} 个真实段落重组），正文 {mb:.1f} MB，"
          f"建页 {seconds:.1f} s（不计入索引时间）")

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
