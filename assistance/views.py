"""Staff pages of hardship aid (file list and detail, investigation, notice, approval queue,
funds and budgets, campaigns) and the worker's own aid pages on the phone."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core import selectors as core_selectors
from core.attachments.forms import AttachmentUploadForm
from core.attachments.selectors import attachments_for
from core.errors import DomainError, refusal
from core.pages import file_response, keyset_page, private, service_form, staff_required, worker_required
from core.replicas import heavy_reads
from core.roles import AID_APPROVE, AID_MANAGE
from core.scoping import has_capability, reach_paths
from members.selectors import member_for_worker

from . import forms, selectors, services
from .models import FileStatus, HardshipFile

PAGE_SIZE = 50
REFUSALS = (ValidationError, DomainError, PermissionDenied, Http404)


@staff_required
@require_GET
@heavy_reads()
def file_list(request):
    form = forms.FileFilterForm(request.GET or None)
    filters = {k: v for k, v in (form.cleaned_data.items() if form.is_valid() else []) if v}
    if filters.pop("emergency", ""):
        filters["emergency"] = True  # flagged files only
    qs = selectors.files_for(request.user, **filters)
    page = keyset_page(qs, field="id", descending=True, cursor=request.GET.get("cursor", ""), size=PAGE_SIZE)
    return render(
        request,
        "assistance/file_list.html",
        {
            "filter_form": form,
            "page": page,
            "is_continuation": bool(request.GET.get("cursor")),
            "can_manage_any": bool(reach_paths(request.user, AID_MANAGE)),
        },
    )


def _file_context(request, file: HardshipFile, **extra) -> dict:
    user = request.user
    reveal = request.GET.get("reveal") == "1"
    attachments = list(attachments_for(user, file))
    can_manage = has_capability(user, AID_MANAGE, file.org_path)
    return {
        "file": file,
        "household": [
            selectors.household_row_view(user, r, reveal=reveal) for r in selectors.household_for(user, file)
        ],
        "investigations": list(file.investigations.all()),
        "notices": list(file.notices.prefetch_related("objections")),
        "grants": list(file.grants.select_related("budget__fund")),
        "timeline": core_selectors.transition_history(file),
        "approval_runs": core_selectors.approval_runs(file),
        "attachments": attachments,
        "kind_labels": {k: str(v) for k, v in services.DOCUMENT_KINDS.items()},
        "missing": services.documents_missing(file, [a.kind for a in attachments]),
        "can_manage": can_manage,
        "can_approve": has_capability(user, AID_APPROVE, file.org_path),
        "investigation_form": forms.InvestigationForm(),
        "decision_form": forms.DecisionForm(),
        "review_form": forms.ReviewForm(),
        "objection_form": forms.ObjectionForm(),
        "resolve_form": forms.ObjectionResolveForm(),
        "upload_form": AttachmentUploadForm(kinds=list(services.DOCUMENT_KINDS.items())),
        **extra,
    }


@staff_required
@require_GET
def file_detail(request, pk):
    file = selectors.file_get(request.user, pk)
    return private(render(request, "assistance/file_detail.html", _file_context(request, file)))


@staff_required
def file_investigation(request, pk):
    file = selectors.file_get(request.user, pk)
    form = forms.InvestigationForm(request.POST or None)

    def save(data):
        services.investigation_record(actor=request.user, file=file, **data)
        return _("入户调查已登记。"), ("aid-file-detail", file.pk)

    return service_form(
        request, form, template="assistance/form.html", context={"file": file, "title": _("登记入户调查")}, save=save
    )


@staff_required
def file_notice(request, pk):
    file = selectors.file_get(request.user, pk)
    form = forms.NoticeForm(request.POST or None, budgets=selectors.budgets_for_file(request.user, file))

    def save(data):
        services.notice_start(actor=request.user, file=file, **data)
        return _("公示已开始。"), ("aid-file-detail", file.pk)

    return service_form(
        request, form, template="assistance/form.html", context={"file": file, "title": _("开始公示")}, save=save
    )


def _post_action(request, file, fn, ok: str):
    try:
        fn()
    except REFUSALS as exc:
        messages.error(request, refusal(exc).text)
    else:
        messages.success(request, ok)
    return redirect("aid-file-detail", file.pk)


@staff_required
@require_POST
def file_notice_close(request, pk):
    file = selectors.file_get(request.user, pk)
    return _post_action(request, file, lambda: services.notice_close(actor=request.user, file=file), _("已报送审批。"))


@staff_required
@require_POST
def file_decide(request, pk):
    file = selectors.file_get(request.user, pk)
    form = forms.DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择审批意见。"))
        return redirect("aid-file-detail", file.pk)
    return _post_action(
        request,
        file,
        lambda: services.file_decide(actor=request.user, file=file, **form.cleaned_data),
        _("审批意见已提交。"),
    )


@staff_required
@require_POST
def file_review(request, pk):
    file = selectors.file_get(request.user, pk)
    form = forms.ReviewForm(request.POST)

    def act():
        if file.status == FileStatus.REGISTERED:
            services.file_review_start(actor=request.user, file=file)
        if not form.is_valid():
            raise ValidationError({"reason": _("请填写复核意见。")})
        services.file_review_finish(actor=request.user, file=HardshipFile.objects.get(pk=file.pk), **form.cleaned_data)

    return _post_action(request, file, act, _("复核已完成。"))


@staff_required
@require_POST
def file_objection(request, pk):
    file = selectors.file_get(request.user, pk)
    notice = file.notices.filter(closed_at__isnull=True).order_by("-id").first()
    form = forms.ObjectionForm(request.POST)

    def act():
        if notice is None:
            raise DomainError(_("该档案不在公示中。"))
        if not form.is_valid():
            raise ValidationError(form.errors)
        services.objection_record(actor=request.user, notice=notice, **form.cleaned_data)

    return _post_action(request, file, act, _("登记公示异议"))


@staff_required
@require_POST
def objection_resolve(request, pk):
    from .models import Objection

    objection = get_object_or_404(Objection.objects.for_user(request.user).select_related("notice__file"), pk=pk)
    form = forms.ObjectionResolveForm(request.POST)

    def act():
        if not form.is_valid():
            raise ValidationError(form.errors)
        services.objection_resolve(actor=request.user, objection=objection, **form.cleaned_data)

    return _post_action(request, objection.notice.file, act, _("处理公示异议"))


@staff_required
@require_POST
def grant_pay(request, pk):
    grant = get_object_or_404(selectors.grants_for(request.user), pk=pk)
    return _post_action(request, grant.file, lambda: services.grant_pay(actor=request.user, grant=grant), _("已发放"))


@staff_required
@require_POST
def campaign_start(request, pk):
    campaign = get_object_or_404(selectors.campaigns_for(request.user), pk=pk)
    try:
        services.campaign_start(actor=request.user, campaign=campaign)
    except REFUSALS as exc:
        messages.error(request, refusal(exc).text)
    return redirect("aid-campaigns")


@staff_required
@require_POST
def file_document(request, pk):
    file = selectors.file_get(request.user, pk)
    form = AttachmentUploadForm(request.POST, request.FILES, kinds=list(services.DOCUMENT_KINDS.items()))
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("aid-file-detail", file.pk)
    return _post_action(
        request,
        file,
        lambda: services.file_document_add(
            actor=request.user, file=file, uploaded_file=form.cleaned_data["file"], kind=form.cleaned_data["kind"]
        ),
        _("材料已上传。"),
    )


@staff_required
@require_GET
def approval_queue(request):
    qs = selectors.approval_queue(request.user)
    page = keyset_page(qs, field="id", descending=True, cursor=request.GET.get("cursor", ""), size=PAGE_SIZE)
    return render(
        request, "assistance/approval_queue.html", {"page": page, "is_continuation": bool(request.GET.get("cursor"))}
    )


@staff_required
@require_GET
def budget_list(request):
    budgets = list(selectors.budgets_for(request.user).order_by("-year", "org_path", "id")[:200])
    manage = reach_paths(request.user, AID_MANAGE)
    return render(
        request,
        "assistance/budget_list.html",
        {
            "budgets": budgets,
            "funds": list(selectors.funds_for(request.user)[:200]),
            "can_manage_any": bool(manage),
            "manageable": {b.pk for b in budgets if any(b.org_path.startswith(p) for p in manage)},
        },
    )


@staff_required
@require_GET
def campaign_list(request):
    campaigns = list(selectors.campaigns_for(request.user)[:200])
    return render(
        request,
        "assistance/campaign_list.html",
        {
            "campaigns": [(c, services.campaign_progress(c)) for c in campaigns],
            "can_manage_any": bool(reach_paths(request.user, AID_MANAGE)),
        },
    )


@staff_required
@require_GET
def campaign_sheet(request, pk):
    campaign = get_object_or_404(selectors.campaigns_for(request.user), pk=pk)
    return file_response(f"campaign-{campaign.pk}.pdf", "application/pdf", services.campaign_sheet_pdf(campaign))


# --- the worker's own pages ------------------------------------------------------------------


def _own_file(member):
    return HardshipFile.objects.filter(member=member).select_related("standard").order_by("-id").first()


@worker_required
def my_aid(request):
    """The worker's application: status, what is missing, the household, documents and photos."""
    member = member_for_worker(request.user)
    if member is None:
        return private(render(request, "selfservice/no_member.html", {"title": _("困难帮扶")}))
    file = _own_file(member)
    if file is None:
        form = forms.ApplyForm(request.POST or None)

        def save(data):
            services.file_open(actor=request.user, member=member, **data)
            return _("申请已提交，请继续填写家庭成员并上传材料。"), ("my-aid",)

        return private(service_form(request, form, template="assistance/my_apply.html", context={}, save=save))
    attachments = list(attachments_for_owner(file))
    context = {
        "file": file,
        "household": list(file.household.all()),
        "timeline": core_selectors.transition_history(file),
        "missing": services.documents_missing(file, [a.kind for a in attachments]),
        "attachments": attachments,
        "household_form": forms.HouseholdForm(),
        "upload_form": AttachmentUploadForm(kinds=list(services.DOCUMENT_KINDS.items())),
        "editable": file.status == FileStatus.APPLIED,
    }
    return private(render(request, "assistance/my_aid.html", context))


def attachments_for_owner(file):
    from django.contrib.contenttypes.models import ContentType

    from core.models import Attachment

    return Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(HardshipFile), object_id=file.pk, deleted_at__isnull=True
    )


@worker_required
@require_POST
def my_aid_household(request):
    member = member_for_worker(request.user)
    file = _own_file(member) if member else None
    if file is None:
        raise Http404
    form = forms.HouseholdForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors)
        services.household_member_add(actor=request.user, file=file, **form.cleaned_data)
    except REFUSALS as exc:
        messages.error(request, refusal(exc).text)
    else:
        messages.success(request, _("家庭成员已登记。"))
    return redirect("my-aid")


@worker_required
@require_POST
def my_aid_document(request):
    member = member_for_worker(request.user)
    file = _own_file(member) if member else None
    if file is None:
        raise Http404
    form = AttachmentUploadForm(request.POST, request.FILES, kinds=list(services.DOCUMENT_KINDS.items()))
    try:
        if not form.is_valid():
            raise ValidationError(form.errors)
        services.file_document_add(
            actor=request.user, file=file, uploaded_file=form.cleaned_data["file"], kind=form.cleaned_data["kind"]
        )
    except REFUSALS as exc:
        messages.error(request, refusal(exc).text)
    else:
        messages.success(request, _("材料已上传。"))
    return redirect("my-aid")


# --- staff forms: tier override, emergency aid, funds, budgets, allocations, campaigns ---------


def _staff_form(request, form, *, title: str, back: str, back_label: str, save, intro: str = ""):
    return private(
        service_form(
            request,
            form,
            template="assistance/staff_form.html",
            context={"title": title, "back": back, "back_label": back_label, "intro": intro},
            save=save,
        )
    )


@staff_required
def file_tier(request, pk):
    file = selectors.file_get(request.user, pk)
    form = forms.TierOverrideForm(request.POST or None, initial={"tier": file.tier})

    def save(data):
        services.file_tier_override(actor=request.user, file=file, **data)
        return _("困难档次已调整，理由已记入审计日志。"), ("aid-file-detail", file.pk)

    return service_form(
        request,
        form,
        template="assistance/form.html",
        context={"file": file, "title": _("调整困难档次"), "intro": file.tier_explanation},
        save=save,
    )


@staff_required
def emergency(request):
    from members.validators import parse_id_number

    form = forms.EmergencyForm(
        request.POST or None, budgets=selectors.budgets_to_manage(request.user), initial={"causes": ["accident"]}
    )
    form.fields["budget"].label_from_instance = lambda b: f"{b.organization.name} · {b.fund.name} {b.year}"

    def save(data):
        number = parse_id_number(data["id_number"]).number
        member = selectors.member_in_reach(request.user, number)
        if member is None:
            raise ValidationError(
                {"id_number": _("您的管辖范围内没有这个身份证号码的会员，请核对号码，或由会员所在组织办理。")}
            )
        grant = services.emergency_aid(
            actor=request.user,
            member=member,
            causes=data["causes"],
            amount=data["amount"],
            budget=data["budget"],
            reason=data["reason"],
        )
        return (
            _("应急救助 %(amount)s 元已发放（档案 %(number)s），请尽快补充入户调查。")
            % {"amount": services.yuan(grant.amount), "number": grant.file.number},
            ("aid-file-detail", grant.file_id),
        )

    return _staff_form(
        request,
        form,
        title=_("应急救助（意外致困）"),
        back="aid-files",
        back_label=_("困难职工档案"),
        save=save,
        intro=_("先行发放、事后审核：建立档案并立即从预算中支付，档案随后照常入户调查、公示和审批，并标记为应急。"),
    )


@staff_required
def fund_new(request):
    form = forms.FundForm(request.POST or None, organizations=selectors.orgs_to_manage(request.user))

    def save(data):
        services.fund_create(actor=request.user, **data)
        return _("帮扶资金已建立。"), ("aid-budgets",)

    return _staff_form(
        request, form, title=_("新建帮扶资金"), back="aid-budgets", back_label=_("资金与预算"), save=save
    )


@staff_required
def budget_new(request):
    form = forms.BudgetForm(
        request.POST or None,
        funds=selectors.funds_to_manage(request.user),
        organizations=selectors.orgs_to_manage(request.user),
    )

    def save(data):
        services.budget_create(actor=request.user, **data)
        return _("预算已建立。"), ("aid-budgets",)

    return _staff_form(request, form, title=_("新建预算"), back="aid-budgets", back_label=_("资金与预算"), save=save)


@staff_required
def budget_allocate(request, pk):
    parent = selectors.budget_get(request.user, pk)
    form = forms.AllocationForm(request.POST or None, children=selectors.allocation_children(request.user, parent))

    def save(data):
        services.allocation_make(actor=request.user, parent=parent, **data)
        return _("资金已下拨。"), ("aid-budgets",)

    return _staff_form(
        request,
        form,
        title=_("下拨资金：%(budget)s（%(org)s，余额 %(left)s 元）")
        % {"budget": parent, "org": parent.organization.name, "left": services.yuan(parent.left)},
        back="aid-budgets",
        back_label=_("资金与预算"),
        save=save,
        intro=_("下级组织需先在同一资金、同一年度下有预算（可为 0 元）。"),
    )


@staff_required
def campaign_new(request):
    form = forms.CampaignForm(
        request.POST or None,
        organizations=selectors.orgs_to_manage(request.user),
        budgets=selectors.budgets_to_manage(request.user),
    )

    def save(data):
        services.campaign_create(actor=request.user, **data)
        return _("帮扶活动已建立，启动后在后台生成名单和发放。"), ("aid-campaigns",)

    return _staff_form(
        request, form, title=_("新建帮扶活动"), back="aid-campaigns", back_label=_("帮扶活动"), save=save
    )
