"""The UI's routes: every non-API path renders the single-page app."""

from django.urls import path

from semantik.web import views

urlpatterns = [path("", views.index, name="web-index")]
