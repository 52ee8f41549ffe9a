"""Background jobs: one row per piece of slow work run by the task worker (core/jobs.py)."""

from django.conf import settings
from django.db import models


class JobStatus(models.TextChoices):
    PENDING = "pending", "排队中"
    RUNNING = "running", "进行中"
    RETRYING = "retrying", "等待重试"
    SUCCEEDED = "succeeded", "已完成"
    FAILED = "failed", "失败"


class BackgroundJob(models.Model):
    kind = models.CharField("类型", max_length=100, db_index=True)
    label = models.CharField("说明", max_length=200)
    # Idempotency: a second start() with the same key returns the first job.
    key = models.CharField("去重键", max_length=200, unique=True, null=True, blank=True)
    status = models.CharField("状态", max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING,
                              db_index=True)
    params = models.JSONField("参数", default=dict, blank=True)
    result = models.JSONField("结果", default=dict, blank=True)
    progress_done = models.PositiveBigIntegerField("已处理", default=0)
    progress_total = models.PositiveBigIntegerField("总数", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("已尝试次数", default=0)
    max_attempts = models.PositiveSmallIntegerField("最多尝试次数", default=3)
    error = models.TextField("错误", blank=True)
    task_id = models.CharField("任务编号", max_length=64, blank=True, db_index=True)
    # A produced file (under settings.JOB_FILES_DIR), downloadable by created_by until expires_at.
    file_name = models.CharField("文件", max_length=200, blank=True)
    file_size = models.PositiveBigIntegerField("文件大小", null=True, blank=True)
    download_name = models.CharField("下载文件名", max_length=200, blank=True)
    download_permission = models.CharField("下载所需权限", max_length=100, blank=True)
    expires_at = models.DateTimeField("文件过期时间", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="发起人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True, db_index=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.label}（{self.get_status_display()}）"

    @property
    def finished(self):
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    @property
    def percent(self):
        if self.status == JobStatus.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(self.progress_done * 100 / self.progress_total))
