"""The upload field and form a domain page drops in (with templates/core/attachments/_upload.html).

The field only helps the browser (accept=, the limits in the help text) and refuses an
oversized file early; the service checks everything again by content, since a hand-made
POST skips the browser.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .checks import ACCEPT_ATTR, ALLOWED_LABEL


def _limits_text() -> str:
    return gettext("支持 %(allowed)s；单个文件不超过 %(limit)s。手机可直接拍照上传。") % {
        "allowed": ALLOWED_LABEL,
        "limit": filesizeformat(settings.ATTACHMENT_MAX_BYTES),
    }


limits_text = lazy(_limits_text, str)


class AttachmentFileField(forms.FileField):
    """A file input with accept= set to the allow-list and the limits under it, in Chinese."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("文件"))
        kwargs.setdefault("help_text", limits_text())
        kwargs.setdefault("widget", forms.ClearableFileInput(attrs={"accept": ACCEPT_ATTR}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        data = super().clean(data, initial)
        if data is not None and data.size > settings.ATTACHMENT_MAX_BYTES:
            raise forms.ValidationError(
                gettext("文件太大（%(size)s）：单个文件不能超过 %(limit)s，请压缩或分开上传。")
                % {"size": filesizeformat(data.size), "limit": filesizeformat(settings.ATTACHMENT_MAX_BYTES)}
            )
        return data


class AttachmentUploadForm(forms.Form):
    """Kind + file. The domain passes its checklist: `AttachmentUploadForm(kinds=[("diagnosis", "诊断证明"), …])`."""

    kind = forms.ChoiceField(label=_("材料类别"))
    file = AttachmentFileField()

    def __init__(self, *args, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("请选择"))] + list(kinds)
        self.fields["kind"].widget.attrs["class"] = "form-select"
        self.fields["file"].widget.attrs["class"] = "form-control"
