"""The world of the scope harnesses: two sibling subtrees full of objects, each object's
text carrying its subtree's marker.

Every populator below adds objects of one app under 浦东 (marker PD_MARK) and 黄浦
(HP_MARK). The harnesses then ask every route, as every actor, and fail if a 黄浦 clerk
ever receives PD_MARK. A new app adds a populator here; new endpoints need nothing.

build_sides() populates one world (tests/security/conftest.py: one per test for the
harnesses that write outside a savepoint); populated_world() builds one rolled back at
its end. A module whose tests only read, or write inside their own savepoint, shares one
world between its tests by importing the fixtures `module_world`, `tree`, `owner` and
`sides` from here (test_scope_leaks, test_scope_dashboards, test_scope_writes,
test_scope_mixed_roles).
"""

import contextlib

import pytest
from django.db import models, transaction
from django.http import HttpResponseNotFound
from django.test import override_settings

from organizations.models import OrgKind, ServiceStation
from tests.factories import EnterpriseFactory, OfficerFactory, StationFactory, add_org

PD_MARK = "甲区专属标记"
HP_MARK = "乙区专属标记"


def _populate_organizations(tree, side, mark, objects, actor):
    street = tree["lujiazui"] if side == "pd" else tree["nanjing"]
    union = add_org(street, name=f"{mark}基层工会", kind=OrgKind.GRASSROOTS)
    group = add_org(union, name=f"{mark}工会小组", kind=OrgKind.UNION_GROUP)
    ent = EnterpriseFactory(name=f"{mark}有限公司", supervisor=street, union=union, address=f"{mark}路1号")
    officer = OfficerFactory(organization=union, name=f"{mark}主席")
    station = StationFactory(organization=street, name=f"{mark}服务站", kind=ServiceStation.Kind.REST)
    objects += [union, group, ent, officer, station]


def _populate_activity(tree, side, mark, objects, actor):
    from core.audit import log_action

    union = next(o for o in objects if getattr(o, "kind", None) == OrgKind.GRASSROOTS)
    objects.append(log_action(actor=actor, action="test.marked", target=union, data={"note": mark}))
    _populate_inbox(side, mark, objects, actor, union)


def _populate_inbox(side, mark, objects, actor, union):
    """Marked messages in the inboxes of the side's clerk (the `clerk`/`outsider` fixtures' users) and the owner.

    Inboxes are per person, not per subtree: the outsider must never read the 浦东 clerk's.
    """
    from activity.models import Notification
    from activity.services import notify
    from tests.factories import UserFactory

    side_clerk = UserFactory(username="pd_clerk" if side == "pd" else "hp_clerk")  # get-or-create by username
    reminder = notify(
        kind="members.application_waiting",
        target=union,
        recipients=[side_clerk, actor],
        title=f"{mark}入会申请待审核",
        body=f"{mark}请尽快审核",
        url=f"/members/applications/?q={mark}",
        org_path=union.path,
    )
    objects += list(Notification.objects.filter(delivery__reminder=reminder))


def _populate_members(tree, side, mark, objects, actor):
    from members import services as member_services
    from tests.factories import make_id_number, make_member, make_mobile

    union = next(o for o in objects if getattr(o, "kind", None) == OrgKind.GRASSROOTS)
    membership = make_member(union, actor=actor, name=f"{mark}会员", employer_name=f"{mark}有限公司")
    honour = member_services.honour_add(actor=actor, member=membership.member, kind="city_craftsman", year=2025)
    code = member_services.join_code_create(actor=actor, union=union, label=f"{mark}入会码")
    application = member_services.join_application_submit(
        code=member_services.join_code_public(code),
        name=f"{mark}申请人",
        id_number=make_id_number(),
        mobile=make_mobile(),
        employment_form="rider",
        employer_name=f"{mark}配送站",
        consent=True,
        password="Applicant-pass-2026",
    )
    objects += [membership, membership.member, honour, code, application]


def _populate_attachments(tree, side, mark, objects, actor):
    """Marked files on a member and on a union: a leaked download carries the marker."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core.attachments.services import attachment_add
    from members.models import Member

    union = next(o for o in objects if getattr(o, "kind", None) == OrgKind.GRASSROOTS)
    member = next(o for o in objects if isinstance(o, Member))
    for owner, kind in ((member, "diagnosis"), (union, "charter")):
        content = f"%PDF-1.4\n% {mark}\n%%EOF\n".encode()
        upload = SimpleUploadedFile(f"{mark}{kind}.pdf", content, content_type="application/pdf")
        objects.append(attachment_add(owner=owner, uploaded_file=upload, kind=kind, actor=actor))


def _populate_projects(tree, side, mark, objects, actor):
    """A district project in implementation with a marked session, sign-up, demand and budget line."""
    import datetime as dt

    from django.utils import timezone

    from organizations.models import RoleAssignment, User
    from projects import services as project_services
    from projects.models import ReviewCriterion
    from tests.factories import UserFactory, make_member

    district = tree["pudong"] if side == "pd" else tree["huangpu"]
    union = next(o for o in objects if getattr(o, "kind", None) == OrgKind.GRASSROOTS)
    if not ReviewCriterion.objects.exists():
        ReviewCriterion.objects.create(name="综合", weight=100)
    reviewer = User.objects.filter(username="harness-reviewer").first()
    if reviewer is None:
        reviewer = UserFactory(username="harness-reviewer")
        RoleAssignment.objects.create(user=reviewer, organization=tree["city"], role="project_officer")
    demand = project_services.demand_post(actor=actor, category="skills", description=f"{mark}需求", union=union)
    today = timezone.localdate()
    project = project_services.project_create(
        actor=actor,
        union=district,
        title=f"{mark}项目",
        category="skills",
        year=today.year,
        summary=f"{mark}简介",
        start_date=today - dt.timedelta(days=10),
        end_date=today + dt.timedelta(days=60),
        implementers=[union],
        goals=[{"name": f"{mark}目标", "target": 50}],
        budget=[{"name": f"{mark}预算", "planned": "1000"}],
        demands=[demand],
    )
    project_services.project_submit(actor=actor, project=project)
    project_services.review_submit(
        actor=reviewer,
        project=project,
        scores={str(c.pk): 80 for c in ReviewCriterion.objects.all()},
        decision="approve",
        opinion=f"{mark}意见",
    )
    project = project_services.project_start(actor=actor, project=project)
    session = project_services.session_create(
        actor=actor,
        project=project,
        union=union,
        title=f"{mark}场次",
        starts_at=timezone.now() + dt.timedelta(days=5),
        place=f"{mark}地点",
        capacity=5,
    )
    user = UserFactory(username=f"harness-worker-{side}", kind=User.Kind.WORKER)
    member = make_member(union, actor=actor, name=f"{mark}学员").member
    member.user = user
    member.save(update_fields=["user"])
    enrolment = project_services.enrolment_sign_up(actor=user, session=session)
    line = project.budget_lines.get()
    request = project_services.overspend_request(actor=actor, line=line, amount="10", reason=f"{mark}超支")
    objects += [demand, project, session, enrolment, line, request]


def _populate_disputes(tree, side, mark, objects, actor):
    """A mediation centre, a mediator and cases (one agreed, with a session) carrying the marker."""
    import datetime as dt

    from disputes import services as dispute_services
    from organizations.models import Enterprise, RoleAssignment
    from tests.factories import UserFactory, make_id_number

    street = tree["lujiazui"] if side == "pd" else tree["nanjing"]
    ent = next(o for o in objects if isinstance(o, Enterprise))
    body = dispute_services.body_create(actor=actor, organization=street, name=f"{mark}调解中心", kind="street")
    user = UserFactory(username=f"{side}_marked_mediator")
    RoleAssignment.objects.create(user=user, organization=street, role="mediator")
    mediator = dispute_services.mediator_add(
        actor=actor, body=body, user=user, name=f"{mark}调解员", employment="full_time", is_head=True
    )
    cases = []
    for i in range(2):
        cases.append(
            dispute_services.case_receive(
                actor=actor,
                body=body,
                channel="court_delegated",
                court_name=f"{mark}法院",
                court_reference=f"{mark}民初{i}号",
                court_return_deadline=dt.date(2026, 11, 30),
                kind="wages",
                facts=f"{mark}事实",
                claims=[{"description": f"{mark}工资", "amount": "1000"}],
                applicants=[{"name": f"{mark}申请人{i}", "id_number": make_id_number()}],
                respondent_enterprise=ent,
                workers_involved=12,
                received_on=dt.date(2026, 11, 2),
            )
        )
    case = dispute_services.case_accept(case=cases[0], actor=actor)
    case = dispute_services.case_assign(case=case, actor=actor, mediator=mediator)
    dispute_services.session_record(
        case=case,
        actor=actor,
        held_at=dt.datetime(2026, 11, 3, 9, tzinfo=dt.UTC),
        place=f"{mark}调解室",
        attendees=mark,
    )
    agreement = dispute_services.agreement_make(
        case=case, actor=actor, terms=f"{mark}条款", signed_by_applicants=True, signed_by_respondent=True
    )
    dispute_services.enterprise_risk_recompute()
    from django.core.files.uploadedfile import SimpleUploadedFile

    from disputes.models import EnterpriseRisk

    evidence = dispute_services.case_document_add(
        actor=actor,
        case=case,
        uploaded_file=SimpleUploadedFile(f"{mark}证据.pdf", f"%PDF-1.4\n% {mark}\n%%EOF\n".encode()),
        kind="evidence",
    )
    objects += [body, mediator, *cases, agreement, EnterpriseRisk.objects.get(enterprise=ent), evidence]


def _populate_assistance(tree, side, mark, objects, actor):
    """A marked aid file in every kind of row: household, investigation, notice, grant, fund,
    budget, campaign (the city's standard is shared, published once)."""
    import datetime as dt

    from assistance import services as aid
    from assistance.models import AidStandard, Campaign, HardshipFile
    from members.models import Member
    from tests.assistance.helpers import publish_standard

    if not AidStandard.objects.exists():
        publish_standard(actor)
    district = tree["pudong"] if side == "pd" else tree["huangpu"]
    member = next(o for o in objects if isinstance(o, Member))
    fund = aid.fund_create(actor=actor, organization=district, name=f"{mark}帮扶资金", source="donation")
    budget = aid.budget_create(actor=actor, fund=fund, organization=district, year=2026, amount="50000")
    file = aid.file_open(
        actor=actor,
        member=member,
        causes=["illness"],
        assets_note=f"{mark}住房",
        requested_kind="living",
        requested_amount="1500",
    )
    aid.household_member_add(actor=actor, file=file, name=f"{mark}本人", relation="self", age=45, monthly_income="900")
    inv = aid.investigation_record(
        actor=actor, file=file, visited_on=dt.date.today(), investigators=f"{mark}调查员", findings=f"{mark}调查情况"
    )
    notice = aid.notice_start(actor=actor, file=file, start=dt.date(2026, 9, 28), place=f"{mark}公示栏", budget=budget)
    aid.objection_record(actor=actor, notice=notice, received_on=dt.date(2026, 9, 29), content=f"{mark}异议")
    for o in notice.objections.all():
        aid.objection_resolve(actor=actor, objection=o, upheld=False, resolution=f"{mark}不成立")
    aid.notice_close(actor=actor, file=file)
    # A second file waits in the approval queue; the first is registered with its grant.
    file = aid.file_decide(actor=actor, file=HardshipFile.objects.get(pk=file.pk), decision="approve", opinion="同意")
    campaign = aid.campaign_create(
        actor=actor,
        organization=district,
        kind=Campaign.Kind.WARMTH,
        name=f"{mark}送温暖",
        budget=budget,
        amount_per_file="300",
    )
    objects += [file, inv, notice, fund, budget, campaign, *file.grants.all()]


def _populate_reports(tree, side, mark, objects, actor):
    """A built report of the street (its children include the marked union): a leaked page or file shows it.

    And a queued report of the marked union itself, so that a leaked list or detail of report
    runs (JSON, HTML) carries the marker in the organisation's name.
    """
    import datetime as dt

    from django.utils import timezone

    from reports import runs

    street = tree["lujiazui"] if side == "pd" else tree["nanjing"]
    union = next(o for o in objects if getattr(o, "kind", None) == OrgKind.GRASSROOTS)
    last = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    run = runs.report_request(actor=actor, organization=street, kind="monthly", period=f"{last:%Y-%m}")
    objects.append(runs.report_run_execute(run.pk, run.generation))
    objects.append(runs.report_request(actor=actor, organization=union, kind="yearly", period=f"{last.year - 1}"))


POPULATORS = [
    _populate_organizations,
    _populate_members,
    _populate_attachments,
    _populate_projects,
    _populate_disputes,
    _populate_assistance,
    _populate_reports,
]


def build_sides(tree, owner):
    """{"pd": [objects…], "hp": [objects…]} with markers in every text field that shows."""
    result = {}
    for side, mark in (("pd", PD_MARK), ("hp", HP_MARK)):
        objects = [tree["pudong"] if side == "pd" else tree["huangpu"]]
        for populate in POPULATORS:
            populate(tree, side, mark, objects, owner)
        _populate_activity(tree, side, mark, objects, owner)
        result[side] = objects
    from organizations.services import coverage_refresh

    coverage_refresh()
    from reports.summaries import statistics_refresh

    statistics_refresh()  # the dashboards' summary rows, so they show both sides' figures
    return result


@contextlib.contextmanager
def populated_world(django_db_blocker):
    """(tree, owner, sides) built once, inside a transaction rolled back at the end.

    For a class or module of tests that only read the two subtrees, or whose writes are
    rolled back: each test still runs in a savepoint of this transaction (the `db`
    fixture nests), so what one test wrote never reaches the next, exactly as when each
    test built its own; only the populating (seconds per test) is shared.
    """
    from tests.conftest import _staff, make_tree

    # What the function-scoped autouse fixtures of tests/conftest.py set for each test.
    quick = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"], SMS_BACKEND="core.sms.TestBackend"
    )
    with quick, django_db_blocker.unblock(), transaction.atomic():
        tree = make_tree()
        owner = _staff("owner", tree["city"], "federation_admin")
        yield tree, owner, build_sides(tree, owner)
        transaction.set_rollback(True)


def _plain_not_found(request, exception):
    return HttpResponseNotFound()


@pytest.fixture
def plain_not_found(monkeypatch):
    """Pages answer 404 with an empty body instead of the 404 page (base.html with its menus).

    For walks that read the body of a 200 only (a refusal's page is never looked at): about
    half of a page walk's requests are 404s, and rendering that page was most of their
    cost. The status is still the view's. The real page is rendered for a mixed-role user
    in test_scope_mixed_roles and for every actor in test_scope_leaks.
    """
    import unionportal.urls

    monkeypatch.setattr(unionportal.urls, "handler404", _plain_not_found, raising=False)


def signed_in(user):
    """(API client, page client) signed in as `user`; None gives anonymous clients."""
    from django.test import Client
    from rest_framework.test import APIClient

    api, page = APIClient(), Client()
    if user is not None:
        api.force_authenticate(user=user)
        page.force_login(user)
    return api, page


def fresh(*objects):
    """The shared objects as the database has them: a test may have changed an instance in memory."""
    for obj in objects:
        if isinstance(obj, models.Model):
            obj.refresh_from_db()


# One world per module: a module imports module_world and the three fixtures after it,
# which override the conftests' `tree`, `owner` and `sides` for its tests only (imported
# under their function names, so that parameters named tree/owner/sides shadow nothing).
# Each test runs in a savepoint of the world's transaction and sees the objects as the
# database has them.
@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker):
    """populated_world shared by the tests of one module."""
    with populated_world(django_db_blocker) as world:
        yield world


@pytest.fixture(name="tree")
def module_tree(module_world, db):
    fresh(*module_world[0].values())
    return module_world[0]


@pytest.fixture(name="owner")
def module_owner(module_world, db):
    return module_world[1]


@pytest.fixture(name="sides")
def module_sides(module_world, tree):
    fresh(*module_world[2]["pd"], *module_world[2]["hp"])
    return module_world[2]
