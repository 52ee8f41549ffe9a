"""Admin views of the speeches app (registered from speeches/wagtail_hooks.py)."""
