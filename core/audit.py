"""The audit entry point: `log_action(...)`, called by every service that changes state.

The events are stored by the activity app (AuditEvent points at an Organization, so it
cannot live in core). activity registers its writer here in ActivityConfig.ready
(`register_audit_sink`); services everywhere import `log_action` from core and never
from activity, so the arrows keep pointing down.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

_sink = None

# Readable names of the dotted action codes (issue 15: the audit log spoke codes). Each
# app registers its own in AppConfig.ready; an unregistered code reads as its area.
_labels: dict[str, Any] = {}
_areas: dict[str, Any] = {}


def register_action_labels(labels: dict[str, Any], *, areas: dict[str, Any] | None = None) -> None:
    """Name action codes ({"member.join_approved": _("批准入会申请")}) and their areas ({"member": _("会员")})."""
    _labels.update(labels)
    _areas.update(areas or {})


def action_label(code: str) -> str:
    """The readable name of an action code; an unknown code reads as "area：code"."""
    label = _labels.get(code)
    if label is not None:
        return str(label)
    area = _areas.get(code.split(".", 1)[0])
    return gettext("%(area)s：%(code)s") % {"area": area, "code": code} if area is not None else code


def action_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Action names grouped by area, for a filter: [(area name, [(area prefix or code, name)])]."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for code in sorted(_labels):
        groups.setdefault(code.split(".", 1)[0], []).append((code, str(_labels[code])))
    out = []
    for area, items in groups.items():
        name = str(_areas.get(area, area))
        everything = (f"{area}.", gettext("%(area)s（全部）") % {"area": name})
        out.append((name, [everything, *sorted(items, key=lambda item: item[1])]))
    return out


register_action_labels(
    {
        "auth.login": _("登录"),
        "auth.logout": _("退出登录"),
        "auth.login_failed": _("登录失败"),
        "auth.password_changed": _("修改密码"),
        "auth.password_reset_requested": _("申请短信验证码重设密码"),
        "auth.password_reset": _("凭短信验证码重设密码"),
        "auth.otp_verified": _("通过二次验证"),
        "auth.otp_failed": _("二次验证失败"),
        "auth.totp_enrolment_started": _("开始绑定验证器"),
        "auth.totp_enabled": _("启用二次验证"),
        "auth.totp_disabled": _("停用二次验证"),
        "attachment.added": _("上传附件"),
        "attachment.removed": _("删除附件"),
        "attachment.downloaded": _("下载附件"),
        "attachment.scanned": _("附件病毒扫描"),
        "approval.started": _("发起审批"),
        "approval.decided": _("审批表态"),
        "approval.approved": _("审批通过"),
        "approval.rejected": _("审批驳回"),
        "approval.returned": _("审批退回"),
        "approval.cancelled": _("撤回审批"),
    },
    areas={"auth": _("账号"), "attachment": _("附件"), "approval": _("审批")},
)


def register_audit_sink(sink) -> None:
    """Name the function that stores an audit event (activity.services.audit_event_record)."""
    global _sink
    _sink = sink


def log_action(
    *,
    actor,
    action: str,
    target: models.Model | None = None,
    organization=None,
    data: dict[str, Any] | None = None,
    ip_address: str | None = None,
):
    """Record that `actor` did `action` (a dotted code like 'organization.moved') to `target`.

    Call it inside the service's transaction, so the event exists exactly when the change
    does. Returns the stored event (an activity.models.AuditEvent).
    """
    if _sink is None:
        raise RuntimeError("no audit writer registered: the activity app registers it when Django starts")
    return _sink(actor=actor, action=action, target=target, organization=organization, data=data, ip_address=ip_address)
