"""Suggestions as you type: speech titles, speakers and dictionary terms."""

from search.analysis import clean_text, synonyms, user_dictionary_entries
from speeches.models import Speaker, SpeechPage

MAX_SUGGESTIONS = 10


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
    text = clean_text(text).strip()[:50]
    if not text:
        return []
    out = []
    for title in (
        SpeechPage.objects.live().public().filter(title__icontains=text).order_by("-first_published_at")
        .values_list("title", flat=True)[:limit]
    ):
        out.append({"kind": "title", "label": "讲话稿", "text": title})
    for name in Speaker.objects.filter(name__icontains=text).values_list("name", flat=True)[:limit]:
        out.append({"kind": "speaker", "label": "讲话人", "text": name})
    for term in dictionary_terms(text, limit):
        out.append({"kind": "term", "label": "关键词", "text": term})
    seen, unique = set(), []
    for item in out:
        if item["text"] not in seen:
            seen.add(item["text"])
            unique.append(item)
    return unique[:limit]
