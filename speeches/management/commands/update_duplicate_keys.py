from django.core.management.base import BaseCommand

from speeches.importers.duplicates import rebuild_index


class Command(BaseCommand):
    help = "重建讲话查重索引（导入 Word 讲话稿时据此查找重复稿，含草稿）"

    def handle(self, **options):
        count = rebuild_index()
        self.stdout.write(f"已重建 {count} 篇讲话的查重索引")
