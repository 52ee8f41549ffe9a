from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from core.jobs import cleanup_files
from core.models import BackgroundJob, JobStatus


class Command(BaseCommand):
    help = "删除过期的导出文件；--days N 同时删除 N 天前结束的后台任务记录（可由 cron 定时执行）"

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=0, help="删除多少天前已结束的任务记录（默认不删除）")

    def handle(self, days=0, **options):
        removed = cleanup_files()
        self.stdout.write(f"已删除 {removed} 个过期文件")
        if days > 0:
            cutoff = timezone.now() - timedelta(days=days)
            old = BackgroundJob.objects.filter(status__in=(JobStatus.SUCCEEDED, JobStatus.FAILED),
                                               finished_at__lt=cutoff, file_name="")
            count, _ = old.delete()
            self.stdout.write(f"已删除 {count} 条 {days} 天前结束的任务记录")
