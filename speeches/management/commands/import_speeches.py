from django.core.management.base import BaseCommand, CommandError

from speeches.importers.corpus import CorpusFormatError
from speeches.importers.writer import BATCH_SIZE, ImportInterrupted, import_corpus

LIST_EACH_UP_TO = 200  # speeches: a line for each of them up to this many (with -v 2 always)


class Command(BaseCommand):
    help = "从讲话稿语料文件导入讲话（重复运行只更新，不会重复导入）"

    def add_arguments(self, parser):
        parser.add_argument("path", help="语料文件路径，如 corpus/000_1f37454ad7433800.txt")
        parser.add_argument("--parent", help="讲话稿库页面的 slug（默认第一个讲话稿库）")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                            help=f"每个事务写入的篇数（默认 {BATCH_SIZE}）")
        parser.add_argument("--no-index", action="store_true",
                            help="不更新搜索索引（大批量导入后运行 update_index 一次建好）")

    def handle(self, path, parent=None, batch_size=BATCH_SIZE, no_index=False, verbosity=1, **options):
        from speeches.models import SpeechIndexPage

        if batch_size < 1:
            raise CommandError("--batch-size 必须是正整数")
        parent_page = None
        if parent:
            parent_page = SpeechIndexPage.objects.filter(slug=parent).first()
            if parent_page is None:
                raise CommandError(f"找不到 slug 为“{parent}”的讲话稿库页面")

        def progress(index, total, message):
            if verbosity >= 2 or (verbosity >= 1 and total <= LIST_EACH_UP_TO):
                self.stdout.write(f"[{index:>3}/{total}] {message}")

        def status(message):
            if verbosity >= 1:
                self.stdout.write(message)

        try:
            summary = import_corpus(path, parent=parent_page, progress=progress, batch_size=batch_size,
                                    index=not no_index, status=status)
        except ImportInterrupted as exc:
            raise CommandError(
                f"导入中断：已写入的 {exc.written} 篇保留，修正后重新运行会接着更新，不会重复。{exc}"
            ) from exc
        except CorpusFormatError as exc:
            raise CommandError(f"导入失败，数据库未作任何修改。{exc}") from exc
        for line in summary.lines()[: None if verbosity >= 1 else 2]:
            self.stdout.write(line)
        if no_index and summary.imported:
            self.stdout.write("未更新搜索索引：请运行 manage.py update_index")
