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

Using it from a domain (the hardship-aid file, say):

    # models.py: let the worker whose file it is read and add its documents
    def attachment_visible_to_worker(self, user) -> bool:
        return self.applicant_user_id == user.pk

    # views.py: the checklist is the domain's; the service checks everything
    form = AttachmentUploadForm(request.POST or None, request.FILES or None, kinds=AID_DOCUMENT_KINDS)
    attachment_add(owner=aid_file, uploaded_file=form.cleaned_data["file"],
                   kind=form.cleaned_data["kind"], actor=request.user)
    # template: {% include "core/attachments/_list.html" with attachments=… kind_labels=… %}
    #           {% include "core/attachments/_upload.html" with form=form action=… %}

    # api.py: AttachmentOutputSerializer for lists, AttachmentInputSerializer for uploads
    # (multipart); downloads are the shared GET /api/v1/attachments/{id}/download/.

A domain that moves an owner to another organisation calls attachment_paths_refresh.
"""
