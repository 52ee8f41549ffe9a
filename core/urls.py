from django.urls import path

from core import views

urlpatterns = [
    path("elder-mode/", views.elder_mode, name="elder-mode"),
    path("robots.txt", views.robots_txt, name="robots-txt"),
]
