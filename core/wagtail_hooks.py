from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from core import admin_views


@hooks.register("register_admin_urls")
def register_job_urls():
    return [
        path("jobs/", admin_views.JobIndexView.as_view(), name="core_jobs"),
        path("jobs/<int:pk>/", admin_views.JobDetailView.as_view(), name="core_job"),
        path("jobs/<int:pk>/download/", admin_views.job_download, name="core_job_download"),
    ]


@hooks.register("register_reports_menu_item")
def register_jobs_menu_item():
    return MenuItem("后台任务", reverse("core_jobs"), name="background-jobs", icon_name="cogs", order=900)
