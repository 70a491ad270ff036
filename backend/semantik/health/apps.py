"""Django app configuration for health."""

from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "semantik.health"
    label = "health"
