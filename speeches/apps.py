from django.apps import AppConfig


class SpeechesConfig(AppConfig):
    name = "speeches"
    verbose_name = "讲话稿"

    def ready(self):
        from search.dictionary import register_reindexer
        from speeches.search.reindex import speeches_mentioning

        register_reindexer(speeches_mentioning)

        from speeches.search.suggest import register_sources

        register_sources()

        from django.db.models.signals import post_save

        from speeches.importers.duplicates import index_saved_speech
        from speeches.models import SpeechPage

        post_save.connect(index_saved_speech, sender=SpeechPage, dispatch_uid="speeches_duplicate_keys")
