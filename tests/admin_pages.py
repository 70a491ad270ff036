"""Helpers of the admin tests: collections made by the service, what an admin page costs in queries,
and which fields a page lets staff edit."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from semantik.catalog.selectors import served_model
from semantik.collections.models import Collection
from semantik.collections.services import collection_create
from semantik.documents.models import Document, Source

# Form fields every admin form has, whatever the model's fields.
_FORM_PLUMBING = re.compile(
    r"^(csrfmiddlewaretoken|_\w+|action|select_across|index|.*-(TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)$"
)


def make_collection(owner: User, name: str = "Notes") -> Collection:
    """A collection as POST /api/v2/collections makes it, with its Qdrant collection (needs `models`)."""
    return collection_create(
        owner=owner,
        name=name,
        model=served_model(settings.DEFAULT_EMBEDDING_MODEL),
        chunk_size=128,
        chunk_overlap=16,
    )


def add_documents(collection: Collection, folder: Path, *statuses: str) -> list[Document]:
    """A folder source with one document per status, as a scan would have recorded them."""
    source, _ = Source.objects.get_or_create(collection=collection, path=str(folder))
    return [
        Document.objects.create(
            collection=collection,
            source=source,
            relative_path=f"{status}-{index}.txt",
            path=str(folder / f"{status}-{index}.txt"),
            status=status,
            chunk_count=3 if status == Document.Status.INDEXED else 0,
            size=100,
            error="Cannot read it." if status == Document.Status.FAILED else "",
        )
        for index, status in enumerate(statuses)
    ]


def query_count(client: Client, url: str) -> int:
    """The database queries one GET of `url` makes; the page must answer 200."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def editable_fields(page: str) -> set[str]:
    """The names of the form fields a change page offers (inputs, selects, text areas; not hidden ones)."""
    names = set()
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", page):
        name = re.search(r'\bname="([^"]+)"', tag)
        if name and 'type="hidden"' not in tag and not _FORM_PLUMBING.match(name.group(1)):
            names.add(name.group(1))
    return names
