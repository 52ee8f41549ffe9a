"""modelsearch's backend contract suite (``BackendTests``) on the project's backend.

Wagtail's admin listings and choosers, API v2 ``?search=`` and snippets search through the generic API and rely
on it behaving as Wagtail's own backends do. The suite runs on whichever backend the run uses: the SQLite or
PostgreSQL jieba backend, or Elasticsearch under ``-p search.tests.es.plugin``. ``CONTRACT_BACKEND=stock`` runs
it on modelsearch's stock backend for the same database or server instead (with ``--runxfail``, to compare).
"""

import os
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.test import TestCase, override_settings
from wagtail.search import models as wagtail_search_models

from search.tests.es.plugin import CONTRACT_APP, es_config

# The suite imports modelsearch.models, which Wagtail replaces by wagtail.search.models (app label wagtailsearch).
sys.modules.setdefault("modelsearch.models", wagtail_search_models)

from modelsearch.tests.test_backends import BackendTests  # noqa: E402

FIXTURE = str(Path(__file__).parent / "fixtures" / "search.json")
STOCK = os.environ.get("CONTRACT_BACKEND") == "stock"
ON_ELASTICSEARCH = settings.WAGTAILSEARCH_BACKENDS["default"]["BACKEND"] == "search.backends.elasticsearch"


def backend_config():
    if ON_ELASTICSEARCH:
        from search.backends.elasticsearch import CLIENT_MAJOR

        config = es_config(os.environ["ELASTICSEARCH_URL"])
        if STOCK:
            config["default"]["BACKEND"] = f"modelsearch.backends.elasticsearch{CLIENT_MAJOR}"
        return config
    return {"default": {"BACKEND": "modelsearch.backends.database" if STOCK else "search.backends"}}


CONFIG = backend_config()


def uses_server(cls):
    # The plugin's server (version check, this session's indexes deleted at the end).
    return pytest.mark.usefixtures("es_url")(cls) if ON_ELASTICSEARCH else cls


@uses_server
@override_settings(WAGTAILSEARCH_BACKENDS=CONFIG, MODELSEARCH_BACKENDS=CONFIG)
class TestBackendContract(BackendTests, TestCase):
    backend_path = CONFIG["default"]["BACKEND"]
    fixtures = [FIXTURE]

    def setUp(self):
        # Each test starts from indexes holding exactly the fixture's objects, built by the rebuild command for the
        # contract models only (not the site's pages, images, …). On Elasticsearch, where creating indexes is the
        # slow part, later tests empty and refill the indexes the first one built.
        from modelsearch.index import get_indexed_models
        from modelsearch.management.commands import rebuild_modelsearch_index as command

        models = [model for model in get_indexed_models() if model._meta.app_label == CONTRACT_APP]
        if ON_ELASTICSEARCH and refill_elasticsearch(self, models):
            return
        with mock.patch.object(command, "get_indexed_models", lambda: models):
            super().setUp()


def refill_elasticsearch(test, models):
    """Empty the contract indexes and index the database's objects again; False if an index is missing."""
    from modelsearch.backends import get_search_backend

    backend = get_search_backend("default")
    es = backend.es
    indexes = {}
    for model in models:
        indexes.setdefault(backend.get_index_for_model(model).name, []).append(model)
    if not all(es.indices.exists_alias(name=name) for name in indexes):
        return False
    test.backend, test.backend_name = backend, "default"
    test.clear_index_entries()
    for name, index_models in indexes.items():
        hits = es.search(index=name, query={"match_all": {}}, size=10_000, source=False)["hits"]["hits"]
        if hits:
            es.bulk(operations=[{"delete": {"_index": hit["_index"], "_id": hit["_id"]}} for hit in hits])
        index = backend.get_index_for_model(index_models[0])
        for model in index_models:
            index.add_items(model, list(model.get_indexed_objects().order_by("pk")))
        index.refresh()
    return True
