"""Pytest plugin: a real Elasticsearch server for the search tests.

``es_url`` starts the server with scripts/elasticsearch.sh (reusing a running one, or ELASTICSEARCH_URL); a server
that cannot be fetched or started fails the tests. ``es_backend`` points Wagtail search at it with a per-session
index prefix and gives every test empty indexes (the database rolls back between tests; the index must too).
Loaded by search/tests/es/conftest.py, and with ``-p search.tests.es.plugin`` when `make test-elasticsearch` runs
the shared search tests on Elasticsearch.
"""

import os
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PREFIX = f"test_{uuid.uuid4().hex[:8]}_"
# modelsearch's test models (search/tests/contract/): that suite builds their indexes itself.
CONTRACT_APP = "searchtests"


def es_config(url, prefix=PREFIX):
    return {
        "default": {
            "BACKEND": "search.backends.elasticsearch",
            "URLS": [url],
            "INDEX_PREFIX": prefix,
            "ATOMIC_REBUILD": True,
            "TIMEOUT": 30,
            "OPTIONS": {"max_retries": 0},
        }
    }


@pytest.fixture(scope="session")
def es_url():
    url = os.environ.get("ELASTICSEARCH_URL")
    if not url:
        proc = subprocess.run(["bash", str(ROOT / "scripts" / "elasticsearch.sh"), "start"], capture_output=True,
                              text=True, timeout=900)
        assert proc.returncode == 0, f"Elasticsearch 无法启动：\n{proc.stderr[-3000:]}"
        url = proc.stdout.strip().splitlines()[-1]
    from elasticsearch import Elasticsearch

    client = Elasticsearch(url, request_timeout=30)
    health = client.cluster.health(wait_for_status="yellow", timeout="60s")
    assert health["status"] in ("green", "yellow"), health
    # A 9.x server also answers an 8.x client (compatibility headers): make sure each run tests the pair it names.
    nodes = client.nodes.info(node_id="_local", filter_path="nodes.*.version")["nodes"]
    server = next(iter(nodes.values()))["version"]
    import elasticsearch

    assert server.split(".")[0] == elasticsearch.__versionstr__.split(".")[0], (
        f"Elasticsearch 服务器 {server} 与 Python 客户端 {elasticsearch.__versionstr__} 主版本不一致")
    yield url
    indices = client.indices.get(index=f"{PREFIX}*", allow_no_indices=True, expand_wildcards="all")
    for name in indices:
        client.indices.delete(index=name)


def reset_indexes(backend):
    """Delete this session's indexes and create empty ones (with the Chinese mapping) under the alias names."""
    from modelsearch.index import get_indexed_models

    es = backend.es
    for name in es.indices.get(index=f"{backend.index_prefix}*", allow_no_indices=True, expand_wildcards="all"):
        es.indices.delete(index=name)
    created = set()
    for model in get_indexed_models():
        if model._meta.app_label == CONTRACT_APP:
            continue
        index = backend.get_index_for_model(model)
        if index.name not in created:
            index.put()
            created.add(index.name)
        index.add_model(model)


@pytest.fixture
def es_backend(es_url, settings, db):
    from wagtail.search.backends import get_search_backend

    settings.WAGTAILSEARCH_BACKENDS = es_config(es_url)
    backend = get_search_backend()
    reset_indexes(backend)
    return backend


def pytest_collection_modifyitems(config, items):
    # With -p search.tests.es.plugin every database-backed test runs on Elasticsearch.
    if config.pluginmanager.has_plugin("search.tests.es.plugin"):
        for item in items:
            if "db" in getattr(item, "fixturenames", ()) or item.get_closest_marker("django_db"):
                item.fixturenames.insert(0, "es_backend")  # before fixtures that index
