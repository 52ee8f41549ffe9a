from django.urls import path

from campaigns.agents import views

app_name = "agents"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_view, name="password"),
    path("campaigns/<int:campaign_id>/<str:block_id>/template/", views.template_view, name="template"),
    path("campaigns/<int:campaign_id>/<str:block_id>/upload/", views.upload_view, name="upload-new"),
    path("uploads/<int:pk>/", views.upload_detail, name="upload"),
    path("uploads/<int:pk>/confirm/", views.confirm_view, name="confirm"),
    path("uploads/<int:pk>/cancel/", views.cancel_view, name="cancel"),
    path("uploads/<int:pk>/file/", views.file_view, name="file"),
    path("uploads/<int:pk>/export/", views.export_view, name="export"),
]
