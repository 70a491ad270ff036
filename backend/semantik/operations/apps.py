"""Django app configuration for operations."""

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "semantik.operations"
    label = "operations"
