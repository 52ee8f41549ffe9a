from django.core.management.base import BaseCommand, CommandError

from speeches.importers.word.importer import import_paths


class Command(BaseCommand):
    help = "从 Word 文档（.docx 或装有 .docx 的 .zip）导入讲话稿，创建草稿（不发布，需提交审核）"

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help=".docx 或 .zip 文件路径")
        parser.add_argument("--parent", help="讲话稿库页面的 slug（默认第一个讲话稿库）")
        parser.add_argument("--topics", action="store_true", help="同时采用建议的主题")

    def handle(self, paths, parent=None, topics=False, **options):
        from speeches.models import SpeechIndexPage

        pages = SpeechIndexPage.objects.all()
        parent_page = pages.filter(slug=parent).first() if parent else pages.order_by("path").first()
        if parent_page is None:
            raise CommandError(f"找不到 slug 为“{parent}”的讲话稿库页面" if parent else "站点中还没有“讲话稿库”页面")

        def report(preview, page):
            if page is None:
                self.stdout.write(f"[失败] {preview.source}：{preview.error}")
                return
            extra = []
            if preview.missing:
                extra.append("请补充：" + "、".join(preview.missing))
            extra += [f"疑似重复：{d.message()}" for d in preview.duplicates]
            note = f"（{'；'.join(extra)}）" if extra else ""
            self.stdout.write(f"[草稿] {preview.source} → 《{page.title}》 id={page.pk}{note}")

        created, failures = import_paths(paths, parent_page, report=report, accept_topics=topics)
        self.stdout.write(
            f"共处理 {len(created) + len(failures)} 个文件：创建草稿 {len(created)} 篇，失败 {len(failures)} 个；"
            "草稿未发布，请在后台核对后提交审核"
        )
