from django.core.management.base import BaseCommand, CommandError

from core.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "从 backup 生成的目录恢复数据库与媒体文件（会覆盖当前数据）"

    def add_arguments(self, parser):
        parser.add_argument("path", help="备份目录，如 var/backups/backup-20260101-120000")
        parser.add_argument("--yes", action="store_true", help="不询问，直接覆盖当前数据")

    def handle(self, path, yes=False, **options):
        if not yes:
            answer = input("恢复将覆盖当前数据库和媒体文件，确定继续？输入 yes 确认：")
            if answer.strip().lower() != "yes":
                raise CommandError("已取消，未做任何修改")
        try:
            restore_backup(path, log=self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
