"""make eval-search: MRR and recall@10 of the jieba backend and of Wagtail's default backend on the real corpus.

Each database (SQLite, then PostgreSQL if reachable) gets a throw-away database, the corpus is imported with
the importer, the index is rebuilt with each backend in turn, and the relevance set in eval_queries.py is run.
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
    drop = _db.configure(vendor, "search_eval")
    try:
        index = _db.migrate_and_create_index()
        from django.conf import settings
        from django.core.management import call_command
        from django.http import QueryDict
        from eval_queries import QUERIES

        from speeches.importing.writer import import_corpus
        from speeches.models import SpeechPage
        from speeches.search.service import parse_params, search_speeches

        import_corpus(_db.ROOT / "corpus" / "000_1f37454ad7433800.txt", parent=index)
        call_command("update_index", verbosity=0)

        def ours(query):
            params = parse_params(QueryDict(mutable=True) | {"q": query, "page_size": "50"})
            pages = search_speeches(params)["results"]
            return [p["url"].rstrip("/").rsplit("/", 1)[-1] for p in pages]

        def default(query):
            try:
                return [p.slug for p in SpeechPage.objects.live().search(query)[:50]]
            except Exception:  # the default backend raises on some input (e.g. unbalanced quotes)
                return []

        rows = {"jieba": [], "default": []}
        for name, fn in (("jieba", ours), ("default", default)):
            if name == "default":
                settings.WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
                call_command("update_index", verbosity=0)
            for query, relevant in QUERIES:
                rows[name].append((query, *metrics(fn(query), relevant)))
        print(f"\n== {vendor}: {len(QUERIES)} 条查询，语料 {SpeechPage.objects.live().count()} 篇讲话 ==")
        for name in ("jieba", "default"):
            mrr = sum(r[1] for r in rows[name]) / len(rows[name])
            recall = sum(r[2] for r in rows[name]) / len(rows[name])
            print(f"{vendor:10s} {name:8s} MRR={mrr:.3f} recall@10={recall:.3f}")
        misses = [r for r in rows["jieba"] if r[1] < 1 or r[2] < 1]
        for query, rr, recall in misses:
            print(f"   jieba 未满分：{query!r} RR={rr:.2f} recall@10={recall:.2f}")
    finally:
        drop()


def main():
    if len(sys.argv) > 1:
        run(sys.argv[1])
        return
    vendors = ["sqlite"] + (["postgresql"] if _db.pg_available() else [])
    if "postgresql" not in vendors:
        print("PostgreSQL 不可达，只评测 SQLite")
    for vendor in vendors:
        subprocess.run([sys.executable, __file__, vendor], check=True, env=os.environ.copy())


if __name__ == "__main__":
    main()
