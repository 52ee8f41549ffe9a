"""make eval-search: MRR and recall@10 of the jieba backend and of Wagtail's default backend on the real corpus.

Each database (SQLite, then PostgreSQL if reachable; Elasticsearch too when ELASTICSEARCH_URL is set) gets a
throw-away database, the corpus is imported with the importer, the index is rebuilt with each backend in turn,
and both relevance sets in eval_queries.py are run (the original 50 queries, and the queries typed the way people
type). A query that finds nothing follows the search page's 「您是不是要找」 link when it offers one.
"""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _db  # noqa: E402


def metrics(ranked, relevant):
    rr = 0.0
    for position, slug in enumerate(ranked, 1):
        if slug in relevant:
            rr = 1.0 / position
            break
    recall = len(set(ranked[:10]) & set(relevant)) / len(relevant)
    return rr, recall


def run(vendor):
    engine = vendor
    if vendor == "elasticsearch":
        vendor = "sqlite"
    drop = _db.configure(vendor, "search_eval")
    try:
        index = _db.migrate_and_create_index()
        from django.conf import settings
        from django.core.management import call_command
        from django.http import QueryDict
        from eval_queries import FORGIVING_QUERIES, QUERIES

        from speeches.importers.writer import import_corpus
        from speeches.models import SpeechPage
        from speeches.search.service import parse_params, search_speeches
        try:
            from speeches.search.suggest import did_you_mean
        except ImportError:  # older code, to measure "before"
            def did_you_mean(query):
                return None

        if engine == "elasticsearch":
            from search.tests.es.plugin import es_config

            settings.WAGTAILSEARCH_BACKENDS = es_config(os.environ["ELASTICSEARCH_URL"], prefix="eval_search_")
        import_corpus(_db.ROOT / "corpus" / "000_1f37454ad7433800.txt", parent=index)
        call_command("update_index", verbosity=0)
        zero = {"jieba": [], "default": []}

        def ours(query):
            params = parse_params(QueryDict(mutable=True) | {"q": query, "page_size": "50"})
            pages = search_speeches(params)["results"]
            if not pages and did_you_mean(query) and did_you_mean(query) != query:
                return ours(did_you_mean(query))
            return [p["url"].rstrip("/").rsplit("/", 1)[-1] for p in pages]

        def default(query):
            try:
                return [p.slug for p in SpeechPage.objects.live().search(query)[:50]]
            except Exception:  # the default backend raises on some input (e.g. unbalanced quotes)
                return []

        sets = (("原有", QUERIES), ("输入习惯", FORGIVING_QUERIES))
        rows = {(name, label): [] for name in ("jieba", "default") for label, _queries in sets}
        for name, fn in (("jieba", ours), ("default", default)):
            if name == "default":
                if engine == "elasticsearch":
                    break
                settings.WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
                call_command("update_index", verbosity=0)
            for label, queries in sets:
                for query, relevant in queries:
                    ranked = fn(query)
                    if not ranked:
                        zero[name].append(query)
                    rows[name, label].append((query, *metrics(ranked, relevant)))
        print(f"\n== {engine}: 语料 {SpeechPage.objects.live().count()} 篇讲话 ==")
        for name in ("jieba", "default"):
            for label, queries in sets:
                if not rows[name, label]:
                    continue
                mrr = sum(r[1] for r in rows[name, label]) / len(queries)
                recall = sum(r[2] for r in rows[name, label]) / len(queries)
                print(f"{engine:13s} {name:8s} {label}（{len(queries)} 条） MRR={mrr:.3f} recall@10={recall:.3f}")
            if rows[name, sets[0][0]]:
                print(f"{engine:13s} {name:8s} 零结果查询 {len(zero[name])} 条" +
                      ("：" + "、".join(zero[name]) if zero[name] and name == "jieba" else ""))
        for label, _queries in sets:
            misses = [r for r in rows["jieba", label] if r[1] < 1 or r[2] < 1]
            for query, rr, recall in misses:
                print(f"   jieba 未满分（{label}）：{query!r} RR={rr:.2f} recall@10={recall:.2f}")
    finally:
        drop()


def main():
    if len(sys.argv) > 1:
        run(sys.argv[1])
        return
    vendors = ["sqlite"] + (["postgresql"] if _db.pg_available() else [])
    if "postgresql" not in vendors:
        print("PostgreSQL 不可达，只评测 SQLite")
    if os.environ.get("ELASTICSEARCH_URL"):
        vendors.append("elasticsearch")
    for vendor in vendors:
        subprocess.run([sys.executable, __file__, vendor], check=True, env=os.environ.copy())


if __name__ == "__main__":
    main()
