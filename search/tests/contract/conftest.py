from search.tests.es.plugin import es_url  # noqa: F401
