from django.core.management.base import BaseCommand

from search.querylog import prune, rollup


class Command(BaseCommand):
    help = "把新的搜索事件汇总进每日搜索记录，并删除超过保留期（SEARCH_LOG_DAYS）的记录；可由 cron 定时运行"

    def handle(self, **options):
        events = rollup()
        self.stdout.write(f"已汇总 {events} 条搜索事件，删除 {prune()} 条过期搜索记录")
