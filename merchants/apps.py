from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    name = "merchants"
    label = "merchants"
    verbose_name = "特惠商户"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from merchants.suggest import register_source

        register_source()
