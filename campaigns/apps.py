from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "活动专题"

    def ready(self):
        from campaigns import checks  # noqa: F401 - registers the key checks
