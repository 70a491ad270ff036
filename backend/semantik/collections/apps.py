"""Django app configuration for collections."""

from django.apps import AppConfig


class CollectionsConfig(AppConfig):
    name = "semantik.collections"
    label = "collections"
