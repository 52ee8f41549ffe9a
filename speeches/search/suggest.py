"""Suggestions as you type: speech titles, speakers and dictionary terms (sources of search.suggest)."""

from search import suggest as library
from search.analysis import clean_text, synonyms, user_dictionary_entries
from speeches.models import Speaker, SpeechPage

MAX_SUGGESTIONS = library.MAX_SUGGESTIONS


def _catalog_token():
    from speeches.search.catalog import current_token

    return current_token()


def _titles():
    return SpeechPage.objects.live().public().values_list("title", flat=True)


def _speakers():
    return Speaker.objects.values_list("name", flat=True)


def register_sources():
    """Speech titles and speaker names, rebuilt when the speech catalog token changes (database triggers)."""
    library.register_source("speech-titles", "title", "讲话稿", _titles, _catalog_token, priority=40)
    library.register_source("speakers", "speaker", "讲话人", _speakers, _catalog_token, priority=20)


def dictionary_terms(prefix, limit=MAX_SUGGESTIONS):
    """Union dictionary and synonym words starting with (then containing) the text."""
    prefix = clean_text(prefix).strip().lower()
    if not prefix:
        return []
    words = {entry[0] for entry in user_dictionary_entries()} | set(synonyms())
    starts = sorted((w for w in words if w.startswith(prefix)), key=lambda w: (len(w), w))
    contains = sorted((w for w in words if prefix in w and not w.startswith(prefix)), key=lambda w: (len(w), w))
    return (starts + contains)[:limit]


def suggestions(text, limit=MAX_SUGGESTIONS):
    return library.suggest(text, limit)


def did_you_mean(text):
    return library.did_you_mean(text)
