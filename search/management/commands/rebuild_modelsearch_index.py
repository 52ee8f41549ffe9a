"""modelsearch's name for update_index (its tools and test suite call this one): the same command."""

from search.management.commands.update_index import Command  # noqa: F401
