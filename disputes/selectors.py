"""Every scoped read of mediation cases.

The visibility rule (issue 12): a district (dispute.manage) sees every case of its subtree;
a mediator (dispute.mediate) sees only their own body's cases, and of those only the ones
assigned to them unless they head the body. Collective cases come first on every list.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from core import crypto
from core.calendar import CalendarUnavailable
from core.errors import NOT_IN_REACH
from core.roles import DISPUTE_MANAGE, DISPUTE_MEDIATE, VIEW
from core.scoping import EVERYTHING, reach_paths, scope_q

from . import clock
from .models import (
    OPEN_STATES,
    BodySummary,
    Case,
    CaseParty,
    ClockEvent,
    DisputeKind,
    EnterpriseRisk,
    MediationBody,
    Mediator,
)


def _posts(user):
    return Mediator.objects.filter(user=user, is_active=True)


def cases_for_user(user) -> QuerySet[Case]:
    """The cases `user` may see (the rule above), collective first, newest first."""
    if user is None or not user.is_authenticated:
        return Case.objects.none()
    if reach_paths(user, DISPUTE_MANAGE) == EVERYTHING:
        # Q() | x is x in Django: an empty "everything" Q would vanish in the OR below.
        return Case.objects.order_by("-is_collective", "-id")
    visible = scope_q(user, "org_path", DISPUTE_MANAGE)
    if reach_paths(user, DISPUTE_MEDIATE):
        posts = list(_posts(user).values_list("pk", "body_id", "is_head"))
        head_bodies = [b for _, b, head in posts if head]
        own = [pk for pk, _, _ in posts]
        visible |= scope_q(user, "org_path", DISPUTE_MEDIATE) & (Q(body_id__in=head_bodies) | Q(mediator_id__in=own))
    return Case.objects.filter(visible).order_by("-is_collective", "-id")


def case_get(user, pk) -> Case:
    try:
        return cases_for_user(user).select_related("body", "mediator", "respondent_enterprise").get(pk=pk)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404(NOT_IN_REACH) from None


def my_cases(user) -> QuerySet[Case]:
    return cases_for_user(user).filter(mediator__user=user, status__in=OPEN_STATES)


def body_queue(user, body: MediationBody) -> QuerySet[Case]:
    return cases_for_user(user).filter(body=body, status__in=OPEN_STATES)


def legal_aid_queue(user) -> QuerySet[Case]:
    return cases_for_user(user).filter(track=Case.Track.LEGAL_AID, status__in=OPEN_STATES)


def bodies_for_user(user) -> QuerySet[MediationBody]:
    return MediationBody.objects.for_user(user, capability=VIEW).filter(is_active=True)


def mediators_for_user(user) -> QuerySet[Mediator]:
    return Mediator.objects.for_user(user, capability=VIEW).select_related("body")


def clocks_for(cases, *, today: dt.date | None = None) -> dict[int, clock.ClockState | None]:
    """The clock of each case, from one query for all their events (lists show days left)."""
    today = today or clock.today()
    ids = [c.pk for c in cases]
    events: dict[int, list[clock.Event]] = defaultdict(list)
    for case_id, kind, on, days in (
        ClockEvent.objects.filter(case_id__in=ids).order_by("on", "id").values_list("case_id", "kind", "on", "days")
    ):
        events[case_id].append(clock.Event(kind, on, days))
    out = {}
    for c in cases:
        if c.status not in OPEN_STATES:
            out[c.pk] = None  # the clock stops once the case leaves mediation
            continue
        try:
            out[c.pk] = clock.clock_state(events[c.pk], today=today, court_deadline=c.court_return_deadline)
        except CalendarUnavailable:
            out[c.pk] = None  # the page says the holiday calendar for that year is not yet known
    return out


def case_facts(user, case: Case) -> str:
    """The facts in full for someone who may work the case (audited by the caller's view)."""
    return crypto.decrypt(case.facts_enc) if case.facts_enc else ""


def district_overview(user) -> dict:
    """Open, overdue, collective, by kind, success rate and average days over the user's subtree.

    Added up from the per-body summary rows (disputes.summary keeps them current in the
    transaction of every case change, and hourly for overdue): one row per body, not one
    per case.
    """
    rows = BodySummary.objects.for_user(user, capability=DISPUTE_MANAGE).values_list(
        "total", "open", "collective_open", "agreed", "failed", "overdue", "closed_count", "closed_days", "by_kind"
    )
    total = open_ = collective = agreed = failed = overdue = closed = closed_days = 0
    kinds: dict[str, int] = defaultdict(int)
    for t, o, c, a, f, od, cc, cd, bk in rows:
        total += t
        open_ += o
        collective += c
        agreed += a
        failed += f
        overdue += od
        closed += cc
        closed_days += cd
        for k, n in (bk or {}).items():
            kinds[k] += n
    decided = agreed + failed
    return {
        "total": total,
        "open": open_,
        "collective": collective,
        "agreed": agreed,
        "failed": failed,
        "success_rate": round(100 * agreed / decided, 1) if decided else None,
        "average_days": round(closed_days / closed, 1) if closed else None,
        "by_kind": {k: kinds[k] for k in DisputeKind.values if kinds.get(k)},
        "overdue": overdue,
    }


def risks_for_user(user) -> QuerySet[EnterpriseRisk]:
    return EnterpriseRisk.objects.for_user(user, capability=DISPUTE_MANAGE).select_related("enterprise")


def personal_data_for_member(member) -> list[dict]:
    """The member's own dispute cases for their personal-data download."""
    case_ids = CaseParty.objects.filter(Q(member=member) | Q(id_number_hash=member.id_number_hash)).values("case_id")
    rows = Case.objects.filter(pk__in=case_ids).prefetch_related("claims").order_by("id")
    return [
        {
            "number": c.number,
            "track": c.get_track_display(),
            "kind": c.get_kind_display(),
            "respondent": c.respondent_name,
            "status": c.get_status_display(),
            "received_on": c.received_on.isoformat(),
            "facts": crypto.decrypt(c.facts_enc) if c.facts_enc else "",
            "claims": [{"description": cl.description, "amount": str(cl.amount or "")} for cl in c.claims.all()],
        }
        for c in rows
    ]


def mediator_loads(body_ids) -> dict[int, int]:
    """Open cases per active mediator of the given bodies, in one query (the load is derived)."""
    return dict(
        Mediator.objects.filter(body_id__in=list(body_ids), is_active=True)
        .annotate(load=Count("cases", filter=Q(cases__status__in=OPEN_STATES)))
        .values_list("pk", "load")
    )
