"""Admin users have one 姓名 field, stored whole in first_name and shown in Chinese order."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from wagtail.admin.utils import get_user_display_name

from core.roles import EDITORS

User = get_user_model()


@pytest.fixture
def superuser_client(client, db):
    client.force_login(User.objects.create_superuser("guanli", "guanli@example.org", "pw-1234567890"))
    return client


def new_user_data(**overrides):
    data = {"username": "ouyang", "email": "ouyang@example.org", "full_name": "欧阳建国",
            "password1": "Zhigong-2024-hao", "password2": "Zhigong-2024-hao",
            "groups": [Group.objects.get(name=EDITORS).pk]}
    data.update(overrides)
    return data


def test_create_form_has_one_name_field(superuser_client):
    html = superuser_client.get("/admin/users/new/").content.decode()
    assert 'name="full_name"' in html and "姓名" in html
    assert 'name="first_name"' not in html and 'name="last_name"' not in html


def test_create_user_stores_full_name(superuser_client):
    response = superuser_client.post("/admin/users/new/", new_user_data())
    assert response.status_code == 302
    user = User.objects.get(username="ouyang")
    assert (user.first_name, user.last_name) == ("欧阳建国", "")
    assert get_user_display_name(user) == "欧阳建国"
    assert user.groups.filter(name=EDITORS).exists()


def test_missing_name_is_refused_in_chinese(superuser_client):
    response = superuser_client.post("/admin/users/new/", new_user_data(full_name=""))
    assert response.status_code == 200
    assert "请填写姓名。" in response.content.decode()
    assert not User.objects.filter(username="ouyang").exists()


def test_edit_shows_an_older_western_name_in_chinese_order(superuser_client):
    user = User.objects.create_user("zhangwei", "zhangwei@example.org", "pw-1234567890", first_name="伟",
                                    last_name="张")
    html = superuser_client.get(f"/admin/users/edit/{user.pk}/").content.decode()
    assert 'value="张伟"' in html
    data = {"username": "zhangwei", "email": "zhangwei@example.org", "full_name": "张伟强", "is_active": "on",
            "password1": "", "password2": ""}
    assert superuser_client.post(f"/admin/users/edit/{user.pk}/", data).status_code == 302
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("张伟强", "")


def test_account_page_edits_the_same_name(client, db):
    user = User.objects.create_user("bianji", "bianji@example.org", "pw-1234567890", first_name="李四")
    user.groups.add(Group.objects.get(name=EDITORS))
    client.force_login(user)
    html = client.get("/admin/account/").content.decode()
    assert 'name="name_email-full_name"' in html and 'value="李四"' in html
    assert 'name="name_email-first_name"' not in html
    response = client.post("/admin/account/", {
        "name_email-full_name": "李四海", "name_email-email": "bianji@example.org",
        "locale-preferred_language": "zh-hans", "locale-current_time_zone": "Asia/Shanghai",
        "theme-theme": "system", "theme-density": "default", "theme-contrast": "system",
        "theme-keyboard_shortcuts": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("李四海", "")
