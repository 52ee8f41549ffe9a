"""Wagtail's update_index, with the jieba analysis of large batches shared between all cores."""

from modelsearch.management.commands.rebuild_modelsearch_index import Command as RebuildCommand

from search.analysis import parallel_analysis


class Command(RebuildCommand):
    def handle(self, **options):
        with parallel_analysis():
            return super().handle(**options)
