"""Campaigns (送温暖 / 金秋助学): one grant per active file of a subtree, idempotent per (campaign, file).

Lost-message recovery: a started campaign is "running" from the moment it is sent. The
worker claims the run with a conditional UPDATE and a lease (`claimed_until`, renewed with
every chunk), so a duplicate message does nothing while a live worker has it. The beat
sweep `campaigns_redispatch` sends a running campaign again when no worker took it a bound
after it was sent, or when its worker died (lease expired); each re-send is claimed by a
conditional UPDATE of `dispatched_at` (concurrent sweeps send once, at most once per
bound). Re-running is safe: every chunk is one transaction, and files that already have
the campaign's grant are skipped. After MAX_ATTEMPTS interrupted runs (or MAX_REDISPATCHES
unanswered sends) the campaign is failed with a message; starting it again continues it.
"""

from __future__ import annotations

import datetime as dt
import io
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import log_action
from core.errors import DomainError
from core.redispatch import presumed_lost, redispatch_lost, sent_again_or_waiting
from core.roles import AID_APPROVE, AID_MANAGE
from core.states import StateMachine, transition

from ..models import ACTIVE_STATUSES, AidKind, Budget, Campaign, Grant, HardshipFile, Schooling
from . import funds
from .common import money, require, yuan

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
LEASE = dt.timedelta(minutes=10)  # a running worker's claim, renewed with every chunk
MAX_ATTEMPTS = 3  # runs started (claims) before a campaign whose workers keep dying is failed
MAX_REDISPATCHES = 6  # sends no worker ever took before the campaign is failed
logger = logging.getLogger(__name__)


def redispatch_after() -> dt.timedelta:
    """How long a sent campaign may stay unclaimed (or a dead worker's lease expired) before it is sent again."""
    return dt.timedelta(minutes=getattr(settings, "JOB_REDISPATCH_MINUTES", 30))


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
        fields={
            "progress_total": campaign_files(campaign).count(),
            "progress_done": 0,
            "message": "",
            # A new run: the sweep counts from this send, the claims from zero.
            "dispatched_at": timezone.now(),
            "redispatches": 0,
            "claimed_until": None,
            "attempts": 0,
        },
    )
    # By name: the task module imports this one (no import cycle).
    enqueue(RUN_CAMPAIGN_TASK, campaign.pk)
    return campaign


def campaign_run(campaign_id: int) -> Campaign:
    """Create and reserve one grant per file, a chunk of files per transaction.

    Idempotent: a file that already has the campaign's grant is skipped (a redelivered task,
    or a second run after a budget top-up, pays nobody twice; the unique (campaign, file)
    constraint holds it in the database). Each chunk takes its whole amount from the budget
    with one conditional UPDATE (what is left covers it, else as many files as it covers and
    the run stops), writes the grants, their ledger rows and history rows with one INSERT … SELECT each, and
    stores the progress on the campaign for the progress bar. Runs of one campaign queue on
    the campaign row.
    """
    now = timezone.now()
    claimed = (
        Campaign.objects.filter(pk=campaign_id, status=CS.RUNNING)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + LEASE, attempts=F("attempts") + 1)
    )
    campaign = Campaign.objects.select_related("budget").get(pk=campaign_id)
    if not claimed:  # done, failed, or a live worker has it: a duplicate message does nothing
        return campaign
    ids = list(campaign_files(campaign).values_list("id", flat=True))
    processed = skipped = 0
    failure = ""
    for i in range(0, len(ids), CHUNK):
        done, skip, failure = _campaign_chunk(campaign, ids[i : i + CHUNK])
        processed += done + skip
        skipped += skip
        Campaign.objects.filter(pk=campaign.pk).update(progress_done=processed, claimed_until=timezone.now() + LEASE)
        if failure:
            break
    with transaction.atomic():
        if failure:
            transition(
                campaign,
                CS.FAILED,
                actor=campaign.created_by,
                action="aid.campaign_failed",
                fields={"message": failure[:300], "progress_done": processed, "claimed_until": None},
            )
        else:
            message = _("已完成 %(n)s 户") % {"n": processed - skipped}
            if skipped:
                message += _("，%(s)s 户因已达年度上限或已发放而跳过") % {"s": skipped}
            transition(
                campaign,
                CS.DONE,
                actor=campaign.created_by,
                action="aid.campaign_done",
                fields={"progress_done": processed, "message": message, "claimed_until": None},
            )
    return Campaign.objects.get(pk=campaign.pk)


CHUNK = 500


def _lost(now: dt.datetime, cutoff: dt.datetime) -> Q:
    """Running campaigns whose message is presumed lost: sent before `cutoff`, and no live worker's lease."""
    running = Q(status=CS.RUNNING)
    return presumed_lost(
        now=now, cutoff=cutoff, created="created_at", waiting=running & Q(claimed_until__isnull=True), running=running
    )


def campaigns_redispatch(*, now: dt.datetime | None = None) -> dict:
    """Send again every running campaign whose message was lost; fail one that never gets done.

    The shape is core.redispatch's (the bound is `JOB_REDISPATCH_MINUTES`); a campaign is
    waiting for a worker while it is running without a lease.
    """
    from core.outbox import enqueue

    now = now or timezone.now()
    lost = _lost(now, now - redispatch_after())

    def give_up(row) -> int | None:
        pk, attempts, redispatches = row
        return _give_up(pk, lost, now) if attempts >= MAX_ATTEMPTS or redispatches >= MAX_REDISPATCHES else None

    def resend(campaign: Campaign, row) -> None:
        log_action(
            actor=None,
            action="aid.campaign_redispatched",
            target=campaign,
            data={"attempts": row[1], "redispatches": campaign.redispatches, "done": campaign.progress_done},
        )
        enqueue(RUN_CAMPAIGN_TASK, campaign.pk)

    return redispatch_lost(
        Campaign,
        lost=lost,
        now=now,
        columns=("attempts", "redispatches"),
        give_up=give_up,
        resend=resend,
        label="Campaigns",
    )


def _give_up(pk: int, lost: Q, now: dt.datetime) -> int:
    with transaction.atomic():
        # Claimed like a re-send (dispatched_at moves), so two sweeps fail it once.
        if not Campaign.objects.filter(lost, pk=pk).update(dispatched_at=now):
            return 0
        campaign = Campaign.objects.get(pk=pk)
        if campaign.attempts >= MAX_ATTEMPTS:
            message = _(
                "未完成：后台工作进程在发放过程中 %(n)s 次中断，已处理 %(done)s 户（已生成的救助不会重复）。"
                "请联系系统管理员查看运行监控，排除故障后再次启动活动。"
            ) % {"n": campaign.attempts, "done": campaign.progress_done}
        else:
            message = _(
                "未完成：活动派发 %(n)s 次后仍无后台工作进程处理。请联系系统管理员检查导入队列的工作进程，恢复后再次启动活动。"
            ) % {"n": campaign.redispatches}
        transition(
            campaign,
            CS.FAILED,
            actor=None,
            action="aid.campaign_given_up",
            fields={"message": message[:300], "claimed_until": None},
        )
    logger.error("Campaign %s given up (%s runs, %s re-sends)", pk, campaign.attempts, campaign.redispatches)
    return 1


def campaigns_lost(*, limit: int = 50):
    """Campaigns re-sent by the sweep (or waiting for it) in the last two weeks, for the operations view."""
    now = timezone.now()
    shown = sent_again_or_waiting(_lost(now, now - redispatch_after()), now=now)
    return Campaign.objects.filter(shown).select_related("organization").order_by("-dispatched_at")[:limit]


@transaction.atomic
def _campaign_chunk(campaign: Campaign, file_ids: list[int]) -> tuple[int, int, str]:
    """(files granted, files skipped, failure message) for one chunk, all or nothing."""
    from django.db.models import F, Sum

    from ..models import Budget, GrantStatus

    Campaign.objects.select_for_update().filter(pk=campaign.pk).first()  # one run at a time
    have = set(Grant.objects.filter(campaign=campaign, file_id__in=file_ids).values_list("file_id", flat=True))
    # (id, org_path, the standard's yearly cap): what a grant needs, no model per file.
    files = list(
        HardshipFile.objects.filter(pk__in=[f for f in file_ids if f not in have])
        .order_by("id")
        .values_list("id", "org_path", "standard__yearly_cap")
    )
    year = timezone.localdate().year
    used = dict(
        Grant.objects.filter(file_id__in=[f[0] for f in files], created_at__year=year)
        .exclude(status__in=(GrantStatus.CANCELLED, GrantStatus.REJECTED))
        .values_list("file_id")
        .annotate(s=Sum("amount"))
    )
    amount = campaign.amount_per_file
    eligible = [(pk, path) for pk, path, cap in files if used.get(pk, 0) + amount <= cap]
    skipped = len(have) + len(files) - len(eligible)
    if not eligible:
        return 0, skipped, ""
    budget = Budget.objects.select_for_update().get(pk=campaign.budget_id)
    fits = min(len(eligible), int(budget.left // amount))
    failure = ""
    if fits < len(eligible):
        failure = str(
            funds.BudgetExceeded(
                _("预算“%(budget)s”余额不足：本次需要 %(need)s 元，可用余额 %(left)s 元。请调整金额或申请追加预算。")
                % {"budget": str(budget), "need": yuan(amount * len(eligible)), "left": yuan(budget.left)}
            )
        )
        eligible = eligible[:fits]
    if not eligible:
        return 0, skipped, failure
    total = amount * len(eligible)
    ok = Budget.objects.filter(pk=budget.pk, amount__gte=F("reserved") + F("spent") + total).update(
        reserved=F("reserved") + total
    )
    if not ok:  # cannot happen under the row lock; refuse rather than overspend
        raise funds.BudgetExceeded(_("预算预留金额与该笔救助不符，请联系管理员核对台账。"))
    actor = campaign.created_by
    written = _insert_campaign_rows(campaign, budget, [pk for pk, _path in eligible], amount, actor)
    if written != len(eligible):  # a file left the table mid-run: give the whole chunk back
        raise DomainError(_("帮扶活动名单在生成过程中发生变化，请重新启动活动。"))
    log_action(
        actor=actor, action="aid.campaign_chunk", target=campaign, data={"grants": written, "amount": str(total)}
    )
    return written, skipped, failure


def _insert_campaign_rows(campaign: Campaign, budget, file_ids: list[int], amount, actor) -> int:
    """The chunk's grants (reserved), their ledger rows and their first history rows, as three
    INSERT … SELECT statements: a city-wide run writes tens of thousands of each, and building
    a model object per row was most of its time. Same rows as the services write one by one."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from core.models import TransitionRecord

    from ..models import GrantStatus, LedgerEntry, LedgerKind

    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    money_value = ops.adapt_decimalfield_value(amount, 12, 2)
    grant_t, file_t = Grant._meta.db_table, HardshipFile._meta.db_table
    ledger_t, history_t = LedgerEntry._meta.db_table, TransitionRecord._meta.db_table
    marks = ", ".join(["%s"] * len(file_ids))
    label = str(funds.GRANT_STATES.label(GrantStatus.RESERVED))[:60]
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {grant_t} (file_id, org_path, kind, amount, budget_id, period, campaign_id, status, "
            "is_emergency, created_by_id, created_at, updated_at) "
            f"SELECT id, org_path, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s FROM {file_t} WHERE id IN ({marks})",
            [
                KIND_OF[campaign.kind],
                money_value,
                budget.pk,
                f"c{campaign.pk}",
                campaign.pk,
                GrantStatus.RESERVED.value,
                False,
                actor.pk,
                now,
                now,
                *file_ids,
            ],
        )
        written = cur.rowcount
        of_chunk = f"FROM {grant_t} WHERE campaign_id = %s AND file_id IN ({marks})"
        cur.execute(
            f"INSERT INTO {ledger_t} (budget_id, org_path, kind, amount, grant_id, note, actor_id, at) "
            f"SELECT %s, %s, %s, amount, id, '', %s, %s {of_chunk}",
            [budget.pk, budget.org_path, LedgerKind.RESERVED.value, actor.pk, now, campaign.pk, *file_ids],
        )
        cur.execute(
            f"INSERT INTO {history_t} (content_type_id, object_id, from_state, to_state, from_label, to_label, "
            "actor_id, actor_label, at, reason, org_path) "
            f"SELECT %s, CAST(id AS VARCHAR(40)), '', %s, '', %s, %s, %s, %s, %s, org_path {of_chunk}",
            [
                ContentType.objects.get_for_model(Grant).pk,
                GrantStatus.RESERVED.value,
                label,
                actor.pk,
                str(actor.get_username())[:150],
                now,
                campaign.name[:200],
                campaign.pk,
                *file_ids,
            ],
        )
    return written


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
