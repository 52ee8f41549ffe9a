from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from campaigns.retention import anonymise


class Command(BaseCommand):
    help = ("匿名化活动结束超过保留期限的报名记录中的个人信息（姓名、身份证号、手机号等），"
            "并删除这些活动的代办员名单行和上传文件；可先试运行")

    def add_arguments(self, parser):
        default = settings.ENROLMENT_RETENTION_DAYS
        parser.add_argument("--days", type=int, help=f"保留天数（默认 ENROLMENT_RETENTION_DAYS={default}）")
        parser.add_argument("--dry-run", action="store_true", help="只统计将处理的记录，不做修改")

    def handle(self, days=None, dry_run=False, **options):
        if days is not None and days < 0:
            raise CommandError("保留天数不能为负数")
        anonymise(days=days, dry_run=dry_run, log=self.stdout.write)
