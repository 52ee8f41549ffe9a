import pytest


@pytest.fixture
def indexed_corpus(imported_corpus):
    """The real corpus imported and (re)built into the search index."""
    from django.core.management import call_command

    call_command("update_index", verbosity=0)
    return imported_corpus
