"""Routes for operations under /api/v2/."""

from django.urls import path

from semantik.operations import views

urlpatterns = [
    path("operations", views.OperationListView.as_view(), name="operation-list"),
    path("operations/<uuid:operation_id>", views.OperationDetailView.as_view(), name="operation-detail"),
    path(
        "operations/<uuid:operation_id>/cancel", views.OperationCancelView.as_view(), name="operation-cancel"
    ),
    path("operations/<uuid:operation_id>/retry", views.OperationRetryView.as_view(), name="operation-retry"),
]
