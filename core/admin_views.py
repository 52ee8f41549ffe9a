"""Admin: 后台任务 (every background job: status, progress, attempts, error) and downloads of job files."""

from urllib.parse import quote

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from core.jobs import job_file_path, remove_file
from core.models import BackgroundJob, JobStatus

VIEW_ALL_PERMISSION = "core.view_backgroundjob"
PAGE_SIZE = 100


def visible_jobs(user):
    """Superusers and holders of core.view_backgroundjob see every job; other staff their own."""
    jobs = BackgroundJob.objects.select_related("created_by")
    if user.is_superuser or user.has_perm(VIEW_ALL_PERMISSION):
        return jobs
    return jobs.filter(created_by=user)


class JobIndexView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "core/admin/job_index.html"
    page_title = "后台任务"
    header_icon = "cogs"

    def get_context_data(self, **kwargs):
        jobs = visible_jobs(self.request.user)
        status = self.request.GET.get("status", "")
        if status in JobStatus.values:
            jobs = jobs.filter(status=status)
        else:
            status = ""
        return super().get_context_data(jobs=jobs[:PAGE_SIZE], statuses=JobStatus.choices, status=status,
                                        **kwargs)


class JobDetailView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "core/admin/job_detail.html"
    header_icon = "cogs"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": "后台任务"}]

    def dispatch(self, request, pk):
        self.job = get_object_or_404(visible_jobs(request.user), pk=pk)
        return super().dispatch(request, pk)

    def get_page_title(self):
        return self.job.label

    def get_context_data(self, **kwargs):
        job = self.job
        return super().get_context_data(
            job=job, refresh=not job.finished,
            can_download=can_download(self.request.user, job),
            expired=bool(job.expires_at and job.expires_at <= timezone.now()),
            **kwargs)


def can_download(user, job):
    return bool(
        job.status == JobStatus.SUCCEEDED and job.file_name and job.created_by_id == user.pk and user.is_active
        and (not job.download_permission or user.has_perm(job.download_permission))
    )


def job_download(request, pk):
    """Only the user who started the job (still holding the permission it needs) gets the file; else 404."""
    job = BackgroundJob.objects.filter(pk=pk).first()
    if job is None or not can_download(request.user, job):
        raise Http404("没有可下载的文件")
    path = job_file_path(job)
    if job.expires_at and job.expires_at <= timezone.now():
        remove_file(job)
        messages.error(request, "文件已过期并已删除，请重新导出。")
        return redirect("core_job", pk=job.pk)
    if path is None or not path.is_file():
        raise Http404("文件不存在")
    response = FileResponse(open(path, "rb"), as_attachment=True)  # noqa: SIM115 - closed by FileResponse
    ascii_name = "export" + path.suffix
    response["Content-Disposition"] = (f"attachment; filename=\"{ascii_name}\"; "
                                       f"filename*=UTF-8''{quote(job.download_name or ascii_name)}")
    response["Cache-Control"] = "private, no-store"
    return response
