"""Registration, log-in and tokens, the current user, password change, and API keys."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView

from semantik.accounts.permissions import LoggedIn
from semantik.accounts.selectors import api_key_get_for_user, api_keys_for_user
from semantik.accounts.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    MeSerializer,
    PasswordChangeSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from semantik.accounts.services import (
    api_key_create,
    api_key_revoke,
    password_change,
    refresh_token_revoke,
    tokens_refresh,
    user_register,
)
from semantik.accounts.throttles import LoginThrottle, RegisterThrottle
from semantik.api import Pagination, current_user, paginated
from semantik.openapi import error


class CredentialsView(APIView):
    """An endpoint whose body is the credential: it ignores the Authorization header."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request: Request) -> str:
        # Keeps a failed credential a 401 (DRF turns it into a 403 for views without one).
        return 'Bearer realm="api"'


BAD_REFRESH = error(
    "The refresh token is invalid, expired or revoked (`token_not_valid`), its user inactive "
    "(`no_active_account`), or the password changed since it was issued (`password_changed`)."
)


@extend_schema(
    responses={
        200: TokenPairSerializer,
        401: error("Wrong username or password, or an inactive account (`no_active_account`)."),
    }
)
class LoginView(TokenObtainPairView):
    """`{username, password}` → `{access, refresh}`."""

    throttle_classes = [LoginThrottle]


class RegisterView(CredentialsView):
    """`{username, password, email?}` → 201 the new user, while registration is open (else 403)."""

    throttle_classes = [RegisterThrottle]

    @extend_schema(
        request=RegisterSerializer,
        responses={201: UserSerializer, 403: error("Registration is closed (`registration_closed`).")},
    )
    def post(self, request: Request) -> Response:
        body = RegisterSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = user_register(**body.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class RefreshView(CredentialsView):
    """`{refresh}` → a new `{access, refresh}`; the refresh token given is revoked."""

    @extend_schema(request=RefreshSerializer, responses={200: TokenPairSerializer, 401: BAD_REFRESH})
    def post(self, request: Request) -> Response:
        body = RefreshSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(tokens_refresh(body.validated_data["refresh"]))


class LogoutView(CredentialsView):
    """`{refresh}` → 204; the refresh token is revoked (the access token lives out its minutes)."""

    @extend_schema(request=RefreshSerializer, responses={204: None, 401: BAD_REFRESH})
    def post(self, request: Request) -> Response:
        body = RefreshSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        refresh_token_revoke(body.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


# Security in the OpenAPI description of endpoints that refuse API keys (extend_schema's `auth`
# takes security requirement objects, though its annotation says strings).
JWT_ONLY: Any = [{"jwtAuth": []}]


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(current_user(request), context={"request": request}).data)


@extend_schema(auth=JWT_ONLY)
class PasswordView(APIView):
    """Change the password: every refresh token is revoked, and a fresh pair is returned."""

    permission_classes = [IsAuthenticated, LoggedIn]

    @extend_schema(request=PasswordChangeSerializer, responses=TokenPairSerializer)
    def post(self, request: Request) -> Response:
        body = PasswordChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(password_change(current_user(request), **body.validated_data))


@extend_schema(auth=JWT_ONLY)
class ApiKeyListView(APIView):
    permission_classes = [IsAuthenticated, LoggedIn]
    pagination_class = Pagination

    @extend_schema(responses=ApiKeySerializer(many=True))
    def get(self, request: Request) -> Response:
        keys = api_keys_for_user(current_user(request))
        return paginated(request, self, keys, lambda page: ApiKeySerializer(page, many=True).data)

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: ApiKeyCreatedSerializer})
    def post(self, request: Request) -> Response:
        body = ApiKeyCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        created = api_key_create(user=current_user(request), **body.validated_data)
        return Response(
            {**ApiKeySerializer(created.api_key).data, "key": created.key}, status=status.HTTP_201_CREATED
        )


@extend_schema(auth=JWT_ONLY)
class ApiKeyDetailView(APIView):
    permission_classes = [IsAuthenticated, LoggedIn]

    @extend_schema(responses=ApiKeySerializer)
    def get(self, request: Request, key_id: UUID) -> Response:
        return Response(ApiKeySerializer(api_key_get_for_user(current_user(request), key_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, key_id: UUID) -> Response:
        api_key_revoke(api_key_get_for_user(current_user(request), key_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
