from django.core.management.base import BaseCommand, CommandError

from merchants.importing import ImportFileError, import_file


class Command(BaseCommand):
    help = "从 Excel（.xlsx）或 CSV（UTF-8/GBK）导入特惠商户；同名同地址的商户会被更新而不是重复添加"

    def add_arguments(self, parser):
        parser.add_argument("file", help="要导入的 .xlsx 或 .csv 文件")
        parser.add_argument("--dry-run", action="store_true", help="只检查并显示结果，不写入数据库")

    def handle(self, *args, **options):
        try:
            plan = import_file(options["file"])
        except FileNotFoundError as exc:
            raise CommandError(f"找不到文件：{options['file']}") from exc
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        for line in plan.error_lines():
            self.stderr.write(line)
        if not plan.ok:
            raise CommandError(f"{plan.summary()}。有错误的行未修正，未导入任何数据。")
        if not options["dry_run"]:
            plan.apply()
        prefix = "（试运行，未写入）" if options["dry_run"] else ""
        self.stdout.write(prefix + plan.summary())
