"""Django app configuration for the web UI."""

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "semantik.web"
    label = "web"
