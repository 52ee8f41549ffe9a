"""Delete roster previews that were never confirmed: their staged lines and stored files (personal data)."""

import datetime

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from campaigns import roster
from campaigns.models import AuditAction, EnrolmentAuditLog, RosterStatus, RosterUpload


class Command(BaseCommand):
    help = "删除超过指定天数仍未确认的名单预检数据和文件（默认 7 天）"

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7)

    def handle(self, days, **options):
        cutoff = timezone.now() - datetime.timedelta(days=days)
        count = 0
        for upload in RosterUpload.objects.filter(status=RosterStatus.PREVIEWED, created_at__lt=cutoff):
            with transaction.atomic():
                upload.rows.all().delete()
                relative = upload.file_path
                RosterUpload.objects.filter(pk=upload.pk).update(status=RosterStatus.CANCELLED, file_path="")
                EnrolmentAuditLog.objects.create(action=AuditAction.CANCEL, actor_name="system", unit=upload.unit,
                                                 campaign=upload.campaign, upload=upload,
                                                 note=f"超过{days}天未确认，自动删除")
            roster.delete_file(relative)
            count += 1
        self.stdout.write(f"已删除 {count} 份未确认的名单预检数据。")
