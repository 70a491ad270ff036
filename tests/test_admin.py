"""The admin site as a whole: staff only, and every model registered (Celery's task results too)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse
from django_celery_results.models import TaskResult

pytestmark = pytest.mark.django_db

SEMANTIK_MODELS = {
    "auth.user",
    "accounts.apikey",
    "accounts.registrationsettings",
    "collections.collection",
    "documents.source",
    "documents.document",
    "operations.operation",
    "django_celery_results.taskresult",
    "django_celery_results.groupresult",
}


def changelists() -> list[str]:
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]


def test_every_model_staff_look_after_is_registered() -> None:
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered >= SEMANTIK_MODELS


def test_people_who_are_not_staff_are_sent_to_the_login_page(client, user) -> None:  # type: ignore[no-untyped-def]
    pages = ["/admin/", *changelists()]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), page
    client.force_login(user)
    for page in pages:
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), page


def test_staff_see_every_list_with_celery_task_results_among_them(admin_client) -> None:  # type: ignore[no-untyped-def]
    TaskResult.objects.create(task_id="c0ffee-task", task_name="semantik.index_source", status="SUCCESS")
    index = admin_client.get("/admin/").content.decode()
    assert "/admin/django_celery_results/taskresult/" in index
    for page in changelists():
        response = admin_client.get(page, follow=True)
        assert response.status_code == 200, page
    tasks = admin_client.get("/admin/django_celery_results/taskresult/").content.decode()
    assert "c0ffee-task" in tasks
