"""Private attachments for any object: documents of aid files, dispute evidence, photos.

Where things are:
- `models.Attachment`: one row per file, pointing at its owner (content type + id), with
  the owner's org path copied for scoped lists and a soft delete.
- `storage.private_storage()`: the files, under PRIVATE_FILES_ROOT, with no URL.
- `services`: `attachment_add` (type by content, size, scan, audit) and `attachment_remove`.
- `selectors`: `attachments_for(user, owner)`, `attachment_get_for_user(user, pk)`.
- `views` / `api`: the download, as a page URL and an API endpoint, audited.
- `forms`: the upload field and form a domain page uses (`templates/core/attachments/`).

An owner model needs a ScopedQuerySet manager (`Model.objects.for_user`) and integer
primary keys. It may define `attachment_visible_to_worker(user) -> bool` to let a worker
account read (and add) the attachments of that object, e.g. the worker's own aid file.
"""
