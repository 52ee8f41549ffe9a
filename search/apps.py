from django.apps import AppConfig

MODERATORS = "审核"
DICTIONARY_MODELS = ("searchterm", "synonymgroup")


def grant_dictionary_permissions(app_config=None, using="default", **kwargs):
    """The 审核 group manages the search dictionary (add/change/delete); 编辑 gets nothing here."""
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    if app_config is not None:  # this app may be signalled before auth has created its permissions
        create_permissions(app_config, verbosity=0, using=using)
    perms = Permission.objects.filter(
        content_type__app_label="portal_search",
        codename__in=[f"{action}_{model}" for model in DICTIONARY_MODELS for action in ("add", "change", "delete")],
    )
    if not perms.exists():
        return
    moderators, _ = Group.objects.get_or_create(name=MODERATORS)
    moderators.permissions.add(*perms)


def _remember_old_words(sender, instance, **kwargs):
    old = sender.objects.filter(pk=instance.pk).first() if instance.pk else None
    instance._old_words = old.affected_words() if old else []


def _dictionary_saved(sender, instance, **kwargs):
    from search.dictionary import dictionary_changed

    dictionary_changed(set(getattr(instance, "_old_words", [])) | set(instance.affected_words()))


def _dictionary_deleted(sender, instance, **kwargs):
    from search.dictionary import dictionary_changed

    dictionary_changed(set(instance.affected_words()))


class SearchConfig(AppConfig):
    name = "search"
    label = "portal_search"
    verbose_name = "站内搜索"

    def ready(self):
        from django.db.models.signals import post_delete, post_migrate, post_save, pre_save

        from search.models import SearchTerm, SynonymGroup

        post_migrate.connect(grant_dictionary_permissions, sender=self, dispatch_uid="search-dictionary-perms")
        for model in (SearchTerm, SynonymGroup):
            uid = f"search-{model.__name__}"
            pre_save.connect(_remember_old_words, sender=model, dispatch_uid=uid + "-pre")
            post_save.connect(_dictionary_saved, sender=model, dispatch_uid=uid + "-save")
            post_delete.connect(_dictionary_deleted, sender=model, dispatch_uid=uid + "-delete")
