from django.apps import AppConfig


def grant_editorial_permissions(sender, **kwargs):
    """Give the 编辑/审核 groups this app's permissions (they do not exist yet when home's hook runs)."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.contenttypes.management import create_contenttypes

    from home.editorial import ensure_editorial_setup

    options = {"verbosity": 0, "using": kwargs.get("using", "default"), "apps": kwargs.get("apps", global_apps)}
    create_contenttypes(sender, **options)
    create_permissions(sender, **options)
    ensure_editorial_setup()


class MerchantsConfig(AppConfig):
    name = "merchants"
    label = "merchants"
    verbose_name = "特惠商户"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_migrate

        post_migrate.connect(grant_editorial_permissions, sender=self, dispatch_uid="merchants_editorial_setup")
