"""Editor-managed words and synonyms: admin snippets, permissions, re-indexing and the cross-process version."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache

from search import analysis
from search.dictionary import VERSION_KEY, current_version
from search.models import SearchTerm, SynonymGroup
from speeches.models import SpeechPage

pytestmark = pytest.mark.django_db

TERM_ADD = "/admin/snippets/portal_search/searchterm/add/"
GROUP_ADD = "/admin/snippets/portal_search/synonymgroup/add/"


@pytest.fixture(autouse=True)
def fresh_analysis():
    analysis.reload()
    yield
    analysis.reload()


def _user(django_user_model, group_name, username):
    user = django_user_model.objects.create_user(username=username, password="pw-123456", email=f"{username}@x.cn")
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def moderator_client(client, django_user_model, home_page):
    client.force_login(_user(django_user_model, "审核", "shenhe"))
    return client


def result_titles(client, q):
    response = client.get("/api/search/", {"q": q, "page_size": 50})
    assert response.status_code == 200
    return {r["title"] for r in response.json()["results"]}


def pages_with(text):
    return {p.title for p in SpeechPage.objects.live() if text in p.title or text in str(p.body) or text in p.summary}


def _dictionary_perms(group):
    return set(Group.objects.get(name=group).permissions.filter(
        content_type__app_label="portal_search").values_list("codename", flat=True))


def test_editors_add_words_and_moderators_also_delete(home_page):
    models = ("searchterm", "synonymgroup")
    assert {f"{a}_{m}" for a in ("add", "change", "delete") for m in models} <= _dictionary_perms("审核")
    editors = _dictionary_perms("编辑")
    assert {f"{a}_{m}" for a in ("add", "change", "view") for m in models} <= editors
    assert not {f"delete_{m}" for m in models} & editors


def test_editor_adds_a_word_but_cannot_delete_it(client, django_user_model, home_page):
    client.force_login(_user(django_user_model, "编辑", "bianji"))
    assert client.get(TERM_ADD).status_code == 200
    response = client.post(TERM_ADD, {"word": "职工书屋", "note": ""})
    assert response.status_code == 302, response.content.decode()[:1000]
    term = SearchTerm.objects.get(word="职工书屋")
    delete = client.post(f"/admin/snippets/portal_search/searchterm/delete/{term.pk}/")
    assert delete.status_code in (302, 403) and SearchTerm.objects.filter(pk=term.pk).exists()


def test_menu_group_and_chinese_labels(moderator_client):
    html = moderator_client.get("/admin/").content.decode()
    # The sidebar menu is JSON inside the page (non-ASCII escaped).
    assert "search-dictionary" in html
    assert "搜索词库" in html or "搜索词库".encode("unicode_escape").decode() in html
    listing = moderator_client.get("/admin/snippets/portal_search/searchterm/").content.decode()
    assert "搜索词" in listing
    form = moderator_client.get(GROUP_ADD).content.decode()
    assert "同义词" in form


def test_admin_added_word_is_one_token_and_found(moderator_client, indexed_corpus):
    expected = pages_with("心理疏导")
    assert expected
    assert analysis.segment("心理疏导") != ["心理疏导"]
    version = current_version()

    response = moderator_client.post(TERM_ADD, {"word": "心理疏导"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert SearchTerm.objects.filter(word="心理疏导").exists()
    assert analysis.segment("心理疏导") == ["心理疏导"]
    assert current_version() > version
    # The query is now the single token 心理疏导: only a re-indexed page can match it.
    assert result_titles(moderator_client, "心理疏导") == expected


def test_admin_rejects_bad_words_and_changes_nothing(moderator_client, home_page):
    for bad in ("书", "职工 书屋", "长" * 21):
        response = moderator_client.post(TERM_ADD, {"word": bad})
        assert response.status_code == 200
        assert "词语" in response.content.decode() or "空格" in response.content.decode()
    assert not SearchTerm.objects.exists()
    SearchTerm.objects.create(word="心理疏导")
    response = moderator_client.post(TERM_ADD, {"word": "心理疏导"})
    assert response.status_code == 200 and SearchTerm.objects.count() == 1
    response = moderator_client.post(GROUP_ADD, {"words": "帮困", "note": ""})
    assert response.status_code == 200 and "至少需要两个" in response.content.decode()
    assert not SynonymGroup.objects.exists()


def test_admin_synonym_group_finds_pages(moderator_client, indexed_corpus):
    expected = pages_with("困难帮扶")
    assert expected
    assert result_titles(moderator_client, "帮困") == set()

    response = moderator_client.post(GROUP_ADD, {"words": "困难帮扶、帮困", "note": "测试"})
    assert response.status_code == 302, response.content.decode()[:2000]
    group = SynonymGroup.objects.get()
    assert group.word_list() == ["困难帮扶", "帮困"]
    assert expected <= result_titles(moderator_client, "帮困")

    group.delete()
    assert result_titles(moderator_client, "帮困") == set()


def test_word_list_separators():
    group = SynonymGroup(words="劳模 劳动模范、先进个人，标兵  劳模")
    assert group.word_list() == ["劳模", "劳动模范", "先进个人", "标兵"]


def test_other_process_sees_new_version(home_page, monkeypatch):
    """Another process bumped the version in the shared cache: this one reloads on its next check."""
    monkeypatch.setattr(analysis, "VERSION_CHECK_SECONDS", 0)
    analysis.segment("先热身")
    analysis.check_version()
    assert analysis.segment("心理疏导") != ["心理疏导"]
    # Written as another process would: the row and the version number, without this process's signals.
    SearchTerm.objects.bulk_create([SearchTerm(word="心理疏导")])
    assert analysis.segment("心理疏导") != ["心理疏导"]
    cache.set(VERSION_KEY, current_version() + 1, timeout=None)
    analysis.analyse_query("检查")
    assert analysis.segment("心理疏导") == ["心理疏导"]


def test_version_checked_at_most_every_few_seconds(home_page, monkeypatch):
    monkeypatch.setattr(analysis, "VERSION_CHECK_SECONDS", 3600)
    analysis.check_version()
    SearchTerm.objects.bulk_create([SearchTerm(word="心理疏导")])
    analysis.reload()  # loaded dictionary now includes the word
    assert analysis.segment("心理疏导") == ["心理疏导"]
    SearchTerm.objects.all().delete()  # queryset delete sends post_delete: reload + bump here
    assert analysis.segment("心理疏导") != ["心理疏导"]
