from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "活动专题"

    def ready(self):
        from django.db.models.signals import post_migrate

        from campaigns import checks  # noqa: F401 - registers the key checks
        post_migrate.connect(grant_review_permissions, sender=self)


def grant_review_permissions(app_config, using="default", **kwargs):
    """The 审核 group reviews enrolments; full ID numbers and export need campaigns.view_id_number, granted
    to named people only."""
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    create_permissions(app_config, verbosity=0, using=using)  # this receiver may run before Django's own
    group = Group.objects.using(using).filter(name="审核").first()
    if group is None:
        return
    perms = Permission.objects.using(using).filter(content_type__app_label="campaigns",
                                      codename__in=["view_enrolment", "change_enrolment"])
    group.permissions.add(*perms)
