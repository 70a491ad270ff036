"""The admin: users with their API keys, revoking keys, and opening or closing registration at run time."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from semantik.accounts.models import ApiKey, RegistrationSettings
from semantik.accounts.services import api_key_create
from semantik.collections.models import Collection
from semantik.documents.services import source_add
from semantik.vectors import get_vector_store
from tests.admin_pages import editable_fields, make_collection, query_count

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):  # type: ignore[no-untyped-def]
    django_user_model.objects.create_superuser(username="root", password=PASSWORD)
    client.login(username="root", password=PASSWORD)
    return client


def test_staff_revoke_keys_from_the_list(staff, user):  # type: ignore[no-untyped-def]
    created = api_key_create(user=user, name="script", scopes=["read"])
    response = staff.post(
        "/admin/accounts/apikey/",
        {"action": "revoke", "_selected_action": [str(created.api_key.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert ApiKey.objects.get().revoked_at is not None
    assert APIClient().get("/api/auth/me", HTTP_X_API_KEY=created.key).status_code == 401


def test_the_key_page_shows_the_digest_read_only_and_keys_cannot_be_added(staff, user):  # type: ignore[no-untyped-def]
    api_key = api_key_create(user=user, name="script", scopes=["read"]).api_key
    page = staff.get(f"/admin/accounts/apikey/{api_key.pk}/change/").content.decode()
    assert api_key.secret_hash in page
    assert 'name="secret_hash"' not in page
    assert staff.get("/admin/accounts/apikey/add/").status_code == 403


def test_staff_open_registration_against_the_setting(staff, settings):  # type: ignore[no-untyped-def]
    settings.REGISTRATION_OPEN = False
    assert staff.get("/admin/accounts/registrationsettings/").status_code == 302
    response = staff.post("/admin/accounts/registrationsettings/1/change/", {"open": "true"})
    assert response.status_code == 302
    assert RegistrationSettings.objects.get().open is True
    body = {"username": "carol", "password": PASSWORD}
    assert APIClient().post("/api/auth/register", body, format="json").status_code == 201
    staff.post("/admin/accounts/registrationsettings/1/change/", {"open": "unknown"})
    assert RegistrationSettings.objects.get().open is None
    body = {"username": "dave", "password": PASSWORD}
    assert APIClient().post("/api/auth/register", body, format="json").status_code == 403


def test_a_users_page_shows_their_api_keys_read_only(staff, user):  # type: ignore[no-untyped-def]
    api_key = api_key_create(user=user, name="nightly backup", scopes=["read"]).api_key
    response = staff.get(f"/admin/auth/user/{user.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "nightly backup" in page and api_key.prefix in page and api_key.secret_hash in page
    # Shown, not offered for editing: the inline has no field of its own.
    assert not {name for name in editable_fields(page) if name.startswith("api_keys-")}
    assert "username" in editable_fields(page)
    assert f"/admin/accounts/apikey/{api_key.pk}/change/" in page


def test_user_and_key_lists_cost_the_same_queries_for_one_row_or_many(  # type: ignore[no-untyped-def]
    staff, make_user, user
):
    api_key_create(user=user, name="one", scopes=["read"])
    users, keys = query_count(staff, "/admin/auth/user/"), query_count(staff, "/admin/accounts/apikey/")
    for name in ("bob", "carol", "dave"):
        api_key_create(user=make_user(name), name=f"{name}'s", scopes=["read", "write"])
    assert query_count(staff, "/admin/auth/user/") == users
    assert query_count(staff, "/admin/accounts/apikey/") == keys


def test_the_user_list_counts_collections_and_keys(staff, user, models):  # type: ignore[no-untyped-def]
    make_collection(user, "One")
    make_collection(user, "Two")
    api_key_create(user=user, name="script", scopes=["read"])
    page = staff.get("/admin/auth/user/?q=alice").content.decode()
    assert '<td class="field-collection_count">2</td>' in page
    assert '<td class="field-api_key_count">1</td>' in page


def test_deleting_a_user_deletes_their_collections_with_their_vectors(  # type: ignore[no-untyped-def]
    staff, user, models, django_capture_on_commit_callbacks
):
    collection = make_collection(user)
    url = f"/admin/auth/user/{user.pk}/delete/"
    assert "vectors and uploaded files too" in staff.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(url, {"post": "yes"}).status_code == 302
    assert not User.objects.filter(pk=user.pk).exists() and not Collection.objects.exists()
    assert not get_vector_store().collection_exists(collection.vector_collection)


def test_a_user_whose_collection_an_operation_works_on_is_not_deleted(  # type: ignore[no-untyped-def]
    staff, user, models, documents_root
):
    collection = make_collection(user)
    operation = source_add(collection=collection, path=str(documents_root), user=user)
    url = f"/admin/auth/user/{user.pk}/delete/"
    assert f"busy with index operation {operation.id}" in staff.get(url).content.decode()
    staff.post(url, {"post": "yes"})
    staff.post(
        "/admin/auth/user/", {"action": "delete_selected", "_selected_action": [user.pk], "post": "yes"}
    )
    assert User.objects.filter(pk=user.pk).exists()
    assert get_vector_store().collection_exists(collection.vector_collection)
