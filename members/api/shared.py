"""Shared pieces of the member API: error and file responses, the member and membership
outputs (built directly for the busy list, checked against their declared fields)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_serializer
from rest_framework import serializers

from core.api import ChoiceLabelField, choice_labels, error_responses
from core.scoping import path_in_reach
from organizations.api_fields import InReachOrgField

from .. import selectors
from ..models import Education, EmploymentForm, Honour, Member, Membership, SkillLevel

READ_ERRORS = error_responses(400, 403)
DETAIL_ERRORS = error_responses(403, 404)
WRITE_ERRORS = error_responses(400, 403, 404, 409)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_FILE = {(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description=_("CSV 文件（UTF-8）"))}
XLSX_FILE = {(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description=_("Excel 文件"))}
FILE_RESPONSE = {**CSV_FILE, **XLSX_FILE}


def _membership_out(user, row: dict, prefix: str = "", status_labels: dict | None = None) -> dict:
    """A membership as the API shows it, from a flat row (values() names, under `prefix`)."""
    if status_labels is None:
        status_labels = choice_labels(Membership.Status)
    path = row[prefix + "union__path"]
    ended_on = row[prefix + "ended_on"]
    return {
        "id": row[prefix + "id"],
        "member_number": row[prefix + "member_number"],
        # The rule of scoping.org_in_reach (the page's org_name tag), on a flat row.
        "union": {"id": row[prefix + "union__id"], "name": row[prefix + "union__name"]}
        if path_in_reach(user, path)
        else None,
        "status": row[prefix + "status"],
        "status_label": status_labels.get(row[prefix + "status"], row[prefix + "status"]),
        "joined_on": row[prefix + "joined_on"].isoformat(),
        "ended_on": ended_on.isoformat() if ended_on else None,
        "end_reason": row[prefix + "end_reason"],
    }


def _membership_row(ms: Membership, prefix: str = "") -> dict:
    return {
        prefix + "id": ms.id,
        prefix + "member_number": ms.member_number,
        prefix + "union__id": ms.union.id,
        prefix + "union__name": ms.union.name,
        prefix + "union__path": ms.union.path,
        prefix + "status": ms.status,
        prefix + "joined_on": ms.joined_on,
        prefix + "ended_on": ms.ended_on,
        prefix + "end_reason": ms.end_reason,
    }


def _member_row(m: Member) -> dict:
    """A Member (and its current membership) as the flat row selectors.member_list_rows gives."""
    row = {name: getattr(m, name) for name in selectors.MEMBER_LIST_COLUMNS if "__" not in name}
    ms = m.current_membership
    if ms is None:
        row["current_membership__id"] = None
    else:
        row.update(_membership_row(ms, "current_membership__"))
    return row


# The member list is the busiest read of the portal: its rows are built directly from flat
# values() rows instead of through DRF's per-field machinery and 150 model objects a page.
# The declared fields still describe the output (OpenAPI) and say what each key is;
# tests/members/test_api.py checks that both give the same answer.


@extend_schema_serializer(component_name="MembershipSummary")
class MembershipSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    member_number = serializers.CharField()
    union = InReachOrgField()
    status = serializers.ChoiceField(choices=Membership.Status.choices)
    status_label = ChoiceLabelField(Membership.Status, source="status")
    joined_on = serializers.DateField()
    ended_on = serializers.DateField(allow_null=True)
    end_reason = serializers.CharField()

    def to_representation(self, ms):
        return _membership_out(self.context["request"].user, _membership_row(ms))


@extend_schema_serializer(component_name="HonourSummary")
class HonourSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Honour.Kind.choices)
    kind_label = ChoiceLabelField(Honour.Kind, source="kind")
    year = serializers.IntegerField()
    note = serializers.CharField()


@extend_schema_serializer(component_name="Member")
class MemberOutputSerializer(serializers.Serializer):
    """A member: from a Member, or from a flat row of selectors.member_list_rows."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    id_masked = serializers.CharField(help_text=_("脱敏的身份证号码；完整号码见 reveal"))
    mobile_masked = serializers.CharField(help_text=_("脱敏的手机号码"))
    sex = serializers.CharField()
    birth_date = serializers.DateField()
    employer_name = serializers.CharField()
    employment_form = serializers.ChoiceField(choices=EmploymentForm.choices)
    employment_form_label = ChoiceLabelField(EmploymentForm, source="employment_form")
    is_migrant_worker = serializers.BooleanField()
    education = serializers.CharField()
    skill_level = serializers.CharField()
    has_login = serializers.SerializerMethodField()
    membership = MembershipSerializer(source="current_membership", allow_null=True)

    def get_has_login(self, m) -> bool:
        return m.user_id is not None

    def _labels(self) -> tuple[dict, dict]:
        # One serializer serves a whole page (many=True): the labels once, not per row.
        labels = self.__dict__.get("_labels_cache")
        if labels is None:
            labels = self._labels_cache = (choice_labels(EmploymentForm), choice_labels(Membership.Status))
        return labels

    def to_representation(self, m):
        row = m if isinstance(m, dict) else _member_row(m)
        user = self.context["request"].user
        form_labels, status_labels = self._labels()
        return {
            "id": row["id"],
            "name": row["name"],
            "id_masked": row["id_masked"],
            "mobile_masked": row["mobile_masked"],
            "sex": row["sex"],
            "birth_date": row["birth_date"].isoformat(),
            "employer_name": row["employer_name"],
            "employment_form": row["employment_form"],
            "employment_form_label": form_labels.get(row["employment_form"], row["employment_form"]),
            "is_migrant_worker": row["is_migrant_worker"],
            "education": row["education"],
            "skill_level": row["skill_level"],
            "has_login": row["user_id"] is not None,
            "membership": (
                None
                if row["current_membership__id"] is None
                else _membership_out(user, row, "current_membership__", status_labels)
            ),
        }


@extend_schema_serializer(component_name="MemberDetail")
class MemberDetailSerializer(MemberOutputSerializer):
    memberships = MembershipSerializer(many=True, source="memberships.all")
    honours = HonourSummarySerializer(many=True, source="honours.all")

    def to_representation(self, m):
        return serializers.Serializer.to_representation(self, m)


class ProfileFieldsSerializer(serializers.Serializer):
    employer_name = serializers.CharField(max_length=120, required=False, allow_blank=True, label=_("工作单位"))
    employment_form = serializers.ChoiceField(choices=EmploymentForm.choices, required=False, label=_("就业形态"))
    is_migrant_worker = serializers.BooleanField(required=False, label=_("农民工"))
    education = serializers.ChoiceField(
        choices=Education.choices, required=False, allow_blank=True, label=_("文化程度")
    )
    skill_level = serializers.ChoiceField(
        choices=SkillLevel.choices, required=False, allow_blank=True, label=_("技能等级")
    )


@extend_schema_serializer(component_name="TransitionRecord")
class TransitionRecordSerializer(serializers.Serializer):
    """One row of an object's timeline (core.selectors.transition_history)."""

    at = serializers.DateTimeField()
    by = serializers.CharField(source="actor_label")
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    to_label = serializers.CharField()
    note = serializers.CharField(source="reason")
