"""Wagtail's alias of update_index (for projects where another app owns that name): the same command."""

from search.management.commands.update_index import Command  # noqa: F401
