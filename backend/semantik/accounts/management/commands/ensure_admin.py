"""Create the administrator from SEMANTIK_ADMIN_USERNAME / SEMANTIK_ADMIN_PASSWORD if missing."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from semantik.accounts.services import admin_ensure


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        result = admin_ensure(settings.SEMANTIK_ADMIN_USERNAME, settings.SEMANTIK_ADMIN_PASSWORD or None)
        if not result.created:
            self.stdout.write(f"Administrator {result.username!r} exists.")
        elif result.generated_password:
            self.stdout.write(
                self.style.WARNING(
                    f"Created administrator {result.username!r} with password {result.generated_password!r}. "
                    "It is shown only this once: write it down or set SEMANTIK_ADMIN_PASSWORD."
                )
            )
        else:
            self.stdout.write(f"Created administrator {result.username!r}.")
