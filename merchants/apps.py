from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    name = "merchants"
    label = "merchants"
    verbose_name = "特惠商户"
    default_auto_field = "django.db.models.BigAutoField"
