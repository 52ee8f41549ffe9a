import os

import pytest
from django.core.management import CommandError, call_command
from wagtail.images.models import Image
from wagtail.images.tests.utils import get_test_image_file

from core.backup import row_counts
from speeches.models import SpeechPage


@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_round_trip(tmp_path, settings, speech_index, corpus_file):
    from speeches.importers.writer import import_corpus

    settings.MEDIA_ROOT = tmp_path / "media"
    import_corpus(corpus_file, parent=speech_index)
    image = Image.objects.create(title="封面", file=get_test_image_file())
    image_path = tmp_path / "media" / image.file.name
    assert image_path.exists()
    before = row_counts()
    title = SpeechPage.objects.get(slug="speech-10").title

    call_command("backup", output=str(tmp_path / "backups"))
    backup_dir = next((tmp_path / "backups").iterdir())

    # the site changes after the backup: pages deleted, media lost
    SpeechPage.objects.get(slug="speech-10").delete()
    SpeechPage.objects.filter(slug="speech-01").update(title="改坏的标题")
    image_path.unlink()

    call_command("restore", str(backup_dir), yes=True)
    assert row_counts() == before
    assert SpeechPage.objects.get(slug="speech-10").title == title
    assert SpeechPage.objects.get(slug="speech-01").title.startswith("工会工作会议讲话")
    assert image_path.exists()


@pytest.mark.django_db(transaction=True)
def test_restore_rejects_damaged_backup(tmp_path, settings, speech_index):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("backup", output=str(tmp_path / "backups"))
    backup_dir = next((tmp_path / "backups").iterdir())
    db_file = next(p for p in backup_dir.iterdir() if p.name.startswith("db."))
    db_file.write_bytes(db_file.read_bytes()[:-10] + b"corrupted!")
    count = SpeechPage.objects.count()
    with pytest.raises(CommandError, match="校验失败"):
        call_command("restore", str(backup_dir), yes=True)
    assert SpeechPage.objects.count() == count


def test_restore_rejects_non_backup(tmp_path, db):
    with pytest.raises(CommandError, match="不是有效的备份目录"):
        call_command("restore", str(tmp_path), yes=True)


@pytest.mark.django_db(transaction=True)
def test_backup_is_encrypted_private_and_needs_its_key(tmp_path, settings, speech_index):
    import stat

    from core.backup.encryption import new_key

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.BACKUP_KEY = new_key()
    call_command("backup", output=str(tmp_path / "backups"))
    backup_dir = next((tmp_path / "backups").iterdir())
    names = sorted(p.name for p in backup_dir.iterdir())
    assert names == ["db.sqlite3.enc", "manifest.json", "media.tar.gz.enc"] or names == [
        "db.dump.enc", "manifest.json", "media.tar.gz.enc"]
    assert stat.S_IMODE(os.stat(backup_dir).st_mode) == 0o700
    for path in backup_dir.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    db_file = next(p for p in backup_dir.iterdir() if p.name.startswith("db."))
    raw = db_file.read_bytes()
    assert b"SQLite format" not in raw and "讲话稿库".encode() not in raw and b"PGDMP" not in raw

    speech_index.title = "备份之后改的标题"
    speech_index.save_revision().publish()
    settings.BACKUP_KEY = new_key()  # a restore on a new machine with the wrong key
    with pytest.raises(CommandError, match="BACKUP_KEY"):
        call_command("restore", str(backup_dir), yes=True)
    assert speech_index.__class__.objects.get().title == "备份之后改的标题"


def test_truncated_or_reordered_encrypted_file_is_refused(tmp_path, settings):
    from core.backup.encryption import BackupKeyError, decrypt_file, encrypt_file, new_key

    settings.BACKUP_KEY = new_key()
    plain = tmp_path / "plain.bin"
    plain.write_bytes(os.urandom(3 * (1 << 20) + 123))
    sealed = tmp_path / "sealed.enc"
    encrypt_file(plain, sealed)
    out = tmp_path / "out.bin"
    decrypt_file(sealed, out)
    assert out.read_bytes() == plain.read_bytes()
    data = sealed.read_bytes()
    chunk = 4 + 12 + (1 << 20) + 16
    head = len(b"PORTALBK1")
    first, second = data[head: head + chunk], data[head + chunk: head + 2 * chunk]
    for damaged in (data[: head + chunk * 2],  # cut at a chunk boundary
                    data[:head] + second + first + data[head + 2 * chunk:],  # chunks swapped
                    data[:-1] + bytes([data[-1] ^ 1])):
        sealed.write_bytes(damaged)
        with pytest.raises(BackupKeyError):
            decrypt_file(sealed, out)


def test_production_backup_needs_a_backup_key(tmp_path, settings, db):
    settings.BACKUP_KEY = ""
    settings.BACKUP_KEY_FILE = None
    with pytest.raises(CommandError, match="未设置 BACKUP_KEY"):
        call_command("backup", output=str(tmp_path / "backups"))
    assert not any((tmp_path / "backups").glob("*/*.enc"))
