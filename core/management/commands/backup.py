from django.core.management.base import BaseCommand, CommandError

from core.backup import BackupError, create_backup, encryption


class Command(BaseCommand):
    help = "备份数据库与媒体文件（SQLite 在线备份，PostgreSQL 使用 pg_dump），网站运行时也可安全执行"

    def add_arguments(self, parser):
        parser.add_argument("--output", help="备份存放目录（默认 var/backups）")
        parser.add_argument("--new-key", action="store_true", help="只生成一个新的 BACKUP_KEY 并打印，不做备份")

    def handle(self, output=None, new_key=False, **options):
        if new_key:
            self.stdout.write(encryption.new_key())
            return
        try:
            create_backup(output, log=self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
