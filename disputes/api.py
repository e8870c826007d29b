"""REST API of labour-dispute mediation (/api/v1/dispute-…): thin views over selectors and services.

Reads come from disputes.selectors (the visibility rule: a plain mediator sees only the
cases assigned to them, the head their body's, the district its subtree); every write
calls one service; refusals take the one error shape. Facts and ID numbers are masked.
"""

from __future__ import annotations

import base64
import json

from django.db.models import Q
from django.http import Http404, HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from core import selectors as core_selectors
from core.api import ChoiceLabelField, ScopedViewSet, error_responses
from core.api_defaults import DefaultCursorPagination
from core.attachments.api import AttachmentInputSerializer, AttachmentOutputSerializer
from core.attachments.selectors import attachments_for
from core.replicas import heavy_reads
from organizations.models import Enterprise

from . import selectors, services
from .documents import agreement_pdf
from .models import Case, CaseParty, DisputeKind, Fulfilment, JudicialConfirmation, Mediator

READ_ERRORS = error_responses(400, 403)
DETAIL_ERRORS = error_responses(403, 404)
WRITE_ERRORS = error_responses(400, 403, 404, 409)


class CollectiveFirstPagination(DefaultCursorPagination):
    """A real keyset over (collective first, then newest first), both ways.

    The cursor holds the boundary row's (is_collective, id) and the direction; a page is
    `WHERE (is_collective, id) < (c, id) ORDER BY is_collective DESC, id DESC LIMIT n+1`
    (the other way round for "previous"), so page N costs what page 1 costs. DRF's own
    cursor keeps only the first ordering field and steps through ties with an OFFSET:
    with "collective" as that field, every non-collective page was an OFFSET into them.
    """

    ordering = ("-is_collective", "-id")

    def _decode(self, raw: str):
        try:
            c, pk, back = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        except (ValueError, TypeError):
            return None  # a malformed cursor starts the list over (never a 500)
        if not (isinstance(c, bool) and isinstance(pk, int) and isinstance(back, bool)) or abs(pk) >= 2**63:
            return None
        return c, pk, back

    def _link(self, row, back: bool) -> str:
        raw = json.dumps([bool(row.is_collective), row.pk, back], separators=(",", ":")).encode()
        token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    def paginate_queryset(self, queryset, request, view=None):
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.request = request
        position = self._decode(request.query_params.get(self.cursor_query_param, ""))
        back = bool(position and position[2])
        if position:
            c, pk, _back = position
            if back:  # rows before the boundary row, in the list's order
                queryset = queryset.filter(Q(is_collective__gt=c) | Q(is_collective=c, id__gt=pk))
            else:
                queryset = queryset.filter(Q(is_collective__lt=c) | Q(is_collective=c, id__lt=pk))
        order = ("is_collective", "id") if back else ("-is_collective", "-id")
        rows = list(queryset.order_by(*order)[: self.page_size + 1])
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if back:
            rows.reverse()
        self.next_link = self.previous_link = None
        if rows:
            # Forward: more rows follow if the page overflowed; rows precede if we came by a cursor.
            # Backward: the boundary row follows; more precede if the page overflowed.
            if back or more:
                self.next_link = self._link(rows[-1], back=False)
            if more if back else position is not None:
                self.previous_link = self._link(rows[0], back=True)
        return rows

    def get_next_link(self):
        return self.next_link

    def get_previous_link(self):
        return self.previous_link


@extend_schema_serializer(component_name="DisputeTransition")
class _HistorySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    by = serializers.CharField(source="actor_label")
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    to_label = serializers.CharField()
    note = serializers.CharField(source="reason")


@extend_schema_serializer(component_name="DisputeClock")
class ClockSerializer(serializers.Serializer):
    started_on = serializers.DateField(allow_null=True)
    statutory_end = serializers.DateField(allow_null=True)
    court_end = serializers.DateField(allow_null=True)
    deadline = serializers.DateField(allow_null=True)
    suspended = serializers.BooleanField()
    paused_days = serializers.IntegerField()
    extended_days = serializers.IntegerField()
    elapsed_days = serializers.IntegerField()
    days_left = serializers.IntegerField(allow_null=True)
    warning = serializers.BooleanField()
    overdue = serializers.BooleanField()


class CaseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    track = serializers.ChoiceField(choices=Case.Track.choices)
    body = serializers.SerializerMethodField()
    channel = serializers.ChoiceField(choices=Case.Channel.choices)
    channel_label = ChoiceLabelField(Case.Channel, source="channel")
    court_reference = serializers.CharField()
    court_return_deadline = serializers.DateField(allow_null=True)
    respondent_name = serializers.CharField()
    kind = serializers.ChoiceField(choices=DisputeKind.choices)
    kind_label = ChoiceLabelField(DisputeKind, source="kind")
    workers_involved = serializers.IntegerField()
    is_collective = serializers.BooleanField()
    status = serializers.ChoiceField(choices=Case.Status.choices)
    status_label = ChoiceLabelField(Case.Status, source="status")
    mediator = serializers.SerializerMethodField()
    received_on = serializers.DateField()
    clock = serializers.SerializerMethodField()

    def get_body(self, c) -> dict:
        return {"id": c.body_id, "name": c.body.name}

    def get_mediator(self, c) -> dict | None:
        return {"id": c.mediator_id, "name": c.mediator.name} if c.mediator_id else None

    @extend_schema_field(ClockSerializer(allow_null=True))
    def get_clock(self, c):
        state = self.context.get("clocks", {}).get(c.pk)
        if state is None:
            return None
        data = ClockSerializer(state).data
        return data


@extend_schema_serializer(component_name="DisputeCaseDetail")
class CaseDetailSerializer(CaseOutputSerializer):
    facts = serializers.SerializerMethodField()
    decline_reason = serializers.CharField()
    failure_reason = serializers.CharField()
    referral = serializers.CharField()
    parties = serializers.SerializerMethodField()
    claims = serializers.SerializerMethodField()
    sessions = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()

    def get_facts(self, c) -> str:
        # Dispute facts are personal data: the API gives their length, the page reveals them (audited).
        return str(_("（已加密，共 %(n)s 字）") % {"n": c.facts_length})

    def get_parties(self, c) -> list[dict]:
        return [
            {"name": p.name, "role": p.role, "id_masked": p.id_masked, "is_member": p.member_id is not None}
            for p in c.parties.all()
        ]

    def get_claims(self, c) -> list[dict]:
        return [
            {"description": cl.description, "amount": str(cl.amount) if cl.amount is not None else None}
            for cl in c.claims.all()
        ]

    def get_sessions(self, c) -> list[dict]:
        return [
            {"held_at": s.held_at.isoformat(), "place": s.place, "attendees": s.attendees} for s in c.sessions.all()
        ]

    @extend_schema_field(_HistorySerializer(many=True))
    def get_history(self, c) -> list:
        return _HistorySerializer(core_selectors.transition_history(c), many=True).data


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200, allow_blank=True, label=_("理由"))


class ClaimInput(serializers.Serializer):
    description = serializers.CharField(max_length=200, label=_("请求事项"))
    amount = serializers.CharField(max_length=30, required=False, allow_blank=True, label=_("金额（元）"))


class PartyInput(serializers.Serializer):
    name = serializers.CharField(max_length=50, label=_("姓名"))
    id_number = serializers.CharField(max_length=30, label=_("身份证号码"))
    mobile = serializers.CharField(max_length=20, required=False, allow_blank=True, label=_("手机号码"))
    role = serializers.ChoiceField(choices=CaseParty.Role.choices, required=False, label=_("身份"))


class CaseInput(serializers.Serializer):
    body = serializers.IntegerField(label=_("调解组织"))
    track = serializers.ChoiceField(choices=Case.Track.choices, required=False, label=_("业务"))
    channel = serializers.ChoiceField(choices=Case.Channel.choices, label=_("来源渠道"))
    kind = serializers.ChoiceField(choices=DisputeKind.choices, label=_("争议类型"))
    facts = serializers.CharField(max_length=5000, label=_("争议事实"))
    claims = ClaimInput(many=True, label=_("请求事项"))
    applicants = PartyInput(many=True, label=_("申请人"))
    respondent_enterprise = serializers.IntegerField(required=False, allow_null=True, label=_("被申请单位"))
    respondent_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    workers_involved = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    received_on = serializers.DateField(required=False, allow_null=True)
    court_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    court_reference = serializers.CharField(max_length=60, required=False, allow_blank=True)
    court_return_deadline = serializers.DateField(required=False, allow_null=True)


class AssignInput(serializers.Serializer):
    mediator = serializers.IntegerField(required=False, allow_null=True, label=_("承办调解员"))
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, label=_("理由"))


class SessionInput(serializers.Serializer):
    held_at = serializers.DateTimeField(label=_("调解时间"))
    place = serializers.CharField(max_length=120, label=_("地点"))
    attendees = serializers.CharField(max_length=300, label=_("参加人员"))
    notes = serializers.CharField(required=False, allow_blank=True, label=_("调解记录"))


class ClockInput(serializers.Serializer):
    on = serializers.DateField(required=False, allow_null=True, label=_("日期"))
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, label=_("理由"))
    days = serializers.IntegerField(required=False, label=_("延长天数"))
    both_parties_consent = serializers.BooleanField(required=False, default=False)


class AgreementInput(serializers.Serializer):
    terms = serializers.CharField(required=False, allow_blank=True, label=_("协议内容"))
    effective_on = serializers.DateField(required=False, allow_null=True, label=_("生效日期"))
    signed_by_applicants = serializers.BooleanField(default=False)
    signed_by_respondent = serializers.BooleanField(default=False)
    signed_by_mediator = serializers.BooleanField(default=False)


class FailInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200, allow_blank=True, label=_("调解不成原因"))
    referral = serializers.ChoiceField(choices=["arbitration", "court", "legal_aid"], label=_("转处"))


class ConfirmationInput(serializers.Serializer):
    court = serializers.CharField(max_length=80, required=False, allow_blank=True, label=_("受理法院"))
    applied_on = serializers.DateField(required=False, allow_null=True)
    outcome = serializers.ChoiceField(
        choices=[JudicialConfirmation.Outcome.CONFIRMED, JudicialConfirmation.Outcome.REFUSED], required=False
    )


class FulfilmentInput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Fulfilment.Outcome.choices, label=_("履行情况"))
    amount_paid = serializers.CharField(max_length=30, required=False, allow_blank=True, label=_("已支付金额（元）"))
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)


class VisitInput(serializers.Serializer):
    satisfaction = serializers.IntegerField(label=_("满意度（1–5）"))
    comments = serializers.CharField(max_length=300, required=False, allow_blank=True)


class DocumentRemoveInput(serializers.Serializer):
    attachment = serializers.IntegerField(label=_("材料"))
    reason = serializers.CharField(max_length=200, label=_("删除原因"))


class CollectiveInput(serializers.Serializer):
    collective = serializers.BooleanField(required=False)
    workers_involved = serializers.IntegerField(required=False)


def _write(summary, request_serializer):
    return extend_schema(
        summary=summary, request=request_serializer, responses={200: CaseDetailSerializer, **WRITE_ERRORS}
    )


@extend_schema(tags=["disputes"])
class CaseViewSet(ScopedViewSet):
    """Mediation and legal-aid cases in the caller's view, collective first, with days left."""

    output_serializer = CaseOutputSerializer
    pagination_class = CollectiveFirstPagination
    input_serializers = {"create": CaseInput}

    def get_queryset(self):
        qs = selectors.cases_for_user(self.request.user).select_related("body", "mediator")
        params = self.request.query_params
        if params.get("status") in Case.Status.values:
            qs = qs.filter(status=params["status"])
        if params.get("track") in Case.Track.values:
            qs = qs.filter(track=params["track"])
        if params.get("collective") in ("true", "1"):
            qs = qs.filter(is_collective=True)
        return qs

    def output_context(self, objects):
        return {**self.get_serializer_context(), "clocks": selectors.clocks_for(objects)}

    def _get(self, pk) -> Case:
        return self.get_in_reach(self.get_queryset(), pk)

    def detail_output(self, pk) -> dict:
        case = self._get(pk)
        return CaseDetailSerializer(case, context=self.output_context([case])).data

    @extend_schema(summary=_("调解案件列表"), responses={200: CaseOutputSerializer(many=True), **READ_ERRORS})
    @heavy_reads()
    def list(self, request):
        return self.paged(self.get_queryset())

    @extend_schema(summary=_("调解案件详情"), responses={200: CaseDetailSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.detail_output(pk))

    @extend_schema(summary=_("登记调解申请"), request=CaseInput, responses={201: CaseDetailSerializer, **WRITE_ERRORS})
    def create(self, request):
        data = self.valid_input(CaseInput)
        body = self.get_in_reach(selectors.bodies_for_user(request.user), data.pop("body"))
        ent_id = data.pop("respondent_enterprise", None)
        enterprise = self.get_in_reach(Enterprise.objects.all(), ent_id) if ent_id else None
        data["claims"] = [dict(c) for c in data["claims"]]
        data["applicants"] = [dict(p) for p in data["applicants"]]
        case = services.case_receive(actor=request.user, body=body, respondent_enterprise=enterprise, **data)
        case = Case.objects.select_related("body", "mediator").get(pk=case.pk)
        return Response(
            CaseDetailSerializer(case, context=self.output_context([case])).data, status=status.HTTP_201_CREATED
        )

    @_write(_("受理"), None)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        services.case_accept(case=self._get(pk), actor=request.user)
        return Response(self.detail_output(pk))

    @_write(_("不予受理"), ReasonInput)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        case = self._get(pk)
        data = self.valid_input(ReasonInput)
        services.case_decline(case=case, actor=request.user, reason=data["reason"])
        return Response(self.detail_output(pk))

    @_write(_("指派或更换调解员（不填则按专长和工作量推荐）"), AssignInput)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        case = self._get(pk)
        data = self.valid_input(AssignInput)
        mediator = None
        if data.get("mediator"):
            mediator = self.get_in_reach(Mediator.objects.filter(body_id=case.body_id), data["mediator"])
        if case.status == Case.Status.ACCEPTED:
            services.case_assign(case=case, actor=request.user, mediator=mediator)
        else:
            services.case_reassign(case=case, actor=request.user, mediator=mediator, reason=data.get("reason", ""))
        return Response(self.detail_output(pk))

    @_write(_("记录调解会"), SessionInput)
    @action(detail=True, methods=["post"])
    def sessions(self, request, pk=None):
        case = self._get(pk)
        data = self.valid_input(SessionInput)
        services.session_record(case=case, actor=request.user, **data)
        return Response(self.detail_output(pk))

    @_write(_("中止时限（须写明理由）"), ClockInput)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        case = self._get(pk)
        data = self.valid_input(ClockInput)
        services.clock_suspend(case=case, actor=request.user, reason=data.get("reason", ""), on=data.get("on"))
        return Response(self.detail_output(pk))

    @_write(_("恢复时限"), ClockInput)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        case = self._get(pk)
        data = self.valid_input(ClockInput)
        services.clock_resume(case=case, actor=request.user, on=data.get("on"))
        return Response(self.detail_output(pk))

    @_write(_("经双方同意延长时限"), ClockInput)
    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        case = self._get(pk)
        data = self.valid_input(ClockInput)
        services.clock_extend(
            case=case,
            actor=request.user,
            days=data.get("days"),
            both_parties_consent=data.get("both_parties_consent", False),
            reason=data.get("reason", ""),
            on=data.get("on"),
        )
        return Response(self.detail_output(pk))

    @_write(_("集体争议标记与涉及人数"), CollectiveInput)
    @action(detail=True, methods=["post"])
    def collective(self, request, pk=None):
        case = self._get(pk)
        data = self.valid_input(CollectiveInput)
        if data.get("workers_involved") is not None:
            case = services.case_set_workers(case=case, actor=request.user, workers_involved=data["workers_involved"])
        if "collective" in data:
            services.case_set_collective(case=case, actor=request.user, collective=data["collective"])
        return Response(self.detail_output(pk))

    @_write(_("登记调解协议"), AgreementInput)
    @action(detail=True, methods=["post"])
    def agreement(self, request, pk=None):
        case = self._get(pk)
        data = self.valid_input(AgreementInput)
        services.agreement_make(case=case, actor=request.user, **data)
        return Response(self.detail_output(pk))

    @extend_schema(
        summary=_("调解协议书 PDF"),
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY), **DETAIL_ERRORS},
    )
    @action(detail=True, methods=["get"], url_path="agreement-pdf")
    def agreement_pdf(self, request, pk=None):
        case = self._get(pk)
        agreement = getattr(case, "agreement", None)
        if agreement is None:
            raise Http404
        response = HttpResponse(agreement_pdf(agreement), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{case.number}.pdf"'
        return response

    @extend_schema(
        summary=_("案件的证据与材料"), responses={200: AttachmentOutputSerializer(many=True), **DETAIL_ERRORS}
    )
    # A case's documents are few: one plain list, not a page (and so in the schema).
    @action(detail=True, methods=["get"], url_path="documents", pagination_class=None)
    def documents(self, request, pk=None):
        case = self._get(pk)
        return Response(AttachmentOutputSerializer(attachments_for(request.user, case), many=True).data)

    @extend_schema(
        summary=_("上传证据或材料（multipart：kind 与 file）"),
        request={"multipart/form-data": AttachmentInputSerializer},
        responses={201: AttachmentOutputSerializer, **WRITE_ERRORS},
    )
    @documents.mapping.post
    def documents_add(self, request, pk=None):
        case = self._get(pk)
        data = self.valid_input(AttachmentInputSerializer)
        attachment = services.case_document_add(
            actor=request.user, case=case, uploaded_file=data["file"], kind=data["kind"]
        )
        return Response(AttachmentOutputSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @_write(_("删除材料（保留删除记录，写明原因）"), DocumentRemoveInput)
    @action(detail=True, methods=["post"], url_path="documents/remove")
    def documents_remove(self, request, pk=None):
        case = self._get(pk)
        data = self.valid_input(DocumentRemoveInput)
        services.case_document_remove(
            actor=request.user, case=case, attachment_id=data["attachment"], reason=data["reason"]
        )
        return Response(self.detail_output(pk))

    @_write(_("调解不成（写明原因与转处去向）"), FailInput)
    @action(detail=True, methods=["post"])
    def fail(self, request, pk=None):
        case = self._get(pk)
        data = self.valid_input(FailInput)
        services.case_fail(case=case, actor=request.user, **data)
        return Response(self.detail_output(pk))

    @_write(_("撤回"), ReasonInput)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        case = self._get(pk)
        data = self.valid_input(ReasonInput)
        services.case_withdraw(case=case, actor=request.user, reason=data["reason"])
        return Response(self.detail_output(pk))

    @_write(_("申请司法确认，或登记法院裁定（outcome）"), ConfirmationInput)
    @action(detail=True, methods=["post"])
    def confirmation(self, request, pk=None):
        case = self._get(pk)
        data = self.valid_input(ConfirmationInput)
        if data.get("outcome"):
            services.confirmation_decide(case=case, actor=request.user, outcome=data["outcome"])
        else:
            services.confirmation_apply(
                case=case, actor=request.user, court=data.get("court", ""), applied_on=data.get("applied_on")
            )
        return Response(self.detail_output(pk))

    @_write(_("登记履行核查"), FulfilmentInput)
    @action(detail=True, methods=["post"])
    def fulfilment(self, request, pk=None):
        case = self._get(pk)
        data = self.valid_input(FulfilmentInput)
        services.fulfilment_record(
            case=case,
            actor=request.user,
            outcome=data["outcome"],
            amount_paid=data.get("amount_paid") or 0,
            note=data.get("note", ""),
        )
        return Response(self.detail_output(pk))

    @_write(_("结案"), None)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        services.case_close(case=self._get(pk), actor=request.user)
        return Response(self.detail_output(pk))

    @_write(_("登记回访"), VisitInput)
    @action(detail=True, methods=["post"])
    def visit(self, request, pk=None):
        case = self._get(pk)
        data = self.valid_input(VisitInput)
        services.return_visit_record(
            case=case, actor=request.user, satisfaction=data["satisfaction"], comments=data.get("comments", "")
        )
        return Response(self.detail_output(pk))


class BodyOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    mediators = serializers.SerializerMethodField()

    def get_mediators(self, b) -> list[dict]:
        loads = self.context.get("loads", {})
        return [
            {
                "id": m.pk,
                "name": m.name,
                "employment": m.employment,
                "specialities": m.specialities,
                "is_head": m.is_head,
                "load": loads.get(m.pk, 0),
            }
            for m in b.mediators.all()
            if m.is_active
        ]


@extend_schema(tags=["disputes"])
class BodyViewSet(ScopedViewSet):
    """Mediation bodies in reach, with their mediators and current load (open cases)."""

    output_serializer = BodyOutputSerializer

    def get_queryset(self):
        return selectors.bodies_for_user(self.request.user).prefetch_related("mediators")

    def output_context(self, objects):
        loads = selectors.mediator_loads(b.pk for b in objects)
        return {**self.get_serializer_context(), "loads": loads}

    @extend_schema(summary=_("调解组织列表"), responses={200: BodyOutputSerializer(many=True), **READ_ERRORS})
    def list(self, request):
        return self.paged(self.get_queryset())

    @extend_schema(summary=_("调解组织详情"), responses={200: BodyOutputSerializer, **DETAIL_ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.output(self.get_in_reach(self.get_queryset(), pk)))


class RiskOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    enterprise = serializers.SerializerMethodField()
    score = serializers.IntegerField()
    explanation = serializers.ListField(child=serializers.CharField())
    computed_at = serializers.DateTimeField()

    def get_enterprise(self, r) -> dict:
        return {"id": r.enterprise_id, "name": r.enterprise.name}


class RiskPagination(DefaultCursorPagination):
    ordering = ("-score", "-id")


@extend_schema(tags=["disputes"])
class RiskViewSet(ScopedViewSet):
    """The district's watch list: enterprises by early-warning score, with the reasons."""

    output_serializer = RiskOutputSerializer
    pagination_class = RiskPagination

    def get_queryset(self):
        return selectors.risks_for_user(self.request.user)

    @extend_schema(summary=_("企业风险预警名单"), responses={200: RiskOutputSerializer(many=True), **READ_ERRORS})
    @heavy_reads()
    def list(self, request):
        return self.paged(self.get_queryset())


@extend_schema_serializer(component_name="DisputeOverview")
class OverviewSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    collective = serializers.IntegerField()
    agreed = serializers.IntegerField()
    failed = serializers.IntegerField()
    success_rate = serializers.FloatField(allow_null=True)
    average_days = serializers.FloatField(allow_null=True)
    by_kind = serializers.DictField(child=serializers.IntegerField())


class OverviewView(APIView):
    @extend_schema(tags=["disputes"], summary=_("区域调解概况"), responses={200: OverviewSerializer, **READ_ERRORS})
    @heavy_reads()
    def get(self, request):
        return Response(OverviewSerializer(selectors.district_overview(request.user)).data)


router = SimpleRouter()
router.register("dispute-cases", CaseViewSet, basename="dispute-case")
router.register("dispute-bodies", BodyViewSet, basename="dispute-body")
router.register("dispute-risks", RiskViewSet, basename="dispute-risk")


def _urls():
    from django.urls import path

    return [path("dispute-overview/", OverviewView.as_view(), name="dispute-overview")]


api_urlpatterns = [*router.urls, *_urls()]
