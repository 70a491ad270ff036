"""Django app configuration for realtime."""

from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "semantik.realtime"
    label = "realtime"
