"""Django app configuration for documents."""

from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "semantik.documents"
    label = "documents"
