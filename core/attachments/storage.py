"""Where attachment files lie: PRIVATE_FILES_ROOT, outside MEDIA_ROOT, with no URL."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """A FileSystemStorage that has no URL: a file is read only by a checked, audited view.

    FileSystemStorage falls back to MEDIA_URL when given no base_url; refusing url()
    makes a template or serializer that asks for one fail loudly instead of printing a
    link that some web server might one day serve.
    """

    def url(self, name):
        raise NotImplementedError("Attachments have no URL: use the download view.")


def private_storage() -> PrivateStorage:
    # Built per call, not once at import: tests and operators change PRIVATE_FILES_ROOT,
    # and FileSystemStorage caches its location for its lifetime.
    return PrivateStorage(
        location=settings.PRIVATE_FILES_ROOT,
        base_url=None,
        file_permissions_mode=0o600,
        directory_permissions_mode=0o700,
    )
