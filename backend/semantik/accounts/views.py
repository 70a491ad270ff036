"""Log-in, token refresh and the current user."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView


class LoginView(TokenObtainPairView):
    """`{username, password}` → `{access, refresh}`."""


class RefreshView(TokenRefreshView):
    """`{refresh}` → `{access}`."""


class MeView(APIView):
    def get(self, request: Request) -> Response:
        user = request.user
        return Response({"id": user.pk, "username": user.get_username(), "is_staff": user.is_staff})
