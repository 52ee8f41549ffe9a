from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.search import index


class Speaker(index.Indexed, models.Model):
    name = models.CharField("姓名", max_length=50)
    post = models.CharField("职务", max_length=100, blank=True)
    organisation = models.CharField("单位", max_length=100, blank=True)

    panels = [FieldPanel("name"), FieldPanel("post"), FieldPanel("organisation")]
    search_fields = [
        index.SearchField("name"),
        index.SearchField("post"),
        index.SearchField("organisation"),
        index.AutocompleteField("name"),
    ]

    class Meta:
        verbose_name = "讲话人"
        verbose_name_plural = "讲话人"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "post", "organisation"], name="unique_speaker_identity"),
        ]

    def __str__(self):
        return " ".join(part for part in (self.organisation, self.post, self.name) if part)
