import pytest
from django.conf import settings

CORPUS_FILE = settings.BASE_DIR / "corpus" / "000_1f37454ad7433800.txt"


def rebuild_site_skeleton():
    """Recreate what the migrations made (root, home page, site, groups, workflow).

    pytest-django runs transactional tests (live_server) last and flushes the database after each,
    so the second of them starts without migration data."""
    from django.apps import apps as global_apps
    from wagtail.models import Collection, Locale, Page, Site

    from core.roles import ensure_roles
    from home.models import HomePage

    locale, _ = Locale.objects.get_or_create(language_code="zh-hans")
    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")
    root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root", slug="root", locale=locale))
    home = HomePage(title="工会宣传门户", slug="home", locale=locale)
    root.add_child(instance=home)
    Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "localhost", "root_page": home, "site_name": "工会宣传门户"}
    )
    ensure_roles(global_apps)
    from importlib import import_module

    from django.apps import apps

    import_module("merchants.migrations.0002_default_categories").create_categories(apps, None)
    return home


@pytest.fixture
def home_page(db):
    from home.models import HomePage

    return HomePage.objects.first() or rebuild_site_skeleton()


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
    from speeches.importers.writer import import_corpus

    return import_corpus(corpus_file, parent=speech_index)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; never a downloaded browser."""
    import os

    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "需要 Debian 的 chromium（运行 make services 安装）"
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def site_on_live_server(live_server, home_page):
    """Point the default Wagtail site at the live server so page URLs resolve there."""
    from wagtail.models import Site

    host, port = live_server.url.split("//")[1].split(":")
    Site.objects.filter(is_default_site=True).update(hostname=host, port=int(port))
    return live_server


@pytest.fixture
def indexed_corpus(imported_corpus):
    """The real corpus imported and (re)built into the search index."""
    from django.core.management import call_command

    call_command("update_index", verbosity=0)
    return imported_corpus


@pytest.fixture
def task_queue(transactional_db, home_page, tmp_path, settings):
    """Tasks go to the database queue; run them with core.tests.worker.run_worker() (the real db_worker).

    Transactional: the worker takes its own exclusive transaction, which SQLite cannot nest in a test's."""
    from core.tests.worker import database_tasks

    settings.JOB_FILES_DIR = tmp_path / "exports"
    with database_tasks():
        yield
