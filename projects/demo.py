"""Demo data of service projects: demands with seconds, and projects at every stage.

`seed_projects()` runs after the members' demo (it needs the `projects` and `city` logins,
the `worker` login and members on the roll). Everything goes through the services, as the
officers would do it; a project whose title exists is left alone, so a re-run adds nothing.
The city login (`city`, federation admin) reviews, since the designer (`projects`) may not.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from core.errors import DomainError
from members.models import Member, Membership
from organizations.models import Organization, OrgKind, User

from . import services
from .models import Demand, EvaluationWeights, Project, ReviewCriterion

CRITERIA = (("需求契合度", 40), ("方案可行性", 35), ("预算合理性", 25))
STAGES = ("draft", "in_review", "returned", "rejected", "library", "implementing", "feedback", "evaluated")
TITLES = {
    "draft": ("新就业形态劳动者“暖心驿站”提升", "daily"),
    "in_review": ("职工心理健康关爱行动", "health"),
    "returned": ("青年职工婚恋交友活动", "culture"),
    "rejected": ("职工子女暑托班（重复申报）", "daily"),
    "library": ("劳动法律知识进企业", "rights"),
    "implementing": ("外卖骑手安全骑行与急救技能培训", "skills"),
    "feedback": ("一线职工免费健康体检", "health"),
    "evaluated": ("职工文体嘉年华", "culture"),
}
DEMANDS = (
    ("skills", "希望开设电工、焊工等技能证书培训班，时间安排在周末。"),
    ("health", "希望每年组织一次免费体检，增加颈椎和腰椎检查项目。"),
    ("daily", "户外劳动者需要更多可以歇脚、喝水、充电的爱心驿站。"),
    ("rights", "希望有律师到园区讲解劳动合同和工伤认定。"),
    ("culture", "希望组织职工篮球赛和羽毛球赛。"),
)


def _participants(union_path: str, n: int) -> list[User]:
    """Worker accounts for `n` members under `union_path` (created once, no usable password)."""
    users = []
    members = Member.objects.filter(
        org_path__startswith=union_path, current_membership__status=Membership.Status.ACTIVE
    ).order_by("id")[: n * 2]
    for member in members:
        if member.user_id is None:
            user = User.objects.create(
                username=f"demo-member-{member.pk}", kind=User.Kind.WORKER, password=make_password(None)
            )
            member.user = user
            member.save(update_fields=["user", "updated_at"])
        users.append(member.user)
        if len(users) == n:
            break
    return users


@transaction.atomic
def seed_projects() -> dict[str, int]:
    officer = User.objects.filter(username="projects").first()
    reviewer = User.objects.filter(username="city").first()
    worker = User.objects.filter(username="worker").first()
    city = Organization.objects.filter(kind=OrgKind.CITY).first()
    pudong = Organization.objects.filter(kind=OrgKind.DISTRICT, region_code="310115").first()
    if not (officer and reviewer and city and pudong):
        return {"projects": 0, "demands": 0}
    for name, weight in CRITERIA:
        ReviewCriterion.objects.get_or_create(name=name, defaults={"weight": weight})
    today = timezone.localdate()
    if not EvaluationWeights.objects.filter(year=today.year).exists():
        services.weights_set(actor=officer, year=today.year, reach=35, budget=25, satisfaction=30, timeliness=10)

    demands = 0
    worker_member = Member.objects.filter(user=worker).first() if worker else None
    union = worker_member.current_membership.union if worker_member else pudong
    for category, text in DEMANDS:
        if Demand.objects.filter(description=text).exists():
            continue
        d = services.demand_post(actor=officer, category=category, description=text, union=union)
        for u in _participants(union.path, 3 + demands):
            try:
                services.demand_second(actor=u, demand=d)
            except DomainError:
                pass
        demands += 1

    made = 0
    scores = {str(c.pk): 88 for c in ReviewCriterion.objects.filter(active=True)}
    for stage in STAGES:
        title, category = TITLES[stage]
        if Project.objects.filter(title=title).exists():
            continue
        made += 1
        p = services.project_create(
            actor=officer,
            union=city,
            title=title,
            category=category,
            year=today.year,
            summary="“为职工办实事、由职工来评判”：由市总工会设计、区总工会组织实施。",
            start_date=today - dt.timedelta(days=20),
            end_date=today + dt.timedelta(days=90),
            delivery_mode="purchased" if stage in ("feedback", "evaluated") else "own",
            purchase_method="venture" if stage in ("feedback", "evaluated") else "",
            contractor="浦东新区阳光社工服务社" if stage in ("feedback", "evaluated") else "",
            contract_amount="60000" if stage in ("feedback", "evaluated") else None,
            contract_start=today - dt.timedelta(days=20) if stage in ("feedback", "evaluated") else None,
            contract_end=today + dt.timedelta(days=90) if stage in ("feedback", "evaluated") else None,
            implementers=[pudong],
            goals=[
                {"name": "服务职工人数", "target": 40, "unit": "人"},
                {"name": "活动场次", "target": 2, "metric": "sessions", "unit": "场"},
            ],
            budget=[{"name": "场地与物料", "planned": "20000"}, {"name": "讲师与服务费", "planned": "40000"}],
            demands=list(Demand.objects.filter(category=category)[:1]),
        )
        services.milestone_add(actor=officer, project=p, name="项目启动", due_date=p.start_date)
        if stage == "draft":
            continue
        services.project_submit(actor=officer, project=p)
        if stage == "in_review":
            continue
        decision = {"returned": "return", "rejected": "reject"}.get(stage, "approve")
        services.review_submit(
            actor=reviewer,
            project=p,
            scores=scores,
            decision=decision,
            opinion="方案清晰，预算合理" if decision == "approve" else "请细化预算并说明与已有项目的区别",
        )
        if stage in ("returned", "rejected", "library"):
            continue
        services.project_start(actor=officer, project=p)
        _run_sessions(p, officer=officer, pudong=pudong, worker=worker, stage=stage)
        if stage == "implementing":
            # Money under way: some spent, and an overspend waiting for another officer (login `city`).
            first, second = p.budget_lines.order_by("id")[:2]
            services.expense_record(actor=officer, line=first, amount=first.planned * 6 / 10, note="场地租赁")
            services.overspend_request(actor=officer, line=second, amount="5000", reason="增加一场活动的讲师费")
            continue
        for goal in p.goals.all():
            services.result_file(actor=officer, goal=goal, achieved=int(goal.target * 0.85), note="按签到名单统计")
        ms = p.milestones.first()
        services.milestone_done(actor=officer, milestone=ms, on=ms.due_date)
        services.project_close(actor=officer, project=p)
        if stage == "evaluated":
            services.project_evaluate(actor=officer, project=p)
    return {"projects": made, "demands": demands}


def _run_sessions(p, *, officer, pudong, worker, stage):
    from members.cards import card_token

    session = services.session_create(
        actor=officer,
        project=p,
        union=pudong,
        title="第一场",
        starts_at=timezone.now() + dt.timedelta(days=7),
        place="浦东新区职工服务中心",
        capacity=5,
    )
    people = _participants(pudong.path, 7)
    if worker and stage == "implementing":
        people = [worker, *[u for u in people if u != worker]]
    enrolments = []
    for u in people:
        try:
            enrolments.append(services.enrolment_sign_up(actor=u, session=session))
        except DomainError:
            continue
    if stage == "implementing":
        return  # five enrolled, the rest waiting: the demo worker signs up first
    for e in enrolments[:4]:
        membership = Member.objects.get(pk=e.member_id).current_membership
        services.checkin_scan(actor=officer, session=session, token=card_token(membership))
        services.rating_submit(actor=e.member.user, enrolment=e, score=5 if e.pk % 2 else 4, comment="很有收获")
    for line in p.budget_lines.all():
        services.expense_record(actor=officer, line=line, amount=line.planned * 9 / 10, note="按合同支付")
