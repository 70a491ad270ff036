"""API keys and the registration switch in the Django admin (users are Django's own admin)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from semantik.accounts.models import ApiKey, RegistrationSettings
from semantik.accounts.selectors import registration_is_open
from semantik.accounts.services import api_key_revoke


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "scopes", "active", "created_at", "expires_at", "last_used_at"]
    list_filter = ["created_at", "revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    # The secret exists only as its digest; keys are created by their owner, who sees it once.
    readonly_fields = ["id", "user", "prefix", "secret_hash", "created_at", "revoked_at", "last_used_at"]
    fields = [
        "id",
        "user",
        "name",
        "prefix",
        "secret_hash",
        "scopes",
        "expires_at",
        "created_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    @admin.display(boolean=True, description="active")
    def active(self, api_key: ApiKey) -> bool:
        return api_key.is_usable

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            api_key_revoke(api_key)
        self.message_user(request, f"Revoked {queryset.count()} API key(s).", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(RegistrationSettings)
class RegistrationSettingsAdmin(admin.ModelAdmin):
    fields = ["open", "effective"]
    readonly_fields = ["effective"]

    @admin.display(description="registration now")
    def effective(self, obj: RegistrationSettings) -> str:
        state = "open" if registration_is_open() else "closed"
        return f"{state} (REGISTRATION_OPEN of the server: {settings.REGISTRATION_OPEN})"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # One row: the list is pointless, go straight to it.
        row, _ = RegistrationSettings.objects.get_or_create(pk=RegistrationSettings.SINGLETON_ID)
        return HttpResponseRedirect(reverse("admin:accounts_registrationsettings_change", args=[row.pk]))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: RegistrationSettings | None = None) -> bool:
        return False
