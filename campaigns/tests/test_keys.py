"""Keys fail loudly and rotate safely: system checks, rotation, rehashing, decryption errors shown to staff."""

import csv
import hashlib
import hmac
import io
import logging
import os
import subprocess
import sys
from importlib import import_module

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.urls import reverse

from campaigns import crypto
from campaigns.exports import EXPORT_COLUMNS
from campaigns.idcard import make_id_number
from campaigns.models import Enrolment
from campaigns.tests.conftest import VALID_ID, VALID_ID_X, export_file, mutual_aid_data
from campaigns.tests.test_admin import staff_user
from core.models import BackgroundJob

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
HASH_KEY = "h" * 20 + "Zq9-x" * 5


@pytest.fixture
def old_key(settings):
    settings.ENROLMENT_KEYS = ""
    settings.ENROLMENT_KEY = OLD
    settings.ENROLMENT_HASH_KEY = HASH_KEY
    return settings


def enrol(client, campaign, count, **overrides):
    for n in range(count):
        data = mutual_aid_data(id_number=make_id_number(f"4201061990{n + 1:02d}20123"), name=f"职工{n}") | overrides
        assert client.post(campaign.url, data, REMOTE_ADDR=f"10.4.0.{n}").status_code == 302


def check_errors():
    try:
        call_command("check", stdout=io.StringIO(), stderr=io.StringIO())
    except SystemCheckError as error:
        return str(error)
    return ""


def run_manage(tmp_path, *args, **env):
    dropped = {"SECRET_KEY", "DATABASE_URL", "ENROLMENT_KEY", "ENROLMENT_KEYS", "ENROLMENT_HASH_KEY", "LOCAL_HTTP",
               "DJANGO_ALLOW_ASYNC_UNSAFE"}  # browser tests set it in this process
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    # a mail backend named, as production requires; these tests are about the keys
    environment.update(PORTAL_VAR_DIR=str(tmp_path), EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                       **env)
    from django.conf import settings

    return subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=environment,
                          capture_output=True, text=True)


# malformed keys stop start-up

@pytest.mark.parametrize("name,value,message", [
    ("ENROLMENT_KEY", "not-a-fernet-key", "ENROLMENT_KEY不是有效的 Fernet 密钥"),
    ("ENROLMENT_KEYS", f"{NEW},{OLD[:-4]}", "ENROLMENT_KEYS中第 2 个密钥不是有效的 Fernet 密钥"),
    ("ENROLMENT_KEYS", f"{NEW},", "ENROLMENT_KEYS中第 2 个密钥不是有效的 Fernet 密钥"),
    ("ENROLMENT_HASH_KEY", "short", "ENROLMENT_HASH_KEY 至少需要 32 个可打印的 ASCII 字符"),
])
def test_malformed_key_is_a_check_error(old_key, name, value, message):
    setattr(old_key, name, value)
    assert message in check_errors()


@pytest.mark.parametrize("settings_module,args", [("portal.settings.test", ["check"]),
                                                   ("portal.settings.production", ["check", "--deploy"])])
def test_malformed_key_stops_manage_check(tmp_path, settings_module, args):
    result = run_manage(tmp_path, *args, DJANGO_SETTINGS_MODULE=settings_module, SECRET_KEY="k" * 20 + "-Zq9!x" * 10,
                        ENROLMENT_KEY="Zm9vYmFy", ENROLMENT_HASH_KEY=HASH_KEY)
    assert result.returncode != 0
    assert "campaigns.E001" in result.stderr and "ENROLMENT_KEY不是有效的 Fernet 密钥" in result.stderr
    result = run_manage(tmp_path, *args, DJANGO_SETTINGS_MODULE=settings_module, SECRET_KEY="k" * 20 + "-Zq9!x" * 10,
                        ENROLMENT_KEY=OLD, ENROLMENT_HASH_KEY=HASH_KEY)
    assert result.returncode == 0, result.stderr


def test_production_requires_the_hash_key(tmp_path):
    result = run_manage(tmp_path, "check", DJANGO_SETTINGS_MODULE="portal.settings.production",
                        SECRET_KEY="k" * 60, ENROLMENT_KEYS=f"{NEW},{OLD}")
    assert result.returncode != 0 and "缺少环境变量 ENROLMENT_HASH_KEY" in result.stderr
    result = run_manage(tmp_path, "check", DJANGO_SETTINGS_MODULE="portal.settings.production",
                        SECRET_KEY="k" * 60, ENROLMENT_HASH_KEY=HASH_KEY)
    assert result.returncode != 0 and "ENROLMENT_KEYS 或 ENROLMENT_KEY" in result.stderr


# keys that cannot read the stored data

def test_wrong_key_with_existing_data_is_a_check_error(client, campaign, old_key):
    assert check_errors() == ""  # no rows yet: any well-formed key will do
    old_key.ENROLMENT_KEY = NEW
    assert check_errors() == ""
    enrol(client, campaign, 2)
    assert check_errors() == ""
    old_key.ENROLMENT_KEY = OLD
    errors = check_errors()
    assert "campaigns.E003" in errors and "无法解密数据库中已存储的身份证号" in errors
    old_key.ENROLMENT_KEYS = f"{OLD},{NEW}"  # the old key kept beside the new one reads them again
    assert check_errors() == ""


def test_wrong_hash_key_with_existing_data_is_a_check_error(client, campaign, old_key):
    enrol(client, campaign, 1)
    old_key.ENROLMENT_HASH_KEY = "other" + HASH_KEY
    errors = check_errors()
    assert "campaigns.E004" in errors and "重复报名检测将失效" in errors


# rotation

def test_rotation_reencrypts_and_old_data_stays_readable(client, campaign, old_key, django_user_model):
    enrol(client, campaign, 5)
    tokens = dict(Enrolment.objects.values_list("pk", "id_number_encrypted"))
    numbers = {e.pk: e.id_number for e in Enrolment.objects.all()}
    old_key.ENROLMENT_KEYS = f"{NEW},{OLD}"
    out = io.StringIO()
    call_command("rotate_enrolment_key", batch_size=2, stdout=out)
    lines = out.getvalue().splitlines()
    assert "已检查 2/5 行" in lines[1] and "已检查 4/5 行" in lines[2]
    assert "已检查 5/5 行，本次重新加密 5 行" in lines[3]
    for pk, token in Enrolment.objects.values_list("pk", "id_number_encrypted"):
        assert token != tokens[pk] and Fernet(NEW.encode()).decrypt(token.encode()).decode() == numbers[pk]
    # interrupted and started again: rows already under the newest key are skipped
    enrol(client, campaign, 1, id_number=VALID_ID_X, name="后来者")
    Enrolment.objects.filter(name="后来者").update(id_number_encrypted=Fernet(OLD.encode()).encrypt(
        VALID_ID_X.encode()).decode())
    out = io.StringIO()
    call_command("rotate_enrolment_key", stdout=out)
    assert "已检查 6/6 行，本次重新加密 1 行" in out.getvalue()
    # the old key dropped: everything readable, duplicates still detected, the checks pass
    old_key.ENROLMENT_KEYS = NEW
    old_key.ENROLMENT_KEY = ""
    assert check_errors() == ""
    assert {e.pk: e.id_number for e in Enrolment.objects.exclude(name="后来者")} == numbers
    response = client.post(campaign.url, mutual_aid_data(id_number=numbers[min(numbers)], name="职工0"),
                           REMOTE_ADDR="10.4.1.1")
    assert response.status_code == 409 and "该身份证号已在本活动报名" in response.content.decode()
    officer = staff_user(django_user_model, "officer", "campaigns.view_id_number")
    client.force_login(officer)
    body = export_file("csv").decode("utf-8-sig")
    assert sorted(row[4].lstrip("\t") for row in  # ID numbers open in Excel as text
            list(csv.reader(io.StringIO(body)))[1:]) == sorted([*numbers.values(), VALID_ID_X])


def test_rotation_reports_rows_no_key_can_read(client, campaign, old_key):
    enrol(client, campaign, 2)
    stray = Enrolment.objects.order_by("pk").first()
    Enrolment.objects.filter(pk=stray.pk).update(
        id_number_encrypted=Fernet(Fernet.generate_key()).encrypt(b"x").decode())
    old_key.ENROLMENT_KEYS = f"{NEW},{OLD}"
    with pytest.raises(CommandError) as error:
        call_command("rotate_enrolment_key", stdout=io.StringIO())
    assert f"1 行无法用任何已配置的密钥解密（报名记录 id：{stray.pk}）" in str(error.value)
    other = Enrolment.objects.exclude(pk=stray.pk).get()
    assert crypto.is_current(other.id_number_encrypted)  # the readable row was still rotated


# hashes: own key, recomputed after a change and from the old scheme

def test_rehash_command_restores_duplicate_detection(client, campaign, old_key):
    enrol(client, campaign, 3)
    old_key.ENROLMENT_HASH_KEY = "new-" + HASH_KEY
    assert "campaigns.E004" in check_errors()
    out = io.StringIO()
    call_command("rehash_enrolments", batch_size=2, stdout=out)
    assert "已检查 3/3 行，本次更新摘要 3 行" in out.getvalue()
    assert check_errors() == ""
    out = io.StringIO()
    call_command("rehash_enrolments", stdout=out)
    assert "本次更新摘要 0 行" in out.getvalue()
    data = mutual_aid_data(id_number=make_id_number("42010619900120123"), name="职工0")
    assert client.post(campaign.url, data, REMOTE_ADDR="10.4.1.1").status_code == 409


def legacy_hash(number):
    """The hash the previous code stored: derived from the encryption key."""
    derived = hmac.new(OLD.encode(), b"campaigns.id-number-lookup", hashlib.sha256).digest()
    return hmac.new(derived, number.encode(), hashlib.sha256).hexdigest()


def test_data_migration_recomputes_legacy_hashes(client, campaign, old_key):
    full_width = VALID_ID.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    legacy = (("张三", full_width), ("张三", VALID_ID), ("李四", VALID_ID_X))  # as the previous code stored them
    for n, (name, number) in enumerate(legacy, 1):
        row = Enrolment(campaign=campaign, block_id="b", form_kind="mutual_aid", form_title="报名", name=name,
                        mobile="13812345678", employer="单位", branch="工会", reference=f"HZ-2026-{n:06d}")
        row.id_number_encrypted = Fernet(OLD.encode()).encrypt(number.encode()).decode()
        row.id_number_hash, row.id_number_masked = legacy_hash(number), number[:4] + "*" * 10 + number[-4:]
        row.save()
    import_module("campaigns.migrations.0003_rehash_id_numbers").rehash(apps, None)
    first, second, third = Enrolment.objects.order_by("pk")
    assert first.id_number == second.id_number == VALID_ID and first.id_number_masked == second.id_number_masked
    assert first.conflict_of is None and second.conflict_of == first and second.status == "conflict"
    assert third.id_number_hash == crypto.lookup_hash(VALID_ID_X)
    assert check_errors() == ""
    response = client.post(campaign.url, mutual_aid_data(), REMOTE_ADDR="10.4.1.1")
    assert response.status_code == 409
    response = client.post(campaign.url, mutual_aid_data(id_number=VALID_ID_X.lower(), name="李四"),
                           REMOTE_ADDR="10.4.1.2")
    assert response.status_code == 409
    assert Enrolment.objects.count() == 3


def test_data_migration_refuses_unreadable_rows(client, campaign, old_key):
    enrol(client, campaign, 1)
    old_key.ENROLMENT_KEY = NEW
    with pytest.raises(RuntimeError) as error:
        import_module("campaigns.migrations.0003_rehash_id_numbers").rehash(apps, None)
    assert "无法用已配置的密钥" in str(error.value)


# decryption failures are shown to staff, never a blank cell

@pytest.fixture
def one_unreadable(client, campaign, old_key, django_user_model):
    enrol(client, campaign, 3)
    stray = Enrolment.objects.order_by("pk")[1]
    Enrolment.objects.filter(pk=stray.pk).update(
        id_number_encrypted=Fernet(Fernet.generate_key()).encrypt(stray.id_number.encode()).decode())
    client.force_login(staff_user(django_user_model, "officer", "campaigns.view_id_number"))
    return stray


def test_export_marks_unreadable_ids(client, one_unreadable, caplog):
    column = [column.title for column, _ in EXPORT_COLUMNS].index("身份证号")
    with caplog.at_level(logging.ERROR, logger="campaigns.exports"):
        body = export_file("csv")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    by_reference = {row[0]: row for row in rows[1:-1]}
    assert by_reference[one_unreadable.reference][column] == "【无法解密】"
    assert all(row[column] for row in rows[1:-1])
    assert rows[-1][0].startswith("注意：共 1 行身份证号【无法解密】")
    assert f"enrolment {one_unreadable.reference} " in caplog.text and "cannot be decrypted" in caplog.text
    assert caplog.records[0].levelname == "ERROR"
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(export_file("xlsx"))).active
    values = [row[column] for row in sheet.iter_rows(min_row=2, max_row=4, values_only=True)]
    assert "【无法解密】" in values and None not in values
    assert str(sheet.cell(row=5, column=1).value).startswith("注意：共 1 行身份证号")


def test_edit_view_shows_unreadable_id_with_a_message(client, one_unreadable, caplog):
    with caplog.at_level(logging.ERROR, logger="campaigns.exports"):
        html = client.get(f"/admin/enrolments/edit/{one_unreadable.pk}/").content.decode()
    assert "【无法解密】" in html and "已配置的密钥读不出此号码" in html
    assert f"报名 {one_unreadable.reference} 的身份证号无法解密" in html  # the admin message
    assert "cannot be decrypted" in caplog.text


def test_export_with_wrong_key_is_refused_with_a_message(client, one_unreadable, old_key):
    old_key.ENROLMENT_KEY = NEW  # nothing readable any more
    response = client.post(reverse("enrolments:export", args=("csv",)), {"query": ""}, follow=True)
    assert "Content-Disposition" not in response and not BackgroundJob.objects.exists()
    assert "导出已取消：身份证号无法解密" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_backups_hold_no_keys_and_no_clear_id_numbers(client, campaign, old_key, tmp_path):
    import tarfile

    from core.backup.encryption import decrypt_file

    old_key.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media").mkdir()
    enrol(client, campaign, 1)
    token = Enrolment.objects.get().id_number_encrypted
    call_command("backup", output=str(tmp_path / "backups"), stdout=io.StringIO())
    backup_dir = next((tmp_path / "backups").iterdir())
    plain = tmp_path / "plain"
    plain.mkdir()
    for sealed in backup_dir.glob("*.enc"):  # what someone holding the backup key could read
        decrypt_file(sealed, plain / sealed.name.removesuffix(".enc"))
    with tarfile.open(plain / "media.tar.gz") as archive:
        archive.extractall(tmp_path / "extracted", filter="data")
    files = [p for p in [*backup_dir.rglob("*"), *plain.rglob("*"), *(tmp_path / "extracted").rglob("*")]
             if p.is_file()]
    content = b"".join(p.read_bytes() for p in files)
    number = make_id_number("42010619900120123")
    assert token.encode() in content or plain.joinpath("db.dump").exists()  # pg_dump output is compressed
    for secret in (OLD, HASH_KEY, number):
        assert secret.encode() not in content
