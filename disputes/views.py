"""Pages of mediation: my cases, the body queue, the district overview, the case with its clock
and timeline, session and agreement forms, the risk list; and the worker's self-service."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import selectors as core_selectors
from core.attachments.forms import AttachmentUploadForm
from core.attachments.selectors import attachments_for
from core.audit import log_action
from core.errors import NOT_IN_REACH, SERVICE_ERRORS, refusal
from core.pages import file_response, keyset_page, private, service_form, staff_required, worker_required
from core.replicas import heavy_reads
from core.roles import DISPUTE_MANAGE
from core.scoping import has_capability_anywhere

from . import clock, forms, selectors, services
from .documents import agreement_pdf
from .models import OPEN_STATES, Case, DisputeKind, MediationBody, Mediator

PAGE_SIZE = 50


def _rows(cases):
    clocks = selectors.clocks_for(cases)
    return [(c, clocks.get(c.pk)) for c in cases]


@heavy_reads()
def _list(request, qs, *, title: str, template: str = "disputes/case_list.html", extra=None):
    # Collective cases first over the whole list, then newest first: a keyset on (is_collective, id).
    page = keyset_page(
        qs.select_related("body", "mediator"),
        field="is_collective",
        descending=True,
        cursor=request.GET.get("cursor", ""),
        size=PAGE_SIZE,
    )
    rows = _rows(page.rows)
    context = {"title": title, "rows": rows, "page": page, **(extra or {})}
    return private(render(request, template, context))


@staff_required
def my_cases(request):
    return _list(request, selectors.my_cases(request.user), title=_("我的案件"))


@staff_required
def queue(request):
    track = request.GET.get("track")
    qs = selectors.cases_for_user(request.user).filter(status__in=OPEN_STATES)
    if track in Case.Track.values:
        qs = qs.filter(track=track)
    title = _("法律援助队列") if track == Case.Track.LEGAL_AID else _("调解组织受理队列")
    return _list(request, qs, title=title, extra={"track": track})


@staff_required
@heavy_reads()
def overview(request):
    if not has_capability_anywhere(request.user, DISPUTE_MANAGE):
        raise PermissionDenied(_("区域调解概况仅向区工会争议管理人员开放。"))
    data = selectors.district_overview(request.user)
    collective = selectors.cases_for_user(request.user).filter(is_collective=True, status__in=OPEN_STATES)[:20]
    by_kind = [(DisputeKind(k).label, n) for k, n in sorted(data["by_kind"].items(), key=lambda kv: -kv[1])]
    return private(
        render(
            request,
            "disputes/overview.html",
            {"data": data, "by_kind": by_kind, "collective": _rows(list(collective.select_related("body")))},
        )
    )


@staff_required
def risks(request):
    page = keyset_page(
        selectors.risks_for_user(request.user),
        field="score",
        descending=True,
        cursor=request.GET.get("cursor", ""),
        size=PAGE_SIZE,
    )
    return render(request, "disputes/risk_list.html", {"page": page, "rows": page.rows})


@staff_required
def case_detail(request, pk: int):
    case = selectors.case_get(request.user, pk)
    can_work = services.can_work(request.user, case)
    facts = ""
    if can_work:
        facts = selectors.case_facts(request.user, case)
        log_action(actor=request.user, action="dispute.facts_viewed", target=case)
    try:
        running = case.track == Case.Track.MEDIATION and case.status in OPEN_STATES
        state = services.case_clock(case) if running else None
        calendar_missing = False
    except SERVICE_ERRORS:
        state, calendar_missing = None, True
    context = {
        "case": case,
        "clock": state,
        "calendar_missing": calendar_missing,
        "clock_events": list(case.clock_events.order_by("on", "id")),
        "parties": list(case.parties.all()),
        "claims": list(case.claims.all()),
        "sessions": list(case.sessions.all()),
        "timeline": core_selectors.transition_history(case),
        "facts": facts,
        "can_work": can_work,
        "can_manage": services.can_manage(request.user, case),
        "mediators": list(Mediator.objects.filter(body_id=case.body_id, is_active=True)),
        "suggested": services.mediator_suggest(case) if case.status == Case.Status.ACCEPTED else None,
        "agreement": getattr(case, "agreement", None) if hasattr(case, "agreement") else None,
        "form": forms.ActionForm(),
        "mediation_days": clock.MEDIATION_DAYS,
        "attachments": list(attachments_for(request.user, case)),
        "kind_labels": services.DOCUMENT_KINDS,
        "upload_form": AttachmentUploadForm(kinds=list(services.DOCUMENT_KINDS.items())),
    }
    return private(render(request, "disputes/case_detail.html", context))


def _upload(request, case, back: str):
    form = AttachmentUploadForm(request.POST, request.FILES, kinds=list(services.DOCUMENT_KINDS.items()))
    try:
        if not form.is_valid():
            raise ValidationError(form.errors)
        services.case_document_add(
            actor=request.user, case=case, uploaded_file=form.cleaned_data["file"], kind=form.cleaned_data["kind"]
        )
    except SERVICE_ERRORS as exc:
        messages.error(request, refusal(exc).text)
    else:
        messages.success(request, _("材料已上传。"))
    return redirect(back)


@staff_required
@require_POST
def document_add(request, pk: int):
    case = selectors.case_get(request.user, pk)
    return _upload(request, case, reverse("dispute-case", args=[case.pk]) + "#documents")


@staff_required
@require_POST
def document_remove(request, pk: int):
    case = selectors.case_get(request.user, pk)
    try:
        services.case_document_remove(
            actor=request.user,
            case=case,
            attachment_id=request.POST.get("attachment", ""),
            reason=request.POST.get("reason", ""),
        )
    except SERVICE_ERRORS as exc:
        messages.error(request, refusal(exc).text)
    else:
        messages.success(request, _("材料已删除（保留删除记录）。"))
    return redirect(reverse("dispute-case", args=[case.pk]) + "#documents")


ACTIONS = {
    "accept": lambda c, u, d: services.case_accept(case=c, actor=u),
    "decline": lambda c, u, d: services.case_decline(case=c, actor=u, reason=d["reason"]),
    "assign": lambda c, u, d: services.case_assign(case=c, actor=u, mediator=_mediator(c, d)),
    "suspend": lambda c, u, d: services.clock_suspend(case=c, actor=u, reason=d["reason"], on=d.get("on")),
    "resume": lambda c, u, d: services.clock_resume(case=c, actor=u, on=d.get("on")),
    "extend": lambda c, u, d: services.clock_extend(
        case=c,
        actor=u,
        days=d.get("days"),
        both_parties_consent=d["both_parties_consent"],
        reason=d["reason"],
        on=d.get("on"),
    ),
    "fail": lambda c, u, d: services.case_fail(case=c, actor=u, reason=d["reason"], referral=d["referral"]),
    "withdraw": lambda c, u, d: services.case_withdraw(case=c, actor=u, reason=d["reason"]),
    "confirm": lambda c, u, d: services.confirmation_apply(case=c, actor=u, court=d["court"], applied_on=d.get("on")),
    "fulfil": lambda c, u, d: services.fulfilment_record(
        case=c, actor=u, outcome=d["outcome"], amount_paid=d["amount_paid"] or 0
    ),
    "close": lambda c, u, d: services.case_close(case=c, actor=u),
    "visit": lambda c, u, d: services.return_visit_record(
        case=c, actor=u, satisfaction=d.get("satisfaction"), comments=d["comments"]
    ),
}


def _mediator(case, data):
    if not data.get("mediator"):
        return None
    try:
        return Mediator.objects.get(pk=data["mediator"], body_id=case.body_id)
    except Mediator.DoesNotExist:
        raise Http404(NOT_IN_REACH) from None


@staff_required
@require_POST
def case_action(request, pk: int, name: str):
    case = selectors.case_get(request.user, pk)
    if name not in ACTIONS:
        raise Http404
    form = forms.ActionForm(request.POST)
    form.is_valid()
    data = {k: v for k, v in form.cleaned_data.items()}
    for key in ("reason", "referral", "outcome", "amount_paid", "comments", "court"):
        data.setdefault(key, "")
    data.setdefault("both_parties_consent", False)
    try:
        ACTIONS[name](case, request.user, data)
    except SERVICE_ERRORS as exc:
        messages.error(request, refusal(exc).text)
    else:
        messages.success(request, _("已办理。"))
    return redirect("dispute-case", pk=case.pk)


@staff_required
def session_new(request, pk: int):
    case = selectors.case_get(request.user, pk)
    form = forms.SessionForm(request.POST or None)

    def save(data):
        services.session_record(case=case, actor=request.user, **data)
        return _("调解会已记录。"), ("dispute-case", case.pk)

    return service_form(
        request,
        form,
        template="disputes/form.html",
        context={"case": case, "heading": _("记录调解会")},
        save=save,
    )


@staff_required
def agreement_new(request, pk: int):
    case = selectors.case_get(request.user, pk)
    form = forms.AgreementForm(request.POST or None, initial={"effective_on": clock.today()})

    def save(data):
        services.agreement_make(case=case, actor=request.user, **data)
        return _("调解协议已登记。"), ("dispute-case", case.pk)

    return service_form(
        request,
        form,
        template="disputes/form.html",
        context=lambda: {"case": case, "heading": _("登记调解协议"), "preview": services.agreement_text(case)},
        save=save,
    )


@staff_required
def agreement_download(request, pk: int):
    case = selectors.case_get(request.user, pk)
    agreement = getattr(case, "agreement", None) if hasattr(case, "agreement") else None
    if agreement is None:
        raise Http404
    log_action(actor=request.user, action="dispute.agreement_printed", target=case)
    return file_response(f"{case.number}.pdf", "application/pdf", agreement_pdf(agreement))


# --- the worker's self-service ---------------------------------------------------------------


def _my_cases(user):
    return Case.objects.filter(applicant_user=user).select_related("body").prefetch_related("sessions").order_by("-id")


@worker_required
def my_disputes(request):
    rows = []
    now = clock.today()
    for case in _my_cases(request.user):
        upcoming = [s for s in case.sessions.all() if s.held_at.date() >= now]
        documents = list(attachments_for(request.user, case))
        upload = None
        if case.status not in services.WORKER_UPLOAD_CLOSED:  # one form per case: ids of its own
            upload = AttachmentUploadForm(kinds=list(services.DOCUMENT_KINDS.items()), auto_id=f"case{case.pk}_%s")
        rows.append((case, upcoming[0] if upcoming else None, documents, upload))
    context = {"rows": rows, "kind_labels": services.DOCUMENT_KINDS}
    return private(render(request, "disputes/selfservice/list.html", context))


@worker_required
def my_dispute_apply(request):
    bodies = list(MediationBody.objects.filter(is_active=True).exclude(kind="enterprise").order_by("org_path", "id"))
    form = forms.ApplyForm(request.POST or None, bodies=bodies, initial={"track": Case.Track.MEDIATION})

    def save(data):
        body = next(b for b in bodies if b.pk == data["body"])
        case = services.case_apply(
            worker=request.user,
            body=body,
            track=data["track"],
            kind=data["kind"],
            name=data["name"],
            id_number=data["id_number"],
            facts=data["facts"],
            claims=[{"description": data["claim"], "amount": data["amount"]}],
            respondent_name=data["respondent_name"],
        )
        return _("申请已提交，案号 %(n)s。调解组织收到后会与您联系。") % {"n": case.number}, ("my-disputes",)

    return private(service_form(request, form, template="disputes/selfservice/apply.html", context={}, save=save))


@worker_required
@require_POST
def my_dispute_document(request, pk: int):
    case = _my_cases(request.user).filter(pk=pk).first()
    if case is None:
        raise Http404(NOT_IN_REACH)
    return _upload(request, case, reverse("my-disputes") + f"#case-{case.pk}")


@worker_required
def my_dispute_rate(request, pk: int):
    case = _my_cases(request.user).filter(pk=pk).first()
    if case is None:
        raise Http404(NOT_IN_REACH)
    form = forms.RateForm(request.POST or None)

    def save(data):
        services.return_visit_record(
            case=case, actor=request.user, satisfaction=data["satisfaction"], comments=data["comments"]
        )
        return _("感谢您的评价。"), ("my-disputes",)

    return private(
        service_form(request, form, template="disputes/selfservice/rate.html", context={"case": case}, save=save)
    )
