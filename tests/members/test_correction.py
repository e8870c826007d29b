"""Correcting a member's identity and contact data (issue 15 item 1) and the name rule (item 5)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from activity.models import AuditEvent
from core import crypto
from core.errors import DomainError
from members import services
from members.models import Member
from members.validators import clean_person_name
from tests.factories import make_id_number, make_member, make_mobile


@pytest.fixture
def pd(tree, owner):
    idn = make_id_number(sex="M")
    ms = make_member(tree["pd_union"], actor=owner, name="张三", id_number=idn, mobile="13800001111")
    return Member.objects.get(pk=ms.member_id)


def _other_sex_id(number: str) -> str:
    """An ID number of the same birth date and region whose holder is of the other sex."""
    from members.validators import id_check_char

    seq = int(number[14:17])
    first17 = number[:14] + f"{(seq + 1) % 1000:03d}"
    return first17 + id_check_char(first17)


def test_it_requires_a_reason(pd, clerk):
    with pytest.raises(ValidationError) as exc:
        services.member_correct(actor=clerk, member=pd, name="张叁", reason="  ")
    assert "reason" in exc.value.message_dict
    assert Member.objects.get(pk=pd.pk).name == "张三"


def test_it_corrects_the_name_and_audits_old_and_new(pd, clerk):
    services.member_correct(actor=clerk, member=pd, name="张叁", reason="录入错别字")
    m = Member.objects.get(pk=pd.pk)
    assert m.name == "张叁" and m.name_initials == "zs"
    ev = AuditEvent.objects.get(action="member.corrected")
    assert ev.data["changed"]["name"] == ["张三", "张叁"] and ev.data["reason"] == "录入错别字"


def test_it_redoes_the_blind_index_and_rederives_birth_and_sex(pd, clerk):
    old_id = crypto.decrypt(pd.id_number_enc)
    new_id = _other_sex_id(old_id)
    services.member_correct(actor=clerk, member=pd, id_number=new_id, reason="身份证号抄错一位")
    m = Member.objects.get(pk=pd.pk)
    assert m.id_number_hash == crypto.id_hash(new_id) and crypto.decrypt(m.id_number_enc) == new_id
    assert m.id_masked == crypto.mask_id(new_id) and m.sex != pd.sex
    assert Member.objects.filter(id_number_hash=crypto.id_hash(old_id)).count() == 0
    ev = AuditEvent.objects.get(action="member.corrected")
    text = str(ev.data)
    assert new_id not in text and old_id not in text  # masked only
    assert ev.data["changed"]["id_number"] == [crypto.mask_id(old_id), crypto.mask_id(new_id)]
    assert ev.data["changed"]["sex"] == [pd.sex, m.sex]


def test_it_refuses_an_id_number_of_another_member(tree, pd, clerk, owner):
    other_id = make_id_number()
    make_member(tree["pd_union"], actor=owner, name="李四", id_number=other_id)
    with pytest.raises(DomainError) as exc:
        services.member_correct(actor=clerk, member=pd, id_number=other_id, reason="核对")
    assert exc.value.field == "id_number"


def test_it_refuses_a_bad_id_number_with_the_validator_message(pd, clerk):
    with pytest.raises(ValidationError) as exc:
        services.member_correct(actor=clerk, member=pd, id_number="31011519900101123", reason="核对")
    assert "id_number" in exc.value.message_dict


def test_it_corrects_the_mobile_masked_in_the_audit(pd, clerk):
    services.member_correct(actor=clerk, member=pd, mobile="13900002222", reason="换号")
    m = Member.objects.get(pk=pd.pk)
    assert m.mobile_hash == crypto.mobile_hash("13900002222") and m.mobile_masked == "139****2222"
    ev = AuditEvent.objects.get(action="member.corrected")
    assert ev.data["changed"]["mobile"] == ["138****1111", "139****2222"]
    assert "13900002222" not in str(ev.data)


def test_nothing_changed_is_not_audited(pd, clerk):
    services.member_correct(actor=clerk, member=pd, name="张三", mobile="13800001111", reason="核对")
    assert not AuditEvent.objects.filter(action="member.corrected").exists()


def test_out_of_reach_is_404_and_read_only_is_403(pd, outsider, tree):
    with pytest.raises(Http404):
        services.member_correct(actor=outsider, member=pd, name="张叁", reason="x")
    from organizations.models import RoleAssignment
    from tests.factories import UserFactory

    auditor = UserFactory(username="aud")
    RoleAssignment.objects.create(user=auditor, organization=tree["pudong"], role="auditor")
    with pytest.raises(PermissionDenied):
        services.member_correct(actor=auditor, member=pd, name="张叁", reason="x")


@pytest.mark.parametrize(
    "name",
    ["张三", "欧阳娜娜", "阿卜杜拉·买买提", "Jean-Pierre Dupont", "玛丽・居里", "O Neil", "Zoë", "张三三", "李〇"],
)
def test_real_names_are_accepted(name):
    assert clean_person_name(name) == name


@pytest.mark.parametrize(
    "name,shows",
    [
        ("<script>alert(1)</script>", "<"),
        ("张三\x00", "U+0000"),
        ("张\u202e三", "U+202E"),
        ("张三_", "_"),
        ("张三@", "@"),
        ("张三;", ";"),
        ("---", "汉字或字母"),
        ("李四2", "数字"),
        ("李四２", "数字"),
        ("王Ⅱ", "数字"),
    ],
)
def test_markup_control_and_symbols_are_refused_with_a_clear_message(name, shows):
    with pytest.raises(ValidationError) as exc:
        clean_person_name(name)
    assert shows in exc.value.message_dict["name"][0]


def test_every_door_refuses_a_name_with_a_digit(tree, pd, clerk, client):
    with pytest.raises(ValidationError) as exc:
        make_member(tree["pd_union"], actor=clerk, name="李四2")
    assert "数字" in exc.value.message_dict["name"][0]
    with pytest.raises(ValidationError):
        services.member_correct(actor=clerk, member=pd, name="张三3", reason="x")
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(clerk)
    response = api.post(f"/api/v1/members/{pd.pk}/correct/", {"name": "张三3", "reason": "x"}, format="json")
    assert response.status_code == 400 and "数字" in str(response.json())


def test_registration_and_correction_refuse_markup_names_and_employers(tree, pd, clerk):
    with pytest.raises(ValidationError) as exc:
        make_member(tree["pd_union"], actor=clerk, name="<script>alert(1)</script>")
    assert "name" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        make_member(tree["pd_union"], actor=clerk, name="王五", employer_name="<b>x</b>")
    assert "employer_name" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.member_correct(actor=clerk, member=pd, employer_name="<img src=x>", reason="x")
    with pytest.raises(ValidationError):
        services.member_update_contact(actor=clerk, member=pd, employer_name="a\x07b")


def test_the_importer_applies_the_same_name_rule(tree, clerk, tmp_path):
    from members.importer import import_rows
    from tests.members.test_import import _csv

    rows = [
        ["<script>alert(1)</script>", make_id_number(), make_mobile(), "", "", "", "", "", ""],
        ["王五", make_id_number(), make_mobile(), "<b>公司</b>", "", "", "", "", ""],
        ["阿依古丽·买买提", make_id_number(), make_mobile(), "浦东（上海）科技有限公司", "", "", "", "", ""],
        ["李四2", make_id_number(), make_mobile(), "", "", "", "", "", ""],
    ]
    path = tmp_path / "r.csv"
    path.write_bytes(_csv(rows))
    res = import_rows(actor=clerk, union=tree["pd_union"], path=str(path), fmt="csv", mode="valid_only")
    assert (res.created, res.errors) == (1, 3)
    assert not Member.objects.filter(name="李四2").exists()
    assert Member.objects.filter(name="阿依古丽·买买提").exists()
    assert not Member.objects.filter(name__contains="<").exists()


# --- the doors: page, API, admin ---------------------------------------------------------


def test_the_member_page_links_to_a_correction_form_that_collects_all_errors(client, pd, clerk):
    from django.urls import reverse

    client.force_login(clerk)
    page = client.get(reverse("member-detail", args=[pd.pk])).content.decode()
    assert reverse("member-correct", args=[pd.pk]) in page
    url = reverse("member-correct", args=[pd.pk])
    form = client.get(url).content.decode()
    assert pd.id_masked in form and crypto.decrypt(pd.id_number_enc) not in form
    resp = client.post(url, {"name": "<b>x</b>", "id_number": "", "mobile": "", "employer_name": "", "reason": ""})
    assert resp.status_code == 400
    body = resp.content.decode()
    assert "更正原因" in body and "标记符号" in body  # both errors at once
    resp = client.post(url, {"name": "张叁", "id_number": "", "mobile": "", "employer_name": "", "reason": "错字"})
    assert resp.status_code == 302 and Member.objects.get(pk=pd.pk).name == "张叁"


def test_the_correction_page_is_scoped(client, pd, outsider):
    from django.urls import reverse

    client.force_login(outsider)
    assert client.get(reverse("member-correct", args=[pd.pk])).status_code == 404


def test_the_api_corrects_with_the_portal_wording(pd, clerk):
    from tests.conftest import client_for

    api = client_for(clerk)
    url = f"/api/v1/members/{pd.pk}/correct/"
    resp = api.post(url, {"name": "张叁"}, format="json")
    assert resp.status_code == 400 and "更正原因" in resp.json()["error"]["message"] + str(resp.json())
    resp = api.post(url, {"name": "张叁", "mobile": "13900003333", "reason": "换号"}, format="json")
    assert resp.status_code == 200, resp.content
    assert resp.json()["name"] == "张叁" and Member.objects.get(pk=pd.pk).mobile_masked == "139****3333"


def test_the_admin_change_page_corrects_through_the_service(client, pd, clerk):
    from django.urls import reverse

    clerk.is_staff = True
    clerk.save(update_fields=["is_staff"])
    client.force_login(clerk)
    url = reverse("admin:members_member_change", args=[pd.pk])
    base = {"name": "张叁", "employer_name": "", "id_number": "", "mobile": ""}
    resp = client.post(url, {**base, "reason": ""})
    assert resp.status_code == 200 and "更正原因" in resp.content.decode()
    assert Member.objects.get(pk=pd.pk).name == "张三"
    resp = client.post(url, {**base, "reason": "错字"})
    assert resp.status_code == 302 and Member.objects.get(pk=pd.pk).name == "张叁"
    assert AuditEvent.objects.filter(action="member.corrected").count() == 1
