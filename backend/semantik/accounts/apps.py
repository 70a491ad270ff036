"""Django app configuration for accounts."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "semantik.accounts"
    label = "accounts"
