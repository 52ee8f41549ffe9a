"""Wagtail search backends (modelsearch database backends) that index and query jieba-segmented Chinese.

Both backends store space-separated tokens from ``analysis.analyse_for_index`` in the index, so SQLite's
``unicode61`` tokenizer and PostgreSQL's ``simple`` configuration see exactly the same words. Queries go
through ``analysis.analyse_query`` and are only ever passed to the database as bound parameters made of
letters and digits, so nothing a visitor types is syntax.

``SearchBackend(params)`` picks the SQLite or PostgreSQL flavour from the default database's vendor.
"""

from django.db import connections


def SearchBackend(params):  # noqa: N802 - modelsearch looks the backend up by this name
    if connections["default"].vendor == "postgresql":
        from search.backends.postgres import ChinesePostgresSearchBackend

        return ChinesePostgresSearchBackend(params)
    from search.backends.sqlite import ChineseSQLiteSearchBackend

    return ChineseSQLiteSearchBackend(params)
