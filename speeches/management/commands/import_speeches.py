from django.core.management.base import BaseCommand, CommandError

from speeches.importing.corpus import CorpusFormatError
from speeches.importing.writer import import_corpus


class Command(BaseCommand):
    help = "从讲话稿语料文件导入讲话（重复运行只更新，不会重复导入）"

    def add_arguments(self, parser):
        parser.add_argument("path", help="语料文件路径，如 corpus/000_1f37454ad7433800.txt")
        parser.add_argument("--parent", help="讲话稿库页面的 slug（默认第一个讲话稿库）")

    def handle(self, path, parent=None, **options):
        from speeches.models import SpeechIndexPage

        parent_page = None
        if parent:
            parent_page = SpeechIndexPage.objects.filter(slug=parent).first()
            if parent_page is None:
                raise CommandError(f"找不到 slug 为“{parent}”的讲话稿库页面")

        def progress(index, total, message):
            self.stdout.write(f"[{index:>3}/{total}] {message}")

        try:
            summary = import_corpus(path, parent=parent_page, progress=progress)
        except CorpusFormatError as exc:
            raise CommandError(f"导入失败，数据库未作任何修改。{exc}") from exc
        for line in summary.lines():
            self.stdout.write(line)
