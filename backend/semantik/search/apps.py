"""Django app configuration for search."""

from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "semantik.search"
    label = "search"
