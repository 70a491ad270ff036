"""Request and response shapes of /api/auth/."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.contrib.auth.validators import UnicodeUsernameValidator
from rest_framework import serializers

from semantik.accounts.models import ApiKey


class UserSerializer(serializers.ModelSerializer):
    # Not an EmailField: an account registered without an address has "", which no email format admits.
    email = serializers.CharField(read_only=True, help_text="The address, or empty when none was given.")

    class Meta:
        model = User
        fields = ["id", "username", "email", "is_staff", "date_joined"]
        read_only_fields = fields


class MeSerializer(UserSerializer):
    auth = serializers.SerializerMethodField(
        help_text='How this request was authenticated: "jwt" or "api_key".'
    )
    scopes = serializers.SerializerMethodField(help_text="What the request may do: every scope with a JWT.")

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "auth", "scopes"]
        read_only_fields = fields

    def _api_key(self) -> ApiKey | None:
        auth = self.context["request"].auth
        return auth if isinstance(auth, ApiKey) else None

    def get_auth(self, user: User) -> str:
        return "api_key" if self._api_key() else "jwt"

    def get_scopes(self, user: User) -> list[str]:
        api_key = self._api_key()
        return list(api_key.scopes) if api_key else list(ApiKey.Scope.values)


class RegisterSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    password = serializers.CharField(write_only=True, trim_whitespace=False)
    email = serializers.EmailField(required=False, allow_blank=True, default="")


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True)
    refresh = serializers.CharField(read_only=True)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(write_only=True, trim_whitespace=False)
    new_password = serializers.CharField(write_only=True, trim_whitespace=False)


class ApiKeySerializer(serializers.ModelSerializer):
    active = serializers.BooleanField(source="is_usable", read_only=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "active",
        ]
        read_only_fields = fields


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The whole key. It is shown only in this response.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ApiKey.Scope.choices), min_length=1)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
