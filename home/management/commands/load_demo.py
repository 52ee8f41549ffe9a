from django.core.management.base import BaseCommand

from home.demo import load_demo


class Command(BaseCommand):
    help = "载入演示内容：站点结构、真实讲话稿语料、活动与商户，并创建管理员账号（可重复运行）"

    def handle(self, **options):
        def progress(index, total, message):
            self.stdout.write(f"  [{index:>3}/{total}] {message}")

        load_demo(log=self.stdout.write, progress=progress)
