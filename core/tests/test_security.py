import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import override_settings


def run_manage(*args, **env):
    dropped = {"SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "ENROLMENT_KEY", "ENROLMENT_KEYS",
               "ENROLMENT_HASH_KEY", "LOCAL_HTTP", "EMAIL_BACKEND"}
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True
    )


def test_production_refuses_to_start_without_secret_key():
    result = run_manage("check", DJANGO_SETTINGS_MODULE="portal.settings.production")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "缺少环境变量" in result.stderr


def test_production_requires_enrolment_key():
    result = run_manage("check", DJANGO_SETTINGS_MODULE="portal.settings.production", SECRET_KEY="k" * 60)
    assert result.returncode != 0 and "ENROLMENT_KEY" in result.stderr


def test_check_deploy_is_clean(tmp_path):
    result = run_manage(  # own var/ directory: the key check reads stored enrolments, a dev database has some
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_SETTINGS_MODULE="portal.settings.production", SECRET_KEY="k" * 20 + "-Zq9!x" * 10,
        ENROLMENT_KEY="Qk5jZ3ZtZ1R4d2l3a0x4c2p6b2h1d2JmY2Zqb3F6a0c=", ENROLMENT_HASH_KEY="h" * 43,
        PORTAL_VAR_DIR=str(tmp_path), EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_the_console_mail_backend_unless_named(tmp_path):
    result = run_manage(
        "check", DJANGO_SETTINGS_MODULE="portal.settings.production", SECRET_KEY="k" * 20 + "-Zq9!x" * 10,
        ENROLMENT_KEY="Qk5jZ3ZtZ1R4d2l3a0x4c2p6b2h1d2JmY2Zqb3F6a0c=", ENROLMENT_HASH_KEY="h" * 43,
        PORTAL_VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0 and "EMAIL_BACKEND" in result.stderr


def test_security_headers_on_public_pages(client, home_page):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in response["Permissions-Policy"]


@override_settings(AXES_ENABLED=True)
def test_admin_login_is_throttled(client, db):
    user = get_user_model().objects.create_user("staff", password="correct-horse-battery")
    user.is_staff = True
    user.save()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post("/admin/login/", {"username": "staff", "password": "wrong"})
        assert response.status_code == 200
    assert client.post("/admin/login/", {"username": "staff", "password": "wrong"}).status_code == 429
    locked = client.post("/admin/login/", {"username": "staff", "password": "correct-horse-battery"})
    assert locked.status_code == 429
    assert "登录已暂时锁定" in locked.content.decode()


def test_weak_passwords_rejected(db):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ["12345678901", "password123", "short"]:
        with pytest.raises(ValidationError):
            validate_password(weak)


def test_request_log_is_one_line_without_query_string(client, home_page, caplog, settings):
    settings.MIDDLEWARE = ["core.middleware.RequestLogMiddleware"] + list(settings.MIDDLEWARE)
    with caplog.at_level(logging.INFO, logger="portal.requests"):
        client.get("/?q=110101199003074514")
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.requests"]
    assert len(lines) == 1
    method, path, status, duration = lines[0].split()
    assert (method, path, status) == ("GET", "/", "200") and duration.endswith("ms")
    assert "110101" not in lines[0]
