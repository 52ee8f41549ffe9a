"""Scale-out on a real three-node Elasticsearch cluster (one replica): a node is SIGKILLed and restarted while
visitors search and while editors publish. Every answer must equal the answer before the crash, every write must
arrive, and the cluster must be green again afterwards. `make test-elasticsearch-cluster`.
"""

import datetime
import logging
import random
import threading
import time
import uuid

import pytest
from django.core.management import call_command
from wagtail.models import Page
from wagtail.search.backends import get_search_backend

from portal.settings.base import elasticsearch_backends
from search.backends.elasticsearch import replaced_docs
from search.tests.es.plugin import reset_indexes
from speeches.models import SpeechIndexPage, SpeechPage

pytestmark = [pytest.mark.es_cluster, pytest.mark.django_db]

GENERATED = 2000
DOWN_SECONDS = 12
# The portal's two search paths: the JSON API (ranking, filters, facets, snippets) and Wagtail's Page search.
QUERIES = [
    ("api", {"q": "工会"}),
    ("api", {"q": "职工 权益", "sort": "date"}),
    ("api", {"q": "服务", "page": "2"}),
    ("api", {"q": '"工会工作"'}),
    ("api", {"q": "安全生产", "level": "city"}),
    ("api", {"q": "困难职工 帮扶", "page_size": "50"}),
    ("pages", "职工"),
    ("pages", "劳动竞赛"),
    ("count", "工会"),
]


@pytest.fixture
def cluster_backend(es_cluster, settings, db):
    """The portal configured as a deployment would be: ELASTICSEARCH_URL lists all three nodes, one replica."""
    settings.WAGTAILSEARCH_BACKENDS = elasticsearch_backends({
        "ELASTICSEARCH_URL": ",".join(es_cluster.urls),
        "ELASTICSEARCH_REPLICAS": "1",
        "ELASTICSEARCH_INDEX_PREFIX": f"cluster_{uuid.uuid4().hex[:8]}_",
    })
    backend = get_search_backend()
    assert len(backend.es.transport.node_pool.all()) == 3
    reset_indexes(backend)
    yield backend
    for name in backend.es.indices.get(index=f"{backend.index_prefix}*", allow_no_indices=True):
        backend.es.indices.delete(index=name)


def generate_speeches(home, count):
    """`count` speeches recombined from the corpus's paragraphs, inserted in bulk (not indexed: update_index does)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.utils import timezone
    from wagtail.models import Locale

    from speeches.models import OrgLevel, Speaker

    paragraphs = sorted({block["value"] for page in SpeechPage.objects.all() for block in page.body.raw_data
                         if block["type"] == "paragraph" and len(block["value"]) > 40})
    assert len(paragraphs) > 50
    parent = SpeechIndexPage(title="生成的讲话稿", slug="generated")
    home.add_child(instance=parent)
    rng = random.Random(20261201)
    speakers = [Speaker.objects.create(name=name, post="主席", organisation="总工会")
                for name in ["张明", "李华", "王强"]]
    ct, locale, now = ContentType.objects.get_for_model(SpeechPage), Locale.get_default(), timezone.now()
    pages, extra = [], []
    for i in range(count):
        title, slug = f"生成讲话第{i + 1}篇", f"gen-{i + 1}"
        pages.append(Page(title=title, draft_title=title, slug=slug, content_type=ct, live=True, locale=locale,
                          path=parent._get_path(parent.path, parent.depth + 1, i + 1), depth=parent.depth + 1,
                          numchild=0, url_path=f"{parent.url_path}{slug}/", translation_key=uuid.uuid4(),
                          first_published_at=now, last_published_at=now))
        year = rng.choice([2020, 2021, 2022, 2023, 2024, None])
        extra.append(dict(speaker=rng.choice([*speakers, None]), org_level=rng.choice([*OrgLevel.values, ""]),
                          body=[("paragraph", text) for text in rng.sample(paragraphs, rng.randint(3, 8))],
                          date_delivered=year and datetime.date(year, rng.randint(1, 12), rng.randint(1, 28))))
    Page.objects.bulk_create(pages)
    fields = list(SpeechPage._meta.local_concrete_fields)
    rows = [[f.get_db_prep_save(getattr(SpeechPage(page_ptr_id=page.pk, **values), f.attname), connection)
             for f in fields] for page, values in zip(pages, extra, strict=True)]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {SpeechPage._meta.db_table} ({columns}) "
                           f"VALUES ({', '.join(['%s'] * len(fields))})", rows)
    Page.objects.filter(pk=parent.pk).update(numchild=count)


@pytest.fixture
def archive(cluster_backend, es_cluster, imported_corpus, home_page, report):
    generate_speeches(home_page, GENERATED)
    started = time.monotonic()
    call_command("update_index", verbosity=0)
    elapsed = time.monotonic() - started
    assert es_cluster.health("green", 120)["status"] == "green"
    pages = SpeechPage.objects.live().count()
    # Both copies without replaced documents, so they score alike (AtomicAliasRebuilder.finish).
    replaced = replaced_docs(cluster_backend.es, index_name(cluster_backend))
    report(f"讲话稿 {pages} 篇；update_index {elapsed:.1f} 秒（三节点，1 副本）；各分片副本中被替换的文档 {replaced}")
    assert len(replaced) == 2 and not any(replaced.values()), replaced
    return pages


def answer(client, kind, arg):
    """What a visitor gets: the JSON answer, or the found pages' ids in order, or the count."""
    if kind == "api":
        response = client.get("/api/search/", arg)
        assert response.status_code == 200, response.content[:300]
        return response.json()
    if kind == "pages":
        return [page.pk for page in Page.objects.live().search(arg)]
    return SpeechPage.objects.live().search(arg).count()


def difference(expected, got):
    """How an answer differs from the baseline, in a few words (ids, order, count, scores)."""
    if isinstance(expected, dict) and isinstance(got, dict):
        if expected.get("count") != got.get("count"):
            return f"count {expected.get('count')} -> {got.get('count')}"
        expected, got = expected.get("results", []), got.get("results", [])
        keys = [r["url"] for r in expected], [r["url"] for r in got]
        if keys[0] == keys[1]:
            fields = sorted({k for a, b in zip(expected, got, strict=True) for k in a if a[k] != b.get(k)})
            return f"same results in the same order; {', '.join(fields)} differ"
        expected, got = keys
    if isinstance(expected, list) and isinstance(got, list):
        missing, extra = [x for x in expected if x not in got], [x for x in got if x not in expected]
        if not missing and not extra:
            first = next(i for i, (a, b) in enumerate(zip(expected, got, strict=True)) if a != b)
            return f"same results, other order (first at {first})"
        return f"missing {missing[:5]}, extra {extra[:5]}"
    return f"{expected!r} -> {got!r}"[:200]


def index_name(backend):
    return backend.get_index_for_model(SpeechPage).name


def primary_node(es_cluster, backend):
    return next(node for prirep, node, _docs, _state in es_cluster.shards(index_name(backend)) if prirep == "p")


class Outage(threading.Thread):
    """SIGKILL a node, keep it down, restart it, wait for green; records when each step happened."""

    def __init__(self, cluster, victim, started):
        super().__init__(daemon=True)
        self.cluster, self.victim, self.started = cluster, victim, started
        self.times, self.error, self.done = {}, None, threading.Event()

    def run(self):
        try:
            self.started.wait(60)
            time.sleep(2)
            self.times["kill"] = time.monotonic()
            self.cluster.kill(self.victim)
            time.sleep(DOWN_SECONDS)
            self.times["restart"] = time.monotonic()
            self.cluster.restart(self.victim)
            self.times["joined"] = time.monotonic()
            self.health = self.cluster.health("green", 180)
            self.times["green"] = time.monotonic()
            time.sleep(2)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            self.times.setdefault("green", time.monotonic())
            self.done.set()

    def phase(self, moment):
        if moment < self.times.get("kill", float("inf")):
            return "before"
        if moment < self.times.get("joined", float("inf")):
            return "down"
        if moment < self.times.get("green", float("inf")):
            return "recovering"
        return "after"


def test_rebuild_leaves_both_copies_scoring_alike(es_cluster, cluster_backend, imported_corpus, report):
    """A bulk resent during update_index (after a lost connection) replaces documents; each copy would merge them away
    at its own moment and until then score differently. The rebuild ends with no replaced document on any copy."""
    index = cluster_backend.get_index_for_model(SpeechPage)
    rebuilder = cluster_backend.rebuilder_class(index)
    new = rebuilder.start()
    new.add_model(SpeechPage)
    pages = list(SpeechPage.get_indexed_objects().order_by("pk"))
    new.add_items(SpeechPage, pages)
    new.add_items(SpeechPage, pages[: len(pages) // 2])  # the resent bulk
    new.refresh()
    before = replaced_docs(cluster_backend.es, new.name)
    t0 = time.monotonic()
    rebuilder.finish()
    after = replaced_docs(cluster_backend.es, index_name(cluster_backend))
    report(f"重建时重发一批：被替换的文档 {before} -> {after}，合并用时 {time.monotonic() - t0:.1f} 秒")
    assert sum(before.values()) == 2 * (len(pages) // 2)  # both copies replaced them (the test's premise)
    assert len(after) == 2 and not any(after.values()), after
    es, name = cluster_backend.es, index_name(cluster_backend)
    nodes = [node for _prirep, node, _docs, _state in es_cluster.shards(name)]
    for words in ["工会", "职工 权益", "安全 生产 责任", "困难职工 帮扶"]:
        hits = {node: [(h["_id"], h["_score"]) for h in es.search(
            index=name, query={"match": {"_highlight": words}}, size=100, preference=f"_only_nodes:{node}",
            sort=[{"_score": "desc"}, {"pk": "asc"}], track_scores=True)["hits"]["hits"]] for node in nodes}
        assert hits[nodes[0]] and hits[nodes[0]] == hits[nodes[1]], words


def test_queries_survive_a_node_crash(es_cluster, cluster_backend, archive, client, report):
    baseline = {i: answer(client, kind, arg) for i, (kind, arg) in enumerate(QUERIES)}
    assert all(baseline.values()), "every query of the mix finds something"
    victim = primary_node(es_cluster, cluster_backend)
    master = es_cluster.master()

    started = threading.Event()
    outage = Outage(es_cluster, victim, started)
    outage.start()
    counts = {phase: {"total": 0, "failed": 0, "different": 0} for phase in ("before", "down", "recovering", "after")}
    slowest = dict.fromkeys(counts, 0.0)
    failures = []
    while not outage.done.is_set():
        for i, (kind, arg) in enumerate(QUERIES):
            t0 = time.monotonic()
            try:
                got = answer(client, kind, arg)
                outcome = "ok" if got == baseline[i] else "different"
                detail = difference(baseline[i], got) if outcome == "different" else ""
            except Exception as exc:  # noqa: BLE001 - every error is a failed query, reported below
                outcome, detail = "failed", repr(exc)[:300]
            phase = outage.phase(t0)
            counts[phase]["total"] += 1
            slowest[phase] = max(slowest[phase], time.monotonic() - t0)
            if outcome != "ok":
                counts[phase][outcome] += 1
                failures.append((phase, kind, arg, detail))
        started.set()
    outage.join(30)
    assert outage.error is None, outage.error

    total = {key: sum(c[key] for c in counts.values()) for key in ("total", "failed", "different")}
    report(f"杀掉 {victim}（主分片所在{'，也是主节点' if victim == master else ''}），停机 {DOWN_SECONDS} 秒，"
          f"重启后加入用时 {outage.times['joined'] - outage.times['restart']:.0f} 秒，"
          f"恢复为 green 再用 {outage.times['green'] - outage.times['joined']:.0f} 秒")
    for phase, c in counts.items():
        report(f"  {phase:<11} 查询 {c['total']:>5}，失败 {c['failed']}，结果不同 {c['different']}，"
              f"最慢 {slowest[phase] * 1000:.0f} ms")
    report(f"  合计 查询 {total['total']}，失败 {total['failed']}，结果不同 {total['different']}，"
          f"停机期间 {counts['down']['total']}")
    for failure in failures[:10]:
        report(f"  {failure}")
    assert not failures, failures[:5]
    assert counts["before"]["total"] >= len(QUERIES) and counts["down"]["total"] >= 3 * len(QUERIES)
    assert counts["recovering"]["total"] + counts["after"]["total"] >= len(QUERIES)
    assert outage.health["status"] == "green" and outage.health["number_of_nodes"] == 3
    shards = es_cluster.shards(index_name(cluster_backend))
    assert sorted(s[0] for s in shards) == ["p", "r"] and {s[3] for s in shards} == {"STARTED"}
    assert len({s[1] for s in shards}) == 2  # the copies are on two different nodes again


def test_writes_while_a_node_is_down(es_cluster, cluster_backend, archive, client, speech_index, caplog, report):
    from speeches.tests.factories import SpeechPageFactory

    victim = primary_node(es_cluster, cluster_backend)
    master = es_cluster.master()
    es_cluster.kill(victim)
    assert es_cluster.health()["status"] in ("yellow", "green")  # one copy of every shard is left

    # While the node is down: publish new speeches, edit existing ones, unpublish one, delete one.
    caplog.set_level(logging.WARNING, logger="elastic_transport")
    t0 = time.monotonic()
    run = uuid.uuid4().hex[:6]  # one token per page: nothing else matches it
    new = []
    for i in range(20):
        word = f"new{i:02d}x{run}"
        page = SpeechPageFactory(parent=speech_index, slug=f"down-new-{i}", title=f"节点停机时发布的讲话 {word}",
                                 body=[("paragraph", "<p>节点宕机时发布的讲话。</p>")])
        page.save_revision().publish()
        new.append((page.pk, word))
    edited = []
    for i, page in enumerate(SpeechPage.objects.live().filter(slug__startswith="gen-").order_by("pk")[:20]):
        word = f"edit{i:02d}x{run}"
        page.title = f"{page.title} {word}"
        page.save_revision().publish()
        edited.append((page.pk, word))
    gone = SpeechPage.objects.live().filter(slug__startswith="gen-").order_by("-pk")
    unpublished, deleted = gone[0], gone[1]
    unpublished.unpublish()
    deleted_pk = deleted.pk
    deleted.delete()
    write_seconds = time.monotonic() - t0
    # Searching still works while the node is down and already sees the new speeches.
    assert answer(client, "pages", new[0][1]) == [new[0][0]]
    down_retries = sum("Retrying request" in r.getMessage() for r in caplog.records)
    lost = [r.getMessage() for r in caplog.records if "Exception raised while" in r.getMessage()]

    es_cluster.restart(victim)
    health = es_cluster.health("green", 180)
    assert health["status"] == "green" and health["number_of_nodes"] == 3

    report(f"杀掉 {victim}（主分片所在{'，也是主节点' if victim == master else ''}）后写入：发布 {len(new)} 篇、"
          f"修改 {len(edited)} 篇、撤下 1 篇、删除 1 篇，用时 {write_seconds:.1f} 秒，客户端重试 {down_retries} 次")
    assert not lost, lost[:3]
    for pk, word in new + edited:
        assert answer(client, "pages", word) == [pk], word
        data = answer(client, "api", {"q": word})
        assert data["count"] == 1 and data["results"][0]["url"] == Page.objects.get(pk=pk).url
    assert unpublished.pk not in answer(client, "pages", unpublished.title)
    assert deleted_pk not in answer(client, "pages", deleted.title)

    # Nothing lost or doubled: each copy holds exactly the database's pages (ids), once each, live ones as live.
    es = cluster_backend.es
    name = index_name(cluster_backend)
    es.indices.refresh(index=name)
    pages = set(Page.objects.values_list("pk", flat=True))
    live = set(Page.objects.live().values_list("pk", flat=True))
    assert len(pages) < 10_000  # one request reads every id

    def ids(node, query=None):
        response = es.search(index=name, query=query or {"match_all": {}}, size=10_000, stored_fields=["pk"],
                             source=False, track_total_hits=True, preference=f"_only_nodes:{node}")
        found = [int(hit["fields"]["pk"][0]) for hit in response["hits"]["hits"]]
        assert response["hits"]["total"]["value"] == len(found)
        return found

    nodes = [node for _prirep, node, _docs, _state in es_cluster.shards(name)]
    copies = {node: ids(node) for node in nodes}
    report(f"  恢复后：页面 {len(pages)}（其中已发布 {len(live)}）；各副本文档数 "
           f"{ {node: len(found) for node, found in copies.items()} }，集群 {health['status']}")
    assert len(copies) == 2
    for node, found in copies.items():
        assert len(found) == len(set(found)), f"{node}：有重复文档"
        missing, extra = sorted(pages - set(found))[:10], sorted(set(found) - pages)[:10]
        assert set(found) == pages, f"{node}：缺 {missing}，多 {extra}"
        assert set(ids(node, {"term": {"live_filter": True}})) == live, node
    assert es.count(index=name)["count"] == len(pages)
