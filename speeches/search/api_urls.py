from django.urls import path

from speeches.search import views

urlpatterns = [
    path("search/", views.search_api, name="search-api"),
    path("search/suggest/", views.suggest_api, name="search-suggest"),
]
