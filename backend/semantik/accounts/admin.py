"""Users (Django's own admin, with their API keys and counts), API keys, and the registration switch."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from rest_framework.request import Request

from semantik.accounts.models import ApiKey, RegistrationSettings
from semantik.accounts.selectors import registration_is_open
from semantik.accounts.services import api_key_revoke
from semantik.accounts.throttles import LoginThrottle
from semantik.api import ServiceUnavailable
from semantik.collections.admin import DeletionThroughServices, deletion_refusals
from semantik.collections.models import Collection
from semantik.collections.services import collection_delete
from semantik.documents.models import Document


class ApiKeyInline(admin.TabularInline):
    """A user's keys, to read; revoking one is an action of the API key list."""

    model = ApiKey
    fields = readonly_fields = (
        "name",
        "prefix",
        "secret_hash",
        "scopes",
        "active",
        "created_at",
        "expires_at",
        "revoked_at",
    )
    extra = 0
    show_change_link = True

    @admin.display(boolean=True, description="active")
    def active(self, api_key: ApiKey) -> bool:
        return api_key.is_usable

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DeletionThroughServices, DjangoUserAdmin):
    inlines = [ApiKeyInline]
    list_display = [
        "username",
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
        "collection_count",
        "api_key_count",
        "last_login",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                collection_count=Count("collections", distinct=True),
                api_key_count=Count("api_keys", distinct=True),
            )
        )

    @admin.display(description="collections", ordering="collection_count")
    def collection_count(self, user: Any) -> int:
        return int(user.collection_count)

    @admin.display(description="API keys", ordering="api_key_count")
    def api_key_count(self, user: Any) -> int:
        return int(user.api_key_count)

    # Deleting a user deletes their collections, each through the service, so its Qdrant collection
    # and uploaded files go too (a cascade would leave them behind); all or nothing per user.

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[str], dict[str, int], set[str], list[str]]:
        users = list(objs)
        collections = Collection.objects.filter(owner__in=users)
        counts = {
            "users": len(users),
            "API keys": ApiKey.objects.filter(user__in=users).count(),
            "collections": collections.count(),
            "documents": Document.objects.filter(collection__in=collections).count(),
        }
        summary = [
            f"{u.username}: their API keys, and their collections with all they hold, vectors and "
            "uploaded files too"
            for u in users
        ]
        perms_needed = set() if self.has_delete_permission(request) else {"user"}
        return summary, counts, perms_needed, deletion_refusals(collections)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        with transaction.atomic():
            for collection in Collection.objects.filter(owner=obj):
                collection_delete(collection)
            obj.delete()


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "scopes", "active", "created_at", "expires_at", "last_used_at"]
    list_select_related = ["user"]
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


def _throttled_login(login: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The admin's login view under the API's login limit: attempts per IP address (`login` rate).

    Both forms take a password, so both count against one limit; without this the admin's form
    would let anyone guess passwords as fast as the server answers.
    """

    @functools.wraps(login)
    def view(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.method == "POST":
            throttle = LoginThrottle()
            try:
                allowed = throttle.allow_request(Request(request), None)  # type: ignore[arg-type]
            except ServiceUnavailable as exc:
                return HttpResponse(str(exc.detail), status=503, content_type="text/plain; charset=utf-8")
            if not allowed:
                wait = throttle.wait() or 60
                response = HttpResponse(
                    f"Too many log-in attempts from your address. Try again in {wait:.0f} seconds.",
                    status=429,
                    content_type="text/plain; charset=utf-8",
                )
                response["Retry-After"] = f"{wait:.0f}"
                return response
        return login(request, extra_context)

    return view


admin.site.login = _throttled_login(admin.site.login)  # type: ignore[method-assign]
