"""Campaigns (送温暖 / 金秋助学): one grant per active file of a subtree, idempotent per (campaign, file)."""

from __future__ import annotations

import io

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import log_action
from core.errors import DomainError
from core.roles import AID_APPROVE, AID_MANAGE
from core.states import StateMachine, transition

from ..models import ACTIVE_STATUSES, AidKind, Budget, Campaign, Grant, HardshipFile, Schooling
from . import funds
from .common import money, require

CS = Campaign.Status
CAMPAIGN_STATES = StateMachine(
    Campaign,
    {
        CS.DRAFT: {CS.RUNNING},
        CS.RUNNING: {CS.DONE, CS.FAILED},
        # A failed run (the budget ran out) may run again after a top-up: done files are skipped.
        CS.FAILED: {CS.RUNNING},
        CS.DONE: set(),
    },
)
KIND_OF = {Campaign.Kind.WARMTH: AidKind.WARMTH, Campaign.Kind.EDUCATION: AidKind.EDUCATION}
PROGRESS_EVERY = 50
RUN_CAMPAIGN_TASK = "assistance.tasks.run_campaign"


@transaction.atomic
def campaign_create(*, actor, organization, kind: str, name: str, budget: Budget, amount_per_file) -> Campaign:
    require(actor, AID_MANAGE, organization.path)
    if kind not in Campaign.Kind.values:
        raise ValidationError({"kind": _("请选择活动类型：送温暖或金秋助学。")})
    if not (name or "").strip():
        raise ValidationError({"name": _("请填写活动名称。")})
    if not organization.path.startswith(budget.org_path):
        raise ValidationError({"budget": _("只能使用本组织或其上级组织的预算。")})
    amount = money(amount_per_file, field="amount_per_file")
    campaign = Campaign.objects.create(
        name=name.strip()[:100],
        kind=kind,
        organization=organization,
        org_path=organization.path,
        budget=budget,
        amount_per_file=amount,
        created_by=actor,
    )
    log_action(actor=actor, action="aid.campaign_created", target=campaign, organization=organization)
    return campaign


def campaign_files(campaign: Campaign):
    """The active files the campaign covers (助学: households with a child at school)."""
    qs = HardshipFile.objects.filter(org_path__startswith=campaign.org_path, status__in=ACTIVE_STATUSES)
    if campaign.kind == Campaign.Kind.EDUCATION:
        qs = qs.filter(household__schooling__in=[s for s in Schooling.values if s]).distinct()
    return qs.order_by("id")


@transaction.atomic
def campaign_start(*, actor, campaign: Campaign) -> Campaign:
    """Approve the campaign and queue its run (Celery, after commit)."""
    from core.outbox import enqueue

    require(actor, AID_APPROVE, campaign.org_path)
    campaign = transition(
        campaign,
        CS.RUNNING,
        actor=actor,
        action="aid.campaign_started",
        fields={"progress_total": campaign_files(campaign).count(), "progress_done": 0, "message": ""},
    )
    # By name: the task module imports this one (no import cycle).
    enqueue(RUN_CAMPAIGN_TASK, campaign.pk)
    return campaign


def campaign_run(campaign_id: int) -> Campaign:
    """Create and reserve one grant per file; a file already done is skipped (idempotent,
    so a redelivered task or a second run after a top-up does no double payment). Progress
    is stored on the campaign for the progress bar."""
    campaign = Campaign.objects.select_related("budget").get(pk=campaign_id)
    if campaign.status != CS.RUNNING:
        return campaign
    done_ids = set(Grant.objects.filter(campaign=campaign).values_list("file_id", flat=True))
    kind = KIND_OF[campaign.kind]
    period = f"c{campaign.pk}"
    processed = len(done_ids)
    skipped = 0
    Campaign.objects.filter(pk=campaign.pk).update(progress_done=processed)
    for file in campaign_files(campaign).select_related("standard").iterator(chunk_size=500):
        if file.pk in done_ids:
            continue
        try:
            with transaction.atomic():
                funds.check_yearly_cap(file, campaign.amount_per_file, year=timezone.localdate().year)
                grant = funds._grant_create(
                    actor=campaign.created_by,
                    file=file,
                    kind=kind,
                    amount=campaign.amount_per_file,
                    budget=campaign.budget,
                    period=period,
                    campaign=campaign,
                )
                funds.reserve(grant, actor=campaign.created_by)
        except funds.BudgetExceeded as exc:
            with transaction.atomic():
                transition(
                    campaign,
                    CS.FAILED,
                    actor=campaign.created_by,
                    action="aid.campaign_failed",
                    fields={"message": str(exc)[:300], "progress_done": processed},
                )
            return Campaign.objects.get(pk=campaign.pk)
        except (ValidationError, DomainError, IntegrityError):
            skipped += 1  # over the yearly cap, or the grant exists: nothing to add for this file
        processed += 1
        if processed % PROGRESS_EVERY == 0:
            Campaign.objects.filter(pk=campaign.pk).update(progress_done=processed)
    message = _("已完成 %(n)s 户") % {"n": processed - skipped}
    if skipped:
        message += _("，%(s)s 户因已达年度上限或已发放而跳过") % {"s": skipped}
    with transaction.atomic():
        transition(
            campaign,
            CS.DONE,
            actor=campaign.created_by,
            action="aid.campaign_done",
            fields={"progress_done": processed, "message": message},
        )
    return Campaign.objects.get(pk=campaign.pk)


def campaign_sheet_pdf(campaign: Campaign) -> bytes:
    """The sign-off sheet 签收表: one line per grant, a column for the signature."""
    from core.documents import pdf_canvas

    buf = io.BytesIO()
    c = pdf_canvas(buf, title=_("%(name)s 签收表") % {"name": campaign.name}, author=campaign.organization.name)
    width, height = c._pagesize
    rows = (
        Grant.objects.filter(campaign=campaign)
        .exclude(status__in=("cancelled", "rejected"))
        .select_related("file__member", "file__union")
        .order_by("file__org_path", "id")
    )

    def header(y):
        c.setFont(c._fontname, 14)
        c.drawString(40, height - 50, _("%(name)s 签收表") % {"name": campaign.name})
        c.setFont(c._fontname, 9)
        c.drawString(
            40,
            height - 68,
            _("组织：%(org)s　每户：%(amt)s 元") % {"org": campaign.organization.name, "amt": campaign.amount_per_file},
        )
        cols = [_("序号"), _("档案编号"), _("姓名"), _("所在工会"), _("金额（元）"), _("签收")]
        for x, text in zip((40, 75, 170, 240, 420, 480), cols, strict=True):
            c.drawString(x, height - 90, text)
        return height - 108

    y = header(height)
    for i, g in enumerate(rows, start=1):
        if y < 50:
            c.showPage()
            y = header(height)
        c.setFont(c._fontname, 9)
        for x, text in zip(
            (40, 75, 170, 240, 420),
            (str(i), g.file.number, g.file.member.name, g.file.union.name[:16], str(g.amount)),
            strict=True,
        ):
            c.drawString(x, y, text)
        c.line(480, y - 2, 560, y - 2)
        y -= 18
    c.showPage()
    c.save()
    return buf.getvalue()


def campaign_progress(campaign: Campaign) -> int:
    """Percent done (0–100) for the progress bar."""
    if not campaign.progress_total:
        return 100 if campaign.status == CS.DONE else 0
    return min(100, campaign.progress_done * 100 // campaign.progress_total)
