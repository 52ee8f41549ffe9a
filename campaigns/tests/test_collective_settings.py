"""The collective path's settings come from the environment; a bad value stops start-up with a Chinese message."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from portal.settings.base import env_rate, roster_dir

SHOW = ("from django.conf import settings; "
        "print(settings.ROSTER_DIR, settings.AGENT_LOGIN_IP_LIMIT, settings.ENROLMENT_LOOKUP_LIMITS)")


def run_shell(**env):
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment.update(DJANGO_SETTINGS_MODULE="portal.settings.test", **env)
    return subprocess.run([sys.executable, "manage.py", "shell", "-c", SHOW], cwd=settings.BASE_DIR,
                          env=environment, capture_output=True, text=True, timeout=300)


def test_defaults_are_the_documented_values(monkeypatch, tmp_path):
    for name in ("AGENT_LOGIN_IP_LIMIT", "ENROLMENT_LOOKUP_ADDRESS_LIMIT", "ENROLMENT_LOOKUP_REFERENCE_LIMIT",
                 "ROSTER_DIR"):
        monkeypatch.delenv(name, raising=False)
    assert env_rate("AGENT_LOGIN_IP_LIMIT", "30/900") == (30, 900)
    assert roster_dir(os.environ, tmp_path, {"MEDIA_ROOT": tmp_path / "media"}) == (tmp_path / "rosters").resolve()
    assert settings.AGENT_LOGIN_IP_LIMIT == (30, 900)
    assert settings.ENROLMENT_LOOKUP_LIMITS == {"address": (10, 600), "reference": (5, 3600)}


@pytest.mark.parametrize("value", ["abc", "10", "10/", "/600", "0/600", "10/0", "-1/600", "10/600/5", "1.5/60",
                                   "十/600"])
def test_a_bad_rate_is_refused_in_chinese(monkeypatch, value):
    monkeypatch.setenv("AGENT_LOGIN_IP_LIMIT", value)
    with pytest.raises(ImproperlyConfigured) as error:
        env_rate("AGENT_LOGIN_IP_LIMIT", "30/900")
    assert f"环境变量 AGENT_LOGIN_IP_LIMIT 的值“{value}”无效" in str(error.value)
    assert "次数/秒数" in str(error.value)


def test_a_rate_is_read_with_spaces_and_empty_means_default(monkeypatch):
    monkeypatch.setenv("ENROLMENT_LOOKUP_REFERENCE_LIMIT", " 8 / 1800 ")
    assert env_rate("ENROLMENT_LOOKUP_REFERENCE_LIMIT", "5/3600") == (8, 1800)
    monkeypatch.setenv("ENROLMENT_LOOKUP_REFERENCE_LIMIT", "  ")
    assert env_rate("ENROLMENT_LOOKUP_REFERENCE_LIMIT", "5/3600") == (5, 3600)


def test_roster_dir_may_not_be_public(tmp_path):
    media = tmp_path / "media"
    for inside in (media, media / "rosters"):
        with pytest.raises(ImproperlyConfigured) as error:
            roster_dir({"ROSTER_DIR": str(inside)}, tmp_path, {"MEDIA_ROOT": media})
        assert "不能位于 MEDIA_ROOT" in str(error.value) and "个人信息" in str(error.value)
    assert roster_dir({"ROSTER_DIR": str(tmp_path / "private")}, tmp_path, {"MEDIA_ROOT": media}) == (
        tmp_path / "private").resolve()


def test_the_settings_module_reads_the_environment(tmp_path):
    result = run_shell(ROSTER_DIR=str(tmp_path / "r"), AGENT_LOGIN_IP_LIMIT="7/60",
                       ENROLMENT_LOOKUP_ADDRESS_LIMIT="4/120", ENROLMENT_LOOKUP_REFERENCE_LIMIT="2/7200")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (f"{(tmp_path / 'r').resolve()} (7, 60) "
                                                      "{'address': (4, 120), 'reference': (2, 7200)}")


def test_a_bad_value_stops_start_up_with_its_name(tmp_path):
    result = run_shell(ENROLMENT_LOOKUP_ADDRESS_LIMIT="ten per minute")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "环境变量 ENROLMENT_LOOKUP_ADDRESS_LIMIT 的值“ten per minute”无效" in result.stderr
