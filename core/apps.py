from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "站点基础"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_migrate

        from core.adminzh import fixes
        from core.pagecache import connect_signals

        connect_signals()
        fixes.label_fields()
        # after the last app: every app's permissions exist by then
        post_migrate.connect(fixes.chinese_records, dispatch_uid="core-chinese-records")
