"""Every scoped read of the service-projects domain.

Staff reads start from `for_user(user, capability)`; worker reads start from the worker's
own member record (their sign-ups, their votes) or from what is published to their union.
"""

from __future__ import annotations

from django.db.models import Case, Q, QuerySet, When

from core.roles import PROJECT_MANAGE, VIEW
from core.scoping import scope_q
from members.models import Member

from .models import Demand, Enrolment, Overspend, Project, ProjectImplementer, Session


def demands_for_user(user, capability: str = VIEW) -> QuerySet[Demand]:
    """The demand board: demands in reach, most seconded first (merged ones left out)."""
    return (
        Demand.objects.for_user(user, capability)
        .exclude(status=Demand.Status.MERGED)
        .select_related("union")
        .order_by("-votes_count", "-id")
    )


def projects_for_user(user, capability: str = VIEW) -> QuerySet[Project]:
    """Designed or implemented in reach, or published in the library to a union in reach."""
    return Project.objects.for_user(user, capability).select_related("union").order_by("-year", "-id")


def projects_managed_by(user) -> QuerySet[Project]:
    return projects_for_user(user, PROJECT_MANAGE)


def library_for_user(user, *, year=None, category=None, stage=None) -> QuerySet[Project]:
    qs = projects_for_user(user).filter(stage__in=Project.PUBLISHED_STAGES)
    if year:
        qs = qs.filter(year=year)
    if category:
        qs = qs.filter(category=category)
    if stage:
        qs = qs.filter(stage=stage)
    return qs


def projects_run_by(user) -> QuerySet[Project]:
    """Projects designed or implemented in the user's project.manage reach (not merely published to it)."""
    implemented = ProjectImplementer.objects.filter(scope_q(user, "org_path", PROJECT_MANAGE)).values("project_id")
    return Project.objects.filter(scope_q(user, "org_path", PROJECT_MANAGE) | Q(pk__in=implemented))


def overspends_for_user(user) -> QuerySet[Overspend]:
    """Overspend requests of projects designed or implemented in the user's project.manage reach.

    Not the library's reach: a union a project is merely published to does not see the
    implementers' money matters.
    """
    return (
        Overspend.objects.filter(line__project__in=projects_run_by(user).values("pk"))
        .select_related("line__project", "requested_by", "decided_by")
        .order_by(
            # Pending first, then the latest.
            Case(When(status=Overspend.Status.PENDING, then=0), default=1),
            "-id",
        )
    )


def sessions_for_user(user, capability: str = VIEW) -> QuerySet[Session]:
    return Session.objects.for_user(user, capability).select_related("project", "union").order_by("starts_at", "id")


def enrolments_for_user(user, capability: str = VIEW) -> QuerySet[Enrolment]:
    return Enrolment.objects.for_user(user, capability).select_related("session", "member").order_by("id")


# --- the worker's side ---------------------------------------------------------------------


def member_of(user) -> Member | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Member.objects.filter(user=user).select_related("current_membership").first()


def library_for_member(member: Member) -> QuerySet[Project]:
    """Projects published to the member's union: designed by it or by a union above it."""
    path = member.org_path or ""
    ancestors = [path[:i] for i in range(4, len(path) + 1, 4)]
    return Project.objects.filter(stage__in=Project.PUBLISHED_STAGES, org_path__in=ancestors).order_by("-year", "-id")


def open_sessions_for_member(member: Member) -> QuerySet[Session]:
    return (
        Session.objects.filter(project__in=library_for_member(member).filter(stage=Project.Stage.IMPLEMENTING))
        .select_related("project")
        .order_by("starts_at", "id")
    )


def my_enrolments(member: Member) -> QuerySet[Enrolment]:
    return Enrolment.objects.filter(member=member).select_related("session__project").order_by("-id")


def personal_data_section(member: Member) -> dict:
    """The member's demands posted and seconded, sign-ups, check-ins and ratings (personal-data download).

    Three queries: votes, demands posted, sign-ups with their ratings.
    """
    from .models import DemandVote

    enrolments = list(my_enrolments(member).select_related("rating"))
    posted = Demand.objects.filter(posted_by_id=member.user_id).order_by("id") if member.user_id else []
    return {
        "demands_posted": [
            {"demand": d.pk, "description": d.description, "status": d.status, "at": d.created_at.isoformat()}
            for d in posted
        ],
        "demands_seconded": [
            {"demand": v.demand_id, "description": v.demand.description, "at": v.created_at.isoformat()}
            for v in DemandVote.objects.filter(member=member).select_related("demand")
        ],
        "enrolments": [
            {
                "session": e.session.title,
                "project": e.session.project.title,
                "starts_at": e.session.starts_at.isoformat(),
                "status": e.status,
                "position": e.position,
                "signed_up_at": e.created_at.isoformat(),
            }
            for e in enrolments
        ],
        "ratings": [
            {
                "session": e.session.title,
                "score": e.rating.score,
                "comment": e.rating.comment,
                "at": e.rating.created_at.isoformat(),
            }
            for e in enrolments
            if hasattr(e, "rating")
        ],
    }


def _ancestors(member: Member) -> list[str]:
    path = member.org_path or ""
    return [path[:i] for i in range(4, len(path) + 1, 4)]


def demands_for_member(member: Member) -> QuerySet[Demand]:
    """Demands a member may see and second: those concerning their union or one above it."""
    return (
        Demand.objects.filter(org_path__in=_ancestors(member), status__in=[Demand.Status.OPEN, Demand.Status.ANSWERED])
        .select_related("union")
        .order_by("-votes_count", "-id")
    )
