"""Django app configuration for metrics."""

from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "semantik.metrics"
    label = "metrics"

    def ready(self) -> None:
        # Registers the metrics token scheme with drf-spectacular.
        from semantik.metrics import schema  # noqa: F401
