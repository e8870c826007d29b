"""Export of the member roll in the user's reach (xlsx or csv), masked unless allowed, audited."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import crypto, documents
from core.audit import log_action
from core.replicas import heavy_reads
from core.roles import PERSONAL_DATA_FULL
from core.scoping import has_capability, reach_paths
from organizations.models import Organization, User

from .models import Member

# Column titles, rendered in the language of the request that asks for the file.
EXPORT_HEADERS = [
    gettext_lazy("会员编号"),
    gettext_lazy("姓名"),
    gettext_lazy("性别"),
    gettext_lazy("出生日期"),
    gettext_lazy("身份证号码"),
    gettext_lazy("手机号码"),
    gettext_lazy("所在工会"),
    gettext_lazy("会籍状态"),
    gettext_lazy("入会日期"),
    gettext_lazy("工作单位"),
    gettext_lazy("就业形态"),
    gettext_lazy("是否农民工"),
    gettext_lazy("文化程度"),
    gettext_lazy("技能等级"),
]
CHUNK = 2000


def _rows(user: User, queryset: QuerySet[Member], full: bool) -> Iterator[list]:
    """Rows of the export, read in keyset chunks (constant memory, no OFFSET)."""
    qs = queryset.select_related("current_membership__union").order_by("id")
    last = 0
    fernet = crypto.fernet()
    while True:
        # A replica may serve the chunk (core.replicas): the rows do not depend on the export's
        # own audit entry, written just before.
        with heavy_reads(independent=True):
            chunk = list(qs.filter(id__gt=last)[:CHUNK])
        if not chunk:
            return
        for m in chunk:
            ms = m.current_membership
            show_full = full and has_capability(user, PERSONAL_DATA_FULL, m.org_path)
            yield [
                ms.member_number if ms else "",
                m.name,
                m.get_sex_display(),
                m.birth_date.isoformat(),
                fernet.decrypt(m.id_number_enc.encode()).decode() if show_full else m.id_masked,
                fernet.decrypt(m.mobile_enc.encode()).decode() if show_full else m.mobile_masked,
                ms.union.name if ms else "",
                ms.get_status_display() if ms else "",
                ms.joined_on.isoformat() if ms else "",
                m.employer_name,
                m.get_employment_form_display(),
                _("是") if m.is_migrant_worker else _("否"),
                m.get_education_display(),
                m.get_skill_level_display(),
            ]
        last = chunk[-1].id


def member_export(
    *, actor: User, queryset: QuerySet[Member], fmt: str, full: bool = False, filters: dict | None = None
) -> tuple[str, str, object]:
    """The roll (already scoped and filtered by the caller) as a file: (name, content type, body).

    Full ID numbers and mobiles only for rows where the actor's role holds
    personal_data.full; every export is audited, and a full one also as a personal-data view.
    """
    if fmt not in ("csv", "xlsx"):
        from django.core.exceptions import ValidationError

        raise ValidationError({"format": _("导出格式应为 xlsx 或 csv。")})
    full = bool(full) and _may_see_full_somewhere(actor)
    with heavy_reads():  # a count over the whole roll in reach: a replica may serve it
        count = queryset.count()
    org = _audit_org(actor, (filters or {}).get("under"))
    log_action(
        actor=actor,
        action="member.exported",
        organization=org,
        data={"rows": count, "format": fmt, "full": full, "filters": {k: str(v) for k, v in (filters or {}).items()}},
    )
    if full:
        log_action(
            actor=actor,
            action="member.personal_data_viewed",
            organization=org,
            data={"fields": ["id_number", "mobile"], "rows": count, "via": "export"},
        )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    rows = _rows(actor, queryset, full)
    header = [str(h) for h in EXPORT_HEADERS]  # now, in the request's language (csv streams later)
    # The shared writers escape names, employers… that a spreadsheet would run as formulas.
    if fmt == "csv":
        return f"members-{stamp}.csv", documents.CSV_CONTENT_TYPE, documents.csv_stream(header, rows)
    sheet = documents.Sheet(title=_("会员名册"), header=header, rows=rows)
    return f"members-{stamp}.xlsx", documents.XLSX_CONTENT_TYPE, documents.xlsx_file([sheet])


def _may_see_full_somewhere(actor: User) -> bool:
    from core.scoping import has_capability_anywhere

    return has_capability_anywhere(actor, PERSONAL_DATA_FULL)


def _audit_org(actor: User, under) -> Organization | None:
    if under:
        return Organization.objects.for_user(actor).filter(pk=under).first()
    reach = reach_paths(actor)
    if len(reach) == 1 and reach[0]:
        return Organization.objects.filter(path=reach[0]).first()
    if reach == ("",):
        return Organization.objects.filter(depth=1).order_by("path").first()
    return None
