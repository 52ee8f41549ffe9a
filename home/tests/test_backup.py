import pytest
from django.core.management import CommandError, call_command
from wagtail.images.models import Image
from wagtail.images.tests.utils import get_test_image_file

from core.backup import row_counts
from speeches.models import SpeechPage


@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_round_trip(tmp_path, settings, speech_index, corpus_file):
    from speeches.importing.writer import import_corpus

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
