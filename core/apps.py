from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "站点基础"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from core.pagecache import connect_signals

        connect_signals()
