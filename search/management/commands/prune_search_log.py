from django.conf import settings
from django.core.management.base import BaseCommand

from search.querylog import prune


class Command(BaseCommand):
    help = f"删除超过保留期（SEARCH_LOG_DAYS，默认 {settings.SEARCH_LOG_DAYS} 天）的搜索记录"

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="保留天数")

    def handle(self, days=None, **options):
        self.stdout.write(f"已删除 {prune(days)} 条过期搜索记录")
