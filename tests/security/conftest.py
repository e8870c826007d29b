"""Two sibling subtrees full of objects, each object's text carrying its subtree's marker.

Every populator below adds objects of one app under 浦东 (marker PD_MARK) and 黄浦
(HP_MARK). The harness then asks every route, as every actor, and fails if a 黄浦 clerk
ever receives PD_MARK. A new app adds a populator here; new endpoints need nothing.
"""

import pytest

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


POPULATORS = [_populate_organizations, _populate_members, _populate_attachments, _populate_assistance]


@pytest.fixture
def sides(tree, owner):
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
    return result
