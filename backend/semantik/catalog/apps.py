"""Django app configuration for the model catalog."""

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "semantik.catalog"
    label = "catalog"
