"""Routes under /api/auth/."""

from django.urls import path

from semantik.accounts import views

urlpatterns = [
    path("register", views.RegisterView.as_view(), name="auth-register"),
    path("login", views.LoginView.as_view(), name="auth-login"),
    path("refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("logout", views.LogoutView.as_view(), name="auth-logout"),
    path("me", views.MeView.as_view(), name="auth-me"),
    path("password", views.PasswordView.as_view(), name="auth-password"),
    path("keys", views.ApiKeyListView.as_view(), name="auth-keys"),
    path("keys/<uuid:key_id>", views.ApiKeyDetailView.as_view(), name="auth-key"),
]
