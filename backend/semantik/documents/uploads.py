"""Uploads: each collection's managed folder, names checked before anything is stored, and
multipart bodies streamed to disk within the size limits."""

from __future__ import annotations

import html
import logging
import os
import re
import shutil
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import IO, Any, TypedDict

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.parsers import BaseParser, DataAndFiles

from semantik.documents.extraction import is_supported

logger = logging.getLogger(__name__)

# Hidden, so no scan ever reads it; under UPLOAD_ROOT, so a staged file reaches its place in one
# rename on the same filesystem.
STAGING_FOLDER = ".incoming"
# What a filesystem allows for one name, and what a Document keeps for a relative path.
MAX_NAME_BYTES = 255
MAX_RELATIVE_PATH_CHARS = 4096
_DRIVE = re.compile(r"^[A-Za-z]:")


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The upload is too large."


class UploadFailed(APIException):
    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_code = "upload_failed"
    default_detail = "The files could not be stored."


class StoredFile(TypedDict):
    relative_path: str
    size: int


def upload_folder(collection_id: uuid.UUID | str) -> Path:
    """Where a collection's uploaded files live: its upload source's folder."""
    return Path(settings.UPLOAD_ROOT) / str(uuid.UUID(str(collection_id)))


def upload_relative_path(raw: str) -> str:
    """The relative path a file sent as `raw` is stored at; ValueError saying why it is refused."""
    if "\x00" in raw:
        raise ValueError("it contains a NUL byte")
    # Windows clients separate folders with backslashes; macOS sends decomposed accents.
    name = unicodedata.normalize("NFC", raw.replace("\\", "/"))
    if not name.strip():
        raise ValueError("the name is empty")
    if name.startswith("/") or _DRIVE.match(name):
        raise ValueError("it is an absolute path; give a path relative to the upload")
    parts = name.split("/")
    for part in parts:
        if part == "..":
            raise ValueError("'..' would lead out of the collection's folder")
        if part in {"", "."} or not part.strip():
            raise ValueError("one of its folder or file names is empty")
        if part.startswith("."):
            raise ValueError(f"{part!r} is hidden (starts with '.'), and hidden files are never indexed")
        if not part.isprintable():
            raise ValueError("it contains control characters")
        if len(part.encode("utf-8")) > MAX_NAME_BYTES:
            raise ValueError(f"a name in it is longer than {MAX_NAME_BYTES} bytes")
    if len(name) > MAX_RELATIVE_PATH_CHARS:
        raise ValueError(f"it is longer than {MAX_RELATIVE_PATH_CHARS} characters")
    if not is_supported(parts[-1]):
        raise ValueError("Semantik cannot read files of this type")
    return name


class StagedFile(TemporaryUploadedFile):
    """An uploaded file in a hidden staging file under UPLOAD_ROOT, until it is moved into place.

    Closing it deletes the staging file unless it was moved; Django closes it after the request.
    """

    def __init__(
        self,
        staging: Path,
        client_name: str,
        content_type: str,
        charset: str | None,
        content_type_extra: dict[str, Any] | None,
    ) -> None:
        # Not TemporaryUploadedFile's own __init__: that stages in FILE_UPLOAD_TEMP_DIR, maybe on
        # another filesystem, where the final move could not be one atomic rename.
        file = tempfile.NamedTemporaryFile(prefix=".upload-", dir=staging)  # noqa: SIM115 - closed with the request
        # Django's `name` refuses a last part of "", "." or ".." with SuspiciousFileOperation (an HTML
        # 400 and an error log); the name as sent is judged by upload_relative_path, in the one error shape.
        name = client_name if os.path.basename(client_name) not in {"", ".", ".."} else "upload"
        UploadedFile.__init__(self, file, name, content_type, 0, charset, content_type_extra)
        # `name` keeps only the last part (Django's rule); this is the name exactly as sent.
        self.client_name = client_name


class UploadStream(FileUploadHandler):
    """Streams each `files` part into a StagedFile as it arrives, within the size limits.

    A file over UPLOAD_MAX_BYTES or a body over UPLOAD_MAX_REQUEST_BYTES stops the upload with
    413 naming it, and every file staged so far is deleted.
    """

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.max_file_bytes: int = settings.UPLOAD_MAX_BYTES
        self.max_request_bytes: int = settings.UPLOAD_MAX_REQUEST_BYTES
        self.staging = Path(settings.UPLOAD_ROOT) / STAGING_FOLDER
        self.staged: list[StagedFile] = []
        self.current: StagedFile | None = None
        self.received = 0

    def handle_raw_input(
        self,
        input_data: IO[bytes],
        META: Mapping[str, Any],  # noqa: N803 - Django's name
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> None:
        if content_length > self.max_request_bytes:
            raise PayloadTooLarge(
                f"The request is {content_length} bytes, over the limit of {self.max_request_bytes} "
                "(UPLOAD_MAX_REQUEST_BYTES); send the files in several requests."
            )

    def new_file(
        self,
        field_name: str,
        file_name: str,
        content_type: str,
        content_length: int | None,
        charset: str | None = None,
        content_type_extra: dict[str, Any] | None = None,
    ) -> None:
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        if field_name != "files":
            self.discard()
            raise ValidationError(
                {
                    field_name: [
                        f"Unexpected file part {field_name!r}: send every file as a part named 'files'."
                    ]
                }
            )
        if content_length is not None and content_length > self.max_file_bytes:
            self._too_large()
        self.staging.mkdir(parents=True, exist_ok=True)
        self.current = StagedFile(self.staging, file_name, content_type, charset, content_type_extra)
        self.staged.append(self.current)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        assert self.current is not None
        self.received += len(raw_data)
        if start + len(raw_data) > self.max_file_bytes:
            self._too_large()
        if self.received > self.max_request_bytes:
            self.discard()
            raise PayloadTooLarge(
                f"The files sent add up to more than {self.max_request_bytes} bytes "
                "(UPLOAD_MAX_REQUEST_BYTES); send them in several requests."
            )
        self.current.write(raw_data)

    def file_complete(self, file_size: int) -> StagedFile:
        staged, self.current = self.current, None
        assert staged is not None
        # On disk before it can be moved into place: a crash never leaves a short file indexed.
        staged.flush()
        os.fsync(staged.fileno())
        staged.seek(0)
        staged.size = file_size
        return staged

    def upload_interrupted(self) -> None:
        self.discard()

    def discard(self) -> None:
        for staged in self.staged:
            staged.close()
        self.staged.clear()
        self.current = None

    def _too_large(self) -> None:
        self.discard()
        raise PayloadTooLarge(
            f"{self.file_name!r} is larger than the upload limit of {self.max_file_bytes} bytes "
            "(UPLOAD_MAX_BYTES); nothing was stored."
        )


class _NamesAsSent(DjangoMultiPartParser):
    def sanitize_file_name(self, file_name: str) -> str | None:
        # Django would shorten "../a.txt" to "a.txt" and drop ".." silently; upload_relative_path
        # refuses such names instead, naming them.
        return html.unescape(file_name) or None


class UploadParser(BaseParser):
    """multipart/form-data for uploads: files stream to disk within the limits, names kept as sent."""

    media_type = "multipart/form-data"

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> DataAndFiles[Any, Any]:
        context = parser_context or {}
        request = context["request"]
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        handler = UploadStream(request)
        encoding = context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            data, files = _NamesAsSent(meta, stream, [handler], encoding).parse()  # type: ignore[arg-type]
        except MultiPartParserError as exc:
            handler.discard()
            raise ParseError(f"The multipart body cannot be read: {exc}") from exc
        except TooManyFilesSent as exc:
            handler.discard()
            raise ValidationError(
                {"files": [f"Send at most {settings.UPLOAD_MAX_FILES} files per request (UPLOAD_MAX_FILES)."]}
            ) from exc
        except (TooManyFieldsSent, RequestDataTooBig) as exc:
            handler.discard()
            raise ValidationError({"paths": ["The form fields are too many or too long."]}) from exc
        except BaseException:
            handler.discard()
            raise
        return DataAndFiles(data, files)


def uploads_place(folder: Path, files: Sequence[tuple[str, StagedFile]]) -> list[StoredFile]:
    """Move staged files to their relative paths in `folder`, each in one atomic rename.

    Everything is checked before the first move, so a clash (a file where a folder must go, or
    the reverse) refuses the whole upload with nothing moved. A file already at a path is
    replaced; a scan never sees half a file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    sent = {name for name, _ in files}
    errors: list[str] = []
    for name, staged in files:
        for ancestor in map(str, PurePosixPath(name).parents):
            if ancestor == ".":
                continue
            on_disk = folder / ancestor
            if ancestor in sent:
                errors.append(
                    f"{staged.client_name!r} needs {ancestor!r} to be a folder, but it is sent as a file."
                )
            elif on_disk.is_symlink() or (on_disk.exists() and not on_disk.is_dir()):
                errors.append(f"{staged.client_name!r} needs {ancestor!r} to be a folder, but it is a file.")
        target = folder / name
        if target.is_dir() and not target.is_symlink():
            errors.append(f"{staged.client_name!r} would replace the folder {name!r}.")
    if errors:
        raise ValidationError({"files": errors})
    stored: list[StoredFile] = []
    for name, staged in files:
        target = folder / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged.temporary_file_path(), target)
        except OSError as exc:
            raise UploadFailed(f"{staged.client_name!r} could not be stored: {exc.strerror or exc}") from exc
        stored.append({"relative_path": name, "size": staged.size or 0})
    return stored


def upload_folder_remove(folder: Path) -> None:
    """Delete an upload folder and its files; never anything outside UPLOAD_ROOT."""
    root = Path(settings.UPLOAD_ROOT).resolve()
    resolved = folder.resolve()
    if resolved == root or not resolved.is_relative_to(root):
        logger.warning("Not deleting %s: it is not a folder inside UPLOAD_ROOT (%s)", folder, root)
        return
    if folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder)


# A staged upload this old belongs to a request that will never finish (the process died
# mid-upload): one being received is written to continuously, so its modification time is fresh.
STAGED_UPLOAD_EXPIRY_S = 6 * 3600


def uploads_sweep_staging(older_than_s: float = STAGED_UPLOAD_EXPIRY_S) -> int:
    """Delete staged uploads a crash left behind (untouched for `older_than_s`); how many."""
    staging = Path(settings.UPLOAD_ROOT) / STAGING_FOLDER
    if not staging.is_dir():
        return 0
    cutoff = time.time() - older_than_s
    removed = 0
    for leftover in staging.glob(".upload-*"):
        try:
            if leftover.is_file() and not leftover.is_symlink() and leftover.stat().st_mtime < cutoff:
                leftover.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # its request finished meanwhile
    if removed:
        logger.info("Removed %d staged uploads left by interrupted requests", removed)
    return removed
