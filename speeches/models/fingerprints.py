from django.db import models


class SpeechFingerprint(models.Model):
    """What the duplicate check of a Word batch looks a speech up by (speeches.importers.duplicates): its
    winnowed shingle keys, kept in step with the page row (drafts included) on every save."""

    page = models.OneToOneField("speeches.SpeechPage", on_delete=models.CASCADE, primary_key=True,
                                related_name="fingerprint")
    shingle_count = models.PositiveIntegerField()
    key_count = models.PositiveIntegerField()

    class Meta:
        verbose_name = "讲话查重指纹"
        verbose_name_plural = "讲话查重指纹"

    def __str__(self):
        return f"讲话 {self.page_id} 的查重指纹（{self.key_count} 个键）"


class SpeechShingleKey(models.Model):
    fingerprint = models.ForeignKey(SpeechFingerprint, on_delete=models.CASCADE, related_name="keys")
    key = models.BigIntegerField(db_index=True)

    class Meta:
        verbose_name = "讲话查重键"
        verbose_name_plural = "讲话查重键"

    def __str__(self):
        return str(self.key)
