"""Django app configuration for accounts."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "semantik.accounts"
    label = "accounts"

    def ready(self) -> None:
        # Registers the API key scheme with drf-spectacular.
        from semantik.accounts import schema  # noqa: F401
