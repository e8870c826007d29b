"""Demo mediation data: centres in 浦东新区 and 黄浦区, the `mediator` login's post, cases in every state.

Idempotent (a centre that already has cases is left alone). Every write goes through the
services, as a clerk's would; dates are counted back from today, so some cases are overdue.
A period running into a year the holiday calendar does not know yet is shown as "not yet
computable" on the pages (core.calendar fails closed).
"""

from __future__ import annotations

import datetime as dt
import random

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

# A one-page PDF as the demo's evidence on the collective case (a real upload would be a scan).
_DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _people(rng: random.Random, n: int):
    from members.demo import fake_id_number, fake_name

    return [{"name": fake_name(rng), "id_number": fake_id_number(rng, region="310115")} for _ in range(n)]


def seed_disputes(*, rng: random.Random, today: dt.date | None = None) -> dict[str, int]:
    from organizations.models import Enterprise, Organization, OrgKind, RoleAssignment, User

    from . import clock, services
    from .models import BodyKind, Case, DisputeKind, MediationBody, Mediator

    today = today or clock.today()
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    pudong = Organization.objects.filter(kind=OrgKind.DISTRICT, region_code="310115").first()
    huangpu = Organization.objects.filter(kind=OrgKind.DISTRICT, region_code="310101").first()
    if admin is None or pudong is None:
        return {"dispute_cases": 0}
    street = Organization.objects.filter(path__startswith=pudong.path, name="陆家嘴街道总工会").first() or pudong
    body = MediationBody.objects.filter(organization=street, kind=BodyKind.STREET).first()
    if body is not None and body.cases.exists():
        return {"dispute_cases": 0}
    created = 0
    with transaction.atomic():
        if body is None:
            body = services.body_create(
                actor=admin, organization=street, name="陆家嘴街道劳动争议调解中心", kind=BodyKind.STREET
            )
            services.body_create(
                actor=admin, organization=pudong, name="浦东新区总工会劳动争议调解中心", kind=BodyKind.DISTRICT
            )
        login = User.objects.filter(username="mediator").first()
        if login is None:
            from organizations.demo import DEMO_PASSWORD

            login = User.objects.create_user(
                username="mediator", password=DEMO_PASSWORD, display_name="陆家嘴街道劳动争议调解中心调解员"
            )
        RoleAssignment.objects.get_or_create(user=login, organization=street, role="mediator")
        me = Mediator.objects.filter(user=login, body=body).first() or services.mediator_add(
            actor=admin,
            body=body,
            user=login,
            name="陈静",
            employment=Mediator.Employment.FULL_TIME,
            specialities=[DisputeKind.WAGES, DisputeKind.DISMISSAL],
        )
        head_user, _ = User.objects.get_or_create(username="mediator_head", defaults={"display_name": "调解中心主任"})
        RoleAssignment.objects.get_or_create(user=head_user, organization=street, role="mediator")
        if not Mediator.objects.filter(user=head_user, body=body).exists():
            services.mediator_add(
                actor=admin,
                body=body,
                user=head_user,
                name="周卫国",
                employment=Mediator.Employment.PART_TIME,
                specialities=[DisputeKind.SOCIAL_INSURANCE, DisputeKind.WORK_INJURY],
                is_head=True,
            )
        enterprises = list(Enterprise.objects.filter(org_path__startswith=street.path).order_by("pk")[:6]) or [None]
        worker = User.objects.filter(username="worker").first()

        def new(days_ago: int, *, kind=DisputeKind.WAGES, workers=1, channel="walk_in", amount="18600.00", **kw):
            nonlocal created
            ent = enterprises[created % len(enterprises)]
            people = _people(rng, min(workers, 3))
            received = today - dt.timedelta(days=days_ago)
            fields = {
                "actor": admin,
                "body": body,
                "channel": channel,
                "kind": kind,
                "facts": "申请人称用人单位自今年 8 月起未足额支付工资，多次催要未果。",
                "claims": [
                    {"description": "支付拖欠的工资", "amount": amount},
                    {"description": "支付经济补偿", "amount": "6000.00"},
                ],
                "applicants": people,
                "respondent_enterprise": ent,
                "respondent_name": "" if ent else "某餐饮管理有限公司",
                "workers_involved": workers,
                "received_on": received,
                **kw,
            }
            case = services.case_receive(**fields)
            created += 1
            return case

        def work(case, *, until: str):
            order = ["accepted", "assigned", "in_mediation", "agreed", "fulfilled", "closed", "visited"]
            for step in order[: order.index(until) + 1]:
                if step == "accepted":
                    case = services.case_accept(case=case, actor=admin)
                elif step == "assigned":
                    case = services.case_assign(case=case, actor=admin, mediator=me)
                elif step == "in_mediation":
                    services.session_record(
                        case=case,
                        actor=admin,
                        held_at=dt.datetime.combine(today, dt.time(9, 30), tzinfo=dt.UTC),
                        place="陆家嘴街道调解室",
                        attendees="申请人、被申请单位代表、调解员",
                    )
                elif step == "agreed":
                    services.agreement_make(
                        case=case,
                        actor=admin,
                        signed_by_applicants=True,
                        signed_by_respondent=True,
                        signed_by_mediator=True,
                        effective_on=today,
                    )
                elif step == "fulfilled":
                    services.fulfilment_record(case=case, actor=admin, outcome="paid", amount_paid="24600.00")
                elif step == "closed":
                    services.case_close(case=case, actor=admin)
                elif step == "visited":
                    services.return_visit_record(case=case, actor=admin, satisfaction=5, comments="调解及时，满意")
                case.refresh_from_db()
            return case

        new(1)  # received
        work(new(2, kind=DisputeKind.CONTRACT), until="accepted")
        declined = new(3, kind=DisputeKind.OTHER)
        services.case_decline(case=declined, actor=admin, reason="不属于劳动争议受案范围（民间借贷）")
        work(new(4), until="assigned")
        work(new(6, kind=DisputeKind.DISMISSAL), until="in_mediation")
        work(new(20), until="in_mediation")  # overdue: 15 days ran out
        suspended = work(new(8, kind=DisputeKind.WORK_INJURY), until="in_mediation")
        services.clock_suspend(case=suspended, actor=admin, reason="等待工伤认定结论", on=today)
        work(new(12, kind=DisputeKind.WORKING_HOURS), until="in_mediation")  # warning
        collective = work(new(5, workers=36, amount="428000.00"), until="in_mediation")
        services.clock_extend(case=collective, actor=admin, days=10, both_parties_consent=True, on=today)
        services.case_document_add(
            actor=admin,
            case=collective,
            uploaded_file=SimpleUploadedFile("欠薪职工名单.pdf", _DEMO_PDF, content_type="application/pdf"),
            kind="wages",
        )
        work(
            new(
                3,
                kind=DisputeKind.DISMISSAL,
                channel="court_delegated",
                court_name="上海市浦东新区人民法院",
                court_reference=f"（{today.year}）沪0115民初{rng.randint(10000, 99999)}号",
                court_return_deadline=today + dt.timedelta(days=9),
            ),
            until="assigned",
        )
        work(new(10), until="agreed")
        confirming = work(new(11), until="agreed")
        services.confirmation_apply(case=confirming, actor=admin, court="上海市浦东新区人民法院", applied_on=today)
        failed = work(new(16, kind=DisputeKind.SOCIAL_INSURANCE), until="in_mediation")
        services.case_fail(case=failed, actor=admin, reason="被申请单位拒绝调解", referral="legal_aid")
        withdrawn = new(5)
        services.case_withdraw(case=withdrawn, actor=admin, reason="双方已自行和解")
        work(new(25), until="fulfilled")
        work(new(30), until="closed")
        work(new(40), until="visited")
        if worker is not None:
            mine = services.case_apply(
                worker=worker,
                body=body,
                track=Case.Track.MEDIATION,
                kind=DisputeKind.WAGES,
                name="王小明",
                id_number=_people(random.Random(20240501), 1)[0]["id_number"],
                facts="平台站点拖欠两个月配送费。",
                claims=[{"description": "支付配送费", "amount": "7350.50"}],
                respondent_name="外卖平台站点",
            )
            created += 1
            mine = work(mine, until="assigned")
            services.session_record(
                case=mine,
                actor=admin,
                held_at=timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=2), dt.time(14))),
                place="陆家嘴街道调解室",
                attendees="申请人、站点负责人",
            )
        if huangpu is not None:
            hp_street = Organization.objects.filter(path__startswith=huangpu.path, kind=OrgKind.STREET).first()
            if hp_street is not None:
                hp_body = services.body_create(
                    actor=admin,
                    organization=hp_street,
                    name=f"{hp_street.name.removesuffix('总工会')}劳动争议调解中心",
                    kind=BodyKind.STREET,
                )
                services.case_receive(
                    actor=admin,
                    body=hp_body,
                    channel="hotline",
                    kind=DisputeKind.WAGES,
                    facts="拖欠工资。",
                    claims=[{"description": "支付工资", "amount": "5200"}],
                    applicants=_people(rng, 1),
                    respondent_name="某零售公司",
                    received_on=today - dt.timedelta(days=2),
                )
                created += 1
        services.enterprise_risk_recompute(today=today)
    return {"dispute_cases": created}
