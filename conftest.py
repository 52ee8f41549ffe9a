import pytest
from django.conf import settings

CORPUS_FILE = settings.BASE_DIR / "corpus" / "000_1f37454ad7433800.txt"


@pytest.fixture
def home_page(db):
    from home.models import HomePage

    return HomePage.objects.get()


@pytest.fixture
def speech_index(home_page):
    from speeches.models import SpeechIndexPage

    index = SpeechIndexPage(title="讲话稿库", slug="speeches", show_in_menus=True)
    home_page.add_child(instance=index)
    index.save_revision().publish()
    return index


@pytest.fixture
def corpus_file():
    return CORPUS_FILE


@pytest.fixture
def imported_corpus(speech_index, corpus_file):
    from speeches.importing.writer import import_corpus

    return import_corpus(corpus_file, parent=speech_index)
