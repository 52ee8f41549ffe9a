from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "站点基础"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django_tasks.signals import task_finished

        from core.jobs import task_finished as record_task
        from core.pagecache import connect_signals

        connect_signals()
        task_finished.connect(record_task, dispatch_uid="core-jobs-task-finished")
