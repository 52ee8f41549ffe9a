from django.urls import path

from speeches.search import views

app_name = "search"
urlpatterns = [path("", views.search, name="search"), path("open/", views.open_result, name="open")]
