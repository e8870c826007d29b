import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from activity.models import AuditEvent
from core import crypto
from core.errors import DomainError, TransitionError
from core.selectors import transition_history
from members import services
from members.models import JoinApplication, Member, Membership, Transfer
from members.selectors import member_search, members_for_user
from tests.factories import make_id_number, make_member, make_mobile


def test_it_registers_a_member_with_a_structured_number(tree, clerk):
    idn = make_id_number(region="310115")
    ms = make_member(tree["pd_union"], actor=clerk, name="李四", id_number=idn, mobile="13812345678")
    m = ms.member
    assert ms.status == Membership.Status.ACTIVE
    assert ms.member_number.startswith("310115") and len(ms.member_number) == 19
    assert m.id_masked == crypto.mask_id(idn) and m.mobile_masked == "138****5678"
    assert crypto.decrypt(m.id_number_enc) == idn
    assert m.org_path == tree["pd_union"].path and m.current_membership == ms
    assert m.name_initials == "ls"
    event = AuditEvent.objects.get(action="member.registered")
    assert idn not in str(event.data) and event.org_path == tree["pd_union"].path


def test_it_numbers_members_of_one_union_consecutively(tree, clerk):
    a = make_member(tree["pd_union"], actor=clerk)
    b = make_member(tree["pd_union"], actor=clerk)
    assert int(b.member_number) == int(a.member_number) + 1


def test_it_refuses_a_second_active_membership_naming_the_union(tree, owner):
    idn = make_id_number()
    make_member(tree["pd_union"], actor=owner, id_number=idn)
    with pytest.raises(DomainError) as exc:
        make_member(tree["hp_union"], actor=owner, id_number=idn)
    assert "浦东测试科技有限公司工会" in str(exc.value)
    assert Membership.objects.count() == 1


def test_it_refuses_registration_outside_reach_or_into_a_district(tree, clerk, outsider):
    with pytest.raises(Http404):
        make_member(tree["pd_union"], actor=outsider)
    with pytest.raises(ValidationError):
        make_member(tree["pudong"], actor=clerk)


def test_it_lets_a_member_rejoin_after_leaving(tree, clerk):
    idn = make_id_number()
    ms = make_member(tree["pd_union"], actor=clerk, id_number=idn)
    services.membership_leave(actor=clerk, membership=ms, reason="个人原因")
    again = make_member(tree["pd_union"], actor=clerk, id_number=idn)
    assert again.member_id == ms.member_id and again.member_number != ms.member_number
    with pytest.raises(TransitionError):
        services.membership_leave(actor=clerk, membership=ms)


def test_it_finds_members_by_name_initials_number_mobile_and_id(tree, clerk):
    idn = make_id_number()
    ms = make_member(tree["pd_union"], actor=clerk, name="王小明", id_number=idn, mobile="13900001111")
    make_member(tree["pd_union"], actor=clerk, name="赵六")
    qs = members_for_user(clerk)
    for query in ("王小", "wxm", "WX", ms.member_number, "13900001111", idn, idn.lower()):
        assert list(member_search(qs, query)) == [ms.member], query
    assert not member_search(qs, "13900001112").exists()


def test_it_reveals_full_data_only_with_the_capability_and_audits_it(tree, owner, clerk, outsider):
    idn = make_id_number()
    ms = make_member(tree["pd_union"], actor=owner, id_number=idn, mobile="13700001234")
    with pytest.raises(PermissionDenied):
        services.member_reveal(actor=clerk, member=ms.member)
    with pytest.raises(Http404):
        services.member_reveal(actor=outsider, member=ms.member)
    assert services.member_reveal(actor=owner, member=ms.member) == {"id_number": idn, "mobile": "13700001234"}
    event = AuditEvent.objects.get(action="member.personal_data_viewed")
    assert event.actor == owner and event.org_path == tree["pd_union"].path


def test_join_flow_submit_approve_then_login_by_mobile(tree, clerk):
    code = services.join_code_create(actor=clerk, union=tree["pd_union"])
    signed = services.join_code_public(code)
    idn = make_id_number()
    app = services.join_application_submit(
        code=signed,
        name="陈骑手",
        id_number=idn,
        mobile="13512345678",
        employment_form="rider",
        consent=True,
        password="Qishou-2024-pw",
    )
    assert app.status == JoinApplication.Status.PENDING and app.union == tree["pd_union"]
    ms = services.join_application_approve(actor=clerk, application=app)
    assert ms.member.user.kind == "worker"
    user = authenticate(username="135 1234 5678", password="Qishou-2024-pw")
    assert user == ms.member.user
    assert authenticate(username="13512345678", password="wrong-password") is None
    with pytest.raises(TransitionError):
        services.join_application_approve(actor=clerk, application=app)
    assert Membership.objects.filter(member=ms.member).count() == 1


def test_join_refuses_forged_revoked_duplicate_and_underage(tree, clerk):
    code = services.join_code_create(actor=clerk, union=tree["pd_union"])
    signed = services.join_code_public(code)
    base = {"name": "甲", "mobile": make_mobile(), "employment_form": "courier", "consent": True}
    with pytest.raises(DomainError, match="无效"):
        services.join_application_submit(code=signed[:-2] + "xx", id_number=make_id_number(), **base)
    idn = make_id_number()
    make_member(tree["hp_union"], id_number=idn)
    # Already a member, or already applying: nothing is filed, and the caller learns nothing.
    assert services.join_application_submit(code=signed, id_number=idn, **base) is None
    young = make_id_number(birth=__import__("datetime").date.today().replace(year=2015))
    with pytest.raises(ValidationError, match="16"):
        services.join_application_submit(code=signed, id_number=young, **base)
    with pytest.raises(ValidationError):
        services.join_application_submit(code=signed, id_number=make_id_number(), **{**base, "consent": False})
    once = make_id_number()
    services.join_application_submit(code=signed, id_number=once, **base)
    assert services.join_application_submit(code=signed, id_number=once, **base) is None
    assert JoinApplication.objects.filter(id_number_hash=JoinApplication.objects.get().id_number_hash).count() == 1
    services.join_code_revoke(actor=clerk, code=code)
    with pytest.raises(DomainError, match="停用"):
        services.join_application_submit(code=signed, id_number=make_id_number(), **base)


def test_it_rejects_an_application_with_a_reason(tree, clerk, outsider):
    code = services.join_code_create(actor=clerk, union=tree["pd_union"])
    app = services.join_application_submit(
        code=services.join_code_public(code),
        name="乙",
        id_number=make_id_number(),
        mobile=make_mobile(),
        employment_form="full_time",
        consent=True,
    )
    with pytest.raises(Http404):
        services.join_application_reject(actor=outsider, application=app, reason="x")
    with pytest.raises(ValidationError):
        services.join_application_reject(actor=clerk, application=app, reason=" ")
    app = services.join_application_reject(actor=clerk, application=app, reason="非本单位职工")
    assert app.status == JoinApplication.Status.REJECTED


def test_transfer_moves_sight_from_old_union_to_new(tree, clerk, outsider):
    ms = make_member(tree["pd_union"], actor=clerk)
    member = ms.member
    t = services.transfer_request(actor=clerk, member=member, to_union=tree["hp_union"], reason="换工作")
    assert t.requested_side == Transfer.Side.FROM
    with pytest.raises(Http404):
        services.transfer_accept(actor=clerk, transfer=t)
    new = services.transfer_accept(actor=outsider, transfer=t)
    ms.refresh_from_db()
    member.refresh_from_db()
    assert ms.status == Membership.Status.TRANSFERRED_OUT and new.status == Membership.Status.ACTIVE
    assert new.member_number.startswith("310101")
    assert not members_for_user(clerk).filter(pk=member.pk).exists()
    assert members_for_user(outsider).filter(pk=member.pk).exists()
    t.refresh_from_db()
    assert [r.to_state for r in transition_history(t)] == ["requested", "accepted"]
    with pytest.raises(TransitionError):
        services.transfer_cancel(actor=clerk, transfer=t)


def test_transfer_can_be_requested_by_the_receiving_union_and_rejected(tree, clerk, outsider):
    ms = make_member(tree["pd_union"], actor=clerk)
    t = services.transfer_request(actor=outsider, member=ms.member, to_union=tree["hp_union"])
    assert t.requested_side == Transfer.Side.TO and t.status == Transfer.Status.AWAITING
    with pytest.raises(DomainError):
        services.transfer_request(actor=clerk, member=ms.member, to_union=tree["hp_union"])
    with pytest.raises(TransitionError):  # not before the member or the releasing union agreed
        services.transfer_accept(actor=outsider, transfer=t)
    services.transfer_consent(actor=clerk, transfer=t)
    with pytest.raises(ValidationError):
        services.transfer_reject(actor=outsider, transfer=t, reason="")
    services.transfer_reject(actor=outsider, transfer=t, reason="查无此人")
    ms.refresh_from_db()
    assert ms.status == Membership.Status.ACTIVE


def test_worker_can_request_and_cancel_own_transfer_and_leave(tree, clerk):
    from members.services.joining import _ensure_worker_account

    ms = make_member(tree["pd_union"], actor=clerk)
    user = _ensure_worker_account(ms.member)
    t = services.transfer_request(actor=user, member=ms.member, to_union=tree["hp_union"])
    assert t.requested_side == Transfer.Side.WORKER
    with pytest.raises(TransitionError):
        services.membership_leave(actor=user, membership=ms)
    services.transfer_cancel(actor=user, transfer=t)
    services.membership_leave(actor=user, membership=ms, reason="本人申请")
    with pytest.raises(Http404):
        services.membership_retire(actor=user, membership=Membership.objects.get(pk=ms.pk))


def test_contact_correction_by_the_member_and_honours(tree, clerk, outsider):
    from members.services.joining import _ensure_worker_account

    ms = make_member(tree["pd_union"], actor=clerk)
    user = _ensure_worker_account(ms.member)
    m = services.member_update_contact(actor=user, member=ms.member, mobile="18612345678")
    assert m.mobile_masked == "186****5678" and m.mobile_hash == crypto.mobile_hash("18612345678")
    with pytest.raises(Http404):
        services.member_update_contact(actor=outsider, member=m, mobile="18612345679")
    h = services.honour_add(actor=clerk, member=m, kind="city_model", year=2020)
    assert str(h) == "市级劳动模范（2020）"
    with pytest.raises(ValidationError):
        services.honour_add(actor=clerk, member=m, kind="city_model", year=2020)
    with pytest.raises(ValidationError):
        services.honour_add(actor=clerk, member=m, kind="city_model", year=1800)


def test_it_counts_active_members_for_coverage(tree, clerk):
    from organizations.models import CoverageSummary
    from organizations.services import coverage_refresh

    make_member(tree["pd_union"], actor=clerk)
    ms = make_member(tree["pd_union"], actor=clerk)
    services.membership_leave(actor=clerk, membership=ms)
    coverage_refresh()
    assert CoverageSummary.objects.get(organization=tree["pudong"]).members == 1
    assert CoverageSummary.objects.get(organization=tree["huangpu"]).members == 0


def test_moving_a_union_rewrites_member_paths(tree, owner):
    from organizations.services import organization_move

    ms = make_member(tree["pd_union"], actor=owner)
    org = organization_move(actor=owner, organization=tree["pd_union"], new_parent=tree["nanjing"])
    ms.refresh_from_db()
    assert ms.org_path == org.path and Member.objects.get(pk=ms.member_id).org_path == org.path


def test_merging_a_union_moves_its_active_members_and_queue(tree, owner):
    from organizations.models import OrgKind
    from organizations.services import organization_merge
    from tests.factories import add_org

    other = add_org(tree["lujiazui"], name="被合并的工会", kind=OrgKind.GRASSROOTS)
    staying = make_member(other, actor=owner)
    gone = make_member(other, actor=owner)
    services.membership_leave(actor=owner, membership=gone)
    code = services.join_code_create(actor=owner, union=other)
    app = services.join_application_submit(
        code=services.join_code_public(code),
        name="戊",
        id_number=make_id_number(),
        mobile=make_mobile(),
        employment_form="courier",
        consent=True,
    )
    organization_merge(actor=owner, organization=other, into=tree["pd_union"])
    staying.refresh_from_db()
    gone.refresh_from_db()
    app.refresh_from_db()
    assert staying.union == tree["pd_union"] and staying.org_path == tree["pd_union"].path
    assert Member.objects.get(pk=staying.member_id).org_path == tree["pd_union"].path
    assert gone.union == other  # history stays where it was
    assert app.union == tree["pd_union"]
