from django.apps import AppConfig


class HomeConfig(AppConfig):
    name = "home"
    verbose_name = "首页与站点设置"

    def ready(self):
        from django.db.models.signals import post_migrate

        from home.editorial import ensure_editorial_setup

        post_migrate.connect(ensure_editorial_setup, sender=self)
