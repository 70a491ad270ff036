"""Collections in the Django admin."""

from django.contrib import admin

from semantik.collections.models import Collection


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "embedding_model", "precision", "status", "created_at"]
    list_filter = ["status", "embedding_model", "precision"]
    search_fields = ["name", "owner__username"]
    # The model, dimension and vector pointer are fixed by how the vectors were built.
    readonly_fields = [
        "id",
        "embedding_model",
        "precision",
        "vector_dimension",
        "vector_collection",
        "created_at",
        "updated_at",
    ]
