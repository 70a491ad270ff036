"""The UI's routes: every path that is not the API, the admin, static files or metrics renders the
single-page app, whose router then shows the page (so /collections/<id> can be reloaded or bookmarked)."""

from django.urls import re_path

from semantik.web import views

urlpatterns = [
    re_path(r"^(?!(?:api|admin|static|metrics)(?:/|$))(?P<route>.*)$", views.index, name="web-index"),
]
