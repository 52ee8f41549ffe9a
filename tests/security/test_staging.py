"""Uploads staged between preview and confirmation live outside MEDIA_ROOT, in 0700 directories as 0600 files,
and are removed on confirmation (or after a day)."""

import os
import re
import stat
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core import staging
from core.tests.worker import run_worker
from merchants.models import Merchant
from merchants.tests.helpers import GOOD_ROWS, xlsx_bytes
from speeches.models import SpeechPage


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def files_under(path):
    return [p for p in Path(path).rglob("*")] if Path(path).exists() else []


@pytest.fixture
def loose_umask():
    old = os.umask(0)  # even a permissive umask must not widen the modes
    yield
    os.umask(old)


def test_word_import_stages_privately_and_cleans_up(admin_client, speech_index, speech_docx, settings, loose_umask):
    response = admin_client.post(reverse("speeches_docx_import"),
                                 {"parent": speech_index.pk, "files": [SimpleUploadedFile("讲话.docx", speech_docx)]})
    token = re.search(r'name="token" value="([0-9a-f]{32})"', response.content.decode())[1]
    root = Path(settings.VAR_DIR) / "staging"
    folder = root / "docx" / token
    assert folder.is_dir()
    assert not files_under(settings.MEDIA_ROOT)  # nothing of the upload under MEDIA_ROOT
    for directory in (root, root / "docx", folder):
        assert mode(directory) == 0o700, directory
    staged = sorted(p.name for p in folder.iterdir())
    assert staged == ["000.docx", "manifest.json"]
    assert all(mode(p) == 0o600 for p in folder.iterdir())
    assert (folder / "000.docx").read_bytes() == speech_docx
    admin_client.post(reverse("speeches_docx_import_confirm"),
                      {"token": token, "parent": speech_index.pk, "import_0": "1"})
    assert SpeechPage.objects.count() == 1
    assert not folder.exists()


def test_stale_word_stagings_are_removed(admin_client, speech_index, speech_docx, settings):
    old = staging.make_dir(staging.directory("docx"), "0" * 32)
    staging.write(old / "000.docx", b"old")
    os.utime(old, (time.time() - 3 * 86400,) * 2)
    admin_client.post(reverse("speeches_docx_import"),
                      {"parent": speech_index.pk, "files": [SimpleUploadedFile("讲话.docx", speech_docx)]})
    assert not old.exists()


def test_merchant_import_stages_privately_and_cleans_up(task_queue, client, django_user_model, settings,
                                                        loose_umask):
    user = django_user_model.objects.create_user("editor", password="pass-word-123")
    user.groups.add(Group.objects.get(name="编辑"))
    client.force_login(user)
    preview = client.post("/admin/merchants/import/", {"file": SimpleUploadedFile("商户.xlsx", xlsx_bytes(GOOD_ROWS))})
    token = re.search(r'name="token" value="([0-9a-f]{32})"', preview.content.decode())[1]
    folder = Path(settings.VAR_DIR) / "staging" / "merchants"
    [stored] = list(folder.iterdir())
    assert stored.name == f"{user.pk}-{token}.xlsx"
    assert mode(folder) == 0o700 and mode(folder.parent) == 0o700 and mode(stored) == 0o600
    assert not files_under(settings.MEDIA_ROOT)
    client.post("/admin/merchants/import/", {"token": token, "filename": "商户.xlsx"})
    assert list(folder.iterdir()) == [stored] and Merchant.objects.count() == 0  # kept for the import job
    run_worker()
    assert Merchant.objects.count() == 3
    assert list(folder.iterdir()) == []


def test_staging_inside_media_root_is_refused(settings, tmp_path):
    settings.STAGING_DIR = str(Path(settings.MEDIA_ROOT) / "staging")
    with pytest.raises(ImproperlyConfigured, match="MEDIA_ROOT"):
        staging.directory("merchants")
    settings.STAGING_DIR = ""
    with pytest.raises(ImproperlyConfigured, match="MEDIA_ROOT"):
        staging.directory("docx", Path(settings.MEDIA_ROOT) / "docx_import")  # the old default place


def test_existing_directory_is_tightened(settings, tmp_path):
    loose = tmp_path / "var" / "staging" / "merchants"
    loose.mkdir(parents=True)
    os.chmod(loose, 0o777)
    assert mode(staging.directory("merchants")) == 0o700


def test_staged_file_is_not_followed_through_a_symlink(settings, tmp_path):
    target = tmp_path / "elsewhere"
    target.write_bytes(b"keep")
    link = staging.directory("merchants") / "1-link.csv"
    link.symlink_to(target)
    with pytest.raises(OSError):
        staging.write(link, b"overwrite")
    assert target.read_bytes() == b"keep"
