from django.apps import AppConfig


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
        from django.db.models.signals import post_delete, post_save, pre_save

        from search.models import SearchTerm, SynonymGroup

        for model in (SearchTerm, SynonymGroup):
            uid = f"search-{model.__name__}"
            pre_save.connect(_remember_old_words, sender=model, dispatch_uid=uid + "-pre")
            post_save.connect(_dictionary_saved, sender=model, dispatch_uid=uid + "-save")
            post_delete.connect(_dictionary_deleted, sender=model, dispatch_uid=uid + "-delete")
