from search.tests.es.plugin import es_backend, es_url  # noqa: F401
